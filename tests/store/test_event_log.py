"""The event log tells the drawer's story: the shift opened with its float, cash paid in and out, the Z, and
the manager who allowed each refund and void (issue 23, finding 5)."""
from __future__ import annotations

from store import documents, reports, shifts
from store.models import Event
from tests.store.helpers import catalogue, ring_up


def logged(kind):
    return [(e.cashier, e.detail) for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def test_a_shift_opened_paid_in_paid_out_and_closed_by_a_z_is_four_events(sqlite_database):
    """Open with ¥200, ¥50 change from the bank, ¥80 paid out allowed by a manager, Z counted ¥1 short."""
    shifts.open_shift("1", 20000, cashier="c1")
    shifts.cash_in("1", 5000, "银行换零钱", "c1")
    shifts.cash_out("1", 8000, "送货 delivery", "c1", manager="m9", limit_fen=5000)
    reports.close_z("1", counted_fen=20000 + 5000 - 8000 - 100, cashier="c1")
    assert logged("shift_open") == [("c1", "shift 1, float 200.00")]
    assert logged("paid_in") == [("c1", "50.00 银行换零钱")]
    assert logged("paid_out") == [("c1", "80.00 送货 delivery (manager m9)")]
    assert logged("z_close") == [("c1", "Z 1: expected 170.00, counted 169.00, short 1.00")]


def test_a_z_without_a_count_says_so(sqlite_database):
    shifts.open_shift("1", 0)
    reports.close_z("1")
    assert logged("z_close") == [("", "Z 1: expected 0.00, not counted")]


def test_a_refused_paid_out_logs_nothing(sqlite_database):
    shifts.open_shift("1", 1000)
    try:
        shifts.cash_out("1", 5000, "too much", "c1")
    except shifts.ShiftError:
        pass
    assert logged("paid_out") == []


def test_refund_and_void_events_name_the_manager_who_allowed_them(sqlite_database):
    products = catalogue()
    sold = ring_up(products, ("6901234567892", 2000))
    line = documents.refundable(sold.id)[0]
    documents.commit_refund(sold.id, [(line.line_id, 1000)], "1", "c1", manager="m9", reason="坏了")
    other = ring_up(products)
    documents.commit_void(other.id, "1", "c1", manager="m9", reason="扫错了")
    assert logged("refund") == [("c1", "1-000001 3.50 坏了 (manager m9)")]
    assert logged("void") == [("c1", "1-000003 3.50 扫错了 (manager m9)")]


def test_a_refund_nobody_had_to_allow_names_no_manager(sqlite_database):
    products = catalogue()
    sold = ring_up(products)
    line = documents.refundable(sold.id)[0]
    documents.commit_refund(sold.id, [(line.line_id, 1000)], "1", "c1")
    assert logged("refund") == [("c1", "1-000001 3.50")]


def test_a_refund_without_a_receipt_names_its_manager(sqlite_database):
    from store.sales import Basket, find_product

    catalogue()
    basket = Basket()
    basket.add(find_product("42"), 1000)
    documents.commit_refund_without_receipt(basket, "1", "c1", manager="m9", reason="无小票")
    assert logged("refund") == [("c1", "no receipt 0.20 无小票 (manager m9)")]
