"""The WeChat half of the local simulator: the five APIv2 付款码 paths, answered as WeChat Pay does.

Each request's signature is checked with the merchant's API key (a bad one: return_code FAIL, 签名错误),
its appid and mch_id too; answers are XML signed with the request's sign_type. What a payment does is
chosen by the code's last three digits (``scenarios.scenario_of``):

- any other ending: paid at once;  ``1NN``: USERPAYING, then paid NN s after the order;
- ``2NN``: USERPAYING for NN s, then PAYERROR 用户取消支付;  ``301``: NOTENOUGH 余额不足;
- ``302``: AUTHCODEEXPIRE 付款码已过期;  ``401``: SYSTEMERROR, but the order is paid (orderquery SUCCESS);
- ``402``: SYSTEMERROR, the order stays NOTPAY (reverse it);  ``403``: micropay never answers (the order
  stays NOTPAY);  ``5NN``: paid at once, and each refund stays PROCESSING for NN s (``scenarios.refund_seconds``).

Orders are kept by out_trade_no (the same one twice never charges twice: ORDERPAID), a code is spent
once (AUTH_CODE_INVALID), a reversed order is REVOKED, refunds are kept by out_refund_no (at most once,
never more than paid). ``requests`` records every request; ``clock`` (seconds) is injectable. Tests can
make it misbehave: ``wrong_signature``, ``other_order``, ``reverse_recalls``.
"""
from __future__ import annotations

import datetime
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from tui.services.payments import scenarios
from tui.services.payments.wechat import MD5, from_xml, sign, signed, to_xml

DEMO_APPID = "wx2421b1c4370ec43b"
DEMO_MCH_ID = "10000100"
MICROPAY_NEEDS = ("body", "out_trade_no", "total_fee", "spbill_create_ip", "auth_code")
PATHS = ("/pay/micropay", "/pay/orderquery", "/secapi/pay/reverse", "/secapi/pay/refund", "/pay/refundquery")

Reply = Dict[str, str]
Http = Tuple[int, str, bytes]


@dataclass(frozen=True)
class SimRequest:
    """One request the simulator got (``signed``: its signature checked)."""

    path: str
    out_trade_no: str
    out_refund_no: str
    at: float
    signed: bool


@dataclass
class Refund:
    out_refund_no: str
    refund_id: str
    fee: int
    made_at: float
    seconds: int                 # PROCESSING this long, then SUCCESS

    def status(self, now: float) -> str:
        return "SUCCESS" if now >= self.made_at + self.seconds else "PROCESSING"


@dataclass
class Order:
    out_trade_no: str
    auth_code: str
    total_fee: int
    scenario: scenarios.Scenario
    made_at: float
    state: str                   # trade_state: SUCCESS, REFUND, USERPAYING, NOTPAY, PAYERROR, REVOKED
    desc: str = ""
    transaction_id: str = ""
    time_end: str = ""
    charges: int = 0             # times the customer's money moved (a test asserts 1)
    refunds: Dict[str, Refund] = field(default_factory=dict)

    def refunded(self) -> int:
        return sum(refund.fee for refund in self.refunds.values())


# The first answer to micropay and the order's state after it, by scenario.
FIRST = {
    scenarios.INSTANT: ("SUCCESS", "", ""),
    scenarios.CONFIRMING: ("USERPAYING", "USERPAYING", "需要用户输入支付密码"),
    scenarios.DECLINE_CONFIRM: ("USERPAYING", "USERPAYING", "需要用户输入支付密码"),
    scenarios.BALANCE_LOW: ("PAYERROR", "NOTENOUGH", "余额不足"),
    scenarios.CODE_EXPIRED: ("PAYERROR", "AUTHCODEEXPIRE", "付款码已过期"),
    scenarios.ERROR_THEN_PAID: ("SUCCESS", "SYSTEMERROR", "系统超时"),
    scenarios.ERROR_NOT_PAID: ("NOTPAY", "SYSTEMERROR", "系统超时"),
    scenarios.NO_ANSWER: ("NOTPAY", "", ""),
}
DESCRIPTIONS = {"SUCCESS": "支付成功", "REFUND": "转入退款", "USERPAYING": "需要用户输入支付密码",
                "NOTPAY": "未支付", "REVOKED": "已撤销（付款码支付）"}
# micropay again for an out_trade_no already made: the answer, by the order's state.
AGAIN = {"SUCCESS": ("ORDERPAID", "订单已支付"), "REFUND": ("ORDERPAID", "订单已支付"),
         "REVOKED": ("ORDERREVERSED", "订单已撤销"), "PAYERROR": ("ORDERCLOSED", "订单已关闭"),
         "USERPAYING": ("USERPAYING", "需要用户输入支付密码"), "NOTPAY": ("OUT_TRADE_NO_USED", "商户订单号重复")}


def _ok(**fields: str) -> Reply:
    return {"result_code": "SUCCESS", **fields}


def _fail(code: str, description: str, **fields: str) -> Reply:
    return {"result_code": "FAIL", "err_code": code, "err_code_des": description, **fields}


class WeChatSimulator:
    """WeChat Pay APIv2 for one merchant. ``handle`` is called by the HTTP server, one thread per request."""

    def __init__(self, api_key: str, appid: str = DEMO_APPID, mch_id: str = DEMO_MCH_ID,
                 clock: Callable[[], float] = time.monotonic, hang_seconds: float = 30.0) -> None:
        self.appid, self.mch_id, self.clock, self.hang_seconds = appid, mch_id, clock, hang_seconds
        self._api_key = api_key
        self.requests: List[SimRequest] = []
        self.orders: Dict[str, Order] = {}
        self.wrong_signature = False     # sign answers with another key
        self.other_order = ""            # answers name this out_trade_no instead of the one asked
        self.reverse_recalls = 0         # answer this many reverses SYSTEMERROR recall=Y first
        self._spent: set = set()
        self._refund_orders: Dict[str, str] = {}   # out_refund_no -> out_trade_no
        self._serial = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def calls(self, path: str, out_trade_no: Optional[str] = None) -> List[SimRequest]:
        """The requests to ``path`` (for this order, when named)."""
        return [r for r in self.requests if r.path == path and out_trade_no in (None, r.out_trade_no)]

    def stop(self) -> None:
        """Let a hanging answer go (the server is stopping)."""
        self._stopping.set()

    def handle(self, path: str, body: bytes) -> Optional[Http]:
        """(status, content type, body) for one POST; None: close the connection without an answer."""
        if path not in PATHS:
            return 404, "text/plain; charset=utf-8", b"not a WeChat Pay APIv2 path"
        try:
            fields = from_xml(body)
        except ValueError:
            return self._link_fail("XML格式错误")
        sign_type = fields.get("sign_type") or MD5
        good = signed(fields, self._api_key, sign_type)
        with self._lock:
            self.requests.append(SimRequest(path, fields.get("out_trade_no", ""), fields.get("out_refund_no", ""),
                                            self.clock(), good))
        if not good:
            return self._link_fail("签名错误")
        if fields.get("appid") != self.appid or fields.get("mch_id") != self.mch_id:
            return self._link_fail("appid和mch_id不匹配")
        with self._lock:
            reply = self._answer(path, fields, self.clock())
        if reply is None:
            self._stopping.wait(self.hang_seconds)
            return None
        return self._signed(reply, sign_type)

    def _answer(self, path: str, fields: Reply, now: float) -> Optional[Reply]:
        handlers = {"/pay/micropay": self._micropay, "/pay/orderquery": self._orderquery,
                    "/secapi/pay/reverse": self._reverse, "/secapi/pay/refund": self._refund,
                    "/pay/refundquery": self._refundquery}
        return handlers[path](fields, now)

    def _link_fail(self, message: str) -> Http:
        return 200, "text/xml; charset=utf-8", to_xml({"return_code": "FAIL", "return_msg": message})

    def _signed(self, reply: Reply, sign_type: str) -> Http:
        message = {"return_code": "SUCCESS", "return_msg": "OK", "appid": self.appid, "mch_id": self.mch_id,
                   "nonce_str": uuid.uuid4().hex, **reply}
        if self.other_order and "out_trade_no" in message:
            message["out_trade_no"] = self.other_order
        key = self._api_key + ("x" if self.wrong_signature else "")
        message["sign"] = sign(message, key, sign_type)
        return 200, "text/xml; charset=utf-8", to_xml(message)

    # ------------------------------------------------------------ orders

    def _micropay(self, fields: Reply, now: float) -> Optional[Reply]:
        missing = [k for k in MICROPAY_NEEDS if not fields.get(k)]
        if missing:
            return _fail("LACK_PARAMS", f"缺少参数{missing[0]}")
        fee = fields["total_fee"]
        if not fee.isdigit() or int(fee) <= 0:
            return _fail("PARAM_ERROR", "total_fee 应为正整数（分）")
        order = self.orders.get(fields["out_trade_no"])
        if order is not None:
            self._settle(order, now)
            return _fail(*AGAIN.get(order.state, ("ORDERCLOSED", "订单已关闭")))
        code = fields["auth_code"]
        if code in self._spent:
            return _fail("AUTH_CODE_INVALID", "付款码已使用，请顾客刷新后再出示")
        self._spent.add(code)
        scenario = scenarios.scenario_of(code)
        state, err_code, description = FIRST[scenario.kind]
        order = Order(fields["out_trade_no"], code, int(fee), scenario, now, state, description)
        self.orders[order.out_trade_no] = order
        if state == "SUCCESS":
            self._pay(order)
        if scenario.kind == scenarios.NO_ANSWER:
            return None
        return _fail(err_code, description) if err_code else _ok(**self._paid_fields(order))

    def _settle(self, order: Order, now: float) -> None:
        """The customer's phone has had its say once the scenario's seconds have passed."""
        if order.state == "USERPAYING" and now >= order.made_at + order.scenario.seconds:
            if order.scenario.kind == scenarios.CONFIRMING:
                self._pay(order)
            else:
                order.state, order.desc = "PAYERROR", "用户取消支付"

    def _pay(self, order: Order) -> None:
        self._serial += 1
        today = datetime.datetime.now()
        order.state, order.charges = "SUCCESS", order.charges + 1
        order.transaction_id = f"420000{self._serial:04d}{today:%Y%m%d}{random.randrange(10 ** 10):010d}"
        order.time_end = f"{today:%Y%m%d%H%M%S}"

    def _paid_fields(self, order: Order) -> Reply:
        return {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "is_subscribe": "N", "trade_type": "MICROPAY",
                "bank_type": "OTHERS", "fee_type": "CNY", "total_fee": str(order.total_fee), "cash_fee_type": "CNY",
                "cash_fee": str(order.total_fee), "transaction_id": order.transaction_id,
                "out_trade_no": order.out_trade_no, "time_end": order.time_end}

    def _find(self, fields: Reply) -> Optional[Order]:
        if fields.get("out_trade_no"):
            return self.orders.get(fields["out_trade_no"])
        wanted = fields.get("transaction_id", "")
        return next((o for o in self.orders.values() if wanted and o.transaction_id == wanted), None)

    def _orderquery(self, fields: Reply, now: float) -> Reply:
        order = self._find(fields)
        if order is None:
            return _fail("ORDERNOTEXIST", "此交易订单号不存在")
        self._settle(order, now)
        reply = {"out_trade_no": order.out_trade_no, "trade_state": order.state,
                 "trade_state_desc": order.desc if order.state == "PAYERROR" else DESCRIPTIONS.get(order.state, "")}
        if order.state in ("SUCCESS", "REFUND"):
            reply.update(self._paid_fields(order))
        return _ok(**reply)

    def _reverse(self, fields: Reply, now: float) -> Reply:
        order = self._find(fields)
        if order is None:
            return _fail("ORDERNOTEXIST", "订单不存在", recall="N")
        if self.reverse_recalls > 0:
            self.reverse_recalls -= 1
            return _fail("SYSTEMERROR", "系统繁忙，请重新调用撤销", recall="Y")
        self._settle(order, now)
        if order.state == "REFUND":
            return _fail("TRADE_ERROR", "订单已发生退款，不能撤销", recall="N")
        order.state, order.desc = "REVOKED", DESCRIPTIONS["REVOKED"]   # a paid order gets its money back
        return _ok(recall="N")

    # ------------------------------------------------------------ refunds

    def _refund(self, fields: Reply, now: float) -> Reply:
        wrong = [k for k in ("total_fee", "refund_fee") if not fields.get(k, "").isdigit()]
        if not fields.get("out_refund_no") or wrong:
            return _fail("PARAM_ERROR", f"{(wrong or ['out_refund_no'])[0]} 格式错误")
        order = self._find(fields)
        if order is None:
            return _fail("ORDERNOTEXIST", "订单不存在")
        self._settle(order, now)
        number, fee = fields["out_refund_no"], int(fields["refund_fee"])
        if self._refund_orders.get(number, order.out_trade_no) != order.out_trade_no:
            return _fail("ERROR", "退款单号已用于另一笔订单")
        if number in order.refunds:
            if order.refunds[number].fee != fee:
                return _fail("PARAM_ERROR", "同一退款单号的退款金额不一致")
            return _ok(**self._refund_fields(order, order.refunds[number]))
        problem = self._refund_problem(order, int(fields["total_fee"]), fee)
        if problem:
            return _fail(*problem)
        self._serial += 1
        refund_id = f"5030{self._serial:05d}{datetime.datetime.now():%Y%m%d}{random.randrange(10 ** 12):012d}"
        refund = Refund(number, refund_id, fee, now, scenarios.refund_seconds(order.auth_code))
        order.refunds[number], self._refund_orders[number], order.state = refund, order.out_trade_no, "REFUND"
        return _ok(**self._refund_fields(order, refund))

    def _refund_problem(self, order: Order, total: int, fee: int) -> Optional[Tuple[str, str]]:
        if order.state not in ("SUCCESS", "REFUND"):
            return "ERROR", "订单未支付或已撤销，不能退款"
        if total != order.total_fee:
            return "PARAM_ERROR", "订单金额与原订单不符"
        if fee <= 0 or order.refunded() + fee > order.total_fee:
            return "ERROR", "退款金额超过订单可退金额"
        return None

    def _refund_fields(self, order: Order, refund: Refund) -> Reply:
        return {"transaction_id": order.transaction_id, "out_trade_no": order.out_trade_no,
                "out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id, "refund_fee": str(refund.fee),
                "total_fee": str(order.total_fee), "cash_fee": str(order.total_fee),
                "cash_refund_fee": str(refund.fee)}

    def _refundquery(self, fields: Reply, now: float) -> Reply:
        number = fields.get("out_refund_no", "")
        if number:  # by its number: that refund alone
            order = self.orders.get(self._refund_orders.get(number, ""))
            refunds = [order.refunds[number]] if order else []
        else:  # by the order: all its refunds
            order = self._find(fields)
            refunds = list(order.refunds.values()) if order else []
        if order is None or not refunds:
            return _fail("REFUNDNOTEXIST", "退款订单查询失败")
        reply = {"transaction_id": order.transaction_id, "out_trade_no": order.out_trade_no,
                 "total_fee": str(order.total_fee), "cash_fee": str(order.total_fee),
                 "refund_count": str(len(refunds))}
        for n, refund in enumerate(refunds):
            status = refund.status(now)
            reply.update({f"out_refund_no_{n}": refund.out_refund_no, f"refund_id_{n}": refund.refund_id,
                          f"refund_fee_{n}": str(refund.fee), f"refund_status_{n}": status,
                          f"refund_channel_{n}": "ORIGINAL", f"refund_recv_accout_{n}": "支付用户零钱"})
        return _ok(**reply)
