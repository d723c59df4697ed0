"""The shop's stock on each till: a real PostgreSQL server, two SQLite tills; every till's moves counted once."""
from __future__ import annotations

import datetime

import pytest

from store import models as m, server, shop_stock, stock, sync_batch
from store.db import db
from tests.store.helpers import catalogue, ring_up
from tests.store.synctills import Till

COLA = "6901234567892"


@pytest.fixture
def shop(postgres_url, tmp_path):
    """The shop's server (migrated) with a connection, and two tills each holding the same catalogue."""
    server.migrate_server(postgres_url)
    conn = server.connect_server(postgres_url)
    tills = [Till(tmp_path, "01"), Till(tmp_path, "02")]
    products = {}
    for till in tills:
        with till:
            products = catalogue()  # the same ids on both tills (they come down from the server in the shop)
    try:
        yield conn, tills, products
    finally:
        conn.close()


def _receive(products, till_id: str, qty: int) -> None:
    stock.receive([stock.DeliveryRow(1, products[COLA].id, COLA, qty, 180, "supplier")], till_id, "c1", "D-1")


def _sync(till: Till, conn) -> None:
    """One sync round of the till (bound): its batches up, then the shop's stock down."""
    till.push(conn)
    shop_stock.pull(conn, till.till_id)
    conn.rollback()


def _shop_on_hand(till: Till, products) -> int:
    with till:
        return shop_stock.on_hand(products[COLA].id)


def test_received_on_till_1_and_sold_on_till_2_both_tills_show_the_shops_figure(shop):
    conn, (one, two), products = shop
    with one:
        _receive(products, "01", 24000)
    with two:
        ring_up(products, (COLA, 2000), till_id="02")
        ring_up(products, (COLA, 1000), till_id="02")
    for till in (one, two, one):  # till 1 again: it learns of till 2's sales
        with till:
            _sync(till, conn)
    assert _shop_on_hand(one, products) == _shop_on_hand(two, products) == 21000
    with one:
        assert stock.on_hand(products[COLA].id) == 24000  # the till's own balance: its own moves, as before
        assert stock.check_balances() == []
        [row] = [b for b in shop_stock.list_stock() if b.barcode == COLA]
        assert row.on_hand_milli == 21000 and row.avg_cost_fen == 180
        assert shop_stock.stock_value() == 21 * 180
        assert shop_stock.on_hand_many([products[COLA].id, products["42"].id]) == {products[COLA].id: 21000,
                                                                                   products["42"].id: 0}
    with two:
        assert stock.on_hand(products[COLA].id) == -3000
        assert stock.check_balances() == []
        assert stock.stock_value() == 0  # alone, till 2 thinks the shelf is empty
        assert shop_stock.stock_value() == 21 * 180


def test_a_sale_on_till_2_not_yet_synced_is_counted_once_before_and_after_its_batch(shop):
    conn, (one, two), products = shop
    with one:
        _receive(products, "01", 10000)
        _sync(one, conn)
    with two:
        _sync(two, conn)
        assert shop_stock.on_hand(products[COLA].id) == 10000
        ring_up(products, (COLA, 3000), till_id="02")
        assert shop_stock.on_hand(products[COLA].id) == 7000  # its own sale, not on the server yet
        assert sync_batch.waiting("02") > 0
        two.push(conn)  # the server has it now; till 2's copy is still the old figure
        assert shop_stock.on_hand(products[COLA].id) == 7000
        shop_stock.pull(conn, "02")
        conn.rollback()
        assert shop_stock.on_hand(products[COLA].id) == 7000  # the server's 7000, its bound past the sale
        assert m.ShopStock.get_by_id(products[COLA].id).on_hand_milli == 7000
        ring_up(products, (COLA, 1000), till_id="02")
        assert shop_stock.on_hand(products[COLA].id) == 6000
    with one:
        assert shop_stock.on_hand(products[COLA].id) == 10000  # till 1 has not pulled since
        shop_stock.pull(conn, "01")
        conn.rollback()
        assert shop_stock.on_hand(products[COLA].id) == 7000  # till 2's second sale is not synced yet


def test_nothing_moved_is_one_read_and_no_local_write(shop):
    conn, (one, _two), products = shop
    with one:
        _receive(products, "01", 5000)
        _sync(one, conn)
        mark = m.ShopStockMark.get_by_id(1)
        assert shop_stock.pull(conn, "01") == 0
        conn.rollback()
        again = m.ShopStockMark.get_by_id(1)
        assert (again.version, again.head_seq, again.pulled_at, again.checked_at) == \
            (mark.version, mark.head_seq, mark.pulled_at, mark.checked_at)
        ring_up(products, (COLA, 1000), till_id="01")
        one.push(conn)
        assert shop_stock.pull(conn, "01") == 1  # only the row that changed
        conn.rollback()
        assert m.ShopStockMark.get_by_id(1).version > mark.version


def test_offline_the_figure_stays_with_its_time_and_the_tills_own_sales_still_count(shop, postgres_url):
    conn, (one, _two), products = shop
    with one:
        _receive(products, "01", 8000)
        _sync(one, conn)
        pulled = shop_stock.as_of()
        assert pulled is not None
        gone = server.connect_server(postgres_url)
        gone.close()
        ring_up(products, (COLA, 2000), till_id="01")
        with pytest.raises(shop_stock.ShopStockError) as raised:
            shop_stock.pull(gone, "01")
        assert "keeps the figure it had" in str(raised.value)
        assert shop_stock.on_hand(products[COLA].id) == 6000
        assert shop_stock.as_of() == pulled

        from tui.services.stock import stale_time

        assert stale_time(pulled, pulled + datetime.timedelta(minutes=1)) is None
        assert stale_time(pulled, pulled + datetime.timedelta(minutes=12)) == pulled.strftime("%H:%M")


def test_a_standalone_till_shows_its_own_figures_exactly_as_before(tmp_path):
    till = Till(tmp_path, "01")
    with till:
        products = catalogue()
        _receive(products, "01", 4000)
        ring_up(products, (COLA, 1000), till_id="01")
        stock.set_min(COLA, 5000)
        pid = products[COLA].id
        assert shop_stock.as_of() is None
        assert shop_stock.on_hand(pid) == stock.on_hand(pid) == 3000
        assert shop_stock.list_stock() == stock.list_stock()
        assert shop_stock.low_stock() == stock.low_stock() != []
        assert shop_stock.stock_value() == stock.stock_value()

        from tui.services import stock as till_stock
        from tui.services.figures import stock_figures
        from tui.services.products import with_on_hand

        assert till_stock.read_on_hand(pid) == 3000 and till_stock.as_of_note(False) == ""
        assert with_on_hand([{"id": pid, "unit": "瓶"}])[0]["on_hand"] == "3瓶"
        figures = stock_figures(datetime.date.today())
        assert figures["as_of"] == "" and figures["value_fen"] == stock.stock_value()


def test_the_owners_low_stock_and_the_search_use_the_shops_figure_when_a_server_is_named(shop):
    conn, (one, two), products = shop
    with one:
        _receive(products, "01", 6000)
        stock.set_min(COLA, 4000)
        _sync(one, conn)
    with two:
        ring_up(products, (COLA, 3000), till_id="02")
        _sync(two, conn)
    with one:
        _sync(one, conn)
        from tui.services.figures import stock_figures
        from tui.services.products import with_on_hand

        assert stock.low_stock() == []  # alone, till 1 still has 6
        figures = stock_figures(datetime.date.today(), shop_wide=True)
        assert [(b.barcode, b.on_hand_milli, b.min_milli) for b in figures["low"]] == [(COLA, 3000, 4000)]
        assert figures["as_of"] == ""  # just confirmed
        assert with_on_hand([{"id": products[COLA].id, "unit": "瓶"}], shop_wide=True)[0]["on_hand"] == "3瓶"
        m.ShopStockMark.update(checked_at=datetime.datetime(2020, 1, 1, 9, 5)).execute()
        shop_stock._confirmed.clear()  # a till started again, the server out of reach since 09:05
        from tui.i18n import t

        assert with_on_hand([{"id": products[COLA].id, "unit": "瓶"}], shop_wide=True)[0]["on_hand"] == \
            "3瓶" + t("stock.as_of", time="09:05") != "3瓶"


def test_the_shops_on_hand_reads_the_moves_after_the_bound_by_index(shop):
    conn, (one, _two), products = shop
    with one:
        _receive(products, "01", 6000)
        _sync(one, conn)
        pid = products[COLA].id
        plan = " ".join(str(row[-1]) for row in db.obj.execute_sql(
            "EXPLAIN QUERY PLAN " + shop_stock._on_hand_sql(), (pid, pid, 1)).fetchall())
        assert "stock_move_product" in plan and "SCAN t" not in plan and "SCAN stock_move" not in plan, plan
        tail = " ".join(str(row[-1]) for row in db.obj.execute_sql(
            "EXPLAIN QUERY PLAN SELECT product_id, kind, qty_milli, cost_fen FROM stock_move WHERE id >= ? "
            "ORDER BY id", (1,)).fetchall())
        assert "USING INTEGER PRIMARY KEY" in tail, tail
        assert m.ShopStockMark.get_by_id(1).first_move == m.StockMove.select().count() + 1
