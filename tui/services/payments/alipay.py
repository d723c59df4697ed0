"""Alipay 当面付 条码支付: the real client. ``alipay.trade.pay`` scene ``bar_code``, ``alipay.trade.query``,
``alipay.trade.cancel``, ``alipay.trade.refund`` and ``alipay.trade.fastpay.refund.query``, RSA2 both ways.

Why the standard library and ``cryptography``, not python-alipay-sdk (2025): the SDK knows only Alipay's two
gateways, sends the payment code in a GET URL, raises with the whole answer in the exception, finds the
signed text by counting braces (a brace in a string breaks it) and brings pycryptodomex and pyOpenSSL. Here:
our gateway, a timeout per request, the signed substring cut by json's own scanner, and ``cryptography``
loaded only when a client is built (on a worker), never at till start.

Decisions the documents leave to us:
- A query that says ACQ.TRADE_NOT_EXIST is UNKNOWN, never FAILED: the pay may still be on its way. The
  schedule polls, then cancels (Alipay: "撤销一定要紧接着最后一次查询"); a cancel that finds no trade is
  CANCELLED (nothing to give back), and the schedule never cancels before the pay's own timeout is over.
- ACQ.TRADE_HAS_SUCCESS on pay means this out_trade_no is paid already: the client queries at once.
- A repeated refund with the same out_request_no answers fund_change=N: the client queries the refund.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from store.money import AmountError, format_yuan, parse_yuan
from tui.services.payments.provider import (
    CANCELLED,
    FAILED,
    PAID,
    PENDING,
    REFUNDED,
    UNKNOWN,
    WAITING,
    Answer,
    ProviderError,
    RefundAnswer,
    Schedule,
    last4,
)
from tui.services.payments.secrets import read_secret_bytes

log = logging.getLogger(__name__)

NAME = "alipay"
DEFAULT_TIMEOUT_SECONDS = 15.0
#: Alipay 当面付: poll trade.query every 3-6 s for about 60 s, then cancel right after the last query.
#: The first query follows a system error after one poll interval.
POLL_SECONDS, WAIT_LIMIT_SECONDS = 3.0, 60.0

SUCCESS, WAITING_CODE, SYSTEM_ERROR, BUSINESS_FAILED = "10000", "10003", "20000", "40004"
#: The gateway refused the request's signature (our app key does not match what Alipay holds for the app).
INVALID_SIGNATURE = "isv.invalid-signature"
#: Our codes (Answer.code) for answers Alipay did not give: no answer at all, or one that does not check.
NO_ANSWER, BAD_SIGNATURE, OTHER_ORDER, BAD_ANSWER = "no_answer", "bad_signature", "other_order", "bad_answer"
REFUND_NOT_FOUND = "refund_not_found"

#: sub_codes that leave the order unclear whatever the code says: ask again. (TRADE_BUYER_NOT_MATCH: this
#: out_trade_no is an order of another payment code, whose state only a query tells.)
_UNCLEAR = {"ACQ.SYSTEM_ERROR", "aop.ACQ.SYSTEM_ERROR", "isp.unknow-error", "ACQ.TRADE_HAS_SUCCESS",
            "ACQ.TRADE_BUYER_NOT_MATCH"}
#: The provider's reasons in one plain sentence, for the sub_codes a cashier meets; others use sub_msg.
_REASONS = {
    "ACQ.BUYER_BALANCE_NOT_ENOUGH": "余额不足",
    "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH": "银行卡余额不足",
    "ACQ.PAYMENT_AUTH_CODE_INVALID": "付款码已过期，请顾客刷新付款码",
    "ACQ.TRADE_HAS_CLOSE": "交易已关闭",
    "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR": "顾客当日付款额度已用完",
    "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR": "顾客当月付款额度已用完",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": "商户支付宝账户余额不足，无法退款",
    INVALID_SIGNATURE: "支付宝拒绝了本机的签名：应用私钥与支付宝登记的应用公钥不符",
    "isv.invalid-app-id": "支付宝不认识这个 app_id",
    "TRADE_CLOSED": "交易已关闭",
}
_GATEWAY_CODE = re.compile(r"isv\.[a-z-]{1,40}")
_WS = re.compile(r"[ \t\r\n]*")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_CHINA = timezone(timedelta(hours=8))  # the gateway reads timestamp as Beijing time


def load_private_key(data: bytes, path: Path) -> Any:
    """An RSA private key from PEM (PKCS#1 or PKCS#8) or the bare base64 Alipay's key tool writes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(base64.b64decode(data), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProviderError(f"The key file {path} holds no unencrypted RSA private key (PEM).")
    return key


def load_public_key(data: bytes, path: Path) -> Any:
    """An RSA public key from PEM or the bare base64 Alipay's console shows."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = serialization.load_der_public_key(base64.b64decode(data))
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ProviderError(f"The key file {path} holds no RSA public key (PEM).")
    return key


def content_to_sign(params: Mapping[str, str]) -> str:
    """Alipay's signed text of a request: every non-empty parameter but ``sign``, sorted, ``k=v`` joined by &."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")


def rsa2_sign(private_key: Any, text: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5) of the UTF-8 text, base64."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_key: Any, text: str, sign: str) -> bool:
    """Whether ``sign`` is SHA256withRSA of the UTF-8 text by the holder of ``public_key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        public_key.verify(base64.b64decode(sign, validate=True), text.encode("utf-8"), padding.PKCS1v15(),
                          hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def top_level_spans(body: str) -> Dict[str, Tuple[int, int]]:
    """Each top-level key of a JSON object -> (start, end) of its value's text exactly as sent.

    Alipay signs the ``*_response`` value's text as it is in the answer, so that text is cut here with
    json's own scanner, never re-serialised. ValueError for anything but one JSON object.
    """
    decoder = json.JSONDecoder()
    spans: Dict[str, Tuple[int, int]] = {}
    i = _skip(body, 0)
    if body[i:i + 1] != "{":
        raise ValueError("not a JSON object")
    i = _skip(body, i + 1)
    if body[i:i + 1] == "}":
        return spans
    while True:
        key, i = decoder.raw_decode(body, i)
        i = _skip(body, i)
        if not isinstance(key, str) or body[i:i + 1] != ":":
            raise ValueError("not a key and a colon")
        start = _skip(body, i + 1)
        _, end = decoder.raw_decode(body, start)
        spans[key] = (start, end)
        i = _skip(body, end)
        if body[i:i + 1] == "}":
            return spans
        if body[i:i + 1] != ",":
            raise ValueError("no comma between members")
        i = _skip(body, i + 1)


def _skip(body: str, i: int) -> int:
    return _WS.match(body, i).end()  # type: ignore[union-attr]  # (matches the empty string)


def check_gateway(gateway: str) -> str:
    """The gateway URL: https, or http:// on this machine only (the simulator). ProviderError otherwise."""
    parts = urllib.parse.urlsplit(gateway)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return gateway
    if parts.scheme == "http" and _is_local(host):
        return gateway
    raise ProviderError(f"[payments.alipay] gateway {gateway!r} must be https:// (http:// only for this machine).")


def _is_local(host: str) -> bool:
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(fields: Mapping[str, Any]) -> str:
    """One plain sentence for a refusal: ours for the codes a cashier meets, else the first of sub_msg."""
    code = str(fields.get("sub_code") or fields.get("trade_status") or "")
    if code in _REASONS:
        return _REASONS[code]
    text = str(fields.get("sub_msg") or fields.get("msg") or "")
    # Cut at the first full stop, bracket or colon: Alipay's invalid-signature sub_msg goes on, after a
    # colon, with the text it checked (the payment code in it).
    return re.split(r"[。\[:：]", text, maxsplit=1)[0].strip()[:60]


def _fen(text: Any) -> int:
    """Alipay's yuan amount ("20.00") as fen; 0 when absent or malformed."""
    try:
        return parse_yuan(str(text)) if text not in (None, "") else 0
    except AmountError:
        return 0


class AlipayClient:
    """The Alipay provider (``Provider``). Blocking: call from a worker. Never raises once built."""

    name = NAME

    def __init__(self, gateway: str, app_id: str, private_key_file: Path, alipay_public_key_file: Path,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, schedule: Optional[Schedule] = None) -> None:
        self.gateway = check_gateway(gateway)
        if not app_id:
            raise ProviderError("[payments.alipay] app_id is empty.")
        if not timeout_seconds > 0:
            raise ProviderError("[payments.alipay] timeout_seconds must be above 0.")
        self.app_id = app_id
        self.timeout_seconds = float(timeout_seconds)
        private_key_file, alipay_public_key_file = Path(private_key_file), Path(alipay_public_key_file)
        self._private_key = load_private_key(read_secret_bytes(private_key_file), private_key_file)
        self._alipay_key = load_public_key(read_secret_bytes(alipay_public_key_file), alipay_public_key_file)
        # Never cancel while our own pay may still be on the wire: not before its timeout is over.
        self.schedule = schedule or Schedule(poll_seconds=POLL_SECONDS, wait_limit_seconds=WAIT_LIMIT_SECONDS,
                                             cancel_after_seconds=self.timeout_seconds, retry_seconds=POLL_SECONDS)
        self._cancelled: set = set()  # out_trade_nos we cancelled: their TRADE_CLOSED reads CANCELLED
        local = _is_local((urllib.parse.urlsplit(self.gateway).hostname or "").lower())
        # The simulator on this machine is never reached through a proxy named in the environment.
        self._opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if local else []))

    @classmethod
    def from_settings(cls, section: Mapping[str, Any], base: Optional[Path] = None) -> "AlipayClient":
        """Built from the ``[payments.alipay]`` table; relative key files are read from ``base``."""
        def path(name: str) -> Path:
            value = str(section.get(name) or "")
            if not value:
                raise ProviderError(f"[payments.alipay] {name} is not set.")
            return Path(value) if base is None or Path(value).is_absolute() else base / value

        try:
            timeout = float(section.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        except (TypeError, ValueError):
            raise ProviderError("[payments.alipay] timeout_seconds must be a number of seconds.") from None
        return cls(str(section.get("gateway") or ""), str(section.get("app_id") or ""), path("private_key_file"),
                   path("alipay_public_key_file"), timeout_seconds=timeout)

    # ------------------------------------------------------------ the five calls

    def pay(self, out_trade_no: str, auth_code: str, amount_fen: int, subject: str) -> Answer:
        fields = self._call("alipay.trade.pay", {
            "out_trade_no": out_trade_no, "scene": "bar_code", "auth_code": auth_code,
            "total_amount": format_yuan(int(amount_fen)), "subject": subject[:256] or out_trade_no,
        }, note=f"code ...{last4(auth_code)}")
        if isinstance(fields, Answer):
            return self._settle(out_trade_no, fields)
        code, sub_code = str(fields.get("code", "")), str(fields.get("sub_code", ""))
        if sub_code == "ACQ.TRADE_HAS_SUCCESS":
            return self.query(out_trade_no)
        if code == SUCCESS:
            return self._paid(out_trade_no, fields)
        if code == WAITING_CODE:
            return self._order_answer(out_trade_no, fields, WAITING, WAITING_CODE)
        return self._settle(out_trade_no, self._refusal(out_trade_no, fields))

    def query(self, out_trade_no: str) -> Answer:
        fields = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if isinstance(fields, Answer):
            return self._settle(out_trade_no, fields)
        if str(fields.get("code", "")) != SUCCESS:
            # ACQ.TRADE_NOT_EXIST included: the pay may not have landed yet (see the module's decisions).
            return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=_sub_code(fields),
                                                     reason=_reason(fields)))
        status = str(fields.get("trade_status", ""))
        if status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            return self._paid(out_trade_no, fields)
        if status == "WAIT_BUYER_PAY":
            return self._order_answer(out_trade_no, fields, WAITING, status)
        if status == "TRADE_CLOSED":
            closed = CANCELLED if out_trade_no in self._cancelled else FAILED
            return self._order_answer(out_trade_no, fields, closed, status, _reason(fields))
        return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=status or BAD_ANSWER))

    def cancel(self, out_trade_no: str) -> Answer:
        fields = self._call("alipay.trade.cancel", {"out_trade_no": out_trade_no})
        if isinstance(fields, Answer):
            return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=fields.code, reason=fields.reason,
                                                     retry=fields.code == NO_ANSWER))
        code, sub_code = str(fields.get("code", "")), str(fields.get("sub_code", ""))
        if str(fields.get("retry_flag", "")).upper() == "Y" or code == SYSTEM_ERROR:
            return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=sub_code or code,
                                                     reason=_reason(fields), retry=True))
        if code == SUCCESS or sub_code == "ACQ.TRADE_NOT_EXIST":
            self._cancelled.add(out_trade_no)
            return self._order_answer(out_trade_no, fields, CANCELLED, str(fields.get("action") or sub_code))
        # Not cancelled (too late to cancel, refunded already, ...): the order is whatever a query says.
        return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=sub_code or code,
                                                 reason=_reason(fields)))

    def refund(self, out_trade_no: str, out_refund_no: str, total_fen: int, refund_fen: int,
               reason: str = "") -> RefundAnswer:
        biz = {"out_trade_no": out_trade_no, "out_request_no": out_refund_no,
               "refund_amount": format_yuan(int(refund_fen))}
        if reason:
            biz["refund_reason"] = reason[:256]
        fields = self._call("alipay.trade.refund", biz)
        if isinstance(fields, Answer):
            return RefundAnswer(UNKNOWN, out_refund_no, code=fields.code, reason=fields.reason)
        if str(fields.get("out_trade_no", out_trade_no)) != out_trade_no:
            return RefundAnswer(UNKNOWN, out_refund_no, code=OTHER_ORDER)
        code, sub_code = str(fields.get("code", "")), str(fields.get("sub_code", ""))
        if code == SUCCESS and str(fields.get("fund_change", "")).upper() == "Y":
            return RefundAnswer(REFUNDED, out_refund_no, refund_id=str(fields.get("trade_no", "")),
                                amount_fen=int(refund_fen), code="fund_change=Y")
        if code == SUCCESS:
            return self.refund_query(out_trade_no, out_refund_no)  # fund_change=N: done before, or not yet
        if code == BUSINESS_FAILED and sub_code not in _UNCLEAR:
            return RefundAnswer(FAILED, out_refund_no, code=sub_code, reason=_reason(fields))
        return RefundAnswer(UNKNOWN, out_refund_no, code=sub_code or code, reason=_reason(fields))

    def refund_query(self, out_trade_no: str, out_refund_no: str) -> RefundAnswer:
        fields = self._call("alipay.trade.fastpay.refund.query",
                            {"out_trade_no": out_trade_no, "out_request_no": out_refund_no})
        if isinstance(fields, Answer):
            return RefundAnswer(UNKNOWN, out_refund_no, code=fields.code, reason=fields.reason)
        if (str(fields.get("out_trade_no", out_trade_no)) != out_trade_no
                or str(fields.get("out_request_no", out_refund_no)) != out_refund_no):
            return RefundAnswer(UNKNOWN, out_refund_no, code=OTHER_ORDER)
        if str(fields.get("code", "")) != SUCCESS:
            return RefundAnswer(UNKNOWN, out_refund_no, code=_sub_code(fields), reason=_reason(fields))
        status = str(fields.get("refund_status", ""))
        # The documents: refund data in the answer with refund_status empty or REFUND_SUCCESS is refunded;
        # no refund data means not refunded (yet): ask again, or refund again with the same out_request_no.
        if fields.get("refund_amount") not in (None, "") and status in ("", "REFUND_SUCCESS"):
            return RefundAnswer(REFUNDED, out_refund_no, refund_id=str(fields.get("trade_no", "")),
                                amount_fen=_fen(fields.get("refund_amount")), code=status or "refund_amount")
        if status:
            return RefundAnswer(PENDING, out_refund_no, code=status)
        return RefundAnswer(UNKNOWN, out_refund_no, code=REFUND_NOT_FOUND)

    # ------------------------------------------------------------ answers

    def _paid(self, out_trade_no: str, fields: Mapping[str, Any]) -> Answer:
        if not fields.get("trade_no"):
            return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=BAD_ANSWER))
        return self._order_answer(out_trade_no, fields, PAID, str(fields.get("trade_status") or "10000"))

    def _order_answer(self, out_trade_no: str, fields: Mapping[str, Any], state: str, code: str,
                      reason: str = "") -> Answer:
        """An answer about an order, only when it names ours: an answer naming another one is UNKNOWN."""
        named = str(fields.get("out_trade_no", ""))
        if named != out_trade_no and (named or state == PAID):
            log.warning("alipay: an answer for order %s named another order", out_trade_no)
            return self._settle(out_trade_no, Answer(UNKNOWN, out_trade_no, code=OTHER_ORDER))
        return self._settle(out_trade_no, Answer(state, out_trade_no, transaction_id=str(fields.get("trade_no", "")),
                                                 amount_fen=_fen(fields.get("total_amount")), code=code,
                                                 reason=reason))

    def _refusal(self, out_trade_no: str, fields: Mapping[str, Any]) -> Answer:
        """A pay that was not paid: FAILED when the answer says so for good, else UNKNOWN."""
        code, sub_code = str(fields.get("code", "")), str(fields.get("sub_code", ""))
        named = str(fields.get("out_trade_no", "") or out_trade_no)
        if named != out_trade_no:
            return Answer(UNKNOWN, out_trade_no, code=OTHER_ORDER)
        refused = code.startswith("400") and sub_code not in _UNCLEAR
        return Answer(FAILED if refused else UNKNOWN, out_trade_no, code=sub_code or code, reason=_reason(fields))

    def _settle(self, out_trade_no: str, answer: Answer) -> Answer:
        log.info("alipay: order %s -> %s (%s)", out_trade_no, answer.state, answer.code)
        return answer

    # ------------------------------------------------------------ the wire

    def _call(self, method: str, biz: Dict[str, str], note: str = "") -> Union[Dict[str, Any], Answer]:
        """The verified ``*_response`` fields of one request, or an UNKNOWN Answer saying why there are none."""
        out_trade_no = biz.get("out_trade_no", "")
        params = {"app_id": self.app_id, "method": method, "charset": "utf-8", "sign_type": "RSA2",
                  "timestamp": datetime.now(_CHINA).strftime("%Y-%m-%d %H:%M:%S"), "version": "1.0",
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        params["sign"] = rsa2_sign(self._private_key, content_to_sign(params))
        request = urllib.request.Request(self.gateway, data=urllib.parse.urlencode(params).encode("utf-8"),
                                         headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        log.info("alipay: %s order %s %s", method, out_trade_no, note)
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as reply:
                body = reply.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return Answer(UNKNOWN, out_trade_no, code=f"http_{exc.code}")
        except (OSError, UnicodeDecodeError) as exc:  # URLError, timeouts, refused, reset
            log.warning("alipay: %s order %s: no answer (%s)", method, out_trade_no, type(exc).__name__)
            return Answer(UNKNOWN, out_trade_no, code=NO_ANSWER)
        return self._verified(method, out_trade_no, body)

    def _verified(self, method: str, out_trade_no: str, body: str) -> Union[Dict[str, Any], Answer]:
        """The fields read from the very text whose signature checks; an UNKNOWN Answer for anything else."""
        try:
            spans = top_level_spans(body)
            key = method.replace(".", "_") + "_response"
            key = key if key in spans else "error_response"
            start, end = spans[key]
            fields = json.loads(body[start:end])
            sign = json.loads(body[slice(*spans["sign"])]) if "sign" in spans else ""
        except (ValueError, KeyError):
            return Answer(UNKNOWN, out_trade_no, code=BAD_ANSWER)
        if not isinstance(fields, dict):
            return Answer(UNKNOWN, out_trade_no, code=BAD_ANSWER)
        if not rsa2_verify(self._alipay_key, body[start:end], str(sign)):
            # Not signed by Alipay: it settles nothing. The gateway's refusals of the request itself (our
            # signature, our app_id) come unsigned: their isv.* code is named, for the log and the cashier.
            claimed = str(fields.get("sub_code", ""))
            gateway = not sign and _GATEWAY_CODE.fullmatch(claimed) is not None
            log.warning("alipay: %s order %s: an answer that does not check (%s)", method, out_trade_no,
                        claimed if gateway else "signature")
            return Answer(UNKNOWN, out_trade_no, code=claimed if gateway else BAD_SIGNATURE,
                          reason=_REASONS.get(claimed, "") if gateway else "")
        return fields


def _sub_code(fields: Mapping[str, Any]) -> str:
    return str(fields.get("sub_code") or fields.get("code") or BAD_ANSWER)
