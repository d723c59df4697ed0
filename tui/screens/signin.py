"""Cashier sign-in: code and masked PIN, Enter.

Shown at start when the shop has active cashiers, and again after a sign-out
(shift hand-over). Dismisses with the Cashier that signed in, or None when no
active cashier is left (the till then runs without one, as a fresh shop does).
A wrong code or PIN is refused (one sentence, a beep, an event) and the
screen stays, the focus back on the code; [signin] lock_attempts wrong PINs
in a row lock that code for lock_minutes (counted from the event log, with
the manager prompt's: one lock, store.cashiers.check_with_lock).
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Optional

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.console import on_screen
from tui.i18n import t
from tui.screens.widgets import KeyBar, TopBar

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.signin")


class SignInScreen(Screen[Optional[Any]]):
    """Who sells on this till: cashier code and PIN."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    AUTO_FOCUS = "#signin-code"
    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen #topbar { dock: top; }
    SignInScreen KeyBar { dock: bottom; height: 1; color: $text-muted; }
    #signin-box {
        width: 50; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    #signin-title { text-style: bold; width: 100%; content-align: center middle; }
    #signin-message { height: auto; }
    #signin-message.-error { color: $text-error; text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Vertical(id="signin-box"):
            yield Static(t("signin.title"), id="signin-title")
            yield Input(placeholder=t("signin.code"), id="signin-code")
            yield Input(password=True, placeholder=t("signin.pin"), id="signin-pin")
            yield Static(self.hint(), id="signin-message")
        yield KeyBar("app", "demo", hidden=("app.sign_out",))

    def hint(self) -> str:
        """How to sign in; in the demo, with the demo cashier's and manager's codes and PINs."""
        from tui.demo import CASHIER, MANAGER

        demo = getattr(self.app, "demo", None)
        if demo is None or not demo.cashier:
            return t("signin.hint")
        code, name, pin = CASHIER
        hint = t("signin.hint") + "\n" + t("signin.demo", code=code, name=on_screen(self.app, name), pin=pin)
        if getattr(demo, "manager", False):
            code, name, pin = MANAGER
            hint += "\n" + t("signin.demo_manager", code=code, name=on_screen(self.app, name), pin=pin)
        return hint

    @on(Input.Submitted, "#signin-code")
    def code_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.query_one("#signin-pin", Input).focus()

    def __init__(self) -> None:
        super().__init__()
        self.checking = False  # the PIN is being checked (PBKDF2, off the UI thread): Enter waits

    @on(Input.Submitted, "#signin-pin")
    def pin_submitted(self, event: Input.Submitted) -> None:
        from store.money import typed
        from tui.services.cashiers import check_sign_in

        event.stop()
        code_input = self.query_one("#signin-code", Input)
        code, pin = typed(code_input.value).strip(), typed(event.value)  # full-width digits: a Chinese input method
        if self.checking:
            return
        event.input.value = ""
        if not code:
            code_input.focus()
            return
        self.checking = True
        self.app.in_background(partial(check_sign_in, code, pin, self.app.settings.till.id, self.app.settings.signin),
                               partial(self.checked, code), self.check_failed, group="signin")

    def checked(self, code: str, answer: Any) -> None:
        self.checking = False
        signed, cashiers_left = answer.answer, answer.cashiers_left
        cashier = signed.cashier
        if cashier is None and not cashiers_left:
            self.dismiss(None)  # every cashier was deactivated meanwhile: run without one
            return
        if cashier is None:  # the store has logged the refusal (and the lock): it counts them
            if signed.locked_until is not None:
                self.say(t("signin.locked", code=code, until=signed.locked_until.strftime("%H:%M")))
            else:
                self.say(t("signin.wrong"))
            self.query_one("#signin-code", Input).focus()
            return
        if answer.short_pin:  # a PIN set before the rule still signs in; the store has logged it for the owner
            self.app.notify(t("pin.short", code=code, minimum=answer.short_pin), timeout=8)
        self.dismiss(cashier)

    def check_failed(self, exc: Exception) -> None:
        """The database is away: say so, stay."""
        self.checking = False
        log.error("cashier sign-in check failed: %s", exc, exc_info=exc)
        self.say(t("sale.db_error", error=exc))

    def say(self, text: str) -> None:
        message = self.query_one("#signin-message", Static)
        message.update(text)
        message.set_class(True, "-error")
        self.app.bell()
