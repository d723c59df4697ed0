"""WeChat Pay APIv2 付款码支付: the real client (``pay/micropay``, ``pay/orderquery``, ``secapi/pay/reverse``,
``secapi/pay/refund``, ``pay/refundquery``), XML signed with the merchant's API key (MD5 or HMAC-SHA256).

Written on the standard library, not wechatpy: wechatpy raises on every result that is not SUCCESS (the
two layers and err_code come back as an exception), never checks the signature of an API answer (only of
notifications), logs each request's fields at debug (the whole auth_code) and pulls in requests,
xmltodict, optionaldict and cryptography at import. What we need is a few hundred lines on http.client,
xml.etree, hmac and ssl, with our base_url, our timeout and our client certificate.

Every answer is read on two layers: ``return_code`` (the link; FAIL is never a business refusal, so
UNKNOWN) then ``result_code`` and ``err_code`` (the business). An answer whose signature does not check,
that names another merchant or another order, or that does not come at all is UNKNOWN, never PAID.
Reasons are the provider's own sentence (err_code_des); ``code`` says what happened for the log and the UI
(the provider's err_code or trade_state, or one of the link codes below). Import this module lazily, on
the worker that charges.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import ssl
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

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
from tui.services.payments.secrets import check_private, read_secret

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com"
MD5, HMAC_SHA256 = "MD5", "HMAC-SHA256"
DEFAULT_TIMEOUT = 8.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

#: The documents' schedule (付款码支付 最佳实践): query every 5-10 s up to 45 s from the order; reverse
#: no sooner than 15 s after it; after SYSTEMERROR wait 5 s, then query.
SCHEDULE = Schedule(poll_seconds=5, wait_limit_seconds=45, cancel_after_seconds=15, retry_seconds=5)

# Link codes (Answer.code) for what happened before any business answer: all UNKNOWN.
NO_ANSWER = "NO_ANSWER"          # timeout, refused connection, connection closed
BAD_ANSWER = "BAD_ANSWER"        # not HTTP 200, not the XML the API sends
BAD_SIGNATURE = "BAD_SIGNATURE"  # the answer's sign does not check with our API key
OTHER_MERCHANT = "OTHER_MERCHANT"  # the answer names another appid or mch_id
OTHER_ORDER = "OTHER_ORDER"      # the answer names another out_trade_no / out_refund_no, or another amount

# micropay err_code that refuse the order for good: nothing was charged.
REFUSALS = frozenset({
    "NOTENOUGH", "AUTHCODEEXPIRE", "AUTH_CODE_INVALID", "AUTH_CODE_ERROR", "NOTSUPORTCARD", "NOAUTH",
    "BUYER_MISMATCH", "TRADE_ERROR", "ORDERCLOSED", "PARAM_ERROR", "INVALID_REQUEST", "LACK_PARAMS",
    "XML_FORMAT_ERROR", "REQUIRE_POST_METHOD", "SIGNERROR", "NOT_UTF8", "APPID_NOT_EXIST", "MCHID_NOT_EXIST",
    "APPID_MCHID_NOT_MATCH",
})
# orderquery trade_state -> our state (SUCCESS and REFUND are read apart: paid, with its number).
TRADE_STATES = {"USERPAYING": WAITING, "NOTPAY": UNKNOWN, "ACCEPT": UNKNOWN, "CLOSED": FAILED,
                "REVOKED": CANCELLED, "PAYERROR": FAILED}
# refund err_code the documents say to send again with the same parameters.
REFUND_RETRY = frozenset({"SYSTEMERROR", "BIZERR_NEED_RETRY", "FREQUENCY_LIMITED", "INVALID_REQ_TOO_MUCH"})
REFUND_STATES = {"SUCCESS": REFUNDED, "PROCESSING": PENDING, "CHANGE": FAILED, "REFUNDCLOSE": FAILED}


# ---------------------------------------------------------------- the wire: signature and XML

def sign(fields: Mapping[str, str], api_key: str, sign_type: str = MD5) -> str:
    """The APIv2 signature: non-empty fields but ``sign``, sorted, ``k=v&...&key=API_KEY``, uppercase hex."""
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v != "" and k != "sign")
    text += f"&key={api_key}"
    if sign_type == HMAC_SHA256:
        return hmac.new(api_key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text.encode()).hexdigest().upper()


def signed(fields: Mapping[str, str], api_key: str, sign_type: str = MD5) -> bool:
    """True when ``fields`` carry a ``sign`` that checks with ``api_key``."""
    given = fields.get("sign", "")
    return bool(given) and hmac.compare_digest(given, sign(fields, api_key, sign_type))


def to_xml(fields: Mapping[str, str]) -> bytes:
    """``<xml><k>v</k>...</xml>`` in UTF-8, as the API takes it."""
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>".encode("utf-8")


def from_xml(body: bytes) -> Dict[str, str]:
    """The fields of an APIv2 XML message; ValueError for anything else (a DOCTYPE included: no XXE)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise ValueError("a DOCTYPE in the message")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError("not XML") from exc
    if root.tag != "xml":
        raise ValueError("not an APIv2 message")
    return {child.tag: child.text or "" for child in root}  # as sent: the signature covers the exact text


def check_base_url(url: str) -> str:
    """``url`` without its trailing slash when it is https, or http on this machine; else ProviderError."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname and _port_ok(parts.netloc):
        return url.strip().rstrip("/")
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS and _port_ok(parts.netloc):
        return url.strip().rstrip("/")
    raise BadSetting("base_url", f"the setting [payments.wechat] base_url must be https:// "
                                 f"(http:// only for this machine), not {url!r}")


def _port_ok(netloc: str) -> bool:
    """A port that is a number 0-65535, or none (urlsplit raises only when asked for it)."""
    try:
        port = urlsplit(f"//{netloc}").port
    except ValueError:
        return False
    return port is None or port > 0


class BadSetting(ProviderError):
    """A ``[payments.wechat]`` setting that cannot be used; ``setting`` names it."""

    def __init__(self, setting: str, sentence: str) -> None:
        super().__init__(sentence)
        self.setting = setting


class _Unclear(Exception):
    """Inside the client only: the answer could not be read as the business's (a link code, a reason)."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(code)
        self.code, self.reason = code, reason


# ---------------------------------------------------------------- the client

class WeChatPay:
    """WeChat Pay APIv2 付款码支付 for one merchant (``appid``, ``mch_id``). Blocking: call from a worker."""

    name = "wechat"
    schedule = SCHEDULE

    def __init__(self, base_url: str, appid: str, mch_id: str, api_key: str, sign_type: str = MD5,
                 cert_file: Optional[Path] = None, cert_key_file: Optional[Path] = None,
                 timeout: float = DEFAULT_TIMEOUT, client_ip: str = "127.0.0.1",
                 ca_file: Optional[Path] = None) -> None:
        self.base_url = check_base_url(base_url)
        for setting, value in (("appid", appid), ("mch_id", mch_id), ("api_key_file", api_key)):
            if not value:
                raise BadSetting(setting, f"the setting [payments.wechat] {setting} is empty")
        if sign_type not in (MD5, HMAC_SHA256):
            raise BadSetting("sign_type", f"the setting [payments.wechat] sign_type must be {MD5!r} or "
                                          f"{HMAC_SHA256!r}, not {sign_type!r}")
        if not timeout > 0:
            raise BadSetting("timeout", "the setting [payments.wechat] timeout must be more than 0 seconds")
        self.appid, self.mch_id, self.sign_type = appid, mch_id, sign_type
        self.timeout, self.client_ip = float(timeout), client_ip
        self._api_key = api_key
        self._context = self._tls_context(cert_file, cert_key_file, ca_file)

    @classmethod
    def from_settings(cls, section: Any) -> "WeChatPay":
        """Built from the ``[payments.wechat]`` section (attributes or a mapping): base_url, appid, mch_id,
        api_key_file, sign_type, cert_file, cert_key_file, timeout, ca_file (optional)."""
        def get(name: str, default: Any = "") -> Any:
            value = section.get(name, default) if isinstance(section, Mapping) else getattr(section, name, default)
            return default if value is None else value

        key_file = str(get("api_key_file"))
        if not key_file:
            raise BadSetting("api_key_file", "the setting [payments.wechat] api_key_file is empty")
        try:
            timeout = float(get("timeout", DEFAULT_TIMEOUT))
        except (TypeError, ValueError):
            raise BadSetting("timeout", "the setting [payments.wechat] timeout must be a number of seconds") from None
        def path(name: str) -> Optional[Path]:
            return Path(str(get(name))) if get(name) else None

        return cls(str(get("base_url", DEFAULT_BASE_URL) or DEFAULT_BASE_URL), str(get("appid")), str(get("mch_id")),
                   read_secret(Path(key_file)), str(get("sign_type", MD5) or MD5), path("cert_file"),
                   path("cert_key_file"), timeout, ca_file=path("ca_file"))

    def __repr__(self) -> str:
        return f"WeChatPay({self.base_url!r}, appid={self.appid!r}, mch_id={self.mch_id!r})"

    def _tls_context(self, cert_file: Optional[Path], cert_key_file: Optional[Path],
                     ca_file: Optional[Path]) -> Optional[ssl.SSLContext]:
        """TLS with the merchant's certificate, shown when the server asks (the secapi calls: reverse, refund);
        the server checked against the system's CAs (or ``ca_file``). None over http to this machine."""
        if not self.base_url.startswith("https:"):
            return None
        if not cert_file or not cert_key_file:
            raise BadSetting("cert_file", "the settings [payments.wechat] cert_file and cert_key_file are needed: "
                                          "reverse and refund ask for the merchant's certificate")
        check_private(Path(cert_key_file).expanduser())
        try:
            context = ssl.create_default_context(cafile=str(Path(ca_file).expanduser()) if ca_file else None)
            context.load_cert_chain(str(Path(cert_file).expanduser()), str(Path(cert_key_file).expanduser()))
        except (OSError, ssl.SSLError):
            files = f"the certificate {cert_file} and its key {cert_key_file}" + (f" (or {ca_file})" if ca_file else "")
            raise BadSetting("cert_file", f"{files} cannot be loaded") from None
        return context

    # ------------------------------------------------------------ the five calls

    def pay(self, out_trade_no: str, auth_code: str, amount_fen: int, subject: str) -> Answer:
        """``pay/micropay``: charge the payment code; ORDERPAID (already paid) is answered by a query."""
        fields = {"body": _cut(subject or "-", 128), "out_trade_no": out_trade_no, "total_fee": str(amount_fen),
                  "spbill_create_ip": self.client_ip, "auth_code": auth_code}
        try:
            reply = self._post("pay/micropay", fields)
            answer = self._pay_answer(reply, out_trade_no, amount_fen)
        except _Unclear as unclear:
            answer = Answer(UNKNOWN, out_trade_no, code=unclear.code, reason=unclear.reason)
        log.info("wechat pay %s code …%s %s fen: %s %s", out_trade_no, last4(auth_code), amount_fen,
                 answer.state, answer.code)
        if answer.code == "ORDERPAID":  # paid before: by this very order? the query says, and for how much
            known = self.query(out_trade_no)
            if known.state == PAID and known.amount_fen != amount_fen:
                return Answer(UNKNOWN, out_trade_no, code=OTHER_ORDER, reason="微信支付回复的金额与订单不符")
            return known
        return answer

    def _pay_answer(self, reply: Dict[str, str], out_trade_no: str, amount_fen: int) -> Answer:
        if reply.get("result_code") == "SUCCESS":
            return _paid(reply, out_trade_no, amount_fen)
        code, reason = reply.get("err_code", ""), reply.get("err_code_des", "")
        if code == "USERPAYING":
            state = WAITING
        elif code == "ORDERREVERSED":
            state = CANCELLED
        elif code in REFUSALS:
            state = FAILED
        else:  # SYSTEMERROR, BANKERROR, ORDERPAID, OUT_TRADE_NO_USED, what we do not know: ask
            state = UNKNOWN
        return Answer(state, out_trade_no, code=code, reason=reason)

    def query(self, out_trade_no: str) -> Answer:
        """``pay/orderquery``: only trade_state SUCCESS (or REFUND: paid, then refunded) is PAID."""
        try:
            reply = self._post("pay/orderquery", {"out_trade_no": out_trade_no})
            answer = self._query_answer(reply, out_trade_no)
        except _Unclear as unclear:
            answer = Answer(UNKNOWN, out_trade_no, code=unclear.code, reason=unclear.reason)
        log.info("wechat query %s: %s %s", out_trade_no, answer.state, answer.code)
        return answer

    def _query_answer(self, reply: Dict[str, str], out_trade_no: str) -> Answer:
        if reply.get("result_code") != "SUCCESS":  # ORDERNOTEXIST, SYSTEMERROR: not known yet
            return Answer(UNKNOWN, out_trade_no, code=reply.get("err_code", ""), reason=reply.get("err_code_des", ""))
        state = reply.get("trade_state", "")
        if state in ("SUCCESS", "REFUND"):
            return _paid(reply, out_trade_no, None, code=state)
        return Answer(TRADE_STATES.get(state, UNKNOWN), out_trade_no, code=state,
                      reason=reply.get("trade_state_desc", ""))

    def cancel(self, out_trade_no: str) -> Answer:
        """``secapi/pay/reverse``: CANCELLED, or UNKNOWN with ``retry`` while the answer says recall=Y."""
        try:
            reply = self._post("secapi/pay/reverse", {"out_trade_no": out_trade_no})
            recall = reply.get("recall") == "Y"
            if reply.get("result_code") == "SUCCESS" and not recall:
                answer = Answer(CANCELLED, out_trade_no, code="SUCCESS")
            else:
                answer = Answer(UNKNOWN, out_trade_no, code=reply.get("err_code", "") or "RECALL",
                                reason=reply.get("err_code_des", ""), retry=recall)
        except _Unclear as unclear:  # no answer: the documents say reverse again
            answer = Answer(UNKNOWN, out_trade_no, code=unclear.code, reason=unclear.reason, retry=True)
        log.info("wechat reverse %s: %s %s retry=%s", out_trade_no, answer.state, answer.code, answer.retry)
        return answer

    def refund(self, out_trade_no: str, out_refund_no: str, total_fen: int, refund_fen: int,
               reason: str = "") -> RefundAnswer:
        """``secapi/pay/refund``: accepted is PENDING until ``pay/refundquery`` says SUCCESS."""
        fields = {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no, "total_fee": str(total_fen),
                  "refund_fee": str(refund_fen), "refund_desc": _cut(reason, 80)}
        try:
            reply = self._post("secapi/pay/refund", fields)
            answer = _refund_answer(reply, out_refund_no, refund_fen)
        except _Unclear as unclear:
            answer = RefundAnswer(UNKNOWN, out_refund_no, code=unclear.code, reason=unclear.reason)
        log.info("wechat refund %s %s %s fen: %s %s", out_trade_no, out_refund_no, refund_fen, answer.state,
                 answer.code)
        if answer.state != PENDING:
            return answer
        known = self.refund_query(out_trade_no, out_refund_no)
        return known if known.state in (REFUNDED, FAILED) else answer

    def refund_query(self, out_trade_no: str, out_refund_no: str) -> RefundAnswer:
        """``pay/refundquery`` by ``out_refund_no``: SUCCESS is REFUNDED, PROCESSING PENDING."""
        try:
            reply = self._post("pay/refundquery", {"out_refund_no": out_refund_no},
                               expect={"out_trade_no": out_trade_no})
            answer = _refund_query_answer(reply, out_refund_no)
        except _Unclear as unclear:
            answer = RefundAnswer(UNKNOWN, out_refund_no, code=unclear.code, reason=unclear.reason)
        log.info("wechat refund query %s %s: %s %s", out_trade_no, out_refund_no, answer.state, answer.code)
        return answer

    # ------------------------------------------------------------ one request

    def _post(self, path: str, fields: Dict[str, str], expect: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Send ``fields`` signed; the answer's fields once it is known to be the provider's, for this
        merchant and this order (return_code SUCCESS, signature checked). Raises _Unclear otherwise."""
        message = {"appid": self.appid, "mch_id": self.mch_id, "nonce_str": uuid.uuid4().hex,
                   "sign_type": self.sign_type, **{k: v for k, v in fields.items() if v != ""}}
        message["sign"] = sign(message, self._api_key, self.sign_type)
        reply = self._exchange(path, to_xml(message))
        if reply.get("return_code") != "SUCCESS":
            raise _Unclear(reply.get("return_code") or BAD_ANSWER, _cut(reply.get("return_msg", ""), 120))
        if not signed(reply, self._api_key, self.sign_type):
            raise _Unclear(BAD_SIGNATURE, "微信支付的回复签名不对")
        if reply.get("appid") != self.appid or reply.get("mch_id") != self.mch_id:
            raise _Unclear(OTHER_MERCHANT, "微信支付的回复属于另一个商户")
        wanted = expect if expect is not None else {k: fields[k] for k in ("out_trade_no", "out_refund_no")
                                                    if k in fields}
        for key, value in wanted.items():
            if reply.get(key, value) != value:
                raise _Unclear(OTHER_ORDER, "微信支付的回复属于另一笔订单")
        return reply

    def _exchange(self, path: str, body: bytes) -> Dict[str, str]:
        """One HTTP POST of ``body``; the answer's fields (not yet checked). Raises _Unclear."""
        parts = urlsplit(self.base_url)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=self.timeout,
                                                     context=self._context)
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            connection.request("POST", f"{parts.path}/{path}", body=body,
                               headers={"Content-Type": "text/xml; charset=utf-8"})
            response = connection.getresponse()
            status, content = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _Unclear(NO_ANSWER, f"微信支付没有回复（{type(exc).__name__}）") from None
        finally:
            connection.close()
        if status != 200:
            raise _Unclear(BAD_ANSWER, f"微信支付回复了 HTTP {status}")
        try:
            return from_xml(content)
        except ValueError:
            raise _Unclear(BAD_ANSWER, "微信支付的回复读不懂") from None


# ---------------------------------------------------------------- reading answers

def _paid(reply: Dict[str, str], out_trade_no: str, amount_fen: Optional[int], code: str = "SUCCESS") -> Answer:
    """PAID when the answer names this order, a transaction number and (when we know it) our amount."""
    total = reply.get("total_fee", "")
    if reply.get("out_trade_no") != out_trade_no or not reply.get("transaction_id") or not total.isdigit():
        raise _Unclear(OTHER_ORDER, "微信支付的成功回复缺少订单号、交易单号或金额")
    if amount_fen is not None and int(total) != amount_fen:
        raise _Unclear(OTHER_ORDER, "微信支付回复的金额与订单不符")
    return Answer(PAID, out_trade_no, transaction_id=reply["transaction_id"], amount_fen=int(total), code=code)


def _refund_answer(reply: Dict[str, str], out_refund_no: str, refund_fen: int) -> RefundAnswer:
    if reply.get("result_code") == "SUCCESS":
        if reply.get("out_refund_no") != out_refund_no or not reply.get("refund_id"):
            raise _Unclear(OTHER_ORDER, "微信支付的退款回复缺少退款单号")
        return RefundAnswer(PENDING, out_refund_no, refund_id=reply["refund_id"], amount_fen=refund_fen,
                            code="ACCEPTED")
    code, reason = reply.get("err_code", ""), reply.get("err_code_des", "")
    return RefundAnswer(UNKNOWN if code in REFUND_RETRY or not code else FAILED, out_refund_no, code=code,
                        reason=reason)


def _refund_query_answer(reply: Dict[str, str], out_refund_no: str) -> RefundAnswer:
    if reply.get("result_code") != "SUCCESS":  # REFUNDNOTEXIST: never arrived; send it again, same number
        return RefundAnswer(UNKNOWN, out_refund_no, code=reply.get("err_code", ""),
                            reason=reply.get("err_code_des", ""))
    count = int(reply.get("refund_count", "0")) if reply.get("refund_count", "0").isdigit() else 0
    for n in range(count):
        if reply.get(f"out_refund_no_{n}") == out_refund_no:
            status = reply.get(f"refund_status_{n}", "")
            fee = reply.get(f"refund_fee_{n}", "")
            return RefundAnswer(REFUND_STATES.get(status, UNKNOWN), out_refund_no,
                                refund_id=reply.get(f"refund_id_{n}", ""),
                                amount_fen=int(fee) if fee.isdigit() else 0, code=status)
    raise _Unclear(OTHER_ORDER, "微信支付的回复里没有这笔退款")


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")
