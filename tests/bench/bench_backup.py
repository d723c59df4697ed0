"""How long a selling till's commit waits while `chaoying backup` copies a large database.

Run from the repository root (a script, not a test):

    python tests/bench/bench_backup.py [--sales 100000] [--floor 300] [--gap 0.02]

A copy of the shared seeded SQLite file (tests/bench/common.py, WAL) with
``--sales`` 5-line sales.
A till process (``tests/catalogue/sell_loop.py``) commits 5-line sales
through ``store.sales.commit_sale``, ``--gap`` seconds apart, timing each
commit:

1. floor: ``--floor`` commits with nothing else running;
2. during a backup by ``VACUUM INTO`` (store.backup's default) in another process;
3. during a backup by the backup API in steps of ``STEP_PAGES`` pages (the
   other candidate), stopped after ``--steps-timeout`` seconds: a write by
   another connection restarts it from the first page.

Each backup row gives the longest commit against the floor's (ratio); the
figure run_all.py takes is the longest wait during VACUUM INTO, < 200 ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import backup  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from tests.bench import common  # noqa: E402
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
    parser.add_argument("--no-steps", action="store_true", help="skip the backup API candidate")
    parser.add_argument("--cache-dir", default=None, help="where the seeded SQLite file is cached")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()
    with common.work_copy(args.sales, args.cache_dir) as path:
        return measure(args, path)


def measure(args: argparse.Namespace, path: Path) -> int:
    folder = path.parent
    url = "sqlite:///" + str(path)
    open_database(url)
    sell_loop.seed_products()
    close_database()
    print(f"{args.sales:,} sales ({path.stat().st_size / 1e6:.0f} MB); {folder}")
    env = env_for(folder, url)
    stop = folder / "stop"

    floor, _ = sell(url, env, stop, args.floor, args.gap)
    vacuum, said_vacuum = sell(url, env, stop, 0, args.gap,
                               backup_process(url, folder / "b", env, "vacuum", 600))
    steps, said_steps = (None, "") if args.no_steps else sell(
        url, env, stop, 0, args.gap, backup_process(url, folder / "s", env, "steps", args.steps_timeout))
    longest = max(floor["waits"]) * 1000
    print(f"\ncommit_sale of a 5-line sale, one till process, {args.gap * 1000:.0f} ms between sales; "
          f"SQLite WAL, {args.sales:,} sales stored; backup API steps of {backup.STEP_PAGES} pages\n")
    print("| | commits | failed | median ms | p99 ms | longest ms | longest / floor's | backup |")
    print("|---|---|---|---|---|---|---|---|")
    print(row("no backup (floor)", floor, longest))
    print(row("during VACUUM INTO", vacuum, longest, said_vacuum))
    if steps is not None:
        print(row("during backup API in steps", steps, longest, said_steps))
    print(json.dumps({"floor_longest_ms": longest}))
    during = max(vacuum["waits"]) * 1000
    figures = [common.Figure(f"longest commit wait during a backup, {args.sales:,} sales", f"{during:.1f} ms",
                             f"{longest:.1f} ms (longest, no backup)", f"{during / longest:.2f}x",
                             target="< 200 ms, none failed", met=during < 200 and not vacuum["errors"])]
    common.print_table(f"Backup wait; {common.machine()}", figures)
    common.write_figures(args.figures, figures)
    return 0 if common.all_met(figures) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
