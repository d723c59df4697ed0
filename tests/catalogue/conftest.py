"""Fixtures: a migrated store with the catalogue tables, on SQLite (and PostgreSQL where it matters)."""
from __future__ import annotations

import pytest


def _open(url: str):
    from store import catalogue
    from store.db import close_database, db, open_database

    database = open_database(url)
    assert database.table_exists("product_key") and database.table_exists("price_change")
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
