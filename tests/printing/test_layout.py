"""Receipt layout: columns, wrapping, golden files for 58 and 80 mm."""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from printing.layout import YUAN, format_fen, format_qty, layout, text_width, wrap
from printing.receipt import Receipt, ReceiptAdjustment, ReceiptLine, ReceiptPayment
from printing.sample import sample_receipt

GOLDEN = Path(__file__).parent / "golden"


def correction(kind: str, language: str = "zh") -> Receipt:
    """A refund of one of three bottles of receipt 1-000042 (sold 5% off: the refund says its share of the
    discount), or the void of a whole receipt, allowed by the manager 王店长, as paper shows it."""
    cola = ReceiptLine("Coca-Cola 可口可乐 330ml", 1000, 300, 300)
    water = ReceiptLine("农夫山泉饮用天然水 550ml", 3000, 200, 600)
    lines = (replace(cola, discount_fen=15),) if kind == "refund" else (cola, water)
    total = sum(line.amount_fen - line.discount_fen for line in lines)
    payments = (ReceiptPayment("cash", total),) if kind == "refund" else (
        ReceiptPayment("wechat", 500, "4200001234202405011234567890"), ReceiptPayment("cash", total - 500))
    return replace(sample_receipt(language), receipt_no="1-000043", lines=lines, total_fen=total, payments=payments,
                   change_fen=0, discount_fen=0, qr_payload="", kind=kind, original_no="1-000042",
                   reason="瓶子漏了" if kind == "refund" else "收银员扫错了", manager="王店长")

# CHAOYING_UPDATE_GOLDEN=1 rewrites the golden files after a deliberate layout change.
UPDATE = os.environ.get("CHAOYING_UPDATE_GOLDEN") == "1"

def discounted_receipt() -> Receipt:
    """A sale with a line discount, a price override, a basket discount and 抹零, as receipt_for_sale builds it."""
    lines = (
        ReceiptLine("可口可乐 330ml", 1000, 300, 300, "瓶", discount_fen=30, discount_note="10% 临期"),
        ReceiptLine("农夫山泉饮用天然水 550ml", 3000, 180, 540, "瓶", list_price_fen=200, price_note="老顾客"),
        ReceiptLine("散装糖果", 1000, 1237, 1237, "袋", discount_fen=100, discount_note="破损"),
    )
    adjustments = (ReceiptAdjustment("discount", 194, "5% 老顾客"), ReceiptAdjustment("rounding", 3))
    subtotal = sum(line.amount_fen - line.discount_fen for line in lines)
    total = subtotal - sum(a.amount_fen for a in adjustments)
    return Receipt(shop_name="超赢便利店（建国路店）", receipt_no="1-000043", till_id="1", cashier="王小明",
                   sold_at=datetime(2024, 5, 1, 10, 35, 0), lines=lines, total_fen=total,
                   payments=(ReceiptPayment("cash", 2000),), change_fen=2000 - total,
                   discount_fen=sum(a.amount_fen for a in adjustments), adjustments=adjustments)


CASES = {
    "sample_zh_58.txt": (sample_receipt(), 32),
    "sample_zh_80.txt": (sample_receipt(), 48),
    "reprint_zh_58.txt": (sample_receipt(reprint_no=2, reprinted_at=datetime(2024, 5, 2, 9, 15, 0)), 32),
    "reprint_en_80.txt": (sample_receipt("en", reprint_no=1, reprinted_at=datetime(2024, 5, 2, 9, 15, 0)), 48),
    # a print after an interrupted one: 副本 COPY with the original time
    "copy_zh_58.txt": (replace(sample_receipt(), copy=True), 32),
    "copy_en_80.txt": (replace(sample_receipt("en"), copy=True), 48),
    # discounts: a line's own (with why), a price override (with the list price), the basket's and 抹零
    "discount_zh_58.txt": (discounted_receipt(), 32),
    "discount_zh_80.txt": (discounted_receipt(), 48),
    # corrections: 退货 REFUND / 作废 VOID, the original receipt number, the money going back
    "refund_zh_58.txt": (correction("refund"), 32),
    "refund_en_80.txt": (correction("refund", "en"), 48),
    "void_zh_80.txt": (correction("void"), 48),
    "void_en_58.txt": (correction("void", "en"), 32),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout_matches_golden_file(name):
    receipt, columns = CASES[name]
    text = "\n".join(layout(receipt, columns)) + "\n"
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), "golden file %s is missing (run with CHAOYING_UPDATE_GOLDEN=1)" % path
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind, language, label", [("refund", "zh", "授权人"), ("void", "en", "Approved by")])
def test_a_refund_or_void_slip_names_the_manager_who_allowed_it_under_the_reason(kind, language, label):
    paper = layout(correction(kind, language), 32)
    reason = next(i for i, text in enumerate(paper) if text.startswith(("原因", "Reason")))
    assert paper[reason + 1].startswith(label) and paper[reason + 1].endswith("王店长")
    assert not any("王店长" in text for text in layout(replace(correction(kind, language), manager=""), 32))


def test_golden_files_exist_for_both_widths():
    names = {p.name for p in GOLDEN.glob("*.txt")}
    assert {"sample_zh_58.txt", "sample_zh_80.txt"} <= names


def test_text_width_counts_cjk_fullwidth_and_ambiguous_as_two():
    assert text_width("abc") == 3
    assert text_width("可乐") == 4
    assert text_width(YUAN) == 2 and YUAN == "\uffe5"
    assert text_width("×") == 2  # East Asian ambiguous: GB18030 prints it double width
    assert text_width("Ａ") == 2  # fullwidth
    assert text_width("e\u0301") == 1  # combining accent takes no column


def test_money_and_quantity_formats():
    assert [format_fen(f) for f in (0, 5, 350, 123456, -5)] == ["0.00", "0.05", "3.50", "1234.56", "-0.05"]
    assert [format_qty(q) for q in (1000, 3000, 1250, 500, 12345)] == ["1", "3", "1.250", "0.500", "12.345"]


def _mixed_receipt(language="zh"):
    names = [
        "超级无敌特大号家庭装五香麻辣牛肉干（内含12小包）限时特惠",
        "Super Long English Product Name That Never Ends In Any Reasonable Way",
        "混合 Mixed 名称 Name ×2 — 测试",
        "短",
        "Supercalifragilisticexpialidocious_without_any_space_at_all_123",
        "大",
    ]
    lines = tuple(
        ReceiptLine(name=n, qty_milli=q, unit_price_fen=p, amount_fen=(p * q + 500) // 1000)
        for n, q, p in zip(names, (1000, 12345, 3000, 1000, 250, 99000), (99999, 1234, 350, 5, 1000000, 12345678))
    )
    total = sum(line.amount_fen for line in lines)
    return Receipt(
        shop_name="超赢 Chaoying 测试店 with a very long shop name that must wrap somewhere",
        receipt_no="TILL9-000123", till_id="TILL9", cashier="李雷 Li Lei",
        sold_at=datetime(2024, 1, 2, 3, 4, 5), lines=lines, total_fen=total,
        payments=(ReceiptPayment("alipay", total, "2024010222001400000000000000000000123456789"),),
        footer="谢谢惠顾 Thank you for shopping with us, see you again soon", language=language,
    )


@pytest.mark.parametrize("columns", [32, 48])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_long_mixed_names_wrap_and_amounts_stay_in_their_column(columns, language):
    receipt = _mixed_receipt(language)
    lines = layout(receipt, columns)
    for line in lines:
        assert text_width(line) <= columns, (line, text_width(line))
    for item in receipt.lines:
        amount = format_fen(item.amount_fen)
        holders = [line for line in lines if line.endswith(" " + amount) or line == amount]
        assert holders, "amount %s of %r not printed" % (amount, item.name)
        for line in holders:
            assert text_width(line) == columns, "amount not flush right: %r" % line
    total_line = [line for line in lines if line.endswith(YUAN + format_fen(receipt.total_fen))]
    assert total_line and text_width(total_line[0]) == columns
    # the names survive wrapping (modulo the spaces at which they were broken)
    joined = "".join(lines).replace(" ", "")
    for item in receipt.lines:
        assert item.name.replace(" ", "") in joined


def test_short_name_shares_its_line_with_the_numbers():
    receipt = sample_receipt()
    lines = layout(receipt, 48)
    assert any(line.startswith("康师傅红烧牛肉面") and line.endswith("9.00") for line in lines)
    assert any(line.startswith("散装鸡蛋") and "1.250" in line and line.endswith("16.00") for line in lines)


@pytest.mark.parametrize("columns", [32, 48])
def test_quantity_carries_the_unit(columns):
    line = ReceiptLine(name="苹果", qty_milli=1387, unit_price_fen=890, amount_fen=1234, unit="斤")
    bottles = ReceiptLine(name="可乐", qty_milli=3000, unit_price_fen=300, amount_fen=900, unit="瓶")
    receipt = Receipt(shop_name="店", receipt_no="1-000001", till_id="1", cashier="", lines=(line, bottles),
                      sold_at=datetime(2024, 5, 1, 10, 30), total_fen=2134)
    text = "\n".join(layout(receipt, columns))
    assert "1.387斤" in text and "3瓶" in text
    assert all(text_width(row) <= columns for row in text.splitlines())


def test_reprint_mark_shows_number_original_and_reprint_time():
    receipt = sample_receipt(reprint_no=3, reprinted_at=datetime(2024, 6, 1, 8, 0, 0))
    text = "\n".join(layout(receipt, 32))
    assert "补打 REPRINT 3" in text
    assert "2024-05-01 10:30:00" in text and "2024-06-01 08:00:00" in text
    assert "补打" not in "\n".join(layout(sample_receipt(), 32))


def test_english_labels_when_receipt_language_is_en():
    text = "\n".join(layout(sample_receipt("en"), 48))
    for label in ("Item", "Qty", "Price", "Amount", "TOTAL", "Change", "WeChat Pay", "Cash", "Cashier"):
        assert label in text
    assert "合计" not in text and "找零" not in text
    zh = "\n".join(layout(sample_receipt("zh"), 48))
    assert "合计" in zh and "TOTAL" not in zh


def test_payments_show_reference_and_change():
    text = "\n".join(layout(sample_receipt(), 48))
    assert "4200001234202405011234567890" in text
    assert "找零" in text and "3.45" in text


def test_bad_column_count_is_refused():
    with pytest.raises(ValueError):
        layout(sample_receipt(), 40)


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(alphabet=st.sampled_from(list("ab Z9中文字×（）￥ —-é")), min_size=0, max_size=80),
    qty=st.integers(min_value=1, max_value=10 ** 7),
    price=st.integers(min_value=0, max_value=10 ** 9),
    columns=st.sampled_from([32, 48]),
)
def test_any_line_fits_and_its_amount_is_flush_right(name, qty, price, columns):
    amount = (qty * price + 500) // 1000
    receipt = Receipt("店", "1-1", "1", "c", datetime(2024, 1, 1), (ReceiptLine(name, qty, price, amount),), amount)
    lines = layout(receipt, columns)
    assert all(text_width(line) <= columns for line in lines)
    assert any(line.endswith(format_fen(amount)) and text_width(line) == columns for line in lines)


@given(s=st.text(alphabet=st.sampled_from(list("ab 中文×")), max_size=60), width=st.integers(2, 48))
def test_wrap_respects_width_and_keeps_text(s, width):
    pieces = wrap(s, width)
    assert all(text_width(p) <= width for p in pieces)
    assert "".join(pieces).replace(" ", "") == s.replace(" ", "")


@pytest.mark.parametrize("columns", [32, 48])
def test_discounts_add_up_on_paper(columns):
    receipt = discounted_receipt()
    text = layout(receipt, columns)
    assert all(text_width(row) <= columns for row in text)
    subtotal = sum(line.amount_fen - line.discount_fen for line in receipt.lines)
    assert subtotal - sum(a.amount_fen for a in receipt.adjustments) == receipt.total_fen == 1750
    joined = "\n".join(text)
    for said in ("折扣 10% 临期", "-0.30", "改价 老顾客", "原价 2.00", "整单优惠 5% 老顾客", "-1.94", "抹零",
                 "-0.03", "小计", format_fen(subtotal), YUAN + "17.50"):
        assert said in joined, said
    assert "优惠 " not in joined.replace("整单优惠 ", "")  # the adjustments replace the one 优惠 line
