"""The till's queries with 1,000,000 sales stored vs 100: they must not grow with history.

Run from the repository root (a script, not a test):

    python tests/bench/bench_scale.py [--sales 1000000] [--small 100] [--runs 200]
                                      [--till-runs 15] [--pg-sales 0]

Both stores are the shared seeded files (tests/bench/common.py: 5 lines, a
payment, a printed outcome and the commit's audit record per sale, one sale
every 30 s from 2024-01-01), each run on a copy. Both are open at once and
every row runs paired: the big store, then the small one (then the other
way round), so a change of load moves both sides of a pair alike. The
figure is the median of the per-pair ratios big/small, with its spread.
Targets: the per-sale, start-up and commit rows within 1.1x; every history
search p99 under 50 ms with the big store. The raw sqlite3 commit
(bench_commit's floor, same rows, same durability) is shown for how much a
commit grows with deeper indexes by itself.

A row is a function in ``ROWS``: ``(name, kind, fn)`` where ``fn(ctx)``
returns a callable timed once per run (``kind`` "till" and "commit" get the
ratio target, "history" the 50 ms one, "floor" none). The till's own rows
(``TILL_ROWS``) run the real Textual app on each store in turn: start-up to
the till ready for a scan (its start-up store work answered), and F12 to
the tender dialog open, with a virtual printer on a pty; every wait there
has a deadline.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import baskets, documents, outcomes, print_attempts, queries, sales  # noqa: E402
from store.db import close_database, db, open_database  # noqa: E402
from tests.bench import bench_commit, common  # noqa: E402

TILL = "1"
TARGET = 1.1
HISTORY_P99_S = 0.050


class Context:
    """What a row may use: the store's database, the number of sales stored and the seeded products."""

    def __init__(self, database: Any, stored: int, url: str = "") -> None:
        self.database = database
        self.stored = stored
        self.url = url
        self.products = [sales.find_product(p[0]) for p in common.PRODUCTS]

    def sell(self) -> None:
        basket = sales.Basket()
        for product, qty in zip(self.products, common.QTYS):
            basket.add(product, qty)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        sales.commit_sale(basket, tender, TILL, "bench")

    def on(self, fn: Callable[[], object]) -> Callable[[], float]:
        """``fn`` run against this store (the models bound to it first, outside the time)."""
        def run() -> float:
            db.initialize(self.database)
            start = time.perf_counter()
            fn()
            return time.perf_counter() - start
        return run


def _middle_day(ctx: Context) -> str:
    seconds = 30 * (ctx.stored // 2)
    return (common.BASE_TIME + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%d")


def row_unresolved(ctx: Context) -> Callable[[], object]:
    return lambda: outcomes.unresolved_sales(TILL)


def row_recover(ctx: Context) -> Callable[[], object]:
    return lambda: print_attempts.recover_interrupted(TILL)


def row_commit(ctx: Context) -> Callable[[], object]:
    return ctx.sell  # takes the next receipt number (till_counter) and commits: fsync-bound


def row_raw_commit(ctx: Context) -> Callable[[], object]:
    """The floor: raw sqlite3 writing the same rows (bench_commit's floor) on the same till, in the same file."""
    if not ctx.url.startswith("sqlite"):
        return lambda: None
    raw = bench_commit.raw_connection(Path(ctx.url[len("sqlite:///"):]))
    return lambda: bench_commit.raw_sqlite_commit(raw, TILL)


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
    return lambda: queries.search_receipts(TILL, f"{common.TOTAL_FEN / 100:.2f}")  # every sale has this total


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


def _till_settings(url: str, port: Path) -> Any:
    from tui.settings import load_settings

    base = load_settings(None)
    return dataclasses.replace(
        base.with_ui(language="zh", theme="dark"),
        database=dataclasses.replace(base.database, url=url),
        printer=dataclasses.replace(base.printer, port=str(port)),
        shift=dataclasses.replace(base.shift, ask_float=False),  # the float dialog would take the keys
        journal=dataclasses.replace(base.journal, key_file=""),
    )


async def _till_once(ctx: Context, settings: Any) -> Tuple[float, float]:
    """One start of the real till on ``ctx``'s store: (start-up to ready, F12 to the tender dialog)."""
    from tui.app import ChaoyingApp
    from tui.screens.tender import TenderScreen

    db.initialize(ctx.database)
    app = ChaoyingApp(settings, language="zh")
    app.till.poll_seconds = 0  # no idle status polls during the measurement
    start = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await common.wait_until(lambda: app.started, pilot, 60, "the till ready for a scan (start-up store work)")
        ready = time.perf_counter() - start
        await pilot.press(*common.PRODUCTS[0][0], "enter")
        start = time.perf_counter()
        await pilot.press("f12")
        await common.wait_until(lambda: isinstance(app.screen, TenderScreen), pilot, 30, "the tender dialog after F12")
        tender = time.perf_counter() - start
        await pilot.press("escape")
    return ready, tender


async def _till_pairs(big: Context, small: Context, runs: int, folder: Path) -> Dict[str, common.PairStats]:
    """The till started ``runs`` times on each store, alternating; paired start-up and F12 figures."""
    from printing.virtual import VirtualPrinter

    printer = VirtualPrinter(folder / "printer", folder / "paper", width=80).start()
    settings = {id(c): _till_settings(c.url, folder / "printer") for c in (big, small)}
    found: Dict[str, Dict[int, List[float]]] = {"till start-up": {}, "F12 to tender": {}}
    limit = common.deadline(60 * max(5, runs), f"{runs} till start-ups on each store")
    try:
        for run in range(runs + 1):  # the first pair imports and warms up: not counted
            limit.check()
            for ctx in ((big, small) if run % 2 else (small, big)):
                ready, tender = await _till_once(ctx, settings[id(ctx)])
                if run:
                    found["till start-up"].setdefault(id(ctx), []).append(ready)
                    found["F12 to tender"].setdefault(id(ctx), []).append(tender)
    finally:
        printer.stop()
    return {name: common.PairStats.of(times[id(big)], times[id(small)]) for name, times in found.items()}


def measure(big: Context, small: Context, runs: int, till_runs: int = 0) -> Dict[str, common.PairStats]:
    """The till rows first (the commit rows below leave receipts pending, which a start would print), then
    every store row, each paired, big store against small."""
    found: Dict[str, common.PairStats] = {}
    if till_runs:
        folder = Path(tempfile.mkdtemp(prefix="chaoying-scale-till-"))
        try:
            found.update(asyncio.run(_till_pairs(big, small, till_runs, folder)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    limit = common.deadline(120 + runs * 3, "the store rows")
    writes: Dict[str, List[Callable[[], float]]] = {}
    for name, kind, make in ROWS:
        fns = []
        for ctx in (big, small):
            db.initialize(ctx.database)
            fns.append(ctx.on(make(ctx)))
        if kind in ("commit", "floor"):
            writes[name] = fns
        else:
            found[name] = common.paired(fns[0], fns[1], runs, warmup=min(20, runs), limit=limit)
    found.update(_interleaved(writes, runs, min(20, runs), limit))
    return found


def _interleaved(rows: Dict[str, List[Callable[[], float]]], runs: int, warmup: int,
                 limit: common.Deadline) -> Dict[str, common.PairStats]:
    """The commit and its floor in one loop, each on the big store then the small one (the order turning
    round every run), so the commit's growth and the floor's are taken in the same weather: the WAL, its
    checkpoints and the disk's moods fall on both."""
    calls = [(name, side, fn) for name, fns in rows.items() for side, fn in enumerate(fns)]
    times: Dict[Tuple[str, int], List[float]] = {(name, side): [] for name, side, _ in calls}
    for run in range(warmup + runs):
        limit.check()
        shift = run % len(calls)
        for name, side, fn in calls[shift:] + calls[:shift]:
            took = common.timed(fn)
            if run >= warmup:
                times[(name, side)].append(took)
    return {name: common.PairStats.of(times[(name, 0)], times[(name, 1)]) for name in rows}


def _open(url: str, stored: int) -> Context:
    database = open_database(url)
    ctx = Context(database, stored, url)
    ctx.sell()  # one pending receipt: the open work the till sees at start
    return ctx


def bench_sqlite(n: int, small: int, runs: int, folder: Optional[str], till_runs: int) -> Dict[str, common.PairStats]:
    with common.work_copy(n, folder) as big_file, common.work_copy(small, folder) as small_file:
        big = _open("sqlite:///" + str(big_file), n)
        little = _open("sqlite:///" + str(small_file), small)
        bench_commit._load_products()
        try:
            return measure(big, little, runs, till_runs)
        finally:
            for ctx in (big, little):
                db.initialize(ctx.database)
                close_database()


def bench_postgres(sizes: Tuple[int, int], runs: int) -> Dict[str, common.PairStats]:
    from tests.store.pgserver import PostgresServer

    server = PostgresServer(fsync=True).start()
    try:
        contexts = []
        for n in sizes:
            url = server.create_database(f"scale{n}")
            print(f"seeding {n:,} sales into PostgreSQL ...", flush=True)
            start = time.perf_counter()
            bench_commit.seed_postgres(url, n)
            print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
            contexts.append(_open(url, n))
        try:
            return measure(contexts[0], contexts[1], runs)
        finally:
            for ctx in contexts:
                db.initialize(ctx.database)
                close_database()
    finally:
        server.stop()


def figures(found: Dict[str, common.PairStats], big: int, small: int, label: str) -> List[common.Figure]:
    rows = []
    for name, kind in [(name, kind) for name, kind, _ in ROWS] + TILL_ROWS:
        if name not in found:
            continue
        stats = found[name]
        title = f"{label}: {name}, {big:,} vs {small:,}"
        if kind == "till":
            rows.append(common.Figure.pair(title, stats, TARGET))
        elif kind == "commit":  # deeper indexes cost the floor too: judged against the floor's own growth
            grown = found["raw sqlite3 commit (floor)"].ratio if "raw sqlite3 commit (floor)" in found else 1.0
            bound = max(TARGET, grown * 1.05)
            figure = common.Figure.pair(title, stats, bound)
            figure.target = f"<= {TARGET}x or floor's {grown:.2f}x + 5%"
            rows.append(figure)
        elif kind == "floor":
            rows.append(common.Figure.pair(title, stats, 0))
        else:  # history: the big store's p99 against an absolute bound
            figure = common.Figure.pair(title + " (p99)", stats, 0)
            figure.ours = f"p99 {stats.ours_p99 * 1e3:.1f} ms"
            figure.floor = f"p99 {stats.floor_p99 * 1e3:.1f} ms"
            figure.target, figure.met = f"p99 < {HISTORY_P99_S * 1e3:.0f} ms", stats.ours_p99 < HISTORY_P99_S
            rows.append(figure)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales in the big store")
    parser.add_argument("--small", type=int, default=100, help="sales in the small store")
    parser.add_argument("--runs", type=int, default=200, help="measured pairs per row")
    parser.add_argument("--till-runs", type=int, default=15, help="till start-up pairs (0: skip the till rows)")
    parser.add_argument("--pg-sales", type=int, default=0, help="also PostgreSQL with this many sales (0: skip)")
    parser.add_argument("--cache-dir", default=None, help="where seeded SQLite files are cached")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args(argv)

    found = bench_sqlite(args.sales, args.small, args.runs, args.cache_dir, args.till_runs)
    rows = figures(found, args.sales, args.small, "SQLite")
    if args.pg_sales:
        rows += figures(bench_postgres((args.pg_sales, args.small), args.runs), args.pg_sales, args.small, "PostgreSQL")
    common.print_table(f"1M vs 100: {args.runs} pairs per row, median of per-pair ratios; {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
