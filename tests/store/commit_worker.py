"""A second (or third) till process for the concurrency tests.

Usage: python -m tests.store.commit_worker URL TILL_ID COUNT
Opens the database, prints "ready", waits for a line on stdin, commits COUNT
one-line cash sales on TILL_ID and prints their receipt numbers as JSON.
"""
from __future__ import annotations

import json
import sys

from store import sales
from store.db import close_database, open_database


def main(url: str, till_id: str, count: int) -> int:
    open_database(url)
    product = sales.find_product("42")
    print("ready", flush=True)
    sys.stdin.readline()
    numbers = []
    for _ in range(count):
        basket = sales.Basket()
        basket.add(product)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        numbers.append(sales.commit_sale(basket, tender, till_id, "worker").receipt_no)
    close_database()
    print(json.dumps(numbers), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
