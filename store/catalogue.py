"""The catalogue at shop scale: CSV import and export, fast lookup, search as you type.

Import reads CSV as shops export it (UTF-8, UTF-8 with a BOM, or GBK /
GB18030, detected), checks every row first and reports bad rows by line,
then writes the good rows in short batches, one transaction each, so a
selling till never waits more than about one batch for the write lock:
existing barcodes are updated (price changes recorded), new ones added,
unchanged ones left alone. The writes are idempotent, so an import cut
short (a crash, Ctrl-C, a full disk) is finished by running it again.
Pinyin keys are computed once per row here, outside the write lock, never
per keystroke.

Search keys: ``product.initials`` and ``product.pinyin`` (default reading,
lowercase, indexed) and the ``product_key`` table (name grams for "part of
the name", other initials of polyphonic names, pinyin and initials from
each later syllable, the version of the keys), all read with index range
scans so a keystroke stays well under a frame at 100,000 products. Products
whose keys an older version built get new ones from ``refresh_keys``, which
the till runs in the background at start.

Within one file a barcode may appear once: a second row with the same
barcode is a bad row (which price is right is the shop's call, not ours).
"""
from __future__ import annotations

import contextlib
import csv
import io
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from peewee import IntegrityError

from store import money
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.export import neutralise, unneutralise
from store.gs1 import check_digit_problem
from store.models import Product, ProductKey, now
from store.pinyin import SUFFIX_MAX, NameKeys, name_keys, search_key
from store.text import control_problem

log = logging.getLogger("chaoying.store.catalogue")

#: Progress callback: (rows done, rows in all, phase "check" | "write").
Progress = Callable[[int, int, str], None]

#: Rows per write transaction (IN lists stay under old SQLite's 999 variables). Measured on a loaded
#: 2-core VM (tests/bench/bench_import_wait.py): with 100 rows a till's longest commit during a
#: 100,000-row import was 44-70 ms (p99 10-40 ms); with 200 rows 24-198 ms from run to run, too close
#: to the 200 ms target; with 500 one batch alone held the lock up to 240 ms.
BATCH = 100
#: SQLite: the write lock is left free between two batches for max(PAUSE_S, HOLD_SHARE x the time
#: the last batch held it) (see _Pacer).
PAUSE_S = 0.015
HOLD_SHARE = 0.6
NAME_MAX = 100
UNIT_MAX = 10
BARCODE_MAX = 32

#: Header names shops use, by our column.
HEADERS = {
    "barcode": ("barcode", "code", "条码", "条形码", "商品条码", "编码", "商品编码"),
    "name": ("name", "名称", "品名", "商品名称", "商品名"),
    "price": ("price", "价格", "售价", "零售价", "单价"),
    "unit": ("unit", "单位"),
    "active": ("active", "在售", "状态"),
    "min_stock": ("min_stock", "最低库存", "库存下限", "安全库存"),  # the low-stock threshold (store.stock)
}
EXPORT_COLUMNS = ("barcode", "name", "price", "unit", "active")
_TRUE = {"1", "true", "yes", "y", "是", "在售", "启用"}
_FALSE = {"0", "false", "no", "n", "否", "停售", "停用"}


class CatalogueError(StoreError, ValueError):
    """A file or product that cannot be used as a whole: ``code``, ``values`` and one sentence."""


@dataclass(frozen=True)
class ProductRow:
    line_no: int
    barcode: str
    name: str
    price_fen: int
    unit: str = ""
    active: bool = True
    min_stock_milli: Optional[int] = None  # a min_stock column's threshold; None: not given


@dataclass
class ParsedFile:
    encoding: str
    rows: List[ProductRow]
    errors: List[Tuple[int, str]]          # (line, one sentence), in line order
    ignored_columns: List[str] = field(default_factory=list)


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0        # existing barcodes whose name, price, unit or active flag changed
    unchanged: int = 0      # existing barcodes already as in the file (not written)
    price_changes: int = 0
    written: int = 0        # rows done, in committed batches


@dataclass
class ImportResult:
    encoding: str
    imported: bool
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    price_changes: int = 0
    errors: List[Tuple[int, str]] = field(default_factory=list)
    ignored_columns: List[str] = field(default_factory=list)
    mins_ignored: int = 0  # min_stock thresholds not written (import_file's ``mins`` False)


# ---------------------------------------------------------------- reading CSV

def decode(data: bytes) -> Tuple[str, str]:
    """(text, encoding name) of a CSV file: UTF-8 with or without BOM, else GB18030 (GBK's superset)."""
    encodings: Tuple[str, ...]
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogueError("the file is UTF-16 text; save it as CSV (UTF-8 or GBK) instead", "utf16_file")
    else:
        encodings = ("utf-8", "gb18030")
    failure: Optional[UnicodeDecodeError] = None
    for encoding in encodings:
        try:
            return data.decode(encoding), {"utf-8-sig": "UTF-8 with BOM", "utf-8": "UTF-8",
                                           "gb18030": "GBK"}[encoding]
        except UnicodeDecodeError as exc:
            failure = exc if failure is None or exc.start > failure.start else failure
    line = data[: failure.start].count(b"\n") + 1 if failure else 1
    raise CatalogueError(f"line {line} is neither UTF-8 nor GBK text; save the file as CSV UTF-8",
                         "not_text", line=line)


def read_products(data: bytes) -> ParsedFile:
    """Split and check every row of a product CSV; whole-file problems raise CatalogueError."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogueError("the file is empty; it needs the header barcode,name,price[,unit]",
                             "empty_file") from None
    except csv.Error as exc:
        raise CatalogueError(f"line 1: {_one_line(exc)}", "bad_csv", line=1, detail=_one_line(exc)) from None
    columns, ignored = _columns(header)
    parsed = ParsedFile(encoding, [], [], ignored)
    seen: Dict[str, int] = {}
    while True:
        line_no = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.errors.append((line_no, _one_line(exc)[:1].upper() + _one_line(exc)[1:] + "."))
            break  # the reader cannot find the next row reliably
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            parsed.errors.append((line_no, f"{len(cells)} fields where the header has {len(header)}."))
            continue
        row, problems = check_row(line_no, {name: cells[index] for name, index in columns.items()})
        if row is not None:
            first = seen.setdefault(row.barcode, line_no)
            if first != line_no:
                problems.append(f"barcode {row.barcode} already appears on line {first}")
        if row is None or problems:
            parsed.errors.append((line_no, _sentence(problems)))
        else:
            parsed.rows.append(row)
    return parsed


def _columns(header: Sequence[str]) -> Tuple[Dict[str, int], List[str]]:
    columns: Dict[str, int] = {}
    ignored: List[str] = []
    for index, raw in enumerate(header):
        name = unicodedata.normalize("NFKC", raw).strip().lower()
        ours = next((column for column, names in HEADERS.items() if name in names), None)
        if ours is None:
            ignored.append(raw.strip())
        elif ours in columns:
            raise CatalogueError(f"line 1: the header names the {ours} column twice", "column_twice", column=ours)
        else:
            columns[ours] = index
    missing = [c for c in ("barcode", "name", "price") if c not in columns]
    if missing:
        raise CatalogueError(
            f"line 1: the header has no {' or '.join(missing)} column; it needs barcode,name,price[,unit] "
            f"(or 条码,品名,售价,单位), not {','.join(header)!r}", "missing_columns", columns=missing)
    return columns, ignored


def check_row(line_no: int, cells: Dict[str, str]) -> Tuple[Optional[ProductRow], List[str]]:
    """A ProductRow from text cells, or None with every problem as a phrase."""
    controls = [control_problem(column, text) for column, text in cells.items()]
    problems: List[str] = [problem for problem in controls if problem]
    if problems:
        return None, problems
    cells = {column: unneutralise(text) for column, text in cells.items()}
    barcode = unicodedata.normalize("NFKC", cells.get("barcode", "")).strip()
    name = " ".join(cells.get("name", "").split())
    unit = cells.get("unit", "").strip()
    problems.extend(barcode_problems(barcode))
    problems.extend(_name_unit_problems(name, unit))
    price_text = cells.get("price", "").strip()
    price_fen = None
    try:
        price_fen = money.parse_yuan(price_text)
    except ValueError:
        if not price_text:
            problems.append("the price is empty")
        elif price_text.lstrip().startswith("-"):
            problems.append(f"price {price_text} is negative")
        else:
            problems.append(f"price {price_text!r} is not an amount in yuan like 3.50")
    active = True
    if "active" in cells:
        flag = cells["active"].strip().lower()
        if flag in _TRUE or flag == "":
            active = True
        elif flag in _FALSE:
            active = False
        else:
            problems.append(f"active {cells['active']!r} is not 1 or 0")
    min_stock = _min_stock(cells.get("min_stock", ""), problems)
    if problems or price_fen is None:
        return None, problems
    return ProductRow(line_no, barcode, name, price_fen, unit, active, min_stock), problems


def _min_stock(text: str, problems: List[str]) -> Optional[int]:
    """A min_stock cell as thousandths (None when empty); a phrase added to ``problems`` when it is no number."""
    text = text.strip()
    if not text:
        return None
    if text.strip("0.") == "" and text[0].isdigit():
        return 0
    try:
        return money.parse_qty(text)
    except ValueError:
        problems.append(f"min_stock {text!r} is not a number like 20")
        return None


def _name_unit_problems(name: str, unit: str) -> List[str]:
    problems = [problem for problem in (control_problem("name", name), control_problem("unit", unit)) if problem]
    if not name:
        problems.append("the name is empty")
    elif len(name) > NAME_MAX:
        problems.append(f"the name is longer than {NAME_MAX} characters")
    if len(unit) > UNIT_MAX:
        problems.append(f"the unit is longer than {UNIT_MAX} characters")
    return problems


def barcode_problems(barcode: str) -> List[str]:
    """Phrases saying what is wrong with a barcode or PLU; [] when it is fine."""
    if not barcode:
        return ["the barcode is empty"]
    if len(barcode) > BARCODE_MAX or not all(c.isascii() and (c.isalnum() or c in "._-") for c in barcode):
        return [f"barcode {barcode!r} may only use letters, digits, '.', '_' or '-' (at most {BARCODE_MAX})"]
    problem = check_digit_problem(barcode)
    return [problem] if problem else []


def _sentence(problems: List[str]) -> str:
    text = "; ".join(problems)
    return text[:1].upper() + text[1:] + "."


def _one_line(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__).rstrip(".")


# ---------------------------------------------------------------- search keys

#: The version of the keys ``product_keys`` gives; a product without a ("v", KEYS_VERSION) key has keys
#: an older version built (2: pinyin and initials from each later syllable) and ``refresh_keys`` renews them.
KEYS_VERSION = "2"


def product_keys(name: str, pinyin: Optional[NameKeys] = None) -> List[Tuple[str, str]]:
    """(kind, key) rows of ``product_key`` for a name: "n" name grams, "i" other initials,
    "s" pinyin and initials from a later syllable, "v" the version of these keys."""
    if pinyin is None:
        pinyin = name_keys(name)
    keys: List[Tuple[str, str]] = [("n", gram) for gram in name_grams(name)]
    keys.extend(("i", alternative) for alternative in pinyin.alternatives)
    keys.extend(("s", suffix) for suffix in pinyin.suffixes)
    keys.append(("v", KEYS_VERSION))
    return keys


def name_grams(name: str) -> List[str]:
    """Each two-character piece of each word of the name, and each word's last character.

    Any part of a name of two characters or more contains one of its grams;
    a single character starts one, so a prefix scan finds it.
    """
    grams: Dict[str, None] = {}
    for word in _normal(name).split():
        for index in range(len(word) - 1):
            grams[word[index:index + 2]] = None
        grams[word[-1]] = None
    return list(grams)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


# ---------------------------------------------------------------- writing

def _upsert_sql(database) -> str:
    query = Product.insert(
        barcode="", name="", price_fen=0, unit="", active=True, pinyin="", initials="",
    ).on_conflict(
        conflict_target=[Product.barcode],
        preserve=[Product.name, Product.price_fen, Product.unit, Product.active, Product.pinyin, Product.initials],
    )
    with database.bind_ctx([Product]):
        return database.get_sql_context().sql(query).query()[0]


def _key_sql(database) -> str:
    with database.bind_ctx([ProductKey]):
        query = ProductKey.insert(kind="", key="", product=0).on_conflict_ignore()
        return database.get_sql_context().sql(query).query()[0]


_UPDATE_KEYS = Product.update(pinyin="", initials="").where(Product.id == 0)  # (pinyin, initials, id)
_DELETE_KEY = ProductKey.delete().where(
    (ProductKey.kind == "") & (ProductKey.key == "") & (ProductKey.product == 0))  # (kind, key, product)


def _sql(database, query) -> str:
    with database.bind_ctx([Product, ProductKey]):
        return database.get_sql_context().sql(query).query()[0]


def _execute_many(database, sql: str, rows: List[tuple]) -> None:
    if not rows:
        return
    cursor = database.cursor()
    if is_sqlite(database):
        cursor.executemany(sql, rows)
        return
    try:
        from psycopg2.extras import execute_batch
    except ImportError:
        cursor.executemany(sql, rows)
    else:
        execute_batch(cursor, sql, rows, page_size=BATCH)


class ImportIncomplete(CatalogueError):
    """A batch failed after ``written`` of ``total`` rows were committed; the same import again finishes it."""

    def __init__(self, written: int, total: int, cause: BaseException) -> None:
        reason = _one_line(cause)
        super().__init__(f"The import stopped ({reason}): {written} of {total} rows written; "
                         f"run the same import again to finish.", "import_incomplete",
                         written=written, total=total, reason=reason)
        self.written, self.total = written, total


class _Keys:
    """Search keys by name, computed outside the write lock (pinyin is the slow part of a batch)."""

    def __init__(self) -> None:
        self.by_name: Dict[str, Tuple[str, str, List[Tuple[str, str]]]] = {}

    def __call__(self, name: str) -> Tuple[str, str, List[Tuple[str, str]]]:
        found = self.by_name.get(name)
        if found is None:
            keys = name_keys(name)
            found = self.by_name[name] = (keys.pinyin, keys.initials, product_keys(name, keys))
        return found


class _Pacer:
    """On SQLite, leaves the write lock free between two batches long enough for a waiting till to get it.

    A till waiting for the lock polls it (SQLite's busy handler) after 1, 2,
    5, 10, 15, 20, 25, 25, 25, 50, 50, then every 100 ms: after waiting t ms
    (t is at most the batch's hold) the next poll comes within 15 ms while
    t < 33, and within 0.6 t after that. A gap of max(15 ms, 0.6 x hold)
    therefore always lets it in before the next batch takes the lock back.
    The WAL is checkpointed in that gap, by the importer, so a till's commit
    seldom has to (and the hold measured is only the lock's).
    """

    def __init__(self, database) -> None:
        self.database = database
        self.sqlite = is_sqlite(database)
        self.free_at: Optional[float] = None
        self.pause = 0.0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if self.sqlite and self.free_at is not None:
            time.sleep(max(0.0, self.free_at + self.pause - time.monotonic()))
        start = time.monotonic()
        yield
        self.free_at = time.monotonic()
        self.pause = max(PAUSE_S, HOLD_SHARE * (self.free_at - start))
        if self.sqlite and not self.database.in_transaction():
            self.database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")  # does not take the write lock


_Stored = Tuple[int, str, int, str, bool]  # id, name, price_fen, unit, active


def _stored(database, barcodes: Sequence[str]) -> Dict[str, _Stored]:
    """What is stored for these barcodes (plain SQL: peewee builds a long IN list slowly)."""
    if not barcodes:
        return {}
    marks = ", ".join([database.param] * len(barcodes))
    cursor = database.execute_sql(
        f'SELECT "barcode", "id", "name", "price_fen", "unit", "active" FROM "{Product._meta.table_name}" '
        f'WHERE "barcode" IN ({marks})', list(barcodes))
    return {barcode: (product_id, name, price_fen, unit, bool(active))
            for barcode, product_id, name, price_fen, unit, active in cursor.fetchall()}


def _same(row: ProductRow, old: Optional[_Stored]) -> bool:
    return old is not None and old[1:] == (row.name, row.price_fen, row.unit, row.active)


def import_products(rows: Sequence[ProductRow], changed_by: str = "", source: str = "import",
                    progress: Optional[Progress] = None) -> ImportCounts:
    """Write checked rows in short batches, one transaction each: add new barcodes, update changed ones.

    Each batch holds the write lock briefly, so a till's commit waits at
    most about one batch. The writes are idempotent (upserts; a price change
    is recorded only when the price differs; unchanged rows are not
    written), so when a batch fails (ImportIncomplete) or the process dies,
    running the same import again finishes it and gives the same catalogue
    and price history as one clean import.
    """
    database = db.obj
    counts = ImportCounts()
    upsert = _upsert_sql(database)
    pacer = _Pacer(database)
    total = len(rows)
    with _batch_writer(database):
        for start in range(0, total, BATCH):
            _import_batch(database, rows, start, upsert, changed_by, source, pacer, counts)
            if progress is not None:
                progress(counts.written, total, "write")
    return counts


def _import_batch(database, rows: Sequence[ProductRow], start: int, upsert: str, changed_by: str, source: str,
                  pacer: _Pacer, counts: ImportCounts) -> None:
    batch = rows[start:start + BATCH]
    keys = _Keys()
    try:
        # outside the lock: pinyin for what will be written; a batch with nothing new takes no lock
        seen = _stored(database, [row.barcode for row in batch])
        differ = [row for row in batch if not _same(row, seen.get(row.barcode))]
        if not differ:
            counts.unchanged += len(batch)
        else:
            for row in differ:
                keys(row.name)
            with pacer.turn():
                _add(counts, _write_batch(database, batch, upsert, changed_by, source, keys))
    except Exception as exc:
        log.exception("import stopped after %d of %d rows", start, len(rows))
        raise ImportIncomplete(start, len(rows), exc) from exc
    counts.written = start + len(batch)


@contextlib.contextmanager
def _batch_writer(database) -> Iterator[None]:
    """SQLite: the import's commits skip the fsync (synchronous=NORMAL) the write lock would wait for.

    In WAL mode this never corrupts the database; a power cut may undo the
    last batches, and the same import again writes them. The next sale's
    commit (synchronous=FULL) makes every batch before it durable too. The
    automatic checkpoint is off too: _Pacer checkpoints between batches.
    """
    if not is_sqlite(database) or database.in_transaction():
        yield
        return
    synchronous = database.execute_sql("PRAGMA synchronous").fetchone()[0]
    checkpoint = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]
    database.execute_sql("PRAGMA synchronous = 1")
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA synchronous = {int(synchronous)}")
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")


def _add(counts: ImportCounts, batch: ImportCounts) -> None:
    counts.added += batch.added
    counts.updated += batch.updated
    counts.unchanged += batch.unchanged
    counts.price_changes += batch.price_changes


def _write_batch(database, batch: Sequence[ProductRow], upsert: str, changed_by: str, source: str,
                 keys: Callable[[str], Tuple[str, str, List[Tuple[str, str]]]]) -> ImportCounts:
    """One short transaction: compare with what is stored, write only what differs."""
    from store.models import PriceChange

    counts = ImportCounts()
    with write_transaction():
        # again, under the lock: the prices the history starts from
        existing = _stored(database, [row.barcode for row in batch])
        values, changes, renamed, new = [], [], [], []
        at = now()
        for row in batch:
            old = existing.get(row.barcode)
            if _same(row, old):
                counts.unchanged += 1
                continue
            pinyin, initials, _ = keys(row.name)
            values.append((row.barcode, row.name, row.price_fen, row.unit, row.active, pinyin, initials))
            if old is None:
                new.append(row)
                continue
            counts.updated += 1
            if old[1] != row.name:
                renamed.append((old[0], row))
            if old[2] != row.price_fen:
                changes.append(dict(product=old[0], old_price_fen=old[2], new_price_fen=row.price_fen,
                                    changed_at=at, changed_by=changed_by[:50], source=source))
        counts.added = len(new)
        _execute_many(database, upsert, values)
        if changes:
            PriceChange.insert_many(changes).execute()
            counts.price_changes = len(changes)
        if renamed:
            ProductKey.delete().where(ProductKey.product.in_([product_id for product_id, _ in renamed])).execute()
        ids = {barcode: stored[0] for barcode, stored in _stored(database, [row.barcode for row in new]).items()}
        keyed = [(ids[row.barcode], row) for row in new] + renamed
        _execute_many(database, _key_sql(database),
                      [(kind, key, product_id) for product_id, row in keyed for kind, key in keys(row.name)[2]])
    return counts


def reindex(progress: Optional[Progress] = None) -> int:
    """Recompute pinyin, initials and search keys of every product, in short batches; return how many.

    Idempotent: run it again after an interruption.
    """
    ids = [product_id for (product_id,) in Product.select(Product.id).order_by(Product.id).tuples()]
    return _reindex(ids, progress)


def stale_products() -> List[int]:
    """Ids of the products whose search keys an older version built (no current "v" key)."""

    current = ProductKey.select(ProductKey.product).where((ProductKey.kind == "v") & (ProductKey.key == KEYS_VERSION))
    query = Product.select(Product.id).where(Product.id.not_in(current)).order_by(Product.id)
    return [product_id for (product_id,) in query.tuples()]


def refresh_keys(progress: Optional[Progress] = None, cancelled: Callable[[], bool] = lambda: False) -> int:
    """New search keys for the products saved by an older version, in short batches; return how many.

    Idempotent, and cheap when nothing is stale (one pass over the product ids): the till runs it
    in the background at every start. ``cancelled()`` is asked between two batches.
    """
    ids = stale_products()
    done = _reindex(ids, progress, cancelled)
    if done:
        log.info("renewed the search keys of %d products", done)
    return done


def _reindex(ids: List[int], progress: Optional[Progress] = None,
             cancelled: Callable[[], bool] = lambda: False) -> int:
    database = db.obj
    pacer = _Pacer(database)
    done = 0
    for start in range(0, len(ids), BATCH):
        if cancelled():
            break
        chunk = ids[start:start + BATCH]
        keys = _Keys()
        for name in Product.select(Product.name).where(Product.id.in_(chunk)).tuples():
            keys(name[0])  # outside the lock
        with pacer.turn(), write_transaction():
            # again, under the lock; only what differs is written (renewing old keys mostly adds some)
            rows = list(Product.select(Product.id, Product.name, Product.pinyin, Product.initials)
                        .where(Product.id.in_(chunk)).tuples())
            _execute_many(database, _sql(database, _UPDATE_KEYS),
                          [keys(name)[:2] + (product_id,) for product_id, name, *stored in rows
                           if tuple(stored) != keys(name)[:2]])
            have = set(database.execute(ProductKey.select(ProductKey.kind, ProductKey.key, ProductKey.product)
                                        .where(ProductKey.product.in_(chunk))).fetchall())
            want = {(kind, key, product_id) for product_id, name, *_ in rows for kind, key in keys(name)[2]}
            _execute_many(database, _sql(database, _DELETE_KEY), sorted(have - want))
            _execute_many(database, _key_sql(database), sorted(want - have))
        done += len(rows)
        if progress is not None:
            progress(start + len(chunk), len(ids), "write")
    return done


def add_product(barcode: str, name: str, price_fen: int, unit: str = "") -> Dict[str, Any]:
    """Add one product with its search keys; CatalogueError (one sentence) if invalid or taken."""
    barcode = unicodedata.normalize("NFKC", barcode or "").strip()
    name, unit = " ".join((name or "").split()), (unit or "").strip()
    problems = barcode_problems(barcode) + _name_unit_problems(name, unit)
    if not isinstance(price_fen, int) or isinstance(price_fen, bool) or not 0 <= price_fen <= money.MAX_FEN:
        problems.append(f"price {price_fen!r} must be a whole number of fen, zero or more")
    if problems:
        raise CatalogueError(_sentence(problems), "bad_product", barcode=barcode, problems=problems)
    taken = CatalogueError(f"A product with barcode {barcode} already exists.", "barcode_taken", barcode=barcode)
    keys = name_keys(name)
    database = db.obj
    try:
        with write_transaction():
            if Product.select().where(Product.barcode == barcode).exists():
                raise taken
            product_id = Product.insert(barcode=barcode, name=name, price_fen=price_fen, unit=unit, active=True,
                                        pinyin=keys.pinyin, initials=keys.initials).execute()
            _execute_many(database, _key_sql(database),
                          [(kind, key, product_id) for kind, key in product_keys(name, keys)])
    except IntegrityError:
        raise taken from None
    return {"id": product_id, "barcode": barcode, "name": name, "price_fen": price_fen,
            "price": money.format_yuan(price_fen), "unit": unit, "active": True}


def list_products(include_inactive: bool = False) -> List[Dict[str, Any]]:
    """The catalogue, ordered by barcode: dicts with id, barcode, name, price_fen, price, unit, active."""
    query = Product.select(Product.id, Product.barcode, Product.name, Product.price_fen, Product.unit,
                           Product.active).order_by(Product.barcode)
    if not include_inactive:
        query = query.where(Product.active == True)  # noqa: E712
    return [{"id": product_id, "barcode": barcode, "name": name, "price_fen": price_fen,
             "price": money.format_yuan(price_fen), "unit": unit, "active": bool(active)}
            for product_id, barcode, name, price_fen, unit, active in query.tuples()]


def set_price(barcode: str, price_fen: int, changed_by: str = "", source: str = "cli") -> Tuple[int, int]:
    """Change one product's price and record who and when; (old, new) in fen."""
    from store.models import PriceChange

    with write_transaction():
        product = Product.get_or_none(Product.barcode == barcode)
        if product is None:
            raise CatalogueError(f"No product has barcode {barcode}.", "unknown_barcode", barcode=barcode)
        old = int(product.price_fen)
        if old != price_fen:
            Product.update(price_fen=price_fen).where(Product.id == product.id).execute()
            PriceChange.create(product=product.id, old_price_fen=old, new_price_fen=price_fen,
                               changed_by=changed_by[:50], source=source)
    return old, price_fen


def set_active(barcode: str, active: bool) -> bool:
    """Offer a product for sale again, or stop selling it (past lines keep their snapshot); False if unknown."""
    with write_transaction():
        return bool(Product.update(active=bool(active)).where(Product.barcode == barcode).execute())


def price_history(barcode: str) -> List[Dict[str, Any]]:
    """Price changes of one product, oldest first."""
    from store.models import PriceChange

    query = (PriceChange.select(PriceChange).join(Product)
             .where(Product.barcode == barcode).order_by(PriceChange.id))
    return [
        {"changed_at": change.changed_at.isoformat(sep=" ") if change.changed_at else None,
         "changed_by": change.changed_by, "source": change.source,
         "old_price_fen": change.old_price_fen, "new_price_fen": change.new_price_fen,
         "old_price": money.format_yuan(change.old_price_fen),
         "new_price": money.format_yuan(change.new_price_fen)}
        for change in query
    ]


def import_file(data: bytes, keep_going: bool = False, changed_by: str = "",
                progress: Optional[Progress] = None, mins: bool = True) -> ImportResult:
    """Check every row of a product CSV, then write them (or only the good ones with ``keep_going``).

    Nothing is written when a row is bad (without ``keep_going``). The rows are
    written in short batches (``import_products``): ImportIncomplete says how
    far a failed import got; the same import again finishes it. ``mins`` False
    leaves a min_stock column's thresholds alone (they are a till's stock
    balances, not the shop server's to write); ``mins_ignored`` counts them.
    """
    parsed = read_products(data)
    result = ImportResult(parsed.encoding, False, errors=parsed.errors, ignored_columns=parsed.ignored_columns)
    if parsed.errors and not keep_going:
        return result
    if parsed.rows:
        counts = import_products(parsed.rows, changed_by=changed_by, progress=progress)
        result.added, result.updated, result.price_changes = counts.added, counts.updated, counts.price_changes
        result.unchanged = counts.unchanged
        thresholds = [(row.barcode, row.min_stock_milli) for row in parsed.rows if row.min_stock_milli is not None]
        if mins:
            from store import stock

            stock.set_mins(thresholds)
        else:
            result.mins_ignored = len(thresholds)
    result.imported = True
    return result


# ---------------------------------------------------------------- export

def export_rows() -> Iterator[Tuple[str, str, str, str, str]]:
    """Every product (inactive ones too) as CSV cells, in barcode order."""
    query = (Product.select(Product.barcode, Product.name, Product.price_fen, Product.unit, Product.active)
             .order_by(Product.barcode).tuples())
    for barcode, name, price_fen, unit, active in query.iterator():
        # Text a spreadsheet would run as a formula gets a leading ' (read back off by the import).
        yield neutralise(barcode), neutralise(name), money.format_yuan(price_fen), neutralise(unit), \
            "1" if active else "0"


def export_csv(out: io.TextIOBase) -> int:
    """Write the catalogue as CSV the importer reads back; return the number of products."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in export_rows():
        writer.writerow(row)
        count += 1
    return count


# ---------------------------------------------------------------- lookup and search

_CODE_CHARS = re.compile(r"[0-9A-Za-z._-]{1,32}", re.ASCII)
_RESULT_FIELDS = (Product.id, Product.barcode, Product.name, Product.price_fen, Product.unit)


def _result(row: tuple) -> Dict[str, Any]:
    product_id, barcode, name, price_fen, unit = row
    return {"id": product_id, "barcode": barcode, "name": name, "price_fen": price_fen,
            "price": money.format_yuan(price_fen), "unit": unit}


def _upper(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _starts(column, prefix: str, sqlite: bool):
    """``column`` starts with ``prefix``: an index range on SQLite (binary order), exact elsewhere."""
    from peewee import fn

    if sqlite:
        return (column >= prefix) & (column < _upper(prefix))
    return fn.SUBSTR(column, 1, len(prefix)) == prefix


def search_products(text: str, limit: int = 20) -> List[Dict[str, Any]]:
    """Active products for what the cashier typed, best first.

    Barcode / PLU prefix, then pinyin initials (``kkkl``) and full pinyin
    (``kekou``) prefixes, other readings of polyphones, pinyin and initials
    from a later syllable (``kele``, ``kl``), then part of the name.
    """
    text = (text or "").strip()
    if not text or limit <= 0:
        return []
    database = db.obj
    sqlite = is_sqlite(database)
    found: Dict[int, Dict[str, Any]] = {}

    def take(query, spare: int = 1) -> bool:
        # spare > 1 for queries that may return a product twice (several keys match)
        for row in query.limit((limit - len(found)) * spare).tuples():
            if row[0] not in found:
                found[row[0]] = _result(row)
                if len(found) >= limit:
                    return True
        return False

    active = Product.active == True  # noqa: E712
    code = unicodedata.normalize("NFKC", text)
    if _CODE_CHARS.fullmatch(code):
        for variant in dict.fromkeys((code, code.upper())):
            query = Product.select(*_RESULT_FIELDS).where(_starts(Product.barcode, variant, sqlite) & active)
            if take(query.order_by(Product.barcode)):
                return list(found.values())
    key = search_key(text)
    if key and not key.isdigit():
        for column in (Product.initials, Product.pinyin):
            query = Product.select(*_RESULT_FIELDS).where(_starts(column, key, sqlite) & active)
            if take(query.order_by(column)):
                return list(found.values())
        if take(_key_query("i", key, sqlite, exact=False), spare=4):
            return list(found.values())
        if len(key) <= SUFFIX_MAX:
            later = _key_query("s", key, sqlite, exact=False)
        else:  # the keys are cut: the start of what was typed, then the rest in the whole pinyin or initials
            rest = _contains(Product.pinyin, key, sqlite) | _contains(Product.initials, key, sqlite)
            later = _key_query("s", key[:SUFFIX_MAX], sqlite, exact=True, extra=rest)
        if take(later, spare=8):
            return list(found.values())
    _search_name(text, sqlite, take, database)
    return list(found.values())


def browse_products(limit: int = 20) -> List[Dict[str, Any]]:
    """The first ``limit`` active products in pinyin order: the catalogue, before the cashier types anything.

    A walk of product.pinyin's index that stops at ``limit``: as fast with 100,000 products as with 30.
    """
    if limit <= 0:
        return []
    query = (Product.select(*_RESULT_FIELDS).where(Product.active == True)  # noqa: E712
             .order_by(Product.pinyin, Product.id).limit(limit))
    return [_result(row) for row in query.tuples()]


def _key_query(kind: str, key: str, sqlite: bool, exact: bool, extra=None):
    match = (ProductKey.key == key) if exact else _starts(ProductKey.key, key, sqlite)
    where = (ProductKey.kind == kind) & match & (Product.active == True)  # noqa: E712
    if extra is not None:
        where &= extra
    return (Product.select(*_RESULT_FIELDS).join(ProductKey, on=(ProductKey.product == Product.id))
            .where(where).order_by(ProductKey.kind, ProductKey.key, ProductKey.product))


def _contains(column, text: str, sqlite: bool):
    from peewee import fn

    return (fn.INSTR(column, text) if sqlite else fn.STRPOS(column, text)) > 0


def _search_name(text: str, sqlite: bool, take, database) -> None:
    from peewee import fn

    words = _normal(text).split()
    if not words:
        return
    contains = None
    for word in words:
        found = _contains(fn.LOWER(Product.name), word, sqlite)
        contains = found if contains is None else contains & found
    longest = max(words, key=len)
    if len(longest) == 1:
        take(_key_query("n", longest, sqlite, exact=False, extra=contains), spare=4)
    else:
        take(_key_query("n", longest[:2], sqlite, exact=True, extra=contains))


def find_active(code: str) -> Optional[Product]:
    """The active product with exactly this barcode or PLU (one indexed read, no query building)."""
    database = db.obj
    sql = _find_sql.get(database.param)
    if sql is None:
        columns = ", ".join(f'"{f.column_name}"' for f in Product._meta.sorted_fields)
        sql = _find_sql[database.param] = (
            f'SELECT {columns} FROM "{Product._meta.table_name}" '
            f'WHERE "barcode" = {database.param} AND "active" = {database.param}'
        )
    row = database.execute_sql(sql, (code, True)).fetchone()
    if row is None:
        return None
    return Product(**dict(zip(_FIELD_NAMES, row)))


def find_retired(code: str) -> Optional[Product]:
    """The product with exactly this barcode or PLU if it is no longer sold (deactivated), else None."""
    return Product.get_or_none((Product.barcode == code) & (Product.active == False))  # noqa: E712


_find_sql: Dict[str, str] = {}
_FIELD_NAMES = tuple(f.name for f in Product._meta.sorted_fields)
