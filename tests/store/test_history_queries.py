"""The till's history search (F9), reprint counts and the event log query (F10), on every backend."""
from __future__ import annotations

import datetime

import pytest

from store import events, print_attempts, queries
from store.cashiers import LockRule, add_cashier, approve
from store.models import Cashier, Sale
from tests.store.helpers import catalogue, ring_up

YESTERDAY = datetime.datetime(2026, 11, 22, 9, 15)


@pytest.fixture
def three_sales(database):
    """Receipts 1-000001 (cola 3.50, yesterday), 1-000002 (2 kg apples 25.60), 2-000001 (a bag, till 2)."""
    products = catalogue()
    cola = ring_up(products)
    Sale.update(sold_at=YESTERDAY).where(Sale.id == cola.id).execute()
    apples = ring_up(products, ("2001", 2000))
    bag = ring_up(products, ("42", 1000), till_id="2")
    return cola, apples, bag


def receipts(text: str):
    return [row["receipt"] for row in queries.search_receipts("1", text)]


@pytest.mark.parametrize("text, expected", [
    ("", ["1-000002", "1-000001"]),
    ("1-000001", ["1-000001"]),
    ("2", ["1-000002"]),
    ("000002", ["1-000002"]),
    ("2-000001", []),               # another till's receipt is not this till's history
    ("2026-11-22", ["1-000001"]),
    ("2026-11-21", []),
    ("3.50", ["1-000001"]),
    ("￥25.6", ["1-000002"]),
    ("0.20", []),                   # the bag was sold on till 2
    ("可乐", ["1-000001"]),
    ("苹", ["1-000002"]),
    ("pingguo", ["1-000002"]),      # pinyin, through the catalogue search
    ("6901234567892", ["1-000001"]),
    ("2026-13-45", []),             # not a day: searched as a product name, found nowhere
    ("￥" + "9" * 5000, []),         # an absurd amount finds nothing, and does not raise
    ("1" * 20 + ".5", []),
])
def test_search_by_number_day_amount_and_product(three_sales, text, expected):
    assert receipts(text) == expected


def test_search_rows_carry_outcome_and_printed_reprints(three_sales):
    cola = three_sales[0]
    attempt = print_attempts.start_printing(cola.id, "main")
    print_attempts.finish_printing(attempt.id, True)
    failed = print_attempts.start_printing(cola.id, "main", reprint=True)
    print_attempts.finish_printing(failed.id, False, "paper_out", "printer out of paper")
    printed = print_attempts.start_printing(cola.id, "main", reprint=True)
    print_attempts.finish_printing(printed.id, True)
    row = queries.search_receipts("1", "3.50")[0]
    assert (row["outcome"], row["reprints"]) == ("printed", 1)  # the failed reprint does not count
    assert queries.reprint_counts([cola.id]) == {cola.id: 1}


def test_event_log_newest_first_with_receipt_numbers(three_sales):
    cola, apples, bag = three_sales
    events.log_event("drawer_open", "1", cashier="c1", sale=cola, printer="main")
    events.log_event("printer_status", "1", printer="main", detail="ready -> paper_near_end")
    events.log_event("drawer_open", "2", cashier="c9", sale=bag, printer="main")
    rows = queries.events("1")
    assert [row["kind"] for row in rows[:2]] == ["printer_status", "drawer_open"]
    assert rows[0]["receipt"] == "" and rows[1]["receipt"] == "1-000001" and rows[1]["cashier"] == "c1"
    assert all(row["till_id"] == "1" for row in rows)
    assert [row["receipt"] for row in queries.events(kinds=["drawer_open"])] == ["2-000001", "1-000001"]


def test_manager_flag_and_manager_pin(database):
    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")
    assert Cashier.get(Cashier.code == "C1").manager is False
    rule = LockRule(5, 10)
    assert approve("M1", "4321", "1", rule).cashier.code == "M1"
    assert approve("C1", "1111", "1", rule).cashier is None  # a cashier's code and PIN are not a manager's
    assert approve("M1", "", "1", rule).cashier is None
    Cashier.update(active=False).where(Cashier.code == "M1").execute()
    assert approve("M1", "4321", "1", rule).cashier is None
