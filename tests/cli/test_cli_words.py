"""The command line counts in English: "1 product", "2 products"."""
from __future__ import annotations


def test_one_of_a_thing_is_singular(shop):
    path = shop.csv("one.csv", "barcode,name,price\n6901,苹果,1\n")
    assert shop.ok("products", "import", str(path)).stdout.startswith("imported 1 product from ")
    again = shop.ok("products", "import", str(path)).stdout
    assert again.startswith("nothing changed: the product in ") and "is already" in again
    assert shop.ok("products", "export", str(shop.home / "out.csv")).stdout.startswith("exported 1 product to ")
    shop.seed(1)
    assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 1 sale"
    assert shop.ok("receipts", "list").stdout.splitlines()[-1] == "1 receipt on till 1"
    assert shop.ok("sales", "list").stdout.splitlines()[-1].startswith("1 sale on till 1 ")


def test_many_are_plural(shop):
    path = shop.csv("two.csv", "barcode,name,price\n6901,苹果,1\n6902,香蕉,2\n")
    assert shop.ok("products", "import", str(path)).stdout.startswith("imported 2 products from ")
    assert shop.ok("receipts", "list").stdout.strip() == "0 receipts on till 1"
