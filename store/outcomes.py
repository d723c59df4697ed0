"""Receipt outcomes: the state machine of DESIGN.md, print attempts, the reprint rule, the event log.

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
"unresolved" means, and the reprint rule (cap and manager PIN).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

import peewee
from peewee import OP, SQL, EnclosedNodeList, Expression

from store import audit
from store.cashiers import cashier_code
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import Event, PrintAttempt, ReceiptOutcome, Sale, now

log = logging.getLogger("chaoying.store.outcomes")

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


#: A print attempt's evidence for ``printed``: the printer confirmed, or the
#: cashier says the paper came out (a printer that cannot confirm, a print
#: interrupted by a crash). Reports count them apart.
EVIDENCE_PRINTER = "printer"
EVIDENCE_CASHIER = "cashier"
#: A failed attempt's evidence when its bytes went to the printer unconfirmed: its paper may exist.
EVIDENCE_SENT = "sent"

INTERRUPTED = "interrupted"
INTERRUPTED_REASON = "Printing was interrupted: the till stopped before the printer confirmed."

# Event kinds written by the store. Other parts may add their own
# (drawer_open, void, printer_fault, ...).
EVENT_OUTCOME = "outcome"
EVENT_REPRINT = "reprint"
EVENT_PRINT_FAILED = "print_failed"
EVENT_PAYMENT_FAILED = "payment_failed"


class IllegalTransition(StoreError):
    """A receipt outcome change that the state machine does not allow (code ``illegal_transition``)."""

    def __init__(self, sale_id: int, current: str, wanted: str, why: str = ""):
        self.sale_id, self.current, self.wanted = sale_id, current, wanted
        message = f"Sale {sale_id}: a receipt cannot go from {current} to {wanted}"
        super().__init__(message + (f" ({why})." if why else "."), "illegal_transition",
                         sale_id=sale_id, current=current, wanted=wanted)


# --- the reprint rule ([reprint] max and manager_pin) -------------------------

REPRINT_UNRESOLVED = "reprint_unresolved"
REPRINT_CAP = "reprint_cap"
REPRINT_NEEDS_MANAGER = "reprint_needs_manager"


class ReprintRefused(StoreError):
    """A reprint (补打) the rule does not allow: ``code`` is one of the REPRINT_* names."""


def check_reprint(state: str, reprints: int, max_reprints: int = 0, manager_pin: bool = False,
                  approved_by: str = "") -> None:
    """Raise ReprintRefused unless a reprint of a receipt in ``state`` may go ahead.

    ``reprints``: reprints of it that already printed; ``max_reprints``: the
    cap (0: none); ``manager_pin``: each reprint needs a manager's approval;
    ``approved_by``: the manager who approved this one ("" for nobody).
    """
    if is_unresolved(state):
        raise ReprintRefused(f"The receipt is still {state}: resolve it on the banner, not with a reprint.",
                             REPRINT_UNRESOLVED, state=state)
    if max_reprints and reprints >= max_reprints:
        raise ReprintRefused(f"The receipt was already reprinted {reprints} times; at most {max_reprints} "
                             f"reprints are allowed.", REPRINT_CAP, reprints=reprints, max_reprints=max_reprints)
    if manager_pin and not approved_by:
        raise ReprintRefused("A reprint needs a manager's PIN.", REPRINT_NEEDS_MANAGER)


def log_event(kind: str, till_id: str, cashier=None, sale=None, printer=None, detail: str = "") -> Event:
    """Append one row to the event log."""
    return audit.add_event(str(till_id), kind, cashier_code(cashier), getattr(sale, "id", sale), printer, detail)


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


def _locked_outcome(sale_id: int) -> ReceiptOutcome:
    """The outcome row, locked until the transaction ends (SQLite: BEGIN IMMEDIATE already is)."""
    query = ReceiptOutcome.select().where(ReceiptOutcome.sale == sale_id)
    if not is_sqlite(db.obj):
        query = query.for_update()
    outcome = query.first()
    if outcome is None:
        raise ReceiptOutcome.DoesNotExist(f"sale {sale_id} has no receipt outcome")
    return outcome


def _change(outcome: ReceiptOutcome, state: str, reason_code: str = "", reason: str = "") -> None:
    ReceiptOutcome.update(state=state, reason_code=reason_code, reason=reason, updated_at=now()).where(
        ReceiptOutcome.id == outcome.id
    ).execute()
    audit.seal_outcome(outcome.sale_id)
    outcome.state, outcome.reason_code, outcome.reason = state, reason_code, reason
    outcome._dirty.clear()


def printed_reprints(sale_id: int) -> int:
    """How many reprints (补打) of this sale printed."""
    return PrintAttempt.select().where(
        (PrintAttempt.sale == sale_id) & (PrintAttempt.reprint_no > 0) & (PrintAttempt.result == PRINTED)
    ).count()


def start_printing(sale_id: int, printer: str, cashier=None, reprint: bool = False) -> PrintAttempt:
    """pending|failed -> printing; with ``reprint=True`` also from a resolved state.

    Returns the new PrintAttempt; a reprint gets the number of the reprints that printed, plus one.
    """
    sale_id = int(getattr(sale_id, "id", sale_id))
    with write_transaction():
        outcome = _locked_outcome(sale_id)
        if not can_change(outcome.state, PRINTING, reprint):
            why = "use a reprint" if outcome.state in RESOLVED_STATES else ""
            raise IllegalTransition(sale_id, outcome.state, PRINTING, why)
        reprint_no = 0
        if reprint:  # numbered by the reprints that printed: a failed try leaves no paper to count
            reprint_no = printed_reprints(sale_id) + 1
        prior = outcome.state
        attempt = PrintAttempt.create(
            sale=sale_id, printer=printer or "", cashier=cashier_code(cashier), started_at=now(),
            reprint_no=reprint_no, prior_state=prior,
        )
        audit.seal_attempt(attempt.id)
        _change(outcome, PRINTING)
        sale = Sale.get_by_id(sale_id)
        log_event(EVENT_OUTCOME, sale.till_id, cashier, sale_id, printer, f"{prior} -> {PRINTING}")
        if reprint:
            log_event(EVENT_REPRINT, sale.till_id, cashier, sale_id, printer, f"reprint {reprint_no}")
    return attempt


def finish_printing(attempt_id: int, ok: bool, reason_code: str = "", reason: str = "",
                    sent: bool = False) -> ReceiptOutcome:
    """printing -> printed (ok, confirmed by the printer) or failed(reason).

    ``sent``: the failed attempt's bytes went to the printer, so its paper may exist (evidence ``sent``).
    """
    attempt_id = int(getattr(attempt_id, "id", attempt_id))
    with write_transaction():
        attempt = PrintAttempt.get_by_id(attempt_id)
        outcome = _locked_outcome(attempt.sale_id)
        wanted = PRINTED if ok else FAILED
        if attempt.finished_at is not None or outcome.state != PRINTING or not can_change(outcome.state, wanted):
            raise IllegalTransition(attempt.sale_id, outcome.state, wanted,
                                    f"print attempt {attempt_id} is already finished")
        return _finish(attempt, outcome, ok, reason_code, reason, sent)


def _finish(attempt: PrintAttempt, outcome: ReceiptOutcome, ok: bool, reason_code: str, reason: str,
            sent: bool = False) -> ReceiptOutcome:
    if ok:
        state, reason_code, reason = PRINTED, "", ""
    elif attempt.prior_state in RESOLVED_STATES:
        state = attempt.prior_state  # a failed reprint must not block the till
    else:
        state = FAILED
    reason_code = reason_code or ("" if ok else "error")
    PrintAttempt.update(
        finished_at=now(), result=PRINTED if ok else FAILED, reason_code=reason_code, reason=reason,
        evidence=EVIDENCE_PRINTER if ok else (EVIDENCE_SENT if sent else ""),
    ).where(PrintAttempt.id == attempt.id).execute()
    audit.seal_attempt(attempt.id)
    if ok or state == FAILED:
        _change(outcome, state, "" if ok else reason_code, "" if ok else reason)
    else:
        _change(outcome, state, outcome.reason_code, outcome.reason)
    sale = Sale.get_by_id(attempt.sale_id)
    detail = f"{PRINTING} -> {state}"
    if not ok:
        detail += f" ({reason_code}: {reason})" if reason else f" ({reason_code})"
    log_event(EVENT_OUTCOME, sale.till_id, attempt.cashier, sale.id, attempt.printer, detail)
    if not ok:
        log_event(EVENT_PRINT_FAILED, sale.till_id, attempt.cashier, sale.id, attempt.printer,
                  f"{reason_code}: {reason}" if reason else reason_code)
    return outcome


def resolve(sale_id: int, state: str, cashier=None) -> ReceiptOutcome:
    """failed -> handwritten | e_receipt | declined."""
    sale_id = int(getattr(sale_id, "id", sale_id))
    if state not in MANUAL_RESOLUTIONS:
        current = get_outcome(sale_id).state  # the state names the error; nothing changes
        raise IllegalTransition(sale_id, current, state, "not a way to resolve a failed receipt")
    with write_transaction():
        outcome = _locked_outcome(sale_id)
        if not can_change(outcome.state, state):
            raise IllegalTransition(sale_id, outcome.state, state, "only a failed receipt can be resolved this way")
        _change(outcome, state, outcome.reason_code, outcome.reason)
        sale = Sale.get_by_id(sale_id)
        log_event(EVENT_OUTCOME, sale.till_id, cashier, sale_id, None, f"{FAILED} -> {state}")
    return outcome


def may_be_on_paper(sale_id: int) -> bool:
    """True when an earlier print of this sale may have come out unconfirmed, so the next one is a 副本 COPY.

    That is a print interrupted by a crash, or a failed one whose bytes went to the printer.
    """
    return PrintAttempt.select().where(
        (PrintAttempt.sale == int(sale_id))
        & ((PrintAttempt.reason_code == INTERRUPTED)
           | ((PrintAttempt.result == FAILED) & (PrintAttempt.evidence == EVIDENCE_SENT)))
    ).exists()


def confirm_printed(sale_id: int, cashier=None) -> ReceiptOutcome:
    """failed -> printed on the cashier's word: the paper came out though the printer did not confirm it.

    Appends a finished print attempt with evidence ``cashier`` (the printer
    of the last attempt, no new bytes sent) and logs the change.
    """
    sale_id = int(getattr(sale_id, "id", sale_id))
    with write_transaction():
        outcome = _locked_outcome(sale_id)
        if outcome.state != FAILED:
            raise IllegalTransition(sale_id, outcome.state, PRINTED,
                                    "only a failed receipt can be confirmed by the cashier")
        last = PrintAttempt.select().where(PrintAttempt.sale == sale_id).order_by(PrintAttempt.id.desc()).first()
        at = now()
        confirmed = PrintAttempt.create(
            sale=sale_id, printer=last.printer if last is not None else "", cashier=cashier_code(cashier),
            started_at=at, finished_at=at, result=PRINTED, evidence=EVIDENCE_CASHIER, prior_state=FAILED,
        )
        audit.seal_attempt(confirmed.id)
        _change(outcome, PRINTED)
        sale = Sale.get_by_id(sale_id)
        log_event(EVENT_OUTCOME, sale.till_id, cashier, sale_id, None,
                  f"{FAILED} -> {PRINTED} (evidence: {EVIDENCE_CASHIER})")
    return outcome


def _open_sale_ids(*conditions: Any) -> List[int]:
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
    ids = _open_sale_ids()
    if not ids:
        return []
    return list(Sale.select().where(Sale.id.in_(ids) & (Sale.till_id == str(till_id))).order_by(Sale.receipt_no))


def recover_interrupted(till_id: str) -> int:
    """At start-up: every ``printing`` receipt of this till becomes failed("interrupted").

    A reprint of an already resolved receipt goes back to its earlier state.
    Returns how many receipts were recovered.
    """
    count = 0
    with write_transaction():
        ids = _open_sale_ids(ReceiptOutcome.state == PRINTING)
        outcomes = list(
            ReceiptOutcome.select()
            .join(Sale)
            .where(ReceiptOutcome.sale.in_(ids) & (Sale.till_id == str(till_id)))
        ) if ids else []
        for outcome in outcomes:
            attempts = list(
                PrintAttempt.select()
                .where((PrintAttempt.sale == outcome.sale_id) & PrintAttempt.finished_at.is_null())
                .order_by(PrintAttempt.id)
            )
            if attempts:
                for attempt in attempts[:-1]:
                    PrintAttempt.update(finished_at=now(), result=FAILED, reason_code=INTERRUPTED,
                                        reason=INTERRUPTED_REASON).where(PrintAttempt.id == attempt.id).execute()
                    audit.seal_attempt(attempt.id)
                _finish(attempts[-1], outcome, False, INTERRUPTED, INTERRUPTED_REASON)
            else:  # no open attempt (should not happen): fail it anyway
                _change(outcome, FAILED, INTERRUPTED, INTERRUPTED_REASON)
                log_event(EVENT_OUTCOME, till_id, None, outcome.sale_id, None,
                          f"{PRINTING} -> {FAILED} ({INTERRUPTED})")
            count += 1
    if count:
        log.info("till %s: %d interrupted print(s) marked failed", till_id, count)
    return count


assert set(RESOLVED_STATES + UNRESOLVED_STATES) == set(STATES) == set(TRANSITIONS)
