"""Shared data comes down: products, prices, codes and cashiers written on the shop's server reach the till's copy.

A real PostgreSQL server (the till schema by store.migrations plus store.shared_data's server part) and a
real SQLite file as the till's database; the back-office writes go through the same store functions the CLI
uses, bound to the server.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List

import psycopg2
import psycopg2.extensions
import pytest

from store import catalogue, migrations, sales, shared_data
from store.cashiers import add_cashier, check_cashier
from store.db import close_database, connect_url, db, open_database
from store.models import Cashier, Line, PriceChange, Product, ProductKey, SharedCopy
from store.server import ServerError, connect_server, migrate_server

CSV = ("barcode,name,price,unit\n"
       "6901234567892,可口可乐 330ml,3.50,瓶\n"
       "6902538006100,雪碧 500ml,4.00,瓶\n"
       "2001,苹果,12.80,kg\n").encode()


class Counting(psycopg2.extensions.cursor):
    """A cursor that writes down every statement it runs (the cheap-poll test reads them back)."""

    statements: List[str] = []

    def execute(self, query, vars=None):  # noqa: A002 (psycopg2's own name)
        Counting.statements.append(query if isinstance(query, str) else query.decode())
        return super().execute(query, vars)


class Shop:
    def __init__(self, server_url: str, till_url: str) -> None:
        self.server_url, self.till_url = server_url, till_url
        done = migrate_server(server_url)  # the till schema, then every server part: ours among them
        assert any(step.startswith("server: Server DDL (idempotent)") for step in done)
        migrate_server(server_url)  # idempotent
        self.conn = connect_server(server_url)
        open_database(till_url)

    @contextlib.contextmanager
    def server(self) -> Iterator[None]:
        """The store bound to the server for a while, as a back-office command with [server] url is."""
        open_database(self.server_url)
        try:
            yield
        finally:
            open_database(self.till_url)

    def pull(self) -> int:
        return shared_data.pull(self.conn)

    def close(self) -> None:
        self.conn.close()
        close_database()
        db.initialize(None)


@pytest.fixture
def shop(postgres_url, sqlite_url) -> Iterator[Shop]:
    shop = Shop(postgres_url, sqlite_url)
    try:
        yield shop
    finally:
        shop.close()


def _products():
    return sorted(Product.select(Product.id, Product.barcode, Product.name, Product.price_fen, Product.unit,
                                 Product.active, Product.pinyin, Product.initials).tuples())


def _keys():
    return sorted(ProductKey.select(ProductKey.kind, ProductKey.key, ProductKey.product).tuples())


def _prices():
    return sorted(PriceChange.select(PriceChange.id, PriceChange.product, PriceChange.old_price_fen,
                                     PriceChange.new_price_fen, PriceChange.source).tuples())


def _cashiers():
    return sorted(Cashier.select(Cashier.id, Cashier.code, Cashier.name, Cashier.pin_hash, Cashier.active,
                                 Cashier.manager).tuples())


def _everything():
    return _products(), _keys(), _prices(), _cashiers()


def test_products_imported_on_the_server_come_down_equal_with_the_servers_ids(shop):
    with shop.server():
        catalogue.import_file(CSV)
        catalogue.set_price("2001", 1380, changed_by="owner")
        on_server = _everything()
    assert _products() == []
    changed = shop.pull()
    assert changed == len(on_server[0]) + len(on_server[1]) + len(on_server[2])
    assert _everything() == on_server
    assert catalogue.search_products("kekou")[0]["barcode"] == "6901234567892"  # the keys came too
    assert shop.pull() == 0  # idempotent: nothing moved, nothing written
    assert _everything() == on_server


def test_a_price_change_flows_down_and_only_later_sales_use_it(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    before = sales.find_product("6901234567892")
    basket = sales.Basket()
    basket.add(before, 1000)
    early = sales.commit_sale(basket, _cash(basket), "1")
    with shop.server():
        catalogue.set_price("6901234567892", 390, changed_by="owner")
    assert shop.pull() == 2  # the product and its price change
    basket = sales.Basket()
    basket.add(sales.find_product("6901234567892"), 1000)
    late = sales.commit_sale(basket, _cash(basket), "1")
    prices = {sale: price for sale, price in Line.select(Line.sale, Line.unit_price_fen).tuples()}
    assert prices == {early.id: 350, late.id: 390}
    assert catalogue.price_history("6901234567892")[-1]["new_price_fen"] == 390


def _cash(basket):
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    return tender


def test_a_product_deleted_on_the_server_goes_and_a_sold_one_stays_inactive_with_its_stock(shop):
    from store import stock

    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    apple = sales.find_product("2001")
    basket = sales.Basket()
    basket.add(apple, 500)
    sale = sales.commit_sale(basket, _cash(basket), "1")  # a stock move of the apple, on this till
    with shop.server():  # an owner's own SQL: the triggers see it
        db.obj.execute_sql("DELETE FROM product WHERE barcode IN ('2001', '6902538006100')")
        on_server = _products()
    apple_keys = ProductKey.select().where(ProductKey.product == apple.id).count()
    assert shop.pull() == 2 + apple_keys  # the sprite deleted (its keys with it), the apple retired, its keys gone
    assert sales.find_product("6902538006100") is None and catalogue.find_retired("6902538006100") is None
    kept = Product.get_by_id(apple.id)
    assert (kept.barcode, kept.active) == ("2001", False)
    assert sales.find_product("2001") is None and catalogue.find_retired("2001").id == apple.id
    assert [row for row in _products() if row[0] != apple.id] == on_server
    assert stock.on_hand(apple.id) == -500
    line = Line.get(Line.sale == sale.id)
    assert (line.product_id, line.barcode, line.name, line.unit_price_fen) == (apple.id, "2001", "苹果", 1280)
    assert shop.pull() == 0
    with shop.server():  # the server gives the barcode to a new product
        catalogue.add_product("2001", "富士苹果", 1580, "kg")
    shop.pull()
    assert Product.get_by_id(apple.id).barcode == f"~{apple.id}"
    assert sales.find_product("2001").name == "富士苹果"


def test_an_unsold_product_deleted_on_the_server_goes_with_its_keys_and_prices(shop):
    with shop.server():
        catalogue.import_file(CSV)
        catalogue.set_price("2001", 1500)
    shop.pull()
    with shop.server():
        db.obj.execute_sql("DELETE FROM product WHERE barcode = '2001'")
        on_server = _everything()
    shop.pull()
    assert _everything() == on_server


def test_a_code_deleted_on_the_server_goes(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    with shop.server():
        db.obj.execute_sql("DELETE FROM product_key WHERE kind = 'n' AND key = '苹果'")
        on_server = _keys()
    assert shop.pull() == 1
    assert _keys() == on_server
    assert ("n", "苹果") not in {(kind, key) for kind, key, _ in _keys()}


def test_two_products_swapping_barcodes_on_the_server_swap_on_the_till(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    with shop.server(), db.obj.atomic():
        for old, new in (("2001", "tmp"), ("6902538006100", "2001"), ("tmp", "6902538006100")):
            db.obj.execute_sql("UPDATE product SET barcode = %s WHERE barcode = %s", (new, old))
        on_server = _products()
    assert shop.pull() == 2
    assert _products() == on_server


def test_cashiers_come_down_and_sign_in_works_offline(shop):
    with shop.server():
        add_cashier("c1", "王芳", "2468")
        add_cashier("m1", "李店长", "135790", manager=True)
        on_server = _cashiers()
    assert shop.pull() == 2
    assert _cashiers() == on_server
    shop.conn.close()  # offline from here
    assert check_cashier("c1", "2468").name == "王芳"
    assert check_cashier("m1", "135790").manager
    assert check_cashier("c1", "0000") is None


def test_a_cashier_deactivated_on_the_server_can_no_longer_sign_in(shop):
    with shop.server():
        add_cashier("c1", "王芳", "2468")
    shop.pull()
    with shop.server():
        Cashier.update(active=False).where(Cashier.code == "c1").execute()
    assert shop.pull() == 1
    assert check_cashier("c1", "2468") is None


def test_an_unchanged_server_costs_one_row_read(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    shop.conn.cursor_factory = Counting
    Counting.statements = []
    assert shop.pull() == 0
    reads = [s for s in Counting.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "shared_version" in reads[0] and "WHERE id = 1" in reads[0]
    assert not any('"product"' in s for s in Counting.statements)


def test_only_the_tables_that_moved_are_read(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    with shop.server():
        add_cashier("c1", "王芳", "2468")
    shop.conn.cursor_factory = Counting
    Counting.statements = []
    assert shop.pull() == 1
    tables = [s for s in Counting.statements if " FROM " in s and "shared_version" not in s]
    assert len(tables) == 1 and '"cashier"' in tables[0]


def test_generation_and_listeners_move_only_when_rows_changed(shop):
    seen = []
    remove = shared_data.on_change(seen.append)
    try:
        start = shared_data.generation()
        with shop.server():
            catalogue.import_file(CSV)
        shop.pull()
        assert shared_data.generation() == start + 1
        assert seen == [{"product", "product_key"}]
        shop.pull()
        assert shared_data.generation() == start + 1 and len(seen) == 1
    finally:
        remove()


def test_a_server_gone_mid_read_changes_nothing_locally(shop, monkeypatch):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    with shop.server():
        catalogue.set_price("2001", 1500)
        add_cashier("c1", "王芳", "2468")
    before = _everything(), sorted(SharedCopy.select().tuples())
    real = shared_data._server_rows

    def cut(cursor, table):
        if table.name == "cashier":
            cursor.connection.close()  # the cable pulled between two tables
        return real(cursor, table)

    monkeypatch.setattr(shared_data, "_server_rows", cut)
    with pytest.raises(ServerError) as caught:
        shop.pull()
    assert caught.value.code == "shared_read_failed" and "unchanged" in str(caught.value)
    assert (_everything(), sorted(SharedCopy.select().tuples())) == before
    monkeypatch.undo()
    shop.conn = connect_server(shop.server_url)  # the worker reconnects
    assert shop.pull() == 3  # the product, its price change, the cashier
    assert sales.find_product("2001").price_fen == 1500


def test_an_unreachable_server_raises_and_leaves_the_copy(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    before = _everything()
    shop.conn.close()
    with pytest.raises(ServerError):
        shop.pull()
    assert _everything() == before


def test_a_server_without_the_shared_part_says_so_in_one_sentence(postgres_url, sqlite_url):
    database = connect_url(postgres_url)
    migrations.migrate(database)
    database.close()
    open_database(sqlite_url)
    conn = psycopg2.connect(postgres_url)
    try:
        with pytest.raises(shared_data.SharedDataError) as caught:
            shared_data.pull(conn)
        assert caught.value.code == "shared_not_installed"
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    finally:
        conn.close()
        close_database()
        db.initialize(None)


def test_rows_the_till_cannot_take_leave_the_copy_and_say_why(shop):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    before = _everything()
    with shop.server():
        catalogue.set_price("2001", 1500)
        db.obj.execute_sql("ALTER TABLE product_key DROP CONSTRAINT product_key_product_id_fkey")
        db.obj.execute_sql("INSERT INTO product_key (kind, key, product_id) VALUES ('n', 'xx', 999999)")
    with pytest.raises(shared_data.SharedDataError) as caught:
        shop.pull()
    assert caught.value.code == "shared_copy_failed"
    assert _everything() == before


def test_a_new_server_is_copied_whole(shop, postgres_server):
    with shop.server():
        catalogue.import_file(CSV)
    shop.pull()
    other = Shop(postgres_server.create_database(), shop.till_url)
    try:
        with other.server():
            catalogue.add_product("42", "塑料袋", 20)
            on_other = _everything()
        other.pull()
        assert _everything() == on_other
    finally:
        other.conn.close()


def test_a_running_till_hears_shared_settings_change_after_a_pull(shop):
    from tui.services.shared_settings import SharedSettingsFollower
    from tui.settings import Settings

    got = []
    follower = SharedSettingsFollower(Settings(), got.append).start()
    try:
        with shop.server():
            catalogue.add_product("42", "塑料袋", 20)
        shop.pull()
        assert got == []  # products only: the settings stay
        with shop.server():
            shared_data.set_shared_setting("selling", "cashier_max_discount", 25)
            shared_data.set_shared_setting("limits", "max_qty", "many")  # fails its check: ignored
        shop.pull()
        assert len(got) == 1 and got[0].selling.cashier_max_discount == 25
        assert got[0].limits.max_qty == Settings().limits.max_qty
        with shop.server():
            shared_data.unset_shared_setting("selling", "cashier_max_discount")
        shop.pull()
        assert got[-1].selling.cashier_max_discount == Settings().selling.cashier_max_discount  # the file's again
    finally:
        follower.stop()
    with shop.server():
        shared_data.set_shared_setting("selling", "cashier_max_discount", 30)
    shop.pull()
    assert len(got) == 2  # stopped: not told
