"""The shop's server side of sync up: each till's records arrive in journal order, exactly once, chain checked.

The server is a PostgreSQL database holding the till schema (store.migrations,
applied by ``migrate_server``) plus server-only parts (``server_parts``):
every till-owned table with BIGINT ids and no foreign keys, and ``sync_till``,
one row per till: its shop, its ``till_index``, the instance (the till's
local database) that owns the id, the head of its chain as the server holds
it, and the last refusal.

Ids: a till's row with local id ``n`` is stored with id ``till_index *
ID_BLOCK + n``, and so are the local ids inside it (sale, shift, original,
document, count, ...); product ids are the server's own and never shifted.
Audit contents are stored as the till wrote them, so their hashes still
verify; a verify maps a row's ids back (``local_id``).

This module talks to the server with psycopg2 directly (``connect_server``),
never through ``store.db.db``, which stays bound to the till's own SQLite.
"""
from __future__ import annotations

import datetime
import json
import logging
import math
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Sequence, Set, Tuple

from store import audit, chain, journal
from store.db import redact
from store.errors import BatchRefused, ServerError
from store.models import GENESIS_HASH

log = logging.getLogger("chaoying.store.server")

#: Ids of one till on the server: till_index * ID_BLOCK + local id.
ID_BLOCK = 10 ** 12

#: Tables whose rows a till writes and sync brings to the server: on the server their integer id columns are
#: BIGINT and they have no foreign keys (every migrate_server, so later migrations' columns are widened too).
#: A module with till-owned tables of its own appends them before migrate_server runs.
TILL_TABLES: List[str] = [
    "sale", "line", "payment", "discount", "receipt_outcome", "print_attempt", "event", "audit", "shift",
    "cash_move", "shift_handover", "z_report", "payment_attempt", "provider_refund", "stock_move", "stock_balance",
    "stock_count", "stock_count_line", "open_basket", "till_counter"]
#: Integer columns holding an id that are not named id or *_id.
_PLAIN_ID_COLUMNS = ("basket", "sale", "document", "count", "last_move", "ref")

_LOCK_KEY = 0x63687379  # "chsy": serialises new till indexes and server migrations


class _Refused(Exception):
    def __init__(self, sentence: str, code: str, **values: Any) -> None:
        super().__init__(sentence)
        self.sentence, self.code, self.values = sentence, code, values


def _sentence(exc: BaseException, url: str = "") -> str:
    """The first line of a driver error, with any password in ``url`` taken out."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if url:
        from urllib.parse import urlsplit

        password = urlsplit(url).password
        if password:
            text = text.replace(password, "***")
    return text


# ---------------------------------------------------------------- connecting and migrating


def connect_server(url: str, timeout_s: float = 5.0) -> Any:
    """A psycopg2 connection to the shop's server: connect timeout, TCP keepalives, a statement timeout.

    ``timeout_s`` bounds connecting and, with tcp_user_timeout, a connection whose peer went away mid-send;
    a statement may take six times as long. Raises ServerError (one sentence, password redacted).
    """
    import psycopg2

    seconds = max(1, int(math.ceil(timeout_s)))
    try:
        return psycopg2.connect(
            url, connect_timeout=seconds, keepalives=1, keepalives_idle=max(1, seconds), keepalives_interval=1,
            keepalives_count=max(1, seconds), tcp_user_timeout=seconds * 1000, application_name="chaoying",
            options=f"-c statement_timeout={int(timeout_s * 6000)}")
    except psycopg2.Error as exc:
        raise ServerError(f"The shop's server {redact(url)} cannot be reached: {_sentence(exc, url)}.",
                          "server_unreachable", url=redact(url), detail=_sentence(exc, url)) from None


def migrate_server(url: str) -> List[str]:
    """Create or migrate the server's schema: the till migrations on PostgreSQL, then every server part (server_parts).

    The migrations run on a peewee database of their own (``store.db.db`` stays bound as it was); the parts in
    one psycopg2 transaction under an advisory lock. Returns a sentence per step done.
    """
    import peewee
    import psycopg2

    from store import migrations
    from store.db import connect_url, is_sqlite

    try:
        database = connect_url(url)
    except Exception as exc:  # a bad URL: playhouse raises what its parser met
        raise ServerError(f"The server URL {redact(url)} is not a database URL: {_sentence(exc, url)}.",
                          "server_bad_url", url=redact(url)) from None
    if is_sqlite(database) or not isinstance(database, peewee.PostgresqlDatabase):
        raise ServerError(f"The server URL {redact(url)} does not name a PostgreSQL database.", "server_bad_url",
                          url=redact(url))
    try:
        database.connect()
        applied = migrations.migrate(database)
    except peewee.PeeweeException as exc:
        raise ServerError(f"The shop's server {redact(url)} could not be migrated: {_sentence(exc, url)}.",
                          "server_migrate_failed", url=redact(url)) from None
    finally:
        if not database.is_closed():
            database.close()
    done = [f"migration {number}: {name}" for number, name, _ in migrations.MIGRATIONS if number in applied]
    conn = connect_server(url, timeout_s=30.0)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            for part in server_parts():
                part(cursor)
                done.append("server: " + ((part.__doc__ or part.__name__).strip().splitlines()[0]))
        conn.commit()
    except psycopg2.Error as exc:
        conn.rollback()
        raise ServerError(f"The shop's server {redact(url)} could not be migrated: {_sentence(exc, url)}.",
                          "server_migrate_failed", url=redact(url)) from None
    finally:
        conn.close()
    return done


def _widen_ids(cursor: Any) -> None:
    """Till-owned tables: every integer id column BIGINT (ids are shifted by till), their sequences too."""
    cursor.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ANY(%s) AND data_type = 'integer' "
        "AND (column_name = 'id' OR column_name LIKE '%%\\_id' OR column_name = ANY(%s)) ORDER BY 1, 2",
        (list(TILL_TABLES), list(_PLAIN_ID_COLUMNS)))
    by_table: Dict[str, List[str]] = {}
    for table, column in cursor.fetchall():
        by_table.setdefault(table, []).append(column)
    for table, columns in by_table.items():
        cursor.execute(f'ALTER TABLE "{table}" ' + ", ".join(f'ALTER COLUMN "{c}" TYPE BIGINT' for c in columns))
    cursor.execute(
        "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' "
        "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_sequence q ON q.seqrelid = s.oid "
        "WHERE s.relkind = 'S' AND t.relname = ANY(%s) AND q.seqtypid = 'integer'::regtype "
        "AND t.relnamespace = current_schema()::regnamespace", (list(TILL_TABLES),))
    for (sequence,) in cursor.fetchall():
        cursor.execute(f'ALTER SEQUENCE "{sequence}" AS BIGINT')


def _widen_audit_kind(cursor: Any) -> None:
    """audit.kind VARCHAR(32): SQLite never checked its 12, and "provider_refund" has 15 characters."""
    cursor.execute("SELECT character_maximum_length FROM information_schema.columns WHERE table_schema = "
                   "current_schema() AND table_name = 'audit' AND column_name = 'kind'")
    row = cursor.fetchone()
    if row is not None and row[0] is not None and int(row[0]) < 32:
        cursor.execute('ALTER TABLE "audit" ALTER COLUMN "kind" TYPE VARCHAR(32)')


def _drop_foreign_keys(cursor: Any) -> None:
    """No foreign keys on till-owned tables: rows arrive in record order, and a product may be unknown here."""
    cursor.execute(
        "SELECT t.relname, c.conname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE c.contype = 'f' AND t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace",
        (list(TILL_TABLES),))
    for table, name in cursor.fetchall():
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')


def _create_sync_till(cursor: Any) -> None:
    """sync_till: each till's shop, index, owning instance, the head of its chain here, and its last refusal."""
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS sync_till (till_id VARCHAR(8) PRIMARY KEY, shop VARCHAR(32) NOT NULL DEFAULT '', "
        "till_index INTEGER NOT NULL UNIQUE, instance VARCHAR(32) NOT NULL DEFAULT '', "
        "head_seq BIGINT NOT NULL DEFAULT 0, head_hash VARCHAR(64) NOT NULL DEFAULT '" + GENESIS_HASH + "', "
        "last_at TIMESTAMP, records BIGINT NOT NULL DEFAULT 0, refusal TEXT NOT NULL DEFAULT '', "
        "refused_at TIMESTAMP, refused_instance VARCHAR(32) NOT NULL DEFAULT '')")
    cursor.execute("CREATE INDEX IF NOT EXISTS sync_till_shop ON sync_till (shop, till_index)")
    _add_local_head(cursor)
    _add_refusal_code(cursor)


def _add_refusal_code(cursor: Any) -> None:
    """sync_till.refusal_code, refusal_values: the last refusal's error code and its values (JSON text), so a
    reader says it in its own language (the refusal column is the English sentence)."""
    cursor.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                   "AND table_name = 'sync_till' AND column_name IN ('refusal_code', 'refusal_values')")
    if cursor.fetchone()[0] == 2:  # read first: ALTER TABLE locks the table even when the columns are there
        return
    cursor.execute("ALTER TABLE sync_till ADD COLUMN IF NOT EXISTS refusal_code VARCHAR(64) NOT NULL DEFAULT '', "
                   "ADD COLUMN IF NOT EXISTS refusal_values TEXT NOT NULL DEFAULT '{}'")


def _add_local_head(cursor: Any) -> bool:
    """sync_till.local_seq, local_at: the till's own head as its last batch said (how many it still had to send).
    True when they were there already."""
    cursor.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                   "AND table_name = 'sync_till' AND column_name IN ('local_seq', 'local_at')")
    if cursor.fetchone()[0] == 2:  # read first: ALTER TABLE locks the table even when the columns are there
        return True
    cursor.execute("ALTER TABLE sync_till ADD COLUMN IF NOT EXISTS local_seq BIGINT, "
                   "ADD COLUMN IF NOT EXISTS local_at TIMESTAMP")
    return False


#: Servers (by connection dsn) whose sync_till is known to have the local head columns.
_LOCAL_HEAD_READY: Set[str] = set()


def _local_head_ready(cursor: Any) -> bool:
    """True when sync_till has local_seq and local_at: a server migrated before them gets them at the first batch
    of this process (in a savepoint, first in the batch's transaction); False when this user may not add them."""
    import psycopg2

    dsn = str(getattr(cursor.connection, "dsn", ""))
    if dsn in _LOCAL_HEAD_READY:
        return True
    cursor.execute("SAVEPOINT local_head")
    try:
        there = _add_local_head(cursor)
    except psycopg2.Error as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT local_head")
        log.warning("the server's sync_till has no local head columns and they cannot be added here (%s): run "
                    "chaoying init", _sentence(exc))
        return False
    cursor.execute("RELEASE SAVEPOINT local_head")
    if there:  # columns added now are known once committed: a refused batch rolls them back
        _LOCAL_HEAD_READY.add(dsn)
    return True


def server_parts() -> List[Callable[[Any], None]]:
    """The server-only schema parts, each called with a psycopg2 cursor inside migrate_server's one transaction;
    each is idempotent (it runs on every ``chaoying init``): ours, the shop-wide tables (store.shop_copies) and
    the shared data's version row and triggers (store.shared_data), the refund claims (store.refund_claims) and
    the shop-wide stock version (store.shop_stock)."""
    from store import refund_claims, shared_data, shop_copies, shop_stock  # they import this module

    return [_widen_ids, _widen_audit_kind, _drop_foreign_keys, _create_sync_till, shop_copies.install_server,
            shared_data.install_server, refund_claims.install_server, shop_stock.install_server]


# ---------------------------------------------------------------- reading the tills


def local_id(value: Optional[int], base: int) -> Optional[int]:
    """A server id as its till knows it: ``id - base`` inside the till's block, else as it is."""
    if value is not None and base <= value < base + ID_BLOCK:
        return value - base
    return value


_HEAD_COLUMNS = ("till_id", "shop", "till_index", "instance", "head_seq", "head_hash", "last_at", "records",
                 "refusal", "refusal_code", "refusal_values", "refused_at", "refused_instance", "local_seq",
                 "local_at")


def _read(conn: Any, sql: str, params: Sequence[Any], named: bool = False) -> List[Any]:
    """Rows of a read (dicts by column name when ``named``); ends the transaction it opened (the caller's own
    open one is left as it was)."""
    import psycopg2.extensions as ext

    idle = conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if named:
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, row)) for row in rows]
            return rows
    except Exception as exc:
        if idle:
            conn.rollback()
        raise ServerError(f"The shop's server could not be read: {_sentence(exc)}.", "server_error",
                          detail=_sentence(exc)) from None
    finally:
        if idle and conn.get_transaction_status() != ext.TRANSACTION_STATUS_IDLE:
            conn.rollback()


def till_heads(conn: Any, shop: Optional[str] = None) -> List[dict]:
    """The server's sync_till rows as dicts (every till, or those of ``shop``), by till index.

    ``local_seq``/``local_at`` are the till's own head as its last accepted batch said (None before a till
    said one, or on a server migrated before them), and ``to_send`` what it still had to send then
    (``local_seq - head_seq``; None when unknown): a till that is offline cannot report a newer figure.
    ``silent_s``: seconds since its last accepted batch by the server's clock (None: never).
    """
    # every column there is (a server migrated before local_seq still reads), and how long each till has been
    # silent by the server's own clock (last_at is the server's now(); the till's clock or zone may differ)
    sql = "SELECT *, EXTRACT(EPOCH FROM (now()::timestamp - last_at))::bigint AS silent_s FROM sync_till"
    params: Tuple[Any, ...] = ()
    if shop is not None:
        sql, params = sql + " WHERE shop = %s", (shop,)
    heads = []
    for row in _read(conn, sql + " ORDER BY till_index", params, named=True):
        head = {name: row.get(name) for name in _HEAD_COLUMNS}
        head["refusal_code"] = str(head["refusal_code"] or "")
        head["refusal_values"] = _values(head["refusal_values"])
        local = head["local_seq"]
        head["to_send"] = None if local is None else max(0, int(local) - int(head["head_seq"] or 0))
        head["silent_s"] = row.get("silent_s")
        heads.append(head)
    return heads


def _values(text: Any) -> Dict[str, Any]:
    """A stored refusal's values ({} when none, or not a JSON object)."""
    try:
        values = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def till_base(conn: Any, till_id: str) -> Optional[int]:
    """The till's id base on the server (till_index * ID_BLOCK), None when the server has not seen it."""
    rows = _read(conn, "SELECT till_index FROM sync_till WHERE till_id = %s", (str(till_id),))
    return int(rows[0][0]) * ID_BLOCK if rows else None


# ---------------------------------------------------------------- sending a batch


def send_batch(conn: Any, batch: dict) -> int:
    """Store a till's batch in one server transaction; return the server's new head seq for the till.

    Idempotent on (till, seq): a record the server already holds is skipped when its hash equals the stored
    one (a batch resent after a crash between this commit and the till's mark is stored once), and refused
    when it differs: the till's chain was cut back and rewritten, or another database sends as this till. So
    the head held here is the server-held checkpoint head (issue 25): a till cannot cut its chain back and
    rewrite it unseen. A new record must follow the head (no gaps) and link to it; plain SHA-256 records
    ("" and "nokey") are hashed again here; HMAC records are checked by their links only, unless this process
    has the shop's journal key loaded (store.chain.set_key), when they are hashed again too. A commit's
    document must match the journal hash its record holds and link to the till's previous receipt.

    The till's first batch gives it its till_index, shop and instance; a batch from another instance for a
    claimed till id is refused ("two tills claim id 01") and the owner keeps syncing. Each new record is
    stored as written (its ref shifted when it is an id) and the row it records is rebuilt: documents from
    ``batch["documents"]``, other rows from the record's content (store.audit.FIELDS), updates as upserts;
    the server's till_counter row for the till and stock_balance (every till's moves) move with them.

    A refusal rolls everything back, is recorded on the till's sync_till row in its own transaction, and
    raises BatchRefused; a server failure raises ServerError.
    """
    import psycopg2

    till = str(batch.get("till") or "")
    try:
        try:
            with conn.cursor() as cursor:
                head = _Batch(cursor, batch).apply()
            conn.commit()
            return head
        except _Refused as refused:
            conn.rollback()
            _record_refusal(conn, till, str(batch.get("shop") or ""), str(batch.get("instance") or ""),
                            refused.sentence, refused.code, dict(refused.values, till=till))
            log.warning("batch refused: %s", refused.sentence)
            raise BatchRefused(refused.sentence, refused.code, till=till, **refused.values) from None
    except psycopg2.Error as exc:
        try:
            conn.rollback()
        except psycopg2.Error:
            pass
        raise ServerError(f"The shop's server did not take till {till}'s records: {_sentence(exc)}.",
                          "server_batch_failed", till=till, detail=_sentence(exc)) from None


def _lock_till(cursor: Any, till: str, shop: str) -> tuple:
    """The till's sync_till row, locked until the transaction ends; made (with the next till_index) if new."""
    select = ("SELECT till_index, shop, instance, head_seq, head_hash, records, refused_instance "
              "FROM sync_till WHERE till_id = %s FOR UPDATE")
    cursor.execute(select, (till,))
    row = cursor.fetchone()
    if row is None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cursor.execute("INSERT INTO sync_till (till_id, shop, till_index) "
                       "SELECT %s, %s, COALESCE(MAX(till_index), 0) + 1 FROM sync_till ON CONFLICT DO NOTHING",
                       (till, shop))
        cursor.execute(select, (till,))
        row = cursor.fetchone()
    return row


def _record_refusal(conn: Any, till: str, shop: str, instance: str, sentence: str, code: str = "",
                    values: Optional[Dict[str, Any]] = None) -> None:
    """Write the refusal (its sentence, code and values) on the till's row in its own transaction, so both
    tills (and the owner) see it; a server migrated before refusal_code keeps the sentence only."""
    import psycopg2

    if not till:
        return
    with conn.cursor() as cursor:
        _lock_till(cursor, till, shop)
        cursor.execute("UPDATE sync_till SET refusal = %s, refused_at = now(), refused_instance = %s "
                       "WHERE till_id = %s", (sentence, instance, till))
        cursor.execute("SAVEPOINT refusal_code")
        try:
            cursor.execute("UPDATE sync_till SET refusal_code = %s, refusal_values = %s WHERE till_id = %s",
                           (code, json.dumps(values or {}, sort_keys=True, default=str), till))
        except psycopg2.Error as exc:  # no refusal_code column yet (chaoying init adds it): the sentence only
            cursor.execute("ROLLBACK TO SAVEPOINT refusal_code")
            log.info("the server's sync_till has no refusal_code column (%s): run chaoying init", _sentence(exc))
        else:
            cursor.execute("RELEASE SAVEPOINT refusal_code")
    conn.commit()


#: Columns of a kind's content that hold a local id of the till (shifted on the server); product ids are not.
_SHIFTED: Dict[str, Tuple[str, ...]] = {
    audit.ATTEMPT: ("sale",), audit.EVENT: ("sale",), audit.SHIFT: (), audit.CASH_MOVE: ("shift",),
    audit.HANDOVER: ("shift",), audit.PAY_ATTEMPT: ("basket", "sale"), audit.PROVIDER_REFUND: ("document",),
    audit.Z_REPORT: ("shift",), audit.STOCK_MOVE: ("document", "count"), audit.STOCK_COUNT: (),
    audit.STOCK_COUNT_LINE: ("count",),
}
#: Kinds whose rows are written once: a second record of one (never expected) leaves the first.
_WRITTEN_ONCE = (audit.Z_REPORT, audit.STOCK_MOVE, audit.STOCK_COUNT_LINE, audit.CASH_MOVE, audit.HANDOVER)
#: Kinds whose ref is an id of the till (shifted on the server): all but a checkpoint's number.
_REF_IS_ID = frozenset([audit.COMMIT, audit.OUTCOME, *_SHIFTED])
#: Document tables: their id columns that are local ids of the till.
_DOCUMENT_IDS = {"sale": ("id", "original_id"), "line": ("id", "sale_id", "original_line_id"),
                 "payment": ("id", "sale_id"), "discount": ("id", "sale_id")}
_PAGE = 1000
#: Document columns that may name a local copy of another till's row (batch["copies"]: kind -> local -> server).
_COPIED = {"original_id": "sale", "original_line_id": "line"}


def _columns(kind: str) -> Tuple[str, Tuple[str, ...]]:
    """(table, column names of FIELDS[kind]) of the rows a kind records."""
    model = audit.MODELS[kind]
    return model._meta.table_name, tuple(model._meta.fields[name].column_name for name in audit.FIELDS[kind])


def _time(value: Any) -> Any:
    if isinstance(value, str) and value:
        return datetime.datetime.fromisoformat(value)
    return value


class _Batch:
    """One batch applied inside the caller's transaction: checks first, then the rows, in a few statements."""

    def __init__(self, cursor: Any, batch: dict) -> None:
        self.cursor, self.batch = cursor, batch
        self.till = str(batch.get("till") or "")
        self.shop = str(batch.get("shop") or "")
        self.instance = str(batch.get("instance") or "")
        self.records: List[dict] = list(batch.get("records") or [])
        self.documents: Dict[str, dict] = dict(batch.get("documents") or {})
        self.audit_rows: List[tuple] = []
        self.rows: Dict[str, Dict[int, tuple]] = {kind: {} for kind in _SHIFTED}
        self.outcomes: Dict[int, tuple] = {}
        self.sales: List[dict] = []
        self.moves: List[tuple] = []  # (product, kind, qty, cost, move id) of new stock moves, in order

    def refuse(self, sentence: str, code: str, **values: Any) -> NoReturn:
        raise _Refused(sentence, code, **values)

    def apply(self) -> int:
        if not self.till or not self.instance:
            self.refuse("The batch names no till or no instance.", "sync_bad_batch")
        local_head = _local_head_ready(self.cursor) and isinstance(self.batch.get("head"), dict)
        till_index, shop, instance, head_seq, head_hash, count, refused_instance = _lock_till(
            self.cursor, self.till, self.shop)
        if instance and instance != self.instance:
            self.refuse(f"Two tills claim id {self.till}: the server takes its records from the till that "
                        f"sent first, and refuses the other's until one of them gets another id.",
                        "sync_two_tills", instance=self.instance)
        if shop != self.shop and (count or shop):
            self.refuse(f"Till {self.till} belongs to shop {shop or '(none)'!r} on the server, "
                        f"not {self.shop or '(none)'!r}.", "sync_other_shop", shop=shop)
        self.base = int(till_index) * ID_BLOCK
        new = self._check(int(head_seq), str(head_hash))
        if new:
            self._documents_checked(new)
            for record in new:
                self._take(record)
            self._write(new)
        head_seq, head_hash = (new[-1]["seq"], new[-1]["hash"]) if new else (int(head_seq), str(head_hash))
        more = ", refusal = '', refused_at = NULL, refused_instance = ''" \
            if refused_instance == self.instance else ""
        values: Tuple[Any, ...] = (self.shop, self.instance, head_seq, head_hash, len(new))
        if local_head:  # the till's own head as it built the batch: what it still had to send
            head = self.batch["head"]
            more += ", local_seq = GREATEST(%s, %s), local_at = %s"
            values += (int(head.get("seq") or 0), int(head_seq), _time(head.get("at")) or None)
        self.cursor.execute(
            f"UPDATE sync_till SET shop = %s, instance = %s, head_seq = %s, head_hash = %s, last_at = now(), "
            f"records = records + %s{more} WHERE till_id = %s", values + (self.till,))
        return int(head_seq)

    # -- the chain

    def _check(self, head_seq: int, head_hash: str) -> List[dict]:
        """The records after the server's head, checked link by link; those it holds must be the same."""
        seqs = [int(record["seq"]) for record in self.records]
        if any(b <= a for a, b in zip(seqs, seqs[1:])):
            self.refuse(f"Till {self.till}'s batch is not in sequence order.", "sync_out_of_order")
        held = [record for record in self.records if int(record["seq"]) <= head_seq]
        if held:
            self.cursor.execute("SELECT seq, hash FROM audit WHERE till_id = %s AND seq BETWEEN %s AND %s",
                                (self.till, int(held[0]["seq"]), int(held[-1]["seq"])))
            stored = dict(self.cursor.fetchall())
            for record in held:
                if stored.get(int(record["seq"])) != record["hash"]:
                    self.refuse(f"Till {self.till}'s record {record['seq']} differs from the one the server holds: "
                                f"its chain was cut back and rewritten, or another till sends as {self.till}.",
                                "sync_rewritten", seq=int(record["seq"]))
        new = [record for record in self.records if int(record["seq"]) > head_seq]
        keyed = chain.hash_kind() == chain.HMAC
        seq, prev = head_seq, head_hash
        for record in new:
            number = int(record["seq"])
            if number != seq + 1:
                self.refuse(f"Till {self.till}'s records {seq + 1}-{number - 1} are missing before record {number}.",
                            "sync_gap", seq=number, head=seq)
            if record["prev_hash"] != prev:
                self.refuse(f"Till {self.till}'s record {number} does not follow record {seq} the server holds: "
                            f"its chain was cut back and rewritten, or another till sends as {self.till}.",
                            "sync_rewritten", seq=number)
            kind = record.get("hash_kind") or ""
            if (kind != chain.HMAC or keyed) and chain.chain_hash(prev, record["content"], kind) != record["hash"]:
                self.refuse(f"Till {self.till}'s record {number} does not match its hash: it was changed after "
                            f"it was sealed.", "sync_bad_hash", seq=number)
            seq, prev = number, record["hash"]
        return new

    def _documents_checked(self, new: List[dict]) -> None:
        """Each new commit's document is there, matches its record's journal hash and links to the previous."""
        commits = [record for record in new if record["kind"] == audit.COMMIT]
        if not commits:
            return
        self.cursor.execute("SELECT last_receipt_no, last_hash FROM till_counter WHERE till_id = %s FOR UPDATE",
                            (self.till,))
        row = self.cursor.fetchone()
        last_no, last_hash = (int(row[0]), row[1]) if row else (0, GENESIS_HASH)
        keyed = chain.hash_kind() == chain.HMAC
        for record in commits:
            document = self.documents.get(str(record["ref"]))
            if document is None:
                self.refuse(f"Till {self.till}'s batch lacks the document of record {record['seq']}.",
                            "sync_no_document", seq=int(record["seq"]))
            sale = document["sale"]
            content = json.loads(record["content"])
            number = int(sale["receipt_no"])
            if str(sale["till_id"]) != self.till:
                self.refuse(f"Till {self.till}'s batch holds receipt {number} of till {sale['till_id']}.",
                            "sync_bad_document", seq=int(record["seq"]))
            if content.get("hash") != sale["hash"] or int(content.get("receipt_no", -1)) != number:
                self.refuse(f"Till {self.till}'s receipt {number} does not match its commit record "
                            f"{record['seq']}.", "sync_bad_document", seq=int(record["seq"]))
            if last_no and (number != last_no + 1 or sale["prev_hash"] != last_hash):
                self.refuse(f"Till {self.till}'s receipt {number} does not follow receipt {last_no} the server "
                            f"holds.", "sync_bad_document", seq=int(record["seq"]))
            kind = sale.get("hash_kind") or ""
            if kind != chain.HMAC or keyed:
                text = journal.canonical_content(_hashed_sale(sale), [_hashed_line(line) for line in document["lines"]],
                                                 document["payments"], document["discounts"])
                if chain.chain_hash(sale["prev_hash"], text, kind) != sale["hash"]:
                    self.refuse(f"Till {self.till}'s receipt {number} does not match its journal hash: it was "
                                f"changed after it was sealed.", "sync_bad_document", seq=int(record["seq"]))
            last_no, last_hash = number, sale["hash"]
            self.sales.append(document)
        self.last_receipt = (last_no, last_hash)

    # -- the rows

    def shift(self, value: Any) -> Any:
        return None if value is None else int(value) + self.base

    def _take(self, record: dict) -> None:
        kind, ref = record["kind"], int(record["ref"])
        self.audit_rows.append((self.till, int(record["seq"]), kind, self.shift(ref) if kind in _REF_IS_ID else ref,
                                record["content"], record["prev_hash"], record["hash"], record.get("hash_kind") or ""))
        if kind == audit.COMMIT:
            state, reason_code, reason, at = json.loads(record["content"])["outcome"]
            self.outcomes[ref] = (self.shift(ref), state, reason_code, reason, _time(at))
        elif kind == audit.OUTCOME:
            state, reason_code, reason, at = json.loads(record["content"])
            self.outcomes[ref] = (self.shift(ref), state, reason_code, reason, _time(at))
        elif kind in _SHIFTED:
            values = dict(zip(audit.FIELDS[kind], json.loads(record["content"])))
            for name in _SHIFTED[kind]:
                values[name] = self.shift(values[name])
            self.rows[kind][ref] = (self.shift(ref),) + tuple(values[name] for name in audit.FIELDS[kind])
            if kind == audit.STOCK_MOVE:
                self.moves.append((int(values["product"]), values["kind"], int(values["qty_milli"]),
                                   int(values["cost_fen"]), self.shift(ref)))
        # a checkpoint (the till's own journal_checkpoint) and kinds this server does not know: the record only

    def _values(self, sql: str, rows: Iterable[tuple], template: Optional[str] = None) -> None:
        from psycopg2.extras import execute_values

        rows = list(rows)
        if rows:
            execute_values(self.cursor, sql, rows, template=template, page_size=_PAGE)

    def _write(self, new: List[dict]) -> None:
        self._values("INSERT INTO audit (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) VALUES %s",
                     self.audit_rows)
        self._write_documents()
        self._write_copies()
        self._close_claims()
        for kind, rows in self.rows.items():
            if not rows:
                continue
            table, columns = _columns(kind)
            names = ", ".join(f'"{c}"' for c in ("id",) + columns)
            if kind in _WRITTEN_ONCE:
                tail = "ON CONFLICT (id) DO NOTHING"
            else:
                tail = "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns)
            self._values(f'INSERT INTO "{table}" ({names}) VALUES %s {tail}', rows.values())
        self._values("INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) VALUES %s "
                     "ON CONFLICT (sale_id) DO UPDATE SET state = EXCLUDED.state, reason_code = EXCLUDED.reason_code, "
                     "reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at", self.outcomes.values())
        self._write_balances()
        seq, digest = int(new[-1]["seq"]), new[-1]["hash"]
        if self.sales:
            number, journal_hash = self.last_receipt
            self.cursor.execute(
                "INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq, audit_hash, z_unsealed) "
                "VALUES (%s, %s, %s, %s, %s, 0) ON CONFLICT (till_id) DO UPDATE SET "
                "last_receipt_no = EXCLUDED.last_receipt_no, last_hash = EXCLUDED.last_hash, "
                "audit_seq = EXCLUDED.audit_seq, audit_hash = EXCLUDED.audit_hash",
                (self.till, number, journal_hash, seq, digest))
        else:
            self.cursor.execute(
                "INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq, audit_hash, z_unsealed) "
                "VALUES (%s, 0, %s, %s, %s, 0) "
                "ON CONFLICT (till_id) DO UPDATE SET audit_seq = EXCLUDED.audit_seq, audit_hash = EXCLUDED.audit_hash",
                (self.till, GENESIS_HASH, seq, digest))

    def _write_documents(self) -> None:
        for table, columns, values in self.document_rows():
            names = ", ".join(f'"{c}"' for c in columns)
            self._values(f'INSERT INTO "{table}" ({names}) VALUES %s', values)

    def document_rows(self) -> List[Tuple[str, List[str], List[tuple]]]:
        """(table, columns, rows) of the batch's new documents, their ids shifted."""
        parts = {"sale": [document["sale"] for document in self.sales]}
        for table, key in (("line", "lines"), ("payment", "payments"), ("discount", "discounts")):
            parts[table] = [row for document in self.sales for row in document[key]]
        found = []
        for table, rows in parts.items():
            if not rows:
                continue
            columns = sorted(rows[0])
            shifted = [column for column in _DOCUMENT_IDS[table] if column in columns]
            values = []
            for row in rows:
                row = dict(row)
                for column in shifted:
                    row[column] = self.shift_document_id(column, row[column])
                values.append(tuple(row.get(column) for column in columns))
            found.append((table, columns, values))
        return found

    def shift_document_id(self, column: str, value: Any) -> Any:
        """A document's id shifted into the till's block; a refund's original (line) that is a local copy of
        another till's receipt (``batch["copies"]``, store.shop_wide) becomes that till's server id instead."""
        kind = _COPIED.get(column)
        if kind is not None and value is not None:
            server_id = (self.batch.get("copies") or {}).get(kind, {}).get(str(value))
            if server_id is not None:
                return int(server_id)
        return self.shift(value)

    def _write_copies(self) -> None:
        """The copies mapping kept on the server (shop_copy), so a verify reads the refund back as hashed."""
        copies = self.batch.get("copies")
        if copies and self.sales:
            from store.shop_copies import record_copies

            record_copies(self.cursor, self.till, copies)

    def _close_claims(self) -> None:
        """Each arriving refund closes its till's claim on the receipt (store.refund_claims): the refund and the
        end of its claim land in one transaction."""
        from store import refund_claims

        refunds = refund_claims.refunds_of(self.sales, self.shift_document_id)
        if refunds:
            refund_claims.close_for_refunds(self.cursor, self.till, refunds)

    def _write_balances(self) -> None:
        """Each product's on hand (every till's moves) and moving average, as store.stock keeps them on a till."""
        if not self.moves:
            return
        from store.stock import RECEIVED, moving_average

        products = sorted({move[0] for move in self.moves})
        self._values("INSERT INTO stock_balance (product_id, on_hand_milli, avg_cost_fen, last_move) VALUES %s "
                     "ON CONFLICT DO NOTHING", [(product, 0, 0, 0) for product in products])
        self.cursor.execute("SELECT product_id, on_hand_milli, avg_cost_fen, last_move FROM stock_balance "
                            "WHERE product_id = ANY(%s) ORDER BY product_id FOR UPDATE", (products,))
        balances = {int(row[0]): [int(row[1]), int(row[2]), int(row[3])] for row in self.cursor.fetchall()}
        for product, kind, qty, cost, move_id in self.moves:
            balance = balances[product]
            if kind == RECEIVED:
                balance[1] = moving_average(balance[0], balance[1], qty, cost)
            balance[0] += qty
            balance[2] = max(balance[2], move_id)
        self._values("UPDATE stock_balance AS b SET on_hand_milli = v.on_hand, avg_cost_fen = v.cost, "
                     "last_move = v.last FROM (VALUES %s) AS v (product, on_hand, cost, last) "
                     "WHERE b.product_id = v.product",
                     [(product, *balances[product]) for product in products])


def _hashed_sale(sale: Dict[str, Any]) -> Dict[str, Any]:
    """A document's sale row as store.journal.canonical_content reads it (field names, the time a datetime)."""
    values = dict(sale)
    values["sold_at"] = _time(sale["sold_at"])
    values["original"] = sale.get("original_id")
    return values


def _hashed_line(line: Dict[str, Any]) -> Dict[str, Any]:
    values = dict(line)
    values["original_line"] = line.get("original_line_id")
    return values
