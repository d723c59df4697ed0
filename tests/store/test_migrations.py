"""Migrations: an empty database reaches the latest schema, re-opening changes nothing."""
from __future__ import annotations

import sqlite3

import pytest

from store import migrations
from store.db import close_database, open_database
from store.models import ALL_MODELS, SchemaVersion


def _tables(database):
    return set(database.get_tables())


def test_empty_database_migrates_to_latest(db_url):
    database = open_database(db_url)
    try:
        assert migrations.current_version(database) == migrations.LATEST
        expected = {model._meta.table_name for model in ALL_MODELS}
        assert expected <= _tables(database)
        versions = [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)]
        assert versions == [number for number, _, _ in migrations.MIGRATIONS]
    finally:
        close_database()


def test_reopening_is_idempotent(db_url):
    database = open_database(db_url)
    tables = _tables(database)
    close_database()
    database = open_database(db_url)
    try:
        assert migrations.migrate(database) == []
        assert _tables(database) == tables
        assert SchemaVersion.select().count() == len(migrations.MIGRATIONS)
    finally:
        close_database()


def test_migrated_schema_matches_the_models(db_url):
    """Migration 1 is a frozen copy of the models: they must not drift apart."""
    database = open_database(db_url)
    try:
        for model in ALL_MODELS:
            columns = {column.name for column in database.get_columns(model._meta.table_name)}
            fields = {field.column_name for field in model._meta.sorted_fields}
            assert columns == fields, model.__name__
            indexes = database.get_indexes(model._meta.table_name)
            unique_sets = {tuple(index.columns) for index in indexes if index.unique}
            for index_fields, unique in model._meta.indexes:
                if unique:
                    assert tuple(index_fields) in unique_sets, model.__name__
    finally:
        close_database()


def test_pending_migration_is_applied_once(db_url, monkeypatch):
    database = open_database(db_url)
    calls = []

    def m002(database, migrator):
        from peewee import IntegerField
        from playhouse.migrate import migrate
        calls.append(1)
        migrate(migrator.add_column("product", "test_extra", IntegerField(default=0)))

    following = migrations.LATEST + 1  # the next number, whatever the latest released one is
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [(following, "test column", m002)])
    monkeypatch.setattr(migrations, "LATEST", following)
    try:
        assert migrations.migrate(database) == [following]
        assert migrations.migrate(database) == []
        assert calls == [1]
        assert "test_extra" in {c.name for c in database.get_columns("product")}
        assert migrations.current_version(database) == following
    finally:
        close_database()


def test_sqlite_pragmas(sqlite_url):
    database = open_database(sqlite_url)
    try:
        pragma = lambda name: database.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") >= 5000
    finally:
        close_database()
    # the file is a real SQLite file in WAL mode for any other reader too
    path = sqlite_url[len("sqlite:///"):]
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_models_follow_the_proxy(sqlite_url, tmp_path):
    """Each open re-binds the models: the second database does not see the first's rows."""
    from store import catalogue

    open_database(sqlite_url)
    catalogue.add_product("1", "one", 100)
    close_database()
    open_database("sqlite:///" + str(tmp_path / "other.sqlite3"))
    try:
        assert catalogue.list_products() == []
    finally:
        close_database()


def test_bad_url_scheme():
    with pytest.raises(RuntimeError):
        open_database("nosuchdb://x/y")


def test_migration_4_indexes_the_names_of_lines_already_sold(db_url, monkeypatch):
    """A shop with sales before migration 4: their names are in line_name, and new ones follow."""
    from store import queries
    from store.models import LineName
    from tests.store.helpers import catalogue, ring_up, ring_up_before_documents

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
    monkeypatch.setattr(migrations, "LATEST", 3)
    database = open_database(db_url)
    try:
        products = catalogue()
        ring_up_before_documents(database, products["2001"])  # 苹果, sold under schema 3
        monkeypatch.undo()
        assert 4 in migrations.migrate(database)  # and whatever follows it
        assert [name for (name,) in LineName.select(LineName.name).tuples()] == ["苹果"]
        ring_up(products)  # 可口可乐 330ml, through the trigger
        assert sorted(name for (name,) in LineName.select(LineName.name).tuples()) == ["可口可乐 330ml", "苹果"]
        assert [row["receipt"] for row in queries.search_receipts("1", "苹")] == ["1-000001"]
        assert [row["receipt"] for row in queries.search_receipts("1", "乐 3")] == ["1-000002"]
    finally:
        close_database()


def test_migration_6_marks_earlier_printed_attempts_as_confirmed_by_the_printer(db_url, monkeypatch):
    """A print attempt printed under schema 5 had the printer's confirmation: evidence "printer"."""
    from store.models import PrintAttempt, Sale
    from tests.store.helpers import catalogue, ring_up_before_documents

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    monkeypatch.setattr(migrations, "LATEST", 5)
    database = open_database(db_url)
    try:
        sale = Sale(id=ring_up_before_documents(database, catalogue()["6901234567892"]))
        sale.sold_at = database.execute_sql("SELECT sold_at FROM sale").fetchone()[0]
        for result in ("failed", "printed"):
            database.execute_sql(
                "INSERT INTO print_attempt (sale_id, printer, cashier, started_at, finished_at, result, "
                "reason_code, reason, reprint_no, prior_state) VALUES (%s, 'main', '', %s, %s, %s, '', '', 0, '')"
                .replace("%s", database.param), (sale.id, sale.sold_at, sale.sold_at, result))
        monkeypatch.undo()
        assert 6 in migrations.migrate(database)
        rows = PrintAttempt.select().where(PrintAttempt.sale == sale.id).order_by(PrintAttempt.id)
        assert [(row.result, row.evidence) for row in rows] == [("failed", ""), ("printed", "printer")]
    finally:
        close_database()


def test_migration_7_keeps_the_journal_of_earlier_sales(db_url, monkeypatch):
    """Sales recorded before documents and discounts existed still verify, and new ones chain on."""
    from store import journal
    from store.models import Sale
    from tests.store.helpers import catalogue, ring_up, ring_up_before_documents

    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:6])
    monkeypatch.setattr(migrations, "LATEST", 6)
    database = open_database(db_url)
    try:
        products = catalogue()
        ring_up_before_documents(database, products["2001"], 500)
        monkeypatch.undo()
        assert 7 in migrations.migrate(database)
        old = Sale.get(Sale.receipt_no == 1)
        assert (old.kind, old.original, old.discount_fen) == ("sale", None, 0)
        ring_up(products)
        result = journal.verify()
        assert result.ok and result.sales_checked == 2, result.message
    finally:
        close_database()
