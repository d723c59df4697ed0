"""Payment attempts: one request to a payment provider for an open basket, and its one state machine.

An attempt is stored (committed) BEFORE its request leaves, with its
``out_trade_no``, provider, amount and the payment code's last four digits
(never the whole code). Each answer of the provider moves it through
``TRANSITIONS``; a move the table does not allow raises. Every change is
sealed in the till's audit chain in the transaction that writes it, so
``journal verify`` names an attempt edited outside the till. A paid attempt
gets its sale in the sale's own transaction (``link_sale``, from
store.sales.commit_document).
"""
from __future__ import annotations

import datetime
import itertools
import threading
from typing import Any, Dict, FrozenSet, Iterable, List, Optional

from peewee import OP, SQL, EnclosedNodeList, Expression

from store import audit
from store.db import write_transaction
from store.errors import StoreError
from store.models import PaymentAttempt, now

REQUESTED, WAITING, PAID, FAILED = "requested", "waiting", "paid", "failed"
CANCELLING, CANCELLED, UNKNOWN = "cancelling", "cancelled", "unknown"
STATES = (REQUESTED, WAITING, PAID, FAILED, CANCELLING, CANCELLED, UNKNOWN)

#: Not settled yet: the desk follows them (== the partial index payment_attempt_open, migration 10).
OPEN_STATES = (REQUESTED, WAITING, UNKNOWN, CANCELLING)
#: Nothing was charged: the basket may be paid again, held or given up.
NOTHING_CHARGED = (FAILED, CANCELLED)

_FOLLOWING: FrozenSet[str] = frozenset({WAITING, PAID, FAILED, UNKNOWN, CANCELLING, CANCELLED})
#: state -> the states an answer may move it to. paid, failed and cancelled are final.
TRANSITIONS: Dict[str, FrozenSet[str]] = {
    REQUESTED: _FOLLOWING,
    WAITING: _FOLLOWING,
    UNKNOWN: _FOLLOWING,
    # reversing: done, asked again, or the order turned out settled (paid before the reverse, closed)
    CANCELLING: frozenset({CANCELLING, CANCELLED, PAID, FAILED}),
    PAID: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
}


class AttemptError(StoreError, ValueError):
    """A move the state machine does not allow, or an attempt that is not there."""


def check_move(old: str, new: str) -> None:
    """AttemptError unless an attempt in ``old`` may move to ``new``."""
    if new not in TRANSITIONS.get(old, frozenset()):
        raise AttemptError(f"A payment attempt cannot go from {old} to {new}.", "attempt_move", old=old, new=new)


# ---------------------------------------------------------------- out_trade_no

_counter = itertools.count()
_counter_lock = threading.Lock()


def new_out_trade_no(till_id: str, at: Optional[datetime.datetime] = None) -> str:
    """A new order number: till id, the time to the microsecond and a counter, [0-9A-Za-z_] only, <= 32 chars.

    The time (not a sequence in the database) keeps it new after a restart or a restore of an older backup;
    the counter, within one microsecond. WeChat allows [0-9A-Za-z_-|*], Alipay letters, digits and _: a "-"
    of the till id becomes "_". The last 20 characters are always digits.
    """
    with _counter_lock:
        count = next(_counter) % 100
    stamp = (at or datetime.datetime.now()).strftime("%y%m%d%H%M%S%f")
    return f"{str(till_id).replace('-', '_')}_{stamp}{count:02d}"


# ---------------------------------------------------------------- writes

def create(out_trade_no: str, till_id: str, basket_id: Optional[int], provider: str, amount_fen: int,
           auth_code: str) -> PaymentAttempt:
    """Store a new attempt (requested) and seal it: committed before the request leaves."""
    at = now()
    with write_transaction():
        row = PaymentAttempt.create(till_id=str(till_id), basket=basket_id, out_trade_no=out_trade_no,
                                    provider=provider, amount_fen=int(amount_fen), code_last4=auth_code[-4:],
                                    created_at=at, state=REQUESTED, updated_at=at)
        audit.seal_row(audit.PAY_ATTEMPT, row.id, str(till_id))
    return row


def move(out_trade_no: str, state: str, transaction_id: str = "", reason_code: str = "",
         reason: str = "") -> PaymentAttempt:
    """Move the attempt named ``out_trade_no`` to ``state`` (AttemptError when the table says no) and seal it.

    The same state with the same reason changes nothing (a poll that says "still waiting").
    """
    with write_transaction():
        row = get(out_trade_no)
        if row.state == state and row.reason_code == (reason_code or "")[:64]:
            return row
        check_move(row.state, state)
        values = dict(state=state, reason_code=(reason_code or "")[:64], reason=(reason or "")[:255],
                      updated_at=now())
        if transaction_id:
            values["transaction_id"] = transaction_id[:64]
        PaymentAttempt.update(**values).where(PaymentAttempt.id == row.id).execute()
        audit.seal_row(audit.PAY_ATTEMPT, row.id, row.till_id)
    return get(out_trade_no)


def link_sale(out_trade_nos: Iterable[str], sale_id: int, till_id: str) -> None:
    """The sale holds these paid attempts' payments (inside the sale's transaction); SaleError-like
    AttemptError when one is not paid or already belongs to a sale: a payment never counts twice."""
    for out_trade_no in out_trade_nos:
        row = PaymentAttempt.get_or_none(PaymentAttempt.out_trade_no == out_trade_no)
        if row is None or row.state != PAID or row.sale is not None:
            raise AttemptError(f"The payment {out_trade_no} is not a paid attempt of this basket.",
                               "attempt_not_paid", out_trade_no=out_trade_no)
        PaymentAttempt.update(sale=sale_id, updated_at=now()).where(PaymentAttempt.id == row.id).execute()
        audit.seal_row(audit.PAY_ATTEMPT, row.id, str(till_id))


# ---------------------------------------------------------------- reads

def get(out_trade_no: str) -> PaymentAttempt:
    row = PaymentAttempt.get_or_none(PaymentAttempt.out_trade_no == out_trade_no)
    if row is None:
        raise AttemptError(f"There is no payment attempt {out_trade_no}.", "attempt_missing",
                           out_trade_no=out_trade_no)
    return row


def open_attempts(till_id: str) -> List[PaymentAttempt]:
    """This till's attempts not settled yet, and the paid ones no sale holds yet, oldest first."""
    return list(open_query(till_id))


def open_query(till_id: str) -> Any:
    """The query of ``open_attempts``: its WHERE is the partial index's own (payment_attempt_open, with
    literal states, SQLite's rule), so it is bounded by open work, not by history."""
    states = EnclosedNodeList([SQL(f"'{state}'") for state in OPEN_STATES + (PAID,)])
    where = Expression(PaymentAttempt.state, OP.IN, states) & PaymentAttempt.sale.is_null()
    return PaymentAttempt.select().where((PaymentAttempt.till_id == str(till_id)) & where).order_by(PaymentAttempt.id)


def of_basket(basket_id: Optional[int]) -> List[PaymentAttempt]:
    """The attempts made for one open basket, oldest first."""
    if basket_id is None:
        return []
    return list(PaymentAttempt.select().where(PaymentAttempt.basket == basket_id).order_by(PaymentAttempt.id))


def of_sale(sale_id: int) -> List[PaymentAttempt]:
    """The attempts whose payments a sale holds (for the receipt, history, refunds, reconciliation)."""
    return list(PaymentAttempt.select().where(PaymentAttempt.sale == sale_id).order_by(PaymentAttempt.id))


def as_dict(row: Any) -> Dict[str, Any]:
    """An attempt as plain values (the till hands these to its threads)."""
    return {name: getattr(row, name) for name in audit.FIELDS[audit.PAY_ATTEMPT]}
