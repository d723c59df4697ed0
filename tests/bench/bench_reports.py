"""X report of a 500-sale shift and `report sales` over a year, with 1,000,000 sales stored, vs raw sqlite3 SQL.

Run from the repository root (a script, not a test):

    python tests/bench/bench_reports.py [--sales 1000000] [--runs 5] [--cache-dir DIR]

The shared seeded file (tests/bench/common.py: one sale every 30 s from
2024-01-01, so 1,000,000 sales span about a year), on a copy. A previous Z
is placed after receipt n - 500, so the open shift holds the last 500
sales. The store (``reports.x_report``, ``reports.sales_by``) and raw
sqlite3 SQL doing the same aggregations run in ``--runs`` alternating pairs;
the ratio is the median of the per-pair ratios. Targets (issue 12): X under
100 ms, a year under 2 s (the store's median).
"""
from __future__ import annotations

import argparse
import datetime
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import common  # noqa: E402

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="pairs per report")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args(argv)
    n = args.sales
    with common.work_copy(n, args.cache_dir) as work:
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
        limit = common.deadline(120 + 60 * args.runs, "the report pairs")
        x = common.paired(lambda: reports.x_report("1"), lambda: [raw.execute(sql, (after,)).fetchall() for sql in RAW_X],
                          args.runs, warmup=1, limit=limit)
        year = common.paired(lambda: reports.sales_by(None, first, last, "day"),
                             lambda: raw.execute(RAW_YEAR, ("2024-01-01 00:00:00", "2025-01-01 00:00:00")).fetchall(),
                             args.runs, warmup=1, limit=limit)
        assert reports.x_report("1")["sales"]["count"] == 500
        raw.close()
        close_database()
    rows = []
    for what, stats, bound in ((f"X of a 500-sale shift, {n:,} stored", x, 0.100),
                               (f"report sales, a year by day, {n:,} stored", year, 2.0)):
        row = common.Figure.pair(what, stats, 0, floor_name="raw SQL")
        row.target, row.met = f"< {bound * 1000:.0f} ms", stats.ours < bound
        rows.append(row)
    common.print_table(f"Reports, {args.runs} pairs; {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
