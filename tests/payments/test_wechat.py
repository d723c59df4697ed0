"""The real WeChat Pay APIv2 client against the real simulator, over HTTP on this machine.

Every scenario of the code scanned, both signature types, answers that must not be believed (a bad
signature, another order), refusals of our own request (a wrong API key), settings that must not be used
(http:// elsewhere, a key file others can read), refunds once, and the secret never written anywhere.
"""
from __future__ import annotations

import itertools
import logging
import os
import socket
import urllib.error
import urllib.request

import pytest

from tui.services.payments.provider import (
    CANCELLED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    UNKNOWN,
    WAITING,
    ProviderError,
)
from tui.services.payments.secrets import OPEN_TO_OTHERS, SecretFileError, write_secret
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
from tui.services.payments.simulator import Simulator, demo_keys
from tui.services.payments.wechat import (
    BAD_SIGNATURE,
    HMAC_SHA256,
    MD5,
    NO_ANSWER,
    OTHER_ORDER,
    SCHEDULE,
    WeChatPay,
    sign,
)

KEY = "8934e7d15453e97507ef794cf7b0519d"
OTHER_KEY = "00000000000000000000000000000000"
_serial = itertools.count(1)


class Clock:
    """The simulator's clock, moved by the test: a customer's 12 s take no time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def code(end: str = "000") -> str:
    """A fresh WeChat payment code (18 digits, 13...) ending in the scenario's three digits."""
    return f"13{next(_serial):013d}{end}"


def order_no() -> str:
    return f"T1-{next(_serial):08d}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock):
    with Simulator(wechat_key=KEY, clock=clock, hang_seconds=10) as simulator:
        yield simulator


@pytest.fixture(params=[MD5, HMAC_SHA256])
def client(request, sim) -> WeChatPay:
    return WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, KEY, sign_type=request.param, timeout=5)


# ---------------------------------------------------------------- the wire

def test_signatures_match_the_documents_example():
    fields = {"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test",
              "nonce_str": "ibuaiVcKdpRxkhJA", "empty": ""}
    key = "192006250b4c09247ec02edce69f6a2d"
    assert sign(fields, key, MD5) == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert sign(fields, key, HMAC_SHA256) == "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


def test_the_schedule_is_the_documents():
    assert (SCHEDULE.poll_seconds, SCHEDULE.wait_limit_seconds, SCHEDULE.cancel_after_seconds,
            SCHEDULE.retry_seconds) == (5, 45, 15, 5)


# ---------------------------------------------------------------- the scenarios

def test_an_instant_code_is_paid_once_with_its_transaction_number(client, sim):
    number = order_no()
    answer = client.pay(number, code(), 1250, "超赢 测试店")
    assert answer.state == PAID and answer.out_trade_no == number and answer.amount_fen == 1250
    assert len(answer.transaction_id) == 28 and answer.transaction_id.isdigit()
    assert sim.wechat.orders[number].charges == 1
    assert client.query(number).transaction_id == answer.transaction_id


def test_a_customer_confirming_is_waiting_then_paid(client, sim, clock):
    number = order_no()
    assert client.pay(number, code("112"), 800, "s").state == WAITING
    clock.advance(11)
    assert client.query(number).state == WAITING
    clock.advance(1)
    paid = client.query(number)
    assert paid.state == PAID and paid.transaction_id and sim.wechat.orders[number].charges == 1


def test_a_customer_who_declines_is_waiting_then_failed(client, clock):
    number = order_no()
    assert client.pay(number, code("205"), 800, "s").code == "USERPAYING"
    clock.advance(5)
    answer = client.query(number)
    assert (answer.state, answer.code, answer.reason) == (FAILED, "PAYERROR", "用户取消支付")


@pytest.mark.parametrize("end, err_code, reason", [("301", "NOTENOUGH", "余额不足"),
                                                    ("302", "AUTHCODEEXPIRE", "付款码已过期")])
def test_a_refusal_is_failed_with_the_providers_sentence(client, sim, end, err_code, reason):
    number = order_no()
    answer = client.pay(number, code(end), 800, "s")
    assert (answer.state, answer.code, answer.reason) == (FAILED, err_code, reason)
    assert client.query(number).state == FAILED and sim.wechat.orders[number].charges == 0


def test_a_system_error_then_paid_is_unknown_until_the_query_finds_it_paid(client, sim):
    number = order_no()
    answer = client.pay(number, code("401"), 800, "s")
    assert (answer.state, answer.code) == (UNKNOWN, "SYSTEMERROR")
    assert client.query(number).state == PAID and sim.wechat.orders[number].charges == 1


def test_a_system_error_not_paid_stays_unknown_and_is_reversed(client, sim):
    number = order_no()
    assert client.pay(number, code("402"), 800, "s").state == UNKNOWN
    assert (client.query(number).state, client.query(number).code) == (UNKNOWN, "NOTPAY")
    assert client.cancel(number).state == CANCELLED
    assert client.query(number).state == CANCELLED and sim.wechat.orders[number].charges == 0


def test_no_answer_is_unknown_and_the_order_stays_unpaid(sim):
    hasty = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, KEY, timeout=0.3)
    number = order_no()
    answer = hasty.pay(number, code("403"), 800, "s")
    assert (answer.state, answer.code) == (UNKNOWN, NO_ANSWER)
    assert hasty.query(number).code == "NOTPAY"
    assert hasty.cancel(number).state == CANCELLED and sim.wechat.orders[number].charges == 0


def test_a_provider_that_cannot_be_reached_is_unknown():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    answer = WeChatPay(f"http://127.0.0.1:{port}", DEMO_APPID, DEMO_MCH_ID, KEY, timeout=2).pay(order_no(), code(), 1, "s")
    assert (answer.state, answer.code) == (UNKNOWN, NO_ANSWER) and answer.reason


# ---------------------------------------------------------------- never twice

def test_the_same_order_paid_twice_is_charged_once(client, sim):
    number, payment_code = order_no(), code()
    first = client.pay(number, payment_code, 500, "s")
    again = client.pay(number, payment_code, 500, "s")  # ORDERPAID: the client asks what it is
    assert again.state == PAID and again.transaction_id == first.transaction_id
    assert len(sim.wechat.calls("/pay/micropay", number)) == 2 and sim.wechat.orders[number].charges == 1
    assert client.pay(number, payment_code, 600, "s").code == OTHER_ORDER  # paid, but not this amount


def test_a_payment_code_is_spent_once_paid_or_not(client, sim):
    payment_code = code("301")
    assert client.pay(order_no(), payment_code, 500, "s").code == "NOTENOUGH"
    number = order_no()
    answer = client.pay(number, payment_code, 500, "s")
    assert (answer.state, answer.code) == (FAILED, "AUTH_CODE_INVALID") and number not in sim.wechat.orders


def test_a_reversed_paid_order_gives_the_money_back_and_cannot_be_paid_again(client, sim):
    number = order_no()
    assert client.pay(number, code(), 500, "s").state == PAID
    assert client.cancel(number).state == CANCELLED
    assert sim.wechat.orders[number].state == "REVOKED"
    assert client.pay(number, code(), 500, "s").state == CANCELLED  # ORDERREVERSED


def test_a_reverse_answered_recall_is_asked_again(client, sim):
    number = order_no()
    client.pay(number, code("402"), 500, "s")
    sim.wechat.reverse_recalls = 1
    first = client.cancel(number)
    assert (first.state, first.retry) == (UNKNOWN, True)
    assert client.cancel(number).state == CANCELLED
    assert len(sim.wechat.calls("/secapi/pay/reverse", number)) == 2


# ---------------------------------------------------------------- answers not to believe

def test_an_answer_whose_signature_does_not_check_is_unknown_never_paid(client, sim):
    sim.wechat.wrong_signature = True
    number = order_no()
    answer = client.pay(number, code(), 500, "s")
    assert (answer.state, answer.code) == (UNKNOWN, BAD_SIGNATURE)
    assert sim.wechat.orders[number].state == "SUCCESS"  # it was paid: the till must ask again, not believe
    assert client.query(number).state == UNKNOWN


def test_an_answer_for_another_order_is_unknown(client, sim):
    sim.wechat.other_order = "T1-SOMEONE-ELSE"
    number = order_no()
    answer = client.pay(number, code(), 500, "s")
    assert (answer.state, answer.code) == (UNKNOWN, OTHER_ORDER)
    assert client.query(number).state == UNKNOWN
    sim.wechat.other_order = ""
    waiting = order_no()
    assert client.pay(waiting, code("130"), 500, "s").state == WAITING
    sim.wechat.other_order = "T1-SOMEONE-ELSE"
    assert (client.query(waiting).state, client.query(waiting).code) == (UNKNOWN, OTHER_ORDER)


@pytest.mark.parametrize("sign_type", [MD5, HMAC_SHA256])
def test_a_wrong_api_key_is_refused_by_the_provider_and_unknown_to_us(sim, sign_type):
    wrong = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, OTHER_KEY, sign_type=sign_type)
    number = order_no()
    answer = wrong.pay(number, code(), 500, "s")
    assert (answer.state, answer.code, answer.reason) == (UNKNOWN, "FAIL", "签名错误")
    assert number not in sim.wechat.orders and sim.wechat.calls("/pay/micropay", number)[0].signed is False


def test_another_merchants_client_is_refused(sim):
    stranger = WeChatPay(sim.url, DEMO_APPID, "19999999", KEY)
    number = order_no()
    assert stranger.pay(number, code(), 500, "s").state == UNKNOWN and number not in sim.wechat.orders


# ---------------------------------------------------------------- refunds

def test_a_full_refund_is_refunded_once_by_its_number(client, sim):
    number = order_no()
    client.pay(number, code(), 900, "s")
    first = client.refund(number, "R-1", 900, 900, "退货")
    again = client.refund(number, "R-1", 900, 900, "退货")
    assert (first.state, again.state) == (REFUNDED, REFUNDED) and first.refund_id == again.refund_id
    assert sim.wechat.orders[number].refunded() == 900
    assert client.refund_query(number, "R-1").state == REFUNDED


def test_partial_refunds_never_give_back_more_than_was_paid(client, sim):
    number = order_no()
    client.pay(number, code(), 900, "s")
    assert client.refund(number, "R-a", 900, 300).amount_fen == 300
    assert client.refund(number, "R-b", 900, 600).state == REFUNDED
    too_much = client.refund(number, "R-c", 900, 1)
    assert (too_much.state, too_much.code) == (FAILED, "ERROR") and too_much.reason
    assert sim.wechat.orders[number].refunded() == 900


def test_a_refund_processing_is_pending_until_the_query_says_refunded(client, clock):
    number = order_no()
    client.pay(number, code("505"), 900, "s")
    accepted = client.refund(number, "R-slow", 900, 900)
    assert accepted.state == PENDING and accepted.refund_id
    assert client.refund_query(number, "R-slow").state == PENDING
    clock.advance(5)
    assert client.refund_query(number, "R-slow").state == REFUNDED


def test_a_refund_of_an_unpaid_order_is_refused_and_an_unknown_refund_is_not_known(client):
    number = order_no()
    client.pay(number, code("402"), 900, "s")
    assert client.refund(number, "R-x", 900, 900).state == FAILED
    unknown = client.refund_query(number, "R-never")
    assert (unknown.state, unknown.code) == (UNKNOWN, "REFUNDNOTEXIST")


# ---------------------------------------------------------------- settings

@pytest.mark.parametrize("url", ["http://api.mch.weixin.qq.com", "http://10.0.0.5:8080", "ftp://127.0.0.1",
                                 "http://127.0.0.1:port", "https://"])
def test_http_to_another_machine_is_refused_in_one_sentence(url):
    with pytest.raises(ProviderError) as caught:
        WeChatPay(url, DEMO_APPID, DEMO_MCH_ID, KEY)
    assert "base_url" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9/", "http://[::1]:9"])
def test_http_to_this_machine_is_accepted(url):
    assert WeChatPay(url, DEMO_APPID, DEMO_MCH_ID, KEY).base_url.startswith("http://")


def test_https_without_the_merchants_certificate_is_refused():
    with pytest.raises(ProviderError, match="cert_file"):
        WeChatPay("https://api.mch.weixin.qq.com", DEMO_APPID, DEMO_MCH_ID, KEY)


def settings(sim, key_file) -> dict:
    return {"base_url": sim.url, "appid": DEMO_APPID, "mch_id": DEMO_MCH_ID, "api_key_file": str(key_file),
            "sign_type": HMAC_SHA256, "timeout": 3}


def test_a_client_from_settings_reads_its_key_file_and_pays(sim, tmp_path):
    key_file = tmp_path / "wechat.key"
    write_secret(key_file, (KEY + "\n").encode())
    client = WeChatPay.from_settings(settings(sim, key_file))
    assert client.pay(order_no(), code(), 100, "s").state == PAID


def test_a_key_file_others_can_read_is_refused_naming_the_file(sim, tmp_path):
    key_file = tmp_path / "wechat.key"
    write_secret(key_file, KEY.encode())
    os.chmod(key_file, 0o644)
    with pytest.raises(SecretFileError) as caught:
        WeChatPay.from_settings(settings(sim, key_file))
    assert caught.value.problem == OPEN_TO_OTHERS
    assert str(key_file) in str(caught.value) and "chmod 600" in str(caught.value) and KEY not in str(caught.value)


def test_a_missing_key_file_is_refused_naming_the_file(sim, tmp_path):
    with pytest.raises(SecretFileError, match="missing"):
        WeChatPay.from_settings(settings(sim, tmp_path / "nowhere.key"))


def test_the_secret_and_the_whole_code_never_reach_an_error_or_the_log(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    key_file = tmp_path / "wechat.key"
    write_secret(key_file, KEY.encode())
    client = WeChatPay.from_settings(settings(sim, key_file))
    payment_code = code()
    texts = [repr(client), repr(client.pay(order_no(), payment_code, 100, "s"))]
    sim.wechat.wrong_signature = True
    texts.append(repr(client.pay(order_no(), code(), 100, "s")))
    texts.append(repr(WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, OTHER_KEY).refund("x", "y", 1, 1)))
    for bad in ({"sign_type": "SHA1"}, {"base_url": "http://example.com"}, {"appid": ""}, {"timeout": "soon"},
                {"timeout": 0}):
        with pytest.raises(ProviderError) as caught:
            WeChatPay.from_settings({**settings(sim, key_file), **bad})
        texts.append(str(caught.value))
    texts += [record.getMessage() for record in caplog.records]
    assert any(payment_code[-4:] in text for text in texts)  # the log does name the code, by its last 4
    assert not [text for text in texts if KEY in text or payment_code in text or OTHER_KEY in text]


# ---------------------------------------------------------------- the server

def test_the_server_routes_the_wechat_paths_and_says_when_alipay_is_absent(sim):
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(sim.url + "/pay/nothing", data=b"<xml></xml>", timeout=5)
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as alipay:
        urllib.request.urlopen(sim.url + "/gateway.do?method=alipay.trade.query", timeout=5)
    assert alipay.value.code == 501
    assert [r.path for r in sim.requests] == []  # neither reached the WeChat half


def test_demo_keys_are_private_files_the_simulator_and_the_client_share(tmp_path):
    keys = demo_keys(tmp_path / "keys")
    assert oct(keys.wechat_api_key_file.stat().st_mode & 0o777) == "0o600"
    with Simulator(wechat_key=keys.wechat_api_key) as simulator:
        client = WeChatPay.from_settings(settings(simulator, keys.wechat_api_key_file))
        assert client.pay(order_no(), code(), 100, "s").state == PAID
        assert [r.path for r in simulator.requests] == ["/pay/micropay"]
