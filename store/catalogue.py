"""The catalogue at shop scale: CSV import and export, fast lookup, search as you type.

Import reads CSV as shops export it (UTF-8, UTF-8 with a BOM, or GBK /
GB18030, detected), checks every row first and reports bad rows by line,
then writes all good rows in ONE transaction with batched upserts: existing
barcodes are updated (price changes recorded), new ones added. Pinyin keys
are computed once per row here, never per keystroke.

Search keys: ``product.initials`` and ``product.pinyin`` (default reading,
lowercase, indexed) and the ``product_key`` table (name grams for "part of
the name", other initials of polyphonic names), all read with index range
scans so a keystroke stays well under a frame at 100,000 products.

Within one file a barcode may appear once: a second row with the same
barcode is a bad row (which price is right is the shop's call, not ours).
"""
from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from peewee import IntegrityError

from store import money
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.gs1 import check_digit_problem
from store.models import Product, now
from store.pinyin import name_keys, search_key

log = logging.getLogger("chaoying.store.catalogue")

#: Progress callback: (rows done, rows in all, phase "check" | "write").
Progress = Callable[[int, int, str], None]

BATCH = 900  # rows per upsert batch; IN lists stay under old SQLite's 999 variables
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


@dataclass
class ParsedFile:
    encoding: str
    rows: List[ProductRow]
    errors: List[Tuple[int, str]]          # (line, one sentence), in line order
    ignored_columns: List[str] = field(default_factory=list)


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0
    price_changes: int = 0


@dataclass
class ImportResult:
    encoding: str
    imported: bool
    added: int = 0
    updated: int = 0
    price_changes: int = 0
    errors: List[Tuple[int, str]] = field(default_factory=list)
    ignored_columns: List[str] = field(default_factory=list)


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
    problems: List[str] = []
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
    if problems or price_fen is None:
        return None, problems
    return ProductRow(line_no, barcode, name, price_fen, unit, active), problems


def _name_unit_problems(name: str, unit: str) -> List[str]:
    problems = []
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

def product_keys(name: str, alternatives: Optional[Sequence[str]] = None) -> List[Tuple[str, str]]:
    """(kind, key) rows of ``product_key`` for a name: "n" name grams, "i" other initials."""
    keys: List[Tuple[str, str]] = [("n", gram) for gram in name_grams(name)]
    if alternatives is None:
        alternatives = name_keys(name).alternatives
    keys.extend(("i", alternative) for alternative in alternatives)
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
    from store.models import ProductKey

    with database.bind_ctx([ProductKey]):
        query = ProductKey.insert(kind="", key="", product=0).on_conflict_ignore()
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


def import_products(rows: Sequence[ProductRow], changed_by: str = "", source: str = "import",
                    progress: Optional[Progress] = None) -> ImportCounts:
    """Write checked rows in ONE transaction: update existing barcodes, add new ones."""
    database = db.obj
    counts = ImportCounts()
    upsert = _upsert_sql(database)
    total = len(rows)
    with write_transaction():
        for start in range(0, total, BATCH):
            batch = rows[start:start + BATCH]
            _write_batch(database, batch, upsert, changed_by, source, counts)
            if progress is not None:
                progress(min(total, start + BATCH), total, "write")
    return counts


def _write_batch(database, batch: Sequence[ProductRow], upsert: str,
                 changed_by: str, source: str, counts: ImportCounts) -> None:
    from store.models import PriceChange

    barcodes = [row.barcode for row in batch]
    existing = {
        barcode: (product_id, price_fen, name)
        for product_id, barcode, price_fen, name in Product.select(
            Product.id, Product.barcode, Product.price_fen, Product.name,
        ).where(Product.barcode.in_(barcodes)).tuples()
    }
    values = []
    renamed: List[int] = []
    changes = []
    alternatives: Dict[str, Tuple[str, ...]] = {}
    at = now()
    for row in batch:
        keys = name_keys(row.name)
        alternatives[row.barcode] = keys.alternatives
        values.append((row.barcode, row.name, row.price_fen, row.unit, row.active, keys.pinyin, keys.initials))
        old = existing.get(row.barcode)
        if old is None:
            continue
        if old[2] != row.name:
            renamed.append(old[0])
        if old[1] != row.price_fen:
            changes.append(dict(product=old[0], old_price_fen=old[1], new_price_fen=row.price_fen,
                                changed_at=at, changed_by=changed_by[:50], source=source))
    _execute_many(database, upsert, values)
    counts.updated += len(existing)
    counts.added += len(batch) - len(existing)
    if changes:
        PriceChange.insert_many(changes).execute()
        counts.price_changes += len(changes)
    new = [row.barcode for row in batch if row.barcode not in existing]
    ids = dict(Product.select(Product.barcode, Product.id).where(Product.barcode.in_(new)).tuples()) if new else {}
    ids.update((barcode, old[0]) for barcode, old in existing.items() if old[0] in set(renamed))
    if renamed:
        from store.models import ProductKey

        ProductKey.delete().where(ProductKey.product.in_(renamed)).execute()
    key_rows = [(kind, key, ids[row.barcode]) for row in batch if row.barcode in ids
                for kind, key in product_keys(row.name, alternatives[row.barcode])]
    _execute_many(database, _key_sql(database), key_rows)


def reindex() -> int:
    """Recompute pinyin, initials and search keys of every product; return how many."""
    database = db.obj
    rows = list(Product.select(Product.id, Product.name).tuples())
    with write_transaction():
        for product_id, name in rows:
            keys = name_keys(name)
            Product.update(pinyin=keys.pinyin, initials=keys.initials).where(Product.id == product_id).execute()
        from store.models import ProductKey

        ProductKey.delete().execute()
        _execute_many(database, _key_sql(database),
                      [(k, v, product_id) for product_id, name in rows for k, v in product_keys(name)])
    return len(rows)


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
                          [(kind, key, product_id) for kind, key in product_keys(name, keys.alternatives)])
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
                progress: Optional[Progress] = None) -> ImportResult:
    """Check and import a product CSV: all or nothing, or only the good rows with ``keep_going``."""
    parsed = read_products(data)
    result = ImportResult(parsed.encoding, False, errors=parsed.errors, ignored_columns=parsed.ignored_columns)
    if parsed.errors and not keep_going:
        return result
    if parsed.rows:
        counts = import_products(parsed.rows, changed_by=changed_by, progress=progress)
        result.added, result.updated, result.price_changes = counts.added, counts.updated, counts.price_changes
    result.imported = True
    return result


# ---------------------------------------------------------------- export

def export_rows() -> Iterator[Tuple[str, str, str, str, str]]:
    """Every product (inactive ones too) as CSV cells, in barcode order."""
    query = (Product.select(Product.barcode, Product.name, Product.price_fen, Product.unit, Product.active)
             .order_by(Product.barcode).tuples())
    for barcode, name, price_fen, unit, active in query.iterator():
        yield barcode, name, money.format_yuan(price_fen), unit, "1" if active else "0"


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
    (``kekou``) prefixes, other readings of polyphones, then part of the name.
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
        return len(found) >= limit

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
    _search_name(text, sqlite, take, database)
    return list(found.values())


def _key_query(kind: str, key: str, sqlite: bool, exact: bool, extra=None):
    from store.models import ProductKey

    match = (ProductKey.key == key) if exact else _starts(ProductKey.key, key, sqlite)
    where = (ProductKey.kind == kind) & match & (Product.active == True)  # noqa: E712
    if extra is not None:
        where &= extra
    return (Product.select(*_RESULT_FIELDS).join(ProductKey, on=(ProductKey.product == Product.id))
            .where(where).order_by(ProductKey.kind, ProductKey.key, ProductKey.product))


def _search_name(text: str, sqlite: bool, take, database) -> None:
    from peewee import fn

    words = _normal(text).split()
    if not words:
        return
    contains = None
    for word in words:
        position = fn.INSTR(fn.LOWER(Product.name), word) if sqlite else fn.STRPOS(fn.LOWER(Product.name), word)
        contains = (position > 0) if contains is None else contains & (position > 0)
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


_find_sql: Dict[str, str] = {}
_FIELD_NAMES = tuple(f.name for f in Product._meta.sorted_fields)
