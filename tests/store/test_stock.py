"""Stock: receive 24, sell 3, refund 1 back to the shelf, count 19 -> 19 on hand, moves +24 -3 +1 -3 (counted)."""
from __future__ import annotations

import datetime

import pytest

from store import documents, journal, stock, stock_files
from store.models import StockBalance, StockMove
from tests.store.helpers import catalogue, ring_up

COLA = "6901234567892"


def _qtys(product_id):
    return [(m.kind, m.qty_milli) for m in StockMove.select().where(StockMove.product == product_id)
            .order_by(StockMove.id)]


def test_the_story_receive_sell_refund_count(database):
    products = catalogue()
    cola = products[COLA]
    stock.receive([stock_files.delivery_row(COLA, "24", "2.00")], "1", "c1", ref="D-001")
    sale = ring_up(products, (COLA, 3000))
    line = sale.lines.get()
    documents.commit_refund(sale.id, [(line.id, 1000, True)], "1", "c1")
    count = stock.start_count("1", "c1")
    stock.count_line(count.id, COLA, 19000, "c1")
    results = stock.apply_count(count.id, "1", "m1")
    assert stock.on_hand(cola.id) == 19000
    assert _qtys(cola.id) == [("received", 24000), ("sale", -3000), ("refund", 1000), ("counted", -3000)]
    assert [(r.barcode, r.difference_milli) for r in results] == [(COLA, -3000)]
    stock.set_min(COLA, 20000)
    assert [b.barcode for b in stock.low_stock()] == [COLA]
    assert stock.stock_value() == 19 * 200
    margin = stock.day_margin(datetime.date.today())
    assert margin.sales_fen == 2 * 350 and margin.cost_fen == 2 * 200 and margin.margin_fen == 300
    assert stock.check_balances() == []
    assert journal.verify(full=True).ok


def test_an_edited_move_is_named_by_verify(database):
    products = catalogue()
    stock.receive([stock_files.delivery_row(COLA, "24", "2.00")], "1")
    ring_up(products, (COLA, 3000))
    move = StockMove.select().where(StockMove.kind == "sale").get()
    StockMove.update(qty_milli=-1000).where(StockMove.id == move.id).execute()
    result = journal.verify(full=True)
    assert not result.ok and f"stock move {move.id}" in result.message


def test_a_deleted_move_is_named_and_a_balance_off_its_moves_is_named(database):
    products = catalogue()
    stock.receive([stock_files.delivery_row(COLA, "24", "2.00")], "1")
    ring_up(products, (COLA, 3000))
    StockBalance.update(on_hand_milli=5000).execute()
    assert stock.check_balances() == ["The stock of 可口可乐 330ml (6901234567892) is 5 but its moves add up to 21."]
    move = StockMove.select().where(StockMove.kind == "sale").get()
    StockMove.delete().where(StockMove.id == move.id).execute()
    result = journal.verify(full=True)
    assert not result.ok and f"stock move {move.id} was deleted" in result.message


def test_damaged_refund_comes_back_and_is_written_off(database):
    products = catalogue()
    sale = ring_up(products, (COLA, 2000))
    documents.commit_refund(sale.id, [(sale.lines.get().id, 1000, False)], "1")
    assert _qtys(products[COLA].id) == [("sale", -2000), ("refund", 1000), ("adjusted", -1000)]
    assert StockMove.select().where(StockMove.kind == "adjusted").get().reason == "damaged"


def test_void_puts_the_goods_back(database):
    products = catalogue()
    sale = ring_up(products, (COLA, 2000), ("2001", 1500))
    documents.commit_void(sale.id, "1", reason="wrong basket")
    assert stock.on_hand(products[COLA].id) == 0 and stock.on_hand(products["2001"].id) == 0
    assert _qtys(products["2001"].id) == [("sale", -1500), ("void", 1500)]


def test_moving_average_cost_on_receipt(database):
    catalogue()
    stock.receive([stock_files.delivery_row(COLA, "10", "2.00")], "1")
    stock.receive([stock_files.delivery_row(COLA, "30", "3.00")], "1")
    assert stock.balance(stock.find(COLA).id).avg_cost_fen == 275


def test_a_sale_during_the_count_stays(database):
    products = catalogue()
    stock.receive([stock_files.delivery_row(COLA, "24", "2.00")], "1")
    count = stock.start_count("1")
    stock.count_line(count.id, COLA, 22000)  # two missing on the shelf, as of now
    ring_up(products, (COLA, 3000))  # sold after it was counted
    stock.apply_count(count.id, "1", "m1")
    assert stock.on_hand(products[COLA].id) == 19000


def test_a_whole_count_zeroes_what_it_did_not_name(database):
    catalogue()
    stock.receive([stock_files.delivery_row(COLA, "24", "2.00"), stock_files.delivery_row("2001", "1.5", "8.00")], "1")
    rows = stock_files.read_count(b"barcode,counted\n6901234567892,20\n")
    info, results = stock.count_file(rows, "1", "c1", "m1", whole=True)
    assert info.state == "applied" and info.name == "1-0001"
    assert {r.barcode: r.difference_milli for r in results} == {COLA: -4000, "2001": -1500}
    assert stock.on_hand(stock.find("2001").id) == 0
    with pytest.raises(stock.StockError):
        stock.count_line(info.id, COLA, 1000)


def test_count_numbers_are_per_till_and_gapless(database):
    assert [stock.start_count(till).name for till in ("1", "1", "2")] == ["1-0001", "1-0002", "2-0001"]


@pytest.mark.parametrize("content, sentence", [
    (b"barcode,qty,cost\n999,1,1.00\n", "Line 2: No product has the barcode 999."),
    (b"barcode,qty,cost\n6901234567892,-3,1.00\n", "Line 2: Qty -3 is negative."),
    (b"barcode,qty,cost\n6901234567892,3,1.005\n", "Line 2: Cost '1.005' is not an amount in yuan like 3.50 "
                                                  "(at most two decimals)."),
    (b"barcode,qty,cost\n6901234567892,1.5,1.00\n", "Line 2: Qty 1.5 is not a whole number of pieces (瓶)."),
])
def test_a_bad_delivery_names_its_line_and_writes_nothing(database, content, sentence):
    catalogue()
    with pytest.raises(stock.StockFileError) as raised:
        stock_files.read_delivery(b"barcode,qty,cost\n2001,1,1.00\n" + content.split(b"\n", 1)[1])
    assert str(raised.value) == sentence.replace("Line 2", "Line 3")
    assert StockMove.select().count() == 0


def test_a_count_that_is_not_a_number_names_its_line(database):
    catalogue()
    with pytest.raises(stock.StockFileError) as raised:
        stock_files.read_count("条码,实盘\n6901234567892,十九\n".encode("gbk"))
    assert str(raised.value) == "Line 2: Counted '十九' is not a number like 24 or 1.5."


def test_adjust_needs_a_reason_and_a_note_for_other(database):
    catalogue()
    stock.adjust(COLA, -2000, "damaged", "1", note="dropped")
    with pytest.raises(stock.StockError, match="needs a note"):
        stock.adjust(COLA, -1000, "other", "1")
    with pytest.raises(stock.StockError, match="is not one of"):
        stock.adjust(COLA, -1000, "stolen", "1")
    assert stock.on_hand(stock.find(COLA).id) == -2000
    assert [m["reason"] for m in stock.moves(COLA)] == ["damaged"]


def test_selling_reads_one_balance_row_by_its_key_and_a_products_moves_by_index(sqlite_database):
    catalogue()
    database = sqlite_database
    plans = {}
    for name, sql in (("read", stock._read_sql(database)), ("lock", stock._sql(database)[0]),
                      ("update", stock._sql(database)[2])):
        params = (1,) if name != "update" else (1, 1, 1, 1)
        plans[name] = " ".join(row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert all("USING INTEGER PRIMARY KEY" in plan for plan in plans.values()), plans
    history = StockMove.select(StockMove.id).where(StockMove.product == 1).order_by(StockMove.id)
    sql, params = history.sql()
    plan = " ".join(row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "stock_move_product" in plan, plan
