"""A till selling in a loop while something else writes, for the import story and its bench.

Usage: python -m tests.catalogue.sell_loop URL STOP_FILE [COUNT] [GAP_S] [BUSY_MS]

Opens the database, prints "ready", waits for a line on stdin, then commits
5-line cash sales on till "9" (products from ``seed_products``), GAP_S apart
(default 0.02), until STOP_FILE exists or COUNT sales were tried (0: no
limit), waiting at most BUSY_MS for the write lock (default: the store's
busy timeout). Each ``commit_sale`` is timed on its own. Prints one JSON line:
``{"waits": [seconds per commit], "receipts": [...], "errors": ["Type: message", ...]}``.
"""
from __future__ import annotations

import json
import os
import sys
import time

from store import sales
from store.db import close_database, open_database

TILL = "9"
PRODUCTS = [("S1", "可口可乐 330ml", 350), ("S2", "康师傅红烧牛肉面", 450), ("S3", "农夫山泉 550ml", 200),
            ("S4", "苹果", 1280), ("S5", "塑料袋", 20)]


def seed_products() -> None:
    """The five products every sale of the loop sells (in the bound database)."""
    from store import catalogue

    for barcode, name, price_fen in PRODUCTS:
        catalogue.add_product(barcode, name, price_fen)


def main(url: str, stop_file: str, count: int = 0, gap: float = 0.02, busy_ms: int = 0) -> int:
    database = open_database(url)
    key_file = os.environ.get("SELL_LOOP_KEY_FILE")
    if key_file:  # a till of a shop with a journal key seals its records with it, as `chaoying run` does
        from pathlib import Path

        from store import journal

        journal.set_key(*journal.read_key_file(Path(key_file)))
    if busy_ms:
        database.execute_sql(f"PRAGMA busy_timeout = {int(busy_ms)}")
    products = [sales.find_product(barcode) for barcode, _, _ in PRODUCTS]
    print("ready", flush=True)
    sys.stdin.readline()
    waits, receipts, errors = [], [], []
    while not os.path.exists(stop_file) and (count == 0 or len(waits) + len(errors) < count):
        basket = sales.Basket()
        for product in products:
            basket.add(product, 1000)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        start = time.perf_counter()
        try:
            sale = sales.commit_sale(basket, tender, TILL, "loop")
        except Exception as exc:  # the outcome is what the story checks
            errors.append(f"{type(exc).__name__}: {exc}")
        else:
            waits.append(time.perf_counter() - start)
            receipts.append(sale.receipt_no)
        time.sleep(gap)
    close_database()
    print(json.dumps({"waits": waits, "receipts": receipts, "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    numbers = [float(a) for a in args[2:]]
    sys.exit(main(args[0], args[1], *(int(n) if i != 1 else n for i, n in enumerate(numbers))))  # type: ignore
