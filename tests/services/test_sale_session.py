"""The sale session without a screen: a real SQLite file, a real basket saver thread, a real Till (no printer).

The test plays the app: the basket saver posts its answers into a queue and
the test runs them on its own thread, as the app does when the message
arrives; the session's reports are collected in order.
"""
from __future__ import annotations

import dataclasses
import queue
from typing import Any, List

import pytest

from store.sales import DiscountSpec, Tender, TenderPayment
from tests.tui.helpers import COLA, WATER
from tui.services import sale_session as rules
from tui.services.basket_saver import BasketSaver
from tui.services.sale_session import (
    BASKET,
    LINE,
    PRICE,
    BasketEnded,
    BasketHeld,
    BasketResumed,
    CommitFailed,
    Refused,
    SaleCommitted,
    SaleSession,
)
from tui.services.till import Till

WAIT = 15.0


class Owner:
    """Stands in for the app: the saver's answers run here, the session's reports and events are kept."""

    def __init__(self, settings: Any, sign_in_used: bool = False) -> None:
        self.answers: "queue.Queue[Any]" = queue.Queue()
        self.reports: List[Any] = []
        self.events: List[tuple] = []
        self.till = Till(settings, cashier="01", language=lambda: "en")
        self.saver = BasketSaver(settings.till.id, lambda: "01",
                                 post=lambda function, *args: self.answers.put((function, args)))
        self.saver.start()
        self.session = SaleSession(self.till, self.saver, settings, report=self.reports.append,
                                   log_event=lambda kind, detail="": self.events.append((kind, detail)),
                                   sign_in_used=lambda: sign_in_used)

    def answer(self, kind: type) -> Any:
        """Run the saver's answers until the session reports ``kind``; that report."""
        while not any(isinstance(report, kind) for report in self.reports):
            function, args = self.answers.get(timeout=WAIT)
            function(*args)
        return next(report for report in self.reports if isinstance(report, kind))

    def stop(self) -> None:
        self.saver.stop()
        self.till.stop()


def product(code: str) -> Any:
    from store.sales import find_product

    found = find_product(code)
    assert found is not None
    return found


@pytest.fixture
def settings(tmp_path):
    from store.db import close_database, db, open_database
    from tui.demo import seed_catalogue
    from tui.settings import load_settings

    base = load_settings(None)
    url = "sqlite:///" + str(tmp_path / "till.sqlite3")
    shop = dataclasses.replace(base, database=dataclasses.replace(base.database, url=url),
                               selling=dataclasses.replace(base.selling, rounding="jiao"))
    open_database(url)
    seed_catalogue()
    yield shop
    close_database()
    db.initialize(None)


@pytest.fixture
def owner(settings):
    owner = Owner(settings)
    yield owner
    owner.stop()


def with_selling(settings: Any, **changes: Any) -> Any:
    return dataclasses.replace(settings, selling=dataclasses.replace(settings.selling, **changes))


def stored_basket(till_id: str) -> Any:
    from store import baskets

    return baskets.open_basket(till_id)


def flushed(owner: Owner) -> None:
    assert owner.saver.flush(WAIT)


# ---------------------------------------------------------------- the rule: money taken

def test_money_taken_only_when_a_payment_went_through():
    tender = Tender(500)
    assert not rules.money_taken(None)
    assert not rules.money_taken(tender)
    tender.record_failed("card", 500, "", "declined")
    assert not rules.money_taken(tender), "a declined card took no money"
    tender.add_payment("wechat", 200)
    assert rules.money_taken(tender)
    tender.remove_last()
    assert not rules.money_taken(tender), "a payment taken back is money no longer held"


def test_money_taken_means_the_basket_is_not_changed_held_or_dropped(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()
    session.pay("cash", 100)
    assert session.money_taken() and session.basket_open()
    with pytest.raises(Refused) as refused:
        session.void_line(0)
    assert refused.value.code == "sale.payment_in_progress"
    with pytest.raises(Refused) as refused:
        session.check_hold()
    assert refused.value.code == "hold.paid"
    with pytest.raises(Refused):
        session.no_sale_allowed()
    with pytest.raises(Refused) as refused:
        session.check_resume()
    assert refused.value.code == "held.finish_first"
    assert len(session.basket.items) == 1


def test_hand_back_per_method_in_the_order_taken():
    payments = [TenderPayment("wechat", 300), TenderPayment("cash", 500), TenderPayment("card", 100, status="failed"),
                TenderPayment("cash", 200)]
    assert list(rules.hand_back(payments).items()) == [("wechat", 300), ("cash", 700)]
    assert rules.drawer_opens(payments)
    assert not rules.drawer_opens([TenderPayment("wechat", 300), TenderPayment("cash", 100, status="failed")])


def test_store_work_on_a_basket_no_longer_stored_is_refused_in_one_sentence():
    """Holding or setting aside hands the saver's stored basket id on; none (no longer open) is a BasketError."""
    from store.baskets import BasketError
    from tui.services.sale.core import stored_id

    assert stored_id(7) == 7
    with pytest.raises(BasketError) as refused:
        stored_id(None)
    assert refused.value.code == "basket_not_open" and str(refused.value) == "That basket is no longer open."


# ---------------------------------------------------------------- lines and discounts

def test_a_repeat_scan_joins_its_line_and_every_change_is_stored(owner, settings):
    session = owner.session
    assert session.line_after_scan(product(COLA), 1000, None) == (1000, 300)
    session.add(product(COLA), 1000, None)
    assert session.line_after_scan(product(COLA), 2000, None) == (3000, 900)
    session.add(product(COLA), 2000, None)
    assert [item.qty_milli for item in session.basket.items] == [3000]
    flushed(owner)
    assert stored_basket(settings.till.id).basket.total_fen == 900


def test_basket_discount_base_is_the_lines_after_their_own_discounts(owner):
    session = owner.session
    session.add(product(COLA), 2000, None)
    session.add(product(WATER), 1000, None)
    session.apply_discount(LINE, 0, session.basket.items[0], DiscountSpec("amount", 100, "dent", "01"))
    assert rules.basket_discount_base(session.basket) == 600 + 200 - 100
    assert session.discount_base(BASKET, -1) == 700
    assert ("discount", f"line 1 {product(COLA).name}: 1.00 (dent)") in owner.events


def test_a_discount_over_the_cashier_limit_needs_a_manager(settings):
    rules_now = with_selling(settings, cashier_max_discount=10, cashier_price_override=True).selling
    assert not rules.needs_manager(DiscountSpec("percent", 1000, "r", "01"), 1000, rules_now)
    assert rules.needs_manager(DiscountSpec("percent", 1001, "r", "01"), 1000, rules_now)
    assert rules.needs_manager(DiscountSpec("amount", 101, "r", "01"), 1000, rules_now)
    assert not rules.needs_manager(DiscountSpec("price", 900, "r", "01"), 1000, rules_now)
    no_override = with_selling(settings, cashier_price_override=False).selling
    assert rules.needs_manager(DiscountSpec("price", 999, "r", "01"), 1000, no_override)


def test_a_scale_label_price_is_not_changed(owner):
    session = owner.session
    session.add(product(COLA), 1000, 250)  # a label's fixed amount
    with pytest.raises(Refused) as refused:
        session.discount_base(PRICE, 0)
    assert refused.value.code == "sale.label_price"


def test_a_smaller_line_drops_the_amount_off_the_limit_no_longer_allows(settings):
    owner = Owner(with_selling(settings, cashier_max_discount=10), sign_in_used=True)
    try:
        session = owner.session
        session.add(product(COLA), 10000, None)  # 30.00
        session.apply_discount(LINE, 0, session.basket.items[0], DiscountSpec("amount", 300, "r", "01"))
        dropped, basket_dropped = session.set_qty(0, 2000)  # 6.00: 3.00 off is 50%, over the cashier's 10%
        assert dropped is not None and dropped.value == 300 and basket_dropped is None
        assert session.basket.items[0].discount is None
        assert ("qty_changed", f"{product(COLA).name} 10 -> 2") in owner.events
    finally:
        owner.stop()


# ---------------------------------------------------------------- the tender and 抹零

def test_rounding_after_a_mobile_payment_is_refused_and_after_rounding_only_cash(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    session.add(product(WATER), 1000, 115)  # 4.15
    session.open_tender()
    spec = session.toggle_rounding()
    assert spec is not None and session.basket.total_fen == 410 and session.tender.total_fen == 410
    assert not session.method_allowed("alipay")
    with pytest.raises(Refused) as refused:
        session.pay("alipay", 100)
    assert refused.value.code == "tender.rounded_cash_only"
    assert session.toggle_rounding() is None and session.basket.total_fen == 415
    session.pay("wechat", 100)
    with pytest.raises(Refused) as refused:
        session.toggle_rounding()
    assert refused.value.code == "tender.rounding_cash_only"


def test_rounding_a_round_total_stores_nothing(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()
    with pytest.raises(Refused) as refused:
        session.toggle_rounding()
    assert refused.value.code == "tender.nothing_to_round" and refused.value.values == {"total_fen": 300}
    assert session.basket.rounding is None and not any(kind == "rounding" for kind, _ in owner.events)


def test_a_changed_basket_gets_a_new_tender_that_keeps_the_failed_payments(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    first = session.open_tender()
    session.record_failed("card", 300)
    assert session.open_tender() is first
    session.add(product(WATER), 1000, None)
    second = session.open_tender()
    assert second is not first and second.total_fen == 500
    assert [(p.method, p.ok) for p in second.payments] == [("card", False)]


def test_removing_a_cash_payment_opens_the_drawer_to_hand_it_back(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()
    session.pay("cash", 100)
    removed = session.remove_last_payment()
    assert removed.method == "cash" and not session.money_taken()
    job = owner.till._jobs.get_nowait()  # the printer thread is not started: the drawer job waits in its queue
    assert job.reason == "payment removed: hand back cash 1.00"


# ---------------------------------------------------------------- ending a basket

def test_the_commit_reports_the_sale_and_starts_a_new_basket(owner, settings):
    from store.models import Sale

    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()
    session.pay("cash", 500)
    session.commit()
    committed = owner.answer(SaleCommitted)
    assert committed.paid_fen == 500 and committed.cash and committed.sale.change_fen == 200
    assert Sale.get_by_id(committed.sale.id).total_fen == 300
    assert session.basket.is_empty and session.tender is None
    assert stored_basket(settings.till.id) is None, "the stored basket ended sold with the sale"


def test_a_commit_the_store_refuses_keeps_the_basket_and_its_payments(owner):
    from store.models import Sale

    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()
    session.pay("card", 200, "1234")  # 1.00 still due: the store says no
    session.commit()
    failed = owner.answer(CommitFailed)
    assert getattr(failed.error, "code", "") == "still_due"
    assert not session.basket.is_empty and session.money_taken() and not Sale.select().exists()


def test_abandoning_a_paid_basket_hands_back_per_method_and_opens_the_drawer(owner, settings):
    session = owner.session
    session.add(product(COLA), 2000, None)
    session.open_tender()
    session.pay("wechat", 200)
    session.pay("cash", 100)
    session.record_failed("card", 300)
    session.check_cancel()
    session.cancel()
    assert session.waits()
    ended = owner.answer(BasketEnded)
    assert sorted((p.method, p.amount_fen) for p in ended.handed_back) == [("cash", 100), ("wechat", 200)]
    assert not session.waits() and not session.basket_open()
    assert stored_basket(settings.till.id) is None
    assert "hand back cash 1.00" in owner.till._jobs.get_nowait().reason


def test_an_empty_basket_cannot_be_cancelled(owner):
    with pytest.raises(Refused) as refused:
        owner.session.check_cancel()
    assert refused.value.code == "abandon.nothing"


def test_hold_then_resume_brings_the_basket_back(owner, settings):
    from store import baskets

    session = owner.session
    session.add(product(COLA), 2000, None)
    session.hold("back soon")
    assert session.busy == rules.HOLDING and session.basket.is_empty
    owner.answer(BasketHeld)
    assert not session.busy
    held = baskets.held()
    assert [(b.note, b.total_fen) for b in held] == [("back soon", 600)]
    session.resume(held[0].id)
    resumed = owner.answer(BasketResumed)
    assert resumed.stored.id == held[0].id
    assert [item.qty_milli for item in session.basket.items] == [2000] and not session.busy


def test_refund_without_receipt_only_when_the_setting_allows(owner):
    session = owner.session
    session.add(product(COLA), 1000, None)
    with pytest.raises(Refused) as refused:
        session.check_refund_without_receipt()
    assert refused.value.code == "sale.refund_without_receipt_off"


def test_a_weighed_product_never_merges_and_asks_its_weight_by_plu():
    from types import SimpleNamespace

    potato, cola = SimpleNamespace(unit="斤"), SimpleNamespace(unit="瓶")
    assert not rules.merges(potato, True) and rules.merges(cola, True) and not rules.merges(cola, False)
    assert rules.asks_weight(potato, qty_typed=False, from_label=False)
    assert not rules.asks_weight(potato, qty_typed=True, from_label=False)
    assert not rules.asks_weight(potato, qty_typed=False, from_label=True)
    assert not rules.asks_weight(cola, qty_typed=False, from_label=False)


def test_two_weighings_of_one_product_are_two_lines(owner):
    from store.catalogue import add_product

    add_product("9601", "土豆 Potato", 250, "斤")
    session = owner.session
    session.add(product("9601"), 800, None)
    assert session.line_after_scan(product("9601"), 500, None) == (500, 125)
    session.add(product("9601"), 500, None)
    assert [item.qty_milli for item in session.basket.items] == [800, 500]


# ---------------------------------------------------------------- settings followed while the till runs


def test_new_settings_wait_while_a_basket_is_paid_and_are_in_use_when_it_ends(owner, settings):
    session = owner.session
    taken: List[Any] = []
    session.settings_taken = taken.append
    session.add(product(COLA), 1000, None)
    first = with_selling(settings, cashier_max_discount=30)
    assert session.follow_settings(first)  # rung up, not paid: in use for the next step at once
    assert session.settings is first and taken == [first]
    session.open_tender()
    session.pay("cash", 100)
    second, third = with_selling(settings, cashier_max_discount=40), with_selling(settings, cashier_max_discount=50)
    assert not session.follow_settings(second) and not session.follow_settings(third)  # mid-tender: they wait
    assert session.settings is first and session.settings_waiting()
    session.pay("cash", session.tender.remaining_fen)
    session.commit()
    owner.answer(SaleCommitted)
    assert session.settings is first  # the owner (the app's session_report) asks when it hears the end
    assert session.take_waiting_settings()
    assert session.settings is third and taken == [first, third] and not session.settings_waiting()


def test_settings_waiting_on_an_opened_tender_come_in_when_the_basket_is_cancelled(owner, settings):
    session = owner.session
    session.add(product(COLA), 1000, None)
    session.open_tender()  # F12, then back to the basket: its tender is kept until the basket ends
    new = with_selling(settings, cashier_max_discount=30)
    assert not session.follow_settings(new)
    session.start_over()
    assert session.settings is new
