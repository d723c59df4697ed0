"""`chaoying shift` and `chaoying report`: the issue's day from the command line, bad input in one sentence."""
from __future__ import annotations

import datetime
import json

import pytest

from tests.cli.helpers import one_line, process_state


def sell_the_day(shop):
    """Cash, card and WeChat sales, one refund; all printed but the WeChat one, written by hand."""
    from store import catalogue, documents, outcomes, print_attempts
    from store.db import close_database, open_database
    from store.sales import Basket, Tender, commit_sale, find_product

    with process_state():
        open_database(shop.url)
        try:
            catalogue.add_product(barcode="100", name="可乐", price_fen=300, unit="瓶")
            docs = []
            for method, paid in (("cash", 1000), ("card", 600), ("wechat", 600)):
                basket = Basket()
                basket.add(find_product("100"), 2000)
                tender = Tender(basket.total_fen)
                tender.add_payment(method, paid)
                docs.append(commit_sale(basket, tender, "1", "01"))
            line = documents.refundable(docs[0].id)[0]
            docs.append(documents.commit_refund(docs[0].id, [(line.line_id, 1000)], "1", "01", reason="坏了"))
            for document in docs:
                attempt = print_attempts.start_printing(document.id, "main")
                print_attempts.finish_printing(attempt.id, document is not docs[2], "paper_out", "out of paper")
            outcomes.resolve(docs[2].id, outcomes.HANDWRITTEN)
            return docs[-1].hash
        finally:
            close_database()


def test_the_day_closed_one_yuan_short(shop):
    assert "opened shift 1" in shop.ok("shift", "open", "--float", "200").stdout
    head = sell_the_day(shop)
    shop.ok("shift", "pay-out", "20", "--reason", "送货 delivery")
    x = json.loads(shop.ok("report", "x", "--json").stdout)
    expected = 20000 + 600 - 300 - 2000
    assert x["cash"]["expected_fen"] == expected
    assert shop.sql("select count(*) from z_report") == [(0,)]  # X changes nothing
    result = shop.ok("report", "z", "--counted", "182")
    assert "short" in result.stdout and "1.00" in result.stdout and head in result.stdout
    z = json.loads(shop.ok("report", "z", "--list", "--json").stdout)[0]
    assert z["figures"]["cash"]["over_short_fen"] == -100
    assert z["figures"]["receipts"]["handwritten_without_print"] == 1 and z["journal_head"] == head
    assert "1 Z report" in shop.ok("journal", "verify").stdout


def test_report_x_speaks_one_language(shop):
    """The command line is English: 抹零 is "rounded down" there, no Chinese label among the English ones."""
    import re

    shop.ok("shift", "open", "--float", "200")
    sell_the_day(shop)
    text = shop.ok("report", "x").stdout
    assert "rounded down" in text and "discounts" in text
    assert re.findall(r"[\u3000-\u9fff\uff00-\uffef]+", text) == []


def test_an_edited_z_fails_journal_verify(shop):
    shop.ok("shift", "open", "--float", "0")
    shop.ok("report", "z")
    shop.sql("drop trigger z_report_no_update")
    shop.sql("update z_report set closed_by = 'x'")
    result = shop.run("journal", "verify")
    assert result.returncode == 1 and "Z 1-1" in one_line(result.stderr)


def test_z_refused_while_a_receipt_is_unresolved(shop):
    shop.seed(2)  # receipt 2 failed to print
    result = shop.run("report", "z")
    assert result.returncode == 1 and "1-000002" in one_line(result.stderr)
    assert shop.sql("select count(*) from z_report") == [(0,)]


def test_sales_by_tender_and_receipts_of_the_day(shop):
    sell_the_day(shop)
    today = datetime.date.today().isoformat()
    rows = json.loads(shop.ok("report", "sales", "--from", today, "--by", "tender", "--json").stdout)
    assert {r["tender"]: r["net_fen"] for r in rows} == {"cash": 300, "card": 600, "wechat": 600}
    text = shop.ok("report", "sales", "--from", today, "--to", today, "--csv").stdout
    assert text.splitlines()[0] == "day,count,net_yuan" and text.splitlines()[1] == f"{today},3,15.00"
    receipts = json.loads(shop.ok("report", "receipts", "--date", today, "--json").stdout)
    assert receipts[0]["receipt"] == "1-000003" and not receipts[0]["printer_confirmed"]
    assert [r["printer_confirmed"] for r in receipts] == [False, True, True, True]


def test_dates_take_today_and_yesterday(shop):
    """--from today (and --to, --date, yesterday) where a date is natural; a word it does not know is one
    sentence naming the option and the words it takes."""
    sell_the_day(shop)
    today = datetime.date.today().isoformat()
    by_date = shop.ok("report", "sales", "--from", today, "--json").stdout
    assert shop.ok("report", "sales", "--from", "today", "--json").stdout == by_date
    assert shop.ok("report", "sales", "--from", "yesterday", "--to", "Today", "--json").stdout == by_date
    assert json.loads(shop.ok("report", "sales", "--from", "yesterday", "--to", "yesterday", "--json").stdout) == []
    receipts = json.loads(shop.ok("report", "receipts", "--date", "today", "--json").stdout)
    assert len(receipts) == 4
    assert shop.ok("sales", "list", "--date", "today").stdout.splitlines()[-1].startswith("3 sales on till 1 ")
    result = shop.run("report", "sales", "--from", "tomorrow")
    assert result.returncode == 2 and "--from 'tomorrow' is not a date like 2024-05-31, today or yesterday" \
        in one_line(result.stderr)


@pytest.mark.parametrize("args, words", [
    (("shift", "open", "--float", "两百"), "--float"),
    (("report", "z", "--counted", "-3"), "--counted"),
    (("report", "sales", "--from", "2024-13-01"), "--date"),
    (("shift", "pay-out", "20", "--reason", "x"), "no open shift"),
    (("report", "z", "--list", "--counted", "1"), "--list"),
])
def test_bad_input_is_one_sentence_and_changes_nothing(shop, args, words):
    result = shop.run(*args)
    assert result.returncode != 0
    assert words in one_line(result.stderr) or words.lstrip("-") in result.stderr
    assert shop.sql("select count(*) from shift") == [(0,)]


def test_paid_out_above_the_limit_needs_a_manager_pin(shop):
    shop.ok("cashiers", "add", "--code", "m1", "--name", "店长", "--pin-stdin", "--manager", input="999999\n")
    shop.ok("shift", "open", "--float", "500")
    result = shop.run("shift", "pay-out", "80", "--reason", "货款")
    assert result.returncode == 1 and "manager" in one_line(result.stderr)
    shop.ok("shift", "pay-out", "80", "--reason", "货款", "--manager", "m1", "--pin-stdin", input="999999\n")
    assert shop.sql("select amount_fen, manager from cash_move") == [(8000, "m1")]
