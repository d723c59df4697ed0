"""The manager prompt: a manager's code and masked PIN, checked for that code only.

Dismisses with the manager's code when the code and PIN are right, None on
Esc. A refusal (a wrong code or PIN, a code that is no manager's, a locked
code) is one sentence and a beep, the store has logged it, and the prompt
stays with the focus on the code. Wrong PINs lock the code as at sign-in
([signin] lock_attempts, lock_minutes: tui.services.cashiers.check_approval).
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Optional

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
    """Ask for a manager's code and PIN before an action a cashier may not do alone."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("pin")
    AUTO_FOCUS = "#pin-code"
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
            yield Input(placeholder=t("pin.code"), id="pin-code")
            yield Input(password=True, placeholder=t("pin.placeholder"), id="pin-input")
            yield Static("", id="pin-message")
            yield KeyBar("pin")

    @on(Input.Submitted, "#pin-code")
    def code_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.query_one("#pin-input", Input).focus()

    @on(Input.Submitted, "#pin-input")
    def submitted(self, event: Input.Submitted) -> None:
        from store.money import typed
        from tui.services.cashiers import check_approval

        event.stop()
        if self.checking:
            return
        code_input = self.query_one("#pin-code", Input)
        code, pin = typed(code_input.value).strip(), typed(event.value)  # full-width digits: a Chinese input method
        event.input.value = ""
        if not code:
            code_input.focus()
            return
        if not pin:
            return
        self.checking = True  # PBKDF2 is slow by design: off the UI thread
        app = self.app
        job = partial(check_approval, code, pin, app.settings.till.id, app.settings.signin, self.why)
        app.in_background(job, partial(self.checked, code), self.check_failed, group="pin")

    def checked(self, code: str, answer: Any) -> None:
        from tui.services.cashiers import LOCKED, NOT_MANAGER

        self.checking = False
        if answer.manager is not None:
            if answer.short_pin:
                self.app.notify(t("pin.short", code=code, minimum=answer.short_pin), timeout=8)
            self.dismiss(answer.manager)
            return
        if answer.refused == LOCKED:
            self.say(t("pin.locked", code=code, minutes=answer.minutes_left))
        elif answer.refused == NOT_MANAGER:
            self.say(t("pin.not_manager", code=code))
        else:
            self.say(t("pin.wrong"))
        self.query_one("#pin-code", Input).focus()

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
