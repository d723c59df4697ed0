"""Stock (库存): append-only moves, a balance per product kept with each move, receiving, stocktakes, the owner's view.

One rule for quantities: a move's ``qty_milli`` is in thousandths of the product's unit, exactly as a sale's
line counts it (1000 = one piece, or one kg: a kg product moves in grams). Costs are fen per unit (per piece,
per kg), the moving average on receipt, rounded half up.

Every move is one ``stock_move`` row sealed in its till's audit chain (``audit.STOCK_MOVE``) and applied to the
product's ``stock_balance`` row in the same transaction; selling reads one balance row by primary key, never
history. ``check_balances`` recomputes the balances from the moves (``journal verify --full``).

Public API (the till's screens and the CLI call these; the errors are ``StockError`` with a code and values):

- reading: ``on_hand(product_id) -> int``, ``on_hand_many(product_ids) -> {id: qty_milli}``,
  ``balance(product_id) -> Optional[Balance]``, ``find(barcode) -> Product`` (StockError when unknown);
- the sale hook: ``moves_for_document(database, document_id, kind, till_id, cashier, lines, at, head) -> head``
  (store.sales.commit_document; a refund line's ``restock`` False: back, then written off as damaged: the
  refund's API is ``documents.commit_refund(sale_id, [(line_id, qty_milli, restock), ...], ...)``, restock
  True when left out, and ``commit_refund_without_receipt(..., restock=True)``);
- receiving: ``receive(rows, till_id, cashier="", ref="") -> int`` (moves written), the rows from
  ``store.stock_files``: ``read_delivery(data) -> List[DeliveryRow]`` (StockFileError naming every bad line) or
  ``delivery_row(barcode, qty_text, cost_text, supplier="") -> DeliveryRow`` (a scan, a typed line);
- adjusting: ``adjust(barcode, qty_milli, reason, till_id, cashier="", note="") -> int`` (the move's id),
  ``set_min(barcode, qty_milli or None)``, ``set_mins([(barcode, qty_milli)])`` (products import's
  min_stock), ``parse_signed_qty(text) -> int``;
- stocktake: ``start_count(till_id, cashier="", whole=False) -> CountInfo``,
  ``count_line(count_id, barcode, counted_milli, cashier="") -> CountLineInfo``,
  ``count_lines(count_id) -> List[CountLineInfo]`` (the standing line per product),
  ``apply_count(count_id, till_id, manager) -> List[CountResult]``, ``stock_files.read_count(data) -> List[CountRow]``,
  ``count_file(rows, till_id, cashier, manager, whole=False) -> (CountInfo, List[CountResult])``,
  ``open_count(till_id) -> Optional[CountInfo]``, ``count_name(till_id, number) -> str``;
- the owner's view: ``list_stock(low=False) -> List[Balance]``, ``low_stock()``, ``stock_value() -> int``,
  ``moves(barcode=None, start=None, end=None, limit=None) -> List[dict]``, ``day_margin(day) -> Margin``,
  ``check_balances() -> List[str]`` (one sentence per product whose balance disagrees with its moves),
  ``export_rows(kind, start, end)`` (store.export's ``stock`` and ``moves``).

Error codes are ``stock_*`` (tui.errors says them from ``error.<code>``): stock_unknown_barcode (barcode),
stock_bad_qty (qty), stock_bad_reason (reason), stock_needs_note, stock_bad_count (qty), stock_no_such_count,
stock_count_applied (count), stock_count_needs_manager, stock_bad_delivery (problems), stock_bad_lines (lines;
StockFileError.errors), stock_empty_file, stock_missing_columns (columns).
"""
from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import peewee

from store import audit, money
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import Product, Sale, StockBalance, StockCount, StockCountLine, StockMove, now
from store.till_filter import and_tills

SALE, REFUND, VOID = "sale", "refund", "void"
RECEIVED, COUNTED, ADJUSTED = "received", "counted", "adjusted"
KINDS = (SALE, REFUND, VOID, RECEIVED, COUNTED, ADJUSTED)
#: Why an adjustment: 报损, 丢失, 自用, 赠送, other (with a note).
DAMAGED, LOST, OWN_USE, GIVEN, OTHER = "damaged", "lost", "own_use", "given", "other"
REASONS = (DAMAGED, LOST, OWN_USE, GIVEN, OTHER)
#: The sign a document's line moves stock by.
_DOCUMENT_SIGN = {SALE: -1, REFUND: 1, VOID: 1}
OPEN, APPLIED = "open", "applied"


class StockError(StoreError, ValueError):
    """A stock change that cannot be made as asked: one sentence, a code and its values."""


class StockFileError(StockError):
    """A delivery or count file with bad lines: ``errors`` (line, one sentence each); nothing was written."""

    def __init__(self, errors: List[Tuple[int, str]]) -> None:
        super().__init__(" ".join(f"Line {line}: {text}" for line, text in errors), "stock_bad_lines",
                         lines=[line for line, _ in errors])
        self.errors = errors


@dataclass(frozen=True)
class Balance:
    product_id: int
    barcode: str
    name: str
    unit: str
    on_hand_milli: int
    avg_cost_fen: int
    min_milli: Optional[int]

    @property
    def value_fen(self) -> int:
        """On hand at moving average cost (nothing for none or less)."""
        return money.line_amount(self.avg_cost_fen, self.on_hand_milli) if self.on_hand_milli > 0 else 0

    @property
    def low(self) -> bool:
        """At or below its threshold."""
        return self.min_milli is not None and self.on_hand_milli <= self.min_milli


@dataclass(frozen=True)
class DeliveryRow:
    line_no: int
    product_id: int
    barcode: str
    qty_milli: int
    cost_fen: int
    supplier: str = ""


@dataclass(frozen=True)
class CountRow:
    line_no: int
    product_id: int
    barcode: str
    counted_milli: int


@dataclass(frozen=True)
class CountInfo:
    id: int
    till_id: str
    number: int
    whole: bool
    state: str

    @property
    def name(self) -> str:
        return count_name(self.till_id, self.number)


@dataclass(frozen=True)
class CountLineInfo:
    product_id: int
    barcode: str
    name: str
    unit: str
    counted_milli: int
    expected_milli: int  # on hand when it was counted

    @property
    def difference_milli(self) -> int:
        return self.counted_milli - self.expected_milli


@dataclass(frozen=True)
class CountResult:
    product_id: int
    barcode: str
    name: str
    counted_milli: int
    difference_milli: int  # the counted move (0: none written)


@dataclass(frozen=True)
class Margin:
    sales_fen: int  # sales less refunds and voids, at price
    cost_fen: int  # what those goods cost (the moves' cost)
    margin_fen: int


def count_name(till_id: str, number: int) -> str:
    """A stocktake's printed number: its till and four digits, "1-0003" (its own counter, not a receipt's)."""
    return f"{till_id}-{int(number):04d}"


# ---------------------------------------------------------------- reading


def on_hand(product_id: int) -> int:
    """A product's on hand (thousandths of its unit): one balance row by primary key; 0 when it has none."""
    row = db.obj.execute_sql(_read_sql(db.obj), (int(product_id),)).fetchone()
    return int(row[0]) if row else 0


def on_hand_many(product_ids: Iterable[int]) -> Dict[int, int]:
    """On hand of each product (a search's results): {product id: qty_milli}, 0 for those without stock."""
    ids = [int(i) for i in product_ids]
    found = {pid: 0 for pid in ids}
    for start in range(0, len(ids), 500):
        query = (StockBalance.select(StockBalance.product, StockBalance.on_hand_milli)
                 .where(StockBalance.product.in_(ids[start:start + 500])).tuples())
        found.update({int(pid): int(qty) for pid, qty in query})
    return found


def balance(product_id: int) -> Optional[Balance]:
    """A product's balance with its name (None for an unknown product)."""
    rows = _balances(Product.id == int(product_id))
    return rows[0] if rows else None


def find(barcode: str) -> Product:
    """The product with this barcode (active or not: stock of a retired product still counts)."""
    code = unicodedata.normalize("NFKC", barcode or "").strip()
    product = Product.get_or_none(Product.barcode == code) if code else None
    if product is None:
        raise StockError(f"No product has the barcode {code}.", "stock_unknown_barcode", barcode=code)
    return product


def _balances(where: Any) -> List[Balance]:
    query = (Product.select(Product.id, Product.barcode, Product.name, Product.unit, StockBalance.on_hand_milli,
                            StockBalance.avg_cost_fen, StockBalance.min_milli)
             .join(StockBalance, peewee.JOIN.LEFT_OUTER, on=(StockBalance.product == Product.id))
             .where(where).order_by(Product.barcode).tuples())
    return [Balance(int(pid), barcode, name, unit or "", int(qty or 0), int(cost or 0),
                    None if low is None else int(low))
            for pid, barcode, name, unit, qty, cost, low in query]


# ---------------------------------------------------------------- writing one move

_statements: Dict[tuple, Tuple[str, str, str, str]] = {}


def _sql(database: peewee.Database) -> Tuple[str, str, str, str]:
    """(read balance, insert balance, update balance, insert move) for this dialect: a sale runs them per line."""
    key = (type(database), database.param, database.quote, database.returning_clause)
    found = _statements.get(key)
    if found is None:
        def q(identifier: str) -> str:
            return database.quote[0] + identifier + database.quote[1]

        p, bal, mov = database.param, q(StockBalance._meta.table_name), q(StockMove._meta.table_name)
        read = f"SELECT {q('on_hand_milli')}, {q('avg_cost_fen')} FROM {bal} WHERE {q('product_id')} = {p}"
        if not is_sqlite(database):
            read += " FOR UPDATE"
        # two tills' first moves of one product (PostgreSQL): the second waits, then finds the row
        insert_balance = (f"INSERT INTO {bal} ({q('product_id')}, {q('on_hand_milli')}, {q('avg_cost_fen')}, "
                          f"{q('last_move')}) VALUES ({p}, 0, 0, 0) ON CONFLICT DO NOTHING")
        update = (f"UPDATE {bal} SET {q('on_hand_milli')} = {p}, {q('avg_cost_fen')} = {p}, {q('last_move')} = {p} "
                  f"WHERE {q('product_id')} = {p}")
        columns = ", ".join(q(StockMove._meta.fields[name].column_name) for name in audit.FIELDS[audit.STOCK_MOVE])
        insert = f"INSERT INTO {mov} ({columns}) VALUES ({', '.join([p] * len(audit.FIELDS[audit.STOCK_MOVE]))})"
        if database.returning_clause:
            insert += f" RETURNING {q('id')}"
        found = _statements[key] = (read, insert_balance, update, insert)
    return found


_reads: Dict[tuple, str] = {}


def _read_sql(database: peewee.Database) -> str:
    """A balance's on hand by primary key, without the lock a move takes (PostgreSQL: no FOR UPDATE)."""
    key = (type(database), database.param, database.quote)
    if key not in _reads:
        _reads[key] = _sql(database)[0].replace(" FOR UPDATE", "")
    return _reads[key]


def moving_average(on_hand_milli: int, avg_cost_fen: int, qty_milli: int, cost_fen: int) -> int:
    """The average unit cost after receiving ``qty_milli`` at ``cost_fen`` (from none or less: the new cost)."""
    if on_hand_milli <= 0:
        return cost_fen
    total = on_hand_milli + qty_milli
    return (on_hand_milli * avg_cost_fen + qty_milli * cost_fen + total // 2) // total


def _move(database: peewee.Database, product_id: int, kind: str, qty_milli: int, till_id: str,
          at: datetime.datetime, head: Optional[Tuple[int, str]] = None, cost_fen: Optional[int] = None,
          **extra: Any) -> Tuple[int, Tuple[int, str]]:
    """Write one move, apply it to the balance and seal it (inside the caller's transaction); (move id, new head).

    ``cost_fen``: a receipt's unit cost (the average moves); other moves carry the average as it stands.
    """
    read, insert_balance, update, insert = _sql(database)
    row = database.execute_sql(read, (product_id,)).fetchone()
    if row is None:
        database.execute_sql(insert_balance, (product_id,))
        row = database.execute_sql(read, (product_id,)).fetchone()
    held, average = int(row[0]), int(row[1])
    if cost_fen is not None:
        average = moving_average(held, average, qty_milli, cost_fen)
    values = dict(product=product_id, kind=kind, qty_milli=int(qty_milli),
                  cost_fen=average if cost_fen is None else int(cost_fen), reason=extra.get("reason", ""),
                  note=extra.get("note", ""), document=extra.get("document"), count=extra.get("count"),
                  ref=extra.get("ref", ""), till_id=str(till_id), at=audit.hashed_value(at),
                  cashier=(extra.get("cashier") or "")[:16], manager=(extra.get("manager") or "")[:16])
    params = [values[name] for name in audit.FIELDS[audit.STOCK_MOVE]]
    content = audit.dumps(params)  # audit.row_content's text: every value already as it is hashed
    if not is_sqlite(database):
        params[audit.FIELDS[audit.STOCK_MOVE].index("at")] = at
    cursor = database.execute_sql(insert, params)
    move_id = cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid
    database.execute_sql(update, (held + int(qty_milli), average, move_id, product_id))
    head = audit.append(database, str(till_id), audit.STOCK_MOVE, move_id, content, head)
    return move_id, head


def moves_for_document(database: peewee.Database, document_id: int, kind: str, till_id: str, cashier: str,
                       lines: Sequence[Mapping[str, Any]], at: datetime.datetime,
                       head: Tuple[int, str]) -> Tuple[int, str]:
    """A sale's, refund's or void's moves, in its own transaction (store.sales.commit_document); the new head.

    A sale takes its lines off the shelf, a void puts them back. A refund line comes back on the shelf, or,
    with ``restock`` False (damaged), comes back and is written off at once (adjusted, damaged): on hand stays,
    and the history says why.
    """
    sign = _DOCUMENT_SIGN.get(kind)
    if sign is None:
        return head
    for line in lines:
        product = line.get("product")
        if product is None or not int(line["qty_milli"]):
            continue  # a line of no product (typed by hand): nothing on a shelf
        qty = sign * int(line["qty_milli"])
        _, head = _move(database, int(product), kind, qty, till_id, at, head, document=document_id, cashier=cashier)
        if kind == REFUND and not line.get("restock", True):
            _, head = _move(database, int(product), ADJUSTED, -qty, till_id, at, head, document=document_id,
                            cashier=cashier, reason=DAMAGED, note="refund")
    return head


def _write(product_id: int, kind: str, qty_milli: int, till_id: str, **extra: Any) -> int:
    """One move in its own transaction (receiving, adjusting): its id."""
    with write_transaction():
        move_id, _ = _move(db.obj, product_id, kind, qty_milli, till_id, now(), **extra)
    return move_id


# ---------------------------------------------------------------- receiving, adjusting, thresholds


def receive(rows: Sequence[DeliveryRow], till_id: str, cashier: str = "", ref: str = "") -> int:
    """进货: each row one received move at its cost (the average moves), all in one transaction; how many."""
    with write_transaction():
        at = now()
        for row in rows:
            _move(db.obj, row.product_id, RECEIVED, row.qty_milli, till_id, at, cost_fen=row.cost_fen,
                  ref=(ref or "")[:64], note=row.supplier, cashier=cashier)
    return len(rows)


def parse_signed_qty(text: str) -> int:
    """"-2", "+1.5", "3" as signed thousandths; StockError unless a number other than zero."""
    cleaned = money.typed(text or "").strip()
    sign = -1 if cleaned.startswith("-") else 1
    try:
        return sign * money.parse_qty(cleaned.lstrip("+-"))
    except ValueError:
        raise StockError(f"Quantity {text!r} is not a number like -2 or 1.5 (other than zero).", "stock_bad_qty",
                         qty=text) from None


def adjust(barcode: str, qty_milli: int, reason: str, till_id: str, cashier: str = "", note: str = "") -> int:
    """An adjustment with its reason (报损 damaged, 丢失 lost, 自用 own_use, 赠送 given, other + note); the move id."""
    product = find(barcode)
    if reason not in REASONS:
        raise StockError(f"Reason {reason!r} is not one of {', '.join(REASONS)}.", "stock_bad_reason", reason=reason)
    if reason == OTHER and not (note or "").strip():
        raise StockError("An adjustment for another reason needs a note saying why.", "stock_needs_note")
    if not qty_milli or not money.whole_pieces(product.unit, qty_milli):
        raise StockError(f"{product.name} is counted by the piece: {money.format_qty(qty_milli)} is not a whole "
                         f"number other than zero.", "stock_bad_qty", qty=money.format_qty(qty_milli))
    return _write(int(product.id), ADJUSTED, qty_milli, till_id, reason=reason, note=(note or "").strip()[:255],
                  cashier=cashier)


def set_min(barcode: str, qty_milli: Optional[int]) -> None:
    """A product's low-stock threshold (None: none); not a move."""
    product = find(barcode)
    with write_transaction():
        StockBalance.insert(product=product.id).on_conflict_ignore().execute()
        StockBalance.update(min_milli=qty_milli).where(StockBalance.product == product.id).execute()


def set_mins(pairs: Sequence[Tuple[str, int]]) -> None:
    """Thresholds of many products (a product import's min_stock column), 100 per short transaction."""
    for start in range(0, len(pairs), 100):
        chunk = dict(pairs[start:start + 100])
        with write_transaction():
            ids = dict(Product.select(Product.barcode, Product.id).where(Product.barcode.in_(list(chunk))).tuples())
            for barcode, qty in chunk.items():
                StockBalance.insert(product=ids[barcode]).on_conflict_ignore().execute()
                StockBalance.update(min_milli=qty).where(StockBalance.product == ids[barcode]).execute()


# ---------------------------------------------------------------- stocktake


def _count_info(row: StockCount) -> CountInfo:
    return CountInfo(int(row.id), row.till_id, int(row.number), bool(row.whole), row.state)


def start_count(till_id: str, cashier: str = "", whole: bool = False) -> CountInfo:
    """A new stocktake under the till's next count number (its own gapless counter)."""
    till_id = str(till_id)
    with write_transaction():
        last = (StockCount.select(peewee.fn.MAX(StockCount.number)).where(StockCount.till_id == till_id).scalar()
                or 0)
        row = StockCount.create(till_id=till_id, number=int(last) + 1, started_at=now(), cashier=(cashier or "")[:16],
                                whole=1 if whole else 0, state=OPEN)
        audit.seal_row(audit.STOCK_COUNT, row.id, till_id)
    return _count_info(row)


def open_count(till_id: str) -> Optional[CountInfo]:
    """The till's newest count still open, or None."""
    row = (StockCount.select().where((StockCount.till_id == str(till_id)) & (StockCount.state == OPEN))
           .order_by(StockCount.number.desc()).first())
    return _count_info(row) if row is not None else None


def _open(count_id: int) -> StockCount:
    row = StockCount.get_or_none(StockCount.id == int(count_id))
    if row is None:
        raise StockError("That stocktake does not exist.", "stock_no_such_count")
    if row.state != OPEN:
        raise StockError(f"Stocktake {count_name(row.till_id, row.number)} was already applied.", "stock_count_applied",
                         count=count_name(row.till_id, row.number))
    return row


def count_line(count_id: int, barcode: str, counted_milli: int, cashier: str = "") -> CountLineInfo:
    """One product counted, as of now: the balance's on hand now is what it is held against (sales after it stay)."""
    product = find(barcode)
    if counted_milli < 0 or not money.whole_pieces(product.unit, counted_milli):
        raise StockError(f"{product.name}: {money.format_qty(counted_milli)} is not a count (a whole number of "
                         f"pieces, zero or more).", "stock_bad_count", qty=money.format_qty(counted_milli))
    with write_transaction():
        count = _open(count_id)
        expected = on_hand(int(product.id))
        line = StockCountLine.create(count=count.id, product=product.id, counted_milli=int(counted_milli),
                                     expected_milli=expected, counted_at=now(), cashier=(cashier or "")[:16])
        audit.seal_row(audit.STOCK_COUNT_LINE, line.id, count.till_id)
    return CountLineInfo(int(product.id), product.barcode, product.name, product.unit or "", int(counted_milli),
                         expected)


def count_lines(count_id: int) -> List[CountLineInfo]:
    """The standing line of each product counted (the newest of a product counted twice), by barcode."""
    query = (StockCountLine.select(StockCountLine.product, Product.barcode, Product.name, Product.unit,
                                   StockCountLine.counted_milli, StockCountLine.expected_milli)
             .join(Product, on=(StockCountLine.product == Product.id))
             .where(StockCountLine.count == int(count_id)).order_by(StockCountLine.id).tuples())
    newest: Dict[int, CountLineInfo] = {}
    for pid, barcode, name, unit, counted, expected in query:
        newest[int(pid)] = CountLineInfo(int(pid), barcode, name, unit or "", int(counted), int(expected))
    return sorted(newest.values(), key=lambda info: info.barcode)


def apply_count(count_id: int, till_id: str, manager: str) -> List[CountResult]:
    """Apply a stocktake (a manager allowed it): each counted product's difference becomes one counted move.

    The difference is counted - on hand when it was counted; moves since stay. A whole count also counts
    every product with stock that was not counted, as 0, now.
    """
    if not (manager or "").strip():
        raise StockError("Applying a stocktake needs a manager.", "stock_count_needs_manager")
    with write_transaction():
        count = _open(count_id)
        lines = count_lines(count.id)
        if count.whole:
            lines += _uncounted(count, {line.product_id for line in lines})
        results, at = [], now()
        for line in lines:
            if line.difference_milli:
                _move(db.obj, line.product_id, COUNTED, line.difference_milli, till_id, at, count=count.id,
                      ref=count_name(count.till_id, count.number), manager=manager, cashier=count.cashier)
            results.append(CountResult(line.product_id, line.barcode, line.name, line.counted_milli,
                                       line.difference_milli))
        StockCount.update(state=APPLIED, applied_at=at, manager=manager[:16]).where(
            StockCount.id == count.id).execute()
        audit.seal_row(audit.STOCK_COUNT, count.id, count.till_id)
    return results


def _uncounted(count: StockCount, counted: set) -> List[CountLineInfo]:
    """A whole count: the products with stock it did not name, each counted as 0 now (their lines written)."""
    lines = []
    query = (StockBalance.select(StockBalance.product, Product.barcode, Product.name, Product.unit,
                                 StockBalance.on_hand_milli)
             .join(Product, on=(StockBalance.product == Product.id))
             .where(StockBalance.on_hand_milli != 0).tuples())
    for pid, barcode, name, unit, held in query:
        if int(pid) in counted:
            continue
        line = StockCountLine.create(count=count.id, product=pid, counted_milli=0, expected_milli=int(held),
                                     counted_at=now(), cashier=count.cashier)
        audit.seal_row(audit.STOCK_COUNT_LINE, line.id, count.till_id)
        lines.append(CountLineInfo(int(pid), barcode, name, unit or "", 0, int(held)))
    return lines


def count_file(rows: Sequence[CountRow], till_id: str, cashier: str, manager: str,
               whole: bool = False) -> Tuple[CountInfo, List[CountResult]]:
    """A whole count file in one transaction: started, every line counted as of now, applied."""
    with write_transaction():
        info = start_count(till_id, cashier, whole)
        for row in rows:
            count_line(info.id, row.barcode, row.counted_milli, cashier)
        results = apply_count(info.id, till_id, manager)
    return CountInfo(info.id, info.till_id, info.number, info.whole, APPLIED), results


# ---------------------------------------------------------------- the owner's view


def list_stock(low: bool = False) -> List[Balance]:
    """Every product on sale, and any other with stock, by barcode (``low``: only those at or below their threshold)."""
    if low:
        return _balances(StockBalance.min_milli.is_null(False)
                         & (StockBalance.on_hand_milli <= StockBalance.min_milli))
    return _balances((Product.active == True) | (StockBalance.on_hand_milli != 0))  # noqa: E712  retired, on the shelf


def low_stock() -> List[Balance]:
    """What to reorder: products at or below their threshold."""
    return list_stock(low=True)


def stock_value() -> int:
    """What the stock on the shelves cost, in fen (moving average, products with some on hand)."""
    query = (StockBalance.select(StockBalance.on_hand_milli, StockBalance.avg_cost_fen)
             .where(StockBalance.on_hand_milli > 0).tuples())
    return sum(money.line_amount(int(cost), int(qty)) for qty, cost in query)


def _day_range(day: datetime.date) -> Tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time())
    return start, start + datetime.timedelta(days=1)


def day_margin(day: datetime.date) -> Margin:
    """The day's gross margin: sales less refunds and voids at price, minus what those goods cost (their moves)."""
    start, end = _day_range(day)
    sales = 0
    for kind, total in (Sale.select(Sale.kind, peewee.fn.SUM(Sale.total_fen))
                        .where((Sale.sold_at >= start) & (Sale.sold_at < end)).group_by(Sale.kind).tuples()):
        sales += int(total or 0) * (1 if kind == SALE else -1)
    cost = 0
    for qty, unit_cost in (StockMove.select(StockMove.qty_milli, StockMove.cost_fen)
                           .where((StockMove.at >= start) & (StockMove.at < end)
                                  & StockMove.kind.in_((SALE, REFUND, VOID))).tuples()):
        cost -= money.line_amount(int(unit_cost), int(qty))
    return Margin(sales, cost, sales - cost)


def moves(barcode: Optional[str] = None, start: Optional[datetime.date] = None,
          end: Optional[datetime.date] = None, limit: Optional[int] = None) -> List[Dict[str, Any]]:
    """The moves, oldest first: of one product, between two days (both included); ``limit``: the newest ones."""
    where = peewee.SQL("1 = 1")
    if barcode:
        where &= StockMove.product == find(barcode).id
    if start is not None:
        where &= StockMove.at >= _day_range(start)[0]
    if end is not None:
        where &= StockMove.at < _day_range(end)[1]
    query = (StockMove.select(StockMove, Product.barcode, Product.name, Product.unit)
             .join(Product, on=(StockMove.product == Product.id)).where(where))
    if limit:
        found = list(query.order_by(StockMove.id.desc()).limit(int(limit)))[::-1]
    else:
        found = list(query.order_by(StockMove.id))
    receipts = _receipts({move.document for move in found if move.document})
    return [dict(id=move.id, at=audit.hashed_value(move.at), barcode=move.product.barcode, name=move.product.name,
                 unit=move.product.unit or "", kind=move.kind, qty=money.format_qty(move.qty_milli),
                 qty_milli=move.qty_milli, cost_fen=move.cost_fen, reason=move.reason, note=move.note,
                 document=receipts.get(move.document, ""), ref=move.ref, till_id=move.till_id,
                 cashier=move.cashier, manager=move.manager)
            for move in found]


def _receipts(ids: set) -> Dict[int, str]:
    from store.numbering import format_receipt_no

    found: Dict[int, str] = {}
    for chunk in (sorted(ids)[i:i + 500] for i in range(0, len(ids), 500)):
        for sale_id, till_id, number in (Sale.select(Sale.id, Sale.till_id, Sale.receipt_no)
                                         .where(Sale.id.in_(chunk)).tuples()):
            found[int(sale_id)] = format_receipt_no(till_id, number)
    return found


def check_balances() -> List[str]:
    """Each product whose kept balance is not the sum of its moves, one sentence each ([]: all agree)."""
    sums = {int(pid): int(total) for pid, total in
            StockMove.select(StockMove.product, peewee.fn.SUM(StockMove.qty_milli))
            .group_by(StockMove.product).tuples()}
    kept = {int(pid): int(qty) for pid, qty in
            StockBalance.select(StockBalance.product, StockBalance.on_hand_milli).tuples()}
    wrong = sorted(pid for pid in set(sums) | set(kept) if sums.get(pid, 0) != kept.get(pid, 0))
    names = {int(pid): f"{name} ({barcode})" for pid, barcode, name in
             Product.select(Product.id, Product.barcode, Product.name).where(Product.id.in_(wrong)).tuples()}
    return [f"The stock of {names.get(pid, f'product {pid}')} is {money.format_qty(kept.get(pid, 0))} but its "
            f"moves add up to {money.format_qty(sums.get(pid, 0))}." for pid in wrong]


def export_rows(kind: str, start: datetime.date, end: datetime.date, tills: Any = None) -> Iterable[List[Any]]:
    """Raw cells of ``export stock`` (every balance now) or ``export moves`` (the range's, of ``tills``:
    store.till_filter), as store.export's."""
    if kind == "stock":
        for row in list_stock():
            yield [row.barcode, row.name, row.unit, row.on_hand_milli,
                   "" if row.min_milli is None else money.format_qty(row.min_milli), row.avg_cost_fen, row.value_fen]
        return
    after, first, last = 0, _day_range(start)[0], _day_range(end)[1]
    while True:
        chunk = list(StockMove.select(StockMove, Product.barcode, Product.name)
                     .join(Product, on=(StockMove.product == Product.id))
                     .where(and_tills((StockMove.id > after) & (StockMove.at >= first) & (StockMove.at < last),
                                      StockMove.till_id, tills))
                     .order_by(StockMove.id).limit(2000))
        if not chunk:
            return
        receipts = _receipts({move.document for move in chunk if move.document})
        for move in chunk:
            yield [move.id, move.at, move.product.barcode, move.product.name, move.kind, move.qty_milli, move.cost_fen,
                   move.reason, move.note, receipts.get(move.document, ""), move.ref, move.till_id, move.cashier,
                   move.manager]
        after = chunk[-1].id
