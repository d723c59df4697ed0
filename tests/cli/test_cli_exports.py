"""What an accountant reads: the payments export sums to the day's takings, `report sales` says its units
(issue 23, finding 6)."""
from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

from tests.cli.helpers import process_state

TODAY = datetime.date.today().isoformat()


def sell_a_day(shop):
    """¥20 paid with ¥100 (¥80 change); ¥23.75 split WeChat ¥10 + cash ¥20 (¥6.25 change) after a failed
    Alipay; the 1.5 斤 of apples of it refunded; a ¥20 card sale voided. Takings: ¥40.00."""
    from store import catalogue, documents
    from store.db import close_database, open_database
    from store.sales import Basket, Tender, commit_sale, find_product

    with process_state():
        open_database(shop.url)
        try:
            catalogue.add_product(barcode="100", name="礼盒", price_fen=2000, unit="盒")
            catalogue.add_product(barcode="200", name="苹果", price_fen=250, unit="斤")

            def sale(items, pays, failed=()):
                basket = Basket()
                for code, qty in items:
                    basket.add(find_product(code), qty)
                tender = Tender(basket.total_fen)
                for method, amount in failed:
                    tender.record_failed(method, amount, "", "customer cancelled")
                for method, amount in pays:
                    tender.add_payment(method, amount)
                return commit_sale(basket, tender, "1", "01")

            sale([("100", 1000)], [("cash", 10000)])
            split = sale([("100", 1000), ("200", 1500)], [("wechat", 1000), ("cash", 2000)], [("alipay", 2375)])
            apples = [line for line in documents.refundable(split.id) if line.name == "苹果"][0]
            documents.commit_refund(split.id, [(apples.line_id, 1500)], "1", "01", manager="09", reason="烂了")
            card = sale([("100", 1000)], [("card", 2000)])
            documents.commit_void(card.id, "1", "01", manager="09", reason="扫错了")
        finally:
            close_database()


def takings_fen(shop) -> int:
    """The day's takings as store/reports figures them: net of refunds and voids (the tenders add up to it)."""
    from store import reports
    from store.db import close_database, open_database

    with process_state():
        open_database(shop.url)
        try:
            day = datetime.date.today()
            figures = reports.figures("1", first=day, last=day)
            assert sum(t["amount_fen"] for t in figures["tenders"].values()) == figures["net_fen"]
            return figures["net_fen"]
        finally:
            close_database()


def payments(shop):
    out = shop.ok("export", "payments", "--from", TODAY, "--to", TODAY).stdout
    return list(csv.DictReader(io.StringIO(out.lstrip("\ufeff"))))


def fen(text: str) -> int:
    return int(Decimal(text) * 100)


def test_the_payments_export_sums_to_the_days_takings(shop):
    """QA: `cash,100.00` for a ¥20 sale; the column overstated the takings by the change handed back."""
    sell_a_day(shop)
    rows = payments(shop)
    assert sum(fen(row["kept"]) for row in rows) == takings_fen(shop) == 4000
    assert [(r["kind"], r["method"], r["kept"], r["tendered"], r["change"], r["status"]) for r in rows] == [
        ("sale", "cash", "20.00", "100.00", "80.00", "ok"),
        ("sale", "alipay", "0.00", "23.75", "0.00", "failed"),
        ("sale", "wechat", "10.00", "10.00", "0.00", "ok"),
        ("sale", "cash", "13.75", "20.00", "6.25", "ok"),
        ("refund", "wechat", "-3.75", "-3.75", "0.00", "ok"),
        ("sale", "card", "20.00", "20.00", "0.00", "ok"),
        ("void", "card", "-20.00", "-20.00", "0.00", "ok"),
    ]


def test_the_payments_export_as_xlsx_keeps_the_same_numbers(shop):
    import openpyxl

    sell_a_day(shop)
    target = shop.home / "payments.xlsx"
    shop.ok("export", "payments", "--from", TODAY, "--to", TODAY, "--format", "xlsx", "-o", str(target))
    sheet = openpyxl.load_workbook(target).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    kept = header.index("kept")
    assert header[kept:kept + 3] == ["kept", "tendered", "change"]
    assert sum(Decimal(str(row[kept])) for row in rows) == Decimal("40.00")


def test_change_comes_out_of_the_last_cash_payment_first():
    from store.export import kept_tendered_change

    def pay(method, amount, status="ok"):
        return dict(method=method, amount_fen=amount, status=status)

    assert kept_tendered_change("sale", [pay("cash", 500), pay("card", 300), pay("cash", 5000)], 4500) == [
        (500, 500, 0), (300, 300, 0), (500, 5000, 4500)]
    assert kept_tendered_change("sale", [pay("cash", 500), pay("cash", 200)], 600) == [
        (100, 500, 400), (0, 200, 200)]  # more change than the last one: the one before gives the rest
    assert kept_tendered_change("refund", [pay("cash", 375)], 0) == [(-375, -375, 0)]
    assert kept_tendered_change("sale", [pay("wechat", 900, "failed"), pay("cash", 1000)], 100) == [
        (0, 900, 0), (900, 1000, 100)]


def test_sales_by_product_says_quantities_in_their_units_and_money_in_yuan(shop):
    """QA: headed `qty_milli  net_fen`, it printed 1000 for one box next to yuan amounts."""
    sell_a_day(shop)
    table = shop.ok("report", "sales", "--from", TODAY, "--by", "product").stdout.splitlines()
    assert "qty_milli" not in table[0] and "net_fen" not in table[0]
    assert table[0].split() == ["product", "barcode", "qty", "net", "(yuan)"]
    box = next(line for line in table if line.startswith("礼盒")).split()
    apples = next(line for line in table if line.startswith("苹果")).split()
    assert box == ["礼盒", "100", "2盒", "40.00"]  # three sold, one voided
    assert apples == ["苹果", "200", "0斤", "0.00"]  # sold and refunded
    assert table[-1].startswith("net 40.00 yuan from")

    text = shop.ok("report", "sales", "--from", TODAY, "--by", "product", "--csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["product", "barcode", "qty", "unit", "net_yuan"]
    assert rows[1] == ["礼盒", "100", "2", "盒", "40.00"]

    data = json.loads(shop.ok("report", "sales", "--from", TODAY, "--by", "product", "--json").stdout)
    assert data[0] == {"product": "礼盒", "barcode": "100", "qty_milli": 2000, "unit": "盒", "net_fen": 4000}


def test_sales_by_day_and_tender_say_yuan_in_the_table_and_the_csv_and_fen_in_the_json(shop):
    sell_a_day(shop)
    table = shop.ok("report", "sales", "--from", TODAY).stdout.splitlines()
    assert table[0].split() == ["day", "count", "net", "(yuan)"] and table[1].split() == [TODAY, "3", "40.00"]
    text = shop.ok("report", "sales", "--from", TODAY, "--by", "tender", "--csv").stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["tender", "count", "net_yuan"]
    assert {row[0]: row[2] for row in rows[1:]} == {"cash": "33.75", "card": "0.00", "wechat": "6.25"}
    data = json.loads(shop.ok("report", "sales", "--from", TODAY, "--json").stdout)
    assert data == [{"day": TODAY, "count": 3, "net_fen": 4000}]
