"""Fixtures: a migrated store with the catalogue tables, on SQLite (and PostgreSQL where it matters)."""
from __future__ import annotations

import pytest


def _open(url: str):
    from playhouse.migrate import SchemaMigrator

    from store import catalogue
    from store.catalogue_migration import create_catalogue_tables
    from store.db import close_database, db, open_database

    database = open_database(url)
    if not database.table_exists("product_key"):
        # Until the catalogue migration is listed in store.migrations, apply it here.
        with database.atomic():
            create_catalogue_tables(database, SchemaMigrator.from_database(database))
    catalogue._tables_seen.clear()
    try:
        yield database
    finally:
        close_database()
        db.initialize(None)
        catalogue._tables_seen.clear()


@pytest.fixture
def shop_db(sqlite_url):
    """A fresh SQLite catalogue."""
    yield from _open(sqlite_url)


@pytest.fixture
def any_db(db_url):
    """A fresh catalogue on SQLite and on PostgreSQL."""
    yield from _open(db_url)


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """CSV text (first line break and indentation removed) in an encoding."""
    import textwrap

    return textwrap.dedent(text).lstrip("\n").encode(encoding)
