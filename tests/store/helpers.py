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


def ring_up_before_documents(database, product, qty_milli=1000, till_id="1"):
    """A cash sale written as the code before migration 7 wrote it (no kind, no discounts), chained."""
    from store import journal, money
    from store.models import GENESIS_HASH, now

    row = database.execute_sql("SELECT last_receipt_no, last_hash FROM till_counter WHERE till_id = "
                               + database.param, (till_id,)).fetchone()
    last_no, last_hash = row if row else (0, GENESIS_HASH)
    amount = money.line_amount(product.price_fen, qty_milli)
    sale = dict(till_id=till_id, receipt_no=last_no + 1, sold_at=now(), cashier="", total_fen=amount, change_fen=0)
    line = dict(position=1, barcode=product.barcode, name=product.name, unit=product.unit,
                unit_price_fen=product.price_fen, qty_milli=qty_milli, amount_fen=amount)
    payment = dict(position=1, method="cash", amount_fen=amount, reference="", status="ok")
    digest = journal.chain_hash(last_hash, journal.canonical_content(sale, [line], [payment]))
    p = database.param
    at = sale["sold_at"].isoformat(sep=" ")
    sale_id = database.execute_sql(
        f"INSERT INTO sale (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) "
        f"VALUES ({p}, {p}, {p}, '', {p}, 0, {p}, {p}) RETURNING id",
        (till_id, sale["receipt_no"], at, amount, last_hash, digest)).fetchone()[0]
    database.execute_sql(
        f"INSERT INTO line (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, "
        f"amount_fen) VALUES ({p}, 1, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
        (sale_id, product.id, product.barcode, product.name, product.unit, product.price_fen, qty_milli, amount))
    database.execute_sql(
        f"INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
        f"VALUES ({p}, 1, 'cash', {p}, '', 'ok', '')", (sale_id, amount))
    database.execute_sql(f"INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
                         f"VALUES ({p}, 'printed', '', '', {p})", (sale_id, at))
    if row:
        database.execute_sql(f"UPDATE till_counter SET last_receipt_no = {p}, last_hash = {p} WHERE till_id = {p}",
                             (sale["receipt_no"], digest, till_id))
    else:
        database.execute_sql(f"INSERT INTO till_counter (till_id, last_receipt_no, last_hash) VALUES ({p}, {p}, {p})",
                             (till_id, sale["receipt_no"], digest))
    return sale_id
