"""Sales as a till makes them, for the back-office tests.

``python -m tests.cli.seed URL TILL COUNT [KEY_FILE]`` runs the same as a separate till
process. Only the store is imported, never pytest: the process starts fast.
"""
from __future__ import annotations

import sys


def sell(url: str, till: str, count: int, key_file: str = "") -> None:
    """``count`` sales of 可乐 + 面包 on ``till``: receipt 1 printed, receipt 2 failed, the rest pending.

    ``key_file``: the shop's journal key, loaded as the till loads it (when the file exists).
    """
    from pathlib import Path

    from store import catalogue, journal, print_attempts
    from store.db import close_database, open_database
    from store.sales import Basket, Tender, commit_sale, find_product

    open_database(url)
    key, made = journal.read_key_file(Path(key_file)) if key_file else (None, "")
    journal.set_key(key, made, missing=bool(key_file) and key is None)  # as tui.cli.common.load_journal_key
    try:
        for code, name, price in (("100", "可乐", 300), ("200", "面包", 650)):
            if find_product(code) is None:
                catalogue.add_product(barcode=code, name=name, price_fen=price, unit="个")
        sales = []
        for i in range(count):
            basket = Basket()
            basket.add(find_product("100"), 2000)
            basket.add(find_product("200"))
            tender = Tender(basket.total_fen)
            if i % 2:
                tender.record_failed("wechat", basket.total_fen, "wx1", "customer cancelled")
                tender.add_payment("cash", 2000)
            else:
                tender.add_payment("alipay", basket.total_fen, "ali-%d" % i)
            sales.append(commit_sale(basket, tender, till, None))
        if count >= 1:
            attempt = print_attempts.start_printing(sales[0].id, "main")
            print_attempts.finish_printing(attempt.id, True)
        if count >= 2:
            attempt = print_attempts.start_printing(sales[1].id, "main")
            print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
    finally:
        journal.set_key(None)
        close_database()


if __name__ == "__main__":
    sell(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
