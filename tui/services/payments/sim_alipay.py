"""The Alipay half of the local simulator: ``/gateway.do`` answered as Alipay answers it, for the demo and tests.

It checks each request as the gateway does (app_id, RSA2 signature with the app's public key) and answers
JSON signed with the simulated Alipay private key; what happens to an order follows the payment code
(``scenarios.scenario_of``). Orders are kept by out_trade_no: an order is charged once, a payment code is
spent once, a cancel closes an unpaid order or gives a paid one back, a refund (by out_request_no) is made
at most once and never above what was paid. Every request is recorded in ``requests`` for the tests.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from store.money import AmountError, format_yuan, parse_yuan
from tui.services.payments import scenarios
from tui.services.payments.alipay import load_private_key, load_public_key, rsa2_sign, rsa2_verify

DEMO_APP_ID = "2021000000000001"
JSON = "application/json;charset=utf-8"
_WAIT, _SUCCESS, _CLOSED = "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_CLOSED"
_METHODS = ("alipay.trade.pay", "alipay.trade.query", "alipay.trade.cancel", "alipay.trade.refund",
            "alipay.trade.fastpay.refund.query")


@dataclass(frozen=True)
class Request:
    """One request the simulator received, as the tests read it."""

    method: str              # the API method: alipay.trade.pay, ...
    out_trade_no: str
    out_request_no: str
    at: float                # the simulator's clock


@dataclass
class _Order:
    out_trade_no: str
    auth_code: str
    amount_fen: int
    scenario: scenarios.Scenario
    made: float
    trade_no: str
    closed: bool = False                                   # refused, cancelled or refunded in full
    refunds: Dict[str, int] = field(default_factory=dict)  # out_request_no -> fen
    cancels: int = 0

    def paid_at(self) -> Optional[float]:
        if self.scenario.kind in (scenarios.INSTANT, scenarios.ERROR_THEN_PAID):
            return self.made
        if self.scenario.kind == scenarios.CONFIRMING:
            return self.made + self.scenario.seconds
        return None

    def status(self, now: float) -> str:
        paid_at = self.paid_at()
        if self.closed:
            return _CLOSED
        if paid_at is not None and now >= paid_at:
            return _SUCCESS
        if self.scenario.kind == scenarios.DECLINE_CONFIRM and now >= self.made + self.scenario.seconds:
            return _CLOSED
        return _WAIT

    def refunded_fen(self) -> int:
        return sum(self.refunds.values())


class AlipaySimulator:
    """Alipay's gateway for one app. ``handle`` answers one ``/gateway.do`` request (thread-safe)."""

    def __init__(self, app_id: str, app_public_key_pem: bytes, alipay_private_key_pem: bytes,
                 clock: Callable[[], float] = time.monotonic, no_answer_seconds: float = 30.0) -> None:
        self.app_id = app_id
        self._app_key = load_public_key(app_public_key_pem, Path("app public key"))
        self._alipay_key = load_private_key(alipay_private_key_pem, Path("alipay private key"))
        self.clock = clock
        self.no_answer_seconds = no_answer_seconds  # NO_ANSWER: how long the answer hangs
        self.cancel_retries = 0                     # the first N cancels of each order answer retry_flag=Y
        self.requests: List[Request] = []
        self.orders: Dict[str, _Order] = {}
        self._spent: Dict[str, str] = {}            # auth_code -> the out_trade_no that spent it
        self._closed_unknown: set = set()           # out_trade_nos cancelled before any pay arrived
        self._count = 0
        self._lock = threading.Lock()

    @classmethod
    def from_key_files(cls, keys: Dict[str, Path], app_id: str = DEMO_APP_ID,
                       clock: Callable[[], float] = time.monotonic, no_answer_seconds: float = 30.0
                       ) -> "AlipaySimulator":
        """Built from ``demo_keys(folder)``."""
        return cls(app_id, keys["app_public_key"].read_bytes(), keys["alipay_private_key"].read_bytes(),
                   clock=clock, no_answer_seconds=no_answer_seconds)

    # ------------------------------------------------------------ the gateway

    def handle(self, method: str, form: Dict[str, str]) -> Tuple[int, str, bytes]:
        """(HTTP status, content type, body) for one request to /gateway.do; ``form`` as parsed."""
        if method not in ("GET", "POST"):
            return 405, "text/plain;charset=utf-8", b"method not allowed"
        api = form.get("method", "")
        key = api.replace(".", "_") + "_response" if api in _METHODS else "error_response"
        try:
            biz = json.loads(form.get("biz_content") or "{}")
        except ValueError:
            biz = None
        biz = biz if isinstance(biz, dict) else None
        with self._lock:
            self.requests.append(Request(api, str((biz or {}).get("out_trade_no", "")),
                                         str((biz or {}).get("out_request_no", "")), self.clock()))
        refused = self._gateway_refusal(form, api, biz)
        if refused is not None:
            return 200, JSON, self._body(key, refused, signed=False)
        assert biz is not None
        hangs = scenarios.scenario_of(str(biz.get("auth_code", ""))).kind == scenarios.NO_ANSWER
        if api == "alipay.trade.pay" and hangs:
            time.sleep(self.no_answer_seconds)  # past the client's timeout; the pay never lands
            return 200, JSON, self._body(key, _error("20000", "Service Currently Unavailable", "ACQ.SYSTEM_ERROR",
                                                     "系统异常"))
        handler = {"alipay.trade.pay": self._pay, "alipay.trade.query": self._query,
                   "alipay.trade.cancel": self._cancel, "alipay.trade.refund": self._refund,
                   "alipay.trade.fastpay.refund.query": self._refund_query}[api]
        with self._lock:
            return 200, JSON, self._body(key, handler(biz))

    def _gateway_refusal(self, form: Dict[str, str], api: str, biz: Optional[dict]) -> Optional[dict]:
        """What the gateway answers (unsigned) before any trade is looked at, or None when the request passes."""
        if not form.get("sign"):
            return _error("40001", "Missing Required Arguments", "isv.missing-signature", "缺少签名参数")
        if form.get("app_id") != self.app_id:
            return _error("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if form.get("sign_type") != "RSA2":
            return _error("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
        content = "&".join(f"{k}={v}" for k, v in sorted(form.items()) if k != "sign" and v != "")
        if not rsa2_verify(self._app_key, content, form["sign"]):
            # As Alipay does, the refusal quotes the text it checked.
            return _error("40002", "Invalid Arguments", "isv.invalid-signature", _BAD_SIGN + content)
        if api not in _METHODS:
            return _error("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")
        if biz is None or not biz.get("out_trade_no"):
            return _error("40002", "Invalid Arguments", "isv.invalid-parameter", "参数无效")
        return None

    def _body(self, key: str, fields: dict, signed: bool = True) -> bytes:
        """The answer as Alipay sends it: the response object's text, and the signature of that very text."""
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        sign = f',"sign":"{rsa2_sign(self._alipay_key, text)}"' if signed else ""
        return f'{{"{key}":{text}{sign}}}'.encode("utf-8")

    # ------------------------------------------------------------ the trades (under the lock)

    def _pay(self, biz: dict) -> dict:
        out_trade_no, auth_code = str(biz["out_trade_no"]), str(biz.get("auth_code", ""))
        amount_fen = _fen(biz.get("total_amount"))
        if biz.get("scene") != "bar_code" or not auth_code.isdigit() or amount_fen <= 0:
            return _failed("ACQ.INVALID_PARAMETER", "参数无效")
        if out_trade_no in self._closed_unknown:
            return _failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭", out_trade_no)
        order = self.orders.get(out_trade_no)
        if order is not None:
            return self._pay_again(order, auth_code)
        if auth_code in self._spent:
            return _failed("ACQ.PAYMENT_AUTH_CODE_INVALID", _EXPIRED)
        scenario = scenarios.scenario_of(auth_code)
        if scenario.kind == scenarios.CODE_EXPIRED:
            return _failed("ACQ.PAYMENT_AUTH_CODE_INVALID", _EXPIRED)
        self._spent[auth_code] = out_trade_no
        self._count += 1
        trade_no = time.strftime("%Y%m%d") + "22001" + f"{400000000000000 + self._count:015d}"
        order = self.orders[out_trade_no] = _Order(out_trade_no, auth_code, amount_fen, scenario, self.clock(),
                                                    trade_no)
        if scenario.kind == scenarios.BALANCE_LOW:
            order.closed = True
            return _failed("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")
        if scenario.kind in (scenarios.ERROR_THEN_PAID, scenarios.ERROR_NOT_PAID):
            return _error("20000", "Service Currently Unavailable", "ACQ.SYSTEM_ERROR", "系统异常")
        if order.status(self.clock()) == _SUCCESS:
            return {**_ok(), **self._trade(order), "gmt_payment": _now_text()}
        return {"code": "10003", "msg": " order success pay inprocess", **self._trade(order)}

    def _pay_again(self, order: _Order, auth_code: str) -> dict:
        """The same out_trade_no once more: never a second charge."""
        status = order.status(self.clock())
        if status == _SUCCESS:
            return _failed("ACQ.TRADE_HAS_SUCCESS", "交易已被支付", order.out_trade_no)
        if status == _CLOSED:
            return _failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭", order.out_trade_no)
        if auth_code != order.auth_code:
            return _failed("ACQ.TRADE_BUYER_NOT_MATCH", "交易买家不匹配", order.out_trade_no)
        return {"code": "10003", "msg": " order success pay inprocess", **self._trade(order)}

    def _query(self, biz: dict) -> dict:
        order = self.orders.get(str(biz["out_trade_no"]))
        if order is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return {**_ok(), **self._trade(order), "trade_status": order.status(self.clock())}

    def _cancel(self, biz: dict) -> dict:
        out_trade_no = str(biz["out_trade_no"])
        order = self.orders.get(out_trade_no)
        if order is None:
            self._closed_unknown.add(out_trade_no)  # a pay that lands later is refused
            return {**_ok(), "out_trade_no": out_trade_no, "retry_flag": "N", "action": "close"}
        order.cancels += 1
        if order.cancels <= self.cancel_retries:
            return {**_failed("ACQ.SYSTEM_ERROR", "系统异常", out_trade_no), "retry_flag": "Y"}
        action = "refund" if order.status(self.clock()) == _SUCCESS else "close"
        if action == "refund":
            order.refunds["(cancel)"] = order.amount_fen - order.refunded_fen()
        order.closed = True
        return {**_ok(), "out_trade_no": out_trade_no, "trade_no": order.trade_no, "retry_flag": "N",
                "action": action}

    def _refund(self, biz: dict) -> dict:
        out_trade_no, out_request_no = str(biz["out_trade_no"]), str(biz.get("out_request_no") or biz["out_trade_no"])
        order = self.orders.get(out_trade_no)
        if order is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if out_request_no in order.refunds:  # the same refund asked again: no money moves this time
            return {**self._refund_answer(order), "fund_change": "N"}
        if order.status(self.clock()) != _SUCCESS:
            return _failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法", out_trade_no)
        refund_fen = _fen(biz.get("refund_amount"))
        if refund_fen <= 0:
            return _failed("ACQ.INVALID_PARAMETER", "参数无效", out_trade_no)
        if refund_fen > order.amount_fen - order.refunded_fen():
            return _failed("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限", out_trade_no)
        order.refunds[out_request_no] = refund_fen
        order.closed = order.refunded_fen() == order.amount_fen  # refunded in full: TRADE_CLOSED
        return {**self._refund_answer(order), "fund_change": "Y"}

    def _refund_query(self, biz: dict) -> dict:
        order = self.orders.get(str(biz["out_trade_no"]))
        if order is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        out_request_no = str(biz.get("out_request_no") or biz["out_trade_no"])
        if out_request_no not in order.refunds:
            return _ok()  # as Alipay: success, and no refund data
        return {**_ok(), **self._trade(order), "out_request_no": out_request_no,
                "refund_amount": format_yuan(order.refunds[out_request_no]), "refund_status": "REFUND_SUCCESS"}

    def _trade(self, order: _Order) -> dict:
        return {"trade_no": order.trade_no, "out_trade_no": order.out_trade_no, "buyer_logon_id": "159****5620",
                "total_amount": format_yuan(order.amount_fen)}

    def _refund_answer(self, order: _Order) -> dict:
        return {**_ok(), **self._trade(order), "refund_fee": format_yuan(order.refunded_fen()),
                "gmt_refund_pay": _now_text()}


_EXPIRED = ("支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款，如再次收款失败，请联系管理员处理。"
            "[SOUNDWAVE_PARSER_FAIL]")
_BAD_SIGN = "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："


def _ok() -> dict:
    return {"code": "10000", "msg": "Success"}


def _error(code: str, msg: str, sub_code: str, sub_msg: str) -> dict:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _failed(sub_code: str, sub_msg: str, out_trade_no: str = "") -> dict:
    answer = _error("40004", "Business Failed", sub_code, sub_msg)
    return {**answer, "out_trade_no": out_trade_no} if out_trade_no else answer


def _fen(text: object) -> int:
    try:
        return parse_yuan(str(text))
    except AmountError:
        return 0


def _now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


# ---------------------------------------------------------------- keys for the demo and the tests

KEY_NAMES = ("app_private_key", "app_public_key", "alipay_private_key", "alipay_public_key")


def demo_keys(folder: Path) -> Dict[str, Path]:
    """An app key pair and a simulated Alipay key pair as PEM files of mode 0600 in ``folder`` (made once:
    files already there are kept). The app's private key is PKCS#1, Alipay's PKCS#8, so both forms are met."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = Path(folder)
    paths = {name: folder / f"alipay_{name}.pem" for name in KEY_NAMES}
    if all(path.is_file() for path in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    for owner, form in (("app", serialization.PrivateFormat.TraditionalOpenSSL),
                        ("alipay", serialization.PrivateFormat.PKCS8)):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_0600(paths[f"{owner}_private_key"], key.private_bytes(
            serialization.Encoding.PEM, form, serialization.NoEncryption()))
        _write_0600(paths[f"{owner}_public_key"], key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return paths


def _write_0600(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)
