"""The shop's stock (全店库存) on a till: the server's balances of every till's moves, plus this till's newest own.

A till's ``stock_balance`` holds only its own moves (``journal verify --full`` checks it is their sum), so with
several tills it is wrong for the shop: a delivery received on till 1, sales rung up on till 2. The server keeps
``stock_balance`` as the sum over every till's synced moves (store.server.send_batch). ``pull(conn)`` (a hook of
the sync worker, tui.services.sync) copies it down into ``shop_stock`` (local migration 18), apart from the
till's own balances, together with ``shop_stock_mark``: the server's version, this till's head seq on the server
read in the same snapshot, and ``first_move``: the first local move the server's figure does not hold yet.

So on the till: shop on hand = the server's balance + this till's own moves from ``first_move`` on. A sale not
yet synced is in the tail and not on the server; once its batch is applied, the next pull moves ``first_move``
past it as it takes the server's new figure (one snapshot: the balance and the head move together), so it is
counted once before, during and after. The tail is read through ``stock_move_product`` (product_id, id) or the
primary key from ``first_move``: the moves not yet synced, never history.

Server side (``install_server``, one of store.server.server_parts): a row ``shop_stock_version`` (instance,
version) and ``stock_balance.shop_version``, stamped by a row trigger with the version bumped in the writing
transaction: the version row's lock orders the commits, so "rows with shop_version > what I have" misses none.
When nothing moved, a pull is one primary-key read on the server and no local write (the time the server last
confirmed the figure is kept in memory, written at most once a minute).

Reading (store work; each falls back to store.stock, the till's own balances, while nothing came down):
``on_hand(product_id) -> int``, ``on_hand_many(ids) -> {id: qty_milli}``, ``list_stock(low=False) ->
List[Balance]``, ``low_stock()``, ``stock_value() -> int``, ``as_of() -> Optional[datetime]`` (when the server
last confirmed the figure; None: nothing came down, the figures are the till's own).
"""
from __future__ import annotations

import datetime
import logging
from typing import Any, Dict, Iterable, List, Optional, Tuple

from store import money, stock
from store.db import db, write_transaction
from store.errors import ServerError
from store.models import ShopStock, ShopStockMark, now

log = logging.getLogger("chaoying.store.shop_stock")

#: The server-only version row and the trigger (function) that stamps stock_balance rows.
VERSION_TABLE = "shop_stock_version"
TRIGGER = "chaoying_stock_bump"
#: The time the server last confirmed the figure is written down at most this often (seconds).
CONFIRM_WRITE_S = 60
_CHUNK = 500
_MARK = 1


class ShopStockError(ServerError):
    """The server's stock cannot be read or copied: one sentence; the till's copy is unchanged."""


# ---------------------------------------------------------------- the server's part


def install_server(cursor: Any) -> None:
    """Server DDL (idempotent): the stock version row, stock_balance.shop_version stamped by a row trigger."""
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (id integer PRIMARY KEY CHECK (id = 1), "
                   "instance varchar(64) NOT NULL, version bigint NOT NULL DEFAULT 0)")
    cursor.execute(f"INSERT INTO {VERSION_TABLE} (id, instance) "
                   "VALUES (1, md5(random()::text || clock_timestamp()::text)) ON CONFLICT (id) DO NOTHING")
    cursor.execute("ALTER TABLE stock_balance ADD COLUMN IF NOT EXISTS shop_version bigint NOT NULL DEFAULT 0")
    cursor.execute("CREATE INDEX IF NOT EXISTS stock_balance_shop_version ON stock_balance (shop_version)")
    # the UPDATE takes the version row's lock until the writer commits: versions commit in their order
    cursor.execute(f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {VERSION_TABLE} SET version = version + 1 WHERE id = 1 RETURNING version INTO NEW.shop_version;
    RETURN NEW;
END $$""")
    cursor.execute("SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = 'stock_balance'::regclass", (TRIGGER,))
    if cursor.fetchone() is None:
        cursor.execute(f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE ON stock_balance "
                       f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")


# ---------------------------------------------------------------- pull

_confirmed: Dict[str, datetime.datetime] = {}  # database identity -> when the server last confirmed the figure


def pull(conn: Any, till_id: Optional[str] = None) -> int:
    """Bring the server's changed stock rows down; return the rows copied (0: none changed).

    ``conn``: the sync worker's psycopg2 connection (no transaction of the caller's open), ``till_id`` the till
    (default: the one this database syncs, its sync_mark row). One read of the server's version row and this
    till's head when nothing moved; otherwise the rows stamped after the local version, in the same snapshot,
    applied in one local write transaction. Raises ShopStockError; the local copy is then as it was.
    """
    import psycopg2

    from store.shared_data import _local_connection, _server_snapshot

    with _local_connection():
        till = till_id or _this_till()
        if not till:
            return 0  # nothing synced yet: no head to bound the till's own moves by
        mark = ShopStockMark.get_or_none(ShopStockMark.id == _MARK)
        try:
            with _server_snapshot(conn) as cursor:
                instance, version, head = _server_version(cursor, till)
                same = mark is not None and mark.instance == instance and mark.till_id == till
                if same and int(mark.version) == version and int(mark.head_seq) == head:
                    _confirm(mark)
                    return 0
                cursor.execute("SELECT product_id, on_hand_milli, avg_cost_fen, min_milli, shop_version "
                               "FROM stock_balance WHERE shop_version > %s", (int(mark.version) if same else -1,))
                rows = [tuple(int(v) if v is not None else None for v in row) for row in cursor.fetchall()]
        except psycopg2.Error as exc:
            text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ShopStockError(f"The shop's stock could not be read from the server ({text}); the till keeps "
                                 "the figure it had.", "shop_stock_read_failed", reason=text) from None
        changed = _apply(rows, instance, version, till, head, replace=not same)
    if changed:
        log.info("shop stock from the server: %d rows changed (version %d, till %s at record %d)",
                 changed, version, till, head)
    return changed


def _server_version(cursor: Any, till: str) -> Tuple[str, int, int]:
    """(instance, version, this till's head seq there) in the snapshot; ShopStockError when the part is missing."""
    import psycopg2

    try:
        cursor.execute(f"SELECT v.instance, v.version, (SELECT head_seq FROM sync_till WHERE till_id = %s) "
                       f"FROM {VERSION_TABLE} v WHERE v.id = 1", (till,))
    except psycopg2.errors.UndefinedTable:
        raise ShopStockError("The server keeps no shop stock yet: run chaoying init with [server] url set.",
                             "shop_stock_not_installed") from None
    row = cursor.fetchone()
    if row is None:
        raise ShopStockError("The server's shop_stock_version row is missing: run chaoying init with [server] "
                             "url set.", "shop_stock_not_installed")
    return str(row[0]), int(row[1]), int(row[2] or 0)


def _this_till() -> str:
    """The till this database syncs (its sync_mark row; the newest sent when there are several)."""
    row = db.obj.execute_sql("SELECT till_id FROM sync_mark ORDER BY sent_at IS NULL, sent_at DESC, till_id "
                             "LIMIT 1").fetchone()
    return str(row[0]) if row else ""


def _first_move(till: str, head: int) -> int:
    """The first local move the server's figure lacks: the first stock move sealed after ``head`` (moves and
    their records are written in one transaction each, so ids and seqs rise together); none: the next id."""
    p = db.obj.param
    row = db.obj.execute_sql(f"SELECT MIN(ref) FROM audit WHERE till_id = {p} AND seq > {p} AND kind = {p}",
                             (till, int(head), "stock_move")).fetchone()
    if row and row[0] is not None:
        return int(row[0])
    row = db.obj.execute_sql("SELECT MAX(id) FROM stock_move").fetchone()
    return int(row[0] or 0) + 1


def _apply(rows: List[tuple], instance: str, version: int, till: str, head: int, replace: bool) -> int:
    at = now()
    try:
        with write_transaction():
            if replace:
                ShopStock.delete().execute()  # another server, or another till: its figures are not ours
            p = db.obj.param
            db.obj.cursor().executemany(
                f"INSERT INTO shop_stock (product_id, on_hand_milli, avg_cost_fen, min_milli, version) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}) ON CONFLICT (product_id) DO UPDATE SET "
                "on_hand_milli = excluded.on_hand_milli, avg_cost_fen = excluded.avg_cost_fen, "
                "min_milli = excluded.min_milli, version = excluded.version", rows)
            values = dict(instance=instance, version=version, till_id=till, head_seq=head,
                          first_move=_first_move(till, head), pulled_at=at, checked_at=at)
            (ShopStockMark.insert(id=_MARK, **values)
             .on_conflict(conflict_target=[ShopStockMark.id], update=values).execute())
    except Exception as exc:
        log.exception("the server's stock could not be copied")
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ShopStockError(f"The shop's stock could not be copied to this till ({text}); the till keeps the "
                             "figure it had.", "shop_stock_copy_failed", reason=text) from None
    _confirmed[_key()] = at
    return len(rows)


def _confirm(mark: ShopStockMark) -> None:
    """The server says the figure is current: kept in memory, written down at most once a minute."""
    at = now()
    _confirmed[_key()] = at
    if mark.checked_at is None or (at - mark.checked_at).total_seconds() >= CONFIRM_WRITE_S:
        with write_transaction():
            ShopStockMark.update(checked_at=at).where(ShopStockMark.id == _MARK).execute()


def _key() -> str:
    return str(getattr(db.obj, "database", ""))


# ---------------------------------------------------------------- reading


def as_of() -> Optional[datetime.datetime]:
    """When the server last confirmed the shop's figure; None while nothing came down (the till's own figures)."""
    row = ShopStockMark.select(ShopStockMark.checked_at).where(ShopStockMark.id == _MARK).tuples().first()
    if row is None:
        return None
    times = [t for t in (row[0], _confirmed.get(_key())) if t is not None]
    return max(times) if times else None


_reads: Dict[str, str] = {}


def _on_hand_sql() -> str:
    """One statement (one snapshot): the mark's bound, the server's on hand, the till's own moves from the bound."""
    p = db.obj.param
    if p not in _reads:
        _reads[p] = (
            "SELECT m.first_move, (SELECT s.on_hand_milli FROM shop_stock s WHERE s.product_id = {p}), "
            "(SELECT SUM(t.qty_milli) FROM stock_move t WHERE t.product_id = {p} AND t.id >= m.first_move) "
            "FROM shop_stock_mark m WHERE m.id = {p}").format(p=p)
    return _reads[p]


def on_hand(product_id: int) -> int:
    """The shop's on hand of a product: the server's balance plus this till's moves it lacks (bounded by
    ``first_move`` on the (product_id, id) index); the till's own when nothing came down."""
    pid = int(product_id)
    row = db.obj.execute_sql(_on_hand_sql(), (pid, pid, _MARK)).fetchone()
    if row is None:
        return stock.on_hand(pid)
    return int(row[1] or 0) + int(row[2] or 0)


def _first() -> Optional[int]:
    row = ShopStockMark.select(ShopStockMark.first_move).where(ShopStockMark.id == _MARK).tuples().first()
    return None if row is None else int(row[0])


def on_hand_many(product_ids: Iterable[int]) -> Dict[int, int]:
    """The shop's on hand of each product (a search's results): {id: qty_milli}, 0 for those without stock."""
    ids = [int(i) for i in product_ids]
    with db.obj.atomic():  # one snapshot: the bound and the rows
        first = _first()
        if first is None:
            return stock.on_hand_many(ids)
        found = {pid: 0 for pid in ids}
        p = db.obj.param
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join([p] * len(chunk))
            for pid, qty in db.obj.execute_sql(
                    f"SELECT product_id, on_hand_milli FROM shop_stock WHERE product_id IN ({marks})", chunk):
                found[int(pid)] += int(qty)
            for pid, qty in db.obj.execute_sql(
                    f"SELECT product_id, SUM(qty_milli) FROM stock_move WHERE product_id IN ({marks}) "
                    f"AND id >= {p} GROUP BY product_id", chunk + [first]):
                found[int(pid)] += int(qty or 0)
    return found


def list_stock(low: bool = False) -> List[stock.Balance]:
    """As store.stock.list_stock, with the shop's figures: every product on sale and any other with stock
    (``low``: those at or below their threshold: this till's, else the server's), by barcode."""
    with db.obj.atomic():  # one snapshot: the bound, the server's rows and the till's own moves
        first = _first()
        if first is None:
            return stock.list_stock(low)
        tail = _tail(first)
        select = ("SELECT p.id, p.barcode, p.name, p.unit, p.active, s.on_hand_milli, s.avg_cost_fen, "
                  "COALESCE(b.min_milli, s.min_milli) FROM product p "
                  "LEFT JOIN shop_stock s ON s.product_id = p.id LEFT JOIN stock_balance b ON b.product_id = p.id ")
        where = "COALESCE(b.min_milli, s.min_milli) IS NOT NULL" if low else \
            "p.active = 1 OR COALESCE(s.on_hand_milli, 0) != 0"
        rows = list(db.obj.execute_sql(select + "WHERE " + where))
        seen = {int(row[0]) for row in rows}
        rest = sorted(pid for pid in tail if pid not in seen)  # moved here since: their stock may be new
        for start in range(0, len(rest), _CHUNK):
            chunk = rest[start:start + _CHUNK]
            rows += list(db.obj.execute_sql(select + f"WHERE p.id IN ({', '.join([db.obj.param] * len(chunk))})",
                                            chunk))
    found = []
    for pid, barcode, name, unit, active, held, cost, threshold in rows:
        held, cost = int(held or 0), int(cost or 0)
        for kind, qty, unit_cost in tail.get(int(pid), ()):
            if kind == stock.RECEIVED:  # as the server will average it
                cost = stock.moving_average(held, cost, qty, unit_cost)
            held += qty
        balance = stock.Balance(int(pid), barcode, name, unit or "", held, cost,
                                None if threshold is None else int(threshold))
        if balance.low if low else (active or held != 0):
            found.append(balance)
    return sorted(found, key=lambda b: b.barcode)


def _tail(first: int) -> Dict[int, List[Tuple[str, int, int]]]:
    """This till's moves from ``first`` on (not on the server's figure yet), per product in order: a primary
    key range, the moves not yet synced."""
    found: Dict[int, List[Tuple[str, int, int]]] = {}
    for pid, kind, qty, cost in db.obj.execute_sql(
            f"SELECT product_id, kind, qty_milli, cost_fen FROM stock_move WHERE id >= {db.obj.param} ORDER BY id",
            (first,)):
        found.setdefault(int(pid), []).append((kind, int(qty), int(cost)))
    return found


def low_stock() -> List[stock.Balance]:
    """What to reorder, shop-wide: products at or below their threshold."""
    return list_stock(low=True)


def stock_value() -> int:
    """What the shop's stock on the shelves cost, in fen (moving average, products with some on hand)."""
    return sum(money.line_amount(b.avg_cost_fen, b.on_hand_milli) for b in list_stock() if b.on_hand_milli > 0)
