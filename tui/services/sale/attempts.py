"""Mobile payments (付款码): the open basket's payment attempts through the payment desk, what the tender may do
while one waits, and the desk's answers (a part of SaleSession)."""
from __future__ import annotations

from functools import partial
from typing import Any, List

from store import payment_attempts as states
from tui.services.payments.events import (
    PaymentCancelled,
    PaymentCancelling,
    PaymentNotSent,
    PaymentPaid,
    PaymentRefused,
    PaymentUnclear,
    PaymentWaiting,
)
from tui.services.sale.core import AttemptView, Refused, log
from tui.services.sale.tender import TenderPart, tender_for

#: What the tender may do now (tender_mode).
TAKE, CONFIRMING, UNCLEAR, STOPPING, PAID_NOW = "take", "confirming", "unclear", "stopping", "paid"


def missing_payments(tender_payments: List[Any], attempts: List[Any]) -> List[Any]:
    """The paid attempts (no sale yet) whose payment the stored tender lacks, each once: a crash came between
    the attempt's paid mark and the tender's save. Added on restore, never twice."""
    from store.sales import TenderPayment

    held = {payment.out_trade_no for payment in tender_payments if payment.ok and payment.out_trade_no}
    missing = []
    for attempt in attempts:
        if attempt.state == states.PAID and attempt.sale is None and attempt.out_trade_no not in held:
            held.add(attempt.out_trade_no)
            missing.append(TenderPayment(attempt.provider, int(attempt.amount_fen), attempt.transaction_id,
                                         out_trade_no=attempt.out_trade_no))
    return missing


def tender_mode(attempts: List[Any]) -> str:
    """What the tender may do now, by its newest attempt not failed or cancelled: TAKE a code or a method;
    CONFIRMING (the customer confirms: the stop-waiting key); UNCLEAR (no answer: the desk keeps asking);
    STOPPING (being cancelled); PAID_NOW (the sale is committed)."""
    for attempt in reversed(attempts):
        if attempt.state in (states.REQUESTED, states.WAITING):
            return CONFIRMING
        if attempt.state == states.UNKNOWN:
            return UNCLEAR
        if attempt.state == states.CANCELLING:
            return STOPPING
        if attempt.state == states.PAID:
            return PAID_NOW
    return TAKE


def attempt_view(attempt: Any) -> AttemptView:
    return AttemptView(attempt.out_trade_no, attempt.provider, int(attempt.amount_fen), attempt.state,
                       attempt.transaction_id or "", attempt.reason or "", attempt.sale)


#: The attempt's state after each kind of desk event (PaymentUnclear says its own).
_EVENT_STATES = {PaymentWaiting: states.WAITING, PaymentPaid: states.PAID, PaymentRefused: states.FAILED,
                 PaymentCancelling: states.CANCELLING, PaymentCancelled: states.CANCELLED}


def state_of(event: Any, current: str) -> str:
    if isinstance(event, PaymentUnclear):
        return str(event.state)
    return _EVENT_STATES.get(type(event), current)


class AttemptsPart(TenderPart):
    """The open basket's payment attempts and the desk's answers about them."""

    def tender_mode(self) -> str:
        return tender_mode(list(self.attempts.values()))

    # ------------------------------------------------------------ mobile payments (付款码)

    def charge_code(self, text: str) -> str:
        """A scanned payment code pays the amount due with its provider (through the desk, after the basket is
        stored); its out_trade_no. Refused: a code of the wrong form, a provider not set up, a basket an
        attempt blocks, nothing due. Payment events follow (payment_event)."""
        from tui.services.payments.codes import NotAPaymentCode, provider_of

        try:
            provider = provider_of(text)
        except NotAPaymentCode as exc:
            raise Refused(exc.key) from None
        if provider is None:
            raise Refused("pay_code.not_a_payment_code")
        if self.desk is None or not self.desk.offers(provider):
            raise Refused("pay_code.not_set_up", method=provider)
        self.check_not_blocked()
        due = self._tender().remaining_fen
        if due <= 0:
            raise Refused("pay_code.nothing_due")
        if not self.method_allowed(provider):
            raise Refused("tender.rounded_cash_only", method=provider)
        desk, code = self.desk, text.strip()
        out_trade_no = desk.new_out_trade_no()
        self.attempts[out_trade_no] = AttemptView(out_trade_no, provider, due, states.REQUESTED)
        self.save()  # the basket is stored first: the attempt names it
        self.saver.run(lambda basket_id: desk.charge(out_trade_no, basket_id, provider, code, due),
                       lambda _value: None, partial(self._not_sent, out_trade_no, provider, due))
        log.info("payment %s: %s %d fen", out_trade_no, provider, due)
        return out_trade_no

    def stop_waiting(self) -> bool:
        """The cashier stops waiting for the customer: the open attempt is cancelled. False if none is open."""
        waiting = [a for a in self.attempts.values() if a.state in states.OPEN_STATES]
        if not waiting or self.desk is None:
            return False
        self.desk.stop_waiting(waiting[-1].out_trade_no)
        return True

    def payment_event(self, event: Any) -> None:
        """The desk's answer about an attempt of the open basket (on the owner's thread; set-aside baskets':
        AsidePart.payment_event). One of another basket pays nothing here."""
        view = self.attempts.get(event.out_trade_no)
        if view is None:
            log.warning("payment %s is not this basket's: %s ignored", event.out_trade_no, type(event).__name__)
            return
        if isinstance(event, PaymentNotSent):  # nothing stored, nothing asked: as if never scanned
            del self.attempts[event.out_trade_no]
            self._report(event)
            return
        state = state_of(event, view.state)
        self.attempts[event.out_trade_no] = view._replace(state=state, reason=getattr(event, "reason", ""),
                                                          transaction_id=getattr(event, "transaction_id", ""))
        if state == states.PAID:
            self._paid(event)
        elif state in states.NOTHING_CHARGED:
            self._not_charged(event, state)
        self._report(event)
        if state == states.PAID and self.tender is not None and self.tender.covered:
            self.commit()

    def _paid(self, event: Any) -> None:
        from store.sales import TenderPayment

        self.tender = tender_for(self.basket, self.tender)
        if any(p.ok and p.out_trade_no == event.out_trade_no for p in self.tender.payments):
            return  # said again: it is in the tender once
        # charged by the provider: kept as it is (the basket could not change while the attempt was open)
        self.tender.payments.append(TenderPayment(event.provider, event.amount_fen, event.transaction_id,
                                                  out_trade_no=event.out_trade_no))
        self.save()

    def _not_charged(self, event: Any, state: str) -> None:
        self.tender = tender_for(self.basket, self.tender)
        reason = getattr(event, "reason", "") or state
        self.tender.record_failed(event.provider, event.amount_fen, "", reason, out_trade_no=event.out_trade_no)
        self.save()

    def _not_sent(self, out_trade_no: str, provider: str, amount_fen: int, exc: Exception) -> None:
        """The basket could not be stored: no attempt, no request. Said as the desk says a request not sent."""
        self.payment_event(PaymentNotSent(out_trade_no, provider, amount_fen, str(exc)))
