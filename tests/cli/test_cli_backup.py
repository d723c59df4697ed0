"""`chaoying backup`, `backup list`, `backup verify`, `restore` and `export`, as a shop owner runs them."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import REPO, one_line

FORMULA = "=cmd|' /C calc'!A0"


def _backups(shop) -> list:
    return json.loads(shop.ok("backup", "list", "--json", "--dir", str(shop.home / "b")).stdout)


def test_backup_list_verify_and_restore_round_trip(shop):
    shop.seed(3)
    made = shop.ok("backup", "--to", str(shop.home / "b"))
    assert "backed up 3 sales to" in made.stdout
    [listed] = _backups(shop)
    assert listed["sales"] == 3 and listed["file"].startswith("chaoying-chaoyingxiaodian-1-")
    assert listed["file"].endswith(".db.gz")
    path = listed["path"]
    assert "journal ok, 3 sales on 1 till" in shop.ok("backup", "verify", path).stdout
    restored = shop.home / "restored.sqlite3"
    assert "restored 3 sales" in shop.ok("restore", path, "--to", str(restored)).stdout
    env = {"DATABASE_URL": "sqlite:///" + str(restored)}
    assert "journal ok: 3 sales" in shop.ok("journal", "verify", env=env).stdout
    assert len(json.loads(shop.ok("sales", "list", "--json", env=env).stdout)) == 3


def test_restore_refuses_an_existing_file_and_a_damaged_backup_in_one_sentence(shop):
    shop.seed(2)
    shop.ok("backup", "--to", str(shop.home / "b"))
    path = _backups(shop)[0]["path"]
    existing = shop.home / "old.sqlite3"  # the live database is refused before (tests/cli/test_cli_outputs.py)
    existing.write_bytes(b"old")
    refused = shop.run("restore", path, "--to", str(existing))
    assert refused.returncode == 1
    assert "already exists; restore only into a new file" in one_line(refused.stderr)
    assert existing.read_bytes() == b"old"
    damaged = shop.home / "b" / "chaoying-x-1-20240101-000000.db.gz"
    damaged.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    for args in (("backup", "verify", str(damaged)), ("restore", str(damaged), "--to", str(shop.home / "n.db"))):
        result = shop.run(*args)
        assert result.returncode == 1
        assert "is damaged" in one_line(result.stderr)
    assert not (shop.home / "n.db").exists()


def test_backup_verify_given_the_manifest_checks_the_backup_it_names(shop):
    shop.seed(2)
    shop.ok("backup", "--to", str(shop.home / "b"))
    path = _backups(shop)[0]["path"]
    note = path[:-len(".db.gz")] + ".json"
    assert f"backup ok: {path}: manifest sealed, integrity check ok, journal ok, 2 sales" in shop.ok("backup", "verify", note).stdout


def test_backup_verify_of_a_backup_without_its_manifest_says_the_manifest_is_missing(shop):
    shop.seed(2)
    shop.ok("backup", "--to", str(shop.home / "b"))
    path = _backups(shop)[0]["path"]
    note = Path(path[:-len(".db.gz")] + ".json")
    note.unlink()
    result = shop.run("backup", "verify", path)
    assert result.returncode == 1 and "backup ok" not in result.stdout
    line = one_line(result.stderr)
    assert line.startswith("chaoying: backup not verified: ") and f"has no manifest: {note.name} is missing" in line


def test_backup_removes_the_folders_stopped_backups_left(shop):
    folder = shop.home / "b"
    folder.mkdir()
    for _ in range(2):  # each a real process that made its working folder and died without finishing
        died = subprocess.run([sys.executable, "-c", LEAVE_PARTIAL, str(folder)], cwd=str(REPO), timeout=60)
        assert died.returncode == 9
    assert len(list(folder.glob(".partial-*"))) == 2
    made = shop.ok("backup", "--to", str(folder)).stdout
    assert "removed 2 unfinished backup folders left by backups that were stopped (" in made
    assert not list(folder.glob(".partial-*"))


LEAVE_PARTIAL = """
import os, sys
from pathlib import Path
from store import backup
(backup.partial_folder(Path(sys.argv[1])) / "copy.db").write_bytes(os.urandom(10_000))
os._exit(9)
"""


def test_export_neutralises_formula_text_but_keeps_amounts(shop):
    shop.ok("products", "add", "--barcode", "9", "--name", FORMULA, "--price", "1.00")
    _sell_product(shop, "9")
    out = shop.ok("export", "lines", "--from", "2000-01-01", "--to", "2100-01-01").stdout
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0] == ["receipt", "sold_at", "position", "barcode", "name", "unit", "unit_price", "qty", "amount"]
    assert rows[1][4] == "'" + FORMULA and rows[1][6] == "1.00" and rows[1][8] == "1.00"
    products = shop.ok("products", "export").stdout
    assert "'" + FORMULA in products


def test_a_neutralised_product_export_imports_back_as_it_was(shop):
    shop.ok("products", "add", "--barcode", "9", "--name", FORMULA, "--price", "1.00")
    shop.ok("products", "add", "--barcode", "8", "--name", "+1 cola", "--price", "2.00")
    shop.ok("products", "export", str(shop.home / "p.csv"))
    shop.ok("products", "import", str(shop.home / "p.csv"))
    assert {p["name"] for p in shop.products()} == {FORMULA, "+1 cola"}


def test_xlsx_export_reads_back_with_openpyxl_text_as_text_amounts_as_numbers(shop):
    import openpyxl

    shop.ok("products", "add", "--barcode", "9", "--name", FORMULA, "--price", "12.30")
    _sell_product(shop, "9")
    target = shop.home / "lines.xlsx"
    assert "exported 1 line" in shop.ok("export", "lines", "--from", "2000-01-01", "--to", "2100-01-01",
                                        "--format", "xlsx", "-o", str(target)).stdout
    sheet = openpyxl.load_workbook(target).active
    header, row = list(sheet.iter_rows(min_row=1, max_row=2))
    assert [c.value for c in header][4] == "name"
    assert row[4].value == "'" + FORMULA and row[4].data_type == "s"
    assert float(row[8].value) * 100 == 1230 and row[8].data_type == "n" and row[8].number_format == "0.00"


def test_export_gbk_and_bad_dates(shop):
    shop.seed(2)
    raw = shop.process("export", "payments", "--from", "2000-01-01", "--to", "2100-01-01", "--encoding", "gbk")
    assert raw.returncode == 0 and "customer cancelled" in raw.stdout
    bad = shop.run("export", "sales", "--from", "2024-13-01", "--to", "2024-12-31")
    assert bad.returncode == 2 and "--from '2024-13-01' is not a date" in one_line(bad.stderr)


def test_import_refuses_a_control_character_naming_the_line(shop):
    path = shop.csv("p.csv", "barcode,name,price\n1,ok,1.00\n2,\x1b[31mred,2.00\n")
    result = shop.run("products", "import", str(path))
    assert result.returncode == 2
    assert "line 3: The name holds the control character U+001B" in result.stderr
    assert shop.products() == []


def _sell_product(shop, code: str) -> None:
    from store.db import close_database, open_database
    from store.sales import Basket, Tender, commit_sale, find_product
    from tests.cli.helpers import process_state

    with process_state():
        open_database(shop.url)
        try:
            basket = Basket()
            basket.add(find_product(code))
            tender = Tender(basket.total_fen)
            tender.add_payment("cash", basket.total_fen)
            commit_sale(basket, tender, "1", None)
        finally:
            close_database()
