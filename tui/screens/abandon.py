"""Giving a basket up, and nothing taken is lost on the way.

Ctrl+X (sale or tender screen) cancels the open basket after one question:
with no money taken it ends ``cancelled``; with money taken the question
names what to hand back per method, the basket ends ``abandoned`` with each
payment recorded as handed back, and the drawer opens when cash is among
them. Ctrl+Q with a basket open asks: keep it for the next start, cancel it,
or back. The rules (what may end, what to hand back, the drawer) and the
store work are the sale session's (tui/services/sale_session.py); this
module asks the questions and says what was handed back.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar
from tui.services.sale_session import Refused, hand_back

if TYPE_CHECKING:
    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.abandon")

KEEP, CANCEL = "keep", "cancel"


def hand_back_text(payments: Sequence[Any]) -> str:
    """'¥5.00 cash, ¥3.00 WeChat' in the UI language."""
    from store.money import format_yuan

    return t("abandon.separator").join(t("abandon.money", amount=format_yuan(fen), method=t(f"method.{method}"))
                                      for method, fen in hand_back(payments).items())


def cancel_question(app: TillHost) -> str:
    from store.money import format_yuan

    payments = app.session.taken()
    if payments:
        return t("abandon.question_paid", payments=hand_back_text(payments))
    basket = app.session.basket
    return t("abandon.question", count=len(basket.lines), total=format_yuan(basket.total_fen))


def ask_cancel(app: TillHost, before: Callable[[], Any] = lambda: None) -> None:
    """Ctrl+X: one question, then the basket ends (``before`` runs first on yes: the tender closes)."""
    from tui.screens.confirm import ConfirmScreen

    try:
        app.session.check_cancel()
    except Refused as exc:
        app.sale_screen.refuse(t(exc.code))
        return

    def answered(yes: Optional[bool]) -> None:
        if yes:
            before()
            app.session.cancel()  # the sale screen hears BasketEnded (or EndFailed)

    app.push_screen(ConfirmScreen(cancel_question(app)), answered)


class QuitScreen(ModalScreen[str]):
    """Ctrl+Q with a basket open: keep it for the next start, cancel it, or back."""

    BINDINGS = keymap.bindings("quit")

    def __init__(self, payments: List[Any], can_cancel: bool = True) -> None:
        super().__init__()
        self.payments = payments
        self.can_cancel = can_cancel  # not on the sign-in: nobody signed in may hand money back

    def compose(self) -> ComposeResult:
        lines = [t("quit.question")]
        if self.payments:
            lines.append(t("quit.taken", payments=hand_back_text(self.payments)))
        lines.append(t("quit.keep_means"))
        if self.can_cancel:
            lines.append(t("quit.cancel_paid" if self.payments else "quit.cancel_means"))
        with Vertical(id="confirm-box"):
            yield Static("\n".join(lines), id="confirm-question")
            yield KeyBar("quit", hidden=() if self.can_cancel else ("quit.cancel",))

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        return action != "cancel_basket" or self.can_cancel

    def action_keep(self) -> None:
        self.dismiss(KEEP)

    def action_cancel_basket(self) -> None:
        self.dismiss(CANCEL)

    def action_back(self) -> None:
        self.dismiss("")
