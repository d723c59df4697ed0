"""Who may give a discount (store.discounts) and the percent the discount dialog reads (store.money)."""
from __future__ import annotations

from functools import partial
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from store import money
from store.discounts import NO_LIMITS, amount_stands, approver, over_limit
from store.sales import Basket, DiscountSpec


@pytest.mark.parametrize("spec, base, over", [
    (DiscountSpec("percent", 1000), 300, False),  # 10%: the cashier's own limit
    (DiscountSpec("percent", 1001), 300, True),
    (DiscountSpec("amount", 30), 300, False),  # ¥0.30 of ¥3.00 is 10%
    (DiscountSpec("amount", 31), 300, True),
    (DiscountSpec("amount", 1), 0, True),  # anything off nothing is more than 10% of it
])
def test_a_cashier_gives_up_to_the_limit_measured_on_what_the_discount_applies_to(spec, base, over):
    assert over_limit(spec, base, max_percent=10, price_override=True) is over


def test_a_price_override_needs_a_manager_when_cashiers_may_not_change_prices():
    for price in (100, 300, 500):  # lowered, the same, raised
        assert over_limit(DiscountSpec("price", price), 300, 10, price_override=False)
    # allowed: a lowered price is a discount of the list price, a raised one needs nobody
    assert not over_limit(DiscountSpec("price", 270), 300, 10, price_override=True)
    assert over_limit(DiscountSpec("price", 269), 300, 10, price_override=True)
    assert not over_limit(DiscountSpec("price", 900), 300, 10, price_override=True)


def test_a_manager_selling_or_a_shop_without_cashiers_needs_no_pin(sqlite_database):
    from store.cashiers import add_cashier

    assert approver("") == NO_LIMITS  # no cashiers at all: nobody to ask, nobody to limit
    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")
    assert approver("C1") is None  # ask a manager's PIN
    assert approver("") is None
    assert approver("M1") == "M1"


@given(st.integers(min_value=0, max_value=10000))
def test_percent_text_round_trips(value):
    assert money.parse_percent(money.format_percent(value)) == value
    full_width = money.format_percent(value).translate(str.maketrans("0123456789.%", "０１２３４５６７８９．％"))
    assert money.parse_percent(full_width) == value


@pytest.mark.parametrize("text", ["", "10", "%", "101%", "-5%", "1e2%", "10.001%", "ten%"])
def test_what_is_not_a_percent_is_refused(text):
    with pytest.raises(ValueError):
        money.parse_percent(text)


def _product(price: int, n: int):
    return SimpleNamespace(id=n, barcode=str(n), name=f"p{n}", unit="kg", price_fen=price)  # by weight: any fraction


specs = st.one_of(
    st.none(),
    st.builds(DiscountSpec, st.just("percent"), st.integers(min_value=0, max_value=10000)),
    st.builds(DiscountSpec, st.just("amount"), st.integers(min_value=0, max_value=5_000_000)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2_000_000), st.integers(1, 50_000), specs,
                          st.one_of(st.none(), st.integers(0, 2_000_000))), min_size=1, max_size=6),
       specs, st.sampled_from([None, 10, 100]))
def test_the_stored_discount_rows_say_what_came_off(items, basket_spec, step):
    """What the receipt prints from the Discount rows adds up: the rows' amounts (price changes apart) are
    the basket's discount, and each line's gross plus its price change is its list amount."""
    basket = Basket()
    for n, (price, qty, spec, override) in enumerate(items):
        basket.add(_product(price, n), qty)
        basket.set_line_discount(n, spec)
        if override is not None:
            basket.set_price(n, DiscountSpec("price", override))
    basket.set_discount(basket_spec)
    if step:
        basket.set_rounding(DiscountSpec("round", step))
    rows = basket.discount_rows()
    assert sum(row["amount_fen"] for row in rows if row["kind"] != "price") == basket.discount_fen
    lines = basket.lines
    for row in rows:
        if row["kind"] == "price":
            line = lines[row["line_position"] - 1]
            assert line.gross_fen + row["amount_fen"] == money.line_amount(line.list_price_fen, line.qty_milli)
        elif row["line_position"]:
            assert row["amount_fen"] == lines[row["line_position"] - 1].own_discount_fen
    assert all(row["amount_fen"] >= 0 for row in rows if row["kind"] != "price")


def limit(max_percent):
    """The till's rule for a line's discount when its quantity changes, with the cashier's limit (None: none)."""
    return partial(amount_stands, max_percent=max_percent)


def _cola():
    return SimpleNamespace(id=1, barcode="6901234567892", name="可口可乐", unit="瓶", price_fen=300)


def test_a_smaller_line_takes_off_an_amount_now_above_the_limit_or_the_line():
    basket = Basket()
    basket.add(_cola(), 10_000)  # ¥30.00
    spec = DiscountSpec("amount", 300, "老顾客", "C1")  # ¥3.00 off: 10%, the cashier's limit
    basket.set_line_discount(0, spec)
    assert basket.set_qty(0, 20_000, limit(10)) is None  # more bottles: a smaller share, it stands
    assert basket.set_qty(0, 9_000, limit(10)) == spec  # ¥3.00 of ¥27.00 is above 10%: off, and said
    assert basket.items[0].discount is None and basket.total_fen == 2700

    basket.set_line_discount(0, DiscountSpec("amount", 2000, "破损", "C1", "M1"))  # a manager allowed ¥20 off ¥27
    assert basket.set_qty(0, 5_000) is not None  # above the ¥15.00 line: off, even with no limits (the Basket's own)
    assert basket.total_fen == 1500
    basket.set_line_discount(0, DiscountSpec("percent", 5000))
    assert basket.set_qty(0, 1_000, limit(10)) is None  # a percent scales with its line
    assert basket.total_fen == 150


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=1, max_value=50),
       st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=2_000_000),
       st.one_of(st.none(), st.integers(min_value=0, max_value=100)))
def test_an_amount_discount_stands_after_a_quantity_change_only_if_it_would_be_allowed(price, before, after, off,
                                                                                       max_percent):
    product = SimpleNamespace(id=1, barcode="1", name="p", unit="瓶", price_fen=price)
    basket = Basket()
    basket.add(product, before * 1000)
    old = basket.lines[0].gross_fen
    spec = DiscountSpec("amount", min(off, old))  # as given: never more than the line
    basket.set_line_discount(0, spec)
    dropped = basket.set_qty(0, after * 1000, limit(max_percent))
    line = basket.lines[0]
    new = line.gross_fen
    kept = dropped is None
    assert kept == (basket.items[0].discount == spec) and (dropped in (None, spec))
    assert 0 <= line.amount_fen <= new and line.own_discount_fen <= new  # never a negative line
    if kept:  # a kept discount is whole (never cut down to the line) and would be allowed now, or its share shrank
        assert line.own_discount_fen == spec.value
        assert max_percent is None or new >= old or not over_limit(spec, new, max_percent, False)
    else:  # taken off: it was above the new line, or a larger share than the cashier may give
        assert spec.value > new or (max_percent is not None and new < old and over_limit(spec, new, max_percent, False))
        assert line.own_discount_fen == 0 and line.amount_fen == new
    if after >= before:
        assert kept  # more of the line: the discount's share never grows


def _water():
    return SimpleNamespace(id=2, barcode="6920202888883", name="矿泉水", unit="瓶", price_fen=200)


def test_a_smaller_basket_takes_off_an_amount_off_the_basket_now_above_its_subtotal_or_the_limit():
    basket = Basket()
    basket.add(_cola(), 1_000)
    basket.add(_water(), 1_000)  # ¥5.00
    basket.set_discount(DiscountSpec("amount", 400, "老顾客"))  # ¥4.00 off ¥5.00, no limits (no cashiers)
    before = basket.subtotal_fen
    basket.void(0)  # ¥2.00 left: ¥4.00 off would give the water away
    assert basket.total_fen == 0  # what the basket alone does: it stops at the subtotal ...
    assert basket.recheck_discount(before) == DiscountSpec("amount", 400, "老顾客")  # ... so the till takes it off
    assert basket.discount is None and basket.total_fen == 200

    basket.add(_cola(), 9_000)  # ¥29.00
    basket.set_discount(DiscountSpec("amount", 290, "老顾客", "C1"))  # 10%: the cashier's own limit
    before = basket.subtotal_fen
    basket.set_qty(1, 10_000)  # ¥32.00: a smaller share, it stands
    assert basket.recheck_discount(before, limit(10)) is None
    before = basket.subtotal_fen
    basket.set_qty(1, 5_000)  # ¥17.00: ¥2.90 is above 10% of it
    assert basket.recheck_discount(before, limit(10)) is not None and basket.total_fen == 1700
    basket.set_discount(DiscountSpec("percent", 1000))
    before = basket.subtotal_fen
    basket.void(1)
    assert basket.recheck_discount(before, limit(10)) is None  # a percent scales with the basket
    assert basket.total_fen == 180
