"""How long a selling till's commit waits while a 100,000-row import runs in another process.

Run from the repository root (a script, not a test):

    python tests/bench/bench_import_wait.py [--products 100000] [--floor 300] [--gap 0.02]

A SQLite file (WAL) with five products. A till process
(``tests/catalogue/sell_loop.py``) commits 5-line cash sales through
``store.sales.commit_sale`` in a loop, ``--gap`` seconds apart, timing each
commit on its own:

1. floor: ``--floor`` commits with nothing else running;
2. during import: commits for as long as a real ``chaoying products import``
   of a ``--products``-row GBK CSV (bench_catalogue's file: new barcodes,
   so every batch writes products and search keys) runs in another process;
3. during re-import: the same while the same file is imported again with
   every price changed (updates and price history).

Target: the longest wait during an import < 200 ms. Every commit must land.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import catalogue  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from tests.bench import common  # noqa: E402
from tests.bench.bench_catalogue import make_csv  # noqa: E402
from tests.catalogue import sell_loop  # noqa: E402

TARGET_MS = 200
START_SECONDS = 60
SELL_SECONDS = 900


def env_for(folder: Path, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOYING_CONFIG", "CHAOYING_LOG_DIR")}
    env.update(DATABASE_URL=url, HOME=str(folder), XDG_CONFIG_HOME=str(folder / "config"),
               XDG_STATE_HOME=str(folder / "state"), XDG_DATA_HOME=str(folder / "data"),
               PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return env


def sell(url: str, env: dict, stop: Path, count: int, gap: float, during=None):
    """Run the till loop (until ``during()`` returns, or ``count`` sales); its waits and errors."""
    till = subprocess.Popen([sys.executable, "-m", "tests.catalogue.sell_loop", url, str(stop), str(count),
                             str(gap)], cwd=str(ROOT), env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert till.stdout is not None and till.stdin is not None
    ready, _, _ = select.select([till.stdout], [], [], START_SECONDS)
    if not ready:
        till.kill()
        till.wait()
        raise common.DeadlineMissed(f"the till loop ready to sell: not done within {START_SECONDS} s")
    if till.stdout.readline().strip() != "ready":
        raise SystemExit(till.stderr.read() if till.stderr else "the till did not start")
    till.stdin.write("go\n")
    till.stdin.flush()
    extra = None
    if during is not None:
        extra = during()
        stop.touch()
    try:
        out, err = till.communicate(timeout=SELL_SECONDS)
    except subprocess.TimeoutExpired:
        till.kill()
        till.communicate()
        raise common.DeadlineMissed(f"the till loop's sales: not done within {SELL_SECONDS} s") from None
    if stop.exists():
        stop.unlink()
    if till.returncode != 0:
        raise SystemExit(err)
    return json.loads(out.strip().splitlines()[-1]), extra


def import_process(path: Path, env: dict):
    def run():
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "tui.cli", "products", "import", str(path)],
                                cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            raise SystemExit(f"import failed: {result.stderr}")
        return time.perf_counter() - start, result.stdout.strip()
    return run


def row(label: str, sold: dict, extra: str = "") -> str:
    ms = sorted(w * 1000 for w in sold["waits"])
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{label:<34} {len(ms):>7} {len(sold['errors']):>6} {statistics.median(ms):>8.1f} {p99:>8.1f} "
            f"{ms[-1]:>8.1f}  {extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--floor", type=int, default=300, help="commits with no import running")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between two sales of the till")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="chaoying-bench-import-"))
    url = "sqlite:///" + str(folder / "shop.sqlite3")
    open_database(url)
    sell_loop.seed_products()
    close_database()
    data = make_csv(args.products)
    first = folder / "products.csv"
    first.write_bytes(data)
    text = data.decode("gbk").splitlines()
    repriced = [text[0]] + [",".join(cells[:2] + [f"{float(cells[2]) + 0.01:.2f}"] + cells[3:])
                            for cells in (line.split(",") for line in text[1:])]
    second = folder / "repriced.csv"
    second.write_bytes(("\r\n".join(repriced) + "\r\n").encode("gbk"))
    env = env_for(folder, url)
    stop = folder / "stop"

    try:
        floor, _ = sell(url, env, stop, args.floor, args.gap)
        during, (took, said) = sell(url, env, stop, 0, args.gap, import_process(first, env))
        again, (took2, said2) = sell(url, env, stop, 0, args.gap, import_process(second, env))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    rows = len(text) - 1
    print(f"commit_sale of a 5-line sale, one till process, {args.gap * 1000:.0f} ms between sales; "
          f"import batch {catalogue.BATCH} rows; SQLite WAL, {folder}")
    print(f"{'':<34} {'commits':>7} {'failed':>6} {'median':>8} {'p99':>8} {'longest':>8}  (ms)")
    print(row("no import (floor)", floor))
    print(row(f"during import of {rows:,} new rows", during, f"import {took:.1f} s, {rows / took:,.0f} rows/s"))
    print(row(f"during re-import, {rows:,} prices", again, f"import {took2:.1f} s, {rows / took2:,.0f} rows/s"))
    print(f"import said: {said}\n             {said2}")
    longest = max(max(during["waits"]), max(again["waits"])) * 1000
    failed = len(during["errors"]) + len(again["errors"])
    verdict = "PASS" if longest < TARGET_MS and not failed else "FAIL"
    print(f"target: longest wait during an import < {TARGET_MS} ms, every commit lands: {verdict} "
          f"(longest {longest:.1f} ms, floor's longest {max(floor['waits']) * 1000:.1f} ms, {failed} failed)")
    figures = [common.Figure(f"longest commit wait during a {rows:,}-row import", f"{longest:.1f} ms",
                             f"{max(floor['waits']) * 1000:.1f} ms (longest, no import)",
                             target=f"< {TARGET_MS} ms, none failed", met=verdict == "PASS")]
    common.print_table(f"Import wait; {common.machine()}", figures)
    common.write_figures(args.figures, figures)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
