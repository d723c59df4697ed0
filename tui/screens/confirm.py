"""A yes/no question over any screen."""
from __future__ import annotations

from typing import Any, Callable, Optional

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t
from tui.screens.widgets import KeyBar
from tui.services import guards
from tui.services.guards import LimitQuestion


class ConfirmScreen(ModalScreen[bool]):
    """One question, Y or N."""

    BINDINGS = keymap.bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)  # a product name is shown as named
            yield KeyBar("confirm")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


def limit_text(app: Any, question: LimitQuestion) -> str:
    """A guard's question in the cashier's words (names as the screen can draw them)."""
    from store.money import format_qty, format_yuan

    shown = on_screen(app, question.name)
    if question.kind == guards.QTY:
        return t("guard.qty", name=shown, qty=format_qty(question.qty_milli))
    if question.kind == guards.LINE:
        return t("guard.line", name=shown, amount=format_yuan(question.amount_fen))
    return t("guard.change", cash=format_yuan(question.amount_fen), change=format_yuan(question.change_fen))


def ask_limit(app: Any, question: LimitQuestion, then: Callable[[], None], cancelled: Callable[[], None]) -> None:
    """Ask; yes records limit_confirmed and calls then(), no calls cancelled() (and nothing else)."""

    def answered(yes: Optional[bool]) -> None:
        if yes:
            app.log_event("limit_confirmed", detail=question.detail)
            then()
        else:
            cancelled()

    app.push_screen(ConfirmScreen(limit_text(app, question)), answered)
