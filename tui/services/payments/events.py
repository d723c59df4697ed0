"""What the payment desk reports about one order (``out_trade_no``), each with the order's provider and amount.

Apart from the desk (tui/services/payments/desk.py) so that the sale session and the screens can know them
without loading the desk: the till builds its desk after the first frame.
"""
from __future__ import annotations

from typing import NamedTuple

from store import payment_attempts as attempts


class PaymentWaiting(NamedTuple):
    """The customer is confirming on the phone (顾客确认中)."""

    out_trade_no: str
    provider: str
    amount_fen: int


class PaymentPaid(NamedTuple):
    out_trade_no: str
    provider: str
    amount_fen: int
    transaction_id: str = ""


class PaymentRefused(NamedTuple):
    """The provider said no for good (余额不足, 付款码已过期): nothing charged."""

    out_trade_no: str
    provider: str
    amount_fen: int
    reason: str = ""
    code: str = ""


class PaymentUnclear(NamedTuple):
    """No answer that settles it (the provider cannot be reached, a system error): the desk keeps asking.
    ``state``: the attempt's (unknown, or cancelling while the cancel gets no answer)."""

    out_trade_no: str
    provider: str
    amount_fen: int
    reason: str = ""
    state: str = attempts.UNKNOWN


class PaymentCancelling(NamedTuple):
    """The desk cancels the order (the wait is over or the cashier stopped it); cancelled follows."""

    out_trade_no: str
    provider: str
    amount_fen: int


class PaymentCancelled(NamedTuple):
    """Reversed / cancelled: nothing charged."""

    out_trade_no: str
    provider: str
    amount_fen: int


class PaymentNotSent(NamedTuple):
    """The request never left (the client cannot be built, the attempt could not be stored): nothing charged."""

    out_trade_no: str
    provider: str
    amount_fen: int
    reason: str = ""
