"""Shared fixtures: a real SQLite file and a real PostgreSQL 15 server.

``sqlite_url``    a fresh SQLite file per test.
``postgres_url``  a fresh database per test on a PostgreSQL server started
                  once per session from /usr/lib/postgresql/15/bin (skipped
                  when the binaries are missing, but FAILS with CI=true).
``db_url``        parametrized over both, for tests that must pass on both.
``database``      ``db_url`` opened with ``store.db.open_database`` (models
                  bound, migrated); the connection is closed afterwards.
``sqlite_database`` the same on SQLite only.
"""
from __future__ import annotations

import os

import pytest

from tests.store.pgserver import PostgresServer, PostgresUnavailable


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "chaoying.sqlite3")


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        if _ci():
            pytest.fail(f"PostgreSQL is required on CI: {exc}")
        pytest.skip(f"PostgreSQL 15 not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return postgres_server.create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def _open(url: str):
    from store.db import close_database, db, open_database

    database = open_database(url)
    try:
        yield database
    finally:
        close_database()
        db.initialize(None)


@pytest.fixture
def database(db_url):
    """The store bound to a fresh, migrated database on each backend."""
    yield from _open(db_url)


@pytest.fixture
def sqlite_database(sqlite_url):
    """The store bound to a fresh, migrated SQLite file."""
    yield from _open(sqlite_url)
