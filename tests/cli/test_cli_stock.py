"""`chaoying stock ...`: the issue's story from the command line, each command, and bad input (issue 22)."""
from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path

import pytest

from tests.cli.helpers import one_line, process_state

COLA = "6901234567892"


@pytest.fixture
def stocked(shop):
    shop.ok("products", "add", "--barcode", COLA, "--name", "可口可乐 330ml", "--price", "3.50", "--unit", "瓶")
    shop.ok("products", "add", "--barcode", "2001", "--name", "苹果", "--price", "12.80", "--unit", "kg")
    shop.ok("cashiers", "add", "--code", "m1", "--name", "店长", "--pin-stdin", "--manager", input="999999\n")
    return shop


def sell_and_refund_one(shop, qty_milli=3000, refunded=1000):
    """A till's sale of ``qty_milli`` colas (with the shop's journal key), then ``refunded`` back on the shelf."""
    from store import documents, journal
    from store.db import close_database, open_database
    from store.sales import Basket, Tender, commit_sale, find_product

    with process_state():
        open_database(shop.url)
        journal.set_key(*journal.read_key_file(shop.key_file))
        try:
            basket = Basket()
            basket.add(find_product(COLA), qty_milli)
            tender = Tender(basket.total_fen)
            tender.add_payment("cash", basket.total_fen)
            sale = commit_sale(basket, tender, "1", "01")
            line = documents.refundable(sale.id)[0]
            documents.commit_refund(sale.id, [(line.line_id, refunded, True)], "1", "01")
        finally:
            journal.set_key(None)
            close_database()


def listed(shop, *extra):
    return {row["barcode"]: row for row in json.loads(shop.ok("stock", "list", "--json", *extra).stdout)}


def test_the_story_receive_sell_refund_count_low_verify(stocked):
    shop = stocked
    delivery = shop.csv("delivery.csv", f"条码,数量,进价,供应商\n{COLA},24,2.00,可口可乐公司\n")
    assert "received 1 product" in shop.ok("stock", "receive", str(delivery), "--ref", "D-001").stdout
    sell_and_refund_one(shop)
    counted = shop.csv("count.csv", f"barcode,counted\n{COLA},19\n")
    out = shop.ok("stock", "count", str(counted), "--manager", "m1", "--pin-stdin", input="999999\n").stdout
    assert "stocktake 1-0001 applied: 1 product counted, 1 difference" in out and f"{COLA} 可口可乐 330ml: -3" in out
    assert listed(shop)[COLA]["on_hand"] == "19"
    moves = json.loads(shop.ok("stock", "moves", "--barcode", COLA, "--json").stdout)
    assert [(m["kind"], m["qty"]) for m in moves] == [("received", "24"), ("sale", "-3"), ("refund", "1"),
                                                      ("counted", "-3")]
    assert moves[-1]["ref"] == "1-0001" and moves[-1]["manager"] == "m1" and moves[1]["document"] == "1-000001"
    assert listed(shop, "--low") == {}
    shop.ok("stock", "min", "--barcode", COLA, "--qty", "20")
    low = listed(shop, "--low")
    assert list(low) == [COLA] and low[COLA]["value_fen"] == 19 * 200
    assert "stock value at cost: 38.00" in shop.ok("stock", "list").stdout
    shop.ok("journal", "verify", "--full")
    shop.sql("UPDATE stock_move SET qty_milli = -2000 WHERE kind = 'counted'")
    result = shop.run("journal", "verify", "--full")
    assert result.returncode == 1 and "stock move 4" in one_line(result.stderr)


def test_a_balance_off_its_moves_is_named_by_verify_full(stocked):
    shop = stocked
    shop.ok("stock", "receive", "--barcode", COLA, "--qty", "24", "--cost", "2")
    shop.sql("UPDATE stock_balance SET on_hand_milli = 5000")
    result = shop.run("journal", "verify", "--full")
    assert result.returncode == 1
    assert "stock broken: the stock of 可口可乐 330ml (6901234567892) is 5 but its moves add up to 24" \
        in one_line(result.stderr)


@pytest.mark.parametrize("content, words", [
    ("barcode,qty,cost\n{cola},24,2.00\n999,1,1.00\n", ["line 3", "no product has the barcode 999"]),
    ("barcode,qty,cost\n{cola},-24,2.00\n", ["line 2", "qty -24 is negative"]),
    ("barcode,qty,cost\n{cola},24,2.005\n", ["line 2", "cost '2.005'", "two decimals"]),
    ("barcode,qty,cost\n{cola},二十,2.00\n", ["line 2", "not a number"]),
    ("barcode,cost\n{cola},2.00\n", ["no qty column"]),
])
def test_a_bad_delivery_is_one_sentence_naming_the_line_and_nothing_written(stocked, content, words):
    path = stocked.csv("bad.csv", content.format(cola=COLA))
    result = stocked.run("stock", "receive", str(path))
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert all(word in line for word in words), line
    assert stocked.sql("SELECT COUNT(*) FROM stock_move") == [(0,)]


def test_a_count_that_is_not_a_number_is_refused_before_the_pin(stocked):
    path = stocked.csv("count.csv", f"barcode,counted\n{COLA},abc\n")
    result = stocked.run("stock", "count", str(path), "--manager", "m1", "--pin-stdin", input="999999\n")
    assert result.returncode == 2 and "line 2: counted 'abc' is not a number" in one_line(result.stderr)
    assert stocked.sql("SELECT COUNT(*) FROM stock_count") == [(0,)]


def test_a_count_with_a_wrong_pin_changes_nothing(stocked):
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "24", "--cost", "2")
    path = stocked.csv("count.csv", f"barcode,counted\n{COLA},19\n")
    result = stocked.run("stock", "count", str(path), "--manager", "m1", "--pin-stdin", input="111111\n")
    assert result.returncode == 2 and "not an unlocked manager" in one_line(result.stderr)
    assert listed(stocked)[COLA]["on_hand"] == "24"


def test_a_whole_count_zeroes_what_it_does_not_name(stocked):
    stocked.ok("stock", "receive", "--barcode", "2001", "--qty", "2.5", "--cost", "8")
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "24", "--cost", "2")
    path = stocked.csv("count.csv", f"barcode,counted\n{COLA},24\n")
    stocked.ok("stock", "count", str(path), "--whole", "--manager", "m1", "--pin-stdin", input="999999\n")
    assert listed(stocked)["2001"]["on_hand"] == "0" and listed(stocked)[COLA]["on_hand"] == "24"


def test_receive_one_averages_the_cost(stocked):
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "10", "--cost", "2")
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "30", "--cost", "3")
    assert listed(stocked)[COLA]["avg_cost_fen"] == 275
    result = stocked.run("stock", "receive", "--barcode", COLA, "--qty", "1")
    assert result.returncode == 2 and "--barcode B --qty N --cost YUAN" in one_line(result.stderr)
    result = stocked.run("stock", "receive", "--barcode", "nope", "--qty", "1", "--cost", "1")
    assert result.returncode == 2 and "no product has the barcode nope" in one_line(result.stderr).lower()


def test_adjust_and_its_bad_input(stocked):
    out = stocked.ok("stock", "adjust", "--barcode", COLA, "--qty", "-2", "--reason", "damaged", "--note", "摔了")
    assert "-2 on hand" in out.stdout
    for args, words in ((["--qty", "-2", "--reason", "other"], "needs a note"),
                        (["--qty", "x", "--reason", "lost"], "not a number"),
                        (["--qty", "0.5", "--reason", "lost"], "by the piece")):
        result = stocked.run("stock", "adjust", "--barcode", COLA, *args)
        assert result.returncode == 2 and words in one_line(result.stderr), result.stderr
    moves = json.loads(stocked.ok("stock", "moves", "--json").stdout)
    assert [(m["kind"], m["reason"], m["note"]) for m in moves] == [("adjusted", "damaged", "摔了")]


def test_moves_by_date_range(stocked):
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "24", "--cost", "2")
    today = datetime.date.today()
    assert len(json.loads(stocked.ok("stock", "moves", "--from", "today", "--to", "today", "--json").stdout)) == 1
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert json.loads(stocked.ok("stock", "moves", "--from", tomorrow, "--json").stdout) == []
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "6", "--cost", "2")
    newest = json.loads(stocked.ok("stock", "moves", "--limit", "1", "--json").stdout)
    assert [m["qty"] for m in newest] == ["6"]
    result = stocked.run("stock", "moves", "--from", "today", "--to", "yesterday")
    assert result.returncode == 2


def test_export_stock_and_moves_csv_and_xlsx(stocked):
    stocked.ok("stock", "receive", "--barcode", COLA, "--qty", "24", "--cost", "2")
    sell_and_refund_one(stocked)
    stocked.ok("export", "stock", "-o", "stock.csv")
    rows = list(csv.reader(io.StringIO(Path(stocked.home / "stock.csv").read_text("utf-8-sig"))))
    assert rows[0] == ["barcode", "name", "unit", "on_hand", "min", "avg_cost", "value"]
    assert [COLA, "可口可乐 330ml", "瓶", "22", "", "2.00", "44.00"] in rows
    out = stocked.ok("export", "moves", "--from", "today", "--to", "today", "-o", "moves.xlsx", "--format", "xlsx")
    assert "exported 3 stock moves" in out.stdout
    from openpyxl import load_workbook

    sheet = load_workbook(stocked.home / "moves.xlsx").active
    kinds = [row[4].value for row in sheet.iter_rows(min_row=2)]
    assert kinds == ["received", "sale", "refund"]
    result = stocked.run("export", "moves", "-o", "m.csv")
    assert result.returncode == 2 and "--from" in one_line(result.stderr)


def test_products_import_takes_a_min_stock_column(shop):
    path = shop.csv("products.csv", "barcode,name,price,unit,min_stock\n7001,豆浆,2.5,杯,20\n7002,油条,1,根,\n")
    shop.ok("products", "import", str(path))
    rows = listed(shop)
    assert rows["7001"]["min"] == "20" and rows["7002"]["min"] is None
    assert list(listed(shop, "--low")) == ["7001"]
    bad = shop.csv("bad.csv", "barcode,name,price,min_stock\n7003,包子,1.5,很多\n")
    result = shop.run("products", "import", str(bad))
    assert result.returncode == 2 and "Min_stock '很多' is not a number" in result.stderr
