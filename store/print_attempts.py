"""Print attempts: one try to print a sale's receipt on one printer, with its result and evidence; the reprint rule.

Each attempt drives the receipt outcome (``store.outcomes``) through
printing, and on to printed or failed(reason)::

    start_printing:   pending | failed (| resolved, for a reprint) -> printing
    finish_printing:  printing -> printed (the printer confirmed) | failed(reason)
    confirm_printed:  failed -> printed (evidence: cashier; the cashier holds the paper)
    recover_interrupted (start-up):  printing -> failed("interrupted")

A failed reprint of an already resolved receipt goes back to its earlier
state instead of blocking the till. Every change is one write transaction
and leaves an event (``store.events``).

This module is the one home of the evidence names, of what makes the next
print a 副本 COPY (``may_be_on_paper``), and of the reprint rule (cap and
manager PIN).
"""
from __future__ import annotations

import logging

from store import audit, events
from store.cashiers import cashier_code
from store.db import write_transaction
from store.errors import StoreError
from store.models import PrintAttempt, ReceiptOutcome, Sale, now
from store.outcomes import (
    FAILED,
    PRINTED,
    PRINTING,
    RESOLVED_STATES,
    IllegalTransition,
    can_change,
    change_state,
    is_unresolved,
    locked_outcome,
    unresolved_sale_ids,
)

log = logging.getLogger("chaoying.store.print_attempts")

#: A print attempt's evidence for ``printed``: the printer confirmed, or the
#: cashier says the paper came out (a printer that cannot confirm, a print
#: interrupted by a crash). Reports count them apart.
EVIDENCE_PRINTER = "printer"
EVIDENCE_CASHIER = "cashier"
#: A failed attempt's evidence when its bytes went to the printer unconfirmed: its paper may exist.
EVIDENCE_SENT = "sent"

INTERRUPTED = "interrupted"
INTERRUPTED_REASON = "Printing was interrupted: the till stopped before the printer confirmed."


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


def printed_reprints(sale_id: int) -> int:
    """How many reprints (补打) of this sale printed."""
    return PrintAttempt.select().where(
        (PrintAttempt.sale == sale_id) & (PrintAttempt.reprint_no > 0) & (PrintAttempt.result == PRINTED)
    ).count()


# --- print attempts ---------------------------------------------------------------

def start_printing(sale_id: int, printer: str, cashier=None, reprint: bool = False) -> PrintAttempt:
    """pending|failed -> printing; with ``reprint=True`` also from a resolved state.

    Returns the new PrintAttempt; a reprint gets the number of the reprints that printed, plus one.
    """
    sale_id = int(getattr(sale_id, "id", sale_id))
    with write_transaction():
        outcome = locked_outcome(sale_id)
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
        change_state(outcome, PRINTING)
        sale = Sale.get_by_id(sale_id)
        events.log_event(events.EVENT_OUTCOME, sale.till_id, cashier, sale_id, printer, f"{prior} -> {PRINTING}")
        if reprint:
            events.log_event(events.EVENT_REPRINT, sale.till_id, cashier, sale_id, printer, f"reprint {reprint_no}")
    return attempt


def finish_printing(attempt_id: int, ok: bool, reason_code: str = "", reason: str = "",
                    sent: bool = False) -> ReceiptOutcome:
    """printing -> printed (ok, confirmed by the printer) or failed(reason).

    ``sent``: the failed attempt's bytes went to the printer, so its paper may exist (evidence ``sent``).
    """
    attempt_id = int(getattr(attempt_id, "id", attempt_id))
    with write_transaction():
        attempt = PrintAttempt.get_by_id(attempt_id)
        outcome = locked_outcome(attempt.sale_id)
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
        change_state(outcome, state, "" if ok else reason_code, "" if ok else reason)
    else:
        change_state(outcome, state, outcome.reason_code, outcome.reason)
    sale = Sale.get_by_id(attempt.sale_id)
    detail = f"{PRINTING} -> {state}"
    if not ok:
        detail += f" ({reason_code}: {reason})" if reason else f" ({reason_code})"
    events.log_event(events.EVENT_OUTCOME, sale.till_id, attempt.cashier, sale.id, attempt.printer, detail)
    if not ok:
        events.log_event(events.EVENT_PRINT_FAILED, sale.till_id, attempt.cashier, sale.id, attempt.printer,
                         f"{reason_code}: {reason}" if reason else reason_code)
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
        outcome = locked_outcome(sale_id)
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
        change_state(outcome, PRINTED)
        sale = Sale.get_by_id(sale_id)
        events.log_event(events.EVENT_OUTCOME, sale.till_id, cashier, sale_id, None,
                         f"{FAILED} -> {PRINTED} (evidence: {EVIDENCE_CASHIER})")
    return outcome


def recover_interrupted(till_id: str) -> int:
    """At start-up: every ``printing`` receipt of this till becomes failed("interrupted").

    Its open print attempts finish as interrupted. A reprint of an already
    resolved receipt goes back to its earlier state. Returns how many
    receipts were recovered.
    """
    count = 0
    with write_transaction():
        ids = unresolved_sale_ids(ReceiptOutcome.state == PRINTING)
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
                change_state(outcome, FAILED, INTERRUPTED, INTERRUPTED_REASON)
                events.log_event(events.EVENT_OUTCOME, till_id, None, outcome.sale_id, None,
                                 f"{PRINTING} -> {FAILED} ({INTERRUPTED})")
            count += 1
    if count:
        log.info("till %s: %d interrupted print(s) marked failed", till_id, count)
    return count
