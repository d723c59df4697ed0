"""The provider interface: what the till asks a payment provider, and the answers it can get back.

A client never raises for what the network or the provider does: a timeout, a refused connection, an
answer whose signature does not check or that names another order all come back as an ``Answer`` in
state UNKNOWN (the money may or may not have moved: ask again). Only a client that cannot be built
(settings, key files) raises ``ProviderError``, before any request leaves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from store.payment_attempts import CANCELLED, FAILED, PAID, UNKNOWN, WAITING  # noqa: F401 (the answers' words)

# ---------------------------------------------------------------- what an answer says about an order
# The payment attempt's own states (imported above from store.payment_attempts): an answer moves the
# attempt to its state.
#   PAID       the provider says the money moved (WeChat SUCCESS, Alipay TRADE_SUCCESS/FINISHED)
#   WAITING    the customer is confirming on the phone (USERPAYING, WAIT_BUYER_PAY)
#   FAILED     the provider says no, for good (balance too low, code expired, ...): nothing charged
#   CANCELLED  reversed / cancelled: nothing charged (or the charge was given back)
#   UNKNOWN    no answer, a system error, an answer that does not check: ask again

# ---------------------------------------------------------------- what an answer says about a refund

REFUNDED = "refunded"    # the money went back (WeChat SUCCESS, Alipay fund_change=Y or the query says so)
PENDING = "accepted"     # accepted, not yet done (WeChat PROCESSING): query it (the refund is then pending)
# FAILED and UNKNOWN as above


class Answer(NamedTuple):
    """One answer about one order (``out_trade_no``)."""

    state: str                   # PAID | WAITING | FAILED | CANCELLED | UNKNOWN
    out_trade_no: str
    transaction_id: str = ""     # the provider's transaction number (交易单号), once paid
    amount_fen: int = 0          # what the provider says was charged (0 when it does not say)
    code: str = ""               # the provider's own code (err_code, sub_code, trade_state, ...), for the log
    reason: str = ""             # the provider's reason as one plain sentence (余额不足, 付款码已过期)
    retry: bool = False          # on cancel: the provider asks to be asked again (recall=Y, retry_flag=Y)


class RefundAnswer(NamedTuple):
    """One answer about one refund (``out_refund_no``)."""

    state: str                   # REFUNDED | PENDING | FAILED | UNKNOWN
    out_refund_no: str
    refund_id: str = ""          # the provider's refund number
    amount_fen: int = 0
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Schedule:
    """How the till follows an order the provider has not settled, as the provider's documents say.

    Seconds from the order's request. Tests may pass a shorter one; the till uses each client's own.
    """

    poll_seconds: float          # between queries while WAITING or UNKNOWN
    wait_limit_seconds: float    # stop waiting for the customer after this: cancel
    cancel_after_seconds: float  # never cancel (reverse) sooner than this after the order was made
    retry_seconds: float         # after a system error, wait this long before the first query


class ProviderError(Exception):
    """A client that cannot be built: a settings line, a key file. Says which, never a secret."""


class Provider(Protocol):
    """One payment provider (or an aggregator): the five calls the till needs. Blocking: call from a worker."""

    name: str                    # the tender method it pays: "wechat" | "alipay"
    schedule: Schedule

    def pay(self, out_trade_no: str, auth_code: str, amount_fen: int, subject: str) -> Answer:
        """Charge the customer's payment code (付款码) ``amount_fen`` for this order."""

    def query(self, out_trade_no: str) -> Answer:
        """What the provider knows of the order now."""

    def cancel(self, out_trade_no: str) -> Answer:
        """Reverse / cancel the order (refunds it if it was paid). CANCELLED, or UNKNOWN with ``retry``."""

    def refund(self, out_trade_no: str, out_refund_no: str, total_fen: int, refund_fen: int,
               reason: str = "") -> RefundAnswer:
        """Give back ``refund_fen`` of a paid order (full or partial), at most once per ``out_refund_no``."""

    def refund_query(self, out_trade_no: str, out_refund_no: str) -> RefundAnswer:
        """What the provider knows of the refund now."""


def last4(auth_code: str) -> str:
    """The only part of a payment code the till keeps: its last four digits."""
    return auth_code[-4:]
