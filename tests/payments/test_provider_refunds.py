"""Refunds of mobile-paid sales go back through the provider: the real clients against the real simulator over
HTTP, a real SQLite file, the refund desk's own thread (and a second process after a crash)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from store import documents, journal, provider_refunds as refunds
from store.models import Payment, ProviderRefund
from tests.payments.refund_helpers import alipay_code, pay_sale, providers_for, wait_for, wechat_code
from tests.store.helpers import catalogue
from tui.services import corrections
from tui.services.payments.refunds import (
    FAILED,
    PENDING,
    QUERY,
    REFUND,
    REFUNDED,
    REQUESTED,
    UNKNOWN,
    RefundDesk,
    RefundDone,
    RefundRefused,
    RefundSchedule,
    next_call,
    next_pause,
    state_after,
)
from tui.services.payments.simulator import Simulator, demo_keys

COLA = "6901234567892"  # 3.50 a bottle
FAST = RefundSchedule(0.05, 0.2)


class Clock:
    """The simulator's clock, moved by the test: a refund processing for 5 s takes no time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pay-keys")
    demo_keys(folder)
    return folder


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(keys, clock):
    from tui.services.payments import sim_alipay
    from tui.services.payments.secrets import read_secret
    from tui.services.payments.simulator import WECHAT_KEY_FILE

    alipay = {name: keys / f"alipay_{name}.pem" for name in sim_alipay.KEY_NAMES}
    with Simulator(wechat_key=read_secret(keys / WECHAT_KEY_FILE), alipay_keys=alipay, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def providers(sim, keys):
    return providers_for(sim.url, keys)


@pytest.fixture
def desk(sqlite_database, providers):
    said = []
    refund_desk = RefundDesk("1", providers, report=said.append, schedule=FAST)
    refund_desk.said = said  # type: ignore[attr-defined]
    refund_desk.start()
    yield refund_desk
    refund_desk.stop()


def state_of(document_id: int) -> str:
    return ",".join(row.state for row in refunds.of_document(document_id))


def refund_all(sale, choice_lines=None):
    lines = documents.refundable(sale.id)
    items = tuple((line.line_id, line.remaining_qty) for line in lines) if choice_lines is None else choice_lines
    total = corrections.refund_total_fen(lines, dict(items))
    choice = corrections.RefundChoice(items, None, total)
    return corrections.commit_refund(sale.id, choice, "1", "c1", "")


# ---------------------------------------------------------------- the rules

def test_what_the_desk_asks_next():
    assert next_call(REQUESTED, ask_first=False) == REFUND
    assert next_call(REQUESTED, ask_first=True) == QUERY  # after a restart: does the provider know it?
    assert next_call(PENDING, ask_first=False) == QUERY  # accepted is not refunded: ask until it is
    assert next_call(UNKNOWN, ask_first=True) == QUERY


def test_an_unreachable_provider_never_settles_an_accepted_refund():
    assert state_after(PENDING, "unknown") == PENDING
    assert state_after(REQUESTED, "unknown") == UNKNOWN
    assert state_after(PENDING, "refunded") == REFUNDED
    assert state_after(UNKNOWN, "failed") == FAILED


def test_the_pause_grows_to_the_longest():
    schedule = RefundSchedule(5, 300)
    pauses = [0.0]
    for _ in range(9):
        pauses.append(next_pause(pauses[-1], schedule))
    assert pauses[1:4] == [5, 10, 20] and pauses[-1] == 300


def test_the_refund_number_comes_from_the_document():
    assert refunds.refund_number("till-1", 12, 1) == "till_1_R00000012_1"


def test_money_goes_back_to_the_orders_oldest_first_within_what_each_has_left():
    orders = [refunds.Order("wechat", "A", "TA", 300), refunds.Order("wechat", "B", "TB", 500)]
    rows = refunds.split_by_order([("wechat", 700), ("cash", 100)], orders)
    assert [(r["method"], r["amount_fen"], r["out_trade_no"], r["reference"]) for r in rows] == [
        ("wechat", 300, "A", "TA"), ("wechat", 400, "B", "TB"), ("cash", 100, "", "")]
    # a typed-reference WeChat payment beside a till-charged one: what the orders cannot take goes as today
    rows = refunds.split_by_order([("wechat", 900)], orders[:1])
    assert [(r["amount_fen"], r["out_trade_no"]) for r in rows] == [(300, "A"), (600, "")]


def test_the_state_machine_allows_its_table_only(sqlite_database):
    for state in refunds.STATES:
        with pytest.raises(refunds.RefundError):
            refunds.check_move(refunds.REFUNDED, state)
    refunds.check_move(refunds.FAILED, refunds.REQUESTED)  # a retry, with the same number
    with pytest.raises(refunds.RefundError):
        refunds.check_move(refunds.FAILED, refunds.REFUNDED)


# ---------------------------------------------------------------- stories

def test_a_full_refund_of_a_wechat_paid_sale_gives_the_money_back_once(desk, sim, providers):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 2000)], [("wechat", wechat_code(), 700)])
    out_trade_no = Payment.get(Payment.sale == sale.id).out_trade_no
    committed = refund_all(sale)
    back = Payment.get(Payment.sale == committed.document_id)
    assert (back.method, back.out_trade_no, back.reference) == ("wechat", out_trade_no,
                                                                sim.wechat.orders[out_trade_no].transaction_id)
    assert state_of(committed.document_id) == REQUESTED  # stored with the document, before any request
    desk.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == REFUNDED, "the refund to be refunded")
    row = refunds.of_document(committed.document_id)[0]
    order = sim.wechat.orders[out_trade_no]
    assert list(order.refunds) == [row.out_refund_no] and order.refunded() == 700
    assert row.refund_id == order.refunds[row.out_refund_no].refund_id
    wait_for(lambda: any(isinstance(e, RefundDone) for e in desk.said), "the refund's event")
    desk.send(committed.document_id)  # asked again (a second key press): refunded is settled, nothing is sent
    assert len(sim.wechat.calls("/secapi/pay/refund")) == 1
    assert journal.verify().ok


def test_a_partial_refund_of_an_alipay_paid_sale(desk, sim, providers):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 3000)], [("alipay", alipay_code(), 1050)])
    line = documents.refundable(sale.id)[0]
    committed = refund_all(sale, ((line.line_id, 1000),))
    desk.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == REFUNDED, "the Alipay refund")
    out_trade_no = Payment.get(Payment.sale == sale.id).out_trade_no
    order = sim.alipay.orders[out_trade_no]
    assert order.refunds == {refunds.of_document(committed.document_id)[0].out_refund_no: 350}
    assert documents.refund_room(sale.id)["alipay"] == 700


def test_an_accepted_refund_is_pending_until_the_query_says_refunded(desk, sim, providers, clock):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 1000)], [("wechat", wechat_code("505"), 350)])  # 5 s processing
    committed = refund_all(sale)
    desk.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == PENDING, "the refund to be accepted")
    row = refunds.of_document(committed.document_id)[0]
    assert row.refund_id and row.reason_code  # the document records the refund number and why it is pending
    queries = len(sim.wechat.calls("/pay/refundquery"))
    clock.now += 6  # the provider finishes it
    wait_for(lambda: state_of(committed.document_id) == REFUNDED, "the query to say refunded")
    assert len(sim.wechat.calls("/pay/refundquery")) > queries
    assert len(sim.wechat.calls("/secapi/pay/refund")) == 1


def test_a_refused_refund_is_said_the_document_stays_and_a_retry_uses_the_same_number(desk, sim, providers):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 1000)], [("wechat", wechat_code(), 350)])
    out_trade_no = Payment.get(Payment.sale == sale.id).out_trade_no
    providers.client("wechat").refund(out_trade_no, "SHOP-PLATFORM-1", 350, 350)  # given back on the platform
    committed = refund_all(sale)
    desk.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == FAILED, "the provider to refuse")
    refused = wait_for(lambda: [e for e in desk.said if isinstance(e, RefundRefused)], "the refusal's event")[0]
    assert refused.reason == "退款金额超过订单可退金额" and refused.document_id == committed.document_id
    assert documents.corrections(sale.id)[0].id == committed.document_id  # the goods came back: it stays
    row = refunds.of_document(committed.document_id)[0]
    desk.retry(row.out_refund_no)
    wait_for(lambda: len([c for c in sim.wechat.calls("/secapi/pay/refund") if c.out_refund_no == row.out_refund_no])
             == 2, "the retry")
    wait_for(lambda: state_of(committed.document_id) == FAILED, "the retry's answer")
    assert sim.wechat.orders[out_trade_no].refunded() == 350  # never more than was paid


def test_a_void_of_a_split_sale_refunds_each_mobile_order_and_the_cash_as_today(desk, sim, providers):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 3000)],
                    [("wechat", wechat_code(), 400), ("alipay", alipay_code(), 500), ("cash", "", 150)])
    committed = corrections.commit_void(sale.id, "1", "c1", "m1", "scanned twice")
    methods = [(p.method, p.amount_fen, bool(p.out_trade_no)) for p in
               Payment.select().where(Payment.sale == committed.document_id).order_by(Payment.position)]
    assert methods == [("wechat", 400, True), ("alipay", 500, True), ("cash", 150, False)]
    desk.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == "refunded,refunded", "both refunds")


def test_a_crash_before_the_answer_is_stored_refunds_once_after_the_restart(sqlite_database, sqlite_url, sim,
                                                                            providers, keys):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 1000)], [("wechat", wechat_code(), 350)])
    out_trade_no = Payment.get(Payment.sale == sale.id).out_trade_no
    committed = refund_all(sale)
    first = RefundDesk("1", providers, schedule=FAST)
    sim.wechat.wrong_signature = True  # the refund is made, its answer cannot be believed: unknown
    first.start()
    first.send(committed.document_id)
    wait_for(lambda: state_of(committed.document_id) == UNKNOWN, "the unclear answer")
    first.stop()  # the till dies here
    sim.wechat.wrong_signature = False
    assert sim.wechat.orders[out_trade_no].refunded() == 350
    worker = subprocess.run([sys.executable, "-m", "tests.payments.refund_worker", sqlite_url, "1", sim.url,
                             str(keys)], capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    states = json.loads(worker.stdout)
    assert list(states.values()) == [REFUNDED]
    order = sim.wechat.orders[out_trade_no]
    assert len(order.refunds) == 1 and order.refunded() == 350  # the provider gave it back once


def test_a_refund_stored_but_never_sent_is_sent_by_the_next_start(sqlite_database, sqlite_url, sim, providers,
                                                                   keys):
    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 1000)], [("alipay", alipay_code(), 350)])
    committed = refund_all(sale)  # the till dies before its desk sends anything
    worker = subprocess.run([sys.executable, "-m", "tests.payments.refund_worker", sqlite_url, "1", sim.url,
                             str(keys)], capture_output=True, text=True, timeout=60)
    assert worker.returncode == 0, worker.stderr
    assert list(json.loads(worker.stdout).values()) == [REFUNDED]
    out_trade_no = Payment.get(Payment.sale == sale.id).out_trade_no
    assert sum(sim.alipay.orders[out_trade_no].refunds.values()) == 350
    assert ProviderRefund.get(ProviderRefund.document == committed.document_id).state == REFUNDED


def test_journal_verify_names_a_provider_refund_edited_outside_the_till(sqlite_database, providers):
    from tests.store.test_tamper import edit

    products = catalogue()
    sale = pay_sale(providers, products, [(COLA, 1000)], [("wechat", wechat_code(), 350)])
    committed = refund_all(sale)
    row = refunds.of_document(committed.document_id)[0]
    assert journal.verify().ok
    edit("UPDATE provider_refund SET state = 'refunded' WHERE id = ?", row.id)
    result = journal.verify()
    assert not result.ok and f"provider refund {row.id} was changed outside the till" in result.message


def test_a_sale_paid_by_a_typed_reference_refunds_as_today(sqlite_database):
    from tests.store.helpers import ring_up

    products = catalogue()
    sale = ring_up(products, (COLA, 1000), pay=(("wechat", 350),))
    committed = refund_all(sale)
    assert refunds.of_document(committed.document_id) == []
    assert Payment.get(Payment.sale == committed.document_id).out_trade_no == ""


# ---------------------------------------------------------------- what the cashier reads

def test_a_refused_refund_says_what_to_do_in_both_languages():
    from tui import i18n
    from tui.services.payments.refunds import event_text, refund_note

    refused = RefundRefused(7, "1_R00000007_1", "wechat", 700, reason="退款金额超过订单可退金额", code="ERROR")
    i18n.set_language("en")
    assert event_text(refused) == ("WeChat Pay refused the refund (退款金额超过订单可退金额): give the money back in "
                                   "cash or try again later (P in the history)")
    i18n.set_language("zh")
    assert event_text(refused).startswith("微信支付拒绝了退款（退款金额超过订单可退金额）：请用现金")
    pending = {"out_refund_no": "1_R00000007_1", "state": PENDING, "refund_id": "503", "reason_code": "PROCESSING",
               "reason": "", "amount_fen": 700}
    assert refund_note("alipay", pending) == "支付宝退款 ￥7.00 处理中（PROCESSING），收银机会自动查询"


def test_the_history_detail_shows_the_transaction_number_and_the_refund_state():
    from tui.screens.history import detail_text

    refund = {"out_refund_no": "1_R00000008_1", "state": FAILED, "refund_id": "", "reason_code": "ERROR",
              "reason": "订单已撤销", "amount_fen": 350}
    document = {"receipt": "1-000008", "kind": "refund", "original": "1-000007", "sold_at": "2026-05-01 10:00:00",
                "total": "3.50", "lines": [], "change_fen": 0, "outcome": "printed", "print_attempts": [],
                "payments": [{"method": "wechat", "amount_fen": 350, "reference": "4200000001", "status": "ok",
                              "transaction_id": "4200000001", "refund": refund}]}
    text = detail_text(document).plain
    assert "交易单号 4200000001" in text
    assert "微信支付拒绝了退款（订单已撤销）" in text
