"""Ending a basket without a sale: cancelled, or abandoned with what goes back to the customer per method and
the drawer; and the refund without a receipt (无单退货) (a part of SaleSession)."""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from tui.services.sale.core import Refused, SessionCore, log
from tui.services.sale.tender import drawer_opens


class BasketEnded(NamedTuple):
    """Cancelled (nothing taken) or abandoned: ``handed_back`` is what went back to the customer."""

    handed_back: Tuple[Any, ...] = ()


class EndFailed(NamedTuple):
    error: Exception


class RefundedWithoutReceipt(NamedTuple):
    refund: Any


class RefundFailed(NamedTuple):
    error: Exception


def hand_back(payments: Sequence[Any]) -> Dict[str, int]:
    """Fen to hand back per method for the successful payments, methods in the order first taken."""
    owed: Dict[str, int] = {}
    for payment in payments:
        if payment.ok:
            owed[payment.method] = owed.get(payment.method, 0) + payment.amount_fen
    return owed


def failed_detail(payment: Any) -> str:
    """How the event log writes a failed payment of a basket that ended without a sale."""
    from store.baskets import payment_detail

    return payment_detail(payment) + " (sale not finished)"


class EndingPart(SessionCore):
    """What ends the open basket without a sale."""

    # ------------------------------------------------------------ ending without a sale

    def check_cancel(self) -> None:
        if not self.basket_open():
            raise Refused("abandon.nothing")
        self.check_not_blocked()

    def cancel(self) -> None:
        """End the open basket: cancelled, or abandoned with each payment handed back (the drawer opens for
        cash); BasketEnded or EndFailed follows. The failed payments still go to the event log."""
        from store import baskets
        from store.baskets import payment_detail

        payments = self.taken()
        declined = self.failed_payments()
        till = self.till
        till_id, cashier = till.till_id, till.cashier

        def job(basket_id: Optional[int]) -> List[Any]:
            returned: List[Any] = []
            if basket_id is not None and payments:
                returned = baskets.abandon(basket_id, till_id, cashier or None)
            elif basket_id is not None:
                baskets.cancel(basket_id, till_id, cashier or None)
            for payment in declined:  # still go to the event log (here: the till may close right after)
                till.log_event("payment_failed", detail=failed_detail(payment), cashier=cashier)
            return returned

        def done(returned: List[Any]) -> None:
            self.ending = False
            self.start_over()
            handed = returned or payments
            if drawer_opens(handed):
                till.open_drawer("basket abandoned: hand back " + ", ".join(
                    payment_detail(p) for p in handed if p.method == "cash"))
            log.info("basket %s, %d payments handed back", "abandoned" if handed else "cancelled", len(handed))
            self._report(BasketEnded(tuple(handed)))

        def failed(exc: Exception) -> None:
            self.ending = False
            self._report(EndFailed(exc))

        self.ending = True
        self.saver.finish(job, done, failed)

    # ------------------------------------------------------------ 无单退货

    def check_refund_without_receipt(self) -> None:
        if not self.settings.selling.refund_without_receipt:
            raise Refused("sale.refund_without_receipt_off")
        if self.basket.is_empty:
            raise Refused("sale.basket_empty")
        if self.money_taken():
            raise Refused("sale.payment_in_progress")

    def refund_without_receipt(self, manager: str, reason: str) -> None:
        """The basket's goods come back in cash with no receipt (a manager said yes); RefundedWithoutReceipt or
        RefundFailed follows."""
        from store.documents import commit_refund_without_receipt

        basket, till = self.basket, self.till

        def job(basket_id: Optional[int]) -> Any:
            return commit_refund_without_receipt(basket, till.till_id, till.cashier or None, manager, reason,
                                                 "cash", basket_id=basket_id)

        def done(refund: Any) -> None:
            self.start_over()
            self._report(RefundedWithoutReceipt(refund))

        self.saver.finish(job, done, lambda exc: self._report(RefundFailed(exc)))
