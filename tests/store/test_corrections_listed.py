"""Corrections as the back office lists them: kind, original, refunded/voided; 无单退货 as a document."""
from __future__ import annotations

import datetime

import pytest

from store import documents, journal, queries, sales
from store.models import OpenBasket, Sale
from tests.store.helpers import catalogue

COLA, BAG = "6901234567892", "42"


def _sell(products, items, pays):
    basket = sales.Basket()
    for code, qty in items:
        basket.add(products[code], qty)
    tender = sales.Tender(basket.total_fen)
    for method, amount in pays:
        tender.add_payment(method, amount)
    return sales.commit_sale(basket, tender, "1", "c1")


def test_sales_list_says_the_kind_and_the_original_receipt(database):
    products = catalogue()
    bottles = _sell(products, [(COLA, 3000)], [("cash", 2000)])
    bag = _sell(products, [(BAG, 1000)], [("cash", 100)])
    line = documents.refundable(bottles.id)[0]
    documents.commit_refund(bottles.id, [(line.line_id, 1000)], "1", "c1", "M1")
    documents.commit_void(bag.id, "1", "c1", "M1", "scanned twice")
    listed = queries.sales_on(datetime.date.today(), "1")
    assert [(s["receipt"], s["kind"], s["original"]) for s in listed] == [
        ("1-000001", "sale", None), ("1-000002", "sale", None), ("1-000003", "refund", "1-000001"),
        ("1-000004", "void", "1-000002")]
    assert (listed[0]["refunded"], listed[0]["voided"], listed[1]["refunded"], listed[1]["voided"]) == (
        True, False, False, True)
    found = {row["receipt"]: row for row in queries.search_receipts("1")}
    assert found["1-000004"]["original"] == "1-000002" and found["1-000002"]["voided"]
    detail = queries.sale_detail(Sale.get(Sale.kind == "void").id)
    assert (detail["kind"], detail["original"], detail["document_reason"], detail["manager"]) == (
        "void", "1-000002", "scanned twice", "M1")


def test_refund_without_a_receipt_is_a_refund_with_no_original_and_ends_the_basket(database):
    from store import baskets

    products = catalogue()
    basket = sales.Basket()
    basket.add(products[COLA], 2000)
    stored = baskets.save(None, "1", basket, [])
    with pytest.raises(documents.DocumentError) as refused:
        documents.commit_refund_without_receipt(basket, "1", "c1", None, "lost receipt")
    assert refused.value.code == "refund_needs_manager"
    refund = documents.commit_refund_without_receipt(basket, "1", "c1", "M1", "lost receipt", basket_id=stored)
    assert (refund.kind, refund.original_id, refund.total_fen, refund.manager) == ("refund", None, 700, "M1")
    assert [(p.method, p.amount_fen) for p in refund.payments] == [("cash", 700)]
    assert OpenBasket.get_by_id(stored).state != baskets.OPEN
    assert queries.sales_on(datetime.date.today(), "1")[0]["original"] is None
    assert journal.verify().ok
    with pytest.raises(documents.DocumentError):
        documents.commit_refund_without_receipt(sales.Basket(), "1", "c1", "M1")
