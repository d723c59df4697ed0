"""Discounts and 抹零: the money rules (hypothesis) and what a sale stores and chains."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from store import journal, money, sales
from store.models import Discount, Line, Sale
from store.sales import Basket, DiscountSpec, SaleError
from tests.store.helpers import catalogue

prices = st.integers(min_value=0, max_value=2_000_000)
qtys = st.integers(min_value=1, max_value=50_000)
specs = st.one_of(
    st.none(),
    st.builds(DiscountSpec, st.just("percent"), st.integers(min_value=0, max_value=10000)),
    st.builds(DiscountSpec, st.just("amount"), st.integers(min_value=0, max_value=5_000_000)),
)


def _product(price: int, n: int = 1):
    return SimpleNamespace(id=n, barcode=str(n), name=f"p{n}", unit="kg", price_fen=price)  # by weight: any fraction


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(prices, qtys, specs, st.one_of(st.none(), prices)), min_size=1, max_size=8),
       specs, st.sampled_from([None, 10, 100]))
def test_money_rules_hold_for_any_basket(items, basket_spec, step):
    basket = Basket()
    for n, (price, qty, spec, override) in enumerate(items):
        index = basket.add(_product(price, n), qty)
        basket.set_line_discount(index, spec)
        if override is not None:
            basket.set_price(index, DiscountSpec("price", override))
    basket.set_discount(basket_spec)
    if step:
        basket.set_rounding(DiscountSpec("round", step))
    lines = basket.lines
    total = basket.total_fen
    assert total >= 0 and all(line.amount_fen >= 0 for line in lines)  # no negative totals
    assert sum(line.amount_fen for line in lines) == total  # line amounts sum to the total
    assert all(line.amount_fen + line.discount_fen == line.gross_fen for line in lines)
    assert basket.discount_fen == sum(line.discount_fen for line in lines) >= 0
    if step:  # 抹零 always rounds down, by less than one step
        before = total + basket.rounding_fen
        assert total % step == 0 and 0 <= basket.rounding_fen < step and total <= before
    assert Basket.from_dict(basket.as_dict()).lines == lines  # the stored form gives the same basket back


def test_rounding_to_jiao_on_12_37():
    basket = Basket()
    basket.add(_product(1237))
    basket.set_rounding(DiscountSpec("round", 10, "抹零"))
    assert (basket.total_fen, basket.rounding_fen) == (1230, 7)
    basket.set_rounding(DiscountSpec("round", 100, "抹零"))
    assert basket.total_fen == 1200


def test_percent_discount_rounds_the_discount_down():
    basket = Basket()
    basket.add(_product(999))
    basket.set_line_discount(0, DiscountSpec("percent", 1000))  # 10% of 9.99 = 0.999
    assert basket.lines[0].discount_fen == 99 and basket.total_fen == 900


def test_bad_discounts_are_refused():
    basket = Basket()
    basket.add(_product(100))
    for bad in (DiscountSpec("percent", 10001), DiscountSpec("percent", -1), DiscountSpec("gift", 1),
                DiscountSpec("amount", 1.5)):  # type: ignore[arg-type]
        with pytest.raises(SaleError):
            basket.set_line_discount(0, bad)
    with pytest.raises(SaleError):
        basket.set_rounding(DiscountSpec("round", 50))


def test_repeated_scan_merges_into_its_line():
    basket = Basket()
    basket.add(_product(350, 1), merge=True)
    basket.add(_product(100, 2), merge=True)
    assert basket.add(_product(350, 1), 2000, merge=True) == 0
    assert [line.qty_milli for line in basket.lines] == [3000, 1000]
    assert basket.add(_product(350, 1)) == 2  # merging off: a line of its own


def test_discounts_are_stored_with_who_and_why_and_chained(database):
    products = catalogue()
    basket = Basket()
    basket.add(products["6901234567892"], 3000)  # 3 x 3.50
    basket.add(products["42"])  # 0.20
    basket.set_line_discount(0, DiscountSpec("percent", 2000, "临期", "c1"))
    basket.set_discount(DiscountSpec("amount", 50, "老顾客", "c1", "m1"))
    basket.set_rounding(DiscountSpec("round", 10, "抹零", "c1"))
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 1000)
    sale = sales.commit_sale(basket, tender, "1", "c1")
    stored = Sale.get_by_id(sale.id)
    assert stored.total_fen == 1050 - 210 + 20 - 50 - 0 and stored.total_fen % 10 == 0
    assert stored.discount_fen == 1070 - stored.total_fen
    lines = list(Line.select().where(Line.sale == sale.id).order_by(Line.position))
    assert sum(line.amount_fen for line in lines) == stored.total_fen
    rows = {(d.line_position, d.kind): (d.amount_fen, d.reason, d.manager) for d in Discount.select()}
    assert rows == {(1, "percent"): (210, "临期", ""), (0, "amount"): (50, "老顾客", "m1"),
                    (0, "round"): (0, "抹零", "")}
    assert journal.verify().ok
    Discount.update(reason="edited").where(Discount.kind == "amount").execute()
    result = journal.verify()
    assert not result.ok and result.bad_receipt_no == 1  # an edited discount is caught


def test_an_edited_line_discount_is_caught(database):
    products = catalogue()
    basket = Basket()
    basket.add(products["6901234567892"])
    basket.set_line_discount(0, DiscountSpec("amount", 50, "破损"))
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 300)
    sales.commit_sale(basket, tender, "1")
    assert journal.verify().ok
    Line.update(discount_fen=0).execute()
    assert not journal.verify().ok


def test_allocate_is_exact():
    assert money.allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert money.allocate(0, [5, 5]) == [0, 0]
    assert money.allocate(7, [0, 0]) == [0, 0]
