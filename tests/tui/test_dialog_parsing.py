"""What the amount dialogs take, without a screen: a discount (percent or amount of a base), a new price,
the shift's cash; everything else is refused with the one sentence the dialog says."""
from __future__ import annotations

import pytest

from tui.i18n import t

BASE = 300  # ¥3.00, a cola


def discount(text: str, what: str = "line", base: int = BASE):
    from tui.screens.discount import discount_spec

    return discount_spec(what, base, text)


def refusal(parse, *args) -> str:
    from tui.screens.ask import Refused

    with pytest.raises(Refused) as refused:
        parse(*args)
    return str(refused.value)


@pytest.mark.parametrize("what", ["line", "basket"])
@pytest.mark.parametrize("typed, kind, value", [
    ("10%", "percent", 1000), ("12.5%", "percent", 1250), ("100%", "percent", 10000),
    ("１０％", "percent", 1000), ("10 ％", "percent", 1000),  # full-width, from a Chinese input method
    ("1.50", "amount", 150), ("３", "amount", 300), ("￥2.5", "amount", 250),  # all of the base will do
])
def test_a_discount_is_a_percent_or_an_amount_of_the_base(what, typed, kind, value):
    from store.sales import DiscountSpec

    assert discount(typed, what) == DiscountSpec(kind, value)


@pytest.mark.parametrize("typed", ["", "0", "0%", "0.00", "０％"])
def test_nothing_or_zero_takes_the_discount_off(typed):
    assert discount(typed) is None


@pytest.mark.parametrize("typed, key", [
    ("120%", "discount.bad_percent"), ("100.01%", "discount.bad_percent"), ("-5%", "discount.bad_percent"),
    ("nan%", "discount.bad_percent"), ("inf%", "discount.bad_percent"), ("%", "discount.bad_percent"),
    ("abc", "discount.bad_amount"), ("nan", "discount.bad_amount"), ("inf", "discount.bad_amount"),
    ("-1", "discount.bad_amount"), ("1e2", "discount.bad_amount"), ("1.005", "discount.bad_amount"),
])
def test_a_discount_that_is_not_one_is_refused_in_one_sentence(typed, key):
    assert refusal(discount, typed) == t(key, text=typed)


def test_a_discount_over_the_base_or_over_the_largest_amount_is_refused():
    from store.money import MAX_FEN, format_yuan

    assert refusal(discount, "3.01") == t("discount.too_much", amount="3.01", base="3.00")
    assert refusal(discount, "5", "basket", 499) == t("discount.too_much", amount="5.00", base="4.99")
    huge = "9" * 20  # shown cut short
    assert refusal(discount, huge) == t("tender.amount_too_large", text=huge[:15] + "…", max=format_yuan(MAX_FEN))


def test_a_new_price_is_any_amount_above_zero_and_the_list_price_takes_the_override_off():
    from store.sales import DiscountSpec

    assert discount("2.50", "price") == DiscountSpec("price", 250)
    assert discount("５", "price") == DiscountSpec("price", 500)  # above the list price will do
    assert discount("3.00", "price") is None and discount("", "price") is None
    assert refusal(discount, "0", "price") == t("discount.price_zero")
    for typed in ("nan", "inf", "10%", "-2", "abc"):
        assert refusal(discount, typed, "price") == t("discount.bad_price", text=typed)


def test_the_shifts_cash_is_yuan_and_zero_only_where_it_is_an_answer():
    from tui.screens.shift import cash_amount

    assert cash_amount("200") == 20000 and cash_amount("２０．５") == 2050 and cash_amount("0") == 0
    assert cash_amount("20", zero=False) == 2000
    assert refusal(cash_amount, "0", False) == t("shift.amount_above_zero")
    for typed in ("", "abc", "nan", "inf", "-5", "1e3", "20.505", "10%"):
        assert refusal(cash_amount, typed) == t("shift.bad_amount", text=typed)


def test_a_quantity_and_a_reason_are_refused_in_one_sentence_too():
    from tui.screens.reason import required
    from tui.screens.sale import typed_qty

    assert typed_qty("2") == 2000 and typed_qty("０.５") == 500
    assert refusal(typed_qty, "abc") == t("sale.bad_quantity", text="abc")
    assert required("broken") == "broken" and refusal(required, "") == t("reason.required")


@pytest.mark.parametrize("typed, value", [("", 0), ("0", 0), ("3", 3), ("３", 3), (" 12 ", 12), ("007", 7),
                                          ("99999", 99999)])
def test_a_rows_pieces_are_a_whole_number_full_width_too(typed, value):
    from tui.screens.count import pieces

    assert pieces(typed) == value


@pytest.mark.parametrize("typed, key", [("abc", "count.bad_pieces"), ("-1", "count.bad_pieces"),
                                        ("1.5", "count.bad_pieces"), ("２張", "count.bad_pieces"),
                                        ("100000", "count.too_many"), ("9" * 10000, "count.too_many")])
def test_pieces_that_are_not_a_number_of_pieces_are_refused_in_one_sentence(typed, key):
    from store.shifts import MAX_PIECES
    from tui.i18n import brief
    from tui.screens.count import pieces

    assert refusal(pieces, typed) == t(key, text=brief(typed), max=MAX_PIECES)
