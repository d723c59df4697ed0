"""Outputs never clobber (issue 25, finding 4): an existing file only with --force, the shop's own files never.

The shop's database, its WAL and SHM, the archive, the journal key and the
settings file are refused by every name that reaches them: absolute,
relative, through a symbolic link or a hard link, --force or not; the
refusal is one sentence, exit 2, and the file is as it was.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.cli.helpers import one_line

DAYS = ("--from", "2000-01-01", "--to", "2100-01-01")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def assert_refused(shop, args, words, untouched: Path) -> None:
    before = digest(untouched)
    result = shop.run(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in one_line(result.stderr)
    assert digest(untouched) == before
    assert not list(untouched.parent.glob(".chaoying-*"))  # no temp file left behind either


@pytest.mark.parametrize("force", [(), ("--force",)])
def test_export_sales_onto_the_live_database_is_refused_even_with_force(shop, force):
    shop.seed(1)
    assert_refused(shop, ("export", "sales", *DAYS, "-o", str(shop.db_path), *force),
                   "is the shop's database, which no command writes over, even with --force", shop.db_path)
    assert "journal ok: 1 sale" in shop.ok("journal", "verify").stdout


def test_an_xlsx_export_onto_the_journal_key_is_refused(shop):
    assert shop.key_file.exists()
    assert_refused(shop, ("export", "payments", *DAYS, "--format", "xlsx", "-o", "journal.key", "--force"),
                   "journal.key is the journal key file", shop.key_file)


@pytest.mark.parametrize("name, words", [
    ("data/chaoying/chaoying.sqlite3", "the shop's database"),  # relative to the working folder
    ("data/chaoying/chaoying.sqlite3-wal", "the write-ahead log of the shop's database"),
    ("data/chaoying/chaoying.sqlite3-shm", "the shared-memory file of the shop's database"),
    ("data/chaoying/chaoying-archive.sqlite3", "the archive of closed years"),
    ("shop.toml", "the settings file"),
])
def test_every_file_of_the_shop_is_refused_whether_it_exists_or_not(shop, name, words):
    assert_refused(shop, ("export", "lines", *DAYS, "-o", name, "--force"), words, shop.home / name)
    assert_refused(shop, ("products", "export", name, "--force"), words, shop.home / name)


def test_a_symbolic_link_or_a_hard_link_to_the_database_is_refused(shop):
    (shop.home / "sales.csv").symlink_to(shop.db_path)
    os.link(shop.db_path, shop.home / "copy.sqlite3")
    (shop.home / "folder").symlink_to(shop.db_path.parent)
    for name in ("sales.csv", "copy.sqlite3", "folder/chaoying.sqlite3-wal"):
        assert_refused(shop, ("export", "sales", *DAYS, "-o", name, "--force"), "the shop's database",
                       shop.db_path)


def test_an_existing_file_is_refused_without_force_and_replaced_with_it(shop):
    shop.seed(1)
    target = shop.home / "sales.csv"
    target.write_text("last month's export\n", encoding="utf-8")
    assert_refused(shop, ("export", "sales", *DAYS, "-o", str(target)),
                   "sales.csv already exists; add --force to replace it", target)
    assert "exported 1 sale" in shop.ok("export", "sales", *DAYS, "-o", str(target), "--force").stdout
    assert target.read_text(encoding="utf-8-sig").startswith("receipt,")


def test_products_export_keeps_an_existing_file_unless_forced(shop):
    shop.ok("products", "add", "--barcode", "1", "--name", "苹果", "--price", "1")
    target = shop.home / "products.csv"
    target.write_text("keep me\n", encoding="utf-8")
    assert_refused(shop, ("products", "export", str(target)), "already exists; add --force", target)
    shop.ok("products", "export", str(target), "--force")
    assert "苹果" in target.read_text(encoding="utf-8-sig")


def test_a_new_file_needs_no_force(shop):
    shop.ok("export", "sales", *DAYS, "-o", "new.csv")
    assert (shop.home / "new.csv").exists()


@pytest.mark.parametrize("suffix, words", [("", "the shop's database"),
                                           ("-wal", "the write-ahead log of the shop's database")])
def test_restore_never_writes_the_live_database_or_its_wal(shop, suffix, words):
    shop.seed(1)
    shop.ok("backup", "--to", str(shop.home / "b"))
    backup = next((shop.home / "b").glob("*.db.gz"))
    target = Path(f"{shop.db_path}{suffix}")
    assert_refused(shop, ("restore", str(backup), "--to", str(target)), words, target)


def test_the_virtual_printer_never_takes_a_shop_file_for_its_state_file(shop):
    assert_refused(shop, ("printer", "simulate", "--link", "printer", "--paper", ".", "--state-file", "shop.toml"),
                   "shop.toml is the settings file", shop.config)


def test_the_demo_never_keeps_its_shop_in_the_shops_own_folder(shop):
    before = shop.sql("select count(*) from product")
    result = shop.run("demo", "--dir", str(shop.db_path.parent))
    assert result.returncode == 2
    assert "holds the shop's own database; keep the demo shop in another folder" in one_line(result.stderr)
    assert shop.sql("select count(*) from product") == before  # no demo catalogue in the shop
