"""Who may give a discount (store.discounts) and the percent the discount dialog reads (store.money)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from store import money
from store.discounts import NO_LIMITS, approver, over_limit
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
