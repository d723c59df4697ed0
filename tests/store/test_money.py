"""Money rules: parsing, formatting, rounding, and the tender arithmetic (hypothesis)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from store import money
from store.sales import Basket, SaleError, Tender


@pytest.mark.parametrize("text, fen", [
    ("3.5", 350), ("3.50", 350), ("12", 1200), ("0.05", 5), ("0", 0), (" 7.1 ", 710),
    ("￥12.30", 1230), ("３．５", 350), ("12.", 1200),
])
def test_parse_yuan(text, fen):
    assert money.parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "-1", "1.234", "abc", "1,5", "1.2.3", "1e3", "nan", "+1", "1 000"])
def test_parse_yuan_rejects(text):
    with pytest.raises(ValueError):
        money.parse_yuan(text)


@pytest.mark.parametrize("fen, text", [(350, "3.50"), (-5, "-0.05"), (0, "0.00"), (123456, "1234.56"), (-100, "-1.00")])
def test_format_yuan(fen, text):
    assert money.format_yuan(fen) == text


@pytest.mark.parametrize("price, qty, amount", [
    (350, 1000, 350), (1280, 1500, 1920), (999, 333, 333), (1, 500, 1), (1, 499, 0), (-1, 500, -1), (0, 7000, 0),
])
def test_line_amount_rounds_half_up(price, qty, amount):
    assert money.line_amount(price, qty) == amount


def test_qty_parse_and_format():
    assert money.parse_qty("1.5") == 1500
    assert money.parse_qty("2") == 2000
    assert money.format_qty(1500) == "1.5"
    assert money.format_qty(2000) == "2"
    assert money.format_qty(255) == "0.255"
    for bad in ("0", "-1", "1.2345", "x"):
        with pytest.raises(ValueError):
            money.parse_qty(bad)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_format_then_parse_round_trips(fen):
    text = money.format_yuan(fen)
    if fen >= 0 and fen <= money.MAX_FEN:
        assert money.parse_yuan(text) == fen
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2


@given(st.integers(min_value=0, max_value=10**8), st.integers(min_value=1, max_value=10**7))
def test_line_amount_is_nearest_fen(price, qty):
    amount = money.line_amount(price, qty)
    exact_milli = price * qty  # amount in 1/1000 fen
    assert abs(amount * 1000 - exact_milli) <= 500
    assert amount * 1000 - exact_milli != -500  # halves go up


class _P:
    def __init__(self, i, price, unit="kg"):  # weighed: any fraction of it sells
        self.id, self.barcode, self.name, self.unit, self.price_fen = i, str(i), f"p{i}", unit, price


lines_st = st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 50_000)), min_size=1, max_size=12)


@given(lines_st)
def test_basket_total_is_sum_of_lines(items):
    basket = Basket()
    for i, (price, qty) in enumerate(items):
        basket.add(_P(i, price), qty)
    assert basket.total_fen == sum(money.line_amount(p, q) for p, q in items)
    assert basket.total_fen == sum(line.amount_fen for line in basket.lines)


@given(st.integers(1, 10**7), st.integers(0, 10**7))
def test_cash_change_is_tendered_minus_total(total, extra):
    tender = Tender(total)
    tender.add_payment("cash", total + extra)
    assert tender.change_fen == extra
    assert tender.covered and tender.remaining_fen == 0


@settings(max_examples=200)
@given(st.integers(1, 10**6), st.lists(st.tuples(st.sampled_from(["cash", "card", "wechat", "alipay"]),
                                                 st.integers(1, 10**6)), max_size=8),
       st.lists(st.integers(1, 10**6), max_size=3))
def test_split_tenders_add_up_and_change_never_negative(total, attempts, failures):
    tender = Tender(total)
    for amount in failures:
        tender.record_failed("wechat", amount, reason="cancelled")
    for method, amount in attempts:
        before = (tender.paid_fen, tender.remaining_fen)
        try:
            tender.add_payment(method, amount)
        except SaleError:
            assert tender.covered or (method != "cash" and amount > before[1])
            assert (tender.paid_fen, tender.remaining_fen) == before
        assert tender.change_fen >= 0 and tender.remaining_fen >= 0
        assert tender.paid_fen == sum(p.amount_fen for p in tender.payments if p.status == "ok")
        assert tender.paid_fen + tender.remaining_fen - tender.change_fen == total
        if tender.change_fen:
            # change only ever comes out of cash
            assert tender.payments[-1].method == "cash" and tender.change_fen < tender.payments[-1].amount_fen
    assert sum(p.amount_fen for p in tender.failed_payments) == sum(failures)


def test_non_cash_cannot_overpay():
    tender = Tender(1000)
    tender.add_payment("card", 600)
    with pytest.raises(SaleError, match="only cash gives change"):
        tender.add_payment("wechat", 500)
    tender.add_payment("cash", 500)
    assert tender.change_fen == 100


def test_bad_payments_rejected():
    tender = Tender(1000)
    for method, amount in (("bitcoin", 100), ("cash", 0), ("cash", -5), ("cash", 1.5), ("cash", True)):
        with pytest.raises(SaleError):
            tender.add_payment(method, amount)
    assert tender.payments == []


@pytest.mark.parametrize("text, code", [
    ("NaN", "amount_not_yuan"), ("nan", "amount_not_yuan"), ("inf", "amount_not_yuan"),
    ("-inf", "amount_not_yuan"), ("Infinity", "amount_not_yuan"), ("1e309", "amount_not_yuan"),
    ("1e3", "amount_not_yuan"), ("-0", "amount_not_yuan"), ("0x10", "amount_not_yuan"),
    ("٣", "amount_not_yuan"), ("", "amount_not_yuan"), ("[/]", "amount_not_yuan"),
    ("1000000000000", "amount_too_large"), ("100000000.01", "amount_too_large"),
    ("9" * 100_000, "amount_too_large"), ("9" * 100_000 + ".5", "amount_too_large"),
])
def test_parse_yuan_refuses_non_finite_and_absurd_amounts_with_a_code(text, code):
    with pytest.raises(money.AmountError) as refused:
        money.parse_yuan(text)
    assert refused.value.code == code and refused.value.values["text"] == text
    assert isinstance(refused.value, ValueError)  # callers that catch ValueError keep working
    assert len(str(refused.value)) < 120  # a log line, not the typed text at length


@pytest.mark.parametrize("text, fen", [
    ("１８", 1800), ("０．５", 50), ("￥１８", 1800), ("100000000", money.MAX_FEN), ("0" * 5000 + "3", 300),
])
def test_parse_yuan_accepts_full_width_and_leading_zeros(text, fen):
    assert money.parse_yuan(text) == fen


@pytest.mark.parametrize("unit, weighed", [("kg", True), ("KG", True), ("斤", True), ("两", True), ("克", True),
                                          (" 公斤 ", True), ("瓶", False), ("个", False), ("", False),
                                          ("pcs", False)])
def test_sold_by_weight_is_the_unit_being_a_weight(unit, weighed):
    assert money.sold_by_weight(unit) is weighed
    assert money.whole_pieces(unit, 1500) is weighed
    assert money.whole_pieces(unit, 2000)


def test_a_fraction_of_a_piece_is_refused_and_the_basket_stays_as_it_was():
    basket = Basket()
    basket.add(_P(1, 300, unit="瓶"), 2000)
    with pytest.raises(SaleError) as refused:
        basket.add(_P(2, 300, unit="瓶"), 1500)
    assert refused.value.code == "piece_fraction" and refused.value.values["qty"] == "1.5"
    with pytest.raises(SaleError):
        basket.set_qty(0, 500)
    assert [(line.qty_milli, line.amount_fen) for line in basket.lines] == [(2000, 600)]
    basket.add(_P(3, 890, unit="斤"), 1500)  # weighed: 1.5 斤
    basket.add(_P(4, 300, unit="瓶"), 1333, amount_fen=400)  # a price label's derived quantity
    assert basket.total_fen == 600 + 1335 + 400


@pytest.mark.parametrize("text, plain", [("３＊6901234567892", "3*6901234567892"), ("１．５", "1.5"),
                                         ("１。５", "1.5"), ("ｋｅｋｏｕ", "kekou"), ("可口可乐", "可口可乐"),
                                         ("１２３４", "1234")])
def test_typed_text_from_a_chinese_input_method_becomes_ascii(text, plain):
    assert money.typed(text) == plain
