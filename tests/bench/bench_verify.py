"""``journal verify`` on a big journal: the full walk against raw sqlite3 reading the same rows, and from a checkpoint.

Run from the repository root (a script, not a test):

    python tests/bench/bench_verify.py [--sales 1000000] [--runs 2] [--new 1000] [--key]

Works on a copy of the shared seeded file (tests/bench/common.py: 5-line
sales of one till with a payment, a printed outcome and the commit's audit
record, real journal and audit hashes, so the file verifies; ``--key``: a
separate cache sealed with a fixed journal key, HMAC-SHA256). Then:

- ``--runs`` pairs, alternating who goes first: raw sqlite3 reading every
  sale, line, payment, outcome, audit and other row (the floor) and
  ``journal.verify(full=True, checkpoint=True)`` (what ``journal verify
  --full`` runs); the figure is the median of the per-pair
  ratios with its spread. Target: within 1.5x.
- checkpoint: ``journal.verify(full=False)`` right after a checkpoint, after
  ``--new`` more sales committed through the store (what a till's daily
  verify sees). Target: under 5 s.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store import chain, journal  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from tests.bench import common  # noqa: E402

TARGET = 1.5
KEY = b"bench-verify-key-" * 2  # a fixed key: the cached file stays checkable


def raw_read(path: Path) -> float:
    """The floor: sqlite3 reading every row the verify reads, doing nothing with them."""
    con = sqlite3.connect(str(path))
    start = time.perf_counter()
    for table in ("sale", "line", "payment", "discount", "receipt_outcome", "audit", "print_attempt", "event"):
        for _ in con.execute(f"SELECT * FROM {table}"):
            pass
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def sell(count: int) -> None:
    from store import catalogue, sales

    if sales.find_product("42") is None:
        catalogue.add_product("42", "塑料袋", 20)
    product = sales.find_product("42")
    for _ in range(count):
        basket = sales.Basket()
        basket.add(product, 1000)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        sales.commit_sale(basket, tender, "1", None)


def timed(function) -> "tuple[float, object]":
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000, help="sales committed after the checkpoint")
    parser.add_argument("--key", action="store_true", help="sealed with a journal key (HMAC-SHA256)")
    parser.add_argument("--runs", type=int, default=2, help="pairs of the floor and the full walk")
    parser.add_argument("--cache-dir", default=None, help="where the seeded SQLite files are cached")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()
    if args.key:
        chain.set_key(KEY)
    with common.work_copy(args.sales, args.cache_dir, keyed=args.key) as path:
        raw_read(path)  # the copy's pages into the OS cache, as they are for the runs below
        open_database("sqlite:///" + str(path))
        try:
            results: List[object] = []

            def full() -> float:
                seconds, result = timed(lambda: journal.verify(full=True, checkpoint=True))  # as the CLI's
                results.append(result)
                return seconds

            stats = common.paired(full, lambda: raw_read(path), args.runs, warmup=0,
                                  limit=common.deadline(300 * args.runs, f"{args.runs} full verify pairs"))
            walked = results[-1]
            assert walked.ok, walked.message  # type: ignore[attr-defined]
            sell(args.new)
            incremental_s, incremental = timed(lambda: journal.verify(full=False, checkpoint=True))
            assert incremental.ok and incremental.from_checkpoint and incremental.sales_checked == args.new, incremental
            again_s, _ = timed(lambda: journal.verify(full=False, checkpoint=True))
        finally:
            close_database()
    kind = "HMAC-SHA256" if args.key else "SHA-256"
    rate = args.sales / stats.ours
    full_row = common.Figure.pair(f"journal verify --full, {args.sales:,} sales ({kind})", stats, TARGET, unit="s",
                                  scale=1, floor_name="raw read")
    full_row.ours += f", {rate:,.0f} sales/s"
    rows = [
        full_row,
        common.Figure(f"verify from a checkpoint, +{args.new:,} new", f"{incremental_s:.2f} s", target="< 5 s",
                      met=incremental_s < 5),
        common.Figure("verify from a checkpoint, nothing new", f"{again_s:.2f} s"),
    ]
    common.print_table(f"Journal verify, {args.runs} pairs; {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
