"""The event log: exceptions and notable actions, for later analysis.

Printer faults, payment failures, reprints, drawer opens, voids: ``log_event``
appends one event (through ``store.audit.add_event``, which also writes its
audit record).
"""
from __future__ import annotations

from store import audit
from store.cashiers import cashier_code
from store.models import Event

# Event kinds written by the store. Other parts may add their own
# (drawer_open, void, printer_fault, ...).
EVENT_OUTCOME = "outcome"
EVENT_REPRINT = "reprint"
EVENT_PRINT_FAILED = "print_failed"
EVENT_PAYMENT_FAILED = "payment_failed"
# The drawer's shift (store.shifts, store.reports): opened with its float, cash paid in and out, closed by a Z.
EVENT_SHIFT_OPEN = "shift_open"
EVENT_PAID_IN, EVENT_PAID_OUT = "paid_in", "paid_out"
EVENT_Z_CLOSE = "z_close"


def with_manager(detail: str, manager=None) -> str:
    """An event's detail with the manager who allowed it: "1-000007 12.00 坏了 (manager 09)"."""
    code = cashier_code(manager)
    return f"{detail} (manager {code})" if code else detail


def log_event(kind: str, till_id: str, cashier=None, sale=None, printer=None, detail: str = "") -> Event:
    """Append one row to the event log."""
    return audit.add_event(str(till_id), kind, cashier_code(cashier), getattr(sale, "id", sale), printer, detail)
