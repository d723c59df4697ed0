"""The back-office CLI against real SQLite files (and once PostgreSQL).

Commands run in this process through ``tests.cli.helpers.Cli`` (``main(argv)``,
output read with capsys), which fails the test if a traceback ever reaches
stdout or stderr. What only a real process shows (start-up imports, the
terminal staying free of log lines, a closed pipe, ``python -m tui.cli`` itself)
runs as one.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from tests.cli.helpers import Shop, command, one_line, process_env, run_process

# ---------------------------------------------------------------- init

def test_init_writes_commented_settings_and_creates_the_database(home, cli):
    shop = Shop(home, cli)
    result = shop.ok("init")
    assert shop.config.exists() and shop.db_path.exists()
    text = shop.config.read_text(encoding="utf-8")
    assert "[printer]" in text and "baudrate = 9600" in text and "店名" in text
    assert str(shop.config) in result.stdout
    tables = {row[0] for row in shop.sql("select name from sqlite_master where type = 'table'")}
    assert {"product", "sale", "line", "payment", "receipt_outcome"} <= tables
    assert shop.sql("pragma journal_mode")[0][0] == "wal"


def test_init_keeps_existing_settings_and_creates_the_database_they_name(home, cli):
    shop = Shop(home, cli)
    own = '[shop]\nname = "我的店"\n[database]\nurl = "sqlite:///mine.sqlite3"\n'
    shop.config.write_text(own, encoding="utf-8")
    result = shop.ok("init")
    assert shop.config.read_text(encoding="utf-8") == own
    assert (home / "mine.sqlite3").exists() and not shop.db_path.exists()
    assert "kept" in result.stdout and "mine.sqlite3" in result.stdout
    shop.ok("products", "list")  # the database init made is the one the commands use
    shop.ok("init")  # again: nothing to do, still fine
    assert shop.config.read_text(encoding="utf-8") == own


def test_init_force_writes_the_default_settings(shop):
    shop.config.write_text('[shop]\nname = "我的店"\n', encoding="utf-8")
    shop.ok("init", "--force")
    assert "baudrate = 9600" in shop.config.read_text(encoding="utf-8")


def test_init_on_a_broken_settings_file_is_one_line_and_creates_nothing(home, cli):
    shop = Shop(home, cli)
    shop.config.write_text('[printer]\nbaudrate = "fast"\n', encoding="utf-8")
    result = shop.run("init")
    assert result.returncode == 2 and "baudrate" in one_line(result.stderr)
    assert not list(home.rglob("*.sqlite3"))


@pytest.mark.parametrize("args", [[], ["run"], ["products", "list"], ["sales", "list"]],
                         ids=lambda args: " ".join(args) or "till")
def test_no_settings_file_at_all_is_refused_by_the_till_and_the_back_office(home, cli, args):
    result = cli(*args)
    assert result.returncode == 2, result
    line = one_line(result.stderr)
    assert "no settings file" in line and "chaoying init" in line
    assert not list(home.rglob("*.sqlite3")), "an empty shop was created"


def test_database_url_alone_names_the_shop_without_a_settings_file(home, cli):
    url = "sqlite:///" + str(home / "shop.db")
    Shop(home, cli).ok("init", "--config", str(home / "elsewhere.toml"), env={"DATABASE_URL": url}, config=False)
    result = cli("products", "list", env={"DATABASE_URL": url})
    assert result.returncode == 0 and "no products yet" in result.stdout


def test_the_till_refuses_a_database_init_has_not_made(home, cli):
    shop = Shop(home, cli)
    shop.config.write_text('[shop]\nname = "我的店"\n', encoding="utf-8")
    for args in ([], ["run"]):
        result = shop.run(*args)
        assert result.returncode == 2
        assert "does not exist" in one_line(result.stderr) and "chaoying init" in result.stderr
    assert not shop.db_path.exists()
    shop.ok("init")
    assert shop.db_path.exists()


def test_init_uses_the_platform_config_dir_without_config(home, cli):
    shop = Shop(home, cli)
    shop.ok("init", config=False)
    assert (home / "config" / "chaoying" / "chaoying.toml").exists()
    assert shop.db_path.exists()


def test_init_honours_chaoying_config_and_config_after_the_subcommand(home, cli):
    shop = Shop(home, cli)
    shop.ok("init", env={"CHAOYING_CONFIG": str(home / "env.toml")}, config=False)
    assert (home / "env.toml").exists()
    shop.ok("init", "--config", str(home / "after.toml"), config=False)
    assert (home / "after.toml").exists()


def _story(shop: Shop) -> list:
    """What a refused init must leave as it was: every sale, event and audit record."""
    return [shop.sql(f"select * from {table} order by id") for table in ("sale", "event", "audit")]


def test_init_says_which_database_it_uses_and_the_shop_already_in_it(home, cli):
    shop = Shop(home, cli)
    assert f"database: {shop.url} (new)" in shop.ok("init").stdout
    shop.seed(3)
    again = shop.ok("init").stdout
    assert f"database: {shop.url}, which already holds shop 超赢小店 with 3 sales" in again
    assert shop.sql("select till_id, detail from event where kind = 'shop'") == [("1", "超赢小店")]  # once
    assert shop.ok("journal", "verify", "--full").stdout.startswith("journal ok: 3 sales")


def test_init_with_a_new_settings_file_refuses_the_database_of_another_shop(home, cli):
    zhang = Shop(home, cli)
    zhang.config.write_text('[shop]\nname = "张记"\n', encoding="utf-8")  # no url: the default database
    zhang.ok("init")
    zhang.seed(2)
    before = _story(zhang)
    newcomer = Shop(home, cli)
    newcomer.config = home / "new-shop.toml"
    refused = newcomer.run("init")
    assert refused.returncode == 2
    line = one_line(refused.stderr)
    assert f"database {zhang.url} already holds shop 张记 with 2 sales" in line
    assert "超赢小店" in line and "nothing was changed" in line and "--force" in line
    assert not newcomer.config.exists() and _story(zhang) == before
    forced = newcomer.ok("init", "--force").stdout
    assert "which already held shop 张记 with 2 sales, now shop 超赢小店 too" in forced
    assert newcomer.config.exists()


def test_init_refuses_settings_that_name_another_shop_than_the_database_records(shop):
    shop.seed(1)
    shop.config.write_text('[shop]\nname = "李记"\n', encoding="utf-8")
    before = _story(shop)
    refused = shop.run("init")
    assert refused.returncode == 2
    line = one_line(refused.stderr)
    assert "already holds shop 超赢小店 with 1 sale" in line and "names shop 李记" in line
    assert "set [shop] name to 超赢小店" in line
    assert _story(shop) == before and shop.config.read_text(encoding="utf-8") == '[shop]\nname = "李记"\n'


def test_init_on_a_database_that_records_no_shop_name(home, cli):
    """Made before init recorded names: a new settings file is refused, the shop's own file records it."""
    shop = Shop(home, cli)
    url = "sqlite:///" + str(home / "old.sqlite3")
    shop.seed(3, url=url)  # a database with sales and no shop recorded
    env = {"DATABASE_URL": url}
    refused = shop.run("init", env=env)
    assert refused.returncode == 2
    assert "3 sales of a shop whose name it does not record" in one_line(refused.stderr)
    assert not shop.config.exists()
    shop.config.write_text('[shop]\nname = "老店"\n', encoding="utf-8")
    kept = shop.ok("init", env=env).stdout
    assert f"database: {url}, which already holds 3 sales, now recorded as shop 老店's" in kept
    assert "already holds shop 老店 with 3 sales" in shop.ok("init", env=env).stdout


def test_init_with_database_url_creates_that_database(home, cli):
    shop = Shop(home, cli)
    other = home / "elsewhere" / "shop.db"
    shop.ok("init", env={"DATABASE_URL": "sqlite:///" + str(other)})
    assert other.exists() and not shop.db_path.exists()


# ---------------------------------------------------------------- products add / list

def test_products_add_and_list(shop):
    out = shop.ok("products", "add", "--barcode", "6901234567892", "--name", "农夫山泉 550ml",
                  "--price", "2", "--unit", "瓶").stdout
    assert "6901234567892" in out and "2.00" in out
    shop.ok("products", "add", "--barcode", "1001", "--name", "苹果", "--price", "￥8.8", "--unit", "kg")
    products = {p["barcode"]: p for p in shop.products()}
    assert products["6901234567892"]["price_fen"] == 200
    assert products["6901234567892"]["name"] == "农夫山泉 550ml"
    assert products["6901234567892"]["unit"] == "瓶"
    assert products["1001"]["price_fen"] == 880 and products["1001"]["price"] == "8.80"
    table = shop.ok("products", "list").stdout
    assert "农夫山泉 550ml" in table and "8.80" in table


@pytest.mark.parametrize(
    "args, words",
    [
        (["--barcode", "1", "--name", "x", "--price", "abc"], ["abc", "yuan"]),
        (["--barcode", "1", "--name", "x", "--price", "-1"], ["-1"]),
        (["--barcode", "1", "--name", "x", "--price", "1.234"], ["1.234"]),
        (["--barcode", "", "--name", "x", "--price", "1"], ["barcode"]),
        (["--barcode", "1 2", "--name", "x", "--price", "1"], ["barcode"]),
        (["--barcode", "1", "--name", " ", "--price", "1"], ["name"]),
        (["--barcode", "1", "--name", "x"], ["--price"]),
    ],
)
def test_products_add_bad_input_is_one_line_exit_2_and_changes_nothing(shop, args, words):
    before = shop.products()
    result = shop.run("products", "add", *args)
    assert result.returncode == 2, result
    line = one_line(result.stderr)
    for word in words:
        assert word in line, line
    assert shop.products() == before


def test_products_add_duplicate_barcode(shop):
    shop.ok("products", "add", "--barcode", "42", "--name", "可乐", "--price", "3")
    result = shop.run("products", "add", "--barcode", "42", "--name", "雪碧", "--price", "3.5")
    assert result.returncode == 2
    assert "42" in one_line(result.stderr)
    assert [(p["name"], p["price_fen"]) for p in shop.products()] == [("可乐", 300)]


# ---------------------------------------------------------------- products import

GOOD_CSV = """
barcode,name,price,unit
6901,可口可乐 330ml,3.50,罐
6902,"康师傅 红烧牛肉面, 袋装",4.5,袋
6903,苹果,12,kg
"""


def test_import_good_csv(shop):
    path = shop.csv("good.csv", GOOD_CSV)
    result = shop.ok("products", "import", str(path))
    assert "3" in result.stdout
    products = {p["barcode"]: (p["name"], p["price_fen"], p["unit"]) for p in shop.products()}
    assert products == {
        "6901": ("可口可乐 330ml", 350, "罐"),
        "6902": ("康师傅 红烧牛肉面, 袋装", 450, "袋"),
        "6903": ("苹果", 1200, "kg"),
    }


def test_import_csv_with_bom_and_without_unit_column(shop):
    path = shop.csv("bom.csv", "barcode,name,price\r\n7001,豆浆,2.5\r\n7002,油条,1\r\n", bom=True)
    shop.ok("products", "import", str(path))
    products = {p["barcode"]: (p["name"], p["price_fen"], p["unit"]) for p in shop.products()}
    assert products == {"7001": ("豆浆", 250, ""), "7002": ("油条", 100, "")}


def test_import_with_bad_rows_imports_nothing_and_reports_every_line(shop):
    shop.ok("products", "add", "--barcode", "5000", "--name", "已有", "--price", "1")
    path = shop.csv("bad.csv", """
        barcode,name,price,unit
        8001,好的,1.00,个
        8002,价格错,abc,个
        8003,,2.00,个
        8004,好的二,3.00,个
        8005,负数,-3,个
        8001,重复,1.00,个
        8006,太多位,1.005,个
        8007,少一列,1.00
        """)
    result = shop.run("products", "import", str(path))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    reported = {}
    for line in lines:
        if " line " in line:
            number = int(line.split(" line ", 1)[1].split(":", 1)[0])
            reported[number] = line
    assert sorted(reported) == [3, 4, 6, 7, 8, 9], result.stderr
    assert "abc" in reported[3] and "name" in reported[4] and "-3" in reported[6]
    assert "line 2" in reported[7] and "1.005" in reported[8]
    assert "nothing imported" in lines[-1]
    assert [p["barcode"] for p in shop.products()] == ["5000"]


def test_import_updates_products_already_in_the_catalogue(shop):
    shop.ok("products", "add", "--barcode", "9002", "--name", "旧", "--price", "1")
    path = shop.csv("prices.csv", "barcode,name,price\n9001,新,1\n9002,又新,2\n")
    assert "1 added, 1 updated" in shop.ok("products", "import", str(path)).stdout
    assert [(p["barcode"], p["name"], p["price_fen"]) for p in shop.products()] == [
        ("9001", "新", 100), ("9002", "又新", 200),
    ]


def test_import_unterminated_quote_is_reported_with_the_others(shop):
    path = shop.csv("q.csv", 'barcode,name,price\n1,ok,1\n2,bad,x\n3,"never closed,1\n')
    result = shop.run("products", "import", str(path))
    assert result.returncode == 2
    assert " line 3: " in result.stderr and " line 4: " in result.stderr
    assert shop.products() == []


@pytest.mark.parametrize(
    "content, words",
    [
        (b"code,title,cost\n1,a,1\n", ["line 1", "barcode,name,price"]),
        (b"", ["empty"]),
        (b"barcode,name,price\n", ["no product rows"]),
        # GBK is read since issue 6; bytes that are neither UTF-8 nor GBK are not
        (b"barcode,name,price\n1,\xff\xff,1\n", ["line 2", "UTF-8"]),
    ],
)
def test_import_unusable_file_is_one_line(shop, content, words):
    path = shop.home / "x.csv"
    path.write_bytes(content)
    result = shop.run("products", "import", str(path))
    assert result.returncode == 2
    line = one_line(result.stderr)
    for word in words:
        assert word in line, line
    assert shop.products() == []


def test_import_missing_file(shop):
    result = shop.run("products", "import", str(shop.home / "nope.csv"))
    assert result.returncode == 2 and "nope.csv" in one_line(result.stderr)


# ---------------------------------------------------------------- sales, receipts, journal

def test_sales_list_json_and_text(shop):
    shop.seed(3)
    sales = json.loads(shop.ok("sales", "list", "--json").stdout)
    assert [s["receipt_no"] for s in sales] == [1, 2, 3]
    assert all(s["total_fen"] == 1250 for s in sales)
    assert sales[0]["receipt"] == "1-000001"
    assert sales[1]["change_fen"] == 750
    assert {p["method"]: p["status"] for p in sales[1]["payments"]} == {"wechat": "failed", "cash": "ok"}
    text = shop.ok("sales", "list").stdout
    assert "1-000003" in text and "37.50" in text


def test_sales_list_other_day_and_bad_date(shop):
    shop.seed(1)
    assert json.loads(shop.ok("sales", "list", "--date", "2001-01-01", "--json").stdout) == []
    result = shop.run("sales", "list", "--date", "31/12/2024")
    assert result.returncode == 2 and "31/12/2024" in one_line(result.stderr)


def test_sales_list_is_per_till(shop):
    shop.seed(2, till="1")
    shop.seed(1, till="B")
    assert len(json.loads(shop.ok("sales", "list", "--json").stdout)) == 2
    assert len(json.loads(shop.ok("sales", "list", "--till", "B", "--json").stdout)) == 1


def test_receipts_list_unresolved(shop):
    shop.seed(3)
    everything = json.loads(shop.ok("receipts", "list", "--json").stdout)
    assert [(r["receipt"], r["outcome"]) for r in everything] == [
        ("1-000001", "printed"), ("1-000002", "failed"), ("1-000003", "pending"),
    ]
    unresolved = json.loads(shop.ok("receipts", "list", "--unresolved", "--json").stdout)
    assert [(r["receipt"], r["outcome"]) for r in unresolved] == [("1-000002", "failed"), ("1-000003", "pending")]
    assert unresolved[0]["reason"] == "printer out of paper"
    text = shop.ok("receipts", "list", "--unresolved").stdout
    assert "1-000002" in text and "1-000001" not in text


def test_receipts_list_tells_the_printers_confirmation_from_the_cashiers_word(shop):
    """Receipt 2 failed, then the cashier said the paper came out (P on the banner): evidence cashier."""
    from store import print_attempts
    from store.db import close_database, open_database
    from tests.cli.helpers import process_state

    shop.seed(2)
    with process_state():
        open_database(shop.url)
        try:
            sale_id = shop.sql("select id from sale where till_id = '1' and receipt_no = 2")[0][0]
            print_attempts.confirm_printed(sale_id, cashier="c1")
        finally:
            close_database()
    listed = json.loads(shop.ok("receipts", "list", "--json").stdout)
    assert [(r["receipt"], r["outcome"], r["evidence"]) for r in listed] == [
        ("1-000001", "printed", "printer"), ("1-000002", "printed", "cashier")]
    text = shop.ok("receipts", "list").stdout
    assert "printed (cashier)" in text


def test_journal_verify_ok_then_an_edited_amount_names_the_receipt(shop):
    shop.seed(4)
    result = shop.ok("journal", "verify")
    assert result.stdout.strip() == "journal ok: 4 sales"
    sale_id = shop.sql("select id from sale where till_id = '1' and receipt_no = 3")[0][0]
    shop.sql("update line set amount_fen = amount_fen - 100 where sale_id = ?", sale_id)
    # receipt 3 was verified before the edit: the check from the last checkpoint trusts it, --full does not
    assert "from the last checkpoint" in shop.ok("journal", "verify").stdout
    result = shop.run("journal", "verify", "--full")
    assert result.returncode == 1
    assert "1-000003" in one_line(result.stderr)


def test_journal_verify_deleted_sale(shop):
    shop.seed(3)
    sale_id = shop.sql("select id from sale where receipt_no = 2")[0][0]
    for table in ("line", "payment", "receipt_outcome", "print_attempt", "event"):
        shop.sql(f"delete from {table} where sale_id = ?", sale_id)
    shop.sql("delete from sale where id = ?", sale_id)
    result = shop.run("journal", "verify")
    assert result.returncode == 1 and "1-000002" in one_line(result.stderr)


def test_journal_verify_empty_database(shop):
    assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 0 sales"


# ---------------------------------------------------------------- settings trouble

def test_broken_settings_file_is_one_sentence_exit_2(shop):
    shop.config.write_text('[shop]\nname = "x"\n\n[printer]\nbaudrate = "fast"\n', encoding="utf-8")
    for args in (["products", "list"], ["sales", "list"], ["journal", "verify"],
                 ["products", "add", "--barcode", "1", "--name", "x", "--price", "1"]):
        result = shop.run(*args)
        assert result.returncode == 2, args
        line = one_line(result.stderr)
        assert str(shop.config) in line and "line 5" in line and "baudrate" in line
    shop.config.write_text("[printer\n", encoding="utf-8")
    result = shop.run("products", "list")
    assert result.returncode == 2 and "line 1" in one_line(result.stderr)


def test_unknown_setting_is_exit_2(shop):
    shop.config.write_text('[till]\nid = "1"\nnumber = 2\n', encoding="utf-8")
    result = shop.run("products", "list")
    assert result.returncode == 2
    assert f"{shop.config} line 3: [till] number" in one_line(result.stderr)


def test_missing_named_settings_file(shop):
    result = shop.run("products", "list", "--config", str(shop.home / "typo.toml"))
    assert result.returncode == 2 and "typo.toml" in one_line(result.stderr)


def test_usage_mistakes_are_one_line(shop):
    for args in (["products"], ["products", "add", "--barcode", "1"], ["sales", "list", "--date"]):
        result = shop.run(*args)
        assert result.returncode == 2, args
        one_line(result.stderr)


def test_unreachable_database_is_one_line(shop):
    result = shop.run("products", "list", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "127.0.0.1" in one_line(result.stderr)


def test_log_goes_to_a_file_not_the_terminal(shop):
    log = shop.home / "state" / "chaoying" / "log" / "chaoying.log"
    log.unlink()  # init (in this process) made it; the process below must make its own
    result = shop.process("products", "list")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert log.exists()


# ---------------------------------------------------------------- next to a running till

def test_cli_works_while_a_till_holds_a_read_transaction(shop):
    shop.seed(2)
    till = sqlite3.connect(str(shop.db_path), timeout=10, isolation_level=None)
    try:
        till.execute("begin")
        assert till.execute("select count(*) from sale").fetchone()[0] == 2
        shop.ok("products", "add", "--barcode", "777", "--name", "新品", "--price", "7")
        shop.ok("products", "import", str(shop.csv("g.csv", GOOD_CSV)))
        assert len(json.loads(shop.ok("sales", "list", "--json").stdout)) == 2
        assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 2 sales"
        # The till's snapshot is untouched until it ends its transaction.
        assert till.execute("select count(*) from product where barcode = '777'").fetchone()[0] == 0
        till.execute("commit")
    finally:
        till.close()
    assert "777" in {p["barcode"] for p in shop.products()}


def test_cli_waits_for_a_till_that_is_writing(shop):
    till = sqlite3.connect(str(shop.db_path), timeout=10, isolation_level=None, check_same_thread=False)
    till.execute("begin immediate")
    till.execute("update till_counter set last_receipt_no = last_receipt_no")
    release = threading.Timer(1.0, lambda: till.execute("commit"))
    release.start()
    try:
        started = time.monotonic()
        shop.ok("products", "add", "--barcode", "888", "--name", "等一下", "--price", "8")
        assert time.monotonic() - started >= 0.5
    finally:
        release.join()
        till.close()
    assert "888" in {p["barcode"] for p in shop.products()}


def test_cli_next_to_a_till_process_selling(shop):
    till = subprocess.Popen(
        [sys.executable, "-m", "tests.cli.seed", shop.url, "1", "40", str(shop.key_file)],
        cwd=str(shop.home), env=process_env(shop.home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        shop.ok("products", "import", str(shop.csv("g.csv", GOOD_CSV)))
        for _ in range(3):
            shop.ok("sales", "list", "--json")
            shop.ok("receipts", "list", "--unresolved", "--json")
            shop.ok("journal", "verify")
    finally:
        _, err = till.communicate(timeout=60)
    assert till.returncode == 0, err
    assert shop.ok("journal", "verify").stdout.startswith("journal ok: 40 sales")
    full = shop.ok("journal", "verify", "--full").stdout.strip()  # --full says how fast it read
    assert re.fullmatch(r"journal ok: 40 sales \(\d+ records checked in \d+\.\d s, [\d,]+ records/s\)", full), full


# ---------------------------------------------------------------- PostgreSQL

def test_products_import_on_postgresql(home, cli, postgres_url):
    shop = Shop(home, cli)
    env = {"DATABASE_URL": postgres_url}
    shop.ok("init", env=env)
    shop.ok("products", "import", str(shop.csv("good.csv", GOOD_CSV)), env=env)
    bad = shop.csv("bad.csv", "barcode,name,price\n9901,好,1\n9902,坏,x\n")
    result = shop.run("products", "import", str(bad), env=env)
    assert result.returncode == 2 and "line 3" in result.stderr
    listed = json.loads(shop.ok("products", "list", "--json", env=env).stdout)
    assert sorted(p["barcode"] for p in listed) == ["6901", "6902", "6903"]
    assert not shop.db_path.exists()


def test_init_on_postgresql_names_the_database_without_its_password_and_its_shop(home, cli, postgres_url):
    secret = postgres_url.replace("postgres@", "postgres:s3cret@", 1)  # trust auth: the password is not needed
    shop = Shop(home, cli)
    shop.config.write_text('[shop]\nname = "张记"\n', encoding="utf-8")
    env = {"DATABASE_URL": secret}
    shop.ok("init", env=env)
    shop.seed(1, url=postgres_url)
    again = shop.ok("init", env=env).stdout
    assert "postgres:***@" in again and "s3cret" not in again
    assert "already holds shop 张记 with 1 sale" in again
    other = Shop(home, cli)
    other.config = home / "other.toml"
    refused = other.run("init", env=env)
    assert refused.returncode == 2 and "s3cret" not in refused.stderr
    assert "postgres:***@" in one_line(refused.stderr) and "already holds shop 张记" in refused.stderr


def test_commands_other_than_init_do_not_create_a_database(home, cli):
    shop = Shop(home, cli)
    shop.config.write_text("[till]\nid = \"1\"\n", encoding="utf-8")
    for args in (["products", "list"], ["products", "add", "--barcode", "1", "--name", "x", "--price", "1"],
                 ["journal", "verify"]):
        result = shop.run(*args)
        assert result.returncode == 2, args
        assert "chaoying init" in one_line(result.stderr)
    assert not shop.db_path.exists()


def test_init_with_an_unreachable_database_writes_no_settings(home, cli):
    shop = Shop(home, cli)
    result = shop.run("init", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1 and "127.0.0.1" in one_line(result.stderr)
    assert not shop.config.exists()


def test_back_office_commands_import_neither_textual_nor_escpos(shop):
    argv = [sys.executable, "-X", "importtime", "-m", "tui.cli", "--config", str(shop.config)]
    for args in (["products", "list"], ["sales", "list"], ["journal", "verify"]):
        result = run_process(argv + args, shop.home)
        assert result.returncode == 0, result.stderr
        imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
        assert "store.db" in imported  # the check sees what was imported
        # printing.config (the printer settings, plain dataclasses) is all of printing the settings need
        heavy = {m for m in imported if m.split(".")[0] in ("textual", "escpos", "printing")}
        assert heavy <= {"printing", "printing.config"}, (args, heavy)


# ---------------------------------------------------------------- as a real process

def test_help_as_a_real_process(home):
    result = run_process([sys.executable, "-m", "tui.cli", "--help"], home)
    assert result.returncode == 0 and result.stderr == ""
    for name in ("init", "products", "sales", "receipts", "journal", "cashiers", "printer"):
        assert name in result.stdout


def test_bad_input_as_a_real_process_is_one_line_exit_2(shop):
    result = shop.process("products", "add", "--barcode", "1", "--name", "x", "--price", "abc")
    assert result.returncode == 2
    assert "abc" in one_line(result.stderr)
    result = shop.process("products", "add", "--barcode", "1")
    assert result.returncode == 2 and "--name" in one_line(result.stderr)
    assert shop.products() == []


def test_a_shop_end_to_end_through_python_m_tui_cli(home):
    def chaoying(*args: str) -> subprocess.CompletedProcess:
        result = run_process([sys.executable, "-m", "tui.cli", "--config", str(home / "shop.toml"), *args], home)
        assert result.returncode == 0, (result.stdout, result.stderr)
        return result

    assert "settings: " in chaoying("init").stdout
    chaoying("products", "add", "--barcode", "6901234567892", "--name", "农夫山泉", "--price", "2")
    listed = json.loads(chaoying("products", "list", "--json").stdout)
    assert [(p["barcode"], p["name"], p["price_fen"]) for p in listed] == [("6901234567892", "农夫山泉", 200)]


def test_a_closed_pipe_is_at_most_one_line_never_a_traceback(shop):
    # `chaoying products list --json | head -0`: the reader is gone before the first write.
    shop.ok("products", "add", "--barcode", "1", "--name", "苹果", "--price", "1")
    for args in (["products", "list", "--json"], ["products", "export"]):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            result = subprocess.run(command() + shop.argv(args), cwd=str(shop.home), env=process_env(shop.home),
                                    stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write_end)
        assert result.stderr == "", result.stderr  # the reader has gone: nothing to say, no "unexpected error"
        assert result.returncode in (0, 141), (args, result.returncode)


def test_a_demo_folder_that_cannot_be_made_is_one_sentence_exit_2(home, cli):
    result = cli("demo", "--dir", "/proc/nope/shop")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "/proc/nope/shop" in line and "unexpected" not in line


@pytest.mark.parametrize("args", [["products", "list"], ["init"], []], ids=lambda args: " ".join(args) or "till")
def test_settings_nested_thousands_deep_is_one_sentence_naming_the_file(home, cli, args):
    deep = home / "deep.toml"
    deep.write_text("a = " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    result = cli("--config", str(deep), *args)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert str(deep) in line and "recursion" not in line


# ---------------------------------------------------------------- tamper evidence (issue 13)

def test_init_makes_a_journal_key_readable_only_by_the_owner(shop):
    assert shop.key_file.exists() and oct(shop.key_file.stat().st_mode & 0o777) == "0o600"
    key = shop.key_file.read_text(encoding="ascii")
    assert "journal key: " + str(shop.key_file) in shop.ok("init").stdout  # kept, not replaced
    assert shop.key_file.read_text(encoding="ascii") == key


def test_a_flipped_receipt_outcome_is_named_and_a_missing_key_is_exit_3(shop):
    """Done when: flip receipt 2 from failed to printed in the database file; journal verify names it."""
    shop.seed(3)
    assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 3 sales"
    sale_id = shop.sql("select id from sale where till_id = '1' and receipt_no = 2")[0][0]
    shop.sql("update receipt_outcome set state = 'printed', reason_code = '', reason = '' where sale_id = ?", sale_id)
    result = shop.run("journal", "verify", "--full")
    assert result.returncode == 1
    assert "receipt 1-000002" in one_line(result.stderr) and "from failed to printed" in result.stderr
    shop.sql("update receipt_outcome set state = 'failed', reason_code = 'paper_out', "
             "reason = 'printer out of paper' where sale_id = ?", sale_id)
    assert shop.run("journal", "verify", "--full").returncode == 0
    shop.key_file.rename(shop.home / "elsewhere.key")
    missing = shop.run("journal", "verify")
    assert missing.returncode == 3
    assert "could not be fully checked" in one_line(missing.stderr)
