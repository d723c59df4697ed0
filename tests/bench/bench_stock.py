"""Stock at any size: a sale's commit (with its stock move) and one product's on hand, 10,000,000 moves vs 100.

Run from the repository root (a script, not a test):

    python tests/bench/bench_stock.py [--moves 10000000] [--small 100] [--runs 300]

Each store (100 products) is seeded once with raw sqlite3 ``executemany`` and cached under the temp dir by size
and schema version (seeding 10,000,000 moves takes minutes); each run works on a copy. Two worker processes,
one per store, are asked in interleaved pairs (big, small, big, small...), each answer awaited with a deadline:
one sale's commit (a 2-line basket: two moves, their audit records, two balance updates), one product's on hand
(the balance row by primary key, timed over a batch), the shop's on hand of it (store.shop_stock: the server's
row plus the till's moves after the bound, on the (product_id, id) index; the tail grows by the runs' commits,
alike in both stores) and the stock list (every balance). Target: big/small
p50 within 1.1x (a commit writes into indexes one level deeper with 10,000,000 rows; on hand and the list never
read history). The row "bare" is the same sale whose lines name no product (no moves): a commit with its moves
within 1.2x of it.
"""
from __future__ import annotations

import argparse
import datetime
import json
import select
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEADLINE_S = 30.0  # one answer of a worker; a seeded store opens within it too
BATCH = 200  # on hand calls per timed answer
ROWS = ("commit", "bare", "on_hand", "shop", "list")
#: Rows with a target of their own: the shop's on hand seeks the moves index (product_id, id) once for the tail,
#: and that B-tree is a level or two deeper with 10,000,000 moves (a few microseconds); it never reads history.
TARGETS = {"shop": 1.5}
TAIL = 5  # the seeded store's moves not yet in the server's figure (store.shop_stock): a till's unsynced sales


def _cache(moves: int) -> Path:
    from store import migrations

    return Path(tempfile.gettempdir()) / f"chaoying-bench-stock-v{migrations.LATEST}-{moves}.sqlite3"


def seed(moves: int) -> Path:
    """The cached store: 100 products with ``moves`` moves between them and balances that are their sums."""
    path = _cache(moves)
    if path.exists():
        return path
    from store import catalogue
    from store.db import close_database, open_database

    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    open_database("sqlite:///" + str(partial))
    try:
        for n in range(100):
            catalogue.add_product(f"B{n:03d}", f"商品 {n}", 350 + n, "瓶")
    finally:
        close_database()
    con = sqlite3.connect(str(partial))
    start = datetime.datetime(2020, 1, 1)
    with con:
        done = 0
        while done < moves:
            count = min(100_000, moves - done)
            con.executemany(
                "INSERT INTO stock_move (product_id, kind, qty_milli, cost_fen, reason, note, document, count, ref, "
                "till_id, at, cashier, manager) VALUES (?, ?, ?, 200, '', '', NULL, NULL, '', '1', ?, '', '')",
                ((i % 100 + 1, "received" if i % 2 else "sale", 1000 if i % 2 else -1000,
                  (start + datetime.timedelta(seconds=i // 10)).strftime("%Y-%m-%d %H:%M:%S"))
                 for i in range(done, done + count)))
            done += count
            print(f"seeded {done:,} of {moves:,} moves", file=sys.stderr, end="\r")
        con.execute("INSERT INTO stock_balance (product_id, on_hand_milli, avg_cost_fen, min_milli, last_move) "
                    "SELECT product_id, SUM(qty_milli) + 1000000, 200, 10000, MAX(id) FROM stock_move "
                    "GROUP BY product_id")
        con.execute("UPDATE stock_move SET qty_milli = qty_milli + 1000000 WHERE id <= 100")  # sums stay the balance
        # the shop's figure as a pull left it: the server's balances, the last TAIL moves not in them yet
        con.execute("INSERT INTO shop_stock (product_id, on_hand_milli, avg_cost_fen, min_milli, version) "
                    "SELECT product_id, on_hand_milli, avg_cost_fen, min_milli, 1 FROM stock_balance")
        con.execute("INSERT INTO shop_stock_mark (id, instance, version, till_id, head_seq, first_move, pulled_at, "
                    "checked_at) VALUES (1, 'bench', 1, '1', 0, ?, ?, ?)",
                    (max(1, moves - TAIL + 1), "2020-01-01 00:00:00", "2020-01-01 00:00:00"))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    print(file=sys.stderr)
    partial.rename(path)
    return path


# --- the worker: one store, answering one line per request ---------------------------------------------------


def worker(path: str) -> None:
    from store import sales, shop_stock, stock
    from store.db import open_database

    open_database("sqlite:///" + path)
    products = [sales.find_product(f"B{n:03d}") for n in (7, 42)]
    print("ready", flush=True)
    for request in sys.stdin:
        name = request.strip()
        began = time.perf_counter()
        if name in ("commit", "bare"):
            basket = sales.Basket()
            for product in products:  # bare: the same lines naming no product (typed by hand), so no moves
                basket.add(product if name == "commit" else _no_product(product), 1000)
            tender = sales.Tender(basket.total_fen)
            tender.add_payment("cash", basket.total_fen)
            sales.commit_sale(basket, tender, "1", "bench")
            elapsed = time.perf_counter() - began
        elif name == "on_hand":
            for _ in range(BATCH):
                stock.on_hand(products[0].id)
            elapsed = (time.perf_counter() - began) / BATCH
        elif name == "shop":
            for _ in range(BATCH):
                shop_stock.on_hand(products[0].id)
            elapsed = (time.perf_counter() - began) / BATCH
        else:
            stock.list_stock()
            elapsed = time.perf_counter() - began
        print(json.dumps(elapsed), flush=True)


def _no_product(product):
    from types import SimpleNamespace

    return SimpleNamespace(barcode=product.barcode, name=product.name, unit=product.unit, price_fen=product.price_fen)


class Worker:
    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--worker", str(path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1, cwd=str(ROOT))
        if self._line() != "ready":
            raise SystemExit(f"the worker on {path} did not start")

    def _line(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], DEADLINE_S)
        if not ready:
            self.close()
            raise SystemExit(f"a worker gave no answer within {DEADLINE_S:.0f} s")
        return self.process.stdout.readline().strip()

    def ask(self, name: str) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        return float(json.loads(self._line()))

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(big: Path, small: Path, runs: int) -> Dict[str, Dict[str, List[float]]]:
    folder = Path(tempfile.mkdtemp(prefix="chaoying-bench-stock-"))
    try:
        copies = {}
        for name, path in (("big", big), ("small", small)):
            copies[name] = folder / f"{name}.sqlite3"
            shutil.copyfile(path, copies[name])
        workers = {name: Worker(path) for name, path in copies.items()}
        times: Dict[str, Dict[str, List[float]]] = {name: {row: [] for row in ROWS} for name in workers}
        try:
            for _ in range(3):  # warm both
                for row in ROWS:
                    for one in workers.values():
                        one.ask(row)
            for run in range(runs):
                for row in ROWS:
                    order = ("big", "small") if run % 2 else ("small", "big")
                    for name in order:
                        times[name][row].append(workers[name].ask(row))
        finally:
            for one in workers.values():
                one.close()
        return times
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0
    big, small = seed(args.moves), seed(args.small)
    times = measure(big, small, args.runs)
    ok = True
    print(f"{'row':<10} {'big p50':>10} {'big p99':>10} {'small p50':>10} {'small p99':>10} {'ratio':>7}")
    for row in ROWS:
        b, s = times["big"][row], times["small"][row]
        ratio = statistics.median(b) / statistics.median(s)
        ok = ok and ratio <= TARGETS.get(row, 1.1)
        print(f"{row:<10} {statistics.median(b) * 1e3:>9.3f}ms {_p99(b) * 1e3:>9.3f}ms "
              f"{statistics.median(s) * 1e3:>9.3f}ms {_p99(s) * 1e3:>9.3f}ms {ratio:>6.2f}x")
    moved = statistics.median(times["big"]["commit"]) / statistics.median(times["big"]["bare"])
    print(f"{args.moves:,} moves vs {args.small:,}, {args.runs} interleaved pairs: "
          + ("within 1.1x (shop 1.5x)" if ok else "NOT within 1.1x (shop 1.5x)")
          + f"; a commit with its stock moves vs the same without: {moved:.2f}x (target 1.2x)")
    ok = ok and moved <= 1.2
    return 0 if ok else 1


def _p99(values: List[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


if __name__ == "__main__":
    sys.exit(main())
