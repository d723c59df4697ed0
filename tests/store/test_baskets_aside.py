"""A basket set aside for a provider's answer: listed with the held ones, never resumed while it waits, a Z
report waits for it, and it becomes a held basket when its attempt charged nothing."""
from __future__ import annotations

import pytest

from store import baskets, reports, sales
from store.models import Event
from tests.store.helpers import catalogue

COLA = "6901234567892"


def a_basket(products, payments=()) -> int:
    basket = sales.Basket()
    basket.add(products[COLA], 1000)
    return baskets.save(None, "1", basket, list(payments), "c1")


def test_a_set_aside_basket_is_listed_but_not_resumed_until_it_is_released(sqlite_database):
    basket_id = baskets.set_aside(a_basket(catalogue()), "1", "waits for WeChat", "c1")
    assert [(row.id, row.state) for row in baskets.held()] == [(basket_id, baskets.ASIDE)]
    assert [row.id for row in baskets.aside("1")] == [basket_id] and baskets.aside("2") == []
    assert baskets.counts("1") == (0, 1)
    with pytest.raises(reports.ReportError) as z:
        reports.close_z("1")
    assert z.value.code == "z_held_basket"
    with pytest.raises(baskets.BasketError) as caught:
        baskets.resume(basket_id, "1", "c1")
    assert caught.value.code == "held_waits_for_payment"
    assert baskets.release(basket_id, "1", "payment failed", "c1")
    assert not baskets.release(basket_id, "1", "again", "c1")  # held now: released once
    stored = baskets.resume(basket_id, "1", "c1")
    assert (stored.state, stored.note) == (baskets.OPEN, "payment failed")
    kinds = [row.kind for row in Event.select().order_by(Event.id)]
    assert kinds[-3:] == [baskets.EVENT_SET_ASIDE, baskets.EVENT_RELEASED, baskets.EVENT_RESUMED]


def test_only_an_open_basket_with_nothing_taken_is_set_aside(sqlite_database):
    products = catalogue()
    basket_id = a_basket(products)
    baskets.hold(basket_id, "1", "", "c1")
    with pytest.raises(baskets.BasketError):
        baskets.set_aside(basket_id, "1", "", "c1")
    paid = a_basket(products, [sales.TenderPayment("cash", 100)])
    with pytest.raises(baskets.BasketError) as caught:
        baskets.set_aside(paid, "1", "", "c1")
    assert caught.value.code == "held_with_payment"
