"""Imports write in short batches while tills sell: a crash mid-way is finished by the same import again.

The stories: an import that fails after k batches, then runs again, leaves
exactly the catalogue and price history of one clean import; so does a real
`chaoying products import` killed with SIGKILL; the CLI says how far an
interrupted import got; a till process selling in a loop while a real
import writes 25,000 rows commits every sale (no "database is locked").
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Iterator

import pytest

from store import catalogue
from store.catalogue import ImportIncomplete, import_file
from store.gs1 import with_check_digit
from tests.cli.helpers import REPO, command, open_shop, process_env


def code(i: int) -> str:
    return with_check_digit(f"690{i:09d}")


def base_csv(n: int) -> bytes:
    return ("barcode,name,price,unit\n" + "".join(
        f"{code(i)},商品{i} 规格{i % 7},{i % 90 + 1}.{i % 100:02d},个\n" for i in range(n))).encode()


def update_csv(n: int) -> bytes:
    """Every third row a new price, every fifth a new name, every seventh the same; n // 4 new products."""
    rows = []
    for i in range(n + n // 4):
        name, price = f"商品{i} 规格{i % 7}", f"{i % 90 + 1}.{i % 100:02d}"
        if i % 3 == 0:
            price = f"{i % 90 + 2}.{i % 100:02d}"
        if i % 5 == 0:
            name = f"新品名{i} 行货"
        rows.append(f"{code(i)},{name},{price},个\n")
    return ("barcode,name,price,unit\n" + "".join(rows)).encode()


def snapshot() -> dict:
    """Everything an import writes, without ids and times: products, search keys, price history."""
    from store.models import PriceChange, Product, ProductKey

    return {
        "products": sorted(Product.select(Product.barcode, Product.name, Product.price_fen, Product.unit,
                                          Product.active, Product.pinyin, Product.initials).tuples()),
        "keys": sorted(ProductKey.select(ProductKey.kind, ProductKey.key, Product.barcode)
                       .join(Product).tuples()),
        "history": sorted(PriceChange.select(Product.barcode, PriceChange.old_price_fen, PriceChange.new_price_fen,
                                             PriceChange.changed_by, PriceChange.source).join(Product).tuples()),
    }


@contextlib.contextmanager
def bound(url: str) -> Iterator[None]:
    """The store bound to ``url`` in this thread, then to what it was bound to before."""
    from store.db import close_database, db, open_database

    previous = db.obj
    open_database(url)
    try:
        yield
    finally:
        close_database()
        db.initialize(previous)


def snapshot_of(url: str) -> dict:
    with bound(url):
        return snapshot()


def clean_import(url: str, *files: bytes) -> dict:
    with bound(url):
        for data in files:
            assert import_file(data, changed_by="店长").imported
        return snapshot()


def fail_on_batch(monkeypatch, k: int, exc: BaseException) -> None:
    real = catalogue._write_batch
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == k:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(catalogue, "_write_batch", failing)


@pytest.mark.parametrize("k", [1, 3])
def test_a_crash_after_k_batches_then_the_same_import_again_gives_one_clean_import(
        shop_db, tmp_path, monkeypatch, k):
    monkeypatch.setattr(catalogue, "BATCH", 40)
    base, update = base_csv(200), update_csv(200)
    assert import_file(base, changed_by="店长").imported
    with monkeypatch.context() as patch:
        fail_on_batch(patch, k, sqlite3.OperationalError("disk I/O error"))
        with pytest.raises(ImportIncomplete) as stopped:
            import_file(update, changed_by="店长")
    assert (stopped.value.written, stopped.value.total) == ((k - 1) * 40, 250)
    assert "run the same import again" in str(stopped.value)
    again = import_file(update, changed_by="店长")
    assert again.imported and again.added + again.updated + again.unchanged == 250
    assert again.unchanged >= (k - 1) * 40  # the batches written before the crash are not written twice
    assert snapshot() == clean_import("sqlite:///" + str(tmp_path / "clean.sqlite3"), base, update)
    # and a third time: nothing changes
    third = import_file(update, changed_by="店长")
    assert (third.added, third.updated, third.unchanged, third.price_changes) == (0, 0, 250, 0)


def test_an_unchanged_file_writes_nothing_and_records_no_price_change(shop_db):
    data = update_csv(300)
    first = import_file(data)
    assert (first.added, first.unchanged) == (375, 0)
    history = snapshot()["history"]
    again = import_file(data)
    assert (again.added, again.updated, again.unchanged, again.price_changes) == (0, 0, 375, 0)
    assert snapshot()["history"] == history


def test_reindex_in_batches_gives_the_keys_an_import_gives(shop_db, monkeypatch):
    monkeypatch.setattr(catalogue, "BATCH", 30)
    import_file(update_csv(100))
    before = snapshot()
    from store.models import Product, ProductKey

    ProductKey.delete().execute()
    Product.update(pinyin="", initials="").execute()
    assert catalogue.reindex() == 125
    assert snapshot() == before


# ---------------------------------------------------------------- the CLI

@pytest.fixture
def shop(tmp_path, capsys, monkeypatch):
    return open_shop(tmp_path, capsys, monkeypatch)


def test_the_cli_says_how_far_an_interrupted_import_got_and_what_to_do(shop, monkeypatch):
    monkeypatch.setattr(catalogue, "BATCH", 100)
    path = shop.home / "big.csv"
    path.write_bytes(base_csv(500))
    assert "run the same import again" in " ".join(shop.ok("products", "import", "--help").stdout.split())
    with monkeypatch.context() as patch:
        fail_on_batch(patch, 3, KeyboardInterrupt())
        result = shop.run("products", "import", str(path))
    assert result.returncode == 130
    assert result.stderr.strip().endswith("200 of 500 rows written; run the same import again to finish")
    with monkeypatch.context() as patch:
        fail_on_batch(patch, 2, sqlite3.OperationalError("disk I/O error"))
        result = shop.run("products", "import", str(path))
    assert result.returncode == 1
    assert "stopped (disk I/O error): 300 of 500 rows written; run the same import again to finish" in result.stderr
    finished = shop.ok("products", "import", str(path))
    assert "200 added, 0 updated, 300 unchanged" in finished.stdout  # batch 4 failed, after 3 (no call for 1, 2)
    assert shop.ok("products", "import", str(path)).stdout.startswith("nothing changed: the 500 products")


def _count(db_path) -> int:
    con = sqlite3.connect(str(db_path), timeout=10)
    try:
        return con.execute("SELECT count(*) FROM product").fetchone()[0]
    finally:
        con.close()


def test_an_import_killed_mid_way_is_finished_by_running_it_again(shop, tmp_path):
    base, update = base_csv(3000), update_csv(3000)
    (shop.home / "base.csv").write_bytes(base)
    (shop.home / "update.csv").write_bytes(update)
    shop.ok("products", "import", "base.csv", "--by", "店长")
    proc = subprocess.Popen(command() + shop.argv(["products", "import", "update.csv", "--by", "店长"]),
                            cwd=str(shop.home), env=process_env(shop.home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while _count(shop.db_path) == 3000 and proc.poll() is None:  # until a batch of new products landed
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    written = _count(shop.db_path)
    assert proc.returncode == -signal.SIGKILL and 3000 < written < 3750, "killed mid-way"
    result = shop.ok("products", "import", "update.csv", "--by", "店长")
    assert f"{3750 - written} added" in result.stdout
    assert snapshot_of(shop.url) == clean_import("sqlite:///" + str(tmp_path / "clean.sqlite3"), base, update)


# ---------------------------------------------------------------- selling during an import

STORY_ROWS = 25_000


def test_a_till_keeps_selling_while_a_real_import_writes_25000_rows(shop, tmp_path):
    from store.models import Product, Sale
    from tests.catalogue import sell_loop

    with bound(shop.url):
        sell_loop.seed_products()
    (shop.home / "big.csv").write_bytes(base_csv(STORY_ROWS))
    stop = tmp_path / "stop"
    # the till gives up after 0.6 s waiting for the lock: 3x the target (a margin for a loaded machine), and
    # less than one transaction of 25,000 rows holds it (what the import did before batches)
    till_env = dict(process_env(shop.home), SELL_LOOP_KEY_FILE=str(shop.key_file))  # the shop's key, as a till
    till = subprocess.Popen([sys.executable, "-m", "tests.catalogue.sell_loop", shop.url, str(stop), "0", "0.02",
                             "600"],
                            cwd=str(REPO), env=till_env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert till.stdout.readline().strip() == "ready", till.stderr.read()
        till.stdin.write("go\n")
        till.stdin.flush()
        importer = subprocess.run(command() + shop.argv(["products", "import", "big.csv"]), cwd=str(shop.home),
                                  env=process_env(shop.home), capture_output=True, text=True, timeout=300)
        stop.touch()
        out, err = till.communicate(timeout=60)
    finally:
        if till.poll() is None:
            till.kill()
    assert importer.returncode == 0, importer.stderr
    assert f"{STORY_ROWS} added" in importer.stdout
    assert till.returncode == 0, err
    sold = json.loads(out.strip().splitlines()[-1])
    assert sold["errors"] == []
    assert len(sold["receipts"]) >= 2  # the till sold from before the import started until it ended
    assert sold["receipts"] == list(range(1, len(sold["receipts"]) + 1))
    with bound(shop.url):
        stored = [r for (r,) in Sale.select(Sale.receipt_no).where(Sale.till_id == sell_loop.TILL)
                  .order_by(Sale.receipt_no).tuples()]
        assert stored == sold["receipts"]
        assert Product.select().count() == STORY_ROWS + len(sell_loop.PRODUCTS)
    assert "journal ok" in shop.ok("journal", "verify").stdout  # with the shop's key, as the shop checks it
