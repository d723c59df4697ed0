"""Mobile payments end to end without a screen: the real sale session, basket saver and payment desk, the real
WeChat Pay and Alipay clients, against the real simulator over HTTP on this machine, on a real SQLite file.

The test plays the app: the saver's and the desk's answers are posted into one queue and run on the test's
thread. The simulator's clock runs ten times as fast as the desk's, so a customer's 12 s take 1.2 s; the desk
follows a short schedule. Nothing here asserts wall-clock time: each story waits for what it expects.
"""
from __future__ import annotations

import dataclasses
import itertools
import queue
import sqlite3
import threading
import time
from typing import Any, Dict, List, Optional

import pytest

from store import payment_attempts as attempts
from tests.tui.helpers import COLA, WATER
from tui.services.basket_saver import BasketSaver
from tui.services.payments import sim_alipay
from tui.services.payments.alipay import AlipayClient
from tui.services.payments.clients import Providers
from tui.services.payments.desk import PaymentDesk
from tui.services.payments.events import PaymentCancelled, PaymentPaid, PaymentRefused, PaymentUnclear, PaymentWaiting
from tui.services.payments.provider import Schedule
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
from tui.services.payments.simulator import Simulator, demo_keys
from tui.services.payments.wechat import WeChatPay
from tui.services.sale_session import (
    CONFIRMING,
    TAKE,
    AttemptView,
    Refused,
    SaleCommitted,
    SaleSession,
    blocks_basket,
    missing_payments,
    tender_mode,
)
from tui.services.till import Till

WAIT = 20.0
SPEED = 10.0  # the simulator's seconds per second of the desk's
SCHEDULE = Schedule(poll_seconds=0.1, wait_limit_seconds=4.0, cancel_after_seconds=0.3, retry_seconds=0.1)
_serial = itertools.count(1)


def wechat_code(end: str = "000") -> str:
    return f"13{next(_serial):013d}{end}"


def alipay_code(end: str = "000") -> str:
    return f"28{next(_serial):015d}{end}"


class Probe:
    """The simulator's clock; each reading also notes which payment attempts the till's file holds then, so a
    test sees what was stored when a request arrived (the simulator stamps each request with a reading)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: Dict[float, Dict[str, str]] = {}
        self._lock = threading.Lock()

    def __call__(self) -> float:
        rows: Dict[str, str] = {}
        try:
            con = sqlite3.connect(self.path, timeout=5)
            try:
                rows = dict(con.execute("SELECT out_trade_no, state FROM payment_attempt").fetchall())
            finally:
                con.close()
        except sqlite3.Error:
            pass
        with self._lock:
            now = time.monotonic() * SPEED
            while now in self.seen:
                now += 1e-6
            self.seen[now] = rows
        return now


class Shop:
    """The till's services, as the app wires them, on one SQLite file and one simulator."""

    def __init__(self, settings: Any, sim: Simulator, keys: Any) -> None:
        self.settings, self.sim, self.keys = settings, sim, keys
        self.answers: "queue.Queue[Any]" = queue.Queue()
        self.reports: List[Any] = []
        self.start()

    def post(self, function: Any, *args: Any) -> None:
        self.answers.put((function, args))

    def providers(self) -> Providers:
        sim, keys = self.sim, self.keys
        return Providers({
            "wechat": lambda: WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, keys.wechat_api_key, timeout=0.5),
            "alipay": lambda: AlipayClient(sim.url + "/gateway.do", sim_alipay.DEMO_APP_ID,
                                           keys.alipay["app_private_key"], keys.alipay["alipay_public_key"],
                                           timeout_seconds=0.5),
        })

    def start(self) -> None:
        """A till starting (again) on the file: new saver, desk and session; the open basket restored first."""
        from store import baskets

        self.reports = []
        self.till = Till(self.settings, cashier="01", language=lambda: "en")
        self.saver = BasketSaver(self.settings.till.id, lambda: "01", post=self.post)
        self.desk = PaymentDesk(self.settings.till.id, self.providers(), post=self.post, schedule=SCHEDULE)
        self.session = SaleSession(self.till, self.saver, self.settings, report=self.reports.append,
                                   log_event=lambda kind, detail="": None, desk=self.desk)
        self.desk._report = self.session.payment_event
        self.saver.start()
        self.desk.start()
        stored = baskets.open_basket(self.settings.till.id)
        if stored is not None:
            self.session.restore(stored, attempts.of_basket(stored.id))
        self.desk.recover()

    def stop(self) -> None:
        self.desk.stop()
        self.saver.stop()
        self.till.stop()

    def answer(self, kind: type, timeout: float = WAIT) -> Any:
        """Run the posted answers until the session reports ``kind``; that report."""
        deadline = time.monotonic() + timeout
        while not any(isinstance(report, kind) for report in self.reports):
            function, args = self.answers.get(timeout=max(0.01, deadline - time.monotonic()))
            function(*args)
        return next(report for report in self.reports if isinstance(report, kind))

    def ring_up(self, *codes: str) -> None:
        from store.sales import find_product

        for code in codes or (COLA,):
            self.session.add(find_product(code), 1000, None)
        self.session.open_tender()

    def pay_requests(self, out_trade_no: str) -> List[Any]:
        return [r for r in self.sim.requests if r.out_trade_no == out_trade_no
                and getattr(r, "path", getattr(r, "method", "")).strip("/") in ("pay/micropay", "alipay.trade.pay")]


@pytest.fixture
def shop(tmp_path):
    from store.db import close_database, db, open_database
    from tui.demo import seed_catalogue
    from tui.settings import load_settings

    base = load_settings(None)
    path = str(tmp_path / "till.sqlite3")
    settings = dataclasses.replace(base, database=dataclasses.replace(base.database, url="sqlite:///" + path))
    open_database(settings.database.url)
    seed_catalogue()
    keys = demo_keys(tmp_path / "keys")
    probe = Probe(path)
    sim = Simulator(wechat_key=keys.wechat_api_key, alipay_keys=keys.alipay, clock=probe, hang_seconds=2.0)
    sim.probe = probe  # type: ignore[attr-defined]
    shop = Shop(settings, sim, keys)
    yield shop
    shop.stop()
    sim.stop()
    close_database()
    db.initialize(None)


def the_payment(sale_id: int) -> Any:
    from store.models import Payment

    return Payment.get((Payment.sale == sale_id) & (Payment.status == "ok"))


# ---------------------------------------------------------------- the rules

def view(state: str, name: str = "1_a", sale: Optional[int] = None) -> AttemptView:
    return AttemptView(name, "wechat", 350, state, "42000" if state == "paid" else "", sale=sale)


def test_an_attempt_not_known_failed_or_cancelled_blocks_the_basket():
    assert not blocks_basket([])
    assert not blocks_basket([view("failed"), view("cancelled")])
    for state in ("requested", "waiting", "unknown", "cancelling", "paid"):
        assert blocks_basket([view("failed"), view(state)])


def test_a_paid_attempt_missing_from_the_tender_is_added_once():
    from store.sales import TenderPayment

    paid = view("paid", "1_p")
    missing = missing_payments([], [paid, paid, view("failed", "1_f")])
    assert missing == [TenderPayment("wechat", 350, "42000", out_trade_no="1_p")]
    assert missing_payments(missing, [paid]) == []  # already in the stored tender: never twice
    assert missing_payments([], [view("paid", "1_s", sale=7)]) == []  # its sale holds it


def test_what_the_tender_may_do_follows_its_newest_open_attempt():
    assert tender_mode([]) == TAKE
    assert tender_mode([view("failed")]) == TAKE
    assert tender_mode([view("failed"), view("waiting")]) == CONFIRMING
    assert tender_mode([view("unknown")]) == "unclear"
    assert tender_mode([view("cancelling")]) == "stopping"


# ---------------------------------------------------------------- the stories

def test_instant_paid_is_a_sale_with_its_transaction_number_stored_before_the_request(shop):
    shop.ring_up(COLA, WATER)
    number = shop.session.charge_code(wechat_code("000"))
    committed = shop.answer(SaleCommitted)
    paid = shop.answer(PaymentPaid)
    payment = the_payment(committed.sale.id)
    assert (payment.method, payment.out_trade_no, payment.reference) == ("wechat", number, paid.transaction_id)
    assert paid.transaction_id and payment.amount_fen == committed.sale.total_fen
    [request] = shop.pay_requests(number)
    assert shop.sim.probe.seen[request.at].get(number) == attempts.REQUESTED  # stored before it left
    assert [a.out_trade_no for a in attempts.of_sale(committed.sale.id)] == [number]
    assert any(p.out_trade_no == number for p in committed.payments)


def test_an_alipay_code_pays_through_alipay(shop):
    shop.ring_up()
    number = shop.session.charge_code(alipay_code("000"))
    committed = shop.answer(SaleCommitted)
    payment = the_payment(committed.sale.id)
    assert (payment.method, payment.out_trade_no) == ("alipay", number) and payment.reference
    [request] = shop.pay_requests(number)
    assert shop.sim.probe.seen[request.at].get(number) == attempts.REQUESTED


def test_a_customer_confirming_12_s_completes_by_itself(shop):
    shop.ring_up()
    number = shop.session.charge_code(wechat_code("112"))
    shop.answer(PaymentWaiting)
    assert shop.session.tender_mode() == CONFIRMING
    committed = shop.answer(SaleCommitted)
    assert the_payment(committed.sale.id).out_trade_no == number
    assert len(shop.pay_requests(number)) == 1


def test_balance_too_low_says_why_keeps_the_tender_open_and_cash_then_pays(shop):
    shop.ring_up()
    shop.session.charge_code(wechat_code("301"))
    refused = shop.answer(PaymentRefused)
    assert refused.reason == "余额不足"
    tender = shop.session.tender
    assert tender is not None and tender.remaining_fen == tender.total_fen and shop.session.tender_mode() == TAKE
    shop.session.pay("cash", tender.remaining_fen)
    shop.session.commit()
    committed = shop.answer(SaleCommitted)
    assert the_payment(committed.sale.id).method == "cash"


def test_a_system_error_then_paid_is_paid_once(shop):
    shop.ring_up()
    number = shop.session.charge_code(wechat_code("401"))
    committed = shop.answer(SaleCommitted)
    assert the_payment(committed.sale.id).out_trade_no == number
    assert shop.sim.wechat.orders[number].charges == 1
    assert len(shop.pay_requests(number)) == 1  # the same out_trade_no queried, never paid again


def test_a_system_error_then_not_paid_is_cancelled_with_nothing_charged(shop):
    shop.ring_up()
    number = shop.session.charge_code(wechat_code("402"))
    shop.answer(PaymentCancelled)
    assert attempts.get(number).state == attempts.CANCELLED
    assert shop.sim.wechat.orders[number].charges == 0
    assert shop.session.tender.paid_fen == 0 and not shop.session.blocked()


def test_no_answer_is_unknown_then_cancelled(shop):
    shop.ring_up()
    number = shop.session.charge_code(wechat_code("403"))
    unclear = shop.answer(PaymentUnclear)
    assert unclear.state == attempts.UNKNOWN
    shop.answer(PaymentCancelled)
    assert attempts.get(number).state == attempts.CANCELLED
    assert not shop.sim.wechat.orders.get(number) or shop.sim.wechat.orders[number].charges == 0


def test_a_blocked_basket_cannot_be_held_abandoned_or_paid_again_until_the_wait_is_stopped(shop):
    shop.ring_up()
    shop.session.charge_code(wechat_code("130"))
    shop.answer(PaymentWaiting)
    for refused in (shop.session.check_hold, shop.session.check_cancel,
                    lambda: shop.session.pay("cash", 100), lambda: shop.session.charge_code(wechat_code())):
        with pytest.raises(Refused) as caught:
            refused()
        assert caught.value.code == "pay.attempt_open"
    assert shop.session.stop_waiting()
    shop.answer(PaymentCancelled)
    shop.session.check_hold()  # nothing charged: it may be held now


def test_a_till_stopped_while_the_customer_confirms_finds_the_payment_and_charges_once(shop):
    shop.ring_up()
    code = wechat_code("115")
    number = shop.session.charge_code(code)
    shop.answer(PaymentWaiting)
    shop.stop()  # the till is gone mid-payment (its threads end between two steps)
    shop.start()  # a new till on the same file: the basket and its attempt come back, queried first
    assert shop.session.blocked()
    committed = shop.answer(SaleCommitted)
    assert the_payment(committed.sale.id).out_trade_no == number
    assert len(shop.pay_requests(number)) == 1 and shop.sim.wechat.orders[number].charges == 1


def test_a_late_answer_for_an_old_attempt_never_pays_the_new_basket(shop):
    shop.ring_up()
    number = shop.session.charge_code(wechat_code("000"))
    paid = shop.answer(PaymentPaid)
    shop.answer(SaleCommitted)
    shop.ring_up(WATER)
    shop.session.payment_event(paid)  # said again, late
    assert shop.session.tender.paid_fen == 0 and not shop.session.blocked()
    assert attempts.get(number).sale is not None


def test_a_till_killed_while_the_customer_confirms_restarts_and_finishes_the_sale_charged_once(shop, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    shop.stop()  # this process's till is not running: the one in the child process sells
    code = wechat_code("120")
    path = shop.settings.database.url[len("sqlite:///"):]
    child = subprocess.Popen([sys.executable, "-m", "tests.services.payment_till", path, shop.sim.url,
                              shop.keys.wechat_api_key, code], stdout=subprocess.PIPE, text=True,
                             cwd=os.getcwd())
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "waiting"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT)
    [number] = [n for n, order in shop.sim.wechat.orders.items() if order.auth_code == code]
    assert attempts.get(number).state == attempts.WAITING
    shop.start()  # the till again, on the same file: the basket and its attempt come back, queried first
    committed = shop.answer(SaleCommitted)
    assert the_payment(committed.sale.id).out_trade_no == number
    assert len(shop.pay_requests(number)) == 1 and shop.sim.wechat.orders[number].charges == 1


def test_a_paid_answer_counts_only_for_the_amount_asked():
    from tui.services.payments.desk import amount_agrees
    from tui.services.payments.provider import PAID, WAITING, Answer

    assert amount_agrees(Answer(PAID, "T1", "42", amount_fen=350), 350)
    assert amount_agrees(Answer(PAID, "T1", "42"), 350)  # the answer does not say: the order's own amount
    assert not amount_agrees(Answer(PAID, "T1", "42", amount_fen=35), 350)
    assert amount_agrees(Answer(WAITING, "T1", amount_fen=35), 350)  # only a paid answer settles money
