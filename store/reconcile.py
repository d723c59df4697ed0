"""Reconciliation with the payment providers: the WeChat Pay and Alipay merchant bills against the till.

A bill is the file the merchant platform exports for one day:

- WeChat Pay's 交易账单: a header row (交易时间, 公众账号ID, 商户号, ..., 微信订单号,
  商户订单号, ..., 交易状态, ..., 应结订单金额, ..., 退款金额, ..., 订单金额,
  申请退款金额, 费率备注), one row per payment or refund with every value
  prefixed by a backtick (so Excel keeps long numbers), then two summary rows
  (总交易单数,应结订单总金额,... and their values). 交易状态 SUCCESS is a payment,
  REFUND a refund, REVOKED a payment taken back at once (a payment and its refund).
- Alipay's 业务明细: ``#`` comment lines, a header row (支付宝交易号, 商户订单号,
  业务类型, 商品名称, 创建时间, 完成时间, ..., 订单金额（元）, 商家实收（元）, ...,
  退款批次号/请求号, ...), one row per 交易 or 退款 (a refund's amounts are
  negative), then ``#`` lines again with the totals.

Either may be GBK or UTF-8 (with or without a BOM). Columns are found by their
header names, so older and newer variants (总金额 for 应结订单金额, half-width
brackets, a backtick on the header too) read the same; amounts go from yuan
text to integer fen through ``money.parse_yuan``, never through a float.

Matching, per provider and per direction (money in: a sale's payment; money
back: a refund's or void's payment):

0. by transaction number, for the payments the till charged itself (no
   typed reference needed): a sale's payment by the provider's transaction
   number (微信订单号 / 支付宝交易号) or the till's order number (商户订单号),
   a refund's by its refund number (商户退款单号 / 退款批次号/请求号, or WeChat's
   微信退款单号). A match with different amounts is an amount difference.
1. by reference, where the cashier typed one: the typed text equals one of the
   row's numbers (微信订单号 / 商户订单号, 支付宝交易号 / 商户订单号, or a refund's
   own numbers), or, when it is at least 4 characters long, is the end of one
   (cashiers type the last digits shown on the customer's phone); the nearest
   in time wins. A reference match with different amounts is an amount difference.
2. the rest by amount within a time window (default ±10 minutes): equal
   amounts, nearest time first, each bill row matched at most once. A typed
   reference that matches no row falls back to this (a typo is no money lost).

What is left is listed: bill transactions with no sale, sales whose mobile
payment is not on the bill, and refunds on one side only.
"""
from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from store import money
from store.errors import StoreError

WECHAT, ALIPAY = "wechat", "alipay"
PROVIDERS = (WECHAT, ALIPAY)
NAMES = {WECHAT: "WeChat Pay", ALIPAY: "Alipay"}
_A_BILL = {WECHAT: "a WeChat Pay bill", ALIPAY: "an Alipay bill"}
PAYMENT, REFUND = "payment", "refund"

#: A typed reference at least this long may be the end of the provider's number.
MIN_SUFFIX = 4
DEFAULT_WINDOW = datetime.timedelta(minutes=10)

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M",
                 "%Y-%m-%dT%H:%M:%S")


class BillError(StoreError, ValueError):
    """A file that is not a bill of the provider, or a bill that cannot be read: one sentence."""


def _cell(text: Any) -> str:
    """A bill's cell as its words: full-width forms made ASCII (NFKC), the backtick and blanks (tabs too) off."""
    return money.typed(str(text or "")).strip().lstrip("`").strip()


def _names(*names: str) -> Tuple[str, ...]:
    return tuple(_cell(name) for name in names)


# Header names, in the form _cell gives them (（元） becomes (元)); the first found of each tuple is used.
_WECHAT = {
    "time": _names("交易时间"),
    "status": _names("交易状态"),
    "transaction": _names("微信订单号"),
    "order": _names("商户订单号"),
    "refund_id": _names("微信退款单号"),
    "refund_order": _names("商户退款单号"),
    # what the customer was charged: 订单金额 (newer bills); 总金额 (before 2018-11); 应结订单金额 last,
    # since it leaves out vouchers WeChat pays for (免充值券), which the till charged as any other fen
    "amount": _names("订单金额", "总金额", "应结订单金额"),
    "refund_amount": _names("申请退款金额", "退款金额"),
}
_WECHAT_REQUIRED = ("time", "status", "amount")
_WECHAT_SUMMARY = _cell("总交易单数")
_WECHAT_STATUS = {"SUCCESS": (PAYMENT,), "支付成功": (PAYMENT,), "REFUND": (REFUND,), "转入退款": (REFUND,),
                  "退款": (REFUND,), "REVOKED": (PAYMENT, REFUND), "已撤销": (PAYMENT, REFUND)}

_ALIPAY = {
    "transaction": _names("支付宝交易号"),
    "order": _names("商户订单号"),
    "type": _names("业务类型"),
    "time": _names("完成时间", "创建时间"),
    "amount": _names("订单金额（元）", "商家实收（元）"),
    "received": _names("商家实收（元）"),
    "refund_no": _names("退款批次号/请求号"),
}
_ALIPAY_REQUIRED = ("type", "time", "amount")
_ALIPAY_TYPES = {"交易": PAYMENT, "退款": REFUND}


@dataclass(frozen=True)
class BillRow:
    """One transaction on a provider's bill; amounts positive, ``kind`` says which way the money went."""

    provider: str
    line: int                      # line of the file, for people
    at: datetime.datetime
    kind: str                      # PAYMENT | REFUND
    amount_fen: int
    numbers: Dict[str, str]        # transaction, order (and refund_id / refund_order / refund_no): as on the bill

    def as_dict(self) -> Dict[str, Any]:
        return {"provider": self.provider, "line": self.line, "time": self.at.isoformat(sep=" "),
                "kind": self.kind, "amount_fen": self.amount_fen, "amount": money.format_yuan(self.amount_fen),
                **{name: value for name, value in self.numbers.items() if value}}


@dataclass(frozen=True)
class Bill:
    provider: str
    encoding: str
    rows: List[BillRow]


@dataclass(frozen=True)
class TillPayment:
    """A mobile payment of a document on the till: a sale's (money in) or a refund's or void's (money back)."""

    payment_id: int
    till_id: str
    receipt_no: int
    document: str                  # sale | refund | void
    at: datetime.datetime
    provider: str                  # the payment method: wechat | alipay
    amount_fen: int
    reference: str
    out_trade_no: str = ""         # charged by the till: its order number (the reference is the transaction number)
    out_refund_no: str = ""        # a refund the till asked of the provider: its refund number
    refund_id: str = ""            # ... and the provider's

    @property
    def kind(self) -> str:
        return PAYMENT if self.document == "sale" else REFUND

    @property
    def receipt(self) -> str:
        from store.numbering import format_receipt_no

        return format_receipt_no(self.till_id, self.receipt_no)

    def as_dict(self) -> Dict[str, Any]:
        return {"receipt": self.receipt, "till_id": self.till_id, "receipt_no": self.receipt_no,
                "document": self.document, "kind": self.kind, "time": self.at.isoformat(sep=" "),
                "method": self.provider, "amount_fen": self.amount_fen, "amount": money.format_yuan(self.amount_fen),
                "reference": self.reference, "out_trade_no": self.out_trade_no, "out_refund_no": self.out_refund_no}


@dataclass(frozen=True)
class Match:
    bill: BillRow
    till: TillPayment
    by: str                        # "transaction" | "reference" | "time"

    def as_dict(self) -> Dict[str, Any]:
        return {"by": self.by, "bill": self.bill.as_dict(), "till": self.till.as_dict(),
                "difference_fen": self.bill.amount_fen - self.till.amount_fen}


@dataclass
class Result:
    """What the reconciliation found; ``ok`` when every transaction on each side has its match."""

    matched: List[Match] = field(default_factory=list)
    amount_differences: List[Match] = field(default_factory=list)
    bill_only: List[BillRow] = field(default_factory=list)          # bill payments with no sale
    till_only: List[TillPayment] = field(default_factory=list)      # sale payments not on the bill
    refunds_bill_only: List[BillRow] = field(default_factory=list)
    refunds_till_only: List[TillPayment] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.amount_differences or self.bill_only or self.till_only
                    or self.refunds_bill_only or self.refunds_till_only)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "ok": self.ok,
            "matched": [m.as_dict() for m in self.matched],
            "bill_only": [r.as_dict() for r in self.bill_only],
            "till_only": [p.as_dict() for p in self.till_only],
            "amount_differences": [m.as_dict() for m in self.amount_differences],
            "refunds_bill_only": [r.as_dict() for r in self.refunds_bill_only],
            "refunds_till_only": [p.as_dict() for p in self.refunds_till_only],
        }


# ---------------------------------------------------------------- reading a bill

def read_bill(data: bytes, provider: str, name: str = "the file") -> Bill:
    """The transactions of a merchant bill file of ``provider``; BillError (one sentence) if it is none."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}")
    if b"\x00" in data[:65536]:
        raise BillError(f"{name} is not {_A_BILL[provider]}: it is not a text file.", "bill_not_text",
                        file=name, provider=provider)
    from store.catalogue import CatalogueError, decode

    try:
        text, encoding = decode(data)
    except CatalogueError as exc:
        raise BillError(f"{name} is not {_A_BILL[provider]}: {exc}.", "bill_not_text", file=name,
                        provider=provider) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BillError(f"{name} is not a readable CSV file ({exc}).", "bill_not_csv", file=name,
                        provider=provider) from None
    header_at, columns = _find_header(rows, provider)
    if header_at is None:
        other = next((p for p in PROVIDERS if p != provider and _find_header(rows, p)[0] is not None), None)
        hint = f"; it looks like {_A_BILL[other]} (give it with --{other})" if other else ""
        raise BillError(f"{name} is not {_A_BILL[provider]}: no header row like "
                        f"{_EXPECTED[provider]}{hint}.", "bill_no_header", file=name, provider=provider)
    read = _read_wechat if provider == WECHAT else _read_alipay
    return Bill(provider, encoding, read(rows, header_at, columns, name))


_EXPECTED = {WECHAT: "交易时间,...,微信订单号,商户订单号,...,交易状态,...,订单金额",
             ALIPAY: "支付宝交易号,商户订单号,业务类型,...,完成时间,...,订单金额（元）"}


def _find_header(rows: Sequence[Sequence[str]], provider: str) -> Tuple[Optional[int], Dict[str, int]]:
    """(index of the header row, column index per field) or (None, {}): the first row naming the needed columns."""
    names, required = (_WECHAT, _WECHAT_REQUIRED) if provider == WECHAT else (_ALIPAY, _ALIPAY_REQUIRED)
    for index, row in enumerate(rows):
        cells = [_cell(c) for c in row]
        columns: Dict[str, int] = {}
        for key, wanted in names.items():
            found = next((cells.index(n) for n in wanted if n in cells), None)
            if found is not None:
                columns[key] = found
        if all(k in columns for k in required) and ("transaction" in columns or "order" in columns):
            return index, columns
    return None, {}


def _value(row: Sequence[str], columns: Dict[str, int], key: str) -> str:
    index = columns.get(key)
    return _cell(row[index]) if index is not None and index < len(row) else ""


def _time(text: str, line: int, name: str) -> datetime.datetime:
    for layout in _TIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, layout)
        except ValueError:
            pass
    raise BillError(f"{name} line {line}: {text[:40]!r} is not a time like 2024-05-31 10:00:00.", "bill_bad_time",
                    file=name, line=line, text=text[:40])


def _amount(text: str, line: int, name: str) -> Tuple[int, bool]:
    """(fen, negative) of a yuan amount on a bill ("12.50", "-3.00", "1,234.00")."""
    cleaned = text.replace(",", "")
    negative = cleaned.startswith("-")
    try:
        return money.parse_yuan(cleaned[1:] if negative else cleaned), negative
    except money.AmountError:
        raise BillError(f"{name} line {line}: {text[:40]!r} is not an amount in yuan.", "bill_bad_amount",
                        file=name, line=line, text=text[:40]) from None


def _indices(header: Sequence[str], names: Sequence[str]) -> List[int]:
    """The columns of ``names`` that the header has, in the order of ``names``."""
    cells = [_cell(c) for c in header]
    return [cells.index(n) for n in names if n in cells]


def _first_amount(row: Sequence[str], indices: Sequence[int], line: int, name: str) -> Tuple[int, bool]:
    """The first amount other than zero among the columns ``indices`` (0 when all are empty or zero)."""
    for index in indices:
        text = _cell(row[index]) if index < len(row) else ""
        fen, negative = _amount(text, line, name) if text else (0, False)
        if fen:
            return fen, negative
    return 0, False


def _blank(row: Sequence[str]) -> bool:
    return not any(_cell(c) for c in row)


def _read_wechat(rows: List[List[str]], header_at: int, columns: Dict[str, int], name: str) -> List[BillRow]:
    amounts = _indices(rows[header_at], _WECHAT["amount"])
    refunds = _indices(rows[header_at], _WECHAT["refund_amount"])
    found: List[BillRow] = []
    listed = 0
    for index in range(header_at + 1, len(rows)):
        row, line = rows[index], index + 1
        if _blank(row):
            continue
        if _cell(row[0]) == _WECHAT_SUMMARY:
            _check_summary(rows, index, listed, name)
            return found
        listed += 1
        status = _value(row, columns, "status").upper()
        kinds = _WECHAT_STATUS.get(status)
        if kinds is None:
            raise BillError(f"{name} line {line}: 交易状态 {status[:20]!r} is none of SUCCESS, REFUND or REVOKED.",
                            "bill_bad_status", file=name, line=line, text=status[:20])
        at = _time(_value(row, columns, "time"), line, name)
        numbers = {key: _value(row, columns, key) for key in ("transaction", "order", "refund_id", "refund_order")}
        paid = _first_amount(row, amounts, line, name)[0]
        for kind in kinds:  # a REVOKED payment went back whole: its refund is the payment's amount
            fen = _first_amount(row, refunds, line, name)[0] if kinds == (REFUND,) else paid
            found.append(BillRow(WECHAT, line, at, kind, fen, numbers))
    raise BillError(f"{name} ends without the summary rows (总交易单数, ...) of a WeChat Pay bill: it is cut short; "
                    f"download it again.", "bill_cut_short", file=name)


def _check_summary(rows: List[List[str]], index: int, listed: int, name: str) -> None:
    """The summary's 总交易单数 counts the rows above it: a file with rows lost in between is refused."""
    values = next((r for r in rows[index + 1:] if not _blank(r)), None)
    count = _cell(values[0]) if values else ""
    if count.isdigit() and int(count) != listed:
        raise BillError(f"{name} lists {listed} transactions but its summary says {int(count)}: the file is "
                        f"damaged; download it again.", "bill_count_differs", file=name, listed=listed,
                        count=int(count))


def _read_alipay(rows: List[List[str]], header_at: int, columns: Dict[str, int], name: str) -> List[BillRow]:
    amounts = _indices(rows[header_at], _ALIPAY["amount"])
    found: List[BillRow] = []
    for index in range(header_at + 1, len(rows)):
        row, line = rows[index], index + 1
        if _blank(row):
            continue
        if _cell(row[0]).startswith("#"):
            break  # 业务明细列表结束, then the totals
        kind_text = _value(row, columns, "type")
        kind = _ALIPAY_TYPES.get(kind_text)
        if kind is None:
            raise BillError(f"{name} line {line}: 业务类型 {kind_text[:20]!r} is neither 交易 nor 退款.",
                            "bill_bad_type", file=name, line=line, text=kind_text[:20])
        at = _time(_value(row, columns, "time"), line, name)
        fen, negative = _first_amount(row, amounts, line, name)
        if kind == REFUND and not negative and _value(row, columns, "received"):
            # a refund's 订单金额 is the (negative) refund; a variant showing the order's own amount there
            # still has the refund in 商家实收
            fen = _amount(_value(row, columns, "received"), line, name)[0]
        numbers = {key: _value(row, columns, key) for key in ("transaction", "order", "refund_no")}
        found.append(BillRow(ALIPAY, line, at, kind, fen, numbers))
    return found


# ---------------------------------------------------------------- the till's side

def till_payments(day: datetime.date, providers: Iterable[str] = PROVIDERS, tills: Any = None) -> List[TillPayment]:
    """The shop's mobile payments (every till, or ``tills``: store.till_filter) of documents of ``day`` that took
    or gave back money."""
    from store.models import Payment, Sale
    from store.sales import PAYMENT_OK
    from store.till_filter import and_tills

    start = datetime.datetime.combine(day, datetime.time())
    end = start + datetime.timedelta(days=1)
    query = (Payment.select(Payment.id, Payment.method, Payment.amount_fen, Payment.reference, Payment.out_trade_no,
                            Payment.position, Payment.sale, Sale.till_id, Sale.receipt_no, Sale.kind, Sale.sold_at)
             .join(Sale)
             .where(and_tills((Sale.sold_at >= start) & (Sale.sold_at < end) & (Payment.status == PAYMENT_OK)
                              & Payment.method.in_(list(providers)), Sale.till_id, tills))
             .order_by(Sale.sold_at, Sale.till_id, Sale.receipt_no, Payment.position))
    rows = list(query.dicts())
    refunds = _provider_refunds(rows)
    found = []
    for row in rows:
        at = row["sold_at"]
        if not isinstance(at, datetime.datetime):
            at = datetime.datetime.fromisoformat(str(at))
        refund = refunds.get((row["sale"], row["position"]))
        found.append(TillPayment(row["id"], row["till_id"], row["receipt_no"], row["kind"] or "sale", at,
                                 row["method"], int(row["amount_fen"]), row["reference"] or "",
                                 row["out_trade_no"] or "", refund.out_refund_no if refund else "",
                                 refund.refund_id if refund else ""))
    return found


def _provider_refunds(rows: Sequence[Dict[str, Any]]) -> Dict[Tuple[int, int], Any]:
    """(document, position) -> the provider refund of each refund's or void's till-charged payment among ``rows``."""
    from store.provider_refunds import of_documents

    documents = sorted({row["sale"] for row in rows if (row["kind"] or "sale") != "sale" and row["out_trade_no"]})
    return of_documents(documents) if documents else {}


# ---------------------------------------------------------------- matching

def _reference(text: str) -> str:
    return _cell(text).upper()


def _charged_numbers(payment: TillPayment) -> set:
    """The numbers of a payment the till charged (or refunded) itself through the provider; empty otherwise."""
    if payment.kind == PAYMENT:
        numbers = (payment.reference, payment.out_trade_no) if payment.out_trade_no else ()
    else:
        numbers = (payment.out_refund_no, payment.refund_id) if payment.out_refund_no else ()
    return {_reference(n) for n in numbers if _reference(n)}


#: The bill's columns that name what the till's own numbers name: a payment's order, a refund's refund.
_ROW_KEYS = {PAYMENT: ("transaction", "order"), REFUND: ("refund_order", "refund_no", "refund_id")}


def _row_numbers(row: BillRow, payment: TillPayment) -> set:
    return {_reference(row.numbers.get(key, "")) for key in _ROW_KEYS[payment.kind]} - {""}


def _gap(row: BillRow, payment: TillPayment) -> datetime.timedelta:
    return abs(row.at - payment.at)


def reconcile(rows: Sequence[BillRow], payments: Sequence[TillPayment],
              window: datetime.timedelta = DEFAULT_WINDOW) -> Result:
    """Match bill rows to till payments (see the module's doc) and list what is left on each side."""
    result = Result()
    free_rows = list(rows)
    waiting: List[TillPayment] = []

    def take(row: BillRow, payment: TillPayment, by: str) -> None:
        free_rows.remove(row)
        match = Match(row, payment, by)
        (result.matched if row.amount_fen == payment.amount_fen else result.amount_differences).append(match)

    def same_side(row: BillRow, payment: TillPayment) -> bool:
        return row.provider == payment.provider and row.kind == payment.kind

    charged: List[TillPayment] = []
    for payment in payments:  # the till's own numbers first: they need no typed reference
        numbered = _charged_numbers(payment)
        named = [r for r in free_rows if numbered and same_side(r, payment) and numbered & _row_numbers(r, payment)]
        if named:
            take(min(named, key=lambda r: _gap(r, payment)), payment, "transaction")
        elif numbered:
            charged.append(payment)  # not on the bill by its numbers: by amount and time below
    known = {id(p) for p in payments if _charged_numbers(p)}
    typed = [p for p in payments if _reference(p.reference) and id(p) not in known]
    exact: List[TillPayment] = []
    for payment in typed:  # exact numbers first: a suffix must not take the row another payment names in full
        ref = _reference(payment.reference)
        named = [r for r in free_rows if same_side(r, payment)
                 and ref in (_reference(n) for n in r.numbers.values() if n)]
        if named:
            take(min(named, key=lambda r: _gap(r, payment)), payment, "reference")
        else:
            exact.append(payment)
    for payment in exact:
        ref = _reference(payment.reference)
        ends = [r for r in free_rows if len(ref) >= MIN_SUFFIX and same_side(r, payment)
                and any(_reference(n).endswith(ref) for n in r.numbers.values() if n)]
        if ends:
            take(min(ends, key=lambda r: _gap(r, payment)), payment, "reference")
        else:
            waiting.append(payment)
    waiting += charged + [p for p in payments if not _reference(p.reference) and id(p) not in known]

    pairs = sorted(((_gap(r, p), p.at, r.line, i, j) for i, p in enumerate(waiting) for j, r in enumerate(free_rows)
                    if same_side(r, p) and r.amount_fen == p.amount_fen and _gap(r, p) <= window),
                   key=lambda pair: pair[:3])
    rows_taken, payments_taken = set(), set()
    candidates = list(free_rows)
    for _, _, _, i, j in pairs:
        if i in payments_taken or j in rows_taken:
            continue
        payments_taken.add(i)
        rows_taken.add(j)
        take(candidates[j], waiting[i], "time")
    left = [p for i, p in enumerate(waiting) if i not in payments_taken]

    result.bill_only = [r for r in free_rows if r.kind == PAYMENT]
    result.refunds_bill_only = [r for r in free_rows if r.kind == REFUND]
    result.till_only = sorted((p for p in left if p.kind == PAYMENT), key=lambda p: (p.at, p.receipt))
    result.refunds_till_only = sorted((p for p in left if p.kind == REFUND), key=lambda p: (p.at, p.receipt))
    return result
