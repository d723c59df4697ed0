"""`chaoying report reconcile`: the day's WeChat Pay and Alipay payments against the merchant bills.

Sales and refunds are made as a till makes them (store.sales, store.documents)
on the shop's SQLite file; the bills are written here as the merchant platforms
export them: WeChat's 交易账单 in GBK with a backtick before every value and the
summary rows at the end, Alipay's 业务明细 in UTF-8 between its # lines.
"""
from __future__ import annotations

import contextlib
import datetime
import json
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from tests.cli.helpers import Shop, one_line, process_state

WECHAT_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
                 "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
                 "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注")
WECHAT_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
ALIPAY_HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
                 "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,"
                 "券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,"
                 "分润（元）,备注")


# ---------------------------------------------------------------- the till's side

@contextlib.contextmanager
def till(shop: Shop) -> Iterator[None]:
    from store.db import close_database, open_database

    with process_state():
        open_database(shop.url)
        try:
            yield
        finally:
            close_database()


def sell(shop: Shop, method: str, fen: int, reference: str = ""):
    """A sale of ``fen`` (a 0.01 yuan product times fen) paid all by ``method``; the Sale."""
    from store import catalogue
    from store.sales import Basket, Tender, commit_sale, find_product

    with till(shop):
        if find_product("1") is None:
            catalogue.add_product("1", "散装糖果", 1, "")
        basket = Basket()
        basket.add(find_product("1"), fen * 1000)
        tender = Tender(basket.total_fen)
        tender.add_payment(method, fen, reference)
        return commit_sale(basket, tender, "1")


def refund(shop: Shop, sale, method: str, fen: int):
    """Refund ``fen`` pieces of the sale's line, the money back by ``method``; the refund document."""
    from store.documents import commit_refund
    from store.models import Line

    with till(shop):
        line = Line.get(Line.sale == sale.id)
        return commit_refund(sale.id, [(line.id, fen * 1000)], "1", payments=[(method, fen)], reason="坏了")


# ---------------------------------------------------------------- the bills

def at(moment: datetime.datetime, minutes: float = 0) -> str:
    return (moment + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S")


def wechat_row(time: str, transaction: str, order: str, yuan: str, status: str = "SUCCESS",
               refund_yuan: str = "0.00", refund_id: str = "", refund_order: str = "") -> List[str]:
    refunding = status == "REFUND"
    return [time, "wx2421b1c4370ec43b", "1900000109", "0", "", transaction, order, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "MICROPAY", status, "OTHERS", "CNY", "0.00" if refunding else yuan, "0.00", refund_id, refund_order,
            refund_yuan, "0.00", "ORIGINAL" if refunding else "", "SUCCESS" if refunding else "", "超赢便利店",
            "", "-0.01000" if refunding else "0.07000", "0.60%", "0.00" if refunding else yuan,
            refund_yuan if refunding else "0.00", ""]


def wechat_bill(shop: Shop, rows: Sequence[List[str]], name: str = "wechat.csv", summary: bool = True,
                encoding: str = "gbk") -> Path:
    """A 交易账单 as the merchant platform exports it: values behind a backtick, the summary at the end."""
    lines = [WECHAT_HEADER] + [",".join("`" + cell for cell in row) for row in rows]
    if summary:
        lines += [WECHAT_SUMMARY, f"`{len(rows)},`0.00,`0.00,`0.00,`0.00,`0.00,`0.00"]
    path = shop.home / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def alipay_row(time: str, transaction: str, order: str, yuan: str, kind: str = "交易",
               refund_no: str = "") -> List[str]:
    return [transaction, order, kind, "超赢便利店", time, time, "", "", "", "", "138****0000", yuan, yuan,
            "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00", "0.00", refund_no, "0.00", "0.00", ""]


def alipay_bill(shop: Shop, day: datetime.date, rows: Sequence[List[str]], name: str = "alipay.csv") -> Path:
    """A 业务明细 as Alipay exports it: # lines around the table, a tab after values (as the real ones have)."""
    lines = ["#支付宝业务明细查询", "#账号：[20881234567890120156]",
             f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + datetime.timedelta(days=1):%Y年%m月%d日} 00:00:00]",
             "#-----------------------------------------业务明细列表----------------------------------------",
             ALIPAY_HEADER]
    lines += [",".join(cell + "\t" if cell else cell for cell in row) for row in rows]
    lines += ["#-----------------------------------------业务明细列表结束------------------------------------",
              f"#交易合计：{len(rows)}笔，商家实收共0.00元，商家优惠共0.00元",
              "#退款合计：0笔，商家实收退款共0.00元，商家优惠退款共0.00元",
              f"#导出时间：[{day + datetime.timedelta(days=1):%Y年%m月%d日} 09:12:27]"]
    path = shop.home / name
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def reconcile(shop: Shop, day: datetime.date, *args: str):
    return shop.run("report", "reconcile", "--date", day.isoformat(), *args)


def as_json(shop: Shop, day: datetime.date, *args: str, code: Optional[int] = None) -> dict:
    result = reconcile(shop, day, *args, "--json")
    if code is not None:
        assert result.returncode == code, (result.stdout, result.stderr)
    return json.loads(result.stdout)


# ---------------------------------------------------------------- the stories

def test_a_wechat_transaction_the_till_never_saw_is_named_and_the_exit_is_1(shop):
    paid = sell(shop, "wechat", 1200, "4200002024053112345678")
    day = paid.sold_at.date()
    bill = wechat_bill(shop, [
        wechat_row(at(paid.sold_at), "4200002024053112345678", "M20240531001", "12.00"),
        wechat_row(at(paid.sold_at, 5), "4200002024053187654321", "M20240531002", "8.80"),
    ])
    result = reconcile(shop, day, "--wechat", str(bill))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Bill transactions with no sale (1):" in result.stdout
    assert "4200002024053187654321" in result.stdout and "8.80" in result.stdout
    assert "1 matched; 1 difference to look into" in result.stdout

    found = as_json(shop, day, "--wechat", str(bill), code=1)
    assert [row["transaction"] for row in found["bill_only"]] == ["4200002024053187654321"]
    assert [m["till"]["receipt"] for m in found["matched"]] == ["1-000001"]
    assert found["ok"] is False and found["till_only"] == found["amount_differences"] == []


def test_everything_matching_exits_0(shop):
    """By the whole number, by its last digits, by amount and time; a refund; both providers at once."""
    whole = sell(shop, "wechat", 1200, "4200002024053112345678")
    tail = sell(shop, "wechat", 350, "5555")                      # the last digits on the customer's phone
    untyped = sell(shop, "alipay", 2000)                          # no reference: by amount and time
    by_order = sell(shop, "alipay", 990, "m20240531-77")          # the 商户订单号, typed in lower case
    returned = refund(shop, whole, "wechat", 200)
    t, day = whole.sold_at, whole.sold_at.date()
    wechat = wechat_bill(shop, [
        wechat_row(at(t), "4200002024053112345678", "M001", "12.00"),
        wechat_row(at(tail.sold_at, 1), "4200002024053100005555", "M002", "3.50"),
        wechat_row(at(returned.sold_at, 2), "4200002024053112345678", "M001", "0.00", "REFUND", "2.00",
                   "50300001", "R001"),
    ])
    alipay = alipay_bill(shop, day, [
        alipay_row(at(untyped.sold_at, -3), "2024053122001400001", "A001", "20.00"),
        alipay_row(at(by_order.sold_at, 8), "2024053122001400002", "M20240531-77", "9.90"),
    ])
    result = reconcile(shop, day, "--wechat", str(wechat), "--alipay", str(alipay))
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "5 matched; everything matches" in result.stdout
    assert "(GBK)" in result.stdout and "(UTF-8)" in result.stdout

    found = as_json(shop, day, "--wechat", str(wechat), "--alipay", str(alipay), code=0)
    by = {(m["till"]["receipt"], m["till"]["kind"]): m["by"] for m in found["matched"]}
    assert by == {("1-000001", "payment"): "reference", ("1-000002", "payment"): "reference",
                  ("1-000003", "payment"): "time", ("1-000004", "payment"): "reference",
                  ("1-000005", "refund"): "time"}


def test_each_kind_of_difference_is_listed(shop):
    missing = sell(shop, "wechat", 500, "4200002024053100000001")     # the customer's payment never arrived
    short = sell(shop, "wechat", 1200, "4200002024053100000002")       # the bill has 11.00 for it
    kept = sell(shop, "alipay", 800)
    sell(shop, "cash", 300)                                           # cash is no one's bill
    back = refund(shop, kept, "alipay", 300)                          # given back on the till only
    t, day = missing.sold_at, missing.sold_at.date()
    wechat = wechat_bill(shop, [
        wechat_row(at(short.sold_at), "4200002024053100000002", "M002", "11.00"),
        wechat_row(at(t, 3), "4200002024053100000003", "M003", "0.00", "REFUND", "6.00", "50300003", "R003"),
    ])
    alipay = alipay_bill(shop, day, [alipay_row(at(kept.sold_at), "2024053122001400009", "A009", "8.00")])
    found = as_json(shop, day, "--wechat", str(wechat), "--alipay", str(alipay), code=1)
    assert [p["receipt"] for p in found["till_only"]] == ["1-000001"]
    assert [(m["till"]["receipt"], m["till"]["amount"], m["bill"]["amount"], m["difference_fen"])
            for m in found["amount_differences"]] == [("1-000002", "12.00", "11.00", -100)]
    assert [(r["provider"], r["amount"], r["refund_id"]) for r in found["refunds_bill_only"]] == \
        [("wechat", "6.00", "50300003")]
    assert [(p["receipt"], p["document"], p["amount"]) for p in found["refunds_till_only"]] == \
        [(f"1-{back.receipt_no:06d}", "refund", "3.00")]
    assert found["bill_only"] == []

    said = reconcile(shop, day, "--wechat", str(wechat), "--alipay", str(alipay)).stdout
    for title in ("Sales whose payment is not on the bill (1):", "Amount differences (reference matched, "
                  "amounts differ) (1):", "Refunds on the bill only (1):", "Refunds on the till only (1):"):
        assert title in said, said


def test_an_alipay_refund_matches_a_refund_and_only_a_refund(shop):
    sold = sell(shop, "alipay", 1500, "2024053122001400042")
    back = refund(shop, sold, "alipay", 1500)
    day = sold.sold_at.date()
    bill = alipay_bill(shop, day, [
        alipay_row(at(sold.sold_at), "2024053122001400042", "A042", "15.00"),
        alipay_row(at(back.sold_at, 1), "2024053122001400042", "A042", "-15.00", "退款", "A042-R1"),
    ])
    found = as_json(shop, day, "--alipay", str(bill), code=0)
    assert sorted((m["till"]["kind"], m["bill"]["kind"], m["bill"]["amount"]) for m in found["matched"]) == \
        [("payment", "payment", "15.00"), ("refund", "refund", "15.00")]


def test_amount_and_time_match_only_inside_the_window(shop):
    sold = sell(shop, "wechat", 660)
    day = sold.sold_at.date()
    bill = wechat_bill(shop, [wechat_row(at(sold.sold_at, 12), "4200002024053100000066", "M066", "6.60")])
    far = as_json(shop, day, "--wechat", str(bill), code=1)
    assert [p["receipt"] for p in far["till_only"]] == ["1-000001"]
    assert [r["transaction"] for r in far["bill_only"]] == ["4200002024053100000066"]
    wide = as_json(shop, day, "--wechat", str(bill), "--window", "15", code=0)
    assert [m["by"] for m in wide["matched"]] == ["time"]


def test_a_foreign_csv_or_a_binary_file_is_one_sentence_and_exit_2(shop):
    sold = sell(shop, "wechat", 100)
    day = sold.sold_at.date()
    products = shop.csv("products.csv", "barcode,name,price\n6901234567892,可乐,3.50\n")
    picture = shop.home / "bill.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    alipay = alipay_bill(shop, day, [alipay_row(at(sold.sold_at), "2024053122001400001", "A001", "1.00")])
    cut = wechat_bill(shop, [wechat_row(at(sold.sold_at), "4200002024053100000001", "M001", "1.00")],
                      name="cut.csv", summary=False)
    before = shop.db_path.read_bytes()
    for option, path, words in (("--wechat", products, "is not a WeChat Pay bill: no header row like"),
                                ("--alipay", picture, "is not an Alipay bill: it is not a text file"),
                                ("--wechat", alipay, "it looks like an Alipay bill (give it with --alipay)"),
                                ("--wechat", cut, "ends without the summary rows"),
                                ("--alipay", shop.home / "nowhere.csv", "cannot read")):
        result = reconcile(shop, day, option, str(path))
        assert result.returncode == 2, (option, path, result.stdout, result.stderr)
        assert words in one_line(result.stderr), result.stderr
        assert result.stdout == ""
    assert shop.db_path.read_bytes() == before
    assert reconcile(shop, day).returncode == 2
    assert "--window" in one_line(reconcile(shop, day, "--wechat", str(products), "--window", "ten").stderr)


def test_report_alone_asks_for_an_action(shop):
    result = shop.run("report")
    assert result.returncode == 2
    assert "needs an action: x, z, sales, receipts or reconcile" in one_line(result.stderr)
