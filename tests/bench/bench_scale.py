"""The till's queries with 1,000,000 sales stored vs 100: they must not grow with history.

Run from the repository root (a script, not a test):

    python tests/bench/bench_scale.py [--sales 1000000] [--small 100] [--runs 200]
                                      [--pg-sales 0]

Each store is seeded once with raw SQL (tests/bench/bench_commit.py's
seeding: 5 lines, a payment and a printed outcome per sale, one sale every
30 s from 2024-01-01) and cached under /tmp by size and schema version; each
run works on a copy. One row per measured operation: p50 and p99 with the big
store, the same with the small one, and the ratio big/small. Targets: the
per-sale and start-up rows within 1.1x; every history search p99 under 50 ms.
A commit writes into indexes that are deeper with a million sales, so it is
also judged against raw sqlite3 writing the same sale in the same file (the
floor row): within 1.1x, or within 5% of the floor's own growth.

A row is a function in ``ROWS``: ``(name, kind, fn)`` where ``fn(ctx)``
returns a callable timed once per run (``kind`` "till" gets the ratio target,
"history" the 50 ms one, "commit" the floor's, "floor" none). The till's own rows (``TILL_ROWS``) run the real
Textual app on the same store: start-up to the till ready for a scan (its
start-up store work answered), and F12 to the tender dialog open, with a
virtual printer on a pty.
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
from typing import Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import baskets, documents, migrations, outcomes, print_attempts, queries, sales  # noqa: E402
from store.db import close_database, open_database  # noqa: E402
from tests.bench import bench_commit  # noqa: E402

TILL = "1"


class Context:
    """What a row may use: the number of sales stored and the products of the seeded catalogue."""

    def __init__(self, stored: int, url: str = "") -> None:
        self.stored = stored
        self.url = url
        self.products = [sales.find_product(p[0]) for p in bench_commit.PRODUCTS]

    def sell(self) -> None:
        basket = sales.Basket()
        for product, qty in zip(self.products, bench_commit.QTYS):
            basket.add(product, qty)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        sales.commit_sale(basket, tender, TILL, "bench")


def _middle_day(ctx: Context) -> str:
    seconds = 30 * (ctx.stored // 2)
    return (bench_commit.BASE_TIME + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%d")


def row_unresolved(ctx: Context) -> Callable[[], object]:
    return lambda: outcomes.unresolved_sales(TILL)


def row_recover(ctx: Context) -> Callable[[], object]:
    return lambda: print_attempts.recover_interrupted(TILL)


def row_commit(ctx: Context) -> Callable[[], object]:
    return ctx.sell  # takes the next receipt number (till_counter) and commits: fsync-bound


def row_raw_commit(ctx: Context) -> Callable[[], object]:
    """The floor: raw sqlite3 writing the same sale (bench_commit's), on its own till, in the same file."""
    if not ctx.url.startswith("sqlite"):
        return lambda: None
    raw = sqlite3.connect(ctx.url[len("sqlite:///"):], isolation_level=None, timeout=10)
    for name, value in bench_commit.SQLITE_PRAGMAS:
        raw.execute(f"PRAGMA {name} = {value}")
    raw.execute('INSERT OR IGNORE INTO "till_counter" (till_id, last_receipt_no, last_hash) VALUES (?,?,?)',
                ("2", 0, "0" * 64))
    return lambda: bench_commit.raw_sqlite_commit(raw, "2")


def row_open_basket(ctx: Context) -> Callable[[], object]:
    return lambda: baskets.open_basket(TILL)  # at start: the basket a crash left open


def row_basket_change(ctx: Context) -> Callable[[], object]:
    basket = sales.Basket()
    basket.add(ctx.products[0])
    stored = baskets.save(None, TILL, basket, [], "bench")
    return lambda: baskets.save(stored, TILL, basket, [], "bench")  # on every scan, by the basket saver thread


def row_refundable(ctx: Context) -> Callable[[], object]:
    return lambda: documents.refundable(ctx.stored // 2)  # F9, t: what is left to refund of a sale


def row_search_name(ctx: Context) -> Callable[[], object]:
    return lambda: queries.search_receipts(TILL, "可乐")  # on every sale: the newest 200


def row_search_rare_name(ctx: Context) -> Callable[[], object]:
    return lambda: queries.search_receipts(TILL, "无此商品")  # on no sale at all


def row_search_amount(ctx: Context) -> Callable[[], object]:
    total = bench_commit._seed_rows(1)[4]
    return lambda: queries.search_receipts(TILL, f"{total / 100:.2f}")  # every sale has this total


def row_search_day(ctx: Context) -> Callable[[], object]:
    day = _middle_day(ctx)
    return lambda: queries.search_receipts(TILL, day)


def row_search_number(ctx: Context) -> Callable[[], object]:
    number = f"{TILL}-{ctx.stored // 2:06d}"
    return lambda: queries.search_receipts(TILL, number)


ROWS: List[Tuple[str, str, Callable[[Context], Callable[[], object]]]] = [
    ("unresolved_sales", "till", row_unresolved),
    ("recover_interrupted", "till", row_recover),
    ("commit (next receipt no)", "commit", row_commit),
    ("raw sqlite3 commit (floor)", "floor", row_raw_commit),
    ("open basket at start", "till", row_open_basket),
    ("basket change stored", "till", row_basket_change),
    ("refundable lines of a sale", "till", row_refundable),
    ("history: name 可乐", "history", row_search_name),
    ("history: name, no match", "history", row_search_rare_name),
    ("history: amount", "history", row_search_amount),
    ("history: day", "history", row_search_day),
    ("history: receipt number", "history", row_search_number),
]


TILL_ROWS = [("till start-up", "till"), ("F12 to tender", "till")]


async def _till_times(url: str, runs: int, folder: Path) -> Dict[str, List[float]]:
    """Start the real till on ``url`` ``runs`` times; in each, time F12 to the tender dialog."""
    import dataclasses

    from printing.virtual import VirtualPrinter
    from tui.app import ChaoyingApp
    from tui.screens.tender import TenderScreen
    from tui.settings import load_settings

    base = load_settings(None)
    printer = VirtualPrinter(folder / "printer", folder / "paper", width=80).start()
    settings = dataclasses.replace(
        base.with_ui(language="zh", theme="dark"),
        database=dataclasses.replace(base.database, url=url),
        printer=dataclasses.replace(base.printer, port=str(folder / "printer")),
        shift=dataclasses.replace(base.shift, ask_float=False),  # the float dialog would take the keys
        journal=dataclasses.replace(base.journal, key_file=""),
    )
    times: Dict[str, List[float]] = {"till start-up": [], "F12 to tender": []}
    try:
        for run in range(runs + 1):  # the first run imports and warms up: not counted
            app = ChaoyingApp(settings, language="zh")
            app.till.poll_seconds = 0  # no idle status polls during the measurement
            start = time.perf_counter()
            async with app.run_test(size=(80, 24)) as pilot:
                while not app.started:
                    await pilot.pause(0.001)
                ready = time.perf_counter() - start
                await pilot.press(*bench_commit.PRODUCTS[0][0], "enter")
                start = time.perf_counter()
                await pilot.press("f12")
                while not isinstance(app.screen, TenderScreen):
                    await pilot.pause(0.001)
                tender = time.perf_counter() - start
                await pilot.press("escape")
            if run:
                times["till start-up"].append(ready)
                times["F12 to tender"].append(tender)
    finally:
        printer.stop()
    return times


def _p(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seeded_sqlite(n: int, cache_dir: Path) -> Path:
    cached = cache_dir / f"chaoying-scale-{n}-v{migrations.LATEST}.sqlite3"
    if not cached.exists():
        print(f"seeding {n:,} sales into {cached} (once) ...", flush=True)
        start = time.perf_counter()
        bench_commit.seed_sqlite(cached, n)
        print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
    return cached


def measure(url: str, stored: int, runs: int, till_runs: int = 0) -> Dict[str, List[float]]:
    open_database(url)
    try:
        ctx = Context(stored, url)
        ctx.sell()  # one pending receipt: the open work the till sees at start
        times: Dict[str, List[float]] = {}
        for name, _, make in ROWS:
            fn = make(ctx)
            for _ in range(min(20, runs)):  # warm the caches and the statement cache
                fn()
            taken = []
            for _ in range(runs):
                start = time.perf_counter()
                fn()
                taken.append(time.perf_counter() - start)
            times[name] = taken
        if till_runs:
            import asyncio

            folder = Path(tempfile.mkdtemp(prefix="chaoying-scale-till-"))
            try:
                times.update(asyncio.run(_till_times(url, till_runs, folder)))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return times
    finally:
        close_database()


def bench_sqlite(n: int, runs: int, cache_dir: Path, till_runs: int = 0) -> Dict[str, List[float]]:
    cached = seeded_sqlite(n, cache_dir)
    work_dir = Path(tempfile.mkdtemp(prefix="chaoying-scale-", dir=str(cache_dir)))
    try:
        work = work_dir / "bench.sqlite3"
        shutil.copyfile(cached, work)
        return measure("sqlite:///" + str(work), n, runs, till_runs)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def bench_postgres(sizes: Tuple[int, int], runs: int) -> List[Dict[str, List[float]]]:
    from tests.store.pgserver import PostgresServer

    server = PostgresServer(fsync=True).start()
    try:
        found = []
        for n in sizes:
            url = server.create_database(f"scale{n}")
            print(f"seeding {n:,} sales into PostgreSQL ...", flush=True)
            start = time.perf_counter()
            bench_commit.seed_postgres(url, n)
            print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
            found.append(measure(url, n, runs))
        return found
    finally:
        server.stop()


def table(title: str, big: int, small: int, big_t: Dict[str, List[float]], small_t: Dict[str, List[float]]) -> bool:
    print()
    print(title)
    header = (f"{'operation':<26} {f'p50 {big:,}':>14} {f'p99 {big:,}':>14} {f'p50 {small:,}':>12} "
              f"{f'p99 {small:,}':>12} {'ratio p50':>9} {'ratio p99':>9}  target")
    print(header)
    print("-" * len(header))
    ok = True
    for name, kind in [(name, kind) for name, kind, _ in ROWS] + TILL_ROWS:
        if name not in big_t:
            continue
        b, s = big_t[name], small_t[name]
        r50, r99 = _p(b, .5) / _p(s, .5), _p(b, .99) / _p(s, .99)
        if kind == "till":
            met = r50 <= 1.1
            target = f"p50 ratio <= 1.1x: {'met' if met else 'NOT met'}"
        elif kind == "commit":  # writes go deeper into larger indexes: judged against the floor's own growth
            floor = "raw sqlite3 commit (floor)"
            grown = _p(big_t[floor], .5) / _p(small_t[floor], .5) if floor in big_t else 1.0
            met = r50 <= max(1.1, grown * 1.05)
            target = f"p50 ratio <= 1.1x or the floor's {grown:.2f}x + 5%: {'met' if met else 'NOT met'}"
        elif kind == "floor":
            target = "what raw sqlite3 does"
        else:
            met = _p(b, .99) < 0.050
            target = f"p99 < 50 ms: {'met' if met else 'NOT met'}"
        ok = ok and met
        print(f"{name:<26} {_p(b, .5) * 1e3:14.3f} {_p(b, .99) * 1e3:14.3f} {_p(s, .5) * 1e3:12.3f} "
              f"{_p(s, .99) * 1e3:12.3f} {r50:8.2f}x {r99:8.2f}x  {target}")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales in the big store")
    parser.add_argument("--small", type=int, default=100, help="sales in the small store")
    parser.add_argument("--runs", type=int, default=200, help="measured runs per row and store")
    parser.add_argument("--till-runs", type=int, default=15, help="till start-ups per store (0: skip the till rows)")
    parser.add_argument("--pg-sales", type=int, default=0, help="also PostgreSQL with this many sales (0: skip)")
    parser.add_argument("--cache-dir", default=tempfile.gettempdir(), help="where seeded SQLite files are cached")
    args = parser.parse_args(argv)
    cache = Path(args.cache_dir)

    big_t = bench_sqlite(args.sales, args.runs, cache, args.till_runs)
    small_t = bench_sqlite(args.small, args.runs, cache, args.till_runs)
    ok = table(f"SQLite {sqlite3.sqlite_version}, ms, {args.runs} runs (python {sys.version.split()[0]})",
               args.sales, args.small, big_t, small_t)
    if args.pg_sales:
        pg_big, pg_small = bench_postgres((args.pg_sales, args.small), args.runs)
        ok = table(f"PostgreSQL 15, ms, {args.runs} runs", args.pg_sales, args.small, pg_big, pg_small) and ok
    print()
    print(f"all targets: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
