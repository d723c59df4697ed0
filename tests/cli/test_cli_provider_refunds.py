"""Mobile payments the till charged, shown and kept: `sales list` (and --json), the receipt's bytes, `report
reconcile` by transaction number, a refused refund said and asked again (`sales refund-again`).

The sales are charged by the real clients against the real simulator (over HTTP on this machine) on the shop's
SQLite file; the bills hold the numbers the simulator gave.
"""
from __future__ import annotations

import datetime
import json

import pytest

from tests.cli.test_cli_reconcile import alipay_bill, alipay_row, at, till, wechat_bill, wechat_row
from tests.payments.refund_helpers import alipay_code, pay_sale, providers_for, wait_for, wechat_code
from tui.services.payments.simulator import WECHAT_KEY_FILE, Simulator, demo_keys

COLA = "100"


@pytest.fixture
def sim(shop):
    keys = shop.home / "pay-keys"
    made = demo_keys(keys)
    with Simulator(wechat_key=made.wechat_api_key, alipay_keys=made.alipay) as simulator:
        simulator.keys = keys  # type: ignore[attr-defined]
        yield simulator


def set_up_payments(shop, sim) -> None:
    """[payments.wechat] and [payments.alipay] of the settings init wrote, pointed at the simulator."""
    import re

    from tui.services.payments import sim_alipay
    from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID

    keys = sim.keys
    values = {"base_url": sim.url, "appid": DEMO_APPID, "mch_id": DEMO_MCH_ID,
              "api_key_file": keys / WECHAT_KEY_FILE, "gateway": sim.url + "/gateway.do",
              "app_id": sim_alipay.DEMO_APP_ID, "private_key_file": keys / "alipay_app_private_key.pem",
              "alipay_public_key_file": keys / "alipay_alipay_public_key.pem"}
    text = shop.config.read_text(encoding="utf-8")
    for name, value in values.items():
        text, count = re.subn(rf'^{name} = ""', f'{name} = "{value}"', text, count=1, flags=re.M)
        assert count == 1, name
    shop.config.write_text(text, encoding="utf-8")


def sell_mobile(shop, sim, pay):
    """A sale of cola charged by (method, code, fen) through the simulator; (sale, its payments)."""
    from store import catalogue
    from store.models import Payment
    from store.sales import find_product

    with till(shop):
        if find_product(COLA) is None:
            catalogue.add_product(COLA, "可乐", 350, "瓶")
        products = {COLA: find_product(COLA)}
        total = sum(fen for _, _, fen in pay)
        sale = pay_sale(providers_for(sim.url, sim.keys), products, [(COLA, total * 1000 // 350)], pay)
        return sale, list(Payment.select().where(Payment.sale == sale.id).order_by(Payment.position))


def refund_whole(shop, sale, desk_waits_for: str = ""):
    """Refund the whole sale (the money back to its tenders) and let a refund desk answer; the document's id."""
    from store import documents, provider_refunds
    from tui.services.payments.refunds import RefundDesk, RefundSchedule

    with till(shop):
        items = [(line.line_id, line.remaining_qty) for line in documents.refundable(sale.id)]
        document = documents.commit_refund(sale.id, items, "1", "c1", reason="坏了")
        if desk_waits_for:
            desk = RefundDesk("1", providers_for(shop.sim.url, shop.sim.keys), schedule=RefundSchedule(0.05, 0.2))
            desk.start()
            desk.send(document.id)
            wait_for(lambda: [r.state for r in provider_refunds.of_document(document.id)] == [desk_waits_for],
                     f"the refund to be {desk_waits_for}")
            desk.stop()
        return document


def test_sales_list_json_shows_the_provider_the_transaction_number_and_the_refund(shop, sim):
    shop.sim = sim
    sale, payments = sell_mobile(shop, sim, [("wechat", wechat_code(), 700)])
    document = refund_whole(shop, sale, "refunded")
    listed = json.loads(shop.ok("sales", "list", "--json").stdout)
    paid, back = [s for s in listed if s["id"] == sale.id][0], [s for s in listed if s["id"] == document.id][0]
    order = sim.wechat.orders[payments[0].out_trade_no]
    assert paid["payments"][0]["refund"] is None
    assert {k: paid["payments"][0][k] for k in ("provider", "amount_fen", "transaction_id", "out_trade_no")} == {
        "provider": "wechat", "amount_fen": 700, "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no}
    refund = back["payments"][0]["refund"]
    assert refund["state"] == "refunded" and refund["out_refund_no"] in order.refunds
    assert refund["refund_id"] == order.refunds[refund["out_refund_no"]].refund_id
    assert back["payments"][0]["transaction_id"] == order.transaction_id  # the money went back on that order


def test_a_refused_refund_is_said_under_sales_list_and_asked_again_by_its_command(shop, sim):
    shop.sim = sim
    sale, payments = sell_mobile(shop, sim, [("wechat", wechat_code(), 350)])
    order = sim.wechat.orders[payments[0].out_trade_no]
    order.state = "REVOKED"  # the provider will not refund it now
    document = refund_whole(shop, sale, "failed")
    text = shop.ok("sales", "list").stdout
    assert "WeChat Pay refused the refund (订单未支付或已撤销，不能退款): give the money back in cash or try again " \
           "later (chaoying sales refund-again)" in text
    order.state = "SUCCESS"  # the shop's WeChat Pay account sorted out
    set_up_payments(shop, sim)
    number = f"1-{document.receipt_no:06d}"
    again = shop.ok("sales", "refund-again", number)
    assert "WeChat Pay refunded" in again.stdout
    assert order.refunded() == 350 and len(order.refunds) == 1
    asked = [r.out_refund_no for r in sim.wechat.calls("/secapi/pay/refund")]
    assert len(asked) == 2 and len(set(asked)) == 1  # the same refund number both times
    assert shop.run("sales", "refund-again", number).returncode == 1  # refunded: nothing is asked again


def test_the_receipt_bytes_hold_the_transaction_number(shop, sim):
    from printing.config import PrinterConfig
    from printing.encode import encode_receipt
    from store.models import Sale
    from tui.services.till import receipt_for_sale
    from tui.settings import load_settings

    sale, payments = sell_mobile(shop, sim, [("alipay", alipay_code(), 350)])
    with till(shop):
        receipt = receipt_for_sale(Sale.get_by_id(sale.id), load_settings(shop.config))
        job = encode_receipt(receipt, PrinterConfig(port="/dev/null"))
    assert payments[0].reference and payments[0].reference.encode("ascii") in job
    assert "交易单号".encode("gb18030") in job


def test_reconcile_matches_the_tills_own_payments_and_refunds_by_their_numbers(shop, sim):
    shop.sim = sim
    first, paid_first = sell_mobile(shop, sim, [("wechat", wechat_code(), 700)])
    second, paid_second = sell_mobile(shop, sim, [("wechat", wechat_code(), 700)])  # same amount, same minute
    third, paid_third = sell_mobile(shop, sim, [("alipay", alipay_code(), 350)])
    document = refund_whole(shop, first, "refunded")
    back = sim.wechat.orders[paid_first[0].out_trade_no]
    out_refund_no, wx_refund = next(iter(back.refunds.items()))
    ali = paid_third[0]
    day = first.sold_at.date()
    # the bill lists them out of order and the times 9 minutes off: only the numbers can pair them
    later = first.sold_at + datetime.timedelta(minutes=9)
    wechat = wechat_bill(shop, [
        wechat_row(at(later), paid_second[0].reference, paid_second[0].out_trade_no, "7.00"),
        wechat_row(at(later), paid_first[0].reference, paid_first[0].out_trade_no, "7.00"),
        wechat_row(at(later), paid_first[0].reference, paid_first[0].out_trade_no, "0.00", status="REFUND",
                   refund_yuan="7.00", refund_id=wx_refund.refund_id, refund_order=out_refund_no),
    ])
    alipay = alipay_bill(shop, day, [alipay_row(at(later), ali.reference, ali.out_trade_no, "3.50")])
    result = shop.run("report", "reconcile", "--date", day.isoformat(), "--wechat", str(wechat), "--alipay",
                      str(alipay), "--json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    found = json.loads(result.stdout)
    pairs = {(m["till"]["receipt"], m["bill"]["line"], m["by"]) for m in found["matched"]}
    number = "1-{:06d}".format
    assert pairs == {(number(second.receipt_no), 2, "transaction"), (number(first.receipt_no), 3, "transaction"),
                     (number(document.receipt_no), 4, "transaction"), (number(third.receipt_no), 6, "transaction")}
