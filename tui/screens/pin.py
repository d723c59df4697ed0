"""A manager's PIN: masked input, checked against the managers' PIN hashes.

Dismisses with the manager's code when the PIN is right, None on Esc. A wrong
PIN is refused (one sentence, a beep, an event) and the prompt stays.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.pin")


class PinScreen(ModalScreen[Optional[str]]):
    """Ask for a manager's PIN before an action a cashier may not do alone."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("pin")
    AUTO_FOCUS = "#pin-input"
    DEFAULT_CSS = """
    PinScreen { align: center middle; background: $background 60%; }
    #pin-box { width: 50; max-width: 100%; height: auto; border: thick $warning; background: $surface; padding: 0 1; }
    #pin-title { text-style: bold; width: 100%; content-align: center middle; }
    #pin-message { height: auto; }
    #pin-message.-error { color: $text-error; text-style: bold; }
    #pin-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, why: str = "") -> None:
        super().__init__()
        self.why = why
        self.checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box"):
            yield Static(t("pin.title"), id="pin-title")
            yield Static(self.why, id="pin-why")
            yield Input(password=True, placeholder=t("pin.placeholder"), id="pin-input")
            yield Static("", id="pin-message")
            yield KeyBar("pin")

    @on(Input.Submitted, "#pin-input")
    def submitted(self, event: Input.Submitted) -> None:
        from store.money import typed
        from tui.services.cashiers import manager_code_for_pin

        event.stop()
        if self.checking:
            return
        pin = typed(event.value)  # full-width digits from a Chinese input method
        event.input.value = ""
        if not pin:
            self.refused()
            return
        self.checking = True  # PBKDF2 is slow by design: off the UI thread
        self.app.in_background(partial(manager_code_for_pin, pin), self.checked, self.check_failed, group="pin")

    def checked(self, manager: Optional[str]) -> None:
        self.checking = False
        if manager is None:
            self.refused()
            return
        self.dismiss(manager)

    def refused(self) -> None:
        self.app.log_event("pin_refused", detail="wrong manager PIN" + (f" ({self.why})" if self.why else ""))
        self.say(t("pin.wrong"))

    def check_failed(self, exc: Exception) -> None:
        """The database is away: say so, stay."""
        self.checking = False
        log.error("manager PIN check failed: %s", exc, exc_info=exc)
        self.say(t("sale.db_error", error=exc))

    def say(self, text: str) -> None:
        message = self.query_one("#pin-message", Static)
        message.update(text)
        message.set_class(True, "-error")
        self.app.bell()

    def action_cancel(self) -> None:
        if not self.checking:
            self.dismiss(None)
