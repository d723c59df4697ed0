"""X report of a 500-sale shift and `report sales` over a year, with 1,000,000 sales stored, vs raw sqlite3 SQL.

Run from the repository root (a script, not a test):

    python tests/bench/bench_reports.py [--sales 1000000] [--runs 5] [--cache-dir DIR]

The SQLite file is seeded once by bench_commit's ``seed_sqlite`` (30 s apart
from 2024-01-01: 1,000,000 sales span about a year) and each run works on a
copy. A previous Z is placed after receipt n - 500, so the open shift holds
the last 500 sales. Each side is timed ``--runs`` times (best kept): the
store (``reports.x_report``, ``reports.sales_by``) and raw sqlite3 SQL doing
the same aggregations. Targets (issue 12): X under 100 ms, a year under 2 s.
"""
from __future__ import annotations

import argparse
import datetime
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_commit import seed_sqlite  # noqa: E402

RAW_X = [
    "SELECT kind, COUNT(id), SUM(total_fen), SUM(discount_fen), SUM(change_fen), MIN(receipt_no), MAX(receipt_no) "
    "FROM sale WHERE till_id = '1' AND receipt_no > ? GROUP BY kind",
    "SELECT s.kind, p.method, p.status, COUNT(p.id), SUM(p.amount_fen) FROM payment p JOIN sale s ON p.sale_id = s.id "
    "WHERE s.till_id = '1' AND s.receipt_no > ? GROUP BY s.kind, p.method, p.status",
    "SELECT l.barcode, l.name, SUM(l.qty_milli), SUM(l.amount_fen) FROM line l JOIN sale s ON l.sale_id = s.id "
    "WHERE s.till_id = '1' AND s.receipt_no > ? GROUP BY l.barcode, l.name ORDER BY 4 DESC LIMIT 10",
    "SELECT o.state, COUNT(o.id) FROM receipt_outcome o JOIN sale s ON o.sale_id = s.id "
    "WHERE s.till_id = '1' AND s.receipt_no > ? GROUP BY o.state",
]
RAW_YEAR = ("SELECT substr(sold_at, 1, 10), SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN kind = 'sale' THEN total_fen ELSE -total_fen END) FROM sale "
            "WHERE sold_at >= ? AND sold_at < ? GROUP BY 1 ORDER BY 1")


def best(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache-dir", default=tempfile.gettempdir())
    args = parser.parse_args(argv)
    n = args.sales
    cached = Path(args.cache_dir) / f"chaoying-bench-{n}.sqlite3"
    if not cached.exists():
        print(f"seeding {n:,} sales into {cached} (once) ...", flush=True)
        seed_sqlite(cached, n)
    work_dir = Path(tempfile.mkdtemp(prefix="chaoying-bench-reports-", dir=args.cache_dir))
    work = work_dir / "bench.sqlite3"
    shutil.copyfile(cached, work)
    try:
        from store import reports, shifts
        from store.db import close_database, open_database

        database = open_database("sqlite:///" + str(work))  # migrates to the latest schema
        after = n - 500
        database.execute_sql(
            "INSERT INTO z_report (till_id, z_no, closed_at, closed_by, last_receipt_no, figures, journal_head, "
            "prev_hash, hash) VALUES ('1', 1, '2024-12-01 00:00:00', '', ?, '{}', '', '', '')", (after,))
        shifts.open_shift("1", 20000)
        database.execute_sql("ANALYZE")
        first, last = datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)
        raw = sqlite3.connect(str(work))
        x_store = best(lambda: reports.x_report("1"), args.runs)
        x_raw = best(lambda: [raw.execute(sql, (after,)).fetchall() for sql in RAW_X], args.runs)
        year_store = best(lambda: reports.sales_by(None, first, last, "day"), args.runs)
        year_raw = best(lambda: raw.execute(RAW_YEAR, ("2024-01-01 00:00:00", "2025-01-01 00:00:00")).fetchall(),
                        args.runs)
        assert reports.x_report("1")["sales"]["count"] == 500
        raw.close()
        close_database()
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print()
    print(f"Reports with {n:,} sales stored, best of {args.runs}, ms (SQLite {sqlite3.sqlite_version})")
    header = f"{'what':<32} {'store':>9} {'raw SQL':>9} {'ratio':>7} {'target':>8}"
    print(header)
    print("-" * len(header))
    ok = True
    for what, store_t, raw_t, target in (("X of a 500-sale shift", x_store, x_raw, 0.100),
                                         ("report sales, a year by day", year_store, year_raw, 2.0)):
        ok &= store_t < target
        print(f"{what:<32} {store_t * 1000:9.1f} {raw_t * 1000:9.1f} {store_t / raw_t:7.2f} {target * 1000:8.0f}")
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
