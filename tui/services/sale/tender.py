"""The tender: payments taken by hand, 抹零 and which methods it allows, taking a payment back, the drawer,
and the commit of the sale (a part of SaleSession)."""
from __future__ import annotations

from typing import Any, List, NamedTuple, Tuple

from tui.services.sale.core import Refused, SessionCore, log


class SaleCommitted(NamedTuple):
    """The basket is a sale now, durable before any printing; ``cash``: the drawer opens with its receipt.
    ``payments``: its successful payments (a mobile one with its provider and transaction number)."""

    sale: Any
    paid_fen: int
    cash: bool
    payments: Tuple[Any, ...] = ()


class CommitFailed(NamedTuple):
    error: Exception


def drawer_opens(payments: List[Any]) -> bool:
    """Cash is among these successful payments: the drawer opens (to take it, or to hand it back)."""
    return any(payment.ok and payment.method == "cash" for payment in payments)


def rounded_cash_only(basket: Any, rules: Any) -> bool:
    """After 抹零 with ``rounding_tenders = "cash"`` only cash is taken."""
    return basket.rounding is not None and rules.rounding_tenders == "cash"


def rounding_spec(basket: Any, tender: Any, rules: Any, cashier: str) -> Any:
    """The 抹零 the settings allow on this basket now (to 角 or 元), or Refused saying why not."""
    from store.discounts import ROUNDING_REASON
    from store.money import round_down
    from store.sales import DiscountSpec

    if rules.rounding == "off":
        raise Refused("tender.rounding_off_setting")
    if rules.rounding_tenders == "cash" and any(p.method != "cash" for p in tender.ok_payments):
        raise Refused("tender.rounding_cash_only")
    step = 10 if rules.rounding == "jiao" else 100
    if round_down(basket.total_fen, step) == basket.total_fen:  # nothing to take off: nothing stored
        raise Refused("tender.nothing_to_round", total_fen=basket.total_fen)
    return DiscountSpec("round", step, ROUNDING_REASON, cashier)


def tender_for(basket: Any, tender: Any) -> Any:
    """The tender for the basket as it is: the same one while the total stands, else a new one that keeps the
    failed payments on record."""
    from store.sales import Tender

    if tender is not None and tender.total_fen == basket.total_fen:
        return tender
    fresh = Tender(basket.total_fen)
    if tender is not None:
        fresh.payments.extend(tender.failed_payments)
    return fresh


def change_due(tender: Any, cash_fen: int) -> int:
    """The change a cash payment of ``cash_fen`` would give."""
    return cash_fen - tender.remaining_fen


class TenderPart(SessionCore):
    """The open basket's tender, its payments and its commit."""

    # ------------------------------------------------------------ the tender

    def open_tender(self) -> Any:
        """F12: the tender for the basket as it is. Refused on an empty basket or one being cancelled."""
        if self.basket.is_empty or self.ending:
            raise Refused("sale.basket_empty")
        self.tender = tender_for(self.basket, self.tender)
        return self.tender

    def _tender(self) -> Any:
        """The tender F12 opened (payments need one)."""
        if self.tender is None:
            raise Refused("sale.basket_empty")
        return self.tender

    def method_allowed(self, method: str) -> bool:
        return method == "cash" or not rounded_cash_only(self.basket, self.settings.selling)

    def change_due(self, cash_fen: int) -> int:
        return change_due(self.tender, cash_fen)

    def pay(self, method: str, amount_fen: int, reference: str = "") -> Any:
        """A payment taken (stored at once); SaleError when the tender refuses it."""
        if not self.method_allowed(method):
            raise Refused("tender.rounded_cash_only", method=method)
        self.check_not_blocked()
        payment = self._tender().add_payment(method, amount_fen, reference)
        log.info("payment %s %s", method, amount_fen)
        self.save()  # money taken is stored as it is taken
        return payment

    def record_failed(self, method: str, amount_fen: int, reference: str = "") -> Any:
        """The terminal or the phone said no: kept with the tender (stored with the sale and logged then)."""
        payment = self._tender().record_failed(method, amount_fen, reference, "payment failed")
        self.save()
        return payment

    def last_payment(self) -> Any:
        """The payment Ctrl+D would take back, or None."""
        return next((p for p in reversed(self.tender.payments) if p.ok), None) if self.tender is not None else None

    def remove_last_payment(self) -> Any:
        """Take back the last payment (stored, logged); cash opens the drawer to hand it back. None if none."""
        from store.baskets import payment_detail

        self.check_not_blocked()
        last = self.last_payment()
        if last is not None and last.out_trade_no:  # charged by the provider: only a refund gives it back
            raise Refused("pay.mobile_not_removed", method=last.method)
        removed = self._tender().remove_last()
        if removed is None:
            return None
        self.save()
        detail = payment_detail(removed)
        self.log("payment_removed", detail)
        if drawer_opens([removed]):  # it went into the drawer: the drawer opens to hand it back
            self.till.open_drawer("payment removed: hand back " + detail)
        return removed

    def toggle_rounding(self) -> Any:
        """Ctrl+R: 抹零 on, or (again) off; the spec now in force (None: off). Refused when the rules say no."""
        from store.money import format_yuan

        basket, tender = self.basket, self._tender()
        self.check_not_blocked()
        spec = None if basket.rounding is not None else rounding_spec(basket, tender, self.settings.selling,
                                                                        self.till.cashier)
        basket.set_rounding(spec)
        tender.total_fen = basket.total_fen  # the tender follows the basket; what is paid stays paid
        self.save()
        self.log("rounding", f"{format_yuan(basket.rounding_fen)} to {spec.value} fen" if spec else "off")
        return spec

    def commit(self) -> None:
        """Payments cover the total: the sale becomes durable now (on the saver's thread, behind the basket's
        stored changes, so the stored basket ends sold with it); SaleCommitted or CommitFailed follows."""
        basket, tender, till = self.basket, self._tender(), self.till

        def done(sale: Any) -> None:
            self._basket, self.tender, self.attempts = None, None, {}
            self._report(SaleCommitted(sale, tender.paid_fen, drawer_opens(tender.payments),
                                       tuple(tender.ok_payments)))

        self.saver.finish(lambda basket_id: till.commit_sale(basket, tender, basket_id), done,
                          lambda exc: self._report(CommitFailed(exc)))

    def no_sale_allowed(self) -> None:
        """Ctrl+O opens the drawer only when no money of a basket is waiting in the tender."""
        if self.money_taken():
            raise Refused("sale.payment_in_progress")
