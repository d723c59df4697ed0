"""Exports an accountant can open: sales, lines and payments of a date range as CSV or XLSX.

Money leaves as yuan with two decimals made from integer fen ("12.30"; in
XLSX an exact decimal number shown 0.00), never through a float. Every text
cell that a spreadsheet would take for a formula (it begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is neutralised with a leading single
quote, the OWASP rule against CSV injection; amounts are numbers and stay as
they are ("-1.00" is a refund, not a formula).

The payments export says what each payment kept apart from what was handed
over and the change (``kept_tendered_change``): its ``kept`` column sums to
the takings the reports give (store.reports), refunds and voids below zero.
"""
from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any, BinaryIO, Callable, Dict, Iterator, List, Sequence, Tuple

from store import money
from store.models import Line, Payment, ReceiptOutcome, Sale
from store.numbering import format_receipt_no
from store.sales import PAYMENT_OK
from store.till_filter import Tills, and_tills

#: What a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
KINDS = ("sales", "lines", "payments", "stock", "moves")

# A column: its header and its kind: text (neutralised), money (fen), qty (thousandths), int, time.
Column = Tuple[str, str]
_CHUNK = 2000


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs: a leading ' before a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unneutralise(text: str) -> str:
    """What ``neutralise`` added, taken off again (an import of our own export reads the original)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


COLUMNS: Dict[str, Sequence[Column]] = {
    "sales": (("receipt", "text"), ("till", "text"), ("sold_at", "time"), ("cashier", "text"),
              ("total", "money"), ("change", "money"), ("receipt_outcome", "text")),
    "lines": (("receipt", "text"), ("sold_at", "time"), ("position", "int"), ("barcode", "text"),
              ("name", "text"), ("unit", "text"), ("unit_price", "money"), ("qty", "qty"), ("amount", "money")),
    # kept: what the payment leaves the shop (cash less its change; a refund's or void's below zero; a failed
    # payment 0), so the column sums to the takings; tendered and change: what was handed over and back
    "payments": (("receipt", "text"), ("kind", "text"), ("sold_at", "time"), ("position", "int"),
                 ("method", "text"), ("kept", "money"), ("tendered", "money"), ("change", "money"),
                 ("reference", "text"), ("status", "text"), ("reason", "text"),
                 # a payment the till charged through WeChat Pay / Alipay: the provider's transaction number
                 # (交易单号) and the till's order number; blank for a typed reference
                 ("transaction", "text"), ("out_trade_no", "text")),
    # store.stock: every product's balance now (the dates are not used), and the stock moves of the range
    "stock": (("barcode", "text"), ("name", "text"), ("unit", "text"), ("on_hand", "qty"), ("min", "text"),
              ("avg_cost", "money"), ("value", "money")),
    "moves": (("id", "int"), ("at", "time"), ("barcode", "text"), ("name", "text"), ("kind", "text"), ("qty", "qty"),
              ("cost", "money"), ("reason", "text"), ("note", "text"), ("document", "text"), ("ref", "text"),
              ("till", "text"), ("cashier", "text"), ("manager", "text")),
}


def kept_tendered_change(kind: str, payments: Sequence[Dict[str, Any]], change_fen: int) -> List[Tuple[int, int, int]]:
    """(kept, tendered, change) in fen for each payment of one document, in its order.

    A sale's change comes out of its cash, the last cash payment first (only
    cash exceeds what is due); money back (a refund, a void) is below zero; a
    failed payment keeps nothing and is tendered as what was asked.
    """
    sign = 1 if kind == "sale" else -1
    out = [(0, pay["amount_fen"], 0) if pay["status"] != PAYMENT_OK else
           (sign * pay["amount_fen"], sign * pay["amount_fen"], 0) for pay in payments]
    left = change_fen if kind == "sale" else 0
    for index in reversed(range(len(payments))):
        pay = payments[index]
        if left <= 0:
            break
        if pay["method"] == "cash" and pay["status"] == PAYMENT_OK:
            given = min(left, pay["amount_fen"])
            out[index] = (pay["amount_fen"] - given, pay["amount_fen"], given)
            left -= given
    return out


def _range_term(start: datetime.date, end: datetime.date) -> Any:
    first = datetime.datetime.combine(start, datetime.time())
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time())
    return (Sale.sold_at >= first) & (Sale.sold_at < after)


def _sales(start: datetime.date, end: datetime.date, tills: Tills = None) -> Iterator[List[dict]]:
    """Sales of the range (of ``tills``: store.till_filter) in (sold_at, id) order, in chunks (bounded memory)."""
    last: Tuple[Any, ...] = ()
    while True:
        query = Sale.select().where(and_tills(_range_term(start, end), Sale.till_id, tills))
        if last:
            sold_at, sale_id = last
            query = query.where((Sale.sold_at > sold_at) | ((Sale.sold_at == sold_at) & (Sale.id > sale_id)))
        chunk = list(query.order_by(Sale.sold_at, Sale.id).limit(_CHUNK).dicts())
        if not chunk:
            return
        yield chunk
        last = (chunk[-1]["sold_at"], chunk[-1]["id"])


def rows(kind: str, start: datetime.date, end: datetime.date, tills: Tills = None) -> Iterator[List[Any]]:
    """Raw cells (text, fen, thousandths, ints, datetimes) of one export of ``tills``, in COLUMNS[kind] order."""
    if kind in ("stock", "moves"):
        from store import stock

        yield from stock.export_rows(kind, start, end, tills)
        return
    for chunk in _sales(start, end, tills):
        ids = [sale["id"] for sale in chunk]
        by_id = {sale["id"]: sale for sale in chunk}
        if kind == "sales":
            outcomes = {o["sale"]: o["state"] for o in ReceiptOutcome.select(ReceiptOutcome.sale, ReceiptOutcome.state)
                        .where(ReceiptOutcome.sale.in_(ids)).dicts()}
            for sale in chunk:
                yield [format_receipt_no(sale["till_id"], sale["receipt_no"]), sale["till_id"], sale["sold_at"],
                       sale["cashier"] or "", sale["total_fen"], sale["change_fen"], outcomes.get(sale["id"], "")]
        elif kind == "lines":
            for line in Line.select().where(Line.sale.in_(ids)).order_by(Line.sale, Line.position).dicts():
                sale = by_id[line["sale"]]
                yield [format_receipt_no(sale["till_id"], sale["receipt_no"]), sale["sold_at"], line["position"],
                       line["barcode"] or "", line["name"], line["unit"] or "", line["unit_price_fen"],
                       line["qty_milli"], line["amount_fen"]]
        elif kind == "payments":
            paid: Dict[int, List[dict]] = {sale_id: [] for sale_id in ids}
            for pay in Payment.select().where(Payment.sale.in_(ids)).order_by(Payment.sale, Payment.position).dicts():
                paid[pay["sale"]].append(pay)
            for sale in chunk:
                pays, kind = paid[sale["id"]], sale["kind"] or "sale"
                amounts = kept_tendered_change(kind, pays, sale["change_fen"] or 0)
                for pay, (kept, tendered, change) in zip(pays, amounts):
                    yield [format_receipt_no(sale["till_id"], sale["receipt_no"]), kind, sale["sold_at"],
                           pay["position"], pay["method"], kept, tendered, change, pay["reference"] or "",
                           pay["status"], pay["reason"] or "",
                           (pay["reference"] or "") if pay["out_trade_no"] else "", pay["out_trade_no"] or ""]
        else:
            raise ValueError(f"unknown export {kind!r}")


def _time_text(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value or "")[:19]


def text_cells(kind: str, raw: Sequence[Any]) -> List[str]:
    """One row as CSV text: yuan with two decimals, qty with three, text neutralised."""
    cells = []
    for (_, column_kind), value in zip(COLUMNS[kind], raw):
        if column_kind == "money":
            cells.append(money.format_yuan(value))
        elif column_kind == "qty":
            cells.append(money.format_qty(value))
        elif column_kind == "int":
            cells.append(str(int(value)))
        elif column_kind == "time":
            cells.append(_time_text(value))
        else:
            cells.append(neutralise(str(value)))
    return cells


def write_csv(out: io.TextIOBase, kind: str, start: datetime.date, end: datetime.date, tills: Tills = None) -> int:
    """Header and rows of one export as CSV; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name for name, _ in COLUMNS[kind]])
    count = 0
    for raw in rows(kind, start, end, tills):
        writer.writerow(text_cells(kind, raw))
        count += 1
    return count


def write_xlsx(out: BinaryIO, kind: str, start: datetime.date, end: datetime.date, tills: Tills = None) -> int:
    """One export as an XLSX sheet (openpyxl, streamed); amounts are exact decimal numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(kind)
    sheet.append([name for name, _ in COLUMNS[kind]])
    makers: Dict[str, Callable[[Any], Any]] = {
        "money": lambda fen: (Decimal(int(fen)).scaleb(-2), "0.00"),
        "qty": lambda milli: (Decimal(int(milli)).scaleb(-3), "0.000"),
        "int": lambda value: (int(value), None),
        "time": lambda value: (_time_text(value), None),
        "text": lambda value: (neutralise(str(value)), None),
    }
    count = 0
    for raw in rows(kind, start, end, tills):
        row = []
        for (_, column_kind), value in zip(COLUMNS[kind], raw):
            shown, number_format = makers[column_kind](value)
            cell = WriteOnlyCell(sheet, value=shown)
            if isinstance(shown, str):
                cell.data_type = "s"  # never a formula, whatever it begins with
            if number_format:
                cell.number_format = number_format
            row.append(cell)
        sheet.append(row)
        count += 1
    book.save(out)
    return count
