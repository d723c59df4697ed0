"""How long a selling till's commit waits while `chaoying backup` copies a large database.

Run from the repository root (a script, not a test):

    python tests/bench/bench_backup.py [--sales 100000] [--floor 300] [--gap 0.02]

A SQLite file (WAL) with ``--sales`` 5-line sales written by raw inserts
(their journal hashes are not real: this measures the lock, not the chain).
A till process (``tests/catalogue/sell_loop.py``) commits 5-line sales
through ``store.sales.commit_sale``, ``--gap`` seconds apart, timing each
commit:

1. floor: ``--floor`` commits with nothing else running;
2. during a backup by ``VACUUM INTO`` (store.backup's default) in another process;
3. during a backup by the backup API in steps of ``STEP_PAGES`` pages (the
   other candidate), stopped after ``--steps-timeout`` seconds: a write by
   another connection restarts it from the first page.

Each backup row gives the longest commit against the floor's (ratio).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import backup  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from tests.bench.bench_import_wait import env_for, sell  # noqa: E402
from tests.catalogue import sell_loop  # noqa: E402

BACKUP = """
import sys, time
from pathlib import Path
from store import backup
start = time.perf_counter()
made = backup.create_backup(sys.argv[1], Path(sys.argv[2]), "bench", "1", method=sys.argv[3])
print(time.perf_counter() - start, made.manifest["sales"], made.path.stat().st_size)
"""


def seed(url: str, count: int) -> None:
    """``count`` 5-line cash sales on till 1 by raw inserts, in one transaction."""
    open_database(url)
    sell_loop.seed_products()
    close_database()
    con = sqlite3.connect(url[len("sqlite:///"):])
    day = datetime.datetime(2024, 1, 1)
    with con:
        con.executemany(
            "INSERT INTO sale (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) "
            "VALUES (?, '1', ?, ?, 'c1', 2300, 0, ?, ?)",
            ((n, n, (day + datetime.timedelta(seconds=30 * n)).isoformat(sep=" "), f"{n - 1:064x}", f"{n:064x}")
             for n in range(1, count + 1)))
        con.executemany(
            "INSERT INTO line (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, "
            "amount_fen) VALUES (?, ?, NULL, ?, ?, '', ?, 1000, ?)",
            ((n, p + 1, code, name, price, price) for n in range(1, count + 1)
             for p, (code, name, price) in enumerate(sell_loop.PRODUCTS)))
        con.executemany("INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
                        "VALUES (?, 1, 'cash', 2300, '', 'ok', '')", ((n,) for n in range(1, count + 1)))
        con.execute("INSERT INTO till_counter (till_id, last_receipt_no, last_hash) VALUES ('1', ?, ?)",
                    (count, f"{count:064x}"))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def backup_process(url: str, folder: Path, env: dict, method: str, timeout: float):
    def run():
        try:
            done = subprocess.run([sys.executable, "-c", BACKUP, url, str(folder), method], cwd=str(ROOT), env=env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"did not finish in {timeout:.0f} s (restarted by every commit)"
        if done.returncode != 0:
            raise SystemExit(f"backup failed: {done.stderr}")
        took, sales, size = done.stdout.split()
        return f"backup {float(took):.1f} s, {int(sales):,} sales, {int(size) / 1e6:.1f} MB gz"
    return run


def row(label: str, sold: dict, floor_longest: float, extra: str = "") -> str:
    ms = sorted(w * 1000 for w in sold["waits"])
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"| {label} | {len(ms)} | {len(sold['errors'])} | {statistics.median(ms):.1f} | {p99:.1f} | "
            f"{ms[-1]:.1f} | {ms[-1] / floor_longest:.2f}x | {extra} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=100_000)
    parser.add_argument("--floor", type=int, default=300, help="commits with no backup running")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between two sales of the till")
    parser.add_argument("--steps-timeout", type=float, default=60.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="chaoying-bench-backup-"))
    url = "sqlite:///" + str(folder / "shop.sqlite3")
    start = time.perf_counter()
    seed(url, args.sales)
    size = (folder / "shop.sqlite3").stat().st_size
    print(f"seeded {args.sales:,} sales ({size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s; {folder}")
    env = env_for(folder, url)
    stop = folder / "stop"

    floor, _ = sell(url, env, stop, args.floor, args.gap)
    vacuum, said_vacuum = sell(url, env, stop, 0, args.gap,
                               backup_process(url, folder / "b", env, "vacuum", 600))
    steps, said_steps = sell(url, env, stop, 0, args.gap,
                             backup_process(url, folder / "s", env, "steps", args.steps_timeout))
    longest = max(floor["waits"]) * 1000
    print(f"\ncommit_sale of a 5-line sale, one till process, {args.gap * 1000:.0f} ms between sales; "
          f"SQLite WAL, {args.sales:,} sales stored; backup API steps of {backup.STEP_PAGES} pages\n")
    print("| | commits | failed | median ms | p99 ms | longest ms | longest / floor's | backup |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("no backup (floor)", floor, longest))
    print(row("during VACUUM INTO", vacuum, longest, said_vacuum))
    print(row("during backup API in steps", steps, longest, said_steps))
    print(json.dumps({"floor_longest_ms": longest}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
