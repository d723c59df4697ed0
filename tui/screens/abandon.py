"""Giving a basket up, and nothing taken is lost on the way.

Ctrl+X (sale or tender screen) cancels the open basket after one question:
with no money taken it ends ``cancelled``; with money taken the question
names what to hand back per method, the basket ends ``abandoned`` with each
payment recorded as handed back, and the drawer opens when cash is among
them. Ctrl+Q with a basket open asks: keep it for the next start, cancel it,
or back. The store work runs on the basket saver's thread behind the
basket's stored changes (``basket_saver.finish``), never on the UI thread.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.baskets import payment_detail
from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar

if TYPE_CHECKING:
    from tui.app import ChaoyingApp

log = logging.getLogger("chaoying.tui.abandon")

KEEP, CANCEL = "keep", "cancel"


def hand_back(payments: List[Any]) -> Dict[str, int]:
    """Fen to hand back per method for the successful payments, methods in the order first taken."""
    owed: Dict[str, int] = {}
    for payment in payments:
        if payment.ok:
            owed[payment.method] = owed.get(payment.method, 0) + payment.amount_fen
    return owed


def hand_back_text(payments: List[Any]) -> str:
    """'¥5.00 cash, ¥3.00 WeChat' in the UI language."""
    from store.money import format_yuan

    return t("abandon.separator").join(t("abandon.money", amount=format_yuan(fen), method=t(f"method.{method}"))
                                      for method, fen in hand_back(payments).items())


def failed_detail(payment: Any) -> str:
    """How the event log writes a failed payment of a basket that ended without a sale."""
    return payment_detail(payment) + " (sale not finished)"


def taken(app: ChaoyingApp) -> List[Any]:
    """The successful payments of the open basket."""
    tender = app.sale_screen.tender if app.sale_screen is not None else None
    return list(tender.ok_payments) if tender is not None else []


def basket_open(app: ChaoyingApp) -> bool:
    """Is there a basket with items or money taken?"""
    screen = app.sale_screen
    return screen is not None and (screen.sale_open() or bool(taken(app)))


def cancel_question(app: ChaoyingApp) -> str:
    from store.money import format_yuan

    payments = taken(app)
    if payments:
        return t("abandon.question_paid", payments=hand_back_text(payments))
    basket = app.sale_screen.basket
    return t("abandon.question", count=len(basket.lines), total=format_yuan(basket.total_fen))


def ask_cancel(app: ChaoyingApp, before: Callable[[], Any] = lambda: None) -> None:
    """Ctrl+X: one question, then the basket ends (``before`` runs first on yes: the tender closes)."""
    from tui.screens.confirm import ConfirmScreen

    if not basket_open(app):
        app.sale_screen.refuse(t("abandon.nothing"))
        return

    def answered(yes: Optional[bool]) -> None:
        if yes:
            before()
            cancel_basket(app)

    app.push_screen(ConfirmScreen(cancel_question(app)), answered)


def cancel_basket(app: ChaoyingApp, then: Callable[[], Any] = lambda: None) -> None:
    """End the open basket: cancelled, or abandoned with each payment handed back; ``then()`` once stored."""
    from store import baskets

    screen = app.sale_screen
    payments = taken(app)
    till_id, cashier = app.till_id, app.till.cashier
    declined = screen.abandoned_payments()

    def job(basket_id: Optional[int]) -> List[Any]:
        returned: List[Any] = []
        if basket_id is not None and payments:
            returned = baskets.abandon(basket_id, till_id, cashier or None)
        elif basket_id is not None:
            baskets.cancel(basket_id, till_id, cashier or None)
        for payment in declined:  # still go to the event log (here: the till may close right after)
            app.till.log_event("payment_failed", detail=failed_detail(payment), cashier=cashier)
        return returned

    def done(returned: List[Any]) -> None:
        screen.ending = False
        screen.start_over()
        handed = returned or payments
        if handed:
            text = hand_back_text(handed)
            if any(p.method == "cash" for p in handed):
                app.till.open_drawer("basket abandoned: hand back " + ", ".join(
                    payment_detail(p) for p in handed if p.method == "cash"))
            screen.say(t("abandon.done_paid", payments=text), error=True)
        else:
            screen.say(t("abandon.done"))
        log.info("basket %s, %d payments handed back", "abandoned" if handed else "cancelled", len(handed))
        screen.replay_typed_ahead()
        then()

    def failed(exc: Exception) -> None:
        screen.ending = False
        app.store_error(exc)
        screen.replay_typed_ahead()

    screen.ending = True  # codes typed meanwhile wait for the next basket
    app.basket_saver.finish(job, done, failed)


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
