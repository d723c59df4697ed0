"""Sync up: a till's offline queue caught up, throughput against raw inserts, and a batch on a full server.

Run from the repository root (a script, not a test):

    python tests/bench/bench_sync.py [--sales 10000] [--tills 20] [--seeded 50000] [--quick]

A PostgreSQL 15 server is started for the run (tests/store/pgserver.py, fsync on), on this machine. The till
is the shared seeded SQLite file (tests/bench/common.py: 5-line cash sales, each with its commit record),
``--sales`` of them, all waiting as after a day offline.

- catch-up: every waiting sale sent by the till's own loop (store.sync_batch.build_batch, store.server.
  send_batch, mark_sent), end to end, into an empty server. Target: under 30 s.
- throughput: the same batches sent again, each paired with raw INSERTs of the very rows send_batch writes
  (audit records, sales, lines, payments, outcomes; execute_values, one transaction per batch) into another
  database of the same server, alternating who goes first. The ratio is raw time / ours per pair (our
  throughput as a share of the raw one); target >= 0.5x.
- full server: each batch is also sent to a database already holding ``--tills`` tills x ``--seeded`` sales
  (seeded with generate_series, not through a till); the ratio is its time / the empty server's, per pair.
  Target <= 1.2x.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import common  # noqa: E402

CATCH_UP_TARGET_S = 30.0
THROUGHPUT_TARGET = 0.5
FULL_TARGET = 1.2


def _execute(url: str, *statements: str) -> None:
    from store import server

    conn = server.connect_server(url, timeout_s=600)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            for statement in statements:
                cursor.execute(statement)
        conn.commit()
    finally:
        conn.close()


def seed_full(url: str, tills: int, sales: int) -> None:
    """``tills`` tills of ``sales`` 5-line sales each, with their records, outcomes and heads: in SQL, at once."""
    from store.server import ID_BLOCK

    till = "'B' || lpad(k::text, 2, '0')"
    series = f"generate_series(1, {tills}) AS k, generate_series(1, {sales}) AS n"
    sid = f"k::bigint * {ID_BLOCK} + n"
    at = "timestamp '2024-01-01' + n * interval '30 seconds'"
    digest = "md5(k::text || '-' || n::text) || md5(n::text || '-' || k::text)"
    _execute(
        url,
        "ALTER TABLE line DISABLE TRIGGER USER",
        f"INSERT INTO sync_till (till_id, shop, till_index, instance, head_seq, head_hash, last_at, records) "
        f"SELECT {till}, '', k, md5(k::text), {sales}, repeat('a', 64), now(), {sales} "
        f"FROM generate_series(1, {tills}) AS k",
        f"INSERT INTO sale (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash, kind, "
        f"original_id, reason, manager, discount_fen, hash_kind) SELECT {sid}, {till}, n, {at}, 'seed', 2590, 0, "
        f"{digest}, {digest}, 'sale', NULL, '', '', 0, '' FROM {series}",
        f"INSERT INTO line (id, sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, "
        f"amount_fen, discount_fen, original_line_id) SELECT ({sid}) * 5 - 5 + j - (k::bigint * {ID_BLOCK}) * 4, "
        f"{sid}, j, j, '690000000000' || j, '商品 ' || j, '瓶', 518, 1000, 518, 0, NULL "
        f"FROM {series}, generate_series(1, 5) AS j",
        f"INSERT INTO payment (id, sale_id, position, method, amount_fen, reference, status, reason, out_trade_no) "
        f"SELECT {sid}, {sid}, 1, 'cash', 2590, '', 'ok', '', '' FROM {series}",
        f"INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
        f"SELECT {sid}, 'printed', '', '', {at} FROM {series}",
        f"INSERT INTO audit (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) "
        f"SELECT {till}, n, 'commit', {sid}, '{{\"hash\":\"' || {digest} || '\",\"outcome\":[\"printed\",\"\",\"\",\"' "
        f"|| ({at})::text || '\"],\"reasons\":[\"\"],\"receipt_no\":' || n || '}}', {digest}, {digest}, '' "
        f"FROM {series}",
        f"INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq, audit_hash, z_unsealed) "
        f"SELECT {till}, {sales}, repeat('a', 64), {sales}, repeat('a', 64), 0 FROM generate_series(1, {tills}) AS k",
        "INSERT INTO line_name (name) SELECT DISTINCT name FROM line ON CONFLICT DO NOTHING",
        "ALTER TABLE line ENABLE TRIGGER USER",
    )
    _execute(url, "ANALYZE")


def catch_up(till_file: Path, url: str, limit: int) -> Dict[str, float]:
    """The till's own loop until nothing waits; seconds and batches."""
    from store import server, sync_batch
    from store.db import close_database, db, open_database

    open_database("sqlite:///" + str(till_file))
    conn = server.connect_server(url)
    try:
        waiting = sync_batch.waiting("1")
        limit_s = common.deadline(300, "the catch-up of the offline queue")
        started = time.perf_counter()
        batches = 0
        while True:
            limit_s.check()
            batch = sync_batch.build_batch("1", "", limit)
            if batch is None:
                break
            head = server.send_batch(conn, batch)
            sync_batch.mark_sent("1", head, batch["records"][-1]["hash"])
            batches += 1
        took = time.perf_counter() - started
        assert sync_batch.waiting("1") == 0
    finally:
        conn.close()
        close_database()
        db.initialize(None)
    return {"seconds": took, "batches": batches, "records": waiting}


def all_batches(till_file: Path, limit: int) -> List[dict]:
    """Every batch the till would send, built once (the mark moved as they are built, then put back)."""
    from store import sync_batch
    from store.db import close_database, db, open_database
    from store.models import GENESIS_HASH

    open_database("sqlite:///" + str(till_file))
    try:
        sync_batch.mark_sent("1", 0, GENESIS_HASH)
        batches = []
        while True:
            batch = sync_batch.build_batch("1", "", limit)
            if batch is None:
                break
            batches.append(batch)
            sync_batch.mark_sent("1", batch["records"][-1]["seq"], batch["records"][-1]["hash"])
    finally:
        close_database()
        db.initialize(None)
    return batches


def raw_rows(batch: dict, base: int) -> List[tuple]:
    """(sql, rows) of the very rows send_batch writes for ``batch`` on a till at ``base``: built before timing."""
    from store import server

    applied = server._Batch(None, batch)
    applied.base = base
    applied.sales = [batch["documents"][str(r["ref"])] for r in batch["records"] if r["kind"] == "commit"]
    for record in batch["records"]:
        applied._take(record)
    found = [("INSERT INTO audit (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) VALUES %s",
              applied.audit_rows)]
    for table, columns, values in applied.document_rows():
        found.append((f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES %s', values))
    found.append(("INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) VALUES %s",
                  list(applied.outcomes.values())))
    return found


def send_raw(conn: Any, statements: List[tuple]) -> None:
    from psycopg2.extras import execute_values

    with conn.cursor() as cursor:
        for sql, rows in statements:
            if rows:
                execute_values(cursor, sql, rows, page_size=1000)
    conn.commit()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sales", type=int, default=10_000, help="sales waiting on the till")
    parser.add_argument("--tills", type=int, default=20, help="tills already on the full server")
    parser.add_argument("--seeded", type=int, default=50_000, help="sales of each of those tills")
    parser.add_argument("--batch", type=int, default=500, help="records per batch")
    parser.add_argument("--quick", action="store_true", help="2,000 sales, 20 tills x 2,000 on the full server")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sales, args.seeded, args.batch = 2000, 2000, 250
    from store import server
    from tests.store.pgserver import PostgresServer

    print(f"machine: {common.machine()}", flush=True)
    pg = PostgresServer(fsync=True).start()
    try:
        urls = {name: pg.create_database(name) for name in ("catchup", "empty", "floor", "full")}
        for url in urls.values():
            server.migrate_server(url)
        started = time.perf_counter()
        seed_full(urls["full"], args.tills, args.seeded)
        print(f"seeded {args.tills} x {args.seeded:,} sales in {time.perf_counter() - started:.0f} s", flush=True)
        with common.work_copy(args.sales) as till_file:
            caught = catch_up(till_file, urls["catchup"], args.batch)
            print(f"catch-up: {caught['records']:,} records in {caught['batches']} batches, "
                  f"{caught['seconds']:.1f} s", flush=True)
            batches = all_batches(till_file, args.batch)
        conns = {name: server.connect_server(urls[name]) for name in ("empty", "floor", "full")}
        try:
            raw = [raw_rows(batch, server.ID_BLOCK) for batch in batches]
            times: Dict[str, List[float]] = {"empty": [], "floor": [], "full": []}
            limit = common.deadline(600, "the paired batches")
            for index, batch in enumerate(batches):
                limit.check()
                order = [("empty", "floor", "full"), ("floor", "full", "empty"), ("full", "empty", "floor")][index % 3]
                for name in order:
                    began = time.perf_counter()
                    if name == "floor":
                        send_raw(conns[name], raw[index])
                    else:
                        server.send_batch(conns[name], batch)
                    times[name].append(time.perf_counter() - began)
        finally:
            for conn in conns.values():
                conn.close()
    finally:
        pg.stop()
    sales_per_batch = [sum(1 for r in batch["records"] if r["kind"] == "commit") for batch in batches]
    skip = 1 if len(batches) > 2 else 0  # the first batch makes each database's till row
    pairs = range(skip, len(batches))
    throughput = sorted(times["floor"][i] / times["empty"][i] for i in pairs)
    full = sorted(times["full"][i] / times["empty"][i] for i in pairs)
    ours_rate = sum(sales_per_batch[i] for i in pairs) / sum(times["empty"][i] for i in pairs)
    raw_rate = sum(sales_per_batch[i] for i in pairs) / sum(times["floor"][i] for i in pairs)

    def spread(ratios: List[float]) -> str:
        return (f"{common._q(ratios, .25):.2f}-{common._q(ratios, .75):.2f} "
                f"(min-max {ratios[0]:.2f}-{ratios[-1]:.2f})")

    figures = [
        common.Figure(f"sync catch-up of {args.sales:,} offline sales", f"{caught['seconds']:.1f} s",
                      target=f"< {CATCH_UP_TARGET_S:.0f} s", met=caught["seconds"] < CATCH_UP_TARGET_S),
        common.Figure("sync throughput vs raw INSERTs (raw time / ours)", f"{ours_rate:,.0f} sales/s",
                      f"{raw_rate:,.0f} sales/s (raw)", f"{statistics.median(throughput):.2f}x", spread(throughput),
                      f">= {THROUGHPUT_TARGET}x", statistics.median(throughput) >= THROUGHPUT_TARGET),
        common.Figure(f"sync batch on {args.tills} tills x {args.seeded:,} sales vs empty",
                      f"{statistics.median([times['full'][i] for i in pairs]) * 1e3:.1f} ms",
                      f"{statistics.median([times['empty'][i] for i in pairs]) * 1e3:.1f} ms (empty)",
                      f"{statistics.median(full):.2f}x", spread(full), f"<= {FULL_TARGET}x",
                      statistics.median(full) <= FULL_TARGET),
    ]
    common.print_table(f"Sync up: {args.sales:,} sales in batches of {args.batch} records, "
                       f"{len(pairs)} paired batches", figures)
    common.write_figures(args.figures, figures)
    return 0 if common.all_met(figures) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
