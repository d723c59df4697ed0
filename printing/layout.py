"""Receipt layout: a receipt value as fixed-width lines for 58 mm (32) or 80 mm (48) paper.

`blocks()` is the single source of truth: text lines with a style, plus the QR
code and barcode positions. `layout()` keeps the text; `encode` adds styles.
"""
from __future__ import annotations

import unicodedata
from typing import List, NamedTuple

from printing.receipt import Receipt, ReceiptLine

YUAN = "\uffe5"  # ￥ FULLWIDTH YEN SIGN, the form Chinese receipts use

LABELS = {
    "zh": {
        "no": "单号", "till": "收银台", "cashier": "收银员", "time": "时间",
        "item": "品名", "qty": "数量", "price": "单价", "amount": "金额",
        "line_discount": "折扣", "subtotal": "小计", "discount": "优惠", "total": "合计",
        "change": "找零", "ref": "参考号", "txn": "交易单号", "tel": "电话", "tax": "税号",
        "original": "原单时间", "reprinted": "补打时间",
        "original_no": "原单号", "no_original": "无原小票", "reason": "原因", "manager": "授权人",
        "refund_total": "退款合计",
        "cash": "现金", "card": "银行卡", "wechat": "微信支付", "alipay": "支付宝",
        "basket_discount": "整单优惠", "rounding": "抹零", "price_changed": "改价", "list_price": "原价",
    },
    "en": {
        "no": "No.", "till": "Till", "cashier": "Cashier", "time": "Time",
        "item": "Item", "qty": "Qty", "price": "Price", "amount": "Amount",
        "line_discount": "Discount", "subtotal": "Subtotal", "discount": "Discount", "total": "TOTAL",
        "change": "Change", "ref": "Ref", "txn": "Txn no.", "tel": "Tel", "tax": "Tax ID",
        "original": "Original", "reprinted": "Reprinted",
        "original_no": "Original no.", "no_original": "no receipt", "reason": "Reason", "manager": "Approved by",
        "refund_total": "REFUND",
        "cash": "Cash", "card": "Card", "wechat": "WeChat Pay", "alipay": "Alipay",
        "basket_discount": "Basket discount", "rounding": "Rounded down", "price_changed": "Price changed",
        "list_price": "was",
    },
}

# (qty, unit price, amount) column widths; the name column takes the rest.
_NUMBER_COLUMNS = {32: (5, 7, 8), 48: (7, 9, 10)}


class Block(NamedTuple):
    """One piece of a receipt: kind is "text" (style normal|bold|total), "qr" or "barcode"."""

    kind: str
    text: str
    style: str = "normal"


def text_width(s: str) -> int:
    """Printed columns of s: CJK, fullwidth and East Asian ambiguous characters take 2."""
    width = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1
    return width


def format_fen(fen: int) -> str:
    """350 -> "3.50", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return "%s%d.%02d" % (sign, fen // 100, fen % 100)


def format_qty(qty_milli: int) -> str:
    """3000 -> "3", 1250 -> "1.250"."""
    sign = "-" if qty_milli < 0 else ""
    q = abs(qty_milli)
    if q % 1000 == 0:
        return "%s%d" % (sign, q // 1000)
    return "%s%d.%03d" % (sign, q // 1000, q % 1000)


def wrap(s: str, width: int) -> List[str]:
    """Split s into pieces of at most width columns, at a space when a Latin word would break."""
    s = " ".join(s.split())
    pieces: List[str] = []
    while text_width(s) > width:
        cut, used = 0, 0
        while cut < len(s) and used + text_width(s[cut]) <= width:
            used += text_width(s[cut])
            cut += 1
        cut = max(cut, 1)
        if cut < len(s) and (s[cut - 1] + s[cut]).isascii() and " " not in s[cut - 1:cut + 1]:
            space = s.rfind(" ", 0, cut)  # do not break a Latin word when a space is near
            if space > 0:
                cut = space
        pieces.append(s[:cut].rstrip())
        s = s[cut:].lstrip()
    if s or not pieces:
        pieces.append(s)
    return pieces


def ljust(s: str, width: int) -> str:
    return s + " " * max(0, width - text_width(s))


def rjust(s: str, width: int) -> str:
    return " " * max(0, width - text_width(s)) + s


def center(s: str, width: int) -> List[str]:
    return [" " * max(0, (width - text_width(p)) // 2) + p for p in wrap(s, width)]


def left_right(left: str, right: str, width: int) -> List[str]:
    """left at the margin, right flush with the right edge; right moves down a line if needed."""
    if not right:
        return wrap(left, width)
    if text_width(left) + 1 + text_width(right) <= width:
        return [ljust(left, width - text_width(right)) + right]
    lines = wrap(left, width) if left else []
    return lines + [rjust(p, width) for p in wrap(right, width)]


def _fmt_time(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


def _item_lines(line: ReceiptLine, columns: int, labels: dict) -> List[str]:
    qw, pw, aw = _NUMBER_COLUMNS[columns]
    nw = columns - qw - pw - aw - 3
    qty = format_qty(line.qty_milli) + line.unit.strip()
    price, amount = format_fen(line.unit_price_fen), format_fen(line.amount_fen)
    out: List[str] = []
    name = " ".join(line.name.split()) or "-"
    if text_width(qty) <= qw and len(price) <= pw and len(amount) <= aw:
        numbers = " ".join((rjust(qty, qw), rjust(price, pw), rjust(amount, aw)))
        if text_width(name) <= nw:
            out.append(ljust(name, nw) + " " + numbers)
        else:
            out.extend(wrap(name, columns))
            out.append(" " * (nw + 1) + numbers)
    else:  # numbers too wide for their columns: keep the amount flush right anyway
        out.extend(wrap(name, columns))
        out.extend(left_right("%s x %s" % (qty, price), amount, columns))
    if line.list_price_fen is not None or line.price_note:  # the amount is at the new price: the old one is said
        listed = "" if line.list_price_fen is None else labels["list_price"] + " " + format_fen(line.list_price_fen)
        out.extend(left_right(_note("  " + labels["price_changed"], line.price_note), listed, columns))
    if line.discount_fen:
        out.extend(left_right(_note("  " + labels["line_discount"], line.discount_note),
                              format_fen(-line.discount_fen), columns))
    return out


def _note(label: str, note: str) -> str:
    return "%s %s" % (label, " ".join(note.split())) if note.strip() else label


def _head(receipt: Receipt, columns: int, labels: dict) -> List[Block]:
    out = [Block("text", p, "bold") for p in center(receipt.shop_name, columns)]
    for text in (
        receipt.shop_address,
        receipt.shop_phone and "%s %s" % (labels["tel"], receipt.shop_phone),
        receipt.shop_tax_id and "%s %s" % (labels["tax"], receipt.shop_tax_id),
        *receipt.header.splitlines(),
    ):
        if text.strip():
            out.extend(Block("text", p) for p in center(text, columns))
    out.append(Block("text", "-" * columns))
    if receipt.reprint_no:
        out.extend(Block("text", p, "bold") for p in center("补打 REPRINT %d" % receipt.reprint_no, columns))
        out.extend(Block("text", p) for p in left_right(labels["original"], _fmt_time(receipt.sold_at), columns))
        if receipt.reprinted_at is not None:
            out.extend(
                Block("text", p) for p in left_right(labels["reprinted"], _fmt_time(receipt.reprinted_at), columns)
            )
        out.append(Block("text", "-" * columns))
    elif receipt.copy:
        out.extend(Block("text", p, "bold") for p in center("副本 COPY", columns))
        out.extend(Block("text", p) for p in left_right(labels["original"], _fmt_time(receipt.sold_at), columns))
        out.append(Block("text", "-" * columns))
    if receipt.money_back:
        out.extend(_correction(receipt, columns, labels))
    for text in left_right(
        "%s %s" % (labels["no"], receipt.receipt_no), "%s %s" % (labels["till"], receipt.till_id), columns
    ):
        out.append(Block("text", text))
    out.extend(Block("text", p) for p in left_right("%s %s" % (labels["cashier"], receipt.cashier), "", columns))
    out.extend(Block("text", p) for p in left_right(labels["time"], _fmt_time(receipt.sold_at), columns))
    return out


MARKS = {"refund": "退货 REFUND", "void": "作废 VOID"}


def _correction(receipt: Receipt, columns: int, labels: dict) -> List[Block]:
    """退货 REFUND / 作废 VOID, the receipt it corrects, why and the manager who allowed it."""
    out = [Block("text", p, "bold") for p in center(MARKS.get(receipt.kind, receipt.kind.upper()), columns)]
    original = receipt.original_no or labels["no_original"]
    out.extend(Block("text", p, "bold") for p in left_right(labels["original_no"], original, columns))
    if receipt.reason.strip():
        out.extend(Block("text", p) for p in left_right(labels["reason"], receipt.reason.strip(), columns))
    if receipt.manager.strip():  # who allowed it, as the event log says
        out.extend(Block("text", p) for p in left_right(labels["manager"], receipt.manager.strip(), columns))
    out.append(Block("text", "-" * columns))
    return out


def _body(receipt: Receipt, columns: int, labels: dict) -> List[Block]:
    qw, pw, aw = _NUMBER_COLUMNS[columns]
    nw = columns - qw - pw - aw - 3
    heading = " ".join(
        (ljust(labels["item"], nw), rjust(labels["qty"], qw), rjust(labels["price"], pw), rjust(labels["amount"], aw))
    )
    out = [Block("text", "-" * columns), Block("text", heading), Block("text", "-" * columns)]
    back = -1 if receipt.money_back else 1  # a refund or void: the amounts go back to the customer
    for line in receipt.lines:
        if back < 0:
            line = ReceiptLine(line.name, line.qty_milli, line.unit_price_fen, -line.amount_fen, line.unit,
                               -line.discount_fen, line.discount_note)
        out.extend(Block("text", p) for p in _item_lines(line, columns, labels))
    out.append(Block("text", "-" * columns))
    if receipt.discount_fen:
        subtotal = receipt.total_fen + receipt.discount_fen
        out.extend(Block("text", p) for p in left_right(labels["subtotal"], format_fen(subtotal), columns))
        adjustments = receipt.adjustments or ()
        for adjustment in adjustments:  # each basket discount and 抹零 on its own line, with why
            label = labels["rounding" if adjustment.kind == "rounding" else "basket_discount"]
            out.extend(Block("text", p) for p in left_right(_note(label, adjustment.note),
                                                            format_fen(-adjustment.amount_fen), columns))
        if not adjustments:
            out.extend(
                Block("text", p) for p in left_right(labels["discount"], format_fen(-receipt.discount_fen), columns)
            )
    total = ("-" if back < 0 else "") + YUAN + format_fen(receipt.total_fen)
    out.extend(
        Block("text", p, "total")
        for p in left_right(labels["refund_total" if back < 0 else "total"], total, columns)
    )
    for payment in receipt.payments:
        label = labels.get(payment.method, payment.method)
        out.extend(Block("text", p) for p in left_right(label, format_fen(back * payment.amount_fen), columns))
        if payment.reference:
            label = labels["txn" if payment.transaction else "ref"]
            out.extend(Block("text", p) for p in left_right(label, payment.reference, columns))
    if back > 0 and (receipt.change_fen or any(p.method == "cash" for p in receipt.payments)):
        out.extend(Block("text", p) for p in left_right(labels["change"], format_fen(receipt.change_fen), columns))
    out.append(Block("text", "-" * columns))
    return out


def blocks(receipt: Receipt, columns: int) -> List[Block]:
    """The receipt as styled text lines plus QR code and barcode positions."""
    if columns not in _NUMBER_COLUMNS:
        raise ValueError("receipt columns must be 32 (58 mm) or 48 (80 mm), not %r" % (columns,))
    labels = LABELS["en" if receipt.language == "en" else "zh"]
    out = _head(receipt, columns, labels) + _body(receipt, columns, labels)
    if receipt.qr_payload:
        out.append(Block("qr", receipt.qr_payload))
    out.append(Block("barcode", receipt.receipt_no))
    for text in receipt.footer.splitlines():
        if text.strip():
            out.extend(Block("text", p) for p in center(text, columns))
    return [b._replace(text=b.text.rstrip()) if b.kind == "text" else b for b in out]


def layout(receipt: Receipt, columns: int) -> List[str]:
    """The receipt as plain text lines (no trailing spaces), each at most `columns` wide."""
    return [b.text for b in blocks(receipt, columns) if b.kind == "text"]
