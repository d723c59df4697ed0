"""Delivery and count files (and one typed delivery line) for store.stock, read as the product import reads CSV.

Every line is checked before anything is written: ``StockFileError`` names each bad line in one sentence.
Its own module because it reuses ``store.catalogue.decode`` (UTF-8, UTF-8 with a BOM, GBK), and store.stock is
imported by the sale's commit and the exports, which the catalogue imports.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from store import money
from store.catalogue import decode
from store.models import Product
from store.stock import CountRow, DeliveryRow, StockError, StockFileError

#: Header names of a delivery or count file, by our column.
HEADERS = {
    "barcode": ("barcode", "code", "条码", "条形码", "商品条码", "编码", "商品编码"),
    "qty": ("qty", "quantity", "数量", "进货数量"),
    "cost": ("cost", "进价", "成本", "单价", "成本价"),
    "supplier": ("supplier", "供应商", "供货商"),
    "counted": ("counted", "count", "盘点数量", "实盘", "实盘数量"),
}


def _problem(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _qty_problem(column: str, text: str, unit: str, allow_zero: bool = False) -> Tuple[Optional[int], str]:
    """(thousandths, "") or (None, the phrase saying what is wrong with ``text``)."""
    cleaned = text.strip()
    if not cleaned:
        return None, f"the {column} is empty"
    if cleaned.startswith("-"):
        return None, f"{column} {cleaned} is negative"
    if cleaned.strip("0.") == "" and cleaned[0].isdigit():
        return (0, "") if allow_zero else (None, f"{column} {cleaned} is zero")
    try:
        qty = money.parse_qty(cleaned)
    except ValueError:
        return None, f"{column} {cleaned!r} is not a number like 24 or 1.5"
    if not money.whole_pieces(unit, qty):
        return None, f"{column} {cleaned} is not a whole number of pieces ({unit or 'no unit'})"
    return qty, ""


def _cost_problem(text: str) -> Tuple[Optional[int], str]:
    cleaned = text.strip()
    if not cleaned:
        return None, "the cost is empty"
    if cleaned.startswith("-"):
        return None, f"cost {cleaned} is negative"
    try:
        return money.parse_yuan(cleaned), ""
    except ValueError:
        return None, f"cost {cleaned!r} is not an amount in yuan like 3.50 (at most two decimals)"


def _product_problem(barcode: str) -> Tuple[Optional[Product], str]:
    code = unicodedata.normalize("NFKC", barcode).strip()
    if not code:
        return None, "the barcode is empty"
    product = Product.get_or_none(Product.barcode == code)
    return product, "" if product is not None else f"no product has the barcode {code}"


def delivery_row(barcode: str, qty_text: str, cost_text: str, supplier: str = "", line_no: int = 0) -> DeliveryRow:
    """One received product from typed text (``--barcode B --qty N --cost C``); StockError naming what is wrong."""
    row, problems = _delivery(line_no, barcode, qty_text, cost_text, supplier)
    if row is None:
        raise StockError(_problem("; ".join(problems)), "stock_bad_delivery", problems=problems)
    return row


def _delivery(line_no: int, barcode: str, qty_text: str, cost_text: str,
              supplier: str) -> Tuple[Optional[DeliveryRow], List[str]]:
    product, problem = _product_problem(barcode)
    problems = [problem] if problem else []
    qty, problem = _qty_problem("qty", qty_text, product.unit if product else "")
    problems += [problem] if problem else []
    cost, problem = _cost_problem(cost_text)
    problems += [problem] if problem else []
    if len(supplier.strip()) > 64:
        problems.append("the supplier is longer than 64 characters")
    if problems or product is None or qty is None or cost is None:
        return None, problems
    return DeliveryRow(line_no, int(product.id), product.barcode, qty, cost, supplier.strip()), []


def _rows(data: bytes, needed: Sequence[str]) -> Iterable[Tuple[int, Dict[str, str]]]:
    """(line number, {column: text}) of a CSV file as shops save it (store.catalogue.decode); the header by name."""
    text, _ = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise StockError(f"The file is empty; it needs the header {','.join(needed)}.", "stock_empty_file")
    columns: Dict[str, int] = {}
    for index, raw in enumerate(header):
        name = unicodedata.normalize("NFKC", raw).strip().lower()
        ours = next((column for column, names in HEADERS.items() if name in names), None)
        if ours is not None:
            columns.setdefault(ours, index)
    missing = [name for name in needed if name not in columns]
    if missing:
        raise StockError(f"Line 1: the header has no {' or '.join(missing)} column; it needs {','.join(needed)}.",
                         "stock_missing_columns", columns=missing)
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield reader.line_num, {name: (cells[index] if index < len(cells) else "")
                                    for name, index in columns.items()}


def read_delivery(data: bytes) -> List[DeliveryRow]:
    """A delivery file (barcode,qty,cost[,supplier]), checked whole: StockFileError naming every bad line."""
    rows, errors = [], []
    for line_no, cells in _rows(data, ("barcode", "qty", "cost")):
        row, problems = _delivery(line_no, cells["barcode"], cells["qty"], cells["cost"], cells.get("supplier", ""))
        if row is None:
            errors.append((line_no, _problem("; ".join(problems))))
        else:
            rows.append(row)
    if errors:
        raise StockFileError(errors)
    if not rows:
        raise StockError("The file has no products to receive.", "stock_empty_file")
    return rows


def read_count(data: bytes) -> List[CountRow]:
    """A count file (barcode,counted), checked whole: StockFileError naming every bad line."""
    rows: List[CountRow] = []
    errors: List[Tuple[int, str]] = []
    seen: Dict[int, int] = {}
    for line_no, cells in _rows(data, ("barcode", "counted")):
        product, problem = _product_problem(cells["barcode"])
        problems = [problem] if problem else []
        counted, problem = _qty_problem("counted", cells["counted"], product.unit if product else "", True)
        problems += [problem] if problem else []
        if product is not None and seen.setdefault(int(product.id), line_no) != line_no:
            problems.append(f"barcode {product.barcode} is already counted on line {seen[int(product.id)]}")
        if problems or product is None or counted is None:
            errors.append((line_no, _problem("; ".join(problems))))
        else:
            rows.append(CountRow(line_no, int(product.id), product.barcode, counted))
    if errors:
        raise StockFileError(errors)
    if not rows:
        raise StockError("The file has no counted products.", "stock_empty_file")
    return rows


