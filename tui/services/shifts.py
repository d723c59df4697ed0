"""The shift at the till as plain rules: the float, cash paid in and out, the X figures, the Z's count and close.

Plain Python, no Textual: tui/screens/shift.py (``ShiftFlows``) asks these
off the UI thread (store work) or on it (rules on values already read) and
says the answers. The store (store.shifts, store.reports) decides and
refuses; this module names what the till asks of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

PAID_IN, PAID_OUT = "paid_in", "paid_out"  # store.shifts' kinds of cash move, as F11's menu names them
OPEN = "open"  # F11's S: the shift opened with its float


@dataclass(frozen=True)
class Count:
    """What the drawer holds: the total, and the pieces per denomination (fen -> pieces; {}: one total typed)."""

    total_fen: int
    pieces: Dict[int, int] = field(default_factory=dict)


def shift_is_open(till_id: str) -> bool:
    """True when the till has an open shift (no float to ask at start); store work."""
    from store.shifts import current_shift

    return current_shift(till_id) is not None


def open_with_float(till_id: str, count: Count, cashier: Optional[str] = None) -> Any:
    """Open the till's shift with the counted float (its pieces stored when counted per denomination); store work."""
    from store.shifts import open_shift

    return open_shift(till_id, count.total_fen, counts=count.pieces or None, cashier=cashier or None)


def drawer_reason(kind: str, amount_fen: int, reason: str = "", shift_number: int = 0) -> str:
    """Why the drawer opens, as the event log says it: the float of a shift just opened, or a paid in / out."""
    from store.money import format_yuan

    if kind == OPEN:
        return f"shift {shift_number} opened: float {format_yuan(amount_fen)}"
    said = f"{kind.replace('_', ' ')} {format_yuan(amount_fen)}"
    return f"{said}: {reason}" if reason else said


def paid_out_needs_manager(kind: str, amount_fen: int, limit_fen: int) -> bool:
    """True when a paid out is above the cashier's limit ([shift] cashier_max_paid_out): a manager's PIN first."""
    return kind == PAID_OUT and amount_fen > limit_fen


def record_cash_move(till_id: str, kind: str, amount_fen: int, reason: str, cashier: Optional[str],
                     manager: Optional[str], limit_fen: int) -> Any:
    """Record a paid in or a paid out (refused above ``limit_fen`` without a manager); store work."""
    from store import shifts

    if kind == PAID_IN:
        return shifts.cash_in(till_id, amount_fen, reason, cashier or None, manager)
    return shifts.cash_out(till_id, amount_fen, reason, cashier or None, manager, limit_fen=limit_fen)


def x_figures(till_id: str) -> Dict[str, Any]:
    """The open shift's figures, as the X report reads them; store work."""
    from store.reports import x_report

    return x_report(till_id)


def z_figures(till_id: str) -> Dict[str, Any]:
    """The figures a Z close starts from; refused (a StoreError) when something is still open; store work."""
    from store.reports import x_report, z_refusal

    z_refusal(till_id)
    return x_report(till_id)


def over_short_fen(counted_fen: int, expected_fen: int) -> int:
    """The drawer's over (above zero) or short (below zero): what was counted less what it should hold."""
    return counted_fen - expected_fen


def difference_needs_asking(over_short: int, ask_difference_fen: int) -> bool:
    """True when a count is so far from the expected cash ([shift] ask_difference_fen; 0: never) that the Z asks."""
    return bool(ask_difference_fen) and abs(over_short) >= ask_difference_fen


def close_with_z(till_id: str, count: Count, cashier: Optional[str] = None) -> Dict[str, Any]:
    """Close the shift with a Z report on the drawer's count; the stored Z as a dict (store.reports.z_dict)."""
    from store.reports import close_z, z_dict

    return z_dict(close_z(till_id, counted_fen=count.total_fen, counts=count.pieces or None, cashier=cashier or None))
