"""Shifts: the period a till's cash drawer is open, opened with a counted float and closed by a Z report.

One open shift per till (a partial unique index says so too). Cash put in
(paid in) or taken out (paid out) of the drawer is recorded with why and
who; a paid out above the cashier's limit (``[shift] cashier_max_paid_out``,
passed in by the caller) needs a manager. Hand-overs between cashiers are
recorded inside the shift. The Z report that closes a shift lives in
``store.reports``. The opening, each paid in and paid out and the Z are in
the event log too (store.events), written in the same transaction.
"""
from __future__ import annotations

import json
from typing import Mapping, Optional

from peewee import fn

from store import audit, events, money
from store.cashiers import cashier_code
from store.db import write_transaction
from store.errors import StoreError
from store.models import CashMove, Payment, Sale, Shift, ShiftHandover, TillCounter, now
from store.sales import PAYMENT_OK

PAID_IN, PAID_OUT = "paid_in", "paid_out"
CASH_MOVES = (PAID_IN, PAID_OUT)
MOVE_EVENTS = {PAID_IN: events.EVENT_PAID_IN, PAID_OUT: events.EVENT_PAID_OUT}  # each move is in the event log
#: The yuan in circulation a drawer is counted in, in fen, largest first (a coin counts with the note of its value).
DENOMINATIONS = (10000, 5000, 2000, 1000, 500, 100, 50, 10)
#: Most pieces of one denomination a count takes: more is a typo, not a drawer.
MAX_PIECES = 99_999


class ShiftError(StoreError, ValueError):
    """A shift action that cannot be done as asked: one sentence, a code and its values."""


def denomination(fen: int) -> "tuple[int, str]":
    """A note or coin as it is named: (100, "yuan") for 100 元, (5, "jiao") for 5 角."""
    return (fen // 100, "yuan") if fen >= 100 else (fen // 10, "jiao")


def counts_fen(counts: Optional[Mapping[int, int]]) -> int:
    """What a count per denomination (fen -> pieces) adds up to."""
    return sum(int(denomination) * int(pieces) for denomination, pieces in (counts or {}).items())


def _counts_json(counts: Optional[Mapping[int, int]]) -> str:
    if not counts:
        return ""
    if any(int(d) <= 0 or not 0 <= int(n) <= MAX_PIECES for d, n in counts.items()):
        raise ShiftError("A count names a denomination above zero and a number of pieces.", "bad_counts")
    return json.dumps({str(int(d)): int(n) for d, n in sorted(counts.items(), key=lambda i: -int(i[0]))},
                      separators=(",", ":"))


def current_shift(till_id: str) -> Optional[Shift]:
    """The till's open shift, or None."""
    return Shift.get_or_none((Shift.till_id == str(till_id)) & Shift.closed_at.is_null())


def open_shift(till_id: str, float_fen: Optional[int] = None, counts: Optional[Mapping[int, int]] = None,
               cashier=None) -> Shift:
    """Open the till's shift with its float: one amount, or counted per denomination (which then wins)."""
    till_id = str(till_id)
    if counts:
        counted = counts_fen(counts)
        if float_fen is not None and float_fen != counted:
            raise ShiftError(f"The float counted per denomination is {money.format_yuan(counted)}, "
                             f"not {money.format_yuan(float_fen)}.", "float_mismatch",
                             counted=money.format_yuan(counted))
        float_fen = counted
    if float_fen is None or float_fen < 0:
        raise ShiftError("The opening float is an amount of zero or more.", "bad_float")
    text = _counts_json(counts)
    with write_transaction():
        if current_shift(till_id) is not None:
            raise ShiftError(f"Till {till_id} already has an open shift; close it with a Z report first.",
                             "shift_open", till=till_id)
        last = Shift.select(Shift.number).where(Shift.till_id == till_id).order_by(Shift.number.desc()).first()
        counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
        shift = Shift.create(till_id=till_id, number=(last.number if last else 0) + 1, opened_at=now(),
                             opened_by=cashier_code(cashier), float_fen=float_fen, float_counts=text,
                             after_receipt_no=counter.last_receipt_no if counter else 0)
        audit.seal_row(audit.SHIFT, shift.id, till_id)
        events.log_event(events.EVENT_SHIFT_OPEN, till_id, cashier,
                         detail=f"shift {shift.number}, float {money.format_yuan(float_fen)}")
        return shift


def _open_or_refuse(till_id: str) -> Shift:
    shift = current_shift(till_id)
    if shift is None:
        raise ShiftError(f"Till {till_id} has no open shift; open one with its float first.", "no_open_shift",
                         till=str(till_id))
    return shift


def _move(kind: str, till_id: str, amount_fen: int, reason: str, cashier, manager) -> CashMove:
    if amount_fen <= 0:
        raise ShiftError("Cash in or out is an amount above zero.", "bad_amount")
    if not (reason or "").strip():
        raise ShiftError("Cash in or out needs a reason.", "cash_move_reason")
    with write_transaction():
        shift = _open_or_refuse(till_id)
        if kind == PAID_OUT:
            _refuse_more_than_the_drawer(till_id, amount_fen)
        move = CashMove.create(shift=shift.id, kind=kind, amount_fen=amount_fen, reason=reason.strip(),
                               cashier=cashier_code(cashier), manager=cashier_code(manager), at=now())
        audit.seal_row(audit.CASH_MOVE, move.id, till_id)
        events.log_event(MOVE_EVENTS[kind], till_id, cashier,
                         detail=events.with_manager(f"{money.format_yuan(amount_fen)} {move.reason}", manager))
        return move


def drawer_fen(till_id: str) -> Optional[int]:
    """What the drawer of the till's open shift should hold now, in fen (None: no open shift).

    The float, the net cash of the documents after the shift opened (cash sold
    before it is in the counted float) and the cash moved in and out: the X
    report's expected cash (store.reports; a test keeps them equal).
    """
    shift = current_shift(till_id)
    if shift is None:
        return None
    docs = (Sale.till_id == str(till_id)) & (Sale.receipt_no > shift.after_receipt_no)
    total = shift.float_fen
    for kind, amount in (Payment.select(Sale.kind, fn.SUM(Payment.amount_fen)).join(Sale, on=(Payment.sale == Sale.id))
                         .where(docs & (Payment.method == "cash") & (Payment.status == PAYMENT_OK))
                         .group_by(Sale.kind).tuples()):
        total += int(amount or 0) * (1 if kind == "sale" else -1)
    total -= int(Sale.select(fn.SUM(Sale.change_fen)).where(docs & (Sale.kind == "sale")).scalar() or 0)
    for kind, amount in (CashMove.select(CashMove.kind, fn.SUM(CashMove.amount_fen))
                         .where(CashMove.shift == shift.id).group_by(CashMove.kind).tuples()):
        total += int(amount or 0) * (1 if kind == PAID_IN else -1)
    return total


def _refuse_more_than_the_drawer(till_id: str, amount_fen: int) -> None:
    expected = drawer_fen(till_id) or 0
    if amount_fen > expected:
        raise ShiftError(f"Paying out {money.format_yuan(amount_fen)} is more than the "
                         f"{money.format_yuan(expected)} the drawer should hold.", "paid_out_above_drawer",
                         amount_fen=amount_fen, expected_fen=expected)


def cash_in(till_id: str, amount_fen: int, reason: str, cashier=None, manager=None) -> CashMove:
    """Paid in: cash put into the drawer (change from the bank) with a reason."""
    return _move(PAID_IN, till_id, amount_fen, reason, cashier, manager)


def cash_out(till_id: str, amount_fen: int, reason: str, cashier=None, manager=None,
             limit_fen: Optional[int] = None) -> CashMove:
    """Paid out: cash taken from the drawer (a delivery paid) with a reason.

    Above ``limit_fen`` (the cashier's limit; None: no limit) a manager must
    allow it: ``manager`` names them (the caller checked their PIN). More
    than the drawer should hold (the open shift's expected cash) is refused.
    """
    if limit_fen is not None and amount_fen > limit_fen and not cashier_code(manager):
        raise ShiftError(f"Paying out more than {money.format_yuan(limit_fen)} needs a manager.",
                         "paid_out_needs_manager", limit=money.format_yuan(limit_fen))
    return _move(PAID_OUT, till_id, amount_fen, reason, cashier, manager)


def record_handover(till_id: str, from_cashier, to_cashier) -> Optional[ShiftHandover]:
    """A hand-over (Ctrl+L) inside the open shift; None when the till has no open shift."""
    with write_transaction():
        shift = current_shift(till_id)
        if shift is None:
            return None
        handover = ShiftHandover.create(shift=shift.id, from_cashier=cashier_code(from_cashier),
                                        to_cashier=cashier_code(to_cashier), at=now())
        audit.seal_row(audit.HANDOVER, handover.id, till_id)
        return handover
