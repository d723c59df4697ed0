"""store.reconcile without a database: bill variants read alike, and the matching rules."""
from __future__ import annotations

import datetime

import pytest

from store.reconcile import ALIPAY, PAYMENT, REFUND, WECHAT, BillError, BillRow, TillPayment, read_bill, reconcile

T = datetime.datetime(2024, 5, 31, 10, 0, 0)


def minutes(n: float) -> datetime.datetime:
    return T + datetime.timedelta(minutes=n)


def test_an_older_wechat_bill_with_backticks_on_the_header_reads_like_a_new_one():
    # before 2018-11 the amount was 总金额 and 订单金额 did not exist; some exports put a backtick on the header too
    text = ("\ufeff`交易时间,`公众账号ID,`商户号,`子商户号,`设备号,`微信订单号,`商户订单号,`用户标识,`交易类型,`交易状态,"
            "`付款银行,`货币种类,`总金额,`企业红包金额,`微信退款单号,`商户退款单号,`退款金额,`企业红包退款金额,"
            "`退款类型,`退款状态,`商品名称,`商户数据包,`手续费,`费率\n"
            "`2024-05-31 10:00:00,`wx1,`1900000109,`0,`,`4200000001,`M1,`o1,`NATIVE,`SUCCESS,`CMB_CREDIT,`CNY,"
            "\"`1,234.50\",`0.00,`0,`0,`0.00,`0.00,`,`,`糖,`,`7.40700,`0.60%\n"
            "总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额\n"
            "`1,`1234.50,`0.00,`0.00,`7.40700\n")
    bill = read_bill(text.encode("utf-8"), WECHAT)
    assert bill.encoding == "UTF-8 with BOM"
    assert [(r.kind, r.amount_fen, r.numbers["transaction"], r.at) for r in bill.rows] == \
        [(PAYMENT, 123450, "4200000001", T)]


def test_a_revoked_wechat_payment_is_a_payment_and_its_refund():
    header = "交易时间,微信订单号,商户订单号,交易状态,应结订单金额,退款金额,订单金额,申请退款金额"
    rows = "`2024-05-31 10:00:00,`4200000002,`M2,`REVOKED,`5.00,`0.00,`5.00,`0.00"
    bill = read_bill(f"{header}\n{rows}\n总交易单数\n`1\n".encode("gb18030"), WECHAT)
    assert bill.encoding == "GBK"
    assert [(r.kind, r.amount_fen) for r in bill.rows] == [(PAYMENT, 500), (REFUND, 500)]


def test_a_wechat_bill_whose_summary_counts_other_rows_is_refused():
    header = "交易时间,微信订单号,商户订单号,交易状态,订单金额"
    text = f"{header}\n`2024-05-31 10:00:00,`42,`M,`SUCCESS,`1.00\n总交易单数,订单总金额\n`2,`2.00\n"
    with pytest.raises(BillError, match="lists 1 transactions but its summary says 2"):
        read_bill(text.encode("gb18030"), WECHAT)


def test_alipay_headers_with_half_width_brackets_and_a_bad_amount():
    header = "支付宝交易号,商户订单号,业务类型,完成时间,订单金额(元),商家实收(元)"
    good = read_bill(f"{header}\n2024053122001,A1,退款,2024/05/31 10:00,-3.00,-3.00\n".encode("gb18030"), ALIPAY)
    assert good.encoding == "GBK"
    assert [(r.kind, r.amount_fen, r.at) for r in good.rows] == [(REFUND, 300, T)]
    with pytest.raises(BillError, match="line 2: '3.5e2' is not an amount in yuan"):
        read_bill(f"{header}\n2024053122001,A1,交易,2024-05-31 10:00:00,3.5e2,3.5e2\n".encode(), ALIPAY)


def row(line: int, at: datetime.datetime, fen: int, kind: str = PAYMENT, number: str = "") -> BillRow:
    return BillRow(WECHAT, line, at, kind, fen, {"transaction": number or f"42000{line:05d}", "order": ""})


def paid(pid: int, at: datetime.datetime, fen: int, reference: str = "", document: str = "sale") -> TillPayment:
    return TillPayment(pid, "1", pid, document, at, WECHAT, fen, reference)


def test_by_amount_and_time_the_nearest_pair_goes_first():
    # B (10:06) and the 10:05 row are nearest (1 min): they pair first, and A takes the 10:09 row (9 min),
    # although A alone would have taken 10:05 (5 min)
    result = reconcile([row(1, minutes(5), 700), row(2, minutes(9), 700)],
                       [paid(1, T, 700), paid(2, minutes(6), 700)])
    assert result.ok
    assert sorted((m.till.payment_id, m.bill.line) for m in result.matched) == [(1, 2), (2, 1)]


def test_a_reference_beats_time_and_a_short_or_unknown_one_falls_back_to_time():
    rows = [row(1, minutes(1), 300, number="4200000000001234"), row(2, minutes(30), 300, number="4200000000009876")]
    # "9876" names row 2 though row 1 is nearer; "34" is too short to be a tail: it matches by time
    result = reconcile(rows, [paid(1, T, 300, "9876"), paid(2, T, 300, "34")])
    assert sorted((m.till.payment_id, m.bill.line, m.by) for m in result.matched) == \
        [(1, 2, "reference"), (2, 1, "time")]


def test_a_sale_never_matches_a_refund_row_of_its_own_number():
    rows = [row(1, T, 500, REFUND, number="4200000000000042")]
    result = reconcile(rows, [paid(1, T, 500, "4200000000000042")])
    assert [r.line for r in result.refunds_bill_only] == [1]
    assert [p.payment_id for p in result.till_only] == [1]
