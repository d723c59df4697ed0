"""Check digits, PLUs and label-scale barcodes."""
from __future__ import annotations

import pytest

from store.codes import (
    CodeError,
    ScaleLayout,
    make_scale_label,
    parse_scale_label,
    price_check_digit,
    resolve_code,
    scale_layouts,
)
from store.gs1 import check_digit_ok, check_digit_problem, gs1_check_digit, with_check_digit


@pytest.mark.parametrize("code", [
    "6901234567892",   # EAN-13
    "6902538005141",   # EAN-13 (农夫山泉)
    "96385074",        # EAN-8
    "036000291452",    # UPC-A
    "4006381333931",   # EAN-13 from the GS1 examples
])
def test_real_codes_have_good_check_digits(code):
    assert check_digit_ok(code)
    assert check_digit_problem(code) is None


@pytest.mark.parametrize("code, right", [
    ("6901234567893", "2"),
    ("96385075", "4"),
    ("036000291453", "2"),
])
def test_a_mistyped_code_is_one_sentence_naming_the_right_digit(code, right):
    problem = check_digit_problem(code)
    assert problem is not None and code in problem and f"should be {right}" in problem
    assert "\n" not in problem and ". " not in problem


def test_a_swapped_pair_of_digits_is_caught():
    # the classic scanner-less typo: two neighbours swapped
    assert not check_digit_ok("6901234567982")


@pytest.mark.parametrize("code", ["1", "42", "123456", "ABC-1", "69012345678"])
def test_plus_and_other_codes_have_no_check_digit_to_fail(code):
    assert check_digit_problem(code) is None


def test_with_check_digit_round_trips():
    assert with_check_digit("690123456789") == "6901234567892"
    assert gs1_check_digit("9638507") == 4


def test_price_check_digit_matches_the_gs1_examples():
    assert price_check_digit("2875") == 9
    assert price_check_digit("14685") == 6


# ---------------------------------------------------------------- scale labels

PRICE = ScaleLayout(prefixes=("20", "21"), plu_digits=5, value="price", value_digits=5)
WEIGHT = ScaleLayout(prefixes=("28",), plu_digits=5, value="weight", value_digits=5)
CHECKED = ScaleLayout(prefixes=("22",), plu_digits=5, value="price", value_digits=4, price_check=True)


def test_price_label_reads_plu_and_fen():
    code = make_scale_label("1", 1234, PRICE)
    assert code == "2000001012345"
    label = parse_scale_label(code, [WEIGHT, PRICE])
    assert label == ("00001", "price", 1234)


def test_weight_label_reads_plu_and_grams():
    code = make_scale_label("7", 1385, WEIGHT)
    assert code.startswith("2800007") and parse_scale_label(code, [PRICE, WEIGHT]) == ("00007", "weight", 1385)


def test_price_check_digit_layout():
    code = make_scale_label("12", 2875, CHECKED)
    assert code[7] == "9"  # the price check digit sits before the price
    assert parse_scale_label(code, [CHECKED]).amount == 2875
    bad_price = code[:8] + "2876"
    with pytest.raises(CodeError, match="price check digit"):
        parse_scale_label(with_check_digit(bad_price), [CHECKED])


def test_label_with_a_bad_check_digit_is_refused():
    code = make_scale_label("1", 1234, PRICE)
    with pytest.raises(CodeError, match="check digit"):
        parse_scale_label(code[:-1] + str((int(code[-1]) + 1) % 10), [PRICE])


def test_codes_outside_the_layouts_are_not_labels():
    assert parse_scale_label("6901234567892", [PRICE]) is None
    assert parse_scale_label(make_scale_label("1", 5, WEIGHT), [PRICE]) is None
    assert parse_scale_label("200000101234", [PRICE]) is None  # 12 digits


def test_layout_must_fill_ten_digits():
    with pytest.raises(ValueError):
        ScaleLayout(plu_digits=5, value_digits=4)


def test_scale_layouts_from_settings(tmp_path):
    from tui.settings import load_settings

    path = tmp_path / "s.toml"
    path.write_text('[scale]\nprefixes = ["28"]\nvalue = "weight"\nplu_digits = 4\nvalue_digits = 5\n'
                    'price_check = true\n', encoding="utf-8")
    layouts = scale_layouts(load_settings(path).scale)
    assert layouts == [ScaleLayout(("28",), 4, "weight", 5, True)]
    assert scale_layouts(load_settings(None).scale)[0].prefixes == tuple(str(n) for n in range(20, 30))
    path.write_text("[scale]\nprefixes = []\n", encoding="utf-8")
    assert scale_layouts(load_settings(path).scale) == []


@pytest.mark.parametrize("text, words", [
    ("[scale]\nplu_digits = 4\n", ["line 2", "plu_digits", "10"]),
    ('[scale]\nprefixes = ["30"]\n', ["line 2", "prefixes", "20"]),
    ('[scale]\nvalue = "count"\n', ["line 2", "value", "weight"]),
    ("[scale]\nprice_check = true\n", ["price check", "10"]),
])
def test_bad_scale_settings_are_one_sentence(tmp_path, text, words):
    from tui.settings import SettingsError, load_settings

    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    for word in words:
        assert word in message, message


# ---------------------------------------------------------------- resolve_code on a real catalogue

@pytest.fixture
def products(shop_db):
    from store import catalogue

    catalogue.add_product("6901234567892", "可口可乐 330ml", 300, "瓶")
    catalogue.add_product("036000291452", "Wrigley gum", 500, "包")
    catalogue.add_product("1", "苹果", 890, "斤")
    catalogue.add_product("2", "猪肉", 2600, "kg")
    catalogue.add_product("3", "馒头", 100, "个")
    catalogue.add_product("6902538005141", "农夫山泉 550ml", 200, "瓶")
    catalogue.set_active("6902538005141", False)
    return shop_db


def test_barcode_and_plu_resolve_to_one_piece(products):
    product, qty, amount = resolve_code("6901234567892", [PRICE])
    assert (product.name, qty, amount) == ("可口可乐 330ml", 1000, None)
    assert resolve_code(" 1 ", [PRICE]).product.name == "苹果"


def test_upc_a_and_its_ean13_spelling(products):
    assert resolve_code("0036000291452", []).product.name == "Wrigley gum"


def test_unknown_code_is_none_and_a_mistyped_one_is_an_error(products):
    assert resolve_code("12345", [PRICE]) is None
    assert resolve_code("4006381333931", [PRICE]) is None
    with pytest.raises(CodeError) as caught:
        resolve_code("6901234567893", [PRICE])
    assert "6901234567893" in str(caught.value) and str(caught.value).endswith(".")


def test_inactive_products_are_not_sold(products):
    with pytest.raises(CodeError) as caught:  # not "unknown code": the cashier hears it is no longer sold
        resolve_code("6902538005141", [PRICE])
    assert caught.value.code == "no_longer_sold" and caught.value.values["barcode"] == "6902538005141"
    from store.sales import find_product

    assert find_product("6902538005141") is None


def test_price_label_adds_the_weighed_item_at_the_label_price(products):
    code = make_scale_label("1", 1234, PRICE)      # 苹果 8.90/斤, label says 12.34
    product, qty, amount = resolve_code(code, [PRICE])
    assert product.name == "苹果" and amount == 1234
    assert qty == 1387  # 12.34 / 8.90 = 1.3865 斤, for the receipt
    from store.sales import Basket, SaleError

    basket = Basket()
    basket.add(product, qty, amount_fen=amount)
    assert basket.total_fen == 1234 and basket.lines[0].qty_milli == 1387 and basket.lines[0].unit == "斤"
    with pytest.raises(SaleError):
        basket.add(product, qty, amount_fen=-1)


def test_weight_label_in_grams_becomes_the_product_unit(products):
    jin = resolve_code(make_scale_label("1", 750, WEIGHT), [WEIGHT])
    assert (jin.product.name, jin.qty_milli, jin.amount_fen) == ("苹果", 1500, None)   # 750 g = 1.5 斤
    kg = resolve_code(make_scale_label("2", 1385, WEIGHT), [WEIGHT])
    assert (kg.product.name, kg.qty_milli) == ("猪肉", 1385)                           # 1.385 kg


def test_weight_label_for_a_product_sold_by_the_piece_is_refused(products):
    with pytest.raises(CodeError, match="not by weight"):
        resolve_code(make_scale_label("3", 500, WEIGHT), [WEIGHT])


def test_label_for_an_unknown_plu_names_the_plu(products):
    with pytest.raises(CodeError, match="PLU 00099"):
        resolve_code(make_scale_label("99", 500, PRICE), [PRICE])


def test_a_catalogue_barcode_wins_over_a_scale_layout(products):
    from store import catalogue

    code = make_scale_label("1", 1234, PRICE)
    catalogue.add_product(code, "店内码商品", 999, "个")
    assert resolve_code(code, [PRICE]) == (resolve_code(code, [PRICE]).product, 1000, None)
    assert resolve_code(code, [PRICE]).product.name == "店内码商品"


def test_a_price_label_sale_is_stored_at_the_label_amount(products):
    from store import journal
    from store.models import Line
    from store.sales import Basket, Tender, commit_sale

    found = resolve_code(make_scale_label("1", 1234, PRICE), [PRICE])
    basket = Basket()
    basket.add(found.product, found.qty_milli, amount_fen=found.amount_fen)
    basket.add(resolve_code("6901234567892", [PRICE]).product)
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", 2000)
    sale = commit_sale(basket, tender, "1")
    lines = [(ln.name, ln.qty_milli, ln.unit_price_fen, ln.amount_fen) for ln in Line.select().order_by(Line.position)]
    assert lines == [("苹果", 1387, 890, 1234), ("可口可乐 330ml", 1000, 300, 300)]
    assert sale.total_fen == 1534 and sale.change_fen == 466
    assert journal.verify().ok
