"""Back-office commands that write shared data (products, prices, cashiers) write to the shop's server when one
is named ([server] url or --server), and the till's copy receives it from there (store.shared_data.pull)."""
from __future__ import annotations

import psycopg2
import pytest

from tests.cli.helpers import Shop, one_line, process_state

ON_SERVER = "written to the shop's server; tills receive it within seconds"
GOOD_CSV = """\
    barcode,name,price,unit
    6901,可口可乐,3.50,瓶
    6902,雪碧,4.00,瓶
    """


@pytest.fixture
def server_shop(home, cli, postgres_url) -> Shop:
    shop = Shop(home, cli)
    shop.config.write_text(f'[server]\nurl = "{postgres_url}"\n', encoding="utf-8")
    shop.ok("init")
    shop.server_url = postgres_url  # type: ignore[attr-defined]
    return shop


def _pull(shop: Shop) -> int:
    """What the till's sync worker does: copy the server's shared data into the till's database."""
    from store import shared_data
    from store.db import open_database

    with process_state():
        open_database(shop.url)
        conn = psycopg2.connect(shop.server_url)  # type: ignore[attr-defined]
        try:
            return shared_data.pull(conn)
        finally:
            conn.close()


def _server_products(url: str) -> list:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT barcode, price_fen FROM product ORDER BY barcode")
            return cursor.fetchall()
    finally:
        conn.close()


def test_products_import_with_a_server_writes_the_server_and_the_till_receives_it(server_shop):
    shop = server_shop
    result = shop.ok("products", "import", str(shop.csv("good.csv", GOOD_CSV)))
    assert "imported 2 products" in result.stdout and ON_SERVER in result.stdout
    assert shop.sql("SELECT count(*) FROM product") == [(0,)]  # not the local database
    assert _server_products(shop.server_url) == [("6901", 350), ("6902", 400)]
    assert _pull(shop) > 0
    assert [(p["barcode"], p["price"]) for p in shop.products()] == [("6901", "3.50"), ("6902", "4.00")]


def test_min_stock_thresholds_are_not_written_to_the_server(server_shop):
    shop = server_shop
    result = shop.ok("products", "import", str(shop.csv("mins.csv", "barcode,name,price,min_stock\n6901,可乐,3.50,12\n")))
    assert "min_stock thresholds not written (1 row)" in result.stdout and ON_SERVER in result.stdout
    conn = psycopg2.connect(shop.server_url)  # type: ignore[attr-defined]
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM stock_balance")
            assert cursor.fetchone() == (0,)
    finally:
        conn.close()


def test_a_price_change_deactivation_and_a_new_product_on_the_server_come_down(server_shop):
    shop = server_shop
    shop.ok("products", "import", str(shop.csv("good.csv", GOOD_CSV)))
    _pull(shop)
    assert ON_SERVER in shop.ok("products", "price", "6901", "3.80", "--by", "owner").stdout
    assert ON_SERVER in shop.ok("products", "deactivate", "6902").stdout
    assert ON_SERVER in shop.ok("products", "add", "--barcode", "42", "--name", "塑料袋", "--price", "0.20").stdout
    assert _pull(shop) > 0
    assert [(p["barcode"], p["price"]) for p in shop.products()] == [("42", "0.20"), ("6901", "3.80")]
    history = shop.ok("products", "history", "6901", "--json").stdout  # read from the till's copy
    assert '"changed_by": "owner"' in history


def test_cashiers_added_on_the_server_sign_in_on_the_till(server_shop):
    shop = server_shop
    result = shop.ok("cashiers", "add", "--code", "m1", "--name", "李店长", "--manager", "--pin-stdin",
                     input="135790\n")
    assert "added manager m1" in result.stdout and ON_SERVER in result.stdout
    assert shop.sql("SELECT count(*) FROM cashier") == [(0,)]
    assert _pull(shop) == 1
    from store.cashiers import check_cashier
    from store.db import open_database

    with process_state():
        open_database(shop.url)
        assert check_cashier("m1", "135790").manager


def test_server_option_names_the_server_without_settings(home, cli, postgres_url):
    shop = Shop(home, cli)
    shop.ok("init")
    result = shop.ok("products", "add", "--barcode", "42", "--name", "塑料袋", "--price", "0.20",
                     "--server", postgres_url)
    assert ON_SERVER in result.stdout
    assert _server_products(postgres_url) == [("42", 20)] and shop.sql("SELECT count(*) FROM product") == [(0,)]
    local = shop.ok("products", "add", "--barcode", "43", "--name", "纸袋", "--price", "0.50")
    assert ON_SERVER not in local.stdout and shop.sql("SELECT barcode FROM product") == [("43",)]


def test_an_unreachable_server_is_one_sentence_without_the_password(shop, home):
    url = f"postgresql://owner:s3cret@/shop?host={home}/no-such-socket"
    result = shop.run("products", "add", "--barcode", "42", "--name", "塑料袋", "--price", "0.20", "--server", url)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "owner:***@" in line and "s3cret" not in line + result.stdout
    assert shop.sql("SELECT count(*) FROM product") == [(0,)]


def test_a_server_option_that_is_no_postgresql_url_is_refused(shop):
    result = shop.run("products", "price", "42", "1.00", "--server", "sqlite:///x.db")
    assert result.returncode == 2 and "is not a PostgreSQL URL" in one_line(result.stderr)


# ---------------------------------------------------------------- shared settings

def test_a_shared_setting_set_on_the_server_overrides_the_tills_file_from_its_next_start(server_shop):
    from store.db import open_database
    from tui.cli.common import load_settings
    from tui.cli.till import with_shared_settings

    shop = server_shop
    result = shop.ok("shared", "set", "selling.cashier_max_discount", "15", "--by", "owner")
    assert "shared selling.cashier_max_discount = 15" in result.stdout and ON_SERVER in result.stdout
    shop.ok("shared", "set", "selling.rounding", "jiao")
    shop.ok("shared", "set", "limits.max_qty", "50")
    listed = shop.ok("shared", "list", "--json").stdout  # the server's
    assert '"cashier_max_discount": 15' in listed and ON_SERVER not in listed
    assert _pull(shop) == 3
    import argparse

    with process_state():
        open_database(shop.url)
        file = load_settings(argparse.Namespace(config=str(shop.config)))
        applied = with_shared_settings(file)
    assert (file.selling.cashier_max_discount, file.selling.rounding, file.limits.max_qty) != (15, "jiao", 50)
    assert (applied.selling.cashier_max_discount, applied.selling.rounding, applied.limits.max_qty) == (15, "jiao", 50)
    assert applied.selling.merge_scans == file.selling.merge_scans  # the rest is the file's
    assert "selling.rounding" in shop.ok("shared", "unset", "selling.rounding").stdout
    assert _pull(shop) == 1


def test_a_shared_setting_is_checked_as_the_file_would_check_it(server_shop):
    shop = server_shop
    for args, words in ((["selling.cashier_max_discount", "lots"], "must be"),
                        (["selling.rounding", "cents"], "must be one of"),
                        (["printer.baudrate", "9600"], "cannot be shared"),
                        (["selling.no_such_key", "1"], "is not a known setting"),
                        (["selling", "1"], "is not SECTION.KEY")):
        result = shop.run("shared", "set", *args)
        assert result.returncode == 2 and words in one_line(result.stderr), (args, result.stderr)
    assert "no shared settings" in shop.ok("shared", "list").stdout


def test_shared_settings_that_fail_their_check_on_the_till_are_ignored_and_said():
    from store import shared_data
    from tui.settings import SHARED_SECTIONS, Settings, with_shared

    assert SHARED_SECTIONS == shared_data.SHARED_SECTIONS
    applied, problems = with_shared(Settings(), {"selling": {"cashier_max_discount": "x", "rounding": "yuan"},
                                                 "printer": {"baudrate": 1}})
    assert applied.selling.rounding == "yuan"
    assert applied.selling.cashier_max_discount == Settings().selling.cashier_max_discount
    assert len(problems) == 2 and all(problem.startswith("shared setting ignored: ") for problem in problems)
