"""Sale lifecycle: basket -> tender -> one committed sale with everything a receipt needs."""
from __future__ import annotations

import dataclasses

import peewee
import pytest

from store import journal, numbering, outcomes, sales
from store.models import Event, Line, Payment, Product, ReceiptOutcome, Sale, TillCounter
from tests.store.helpers import catalogue, ring_up


def test_split_tender_sale_is_stored_whole(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products["6901234567892"], 2000)
    index = basket.add(products["2001"], 1500)  # 1.5 kg of apples
    basket.add(products["42"])
    assert index == 1
    assert basket.total_fen == 700 + 1920 + 20

    tender = sales.Tender(basket.total_fen)
    tender.record_failed("wechat", 1000, "wx-1", "customer cancelled")
    tender.add_payment("card", 1000, "pos-77")
    assert not tender.covered and tender.remaining_fen == 1640
    tender.add_payment("cash", 2000)
    assert tender.change_fen == 360

    sale = sales.commit_sale(basket, tender, "1", "c1")
    assert (sale.till_id, sale.receipt_no, sale.total_fen, sale.change_fen) == ("1", 1, 2640, 360)
    assert numbering.format_receipt_no(sale.till_id, sale.receipt_no) == "1-000001"

    stored = Sale.get_by_id(sale.id)
    assert stored.hash == sale.hash and stored.prev_hash == "0" * 64
    lines = list(Line.select().where(Line.sale == sale.id).order_by(Line.position))
    assert [(ln.barcode, ln.name, ln.unit, ln.unit_price_fen, ln.qty_milli, ln.amount_fen) for ln in lines] == [
        ("6901234567892", "可口可乐 330ml", "瓶", 350, 2000, 700),
        ("2001", "苹果", "kg", 1280, 1500, 1920),
        ("42", "塑料袋", "", 20, 1000, 20),
    ]
    payments = list(Payment.select().where(Payment.sale == sale.id).order_by(Payment.position))
    assert [(p.method, p.amount_fen, p.status) for p in payments] == [
        ("wechat", 1000, "failed"), ("card", 1000, "ok"), ("cash", 2000, "ok"),
    ]
    assert sum(p.amount_fen for p in payments if p.status == "ok") - sale.change_fen == sale.total_fen
    assert ReceiptOutcome.get(ReceiptOutcome.sale == sale.id).state == "pending"
    failed = list(Event.select().where(Event.kind == "payment_failed"))
    assert len(failed) == 1 and failed[0].sale_id == sale.id and "wechat" in failed[0].detail
    assert [s.id for s in outcomes.unresolved_sales("1")] == [sale.id]


def test_line_keeps_the_price_it_was_sold_at(database):
    products = catalogue()
    sale = ring_up(products, ("6901234567892", 1000))
    Product.update(price_fen=400, name="可乐").where(Product.barcode == "6901234567892").execute()
    line = Line.get(Line.sale == sale.id)
    assert (line.name, line.unit_price_fen, line.amount_fen) == ("可口可乐 330ml", 350, 350)


def test_receipt_numbers_are_per_till_and_gapless(database):
    products = catalogue()
    for till in ("1", "2", "1", "1", "2"):
        ring_up(products, till_id=till)
    got = [(s.till_id, s.receipt_no) for s in Sale.select().order_by(Sale.id)]
    assert got == [("1", 1), ("2", 1), ("1", 2), ("1", 3), ("2", 2)]
    assert TillCounter.get_by_id("1").last_receipt_no == 3


def test_failed_commit_leaves_nothing_and_no_gap(database):
    """A write that fails half-way (here: a line pointing at a product that is gone) rolls back whole."""
    products = catalogue()
    ring_up(products)
    basket = sales.Basket()
    basket.add(products["42"])
    basket.items[0] = dataclasses.replace(basket.items[0], product_id=999_999)
    tender = sales.Tender(basket.total_fen)
    tender.record_failed("card", 20, reason="declined")
    tender.add_payment("cash", 20)
    with pytest.raises(peewee.IntegrityError):
        sales.commit_sale(basket, tender, "1", "c1")
    assert Sale.select().count() == 1 and Line.select().count() == 1 and Payment.select().count() == 1
    assert ReceiptOutcome.select().count() == 1 and Event.select().count() == 0
    assert TillCounter.get_by_id("1").last_receipt_no == 1
    assert ring_up(products).receipt_no == 2
    assert journal.verify().ok


@pytest.mark.parametrize("build, message", [
    (lambda p: (sales.Basket(), sales.Tender(0)), "empty"),
    (lambda p: _basket_and_tender(p, paid=100), "still due"),
    (lambda p: _basket_and_tender(p, total_delta=1), "different total"),
])
def test_commit_refuses_incomplete_sales(database, build, message):
    products = catalogue()
    basket, tender = build(products)
    with pytest.raises(sales.SaleError, match=message):
        sales.commit_sale(basket, tender, "1", None)
    assert Sale.select().count() == 0 and TillCounter.select().count() == 0


def _basket_and_tender(products, paid=None, total_delta=0):
    basket = sales.Basket()
    basket.add(products["6901234567892"])
    tender = sales.Tender(basket.total_fen + total_delta)
    tender.add_payment("cash", paid or tender.total_fen)
    return basket, tender


def test_basket_void_and_quantity(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products["6901234567892"])
    basket.add(products["42"])
    basket.set_qty(0, 3000)
    assert basket.total_fen == 1050 + 20
    assert basket.void(1).barcode == "42"
    assert basket.total_fen == 1050 and not basket.is_empty
    with pytest.raises(sales.SaleError):
        basket.add(products["42"], 0)
    basket.void(0)
    assert basket.is_empty


def test_find_product_only_active(database):
    catalogue()
    assert sales.find_product(" 42 ").name == "塑料袋"
    Product.update(active=False).where(Product.barcode == "42").execute()
    assert sales.find_product("42") is None
    assert sales.find_product("") is None
    assert sales.find_product("nope") is None


def test_sale_durable_across_reopen(db_url):
    from store.db import close_database, open_database

    open_database(db_url)
    products = catalogue()
    sale = ring_up(products, ("2001", 250))
    close_database()
    open_database(db_url)
    try:
        again = Sale.get(Sale.receipt_no == 1)
        assert (again.id, again.total_fen, again.hash) == (sale.id, 320, sale.hash)
        assert journal.verify().ok
    finally:
        close_database()
