"""``journal verify`` on a big journal: full walk vs from a checkpoint, against raw sqlite3 reading the same rows.

Run from the repository root (a script, not a test):

    python tests/bench/bench_verify.py [--sales 1000000] [--new 1000] [--key]

Builds a SQLite file (migrated by the store) with ``--sales`` sales of one
till (one line, one payment, a pending outcome, the commit's audit record),
written with raw ``executemany`` and correct journal and audit hashes, so
the file verifies; it is cached under ``--cache-dir`` by size, schema
version and hash kind, and each run works on a copy. Then times:

- raw: sqlite3 reading every sale, line, payment, outcome and audit row (the floor);
- full: ``journal.verify(full=True)`` (it and the floor: best of ``--runs``);
- checkpoint: ``journal.verify(full=False)`` right after a checkpoint, after
  ``--new`` more sales committed through the store (what a till's daily
  verify sees).

The issue's target: 1,000,000 sales verified in under 5 s (from a checkpoint).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store import audit, journal, migrations  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from store.models import GENESIS_HASH  # noqa: E402

BATCH = 20_000


def build(path: Path, count: int) -> None:
    """``count`` chained sales of till 1, written raw in batches."""
    open_database("sqlite:///" + str(path))  # migrations
    close_database()
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN")
    kind = journal.hash_kind()
    prev, audit_prev = GENESIS_HASH, GENESIS_HASH
    day = datetime.datetime(2020, 1, 1)
    for start in range(0, count, BATCH):
        sales, lines, payments, outcomes_, records = [], [], [], [], []
        for n in range(start + 1, min(count, start + BATCH) + 1):
            at = (day + datetime.timedelta(seconds=n * 30)).isoformat(sep=" ")
            sale = dict(till_id="1", receipt_no=n, sold_at=at, cashier="c1", total_fen=350, change_fen=0)
            line = dict(position=1, barcode="6901234567892", name="可口可乐 330ml", unit="瓶", unit_price_fen=350,
                        qty_milli=1000, amount_fen=350)
            payment = dict(position=1, method="cash", amount_fen=350, reference="", status="ok", reason="")
            digest = journal.chain_hash(prev, journal.canonical_content(sale, [line], [payment]), kind)
            sales.append((n, "1", n, at, "c1", 350, 0, prev, digest, kind))
            lines.append((n, 1, "6901234567892", "可口可乐 330ml", "瓶", 350, 1000, 350))
            payments.append((n, 1, "cash", 350, "", "ok", ""))
            outcomes_.append((n, "pending", "", "", at))
            content = audit.commit_content(n, digest, [payment], dict(state="pending", reason_code="", reason="",
                                                                      updated_at=at))
            audit_digest = journal.chain_hash(audit_prev, content, kind)
            records.append(("1", n, audit.COMMIT, n, content, audit_prev, audit_digest, kind))
            prev, audit_prev = digest, audit_digest
        con.executemany("INSERT INTO sale (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, "
                        "prev_hash, hash, hash_kind) VALUES (?,?,?,?,?,?,?,?,?,?)", sales)
        con.executemany("INSERT INTO line (sale_id, position, barcode, name, unit, unit_price_fen, qty_milli, "
                        "amount_fen) VALUES (?,?,?,?,?,?,?,?)", lines)
        con.executemany("INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
                        "VALUES (?,?,?,?,?,?,?)", payments)
        con.executemany("INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
                        "VALUES (?,?,?,?,?)", outcomes_)
        con.executemany("INSERT INTO audit (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) "
                        "VALUES (?,?,?,?,?,?,?,?)", records)
    con.execute("INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq, audit_hash) "
                "VALUES ('1', ?, ?, ?, ?)", (count, prev, count, audit_prev))
    con.execute("COMMIT")
    con.close()


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000, help="sales committed after the checkpoint")
    parser.add_argument("--key", action="store_true", help="seal with a journal key (HMAC-SHA256)")
    parser.add_argument("--runs", type=int, default=2, help="the floor and the full walk: best of this many")
    parser.add_argument("--cache-dir", default=tempfile.gettempdir(), help="where built SQLite files are cached")
    args = parser.parse_args()
    if args.key:
        journal.set_key(b"bench-verify-key-" * 2)  # a fixed key: the cached file stays checkable
    kind = "hmac" if args.key else "sha256"
    cached = Path(args.cache_dir) / f"chaoying-bench-verify-{args.sales}-v{migrations.LATEST}-{kind}.sqlite3"
    if not cached.exists():
        print(f"building {args.sales:,} sales into {cached} (once) ...", flush=True)
        building = cached.with_suffix(".building")
        build_s, _ = timed(lambda: build(building, args.sales))
        building.rename(cached)
        print(f"  built in {build_s:.0f} s", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="chaoying-bench-verify-", dir=args.cache_dir))
    path = folder / "verify.sqlite3"
    shutil.copyfile(cached, path)  # the run writes checkpoints and new sales
    raw_read(path)  # the copy's pages into the OS cache, as they are for the runs below
    floor = min(raw_read(path) for _ in range(args.runs))
    open_database("sqlite:///" + str(path))
    try:
        walks = [timed(lambda: journal.verify(full=True))[0] for _ in range(args.runs - 1)]
        last_s, full = timed(lambda: journal.verify(full=True, checkpoint=True))  # the last stores a checkpoint
        full_s = min(walks + [last_s])
        assert full.ok, full.message
        sell(args.new)
        floor_new = raw_read(path)
        incremental_s, incremental = timed(lambda: journal.verify(full=False, checkpoint=True))
        assert incremental.ok and incremental.from_checkpoint and incremental.sales_checked == args.new, incremental
        again_s, _ = timed(lambda: journal.verify(full=False, checkpoint=True))
    finally:
        close_database()
    rows = [
        ("raw sqlite3 read, all rows", args.sales, floor),
        ("verify --full", full.sales_checked, full_s),
        (f"verify from checkpoint (+{args.new:,} new)", incremental.sales_checked, incremental_s),
        ("verify from checkpoint (nothing new)", 0, again_s),
    ]
    kind = "HMAC-SHA256" if args.key else "SHA-256"
    print(f"\njournal verify of {args.sales:,} sales ({kind}), python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}; floor re-read with the new sales: {floor_new:.2f} s")
    print(f"{'':42} {'sales walked':>12} {'seconds':>9} {'µs/sale':>8} {'x floor':>8}")
    for name, walked, seconds in rows:
        per = seconds / args.sales * 1e6
        print(f"{name:42} {walked:>12,} {seconds:>9.2f} {per:>8.1f} {seconds / floor:>7.2f}x")
    target = "met" if incremental_s < 5 else "NOT met"
    print(f"\ntarget: {args.sales:,} sales verified in under 5 s from a checkpoint: {target}")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
