"""Fixtures: a migrated store with the catalogue tables, on SQLite (and PostgreSQL where it matters)."""
from __future__ import annotations

import pytest


def _catalogue(database):
    assert database.table_exists("product_key") and database.table_exists("price_change")
    return database


@pytest.fixture
def shop_db(sqlite_database):
    """A fresh SQLite catalogue."""
    return _catalogue(sqlite_database)


@pytest.fixture
def any_db(database):
    """A fresh catalogue on SQLite and on PostgreSQL."""
    return _catalogue(database)


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """CSV text (first line break and indentation removed) in an encoding."""
    import textwrap

    return textwrap.dedent(text).lstrip("\n").encode(encoding)
