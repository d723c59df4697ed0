"""Small builders shared by the store tests."""
from __future__ import annotations

from store import catalogue as products, sales


def catalogue():
    """Three products: a drink, a weighed fruit and a PLU item."""
    products.add_product("6901234567892", "可口可乐 330ml", 350, "瓶")
    products.add_product("2001", "苹果", 1280, "kg")
    products.add_product("42", "塑料袋", 20)
    return {code: sales.find_product(code) for code in ("6901234567892", "2001", "42")}


def ring_up(products, *items, till_id="1", cashier="c1", pay=None):
    """Commit a sale of (barcode, qty_milli) items paid in cash (or ``pay`` pairs)."""
    basket = sales.Basket()
    for code, qty in items or (("6901234567892", 1000),):
        basket.add(products[code], qty)
    tender = sales.Tender(basket.total_fen)
    for method, amount in pay or (("cash", basket.total_fen),):
        tender.add_payment(method, amount)
    return sales.commit_sale(basket, tender, till_id, cashier)
