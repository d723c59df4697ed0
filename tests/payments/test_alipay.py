"""The real Alipay client over real HTTP on localhost against the Alipay simulator: every scenario, answers
that do not check, keys and gateways refused, amounts exact, refunds at most once, no secret anywhere."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest

from tests.hang import assert_not_hung
from tui.services.payments import alipay, sim_alipay
from tui.services.payments.alipay import AlipayClient, top_level_spans
from tui.services.payments.provider import (
    CANCELLED,
    FAILED,
    PAID,
    REFUNDED,
    UNKNOWN,
    WAITING,
    ProviderError,
)

# Alipay payment codes (25-30, 16-24 digits) whose last three digits pick the scenario.
INSTANT = "281234567890123000"
CONFIRM_12 = "281234567890123112"
DECLINE_8 = "281234567890123208"
BALANCE_LOW = "281234567890123301"
CODE_EXPIRED = "281234567890123302"
ERROR_PAID = "281234567890123401"
ERROR_UNPAID = "281234567890123402"
NO_ANSWER = "281234567890123403"


class Clock:
    """The simulator's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class AlipayServer:
    sim: sim_alipay.AlipaySimulator
    gateway: str
    keys: Dict[str, Path]
    clock: Clock
    mangle: Optional[Callable[[bytes], bytes]] = None  # changes an answer on its way to the client

    def client(self, **options) -> AlipayClient:
        return AlipayClient(self.gateway, sim_alipay.DEMO_APP_ID, self.keys["app_private_key"],
                            self.keys["alipay_public_key"], **options)


@pytest.fixture(scope="session")
def alipay_keys(tmp_path_factory) -> Dict[str, Path]:
    return sim_alipay.demo_keys(tmp_path_factory.mktemp("alipay-keys"))


@pytest.fixture
def alipay_server(alipay_keys) -> Iterator[AlipayServer]:
    """The simulator behind a real HTTP server on 127.0.0.1, ``/gateway.do`` as Alipay serves it."""
    clock = Clock()
    sim = sim_alipay.AlipaySimulator.from_key_files(alipay_keys, clock=clock, no_answer_seconds=2.0)
    server_box: Dict[str, AlipayServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
            status, kind, body = sim.handle("POST", form)
            mangle = server_box["server"].mangle
            body = mangle(body) if mangle else body
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (NO_ANSWER)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server = AlipayServer(sim, f"http://127.0.0.1:{httpd.server_address[1]}/gateway.do", alipay_keys, clock)
    server_box["server"] = server
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def answer_of(body: bytes, method: str = "alipay_trade_pay_response") -> dict:
    return json.loads(body)[method]


def signed(keys: Dict[str, Path], key: str, fields: dict) -> bytes:
    """An answer signed with the simulated Alipay private key, as the real one is."""
    private = alipay.load_private_key(keys["alipay_private_key"].read_bytes(), keys["alipay_private_key"])
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return json.dumps({key: fields, "sign": alipay.rsa2_sign(private, text)}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- the scenarios

def test_an_instant_code_is_paid_with_its_transaction_number(alipay_server):
    answer = alipay_server.client().pay("T1-0001", INSTANT, 1250, "超赢 小票 1")
    assert answer.state == PAID
    assert answer.out_trade_no == "T1-0001"
    assert answer.transaction_id.startswith(time.strftime("%Y")) and len(answer.transaction_id) == 28
    assert answer.amount_fen == 1250
    assert [(r.method, r.out_trade_no) for r in alipay_server.sim.requests] == [("alipay.trade.pay", "T1-0001")]


@pytest.mark.parametrize("fen, yuan", [(1, "0.01"), (999999, "9999.99"), (100, "1.00"), (1005, "10.05")])
def test_amounts_in_fen_go_out_as_yuan_and_come_back_exactly(alipay_server, fen, yuan):
    client = alipay_server.client()
    assert client.pay("T1-A", INSTANT, fen, "x").amount_fen == fen
    assert client.query("T1-A").amount_fen == fen
    assert alipay_server.sim.orders["T1-A"].amount_fen == fen
    assert alipay.format_yuan(fen) == yuan


def test_a_customer_confirming_for_12_s_is_waiting_then_paid(alipay_server):
    client = alipay_server.client()
    first = client.pay("T1-C", CONFIRM_12, 800, "x")
    assert (first.state, first.code) == (WAITING, "10003")
    alipay_server.clock.now += 11
    assert client.query("T1-C").state == WAITING
    alipay_server.clock.now += 1
    paid = client.query("T1-C")
    assert (paid.state, paid.code, paid.amount_fen) == (PAID, "TRADE_SUCCESS", 800)
    assert paid.transaction_id == first.transaction_id


def test_stop_waiting_cancels_a_confirming_order_which_is_then_never_paid(alipay_server):
    client = alipay_server.client()
    assert client.pay("T1-W", CONFIRM_12, 800, "x").state == WAITING
    alipay_server.clock.now += 5
    assert (client.cancel("T1-W").state, client.cancel("T1-W").code) == (CANCELLED, "close")
    alipay_server.clock.now += 60
    assert client.query("T1-W").state == CANCELLED
    assert alipay_server.sim.orders["T1-W"].refunded_fen() == 0


def test_a_customer_who_declines_leaves_the_order_closed_unpaid(alipay_server):
    client = alipay_server.client()
    assert client.pay("T1-D", DECLINE_8, 800, "x").state == WAITING
    alipay_server.clock.now += 8
    closed = client.query("T1-D")
    assert (closed.state, closed.code) == (FAILED, "TRADE_CLOSED")
    assert closed.reason


@pytest.mark.parametrize("code, sub_code, reason", [
    (BALANCE_LOW, "ACQ.BUYER_BALANCE_NOT_ENOUGH", "余额不足"),
    (CODE_EXPIRED, "ACQ.PAYMENT_AUTH_CODE_INVALID", "付款码已过期，请顾客刷新付款码"),
])
def test_a_refusal_fails_with_the_providers_reason_in_one_sentence(alipay_server, code, sub_code, reason):
    answer = alipay_server.client().pay("T1-R", code, 800, "x")
    assert (answer.state, answer.code, answer.reason) == (FAILED, sub_code, reason)
    assert answer.transaction_id == ""


def test_a_system_error_then_paid_is_unknown_until_the_query_finds_it_paid(alipay_server):
    client = alipay_server.client()
    first = client.pay("T1-E", ERROR_PAID, 800, "x")
    assert (first.state, first.code) == (UNKNOWN, "ACQ.SYSTEM_ERROR")
    assert client.query("T1-E").state == PAID


def test_a_system_error_not_paid_is_waiting_then_cancelled_and_reads_cancelled(alipay_server):
    client = alipay_server.client()
    assert client.pay("T1-F", ERROR_UNPAID, 800, "x").state == UNKNOWN
    assert client.query("T1-F").state == WAITING
    cancelled = client.cancel("T1-F")
    assert (cancelled.state, cancelled.code, cancelled.retry) == (CANCELLED, "close", False)
    assert client.query("T1-F").state == CANCELLED


def test_no_answer_comes_back_unknown_after_the_timeout_and_the_order_stays_unpaid(alipay_server):
    client = alipay_server.client(timeout_seconds=0.3)
    started = time.monotonic()
    answer = client.pay("T1-N", NO_ANSWER, 800, "x")
    assert_not_hung(time.monotonic() - started, 0.3, "a pay with no answer")
    assert (answer.state, answer.code) == (UNKNOWN, alipay.NO_ANSWER)
    query = client.query("T1-N")
    assert (query.state, query.code) == (UNKNOWN, "ACQ.TRADE_NOT_EXIST")  # never FAILED on its own
    assert client.cancel("T1-N").state == CANCELLED
    assert "T1-N" not in alipay_server.sim.orders
    late = client.pay("T1-N", INSTANT, 800, "x")  # a pay landing after the cancel is refused
    assert (late.state, late.code) == (FAILED, "ACQ.TRADE_HAS_CLOSE")
    # The schedule never cancels while the pay may still be on the wire.
    assert client.schedule.cancel_after_seconds == 0.3


def test_nothing_listening_is_unknown_not_an_exception(alipay_keys):
    client = AlipayClient("http://127.0.0.1:9/gateway.do", sim_alipay.DEMO_APP_ID, alipay_keys["app_private_key"],
                          alipay_keys["alipay_public_key"], timeout_seconds=2)
    assert (client.pay("T1-X", INSTANT, 1, "x").state, client.query("T1-X").code) == (UNKNOWN, alipay.NO_ANSWER)


def test_the_same_order_is_never_charged_twice_and_a_code_is_spent_once(alipay_server):
    client = alipay_server.client()
    first = client.pay("T1-S", INSTANT, 500, "x")
    again = client.pay("T1-S", "281234567890999000", 500, "x")  # ACQ.TRADE_HAS_SUCCESS: asked, it is paid
    assert (again.state, again.transaction_id) == (PAID, first.transaction_id)
    assert [r.method for r in alipay_server.sim.requests][-2:] == ["alipay.trade.pay", "alipay.trade.query"]
    assert list(alipay_server.sim.orders) == ["T1-S"]
    assert client.pay("T1-S2", INSTANT, 500, "x").state == FAILED  # the same code for another basket


# ---------------------------------------------------------------- answers that do not check

@pytest.mark.parametrize("tamper", [
    pytest.param(lambda body: body.replace(b'"total_amount":"8.00"', b'"total_amount":"0.08"'), id="content"),
    pytest.param(lambda body: body[:body.index(b',"sign"')] + b"}", id="unsigned"),
    pytest.param(lambda body: body.replace(b'"sign":"', b'"sign":"AAAA'), id="signature"),
])
def test_an_answer_whose_signature_does_not_check_is_unknown_never_paid(alipay_server, tamper):
    alipay_server.mangle = tamper
    answer = alipay_server.client().pay("T1-T", INSTANT, 800, "x")
    assert (answer.state, answer.code) == (UNKNOWN, alipay.BAD_SIGNATURE)
    assert answer.transaction_id == ""


def test_a_signed_answer_naming_another_order_is_unknown(alipay_server):
    def other_order(body: bytes) -> bytes:
        fields = answer_of(body)
        return signed(alipay_server.keys, "alipay_trade_pay_response", {**fields, "out_trade_no": "T1-OTHER"})

    alipay_server.mangle = other_order
    answer = alipay_server.client().pay("T1-M", INSTANT, 800, "x")
    assert (answer.state, answer.code) == (UNKNOWN, alipay.OTHER_ORDER)


def test_the_signed_text_is_cut_as_sent_braces_in_strings_included():
    body = ' { "alipay_trade_pay_response" : {"subject":"}{\\"x","n":[1,{}]} , "sign":"abc"}'
    spans = top_level_spans(body)
    assert body[slice(*spans["alipay_trade_pay_response"])] == '{"subject":"}{\\"x","n":[1,{}]}'
    assert body[slice(*spans["sign"])] == '"abc"'
    with pytest.raises(ValueError):
        top_level_spans('["not", "an object"]')


def test_a_wrong_app_key_is_refused_by_the_simulator_and_said_plainly(alipay_server, tmp_path, caplog):
    other = sim_alipay.demo_keys(tmp_path / "other")
    client = AlipayClient(alipay_server.gateway, sim_alipay.DEMO_APP_ID, other["app_private_key"],
                          alipay_server.keys["alipay_public_key"])
    with caplog.at_level(logging.DEBUG):
        answer = client.pay("T1-K", INSTANT, 800, "x")
    assert (answer.state, answer.code) == (UNKNOWN, alipay.INVALID_SIGNATURE)
    assert "应用私钥" in answer.reason
    assert INSTANT not in answer.reason + caplog.text  # the gateway's refusal quotes the code: not passed on
    assert alipay_server.sim.orders == {}


def test_a_wrong_app_id_is_refused_and_named(alipay_server):
    client = AlipayClient(alipay_server.gateway, "2021999999999999", alipay_server.keys["app_private_key"],
                          alipay_server.keys["alipay_public_key"])
    assert (client.query("T1-I").state, client.query("T1-I").code) == (UNKNOWN, "isv.invalid-app-id")


# ---------------------------------------------------------------- cancel and refunds

def test_cancel_asked_again_while_retry_flag_is_y_then_a_paid_order_is_given_back(alipay_server):
    client = alipay_server.client()
    assert client.pay("T1-Y", INSTANT, 800, "x").state == PAID
    alipay_server.sim.cancel_retries = 2
    first, second, third = client.cancel("T1-Y"), client.cancel("T1-Y"), client.cancel("T1-Y")
    assert [(a.state, a.retry) for a in (first, second)] == [(UNKNOWN, True), (UNKNOWN, True)]
    assert (third.state, third.code, third.retry) == (CANCELLED, "refund", False)
    assert alipay_server.sim.orders["T1-Y"].refunded_fen() == 800


def test_refunds_full_or_partial_each_out_request_no_once_never_above_what_was_paid(alipay_server):
    client = alipay_server.client()
    client.pay("T1-P", INSTANT, 1000, "x")
    part = client.refund("T1-P", "R-1", 1000, 300)
    assert (part.state, part.amount_fen, part.out_refund_no) == (REFUNDED, 300, "R-1")
    again = client.refund("T1-P", "R-1", 1000, 300)  # fund_change=N: the client asks, it was refunded
    assert (again.state, again.amount_fen) == (REFUNDED, 300)
    assert alipay_server.sim.orders["T1-P"].refunded_fen() == 300
    too_much = client.refund("T1-P", "R-2", 1000, 800)
    assert (too_much.state, too_much.code) == (FAILED, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    assert client.refund("T1-P", "R-2", 1000, 700).state == REFUNDED
    assert alipay_server.sim.orders["T1-P"].refunded_fen() == 1000
    requested = [(r.method, r.out_request_no) for r in alipay_server.sim.requests if r.out_request_no]
    assert requested.count(("alipay.trade.refund", "R-1")) == 2


def test_a_full_refund_of_an_instant_order(alipay_server):
    client = alipay_server.client()
    client.pay("T1-FULL", INSTANT, 999999, "x")
    assert (client.refund("T1-FULL", "R-F", 999999, 999999).amount_fen) == 999999
    assert alipay_server.sim.orders["T1-FULL"].refunded_fen() == 999999


def test_the_refund_query_says_refunded_or_not_found(alipay_server):
    client = alipay_server.client()
    client.pay("T1-Q", INSTANT, 1000, "x")
    client.refund("T1-Q", "R-1", 1000, 250)
    found = client.refund_query("T1-Q", "R-1")
    assert (found.state, found.amount_fen, found.code) == (REFUNDED, 250, "REFUND_SUCCESS")
    missing = client.refund_query("T1-Q", "R-9")
    assert (missing.state, missing.code) == (UNKNOWN, alipay.REFUND_NOT_FOUND)


def test_a_refund_of_an_unpaid_order_is_refused(alipay_server):
    client = alipay_server.client()
    client.pay("T1-U", ERROR_UNPAID, 1000, "x")
    refused = client.refund("T1-U", "R-1", 1000, 1000)
    assert (refused.state, refused.code) == (FAILED, "ACQ.TRADE_STATUS_ERROR")


# ---------------------------------------------------------------- settings, gateways, keys

@pytest.mark.parametrize("gateway", ["http://example.com/gateway.do", "http://10.0.0.8/gateway.do",
                                     "ftp://127.0.0.1/gateway.do", "openapi.alipay.com/gateway.do", ""])
def test_a_gateway_not_https_is_refused_with_a_sentence(alipay_keys, gateway):
    with pytest.raises(ProviderError, match=r"gateway .* must be https://"):
        AlipayClient(gateway, "2021", alipay_keys["app_private_key"], alipay_keys["alipay_public_key"])


@pytest.mark.parametrize("gateway", ["http://127.0.0.1:8/gateway.do", "http://localhost/gateway.do",
                                     "http://[::1]:8/gateway.do", "https://openapi.alipay.com/gateway.do"])
def test_https_or_http_on_this_machine_is_accepted(alipay_keys, gateway):
    assert AlipayClient(gateway, "2021", alipay_keys["app_private_key"], alipay_keys["alipay_public_key"]).gateway


def test_a_key_file_others_may_read_is_refused_naming_the_file_never_its_content(alipay_keys, tmp_path):
    loose = tmp_path / "app_private_key.pem"
    loose.write_bytes(alipay_keys["app_private_key"].read_bytes())
    os.chmod(loose, 0o644)
    with pytest.raises(ProviderError) as caught:
        AlipayClient("https://openapi.alipay.com/gateway.do", "2021", loose, alipay_keys["alipay_public_key"])
    message = str(caught.value)
    assert str(loose) in message and "chmod 600" in message
    assert "PRIVATE" not in message and message.endswith(".")


def test_a_missing_or_garbled_key_file_is_one_sentence(alipay_keys, tmp_path):
    garbled = tmp_path / "garbled.pem"
    garbled.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    os.chmod(garbled, 0o600)
    for path in (tmp_path / "absent.pem", garbled):
        with pytest.raises(ProviderError, match=str(path)) as caught:
            AlipayClient("https://openapi.alipay.com/gateway.do", "2021", path, alipay_keys["alipay_public_key"])
        assert "not a key" not in str(caught.value)


def test_pkcs8_and_bare_base64_keys_as_alipays_tools_write_them(alipay_keys, tmp_path):
    from cryptography.hazmat.primitives import serialization

    private = alipay.load_private_key(alipay_keys["app_private_key"].read_bytes(), alipay_keys["app_private_key"])
    bare = tmp_path / "bare.txt"
    bare.write_bytes(b"".join(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()).splitlines()[1:-1]))
    os.chmod(bare, 0o600)
    public = tmp_path / "public.txt"
    public.write_bytes(b"".join(alipay_keys["alipay_public_key"].read_bytes().splitlines()[1:-1]))
    os.chmod(public, 0o600)
    assert AlipayClient("https://openapi.alipay.com/gateway.do", "2021", bare, public).app_id == "2021"


def test_from_settings_reads_the_payments_alipay_table(alipay_server):
    folder = alipay_server.keys["app_private_key"].parent
    client = AlipayClient.from_settings({
        "gateway": alipay_server.gateway, "app_id": sim_alipay.DEMO_APP_ID,
        "private_key_file": alipay_server.keys["app_private_key"].name,
        "alipay_public_key_file": str(alipay_server.keys["alipay_public_key"]), "timeout_seconds": 5,
    }, base=folder)
    assert (client.timeout_seconds, client.schedule.poll_seconds, client.schedule.wait_limit_seconds) == (5.0, 3.0, 60.0)
    assert client.pay("T1-ST", INSTANT, 100, "x").state == PAID
    with pytest.raises(ProviderError, match="private_key_file is not set"):
        AlipayClient.from_settings({"gateway": alipay_server.gateway, "app_id": "2021"})


def test_no_secret_in_any_log_line_or_answer(alipay_server, caplog):
    client = alipay_server.client()
    secrets = [INSTANT, CONFIRM_12, *[line.decode() for line in
                                       alipay_server.keys["app_private_key"].read_bytes().splitlines()[1:-1]]]
    with caplog.at_level(logging.DEBUG):
        answers = [client.pay("T1-L", INSTANT, 100, "x"), client.pay("T1-L2", CONFIRM_12, 100, "x"),
                   client.query("T1-L"), client.cancel("T1-L2"), client.refund("T1-L", "R-L", 100, 100),
                   client.refund_query("T1-L", "R-L")]
    told = caplog.text + repr(answers)
    assert "...3000" in caplog.text  # the last four digits are what the log keeps
    assert [secret for secret in secrets if secret in told] == []


def test_demo_keys_are_files_of_mode_0600_made_once(tmp_path):
    keys = sim_alipay.demo_keys(tmp_path / "keys")
    assert sorted(keys) == sorted(sim_alipay.KEY_NAMES)
    assert {oct(path.stat().st_mode & 0o777) for path in keys.values()} == {"0o600"}
    first = keys["app_private_key"].read_bytes()
    assert sim_alipay.demo_keys(tmp_path / "keys")["app_private_key"].read_bytes() == first


def test_the_simulator_refuses_an_unsigned_request(alipay_server):
    status, kind, body = alipay_server.sim.handle("POST", {"app_id": sim_alipay.DEMO_APP_ID,
                                                           "method": "alipay.trade.query",
                                                           "biz_content": '{"out_trade_no":"T1"}'})
    fields = answer_of(body, "alipay_trade_query_response")
    assert (status, fields["code"], fields["sub_code"]) == (200, "40001", "isv.missing-signature")
    assert b'"sign"' not in body
