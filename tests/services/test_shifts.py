"""The shift as the till asks it: float, paid in / out, X, the Z's count and close; a real SQLite file, no screen."""
from __future__ import annotations

import pytest

from store import print_attempts
from store.errors import StoreError
from store.models import CashMove, Shift
from tests.store.helpers import catalogue, ring_up
from tui.services import shifts
from tui.services.shifts import Count

COLA = "6901234567892"


def printed(sale):
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, True)


def test_a_float_counted_per_denomination_opens_the_shift_with_its_pieces(sqlite_database):
    assert shifts.shift_is_open("1") is False
    shift = shifts.open_with_float("1", Count(27000, {10000: 2, 5000: 1, 1000: 2}), "c1")
    assert (shift.number, shift.float_fen, shift.opened_by) == (1, 27000, "c1")
    assert shifts.shift_is_open("1") is True and shifts.shift_is_open("2") is False
    assert Shift.get_by_id(shift.id).float_counts == '{"10000":2,"5000":1,"1000":2}'


def test_a_float_typed_as_one_total_stores_no_pieces(sqlite_database):
    shift = shifts.open_with_float("1", Count(5000), "")
    assert (shift.float_fen, shift.float_counts, shift.opened_by) == (5000, "", "")


def test_a_paid_out_above_the_cashiers_limit_needs_a_manager_and_nothing_else_does():
    assert shifts.paid_out_needs_manager(shifts.PAID_OUT, 20001, 20000) is True
    assert shifts.paid_out_needs_manager(shifts.PAID_OUT, 20000, 20000) is False
    assert shifts.paid_out_needs_manager(shifts.PAID_IN, 99999, 20000) is False


def test_cash_moves_are_recorded_and_a_big_paid_out_without_a_manager_is_refused(sqlite_database):
    shifts.open_with_float("1", Count(50000), "c1")
    paid_in = shifts.record_cash_move("1", shifts.PAID_IN, 10000, "零钱 change", "c1", None, 2000)
    assert (paid_in.kind, paid_in.amount_fen, paid_in.cashier, paid_in.manager) == ("paid_in", 10000, "c1", "")
    with pytest.raises(StoreError) as refused:
        shifts.record_cash_move("1", shifts.PAID_OUT, 3000, "送货 delivery", "c1", None, 2000)
    assert refused.value.code == "paid_out_needs_manager"
    paid_out = shifts.record_cash_move("1", shifts.PAID_OUT, 3000, "送货 delivery", "c1", "M1", 2000)
    assert (paid_out.kind, paid_out.amount_fen, paid_out.manager) == ("paid_out", 3000, "M1")
    assert [(m.kind, m.amount_fen) for m in CashMove.select().order_by(CashMove.id)] == [
        ("paid_in", 10000), ("paid_out", 3000)]
    assert shifts.x_figures("1")["cash"]["expected_fen"] == 50000 + 10000 - 3000


def test_the_z_is_refused_while_a_receipt_is_open_then_starts_from_the_expected_cash(sqlite_database):
    products = catalogue()
    shifts.open_with_float("1", Count(20000), "c1")
    sale = ring_up(products, (COLA, 2000))  # 7.00 in cash
    with pytest.raises(StoreError) as refused:
        shifts.z_figures("1")  # the receipt is still pending
    assert refused.value.code == "z_unresolved_receipt"
    printed(sale)
    assert shifts.z_figures("1")["cash"]["expected_fen"] == 20700


def test_over_short_is_counted_less_expected():
    assert shifts.over_short_fen(20600, 20700) == -100
    assert shifts.over_short_fen(20800, 20700) == 100
    assert shifts.over_short_fen(20700, 20700) == 0


def test_a_count_this_far_from_the_expected_cash_asks_first():
    assert shifts.difference_needs_asking(-5000, 5000) is True
    assert shifts.difference_needs_asking(5000, 5000) is True
    assert shifts.difference_needs_asking(4999, 5000) is False
    assert shifts.difference_needs_asking(-4999, 5000) is False
    assert shifts.difference_needs_asking(-99999, 0) is False  # 0: never asks


def test_the_z_closes_the_shift_on_the_count_one_yuan_short(sqlite_database):
    products = catalogue()
    shifts.open_with_float("1", Count(20000), "c1")
    printed(ring_up(products, (COLA, 2000)))
    z = shifts.close_with_z("1", Count(20600, {10000: 2, 500: 1, 100: 1}), "c1")
    assert (z["z_no"], z["closed_by"], z["till_id"]) == (1, "c1", "1")
    cash = z["figures"]["cash"]
    assert (cash["expected_fen"], cash["counted_fen"], cash["over_short_fen"]) == (20700, 20600, -100)
    assert cash["counts"] == {"10000": 2, "500": 1, "100": 1}
    assert shifts.shift_is_open("1") is False


def test_the_drawer_says_why_it_opens():
    assert shifts.drawer_reason(shifts.OPEN, 20000, shift_number=3) == "shift 3 opened: float 200.00"
    assert shifts.drawer_reason(shifts.PAID_OUT, 2000, "送货") == "paid out 20.00: 送货"
    assert shifts.drawer_reason(shifts.PAID_IN, 5000, "") == "paid in 50.00"
