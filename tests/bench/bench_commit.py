"""Commit latency of a 5-line sale: store.sales.commit_sale vs the raw driver.

Run from the repository root (a script, not a test):

    python tests/bench/bench_commit.py [--sales 1000000] [--commits 500]
                                       [--pg-sales 200000] [--no-pg]

SQLite: a file with ``--sales`` sales already stored (5 lines, 1 payment and
an outcome each) is seeded once with raw ``executemany`` in one transaction
and cached under /tmp; each run works on a copy. Then ``--commits`` sales are
committed through ``commit_sale`` and, interleaved one by one, through raw
``sqlite3`` doing the same statements (lock the counter, insert sale, 5 lines,
payment, outcome, update the counter, commit) in one transaction on a
separate connection with the same pragmas (WAL, synchronous=FULL, foreign
keys, busy timeout). Both compute the same journal hash; the difference is
the ORM and the store's checks.

PostgreSQL: a throw-away server like the test fixture's, but with fsync on;
``--pg-sales`` seeded with COPY (smaller than SQLite's by default, because
the server is fresh on every run); raw side is psycopg2 with
``SELECT ... FOR UPDATE`` like the store.

Seeded journal hashes are placeholders (the chain is not valid for the
seeded rows); the commit path does not read them.
"""
from __future__ import annotations

import argparse
import datetime
import io
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import journal, sales  # noqa: E402
from store.db import SQLITE_PRAGMAS, close_database, open_database  # noqa: E402

PRODUCTS = [
    ("6901234567892", "可口可乐 330ml", 350, "瓶"),
    ("6902538004045", "康师傅红烧牛肉面", 450, "袋"),
    ("6920202888883", "农夫山泉 550ml", 200, "瓶"),
    ("2001", "苹果", 1280, "kg"),
    ("42", "塑料袋", 20, ""),
]
QTYS = [1000, 2000, 1000, 1500, 1000]
BASE_TIME = datetime.datetime(2024, 1, 1, 8, 0, 0)


# --- seeding --------------------------------------------------------------------

def _seed_rows(n: int, first_line_id: int = 1):
    """Generators of sale, line, payment and outcome tuples for n sales."""
    prices = [p[2] for p in PRODUCTS]
    amounts = [(prices[i] * QTYS[i] + 500) // 1000 for i in range(5)]
    total = sum(amounts)

    def sold_at(i):
        return (BASE_TIME + datetime.timedelta(seconds=30 * i)).strftime("%Y-%m-%d %H:%M:%S")

    def sale_rows():
        for i in range(1, n + 1):
            yield (i, "1", i, sold_at(i), "seed", total, 0, f"{i - 1:064x}", f"{i:064x}")

    def line_rows():
        for i in range(1, n + 1):
            for j, (barcode, name, price, unit) in enumerate(PRODUCTS):
                yield (i, j + 1, j + 1, barcode, name, unit, price, QTYS[j], amounts[j])

    def payment_rows():
        for i in range(1, n + 1):
            yield (i, 1, "cash", total, "", "ok", "")

    def outcome_rows():
        for i in range(1, n + 1):
            yield (i, "printed", "", "", sold_at(i))

    def basket_rows():  # every sale was an open basket first (store.baskets): one sold row each
        for i in range(1, n + 1):
            yield (i, "1", "sold", "seed", "", sold_at(i), sold_at(i), total, total, 5, "{}", i, sold_at(i))

    outcome_rows.baskets = basket_rows  # type: ignore[attr-defined]
    return sale_rows, line_rows, payment_rows, outcome_rows, total


BASKET_COLUMNS = ("id, till_id, state, cashier, note, opened_at, updated_at, total_fen, paid_fen, items, content, "
                  "sale_id, closed_at")


def _create_schema(url: str) -> None:
    from store.catalogue import add_product

    open_database(url)
    for barcode, name, price, unit in PRODUCTS:
        add_product(barcode, name, price, unit)
    close_database()


def seed_sqlite(path: Path, n: int) -> None:
    tmp = path.with_suffix(".partial")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        if p.exists():
            p.unlink()
    _create_schema("sqlite:///" + str(tmp))
    sale_rows, line_rows, payment_rows, outcome_rows, _ = _seed_rows(n)
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.executemany('INSERT INTO "sale" (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, '
                     'prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)', sale_rows())
    conn.executemany('INSERT INTO "line" (sale_id, position, product_id, barcode, name, unit, unit_price_fen, '
                     'qty_milli, amount_fen) VALUES (?,?,?,?,?,?,?,?,?)', line_rows())
    conn.executemany('INSERT INTO "payment" (sale_id, position, method, amount_fen, reference, status, reason) '
                     'VALUES (?,?,?,?,?,?,?)', payment_rows())
    conn.executemany('INSERT INTO "receipt_outcome" (sale_id, state, reason_code, reason, updated_at) '
                     'VALUES (?,?,?,?,?)', outcome_rows())
    conn.executemany(f'INSERT INTO "open_basket" ({BASKET_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
                     outcome_rows.baskets())
    conn.execute('INSERT INTO "till_counter" (till_id, last_receipt_no, last_hash) VALUES (?,?,?)',
                 ("1", n, f"{n:064x}"))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    os.replace(tmp, path)


def seed_postgres(url: str, n: int) -> None:
    import psycopg2

    _create_schema(url)
    sale_rows, line_rows, payment_rows, outcome_rows, _ = _seed_rows(n)
    conn = psycopg2.connect(**_pg_params(url))
    with conn, conn.cursor() as cur:
        for table, columns, rows in (
            ("sale", "id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash", sale_rows),
            ("line", "sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, amount_fen", line_rows),
            ("payment", "sale_id, position, method, amount_fen, reference, status, reason", payment_rows),
            ("receipt_outcome", "sale_id, state, reason_code, reason, updated_at", outcome_rows),
            ("open_basket", BASKET_COLUMNS, outcome_rows.baskets),
        ):
            buf = io.StringIO()
            for row in rows():
                buf.write("\t".join(str(v) for v in row) + "\n")
            buf.seek(0)
            cur.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', buf)
        cur.execute("SELECT setval(pg_get_serial_sequence('sale', 'id'), %s)", (n,))
        cur.execute("SELECT setval(pg_get_serial_sequence('line', 'id'), %s)", (5 * n,))
        cur.execute("SELECT setval(pg_get_serial_sequence('payment', 'id'), %s)", (n,))
        cur.execute("SELECT setval(pg_get_serial_sequence('receipt_outcome', 'id'), %s)", (n,))
        cur.execute("SELECT setval(pg_get_serial_sequence('open_basket', 'id'), %s)", (n,))
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


# --- one commit each way ------------------------------------------------------------

def _basket():
    basket = sales.Basket()
    for product, qty in zip(_PRODUCT_ROWS, QTYS):
        basket.add(product, qty)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen + 1000)
    return basket, tender


_PRODUCT_ROWS: list = []


def orm_commit(till_id: str) -> float:
    basket, tender = _basket()
    start = time.perf_counter()
    sales.commit_sale(basket, tender, till_id, "bench")
    return time.perf_counter() - start


def _raw_payload(basket, tender, till_id, receipt_no, prev_hash):
    now = datetime.datetime.now().replace(microsecond=0)
    lines = [dict(position=i + 1, product=ln.product_id, barcode=ln.barcode, name=ln.name, unit=ln.unit,
                  unit_price_fen=ln.unit_price_fen, qty_milli=ln.qty_milli, amount_fen=ln.amount_fen)
             for i, ln in enumerate(basket.lines)]
    payments = [dict(position=i + 1, method=p.method, amount_fen=p.amount_fen, reference=p.reference,
                     status=p.status, reason=p.reason) for i, p in enumerate(tender.payments)]
    sale = dict(till_id=till_id, receipt_no=receipt_no, sold_at=now, cashier="bench",
                total_fen=basket.total_fen, change_fen=tender.change_fen)
    digest = journal.chain_hash(prev_hash, journal.canonical_content(sale, lines, payments))
    return now, lines, payments, sale, digest


def raw_sqlite_commit(conn: sqlite3.Connection, till_id: str) -> float:
    basket, tender = _basket()
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    try:
        last_no, last_hash = conn.execute(
            'SELECT last_receipt_no, last_hash FROM "till_counter" WHERE till_id = ?', (till_id,)).fetchone()
        now, lines, payments, sale, digest = _raw_payload(basket, tender, till_id, last_no + 1, last_hash)
        cur = conn.execute(
            'INSERT INTO "sale" (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) '
            'VALUES (?,?,?,?,?,?,?,?)',
            (till_id, last_no + 1, str(now), "bench", sale["total_fen"], sale["change_fen"], last_hash, digest))
        sale_id = cur.lastrowid
        conn.executemany(
            'INSERT INTO "line" (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, '
            'amount_fen) VALUES (?,?,?,?,?,?,?,?,?)',
            [(sale_id, ln["position"], ln["product"], ln["barcode"], ln["name"], ln["unit"], ln["unit_price_fen"],
              ln["qty_milli"], ln["amount_fen"]) for ln in lines])
        conn.executemany(
            'INSERT INTO "payment" (sale_id, position, method, amount_fen, reference, status, reason) '
            'VALUES (?,?,?,?,?,?,?)',
            [(sale_id, p["position"], p["method"], p["amount_fen"], p["reference"], p["status"], p["reason"])
             for p in payments])
        conn.execute('INSERT INTO "receipt_outcome" (sale_id, state, reason_code, reason, updated_at) '
                     'VALUES (?,?,?,?,?)', (sale_id, "pending", "", "", str(now)))
        conn.execute('UPDATE "till_counter" SET last_receipt_no = ?, last_hash = ? WHERE till_id = ?',
                     (last_no + 1, digest, till_id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return time.perf_counter() - start


def raw_pg_commit(conn, till_id: str) -> float:
    basket, tender = _basket()
    start = time.perf_counter()
    with conn, conn.cursor() as cur:  # one transaction, committed on exit
        cur.execute('SELECT last_receipt_no, last_hash FROM "till_counter" WHERE till_id = %s FOR UPDATE',
                    (till_id,))
        last_no, last_hash = cur.fetchone()
        now, lines, payments, sale, digest = _raw_payload(basket, tender, till_id, last_no + 1, last_hash)
        cur.execute(
            'INSERT INTO "sale" (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) '
            'VALUES (%s,%s,%s,%s,%s,%s,%s,%s) RETURNING id',
            (till_id, last_no + 1, now, "bench", sale["total_fen"], sale["change_fen"], last_hash, digest))
        sale_id = cur.fetchone()[0]
        values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s,%s)"] * len(lines))
        cur.execute(
            'INSERT INTO "line" (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, '
            'amount_fen) VALUES ' + values,
            [v for ln in lines for v in (sale_id, ln["position"], ln["product"], ln["barcode"], ln["name"], ln["unit"],
                                        ln["unit_price_fen"], ln["qty_milli"], ln["amount_fen"])])
        cur.execute(
            'INSERT INTO "payment" (sale_id, position, method, amount_fen, reference, status, reason) '
            'VALUES ' + ",".join(["(%s,%s,%s,%s,%s,%s,%s)"] * len(payments)),
            [v for p in payments for v in (sale_id, p["position"], p["method"], p["amount_fen"], p["reference"],
                                           p["status"], p["reason"])])
        cur.execute('INSERT INTO "receipt_outcome" (sale_id, state, reason_code, reason, updated_at) '
                    'VALUES (%s,%s,%s,%s,%s)', (sale_id, "pending", "", "", now))
        cur.execute('UPDATE "till_counter" SET last_receipt_no = %s, last_hash = %s WHERE till_id = %s',
                    (last_no + 1, digest, till_id))
    return time.perf_counter() - start


# --- measuring ------------------------------------------------------------------------

def _p(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(orm, raw, commits: int, warmup: int = 20):
    for _ in range(warmup):
        orm()
        raw()
    orm_times, raw_times = [], []
    for i in range(commits):  # interleaved, alternating who goes first: same disk weather
        if i % 2:
            orm_times.append(orm())
            raw_times.append(raw())
        else:
            raw_times.append(raw())
            orm_times.append(orm())
    return orm_times, raw_times


def _load_products():
    _PRODUCT_ROWS[:] = [sales.find_product(p[0]) for p in PRODUCTS]


def bench_sqlite(n: int, commits: int, cache_dir: Path):
    cached = cache_dir / f"chaoying-bench-{n}.sqlite3"
    if not cached.exists():
        print(f"seeding {n:,} sales into {cached} (once) ...", flush=True)
        start = time.perf_counter()
        seed_sqlite(cached, n)
        print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
    work_dir = Path(tempfile.mkdtemp(prefix="chaoying-bench-", dir=str(cache_dir)))
    work = work_dir / "bench.sqlite3"
    shutil.copyfile(cached, work)
    try:
        open_database("sqlite:///" + str(work))
        _load_products()
        raw = sqlite3.connect(str(work), isolation_level=None, timeout=10)
        for name, value in SQLITE_PRAGMAS:
            raw.execute(f"PRAGMA {name} = {value}")
        raw.execute('INSERT OR IGNORE INTO "till_counter" (till_id, last_receipt_no, last_hash) VALUES (?,?,?)',
                    ("2", 0, "0" * 64))
        orm_t, raw_t = measure(lambda: orm_commit("1"), lambda: raw_sqlite_commit(raw, "2"), commits)
        raw.close()
        close_database()
        return orm_t, raw_t
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def bench_postgres(n: int, commits: int):
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
        raw.cursor().execute('INSERT INTO "till_counter" (till_id, last_receipt_no, last_hash) VALUES (%s,%s,%s)',
                             ("2", 0, "0" * 64))
        raw.commit()
        orm_t, raw_t = measure(lambda: orm_commit("1"), lambda: raw_pg_commit(raw, "2"), commits)
        raw.close()
        close_database()
        return orm_t, raw_t
    finally:
        server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales already stored (SQLite)")
    parser.add_argument("--pg-sales", type=int, default=200_000, help="sales already stored (PostgreSQL)")
    parser.add_argument("--commits", type=int, default=500, help="measured commits per side")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--cache-dir", default=tempfile.gettempdir(), help="where the seeded SQLite file is cached")
    args = parser.parse_args(argv)

    rows = []
    orm_t, raw_t = bench_sqlite(args.sales, args.commits, Path(args.cache_dir))
    rows.append(("SQLite", args.sales, orm_t, raw_t, "sqlite3"))
    if not args.no_pg:
        orm_t, raw_t = bench_postgres(args.pg_sales, args.commits)
        rows.append(("PostgreSQL 15", args.pg_sales, orm_t, raw_t, "psycopg2"))

    print()
    print(f"Commit latency of a 5-line sale, {args.commits} commits each, ms "
          f"(python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version})")
    header = f"{'database':<14} {'stored':>10} {'side':<12} {'p50':>8} {'p99':>8} {'mean':>8}"
    print(header)
    print("-" * len(header))
    verdict = True
    for name, n, orm_t, raw_t, driver in rows:
        for side, times in (("commit_sale", orm_t), (driver, raw_t)):
            print(f"{name:<14} {n:>10,} {side:<12} {_p(times, .5) * 1e3:8.3f} {_p(times, .99) * 1e3:8.3f} "
                  f"{statistics.mean(times) * 1e3:8.3f}")
        r50 = _p(orm_t, .5) / _p(raw_t, .5)
        r99 = _p(orm_t, .99) / _p(raw_t, .99)
        print(f"{name:<14} {'':>10} {'ratio':<12} {r50:7.2f}x {r99:7.2f}x")
        if name == "SQLite":
            verdict = r50 <= 1.5
    print()
    print(f"target: SQLite p50 within 1.5x of raw sqlite3: {'met' if verdict else 'NOT met'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
