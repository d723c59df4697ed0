"""Back-office queries (plain dicts) and adding products one by one."""
from __future__ import annotations

import datetime
import json

import pytest

from store import catalogue as catalogue_module, print_attempts, queries
from store.models import Product, Sale
from tests.store.helpers import catalogue, ring_up


def test_add_and_list_products(database):
    added = catalogue_module.add_product("6901234567892", "可口可乐 330ml", 350, "瓶")
    assert added["price"] == "3.50" and added["active"] is True
    catalogue_module.add_product("42", "塑料袋", 20)
    listed = catalogue_module.list_products()
    assert [p["barcode"] for p in listed] == ["42", "6901234567892"]
    json.dumps(listed)  # plain values only
    row = Product.get(Product.barcode == "6901234567892")
    assert row.initials.startswith("kkkl")


@pytest.mark.parametrize("barcode, name, price", [
    ("", "x", 1), ("a b", "x", 1), ("1", "", 1), ("1", "x", -1), ("1", "x", 1.5), ("1", "x", "3.50"),
    ("1" * 33, "x", 1), ("6901234567890", "x", 1),
])
def test_add_product_rejects_bad_input(database, barcode, name, price):
    with pytest.raises(catalogue_module.CatalogueError) as caught:
        catalogue_module.add_product(barcode, name, price)
    assert caught.value.code == "bad_product" and caught.value.values["problems"]
    assert Product.select().count() == 0


def test_add_product_duplicate_barcode(database):
    catalogue_module.add_product("42", "塑料袋", 20)
    with pytest.raises(catalogue_module.CatalogueError, match="already exists") as caught:
        catalogue_module.add_product("42", "别的", 30)
    assert (caught.value.code, caught.value.values) == ("barcode_taken", {"barcode": "42"})
    assert Product.get(Product.barcode == "42").name == "塑料袋"


def test_sales_on_and_receipts(database):
    products = catalogue()
    first = ring_up(products, ("2001", 500), pay=[("card", 640)])
    second = ring_up(products, till_id="2")
    attempt = print_attempts.start_printing(first.id, "main")
    print_attempts.finish_printing(attempt.id, False, "cover_open", "cover open")
    Sale.update(sold_at=datetime.datetime(2020, 1, 2, 23, 59, 59)).where(Sale.id == second.id).execute()

    today = queries.sales_on(datetime.date.today())
    assert [s["receipt"] for s in today] == ["1-000001"]
    assert today[0]["payments"][0]["method"] == "card" and today[0]["lines"] == 1
    assert today[0]["outcome"] == "failed"
    assert [s["receipt"] for s in queries.sales_on(datetime.date(2020, 1, 2))] == ["2-000001"]
    assert queries.sales_on(datetime.date(2020, 1, 3)) == []
    assert queries.sales_on(datetime.date.today(), till_id="2") == []

    everything = queries.receipts()
    assert [r["receipt"] for r in everything] == ["1-000001", "2-000001"]
    unresolved = queries.receipts(unresolved_only=True)
    assert [(r["receipt"], r["outcome"]) for r in unresolved] == [("1-000001", "failed"), ("2-000001", "pending")]
    assert unresolved[0]["reason_code"] == "cover_open" and unresolved[0]["print_attempts"] == 1
    assert [r["receipt"] for r in queries.receipts(till_id="2")] == ["2-000001"]
    assert [r["receipt"] for r in queries.receipts(limit=1)] == ["2-000001"]
    json.dumps(everything)


def test_sale_detail(database):
    products = catalogue()
    sale = ring_up(products, ("6901234567892", 2000), ("42", 1000))
    detail = queries.sale_detail(sale.id)
    assert detail["receipt"] == "1-000001" and detail["total_fen"] == 720
    assert [ln["name"] for ln in detail["lines"]] == ["可口可乐 330ml", "塑料袋"]
    assert detail["payments"][0]["amount_fen"] == 720 and detail["outcome"] == "pending"
    assert detail["print_attempts"] == [] and detail["events"] == []
    assert queries.find_sale("1", 1) == sale.id and queries.find_sale("1", 2) is None
    assert queries.sale_detail(999999) is None
    json.dumps(detail)


def test_search_products(database):
    catalogue()
    search = catalogue_module.search_products
    assert [p["barcode"] for p in search("pg")] == ["2001"]  # 苹果 -> pg
    assert [p["barcode"] for p in search("可乐")] == ["6901234567892"]
    assert [p["barcode"] for p in search("690")] == ["6901234567892"]
    assert search("") == []
