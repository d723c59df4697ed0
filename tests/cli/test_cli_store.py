"""The back-office CLI, run as a real process against real SQLite files (and once PostgreSQL).

Every run goes through ``run()``, which fails the test if a traceback ever
reaches stderr.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Dict, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]


def _command() -> list:
    script = Path(sys.executable).parent / "chaoying"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui.cli"]


def _env(home: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CHAOYING_CONFIG", "DATABASE_URL")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONPATH=str(REPO),
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra or {})
    return env


class Shop:
    """A shop on disk: a home folder, a settings file and a SQLite database."""

    def __init__(self, home: Path):
        self.home = home
        self.config = home / "shop.toml"
        self.db_path = home / "data" / "chaoying" / "chaoying.sqlite3"
        self.url = "sqlite:///" + str(self.db_path)

    def run(self, *args: str, env: Optional[Dict[str, str]] = None, config: bool = True,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        argv = _command() + (["--config", str(self.config)] if config else []) + list(args)
        result = subprocess.run(
            argv, cwd=str(self.home), env=_env(self.home, env), input=input,
            capture_output=True, text=True, encoding="utf-8", timeout=60,
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert "Traceback" not in result.stdout, result.stdout
        return result

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        return result

    def products(self) -> list:
        return json.loads(self.ok("products", "list", "--json").stdout)

    def csv(self, name: str, text: str, bom: bool = False) -> Path:
        path = self.home / name
        data = textwrap.dedent(text).lstrip("\n").encode("utf-8")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path

    def sql(self, statement: str, *params) -> list:
        con = sqlite3.connect(str(self.db_path), timeout=10)
        try:
            with con:
                return con.execute(statement, params).fetchall()
        finally:
            con.close()


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def shop(home) -> Shop:
    shop = Shop(home)
    shop.ok("init")
    return shop


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------- init

def test_init_writes_commented_settings_and_creates_the_database(home):
    shop = Shop(home)
    result = shop.ok("init")
    assert shop.config.exists() and shop.db_path.exists()
    text = shop.config.read_text(encoding="utf-8")
    assert "[printer]" in text and "baudrate = 9600" in text and "店名" in text
    assert str(shop.config) in result.stdout
    tables = {row[0] for row in shop.sql("select name from sqlite_master where type = 'table'")}
    assert {"product", "sale", "line", "payment", "receipt_outcome"} <= tables
    assert shop.sql("pragma journal_mode")[0][0] == "wal"


def test_init_refuses_to_overwrite_without_force(shop):
    shop.config.write_text('[shop]\nname = "我的店"\n', encoding="utf-8")
    result = shop.run("init")
    assert result.returncode == 2
    assert "--force" in one_line(result.stderr) and str(shop.config) in result.stderr
    assert shop.config.read_text(encoding="utf-8") == '[shop]\nname = "我的店"\n'
    shop.ok("init", "--force")
    assert "baudrate = 9600" in shop.config.read_text(encoding="utf-8")


def test_init_uses_the_platform_config_dir_without_config(home):
    shop = Shop(home)
    shop.ok("init", config=False)
    assert (home / "config" / "chaoying" / "chaoying.toml").exists()
    assert shop.db_path.exists()


def test_init_honours_chaoying_config_and_config_after_the_subcommand(home):
    shop = Shop(home)
    shop.ok("init", env={"CHAOYING_CONFIG": str(home / "env.toml")}, config=False)
    assert (home / "env.toml").exists()
    shop.ok("init", "--config", str(home / "after.toml"), config=False)
    assert (home / "after.toml").exists()


def test_init_with_database_url_creates_that_database(home):
    shop = Shop(home)
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

SEED = r"""
import sys
from store.db import open_database, close_database
from store import catalogue, outcomes, queries
from store.sales import Basket, Tender, commit_sale, find_product

open_database(sys.argv[1])
till = sys.argv[2]
count = int(sys.argv[3])
for code, name, price in (("100", "可乐", 300), ("200", "面包", 650)):
    if find_product(code) is None:
        catalogue.add_product(barcode=code, name=name, price_fen=price, unit="个")
sales = []
for i in range(count):
    basket = Basket()
    basket.add(find_product("100"), 2000)
    basket.add(find_product("200"))
    tender = Tender(basket.total_fen)
    if i % 2:
        tender.record_failed("wechat", basket.total_fen, "wx1", "customer cancelled")
        tender.add_payment("cash", 2000)
    else:
        tender.add_payment("alipay", basket.total_fen, "ali-%d" % i)
    sales.append(commit_sale(basket, tender, till, None))
# receipt 1 printed, receipt 2 failed, the rest pending
if count >= 1:
    attempt = outcomes.start_printing(sales[0].id, "main")
    outcomes.finish_printing(attempt.id, True)
if count >= 2:
    attempt = outcomes.start_printing(sales[1].id, "main")
    outcomes.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
close_database()
"""


def seed(shop: Shop, count: int = 3, till: str = "1", url: Optional[str] = None) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SEED, url or shop.url, till, str(count)],
        env=_env(shop.home), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_sales_list_json_and_text(shop):
    seed(shop, 3)
    sales = json.loads(shop.ok("sales", "list", "--json").stdout)
    assert [s["receipt_no"] for s in sales] == [1, 2, 3]
    assert all(s["total_fen"] == 1250 for s in sales)
    assert sales[0]["receipt"] == "1-000001"
    assert sales[1]["change_fen"] == 750
    assert {p["method"]: p["status"] for p in sales[1]["payments"]} == {"wechat": "failed", "cash": "ok"}
    text = shop.ok("sales", "list").stdout
    assert "1-000003" in text and "37.50" in text


def test_sales_list_other_day_and_bad_date(shop):
    seed(shop, 1)
    assert json.loads(shop.ok("sales", "list", "--date", "2001-01-01", "--json").stdout) == []
    result = shop.run("sales", "list", "--date", "31/12/2024")
    assert result.returncode == 2 and "31/12/2024" in one_line(result.stderr)


def test_sales_list_is_per_till(shop):
    seed(shop, 2, till="1")
    seed(shop, 1, till="B")
    assert len(json.loads(shop.ok("sales", "list", "--json").stdout)) == 2
    assert len(json.loads(shop.ok("sales", "list", "--till", "B", "--json").stdout)) == 1


def test_receipts_list_unresolved(shop):
    seed(shop, 3)
    everything = json.loads(shop.ok("receipts", "list", "--json").stdout)
    assert [(r["receipt"], r["outcome"]) for r in everything] == [
        ("1-000001", "printed"), ("1-000002", "failed"), ("1-000003", "pending"),
    ]
    unresolved = json.loads(shop.ok("receipts", "list", "--unresolved", "--json").stdout)
    assert [(r["receipt"], r["outcome"]) for r in unresolved] == [("1-000002", "failed"), ("1-000003", "pending")]
    assert unresolved[0]["reason"] == "printer out of paper"
    text = shop.ok("receipts", "list", "--unresolved").stdout
    assert "1-000002" in text and "1-000001" not in text


def test_journal_verify_ok_then_an_edited_amount_names_the_receipt(shop):
    seed(shop, 4)
    result = shop.ok("journal", "verify")
    assert result.stdout.strip() == "journal ok: 4 sales"
    sale_id = shop.sql("select id from sale where till_id = '1' and receipt_no = 3")[0][0]
    shop.sql("update line set amount_fen = amount_fen - 100 where sale_id = ?", sale_id)
    result = shop.run("journal", "verify")
    assert result.returncode == 1
    assert "1-000003" in one_line(result.stderr)


def test_journal_verify_deleted_sale(shop):
    seed(shop, 3)
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
    result = shop.ok("products", "list")
    assert result.stderr == ""
    assert (shop.home / "state" / "chaoying" / "log" / "chaoying.log").exists()


# ---------------------------------------------------------------- next to a running till

def test_cli_works_while_a_till_holds_a_read_transaction(shop):
    seed(shop, 2)
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
        [sys.executable, "-c", SEED, shop.url, "1", "40"],
        env=_env(shop.home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
    assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 40 sales"


# ---------------------------------------------------------------- PostgreSQL

def test_products_import_on_postgresql(home, postgres_url):
    shop = Shop(home)
    env = {"DATABASE_URL": postgres_url}
    shop.ok("init", env=env)
    shop.ok("products", "import", str(shop.csv("good.csv", GOOD_CSV)), env=env)
    bad = shop.csv("bad.csv", "barcode,name,price\n9901,好,1\n9902,坏,x\n")
    result = shop.run("products", "import", str(bad), env=env)
    assert result.returncode == 2 and "line 3" in result.stderr
    listed = json.loads(shop.ok("products", "list", "--json", env=env).stdout)
    assert sorted(p["barcode"] for p in listed) == ["6901", "6902", "6903"]
    assert not shop.db_path.exists()


def test_commands_other_than_init_do_not_create_a_database(home):
    shop = Shop(home)
    shop.config.write_text("[till]\nid = \"1\"\n", encoding="utf-8")
    for args in (["products", "list"], ["products", "add", "--barcode", "1", "--name", "x", "--price", "1"],
                 ["journal", "verify"]):
        result = shop.run(*args)
        assert result.returncode == 2, args
        assert "chaoying init" in one_line(result.stderr)
    assert not shop.db_path.exists()


def test_init_with_an_unreachable_database_writes_no_settings(home):
    shop = Shop(home)
    result = shop.run("init", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1 and "127.0.0.1" in one_line(result.stderr)
    assert not shop.config.exists()


def test_back_office_commands_import_neither_textual_nor_escpos(shop):
    argv = [sys.executable, "-X", "importtime", "-m", "tui.cli", "--config", str(shop.config)]
    for args in (["products", "list"], ["sales", "list"], ["journal", "verify"]):
        result = subprocess.run(argv + args, cwd=str(shop.home), env=_env(shop.home),
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
        assert "store.db" in imported  # the check sees what was imported
        assert not {m for m in imported if m.split(".")[0] in ("textual", "escpos", "printing")}, args
