"""Commit of a 5-line cash sale: store.sales.commit_sale against raw sqlite3 writing the same rows.

Run from the repository root (a script, not a test):

    python tests/bench/bench_commit.py [--sales 1000000] [--commits 300]
                                       [--pg-sales 200000] [--pg]

SQLite: a copy of the shared seeded file (tests/bench/common.py) with
``--sales`` sales already stored. Then ``--commits`` pairs: one sale through
``commit_sale`` and one through the floor, alternating who goes first, both
on till 1 (the same counter, the same index positions, one gapless
numbering and one valid chain: the file still verifies afterwards).

The floor is raw ``sqlite3`` on its own connection with the store's pragmas
(``store.db.SQLITE_PRAGMAS``: WAL, synchronous=FULL, foreign keys, busy
timeout), doing in one ``BEGIN IMMEDIATE`` transaction what the commit
must: read the counter (receipt number, journal head, audit head), insert
the sale (every column the store writes), its 5 lines, its payment (a
cash one: no payment attempt to link), the
``pending`` outcome and the commit's audit record, each line's stock move
(its balance read and updated, the move inserted and sealed in the audit
chain, as store.stock does), update the counter, and
COMMIT (one fsync). It hashes the same canonical text (SHA-256 of the
journal and of the audit record), built with one prebuilt JSON encoder; the
text is checked once to equal the store's. The figure is the median of the
per-pair ratios, with its spread. Target: within 1.2x.

PostgreSQL (``--pg``): a throw-away server with fsync on, ``--pg-sales``
seeded with COPY; the floor is psycopg2 doing the same with ``SELECT ...
FOR UPDATE``.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import audit, journal, sales  # noqa: E402
from store.db import SQLITE_PRAGMAS, close_database, open_database  # noqa: E402
from tests.bench import common  # noqa: E402
from tests.bench.common import PRODUCTS, QTYS  # noqa: E402

TARGET = 1.2
TILL = "1"


# --- the two sides ------------------------------------------------------------------

_PRODUCT_ROWS: list = []


def _load_products() -> None:
    _PRODUCT_ROWS[:] = [sales.find_product(p[0]) for p in PRODUCTS]


def _basket() -> Tuple[sales.Basket, sales.Tender]:
    basket = sales.Basket()
    for product, qty in zip(_PRODUCT_ROWS, QTYS):
        basket.add(product, qty)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen + 1000)
    return basket, tender


def orm_commit(till_id: str = TILL) -> float:
    """One sale through the store; the seconds of commit_sale alone (the basket is built before)."""
    basket, tender = _basket()
    start = time.perf_counter()
    sales.commit_sale(basket, tender, till_id, "bench")
    return time.perf_counter() - start


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

SALE_SQL = ('INSERT INTO "sale" (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash, '
            'kind, original_id, reason, manager, discount_fen, hash_kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)')
LINE_SQL = ('INSERT INTO "line" (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, '
            'amount_fen, discount_fen, original_line_id) VALUES ' + ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * 5))
PAYMENT_SQL = ('INSERT INTO "payment" (sale_id, position, method, amount_fen, reference, status, reason, '
               'out_trade_no) VALUES (?,?,?,?,?,?,?,?)')
OUTCOME_SQL = ('INSERT INTO "receipt_outcome" (sale_id, state, reason_code, reason, updated_at) '
               'VALUES (?,?,?,?,?)')
AUDIT_SQL = ('INSERT INTO "audit" (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) '
             'VALUES (?,?,?,?,?,?,?,?)')
COUNTER_SQL = ('UPDATE "till_counter" SET last_receipt_no = ?, last_hash = ?, audit_seq = ?, audit_hash = ? '
               'WHERE till_id = ?')
LOCK_SQL = 'SELECT last_receipt_no, last_hash, audit_seq, audit_hash FROM "till_counter" WHERE till_id = ?'
# each line's stock move (store.stock): the balance read and updated, the move inserted and sealed
BALANCE_SQL = 'SELECT on_hand_milli, avg_cost_fen FROM "stock_balance" WHERE product_id = ?'
NEW_BALANCE_SQL = ('INSERT INTO "stock_balance" (product_id, on_hand_milli, avg_cost_fen, last_move) '
                   'VALUES (?, 0, 0, 0) ON CONFLICT DO NOTHING')
MOVE_SQL = ('INSERT INTO "stock_move" (product_id, kind, qty_milli, cost_fen, reason, note, document, count, '
            'ref, till_id, at, cashier, manager) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)')
SET_BALANCE_SQL = 'UPDATE "stock_balance" SET on_hand_milli = ?, avg_cost_fen = ?, last_move = ? WHERE product_id = ?'


def floor_texts(basket: sales.Basket, tender: sales.Tender, till_id: str, receipt_no: int, at: str,
                cashier: str, sale_hash: str) -> Tuple[str, Callable[[str], str]]:
    """The journal text of the sale, and the audit text given its hash: built directly, one encoder."""
    sale_text = _ENCODER.encode({
        "till_id": till_id, "receipt_no": receipt_no, "sold_at": at, "cashier": cashier,
        "total_fen": basket.total_fen, "change_fen": tender.change_fen,
        "lines": [[i + 1, ln.barcode, ln.name, ln.unit, ln.unit_price_fen, ln.qty_milli, ln.amount_fen]
                  for i, ln in enumerate(basket.lines)],
        "payments": [[i + 1, p.method, p.amount_fen, p.reference, p.status] for i, p in enumerate(tender.payments)],
    })

    def audit_text(digest: str) -> str:
        return _ENCODER.encode({"receipt_no": receipt_no, "hash": digest, "reasons": [p.reason for p in tender.payments],
                                "outcome": ["pending", "", "", at]})
    return sale_text, audit_text


def move_values(product_id: int, qty_milli: int, cost_fen: int, sale_id: int, till_id: str, at: str,
                cashier: str) -> list:
    """A sale line's stock move, in the columns its audit record copies (store.audit.FIELDS)."""
    return [product_id, "sale", -qty_milli, cost_fen, "", "", sale_id, None, "", till_id, at, cashier, ""]


def check_floor_texts() -> None:
    """The floor hashes the very text the store does (else it would be a cheaper, different job)."""
    basket, tender = _basket()
    at = "2024-06-01 12:00:00"
    sale_text, audit_text = floor_texts(basket, tender, TILL, 7, at, "bench", "")
    lines = [dict(position=i + 1, barcode=ln.barcode, name=ln.name, unit=ln.unit, unit_price_fen=ln.unit_price_fen,
                  qty_milli=ln.qty_milli, amount_fen=ln.amount_fen) for i, ln in enumerate(basket.lines)]
    payments = sales.payment_rows(tender.payments)
    sale = dict(till_id=TILL, receipt_no=7, sold_at=datetime.datetime(2024, 6, 1, 12), cashier="bench",
                total_fen=basket.total_fen, change_fen=tender.change_fen)
    assert sale_text == journal.canonical_content(sale, lines, payments), "floor's journal text differs"
    outcome = dict(state="pending", reason_code="", reason="", updated_at=datetime.datetime(2024, 6, 1, 12))
    assert audit_text("ab" * 32) == audit.commit_content(7, "ab" * 32, payments, outcome), "floor's audit text differs"
    values = move_values(3, 2000, 150, 9, TILL, at, "bench")
    row = dict(zip(audit.FIELDS[audit.STOCK_MOVE], values))
    assert _ENCODER.encode(values) == audit.row_content(audit.STOCK_MOVE, row), "floor's stock move text differs"


def raw_sqlite_commit(conn: sqlite3.Connection, till_id: str = TILL) -> float:
    """The floor: the same rows, the same hashes, one transaction, one fsync; its seconds."""
    basket, tender = _basket()
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    try:
        last_no, last_hash, audit_seq, audit_hash = conn.execute(LOCK_SQL, (till_id,)).fetchone()
        receipt_no = last_no + 1
        at = datetime.datetime.now().replace(microsecond=0).isoformat(sep=" ")
        sale_text, audit_text = floor_texts(basket, tender, till_id, receipt_no, at, "bench", "")
        digest = hashlib.sha256((last_hash + sale_text).encode("utf-8")).hexdigest()
        sale_id = conn.execute(SALE_SQL, (till_id, receipt_no, at, "bench", basket.total_fen, tender.change_fen,
                                          last_hash, digest, "sale", None, "", "", 0, "")).lastrowid
        values: List[Any] = []
        for i, ln in enumerate(basket.lines):
            values += (sale_id, i + 1, ln.product_id, ln.barcode, ln.name, ln.unit, ln.unit_price_fen, ln.qty_milli,
                       ln.amount_fen, ln.discount_fen, None)
        conn.execute(LINE_SQL, values)
        for i, p in enumerate(tender.payments):
            conn.execute(PAYMENT_SQL, (sale_id, i + 1, p.method, p.amount_fen, p.reference, p.status, p.reason,
                                       p.out_trade_no))
        conn.execute(OUTCOME_SQL, (sale_id, "pending", "", "", at))
        content = audit_text(digest)
        audit_digest = hashlib.sha256((audit_hash + content).encode("utf-8")).hexdigest()
        audit_seq += 1
        conn.execute(AUDIT_SQL, (till_id, audit_seq, "commit", sale_id, content, audit_hash, audit_digest, ""))
        for ln in basket.lines:
            row = conn.execute(BALANCE_SQL, (ln.product_id,)).fetchone()
            if row is None:
                conn.execute(NEW_BALANCE_SQL, (ln.product_id,))
                row = conn.execute(BALANCE_SQL, (ln.product_id,)).fetchone()
            values = move_values(ln.product_id, ln.qty_milli, row[1], sale_id, till_id, at, "bench")
            move_id = conn.execute(MOVE_SQL, values).lastrowid
            conn.execute(SET_BALANCE_SQL, (row[0] - ln.qty_milli, row[1], move_id, ln.product_id))
            content = _ENCODER.encode(values)
            prev, audit_digest = audit_digest, hashlib.sha256((audit_digest + content).encode("utf-8")).hexdigest()
            audit_seq += 1
            conn.execute(AUDIT_SQL, (till_id, audit_seq, "stock_move", move_id, content, prev, audit_digest, ""))
        conn.execute(COUNTER_SQL, (receipt_no, digest, audit_seq, audit_digest, till_id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return time.perf_counter() - start


def raw_connection(path: Path) -> sqlite3.Connection:
    """The floor's connection: the store's own pragmas, in its order."""
    raw = sqlite3.connect(str(path), isolation_level=None, timeout=10)
    for name, value in SQLITE_PRAGMAS:
        raw.execute(f"PRAGMA {name} = {value}")
    return raw


# --- PostgreSQL ----------------------------------------------------------------------


def _pg_rows(n: int):
    """Rows for COPY: the seeded sales without real hashes (the commit path does not read them)."""
    ids = {p[0]: i + 1 for i, p in enumerate(PRODUCTS)}
    total, at = common.TOTAL_FEN, common.sold_at
    return (
        ("sale", "id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash",
         ((i, "1", i, at(i), "seed", total, 0, f"{i - 1:064x}", f"{i:064x}") for i in range(1, n + 1))),
        ("line", "sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, amount_fen",
         ((i, j + 1, ids[b], b, name, unit, price, QTYS[j], common.AMOUNTS[j])
          for i in range(1, n + 1) for j, (b, name, price, unit) in enumerate(PRODUCTS))),
        ("payment", "sale_id, position, method, amount_fen, reference, status, reason",
         ((i, 1, "cash", total, "", "ok", "") for i in range(1, n + 1))),
        ("receipt_outcome", "sale_id, state, reason_code, reason, updated_at",
         ((i, "printed", "", "", at(i)) for i in range(1, n + 1))),
    )


def seed_postgres(url: str, n: int) -> None:
    import psycopg2

    from store.catalogue import add_product

    open_database(url)
    for barcode, name, price, unit in PRODUCTS:
        add_product(barcode, name, price, unit)
    close_database()
    conn = psycopg2.connect(**_pg_params(url))
    with conn, conn.cursor() as cur:
        for table, columns, rows in _pg_rows(n):
            buf = io.StringIO()
            for row in rows:
                buf.write("\t".join(str(v) for v in row) + "\n")
            buf.seek(0)
            cur.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buf)
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))")
        cur.execute('INSERT INTO "till_counter" (till_id, last_receipt_no, last_hash) VALUES (%s,%s,%s)',
                    ("1", n, f"{n:064x}"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def _pg_params(url: str) -> dict:
    from playhouse.db_url import parse

    params = parse(url)
    return {"dbname": params["database"], "user": params.get("user"), "host": params.get("host"),
            "port": params.get("port")}


def raw_pg_commit(conn: Any, till_id: str = TILL) -> float:
    basket, tender = _basket()
    start = time.perf_counter()
    with conn, conn.cursor() as cur:  # one transaction, committed on exit
        cur.execute(LOCK_SQL.replace("?", "%s") + " FOR UPDATE", (till_id,))
        last_no, last_hash, audit_seq, audit_hash = cur.fetchone()
        receipt_no = last_no + 1
        now = datetime.datetime.now().replace(microsecond=0)
        at = now.isoformat(sep=" ")
        sale_text, audit_text = floor_texts(basket, tender, till_id, receipt_no, at, "bench", "")
        digest = hashlib.sha256((last_hash + sale_text).encode("utf-8")).hexdigest()
        cur.execute(SALE_SQL.replace("?", "%s") + " RETURNING id", (
            till_id, receipt_no, now, "bench", basket.total_fen, tender.change_fen, last_hash, digest, "sale", None,
            "", "", 0, ""))
        sale_id = cur.fetchone()[0]
        values: List[Any] = []
        for i, ln in enumerate(basket.lines):
            values += (sale_id, i + 1, ln.product_id, ln.barcode, ln.name, ln.unit, ln.unit_price_fen, ln.qty_milli,
                       ln.amount_fen, ln.discount_fen, None)
        cur.execute(LINE_SQL.replace("?", "%s"), values)
        for i, p in enumerate(tender.payments):
            cur.execute(PAYMENT_SQL.replace("?", "%s"),
                        (sale_id, i + 1, p.method, p.amount_fen, p.reference, p.status, p.reason, p.out_trade_no))
        cur.execute(OUTCOME_SQL.replace("?", "%s"), (sale_id, "pending", "", "", now))
        content = audit_text(digest)
        audit_digest = hashlib.sha256((audit_hash + content).encode("utf-8")).hexdigest()
        cur.execute(AUDIT_SQL.replace("?", "%s"),
                    (till_id, audit_seq + 1, "commit", sale_id, content, audit_hash, audit_digest, ""))
        cur.execute(COUNTER_SQL.replace("?", "%s"), (receipt_no, digest, audit_seq + 1, audit_digest, till_id))
    return time.perf_counter() - start


# --- measuring ------------------------------------------------------------------------


def bench_sqlite(n: int, commits: int, folder: Optional[str] = None) -> common.PairStats:
    with common.work_copy(n, folder) as work:
        open_database("sqlite:///" + str(work))
        try:
            _load_products()
            check_floor_texts()
            raw = raw_connection(work)
            stats = common.paired(orm_commit, lambda: raw_sqlite_commit(raw), commits, warmup=20,
                                  limit=common.deadline(600, f"{commits} commit pairs"))
            raw.close()
            return stats
        finally:
            close_database()


def bench_postgres(n: int, commits: int) -> common.PairStats:
    import psycopg2

    from tests.store.pgserver import PostgresServer

    server = PostgresServer(fsync=True).start()
    try:
        url = server.create_database("bench")
        print(f"seeding {n:,} sales into PostgreSQL ...", flush=True)
        start = time.perf_counter()
        seed_postgres(url, n)
        print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
        open_database(url)
        _load_products()
        raw = psycopg2.connect(**_pg_params(url))
        stats = common.paired(orm_commit, lambda: raw_pg_commit(raw), commits, warmup=20,
                              limit=common.deadline(600, f"{commits} PostgreSQL commit pairs"))
        raw.close()
        close_database()
        return stats
    finally:
        server.stop()


def figures(args: argparse.Namespace) -> List[common.Figure]:
    stats = bench_sqlite(args.sales, args.commits, args.cache_dir)
    rows = [common.Figure.pair(f"commit of a 5-line sale, {args.sales:,} stored (SQLite)", stats, TARGET,
                               floor_name="raw sqlite3")]
    if args.pg:
        pg = bench_postgres(args.pg_sales, args.commits)
        rows.append(common.Figure.pair(f"commit of a 5-line sale, {args.pg_sales:,} stored (PostgreSQL)", pg, 0,
                                       floor_name="psycopg2"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales already stored (SQLite)")
    parser.add_argument("--pg-sales", type=int, default=200_000, help="sales already stored (PostgreSQL)")
    parser.add_argument("--commits", type=int, default=300, help="measured pairs")
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL")
    parser.add_argument("--cache-dir", default=None, help="where the seeded SQLite file is cached")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args(argv)
    rows = figures(args)
    common.print_table(f"Commit, {args.commits} pairs, median of per-pair ratios; {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
