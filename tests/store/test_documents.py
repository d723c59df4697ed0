"""Refunds and voids are documents: numbered, chained, linked, guarded; open and held baskets are kept."""
from __future__ import annotations

import pytest

from store import baskets, documents, journal, sales
from store.models import Event, Line, OpenBasket, Payment, Sale
from tests.store.helpers import catalogue

COLA, BAG = "6901234567892", "42"


def _sell(products, items, pays, till_id="1"):
    basket = sales.Basket()
    for code, qty in items:
        basket.add(products[code], qty)
    tender = sales.Tender(basket.total_fen)
    for method, amount in pays:
        tender.add_payment(method, amount)
    return sales.commit_sale(basket, tender, till_id, "c1")


def test_refund_one_of_three_bottles(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 3000), (BAG, 1000)], [("cash", 2000)])
    cola = documents.refundable(sale.id)[0]
    refund = documents.commit_refund(sale.id, [(cola.line_id, 1000)], "1", "c1", reason="坏了")
    assert (refund.kind, refund.original_id, refund.receipt_no, refund.total_fen) == ("refund", sale.id, 2, 350)
    line = Line.get(Line.sale == refund.id)
    assert (line.original_line_id, line.qty_milli, line.amount_fen) == (cola.line_id, 1000, 350)
    assert [(p.method, p.amount_fen) for p in Payment.select().where(Payment.sale == refund.id)] == [("cash", 350)]
    assert documents.refundable(sale.id)[0].remaining_qty == 2000
    assert journal.verify().ok
    assert Event.get(Event.kind == "refund").sale_id == refund.id


def test_never_more_than_sold_minus_refunded(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 3000)], [("cash", 1050)])
    line = documents.refundable(sale.id)[0]
    documents.commit_refund(sale.id, [(line.line_id, 2000)], "1")
    with pytest.raises(documents.DocumentError) as refused:
        documents.commit_refund(sale.id, [(line.line_id, 2000)], "1")
    assert refused.value.code == "refund_too_much"
    last = documents.commit_refund(sale.id, [(line.line_id, 1000)], "1")
    assert sum(s.total_fen for s in Sale.select().where(Sale.kind == "refund")) == 1050 == sale.total_fen
    assert last.receipt_no == 3 and Sale.select().count() == 3


def test_a_piece_comes_back_whole_a_weighed_item_in_any_fraction(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 2000), ("2001", 1500)], [("cash", 2620)])  # 2 瓶 of cola, 1.5 kg of apples
    cola, apples = documents.refundable(sale.id)
    with pytest.raises(documents.DocumentError) as refused:
        documents.commit_refund(sale.id, [(cola.line_id, 500)], "1")  # half a can: never sold so, never back so
    assert (refused.value.code, refused.value.values["qty"]) == ("piece_fraction", "0.5")
    assert Sale.select().count() == 1  # nothing written
    documents.commit_refund(sale.id, [(apples.line_id, 250)], "1")  # 0.25 kg of apples comes back
    documents.commit_refund(sale.id, [(cola.line_id, 1000)], "1")
    assert [line.remaining_qty for line in documents.refundable(sale.id)] == [1000, 1250]


def test_a_piece_line_sold_in_a_fraction_comes_back_whole(database):
    """A price label's line may hold a fraction of a piece: all that is left of it still comes back."""
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[BAG], 1500, amount_fen=30)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 30)
    sale = sales.commit_sale(basket, tender, "1", "c1")
    [bag] = documents.refundable(sale.id)
    with pytest.raises(documents.DocumentError):
        documents.commit_refund(sale.id, [(bag.line_id, 500)], "1")
    documents.commit_refund(sale.id, [(bag.line_id, 1500)], "1")
    assert documents.refundable(sale.id)[0].remaining_qty == 0


def test_refund_goes_back_to_the_original_tenders(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 2000)], [("wechat", 500), ("cash", 500)])  # change 0.30
    assert documents.default_refund_payments(sale.id, 700) == [("wechat", 500), ("cash", 200)]
    line = documents.refundable(sale.id)[0]
    documents.commit_refund(sale.id, [(line.line_id, 1000)], "1")  # 3.50 back on WeChat
    assert documents.default_refund_payments(sale.id, 350) == [("wechat", 150), ("cash", 200)]
    with pytest.raises(documents.DocumentError):
        documents.commit_refund(sale.id, [(line.line_id, 1000)], "1", payments=[("cash", 1)])


def test_void_reverses_a_sale_of_today_once(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 1000)], [("cash", 500)])
    with pytest.raises(documents.DocumentError) as refused:
        documents.commit_void(sale.id, "1", "c1", "m1", "")
    assert refused.value.code == "void_reason"
    void = documents.commit_void(sale.id, "1", "c1", "m1", "打错了")
    assert (void.kind, void.original_id, void.total_fen, void.manager, void.reason) == ("void", sale.id, 350, "m1", "打错了")
    assert [(p.method, p.amount_fen) for p in Payment.select().where(Payment.sale == void.id)] == [("cash", 350)]
    for again in (lambda: documents.commit_void(sale.id, "1", "c1", "m1", "x"),
                  lambda: documents.refundable(sale.id)):
        with pytest.raises(documents.DocumentError) as refused:
            again()
        assert refused.value.code == "voided"
    assert journal.verify().ok
    Sale.update(reason="changed").where(Sale.id == void.id).execute()
    assert journal.verify().bad_receipt_no == 2


def test_a_refunded_sale_cannot_be_voided(database):
    products = catalogue()
    sale = _sell(products, [(COLA, 2000)], [("cash", 700)])
    documents.commit_refund(sale.id, [(documents.refundable(sale.id)[0].line_id, 1000)], "1")
    with pytest.raises(documents.DocumentError) as refused:
        documents.commit_void(sale.id, "1", reason="x")
    assert refused.value.code == "void_refunded"


def test_open_basket_comes_back_with_its_payments(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[COLA], 3000)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 500)
    basket_id = baskets.save(None, "1", basket, tender.payments, "c1")
    assert baskets.save(basket_id, "1", basket, tender.payments, "c1") == basket_id
    back = baskets.open_basket("1")
    assert back is not None and back.id == basket_id and back.paid_fen == 500
    assert back.basket.lines == basket.lines and back.tender().paid_fen == 500
    assert baskets.open_basket("2") is None
    sale = sales.commit_sale(back.basket, _paid(back), "1", "c1", basket_id=basket_id)
    row = OpenBasket.get_by_id(basket_id)
    assert (row.state, row.sale_id) == ("sold", sale.id) and baskets.open_basket("1") is None


def _paid(stored):
    tender = stored.tender()
    tender.add_payment("cash", tender.remaining_fen)
    return tender


def test_abandoning_records_each_payment_handed_back(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[COLA], 3000)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 500)
    tender.add_payment("card", 200, "123")
    basket_id = baskets.save(None, "1", basket, tender.payments, "c1")
    returned = baskets.abandon(basket_id, "1", "c2")
    assert [(p.method, p.amount_fen) for p in returned] == [("cash", 500), ("card", 200)]
    handed = list(Event.select().where(Event.kind == "payment_handed_back").order_by(Event.id))
    assert [(e.cashier, e.detail) for e in handed] == [("c2", "cash 5.00"), ("c2", "card 2.00 123")]
    assert OpenBasket.get_by_id(basket_id).state == "abandoned" and baskets.open_basket("1") is None


def test_held_baskets_are_resumed_once(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[BAG])
    first = baskets.save(None, "1", basket, [], "c1")
    baskets.hold(first, "1", "取钱包去了", "c1")
    assert [(h.id, h.note, h.total_fen) for h in baskets.held()] == [(first, "取钱包去了", 20)]
    assert baskets.counts("1") == (0, 1)
    back = baskets.resume(first, "2", "c3")
    assert back.till_id == "2" and back.basket.lines == basket.lines
    with pytest.raises(baskets.BasketError) as refused:
        baskets.resume(first, "1")
    assert refused.value.code == "held_taken"


def test_a_basket_with_money_taken_is_not_held(database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[BAG])
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", 10)
    basket_id = baskets.save(None, "1", basket, tender.payments)
    with pytest.raises(baskets.BasketError):
        baskets.hold(basket_id, "1")
