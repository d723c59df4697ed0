"""The owner's view figures: one till's day, or every till's summed; a real SQLite file, no screen."""
from __future__ import annotations

import datetime

from store import print_attempts, reports, shifts
from tests.store.helpers import catalogue, ring_up
from tui.services.figures import add_figures, day_figures, merge_rows, taken_off_fen, tills_that_sold

COLA, APPLE, BAG = "6901234567892", "2001", "42"


def printed(sale):
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, True)


def test_figures_add_numbers_and_dicts_and_merge_rows_by_name():
    one = dict(till_id="1", net_fen=1000, sales=dict(count=2, gross_fen=1200), ok=True, shift=None,
               cashiers=[dict(cashier="c1", count=2, net_fen=1000)])
    two = dict(till_id="2", net_fen=350, sales=dict(count=1, gross_fen=350), ok=False, shift=3,
               cashiers=[dict(cashier="c1", count=1, net_fen=200), dict(cashier="c2", count=1, net_fen=150)])
    total = add_figures(one, two)
    assert total["till_id"] == "1" and total["ok"] is True and total["shift"] == 3  # text and flags: the first
    assert total["net_fen"] == 1350 and total["sales"] == dict(count=3, gross_fen=1550)
    assert total["cashiers"] == [dict(cashier="c1", count=3, net_fen=1200), dict(cashier="c2", count=1, net_fen=150)]
    assert merge_rows([dict(hour="09", net_fen=5)], [dict(hour="10", net_fen=7)]) == [
        dict(hour="09", net_fen=5), dict(hour="10", net_fen=7)]


def test_the_tills_that_sold_on_a_day_always_include_this_one(sqlite_database):
    products = catalogue()
    today = datetime.date.today()
    ring_up(products, (COLA, 1000), till_id="2")
    ring_up(products, (BAG, 1000), till_id="1")
    assert tills_that_sold("3", today) == ["1", "2", "3"]
    assert tills_that_sold("1", today - datetime.timedelta(days=1)) == ["1"]


def test_one_tills_day_or_every_tills_summed_with_the_days_zs(sqlite_database):
    products = catalogue()
    today = datetime.date.today()
    shifts.open_shift("1", 0)
    printed(ring_up(products, (COLA, 2000), till_id="1"))  # 7.00
    printed(ring_up(products, (APPLE, 500), till_id="2", cashier="c2"))  # 6.40
    printed(ring_up(products, (COLA, 1000), till_id="2", cashier="c1"))  # 3.50
    reports.close_z("1", counted_fen=700)
    mine = day_figures("1", today, all_tills=False)
    assert (mine["figures"]["sales"]["count"], mine["figures"]["net_fen"]) == (1, 700)
    assert [(z["till_id"], z["z_no"]) for z in mine["zs"]] == [("1", 1)]
    every = day_figures("1", today, all_tills=True)
    assert (every["figures"]["sales"]["count"], every["figures"]["net_fen"]) == (3, 700 + 640 + 350)
    assert [(c["cashier"], c["net_fen"]) for c in every["figures"]["cashiers"]] == [("c1", 1050), ("c2", 640)]
    assert [(p["name"], p["amount_fen"]) for p in every["figures"]["top_products"]] == [
        ("可口可乐 330ml", 1050), ("苹果", 640)]
    assert (every["day"], every["all_tills"]) == (today, True)
    assert day_figures("1", today - datetime.timedelta(days=1), all_tills=True)["zs"] == []


def test_what_discounts_and_rounding_took_off():
    assert taken_off_fen(dict(discount_fen=120, rounding_fen=30, gross_fen=5000)) == 150
