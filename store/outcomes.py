"""Receipt outcomes: the state machine of DESIGN.md.

::

    pending  -> printing -> printed | failed(reason)
    failed   -> printing (reprint) | handwritten | e_receipt | declined
             -> printed (evidence: cashier; the cashier holds the paper)

A reprint (补打) of an already resolved receipt (printed, handwritten,
e_receipt, declined) is allowed with ``reprint=True``; if that reprint fails
the receipt goes back to its earlier state instead of blocking the till.
Every change is one write transaction and leaves an event. The first state,
``pending``, is written by ``store.sales.commit_sale`` (through
``add_pending``) in the transaction that stores the sale.

This module is the one home of the state names, the transition table, what
"unresolved" means, and the changes that need no print attempt (``resolve``).
The changes that go through a print attempt (printing, printed, failed, the
cashier's confirmation, the recovery at start-up) and the reprint rule live
in ``store.print_attempts``; the event log in ``store.events``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import peewee
from peewee import OP, SQL, EnclosedNodeList, Expression

from store import audit, events
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import ReceiptOutcome, Sale, now

#: Receipt outcome states (DESIGN.md, "Receipt outcome").
PENDING = "pending"
PRINTING = "printing"
PRINTED = "printed"
FAILED = "failed"
HANDWRITTEN = "handwritten"
E_RECEIPT = "e_receipt"
DECLINED = "declined"
STATES = (PENDING, PRINTING, PRINTED, FAILED, HANDWRITTEN, E_RECEIPT, DECLINED)

#: While a sale of a till is in one of these, the till shows the blocking banner.
UNRESOLVED_STATES = (PENDING, PRINTING, FAILED)
RESOLVED_STATES = (PRINTED, HANDWRITTEN, E_RECEIPT, DECLINED)
MANUAL_RESOLUTIONS = (HANDWRITTEN, E_RECEIPT, DECLINED)

#: state -> the states it may change to. Besides these, a reprint (补打)
#: takes a resolved receipt to printing (``can_change(..., reprint=True)``),
#: and a failed reprint goes back to the resolved state it came from.
TRANSITIONS: Dict[str, Tuple[str, ...]] = {
    PENDING: (PRINTING,),
    PRINTING: (PRINTED, FAILED),
    FAILED: (PRINTING, PRINTED) + MANUAL_RESOLUTIONS,  # printed: only by confirm_printed (cashier)
    PRINTED: (),
    HANDWRITTEN: (),
    E_RECEIPT: (),
    DECLINED: (),
}


def unresolved_term() -> Expression:
    """``receipt_outcome.state IN ('pending', 'printing', 'failed')`` with the states written out.

    The partial index ``receipt_outcome_unresolved`` (migration 4) holds only
    these rows, and SQLite uses a partial index only when the query's WHERE
    has its WHERE term word for word, with literals (a bound ``?`` does not
    match). Every query for open receipts goes through here, so it reads a
    handful of rows whatever the history.
    """
    return Expression(ReceiptOutcome.state, OP.IN, EnclosedNodeList([SQL(f"'{state}'") for state in UNRESOLVED_STATES]))


def is_unresolved(state: str) -> bool:
    """True while the customer has no known receipt: the till must not start a new sale."""
    return state in UNRESOLVED_STATES


def can_change(current: str, wanted: str, reprint: bool = False) -> bool:
    """True when the state machine lets a receipt go from ``current`` to ``wanted``."""
    if wanted in TRANSITIONS.get(current, ()):
        return True
    return reprint and wanted == PRINTING and current in RESOLVED_STATES


class IllegalTransition(StoreError):
    """A receipt outcome change that the state machine does not allow (code ``illegal_transition``)."""

    def __init__(self, sale_id: int, current: str, wanted: str, why: str = ""):
        self.sale_id, self.current, self.wanted = sale_id, current, wanted
        message = f"Sale {sale_id}: a receipt cannot go from {current} to {wanted}"
        super().__init__(message + (f" ({why})." if why else "."), "illegal_transition",
                         sale_id=sale_id, current=current, wanted=wanted)


_pending_sql: Dict[tuple, str] = {}


def add_pending(database: peewee.Database, sale_id: int, at: object) -> None:
    """The first outcome of a new sale, ``pending``; inside ``commit_sale``'s transaction.

    ``at`` is the sale time as the commit writes it. The statement is built
    once per dialect: it runs on every sale while the customer waits.
    """
    key = (type(database), database.param, database.quote)
    sql = _pending_sql.get(key)
    if sql is None:
        def q(identifier: str) -> str:
            return database.quote[0] + identifier + database.quote[1]

        fields = (ReceiptOutcome.sale, ReceiptOutcome.state, ReceiptOutcome.reason_code,
                  ReceiptOutcome.reason, ReceiptOutcome.updated_at)
        columns = ", ".join(q(field.column_name) for field in fields)
        values = ", ".join([database.param] * len(fields))
        sql = _pending_sql[key] = f"INSERT INTO {q(ReceiptOutcome._meta.table_name)} ({columns}) VALUES ({values})"
    database.execute_sql(sql, (sale_id, PENDING, "", "", at))


def get_outcome(sale_id: int) -> ReceiptOutcome:
    """The receipt outcome of a sale (raises ReceiptOutcome.DoesNotExist)."""
    return ReceiptOutcome.get(ReceiptOutcome.sale == sale_id)


def locked_outcome(sale_id: int) -> ReceiptOutcome:
    """The outcome row, locked until the transaction ends (SQLite: BEGIN IMMEDIATE already is).

    For the writers of this module and ``store.print_attempts``, inside their write transaction.
    """
    query = ReceiptOutcome.select().where(ReceiptOutcome.sale == sale_id)
    if not is_sqlite(db.obj):
        query = query.for_update()
    outcome = query.first()
    if outcome is None:
        raise ReceiptOutcome.DoesNotExist(f"sale {sale_id} has no receipt outcome")
    return outcome


def change_state(outcome: ReceiptOutcome, state: str, reason_code: str = "", reason: str = "") -> None:
    """Write ``outcome``'s new state and seal it in the audit chain; the caller checked ``can_change``."""
    ReceiptOutcome.update(state=state, reason_code=reason_code, reason=reason, updated_at=now()).where(
        ReceiptOutcome.id == outcome.id
    ).execute()
    audit.seal_outcome(outcome.sale_id)
    outcome.state, outcome.reason_code, outcome.reason = state, reason_code, reason
    outcome._dirty.clear()


def resolve(sale_id: int, state: str, cashier=None) -> ReceiptOutcome:
    """failed -> handwritten | e_receipt | declined."""
    sale_id = int(getattr(sale_id, "id", sale_id))
    if state not in MANUAL_RESOLUTIONS:
        current = get_outcome(sale_id).state  # the state names the error; nothing changes
        raise IllegalTransition(sale_id, current, state, "not a way to resolve a failed receipt")
    with write_transaction():
        outcome = locked_outcome(sale_id)
        if not can_change(outcome.state, state):
            raise IllegalTransition(sale_id, outcome.state, state, "only a failed receipt can be resolved this way")
        change_state(outcome, state, outcome.reason_code, outcome.reason)
        sale = Sale.get_by_id(sale_id)
        events.log_event(events.EVENT_OUTCOME, sale.till_id, cashier, sale_id, None, f"{FAILED} -> {state}")
    return outcome


def unresolved_sale_ids(*conditions: Any) -> List[int]:
    """Ids of the sales whose receipt is unresolved (and meets ``conditions``), from the partial index alone.

    A query of its own on purpose: joined with ``sale`` in one statement, the
    planner may walk the till's whole history instead (sale by till_id).
    """
    where = unresolved_term()
    for condition in conditions:
        where = where & condition
    return [sale_id for (sale_id,) in ReceiptOutcome.select(ReceiptOutcome.sale).where(where).tuples()]


def unresolved_sales(till_id: str) -> List[Sale]:
    """This till's sales whose receipt is pending, printing or failed; oldest first."""
    ids = unresolved_sale_ids()
    if not ids:
        return []
    return list(Sale.select().where(Sale.id.in_(ids) & (Sale.till_id == str(till_id))).order_by(Sale.receipt_no))


assert set(RESOLVED_STATES + UNRESOLVED_STATES) == set(STATES) == set(TRANSITIONS)
