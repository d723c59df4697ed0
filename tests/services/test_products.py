"""The search popup's store work: on the worker's own connection; a real SQLite file, no screen."""
from __future__ import annotations

import threading

from store.catalogue import browse_products
from tests.store.helpers import catalogue
from tui.services.products import find_products


def test_a_search_on_another_thread_finds_the_product_by_pinyin_and_by_code(sqlite_database):
    catalogue()
    found = {}

    def work() -> None:  # a thread worker has no connection of its own until it opens one
        found["kekou"] = [p["barcode"] for p in find_products("kekou", 30)]
        found["code"] = [p["barcode"] for p in find_products("690", 30)]
        found["limit"] = find_products("kekou", 0)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert found == {"kekou": ["6901234567892"], "code": ["6901234567892"], "limit": []}


def test_nothing_typed_finds_the_catalogue_not_nothing(sqlite_database):
    catalogue()
    browsed = find_products("  ", 2)
    assert len(browsed) == 2 and browsed == find_products("", 2)
    assert [p["barcode"] for p in find_products("", 100)] == [p["barcode"] for p in browse_products(100)]


def test_a_search_given_by_the_caller_is_asked_with_the_text_and_the_limit(sqlite_database):
    asked = []

    def search(text, limit):
        asked.append((text, limit))
        return [dict(barcode="1")]

    assert find_products("cola", 7, search) == [dict(barcode="1")]
    assert asked == [("cola", 7)]
