"""X and Z report layout: a report's figures (a plain dict, money in fen) as lines for 58 or 80 mm paper.

A Z is not a sale receipt: no items, no barcode; label on the left, figure
flush right, sections between rules. ``encode_report`` makes the ESC/POS job
(GB18030 through ``printing.encode``) that ``printer.send_job`` prints.
"""
from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

from printing.layout import YUAN, center, format_fen, format_qty, left_right

COLUMNS = (32, 48)
#: The tenders in the order the till offers them (a Z read back from its JSON has them sorted by name).
TENDER_ORDER = ("cash", "card", "wechat", "alipay")
#: An amount's column on a line with a count: the counts end in one column, the amounts in another.
AMOUNT_WIDTH = 10

LABELS = {
    "zh": {
        "X": "X 报表（未结班）", "X_no_shift": "X 报表（未开班）", "Z": "Z 报表（结班）",
        "till": "收银台", "shift": "班次", "opened": "开班",
        "printed_at": "打印时间", "closed_by": "结班人", "sales": "销售笔数", "gross": "销售总额",
        "discount": "折扣", "rounding": "抹零", "refunds": "退货", "voids": "作废", "net": "净额",
        "tenders": "支付方式", "cash": "现金", "card": "银行卡", "wechat": "微信支付", "alipay": "支付宝",
        "failed": "失败支付", "drawer": "钱箱", "float": "备用金", "cash_sales": "现金销售",
        "cash_refunds": "现金退货", "cash_voids": "现金作废", "paid_in": "存入", "paid_out": "支出",
        "before_shift": "开班前收的现金", "before_shift_note": "（已点在备用金里）",
        "expected": "应有现金", "counted": "实点现金", "over": "长款", "short": "短款", "blind": "（盲点）",
        "cashiers": "收银员", "hours": "时段", "top": "畅销商品", "receipts": "小票",
        "by_printer": "已打印（打印机确认）", "by_cashier": "已打印（收银员确认）", "reprints": "补打",
        "handwritten": "手写小票", "without_print": "其中未补打正式小票", "e_receipt": "电子小票",
        "declined": "顾客不要", "unresolved": "未解决", "no_sale": "开钱箱（无销售）",
        "cancelled": "取消的购物篮", "handed_back": "退回的付款", "first": "首张单号", "last": "末张单号",
        "head": "流水哈希", "audit_head": "审计链哈希", "count": "笔",
    },
    "en": {
        "X": "X REPORT (shift open)", "X_no_shift": "X REPORT (no shift open)",
        "Z": "Z REPORT (shift closed)", "till": "Till", "shift": "Shift",
        "opened": "Opened", "printed_at": "Printed", "closed_by": "Closed by", "sales": "Sales",
        "gross": "Gross", "discount": "Discounts", "rounding": "Rounded down", "refunds": "Refunds",
        "voids": "Voids", "net": "NET", "tenders": "Tenders", "cash": "Cash", "card": "Card",
        "wechat": "WeChat Pay", "alipay": "Alipay", "failed": "Failed payments", "drawer": "Drawer",
        "float": "Float", "cash_sales": "Cash sales", "cash_refunds": "Cash refunds", "cash_voids": "Cash voids",
        "paid_in": "Paid in", "paid_out": "Paid out",
        "before_shift": "Sold before the shift", "before_shift_note": "(already in the float count)",
        "expected": "Expected cash", "counted": "Counted",
        "over": "Over", "short": "Short", "blind": " (blind)", "cashiers": "Cashiers", "hours": "Hours",
        "top": "Top products", "receipts": "Receipts", "by_printer": "Printed (printer)",
        "by_cashier": "Printed (cashier's word)", "reprints": "Reprints", "handwritten": "Handwritten",
        "without_print": "  still without official print", "e_receipt": "E-receipt", "declined": "Declined",
        "unresolved": "Unresolved", "no_sale": "Drawer opens (no sale)", "cancelled": "Baskets cancelled",
        "handed_back": "Payments handed back", "first": "First receipt", "last": "Last receipt",
        "head": "Journal head", "audit_head": "Audit head", "count": "",
    },
}


def report_lines(figures: Mapping[str, Any], columns: int, kind: str = "Z", z_no: Optional[int] = None,
                 printed_at: str = "", shop_name: str = "", language: str = "zh") -> List[str]:
    """The report as plain text lines (no trailing spaces), each at most ``columns`` wide."""
    if columns not in COLUMNS:
        raise ValueError("report columns must be 32 (58 mm) or 48 (80 mm), not %r" % (columns,))
    labels = LABELS["en" if language == "en" else "zh"]
    rule = "-" * columns
    out: List[str] = []

    def row(label: str, value: Any) -> None:
        out.extend(left_right(label, str(value), columns))

    def money(label: str, fen: int, count: Optional[int] = None) -> None:
        row(label, counted(count, format_fen(fen), labels))

    if shop_name:
        out.extend(center(shop_name, columns))
    if kind == "X" and figures.get("shift") is None:  # no shift open: everything since the last Z
        kind = "X_no_shift"
    title = labels[kind] + (" #%d" % z_no if z_no is not None else "")
    out.extend(center(title, columns))
    out.append(rule)
    row(labels["till"], figures["till_id"])
    if figures.get("shift") is not None:
        row(labels["shift"], figures["shift"])
        row(labels["opened"], figures.get("opened_at") or "")
    if printed_at:
        row(labels["printed_at"], printed_at)
    out.append(rule)
    sales = figures["sales"]
    money(labels["sales"], sales["gross_fen"], sales["count"])
    money(labels["discount"], -sales["discount_fen"])
    money(labels["rounding"], -sales["rounding_fen"])
    money(labels["refunds"], -figures["refunds"]["amount_fen"], figures["refunds"]["count"])
    money(labels["voids"], -figures["voids"]["amount_fen"], figures["voids"]["count"])
    row(labels["net"], YUAN + format_fen(figures["net_fen"]))
    out.append(rule)
    out.append(labels["tenders"])
    tenders = figures["tenders"]
    for method in sorted(tenders, key=lambda m: (TENDER_ORDER.index(m) if m in TENDER_ORDER else len(TENDER_ORDER), m)):
        tender = tenders[method]
        money("  " + labels.get(method, method), tender["amount_fen"], tender["count"])
    failed = figures["failed_payments"]
    money(labels["failed"], failed["amount_fen"], failed["count"])
    out.append(rule)
    out.extend(_cash_lines(figures["cash"], labels, columns))
    out.append(rule)
    out.extend(_breakdown_lines(figures, labels, columns))
    out.append(rule)
    receipts, events = figures["receipts"], figures["events"]
    out.append(labels["receipts"])
    for key, name in (("printed_by_printer", "by_printer"), ("printed_by_cashier", "by_cashier"),
                      ("reprints", "reprints"), ("handwritten", "handwritten"),
                      ("handwritten_without_print", "without_print"), ("e_receipt", "e_receipt"),
                      ("declined", "declined"), ("unresolved", "unresolved")):
        row("  " + labels[name], receipts[key])
    row(labels["no_sale"], events.get("no_sale", 0))
    row(labels["cancelled"], events.get("basket_cancelled", 0))
    row(labels["handed_back"], events.get("payment_handed_back", 0))
    out.append(rule)
    row(labels["first"], figures.get("first_receipt") or "-")
    row(labels["last"], figures.get("last_receipt") or "-")
    out.append(labels["head"])
    head = figures["journal_head"]
    out.extend(head[i:i + columns] for i in range(0, len(head), columns))
    if figures.get("audit_head"):  # the audit chain's head too (outcomes, prints, events, the shift)
        out.append(labels["audit_head"])
        head = figures["audit_head"]
        out.extend(head[i:i + columns] for i in range(0, len(head), columns))
    out.append(rule)
    return [line.rstrip() for line in out]


def counted(count: Optional[int], amount: str, labels: Mapping[str, str]) -> str:
    """A line's right side: "3笔      12.50" (the count, then the amount in its column), or the amount alone."""
    if count is None:
        return amount
    return "%d%s %s" % (count, labels["count"], amount.rjust(AMOUNT_WIDTH))


def _cash_lines(cash: Mapping[str, Any], labels: Mapping[str, str], columns: int) -> List[str]:
    out = [labels["drawer"]]
    pairs: List[Tuple[str, int]] = [
        ("float", cash["float_fen"]), ("cash_sales", cash["sales_fen"]), ("cash_refunds", -cash["refunds_fen"]),
        ("cash_voids", -cash["voids_fen"]), ("paid_in", cash["paid_in_fen"]), ("paid_out", -cash["paid_out_fen"]),
    ]
    if cash.get("before_shift_fen"):  # sold with no shift open: already in the counted float (older Zs: none)
        pairs.append(("before_shift", -cash["before_shift_fen"]))
    pairs.append(("expected", cash["expected_fen"]))
    for name, fen in pairs:
        out.extend(left_right("  " + labels[name], format_fen(fen), columns))
        if name == "float":  # the float as it was counted, when it was counted per denomination
            out.extend(_count_lines(cash.get("float_counts"), columns))
        if name == "before_shift":  # why it is taken off: the drawer held it when the float was counted
            out.append("    " + labels["before_shift_note"])
    if cash.get("counted_fen") is not None:
        out.extend(left_right("  " + labels["counted"], format_fen(cash["counted_fen"]), columns))
        difference = cash["over_short_fen"]
        label = labels["over"] if difference >= 0 else labels["short"]
        out.extend(left_right("  " + label, format_fen(abs(difference)), columns))
    out.extend(_count_lines(cash.get("counts"), columns))
    return out


def _count_lines(counts: Optional[Mapping[str, int]], columns: int) -> List[str]:
    """A count per denomination ({fen: pieces}), one line each, the biggest note first (as the count asks them):
    "    100.00 x 2    200.00". A Z read back from its JSON has them sorted as text: the order is not theirs."""
    out: List[str] = []
    for denomination, pieces in sorted((counts or {}).items(), key=lambda item: -int(item[0])):
        out.extend(left_right("    " + format_fen(int(denomination)) + " x %d" % pieces,
                              format_fen(int(denomination) * int(pieces)), columns))
    return out


def _breakdown_lines(figures: Mapping[str, Any], labels: Mapping[str, str], columns: int) -> List[str]:
    out = [labels["cashiers"]]
    for cashier in figures["cashiers"]:
        out.extend(left_right("  " + (cashier["cashier"] or "-"),
                              counted(cashier["count"], format_fen(cashier["net_fen"]), labels), columns))
    out.append(labels["hours"])
    for hour in figures["hours"]:
        out.extend(left_right("  %s:00" % hour["hour"], counted(hour["count"], format_fen(hour["net_fen"]), labels),
                              columns))
    out.append(labels["top"])
    for product in figures["top_products"]:
        out.extend(left_right("  " + product["name"], "%s  %s" % (
            format_qty(product["qty_milli"]), format_fen(product["amount_fen"])), columns))
    return out


def encode_report(lines: List[str], encoding: str = "gb18030") -> bytes:
    """The ESC/POS job of a report: init, Chinese mode, the lines, feed and cut."""
    from printing.encode import ESC_INIT, FS_KANJI_OFF, FS_KANJI_ON, encode_text, is_cjk_encoding

    cjk = is_cjk_encoding(encoding)
    body = b"".join(encode_text(line, encoding) + b"\n" for line in lines)
    return ESC_INIT + (FS_KANJI_ON if cjk else FS_KANJI_OFF) + body + b"\n\n\n" + b"\x1dV\x00"


def print_report(lines: List[str], config: Any) -> Any:
    """Print a report on ``config``'s printer with the printer's confirmation (a PrintResult; never raises)."""
    from printing.printer import send_job

    return send_job(encode_report(lines, config.encoding), config)
