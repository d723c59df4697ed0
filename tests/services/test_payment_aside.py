"""The shop's internet is down mid-payment: the basket is set aside, the till serves the next customer, and the
set-aside basket settles by itself when the provider answers. The customer is charged at most once.

The real sale session, basket saver and payment desk, the real WeChat Pay client, the real simulator over HTTP
through a real TCP relay that plays the shop's internet (tests/services/internet.py), a real SQLite file.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from store import baskets, payment_attempts as attempts
from tests.services import internet
from tests.services.test_payment_desk import SCHEDULE, Shop, the_payment, view, wechat_code
from tests.tui.helpers import COLA, WATER
from tui.i18n import t
from tui.services.payment_aside import (
    COMMIT,
    RELEASE,
    WAIT,
    AsideCommitted,
    AsideReleased,
    BasketSetAside,
    may_set_aside,
    settlement,
)
from tui.services.payments import sim_alipay
from tui.services.payments.alipay import AlipayClient
from tui.services.payments.clients import Providers
from tui.services.payments.events import PaymentCancelled, PaymentUnclear, PaymentWaiting
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
from tui.services.payments.simulator import Simulator, demo_keys
from tui.services.payments.wechat import WeChatPay
from tui.services.sale_session import UNCLEAR, BasketResumed, Refused, ResumeFailed, SaleCommitted

#: Long enough that the desk never cancels while a test brings the internet back.
PATIENT = dataclasses.replace(SCHEDULE, wait_limit_seconds=60.0)


class AsideShop(Shop):
    """The till as the app wires it, its providers behind the shop's internet (``line``)."""

    def __init__(self, settings: Any, sim: Simulator, keys: Any, line: internet.Line) -> None:
        self.line = line
        super().__init__(settings, sim, keys)

    def providers(self) -> Providers:
        url, keys = self.line.url, self.keys
        return Providers({
            "wechat": lambda: WeChatPay(url, DEMO_APPID, DEMO_MCH_ID, keys.wechat_api_key, timeout=0.5),
            "alipay": lambda: AlipayClient(url + "/gateway.do", sim_alipay.DEMO_APP_ID,
                                           keys.alipay["app_private_key"], keys.alipay["alipay_public_key"],
                                           timeout_seconds=0.5),
        })

    def start(self) -> None:
        """A till starting (again): as the app does, the baskets set aside are settled or followed again."""
        from tui.services.payment_aside import found_aside

        super().start()
        self.desk._schedule = PATIENT
        self.session.recover_aside(found_aside(self.settings.till.id))
        self.desk.recover()

    def unclear(self, code: str) -> str:
        """A basket rung up and charged while the answer is lost, then the internet down: unclear."""
        self.line.mode = internet.LOSING
        self.ring_up(COLA, WATER)
        number = self.session.charge_code(code)
        self.answer(PaymentUnclear)
        self.line.mode = internet.DOWN
        assert self.session.tender_mode() == UNCLEAR
        return number

    def cash_sale(self) -> Any:
        self.reports.clear()
        self.ring_up(WATER)
        self.session.pay("cash", self.session.tender.remaining_fen)
        self.session.commit()
        return self.answer(SaleCommitted).sale


@pytest.fixture
def shop(tmp_path):
    from store.db import close_database, db, open_database
    from tests.services.test_payment_desk import Probe
    from tui.demo import seed_catalogue
    from tui.settings import load_settings

    base = load_settings(None)
    path = str(tmp_path / "till.sqlite3")
    settings = dataclasses.replace(base, database=dataclasses.replace(base.database, url="sqlite:///" + path))
    open_database(settings.database.url)
    seed_catalogue()
    keys = demo_keys(tmp_path / "keys")
    sim = Simulator(wechat_key=keys.wechat_api_key, alipay_keys=keys.alipay, clock=Probe(path), hang_seconds=2.0)
    line = internet.Line(int(sim.url.rsplit(":", 1)[1]))
    shop = AsideShop(settings, sim, keys, line)
    yield shop
    shop.stop()
    line.stop()
    sim.stop()
    close_database()
    db.initialize(None)


def basket_of(number: str) -> baskets.Stored:
    stored = baskets.stored(attempts.get(number).basket)
    assert stored is not None
    return stored


# ---------------------------------------------------------------- the rules

def test_only_an_unclear_attempt_lets_the_basket_be_set_aside():
    assert may_set_aside([view("unknown")]) and may_set_aside([view("failed"), view("cancelling")])
    for states in ([], [view("failed")], [view("requested")], [view("waiting")], [view("paid")],
                   [view("unknown"), view("paid")]):
        assert not may_set_aside(states)


def test_an_answer_settles_a_set_aside_basket_by_its_attempt_state():
    assert settlement("paid") == COMMIT
    assert settlement("failed") == settlement("cancelled") == RELEASE
    for state in ("requested", "waiting", "unknown", "cancelling"):
        assert settlement(state) == WAIT


# ---------------------------------------------------------------- the stories

def test_internet_down_set_aside_next_customer_pays_cash_then_the_payment_arrives_as_its_own_sale(shop):
    number = shop.unclear(wechat_code("000"))  # the provider charged; its answer was lost
    shop.session.set_aside()
    shop.answer(BasketSetAside)
    assert basket_of(number).state == baskets.ASIDE and shop.session.basket.is_empty
    assert [row.id for row in baskets.held()] == [basket_of(number).id]  # listed with the held ones
    cash = shop.cash_sale()  # the next customer, served while the provider cannot be reached
    shop.line.mode = internet.UP  # the internet is back: the desk's next query finds it paid
    paid = shop.answer(AsideCommitted)
    assert paid.sale.receipt_no == cash.receipt_no + 1  # gapless: each its own receipt number
    payment = the_payment(paid.sale.id)
    assert (payment.method, payment.out_trade_no, payment.amount_fen) == ("wechat", number, paid.sale.total_fen)
    assert basket_of(number).state == baskets.SOLD and basket_of(number).basket.total_fen == paid.sale.total_fen
    assert attempts.get(number).sale == paid.sale.id
    assert shop.sim.wechat.orders[number].charges == 1 and len(shop.pay_requests(number)) == 1
    assert the_payment(cash.id).method == "cash" and shop.session.basket.is_empty  # the open basket untouched


def test_a_payment_arriving_mid_tender_leaves_the_open_basket_as_it_is(shop):
    number = shop.unclear(wechat_code("000"))
    shop.session.set_aside()
    shop.answer(BasketSetAside)
    shop.ring_up(WATER)
    shop.session.pay("cash", 100)  # the next customer pays part in cash
    before = (shop.session.basket.as_dict(), shop.session.tender.paid_fen)
    shop.line.mode = internet.UP
    paid = shop.answer(AsideCommitted)
    assert (shop.session.basket.as_dict(), shop.session.tender.paid_fen) == before
    assert the_payment(paid.sale.id).out_trade_no == number


def test_internet_down_set_aside_then_not_paid_becomes_a_held_basket_taken_back_and_paid_in_cash(shop):
    number = shop.unclear(wechat_code("301"))  # balance too low: nothing charged, the answer lost
    shop.session.set_aside()
    shop.answer(BasketSetAside)
    shop.session.resume(basket_of(number).id)  # refused while unclear: it waits for the answer
    refused = shop.answer(ResumeFailed)
    assert getattr(refused.error, "code", "") == "held_waits_for_payment"
    cash = shop.cash_sale()
    shop.line.mode = internet.UP
    shop.answer(AsideReleased)
    held = basket_of(number)
    assert (held.state, held.note) == (baskets.HELD, t("aside.failed_note", method=t("method.wechat")))
    shop.reports.clear()
    shop.session.resume(held.id)
    shop.answer(BasketResumed)
    assert not shop.session.blocked()
    shop.session.open_tender()
    shop.session.pay("cash", shop.session.tender.remaining_fen)
    shop.session.commit()
    sale = shop.answer(SaleCommitted).sale
    assert sale.receipt_no == cash.receipt_no + 1 and the_payment(sale.id).method == "cash"
    assert shop.sim.wechat.orders[number].charges == 0 and attempts.get(number).state == attempts.FAILED


def test_a_restart_between_set_aside_and_the_answer_asks_first_and_commits_once(shop):
    number = shop.unclear(wechat_code("000"))
    shop.session.set_aside()
    shop.answer(BasketSetAside)
    shop.stop()  # the till is gone with the basket aside
    shop.line.mode = internet.UP
    shop.start()  # again on the same file: the set-aside basket's attempt is asked first
    assert number in shop.session.aside and shop.session.basket.is_empty
    paid = shop.answer(AsideCommitted)
    assert the_payment(paid.sale.id).out_trade_no == number
    assert shop.sim.wechat.orders[number].charges == 1 and len(shop.pay_requests(number)) == 1


def test_a_restart_after_the_paid_answer_was_stored_commits_the_set_aside_basket_once(shop):
    number = shop.unclear(wechat_code("000"))
    shop.session.set_aside()
    shop.answer(BasketSetAside)
    shop.stop()
    order = shop.sim.wechat.orders[number]
    attempts.move(number, attempts.PAID, order.transaction_id, "SUCCESS")  # stored, then the till died
    shop.start()
    paid = shop.answer(AsideCommitted)
    assert the_payment(paid.sale.id).reference == order.transaction_id
    assert order.charges == 1 and len(shop.pay_requests(number)) == 1
    shop.stop()
    shop.start()  # once more: nothing is aside, nothing commits twice
    assert shop.session.aside == {} and baskets.aside(shop.settings.till.id) == []


def test_set_aside_is_refused_while_the_customer_confirms(shop):
    shop.ring_up()
    shop.session.charge_code(wechat_code("130"))
    shop.answer(PaymentWaiting)
    with pytest.raises(Refused) as caught:
        shop.session.set_aside()
    assert caught.value.code == "aside.not_unclear"
    assert shop.session.stop_waiting()
    shop.answer(PaymentCancelled)
    with pytest.raises(Refused):
        shop.session.set_aside()  # nothing unclear now: hold it as usual
