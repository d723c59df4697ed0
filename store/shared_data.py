"""Shared data: products, prices, codes, cashiers and shared settings live on the shop's server and come down.

The server (``install_server``, one of ``store.server.server_parts``) keeps
one row, ``shared_version``: a counter per shared table, bumped by a
statement trigger on that table, so every write is seen, whether from our
CLI or an owner's own SQL, and only when it commits. ``instance`` names the
server, so a till pointed at another server copies everything again.

``pull(conn)`` is what the sync worker calls about once a second, on its
own thread: one read of that row (a primary-key read); when a counter moved,
it reads the tables that moved whole, in the same REPEATABLE READ snapshot,
and makes the local copy equal in ONE local write transaction (upsert by
primary key, delete what the server no longer has), recording the versions
in ``shared_copy`` (local migration 15) in that transaction. Everything is
read from the server before the local transaction begins, so a server that
goes away mid-read changes nothing locally.

Product ids are the server's. A product the server no longer has is
deleted locally, unless local stock rows (balance, moves, count lines)
refer to it: then it is kept, inactive (the till no longer sells it, its
stock history stays readable), and its barcode moves aside to ``~<id>``
only when the server gives that barcode to another product. Lines of sales
refer to products ``ON DELETE SET NULL`` and keep their own snapshot
(barcode, name, unit price), so a sale keeps the price the till knew.

The till reads products and cashiers from its local database at each scan,
search and sign-in (no in-memory copy), so a pull is seen at the next one.
Anything that does keep a copy asks ``generation()`` (a number that moves
after each pull that changed rows) or registers ``on_change(callback)``.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Type

from peewee import BooleanField, DateTimeField, Field, Model

from store.db import db, is_sqlite, write_transaction
from store.errors import ServerError, StoreError
from store.models import Cashier, PriceChange, Product, ProductKey, SharedCopy, SharedSetting, now

log = logging.getLogger("chaoying.store.shared_data")

#: Settings sections the shop may set for every till (``shared_setting``); tui.settings checks the values.
SHARED_SECTIONS = ("selling", "limits")
#: The server-only row of versions.
VERSION_TABLE = "shared_version"
#: Name of the server's trigger (on each shared table) and of its function.
TRIGGER = "chaoying_shared_bump"
#: Rows per local INSERT statement.
_CHUNK = 200


class SharedDataError(ServerError):
    """The server's shared data cannot be read or copied, or the server went away while it was read: one
    sentence (``code``, ``values``); the till's copy is unchanged."""


class _Table(NamedTuple):
    name: str
    model: Type[Model]
    key: Tuple[str, ...]  # the primary key's columns
    unique: str = ""  # another unique column, moved aside while rows are updated (two rows may swap values)

    @property
    def fields(self) -> List[Field]:
        return list(self.model._meta.sorted_fields)

    @property
    def columns(self) -> List[str]:
        return [f.column_name for f in self.fields]


#: Parents before children: inserts go in this order (product_key and price_change refer to product).
TABLES: Tuple[_Table, ...] = (
    _Table("product", Product, ("id",), unique="barcode"),
    _Table("product_key", ProductKey, ("kind", "key", "product_id")),
    _Table("price_change", PriceChange, ("id",)),
    _Table("cashier", Cashier, ("id",), unique="code"),
    _Table("shared_setting", SharedSetting, ("section", "key")),
)
TABLE_NAMES = tuple(table.name for table in TABLES)

Row = Tuple[Any, ...]


# ---------------------------------------------------------------- the server's part

def install_server(cursor: Any) -> None:
    """Server DDL (idempotent): the ``shared_version`` row and a statement trigger on each shared table.

    One of ``store.server.server_parts``: called with a psycopg2
    cursor inside ``migrate_server``'s transaction, after the till migrations made the shared tables.
    """
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
                   "id integer PRIMARY KEY CHECK (id = 1), instance varchar(64) NOT NULL)")
    for name in TABLE_NAMES:
        cursor.execute(f"ALTER TABLE {VERSION_TABLE} ADD COLUMN IF NOT EXISTS {name} bigint NOT NULL DEFAULT 0")
    cursor.execute(f"INSERT INTO {VERSION_TABLE} (id, instance) "
                   "VALUES (1, md5(random()::text || clock_timestamp()::text)) ON CONFLICT (id) DO NOTHING")
    cursor.execute(f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE {VERSION_TABLE} SET %1$I = %1$I + 1 WHERE id = 1', TG_TABLE_NAME);
    RETURN NULL;
END $$""")
    for name in TABLE_NAMES:
        cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass", (TRIGGER, name))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{name}" '
                           f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()")


def install_on(database: Any) -> None:
    """``install_server`` through a peewee database bound to the server (the back-office CLI's way in)."""
    with database.atomic():
        install_server(database.cursor())


# ---------------------------------------------------------------- generation and listeners

_lock = threading.Lock()
_generation = 0
_listeners: List[Callable[[Set[str]], None]] = []


def generation() -> int:
    """A number that moves after every pull that changed local rows: a cache compares it, cheaply."""
    return _generation


def on_change(callback: Callable[[Set[str]], None]) -> Callable[[], None]:
    """Call ``callback(tables changed)`` after each pull that changed rows, on the pulling (sync) thread.

    A screen must hand it to the UI thread itself (``App.call_from_thread``). Returns the unsubscribe call.
    """
    with _lock:
        _listeners.append(callback)

    def remove() -> None:
        with _lock:
            if callback in _listeners:
                _listeners.remove(callback)
    return remove


def _changed(tables: Set[str]) -> None:
    global _generation
    with _lock:
        _generation += 1
        listeners = list(_listeners)
    for callback in listeners:
        try:
            callback(set(tables))
        except Exception:  # a listener's fault is not the pull's
            log.exception("a shared-data listener failed")


# ---------------------------------------------------------------- pull

def pull(conn: Any) -> int:
    """Make the local copy of the shared tables equal to the server's; return the local rows changed.

    ``conn``: a psycopg2 connection to the server (``store.server.connect_server``) with no transaction of
    the caller's open: the sync worker's, on its own thread. One primary-key read when nothing moved; the
    server transaction is ended either way. Raises SharedDataError, a ServerError (one sentence: the server
    has no shared-data part, went away mid-read, or sent rows this till cannot take); the local copy is then
    as it was. Store work: never on the UI thread.
    """
    import psycopg2

    with _local_connection():
        try:
            with _server_snapshot(conn) as cursor:
                server = _server_versions(cursor)
                local = _local_versions()
                moved = [table for table in TABLES
                         if local.get(table.name) != (server["instance"], server[table.name])]
                if not moved:
                    return 0
                rows = _kept_while_empty({table.name: _server_rows(cursor, table) for table in moved})
        except psycopg2.Error as exc:
            text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SharedDataError(f"The shop's server went away while the shared data was read ({text}); "
                                  "the till's copy is unchanged.", "shared_read_failed", reason=text) from exc
        changed, tables = _apply(rows, server)
    log.info("shared data from the server: %d rows changed (%s)", changed, ", ".join(sorted(tables)) or "none")
    if changed:
        _changed(tables)
    return changed


#: A server table that holds no row yet leaves the till's own copy of it (and of the tables hanging on it) alone.
_KEPT_WHILE_EMPTY = {"product": ("product", "product_key", "price_change"), "cashier": ("cashier",)}
_said_empty: Set[str] = set()


def _kept_while_empty(rows: Dict[str, Optional[Dict[Row, Row]]]) -> Dict[str, Optional[Dict[Row, Row]]]:
    """``rows`` with None (the till's copy kept, the version still recorded) for each group whose server table
    is empty: a till joining a server that has no catalogue (or no cashiers) yet keeps selling from its own,
    instead of losing it, until the owner writes them there (a row written there moves the version again)."""
    for table, group in _KEPT_WHILE_EMPTY.items():
        if table in rows and not rows[table]:
            if table not in _said_empty:
                _said_empty.add(table)
                log.warning("the shop's server has no %s rows yet: this till keeps its own until they are written "
                            "there (chaoying products import / cashiers add --server)", table)
            rows = {name: None if name in group else found for name, found in rows.items()}
    return rows


@contextlib.contextmanager
def _server_snapshot(conn: Any) -> Iterator[Any]:
    """A read-only REPEATABLE READ transaction on the server (one snapshot), ended (rolled back) after."""
    if not conn.autocommit:
        conn.rollback()  # a transaction left open would be an older snapshot
    cursor = conn.cursor()
    try:
        if conn.autocommit:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield cursor
    finally:
        try:
            if conn.autocommit:
                cursor.execute("ROLLBACK")
            else:
                conn.rollback()
            cursor.close()
        except Exception:  # the connection is gone: the caller's error says why
            log.debug("could not end the shared-data read", exc_info=True)


def _server_versions(cursor: Any) -> Dict[str, Any]:
    columns = ", ".join(("instance",) + TABLE_NAMES)
    try:
        cursor.execute(f"SELECT {columns} FROM {VERSION_TABLE} WHERE id = 1")
    except Exception as exc:
        import psycopg2

        if isinstance(exc, psycopg2.errors.UndefinedTable):
            raise SharedDataError("The server has no shared data yet: run chaoying init with [server] url set.",
                                  "shared_not_installed") from None
        raise
    row = cursor.fetchone()
    if row is None:
        raise SharedDataError("The server's shared_version row is missing: run chaoying init with [server] url set.",
                              "shared_not_installed")
    return dict(zip(("instance",) + TABLE_NAMES, row))


def _server_rows(cursor: Any, table: _Table) -> Dict[Row, Row]:
    """The server's whole table, normalised as peewee reads it: primary key -> row."""
    columns = ", ".join(f'"{column}"' for column in table.columns)
    cursor.execute(f'SELECT {columns} FROM "{table.name}"')
    return _keyed(table, cursor.fetchall())


def _keyed(table: _Table, raw: Sequence[Sequence[Any]]) -> Dict[Row, Row]:
    """Rows by primary key, each value as peewee reads it (only booleans and times need a conversion)."""
    convert = [(i, field.python_value) for i, field in enumerate(table.fields) if _converted(field)]
    at = [table.columns.index(column) for column in table.key]
    rows: Dict[Row, Row] = {}
    for values in raw:
        if convert:
            values = list(values)
            for i, python_value in convert:
                values[i] = python_value(values[i])
        row = tuple(values)
        rows[tuple(row[i] for i in at)] = row
    return rows


def _converted(field: Field) -> bool:
    return isinstance(field, (BooleanField, DateTimeField))


def _local_versions() -> Dict[str, Tuple[str, int]]:
    return {name: (instance, int(version)) for name, instance, version
            in SharedCopy.select(SharedCopy.name, SharedCopy.instance, SharedCopy.version).tuples()}


def _local_rows(table: _Table) -> Dict[Row, Row]:
    columns = ", ".join(f'"{column}"' for column in table.columns)
    return _keyed(table, db.obj.execute_sql(f'SELECT {columns} FROM "{table.name}"').fetchall())


@contextlib.contextmanager
def _local_connection() -> Iterator[None]:
    """This thread's connection to the local database: opened (and closed after) only if it was not open."""
    opened = db.obj.is_closed()
    if opened:
        db.obj.connect()
    try:
        yield
    finally:
        if opened:
            db.obj.close()


# ---------------------------------------------------------------- the local copy

def _apply(server_rows: Dict[str, Optional[Dict[Row, Row]]], versions: Dict[str, Any]) -> Tuple[int, Set[str]]:
    """One local write transaction: each moved table made equal (None: kept as it is), and shared_copy set to the
    versions read."""
    changed = 0
    tables: Set[str] = set()
    try:
        with write_transaction():
            # parents first: a product deleted takes its keys and price changes with it (ON DELETE CASCADE)
            # before those tables are compared, and a new product is there before its keys
            for table in TABLES:
                found = server_rows.get(table.name)
                if found is not None:
                    count = _write(table, _diff(table, found), found)
                    changed += count
                    if count:
                        tables.add(table.name)
            at = now()
            for name in server_rows:
                (SharedCopy.insert(name=name, instance=versions["instance"], version=versions[name], pulled_at=at)
                 .on_conflict(conflict_target=[SharedCopy.name],
                              preserve=[SharedCopy.instance, SharedCopy.version, SharedCopy.pulled_at])
                 .execute())
    except StoreError:
        raise
    except Exception as exc:
        log.exception("the server's shared data could not be copied")
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SharedDataError(f"The server's shared data could not be copied to this till ({text}); "
                              "the till's copy is unchanged.", "shared_copy_failed", reason=text) from exc
    return changed, tables


@dataclass
class _Diff:
    new: List[Row]
    changed: List[Row]
    gone: List[Row]  # keys


def _diff(table: _Table, server: Dict[Row, Row]) -> _Diff:
    local = _local_rows(table)
    return _Diff(new=[row for key, row in server.items() if key not in local],
                 changed=[row for key, row in server.items() if key in local and local[key] != row],
                 gone=[key for key in local if key not in server])


def _write(table: _Table, diff: _Diff, server: Dict[Row, Row]) -> int:
    """Deletions, then updates, then inserts, as plain statements run many at a time (a whole catalogue's
    keys are hundreds of thousands of rows: query building per row would hold the write lock for seconds)."""
    count = 0
    if table.name == "product":
        count += _drop_products([key[0] for key in diff.gone], server)
    else:
        count += _delete(table, diff.gone)
    if diff.changed and table.unique:
        _move_aside(table, diff.changed)
    param = db.obj.param
    cursor = db.obj.cursor()
    if diff.changed:
        rest = [column for column in table.columns if column not in table.key]
        at = [table.columns.index(column) for column in rest + list(table.key)]
        sets = ", ".join(f'"{column}" = {param}' for column in rest)
        cursor.executemany(f'UPDATE "{table.name}" SET {sets} WHERE {_where(table.key, param)}',
                           [tuple(row[i] for i in at) for row in _db_rows(table, diff.changed)])
    count += len(diff.changed)
    if diff.new:
        columns = ", ".join(f'"{column}"' for column in table.columns)
        marks = ", ".join([param] * len(table.columns))
        cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',
                           _db_rows(table, diff.new))
    count += len(diff.new)
    return count


def _where(columns: Sequence[str], param: str) -> str:
    return " AND ".join(f'"{column}" = {param}' for column in columns)


def _db_row(table: _Table, row: Row) -> Row:
    """A row as the local SQLite stores it, as peewee writes it: a bool as 0/1, a datetime as its text."""
    if not is_sqlite(db.obj):
        return row
    values = list(row)
    for i, value in enumerate(row):
        if isinstance(value, bool):
            values[i] = int(value)
        elif isinstance(value, (datetime.datetime, datetime.date)):
            values[i] = str(value)
    return tuple(values)


def _db_rows(table: _Table, rows: List[Row]) -> List[Row]:
    if not is_sqlite(db.obj) or not any(_converted(field) for field in table.fields):
        return rows
    return [_db_row(table, row) for row in rows]


def _delete(table: _Table, keys: List[Row]) -> int:
    if keys:
        db.obj.cursor().executemany(f'DELETE FROM "{table.name}" WHERE {_where(table.key, db.obj.param)}', keys)
    return len(keys)


def _move_aside(table: _Table, rows: List[Row]) -> None:
    """Give the rows about to change a placeholder in their unique column, so two rows may swap values."""
    unique = table.model._meta.columns[table.unique]
    key = table.model._meta.columns[table.key[0]]
    at = table.columns.index(table.unique)
    stored = dict(table.model.select(key, unique).where(key.in_([row[0] for row in rows])).tuples())
    for row in rows:
        if stored.get(row[0]) != row[at]:
            table.model.update({unique: f"~~{row[0]}"}).where(key == row[0]).execute()


_STOCK_TABLES = ("stock_balance", "stock_move", "stock_count_line")


def _drop_products(ids: List[int], server: Dict[Row, Row]) -> int:
    """Delete the products the server no longer has, but keep (inactive) those local stock rows refer to."""
    if not ids:
        return 0
    database = db.obj
    kept: Set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join([database.param] * len(chunk))
        for name in _STOCK_TABLES:
            found = database.execute_sql(f'SELECT DISTINCT product_id FROM "{name}" WHERE product_id IN ({marks})',
                                         chunk).fetchall()
            kept.update(product_id for (product_id,) in found)
    taken = {row[1] for row in server.values()}  # the server's barcodes
    count = 0
    for product_id in ids:
        if product_id not in kept:
            Product.delete().where(Product.id == product_id).execute()  # its keys and price changes go with it
            count += 1
            continue
        product = Product.get_by_id(product_id)
        retired: Dict[Any, Any] = {}
        if product.active:
            retired[Product.active] = False
        if product.barcode in taken:
            retired[Product.barcode] = f"~{product_id}"
        if retired:
            Product.update(retired).where(Product.id == product_id).execute()
            count += 1
    if kept:
        log.info("kept %d products the server no longer has, inactive: local stock rows refer to them", len(kept))
    return count


# ---------------------------------------------------------------- shared settings

def shared_settings() -> Dict[str, Dict[str, Any]]:
    """The shared settings in this database: {section: {key: value}} (values as JSON gave them)."""
    found: Dict[str, Dict[str, Any]] = {}
    for section, key, value in SharedSetting.select(SharedSetting.section, SharedSetting.key,
                                                    SharedSetting.value).tuples():
        try:
            found.setdefault(section, {})[key] = json.loads(value)
        except ValueError:
            log.warning("shared setting %s.%s is not JSON: ignored", section, key)
    return found


def set_shared_setting(section: str, key: str, value: Any, changed_by: str = "") -> None:
    """Set one shared setting (the caller checked it: tui.settings knows the keys and their checks)."""
    if section not in SHARED_SECTIONS:
        raise SharedDataError(f"Only [{'] and ['.join(SHARED_SECTIONS)}] settings can be shared, not [{section}].",
                              "shared_section", section=section)
    text = json.dumps(value, ensure_ascii=False)
    with write_transaction():
        (SharedSetting.insert(section=section, key=key, value=text, changed_at=now(), changed_by=changed_by[:50])
         .on_conflict(conflict_target=[SharedSetting.section, SharedSetting.key],
                      preserve=[SharedSetting.value, SharedSetting.changed_at, SharedSetting.changed_by])
         .execute())


def unset_shared_setting(section: str, key: str) -> bool:
    """Remove one shared setting (tills use their file's value again); False when it was not set."""
    with write_transaction():
        return bool(SharedSetting.delete().where((SharedSetting.section == section)
                                                 & (SharedSetting.key == key)).execute())


def on_server(database: Any) -> bool:
    """True when ``database`` is the shop's server (PostgreSQL with the shared_version row), not a till's copy."""
    return not is_sqlite(database) and database.table_exists(VERSION_TABLE)
