"""The e-receipt QR: the receipt itself as text, drawn with half blocks.

The payload carries shop, number, time, lines and total, so the customer's
phone keeps the receipt with no network. Two QR rows per terminal row (upper
and lower half blocks) keep the modules square on a terminal cell.
"""
from __future__ import annotations

from typing import Any, List

from rich.text import Text

DARK_ON_LIGHT = "#000000 on #ffffff"

LABELS = {
    "zh": {"number": "票号", "time": "时间", "total": "合计", "change": "找零", "items": "件",
           "cash": "现金", "card": "银行卡", "wechat": "微信", "alipay": "支付宝"},
    "en": {"number": "No", "time": "Time", "total": "Total", "change": "Change", "items": "items",
           "cash": "Cash", "card": "Card", "wechat": "WeChat", "alipay": "Alipay"},
}


def qr_payloads(receipt: Any) -> List[str]:
    """The receipt as QR text, from the whole receipt to a summary, for smaller screens."""
    from store.money import format_qty, format_yuan

    words = LABELS.get(receipt.language, LABELS["zh"])
    head = [
        receipt.shop_name,
        f"{words['number']} {receipt.receipt_no}",
        f"{receipt.sold_at:%Y-%m-%d %H:%M}",
    ]
    total = f"{words['total']} \uffe5{format_yuan(receipt.total_fen)}"
    paid = " ".join(f"{words.get(p.method, p.method)} {format_yuan(p.amount_fen)}" for p in receipt.payments)
    if receipt.change_fen:
        paid += f" {words['change']} {format_yuan(receipt.change_fen)}"

    def lines(short: bool) -> List[str]:
        rows = []
        for line in receipt.lines:
            if short:
                name = (line.name.split() or [""])[0][:6]
                qty = "" if line.qty_milli == 1000 else f" x{format_qty(line.qty_milli)}"
                rows.append(f"{name}{qty} {format_yuan(line.amount_fen)}")
            else:
                rows.append(f"{line.name} {format_qty(line.qty_milli)}{line.unit} {format_yuan(line.amount_fen)}")
        return rows

    count = sum(1 for _ in receipt.lines)
    return [
        "\n".join(head + lines(False) + [total, paid]),
        "\n".join(head + lines(True) + [total]),
        "\n".join(head + [f"{count} {words['items']}", total]),
    ]


def qr_payload(receipt: Any) -> str:
    """The whole receipt as QR text."""
    return qr_payloads(receipt)[0]


def fit_qr(receipt: Any, rows: int) -> "tuple[str, List[str], bool]":
    """The fullest payload whose half-block QR fits in rows text rows: (payload, lines, fits)."""
    last = None
    for payload in qr_payloads(receipt):
        for border in (2, 1):
            lines = half_block_lines(qr_matrix(payload, border))
            last = (payload, lines)
            if len(lines) <= rows:
                return payload, lines, True
    assert last is not None  # qr_payloads gives at least the whole receipt
    return last[0], last[1], False


def qr_matrix(payload: str, border: int = 2) -> List[List[bool]]:
    """Modules of the smallest QR (error correction L) holding payload; True = dark."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_L

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_L, border=border)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def half_block_lines(matrix: List[List[bool]]) -> List[str]:
    """Two module rows per text row: upper half, lower half, full or space."""
    glyph = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584", (True, True): "\u2588"}
    rows = list(matrix)
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return [
        "".join(glyph[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1]))
        for i in range(0, len(rows), 2)
    ]


def qr_text(lines: List[str]) -> Text:
    """Half-block lines as a Rich Text: dark modules black on a white ground, whatever the theme."""
    return Text("\n".join(lines), style=DARK_ON_LIGHT, no_wrap=True, overflow="crop")
