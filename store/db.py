"""The database handle: one ``DatabaseProxy`` bound at start-up from a URL.

SQLite (a file per shop) gets WAL, ``synchronous=FULL``, foreign keys and a
busy timeout on every connection; PostgreSQL is used as is. Opening a
database applies pending migrations.
"""
from __future__ import annotations

import logging
from pathlib import Path

import peewee
from peewee import DatabaseProxy

log = logging.getLogger("chaoying.store.db")

db = DatabaseProxy()

#: Applied to every SQLite connection, in this order. busy_timeout comes
#: first so the others wait for a lock instead of failing at once.
SQLITE_PRAGMAS = (
    ("busy_timeout", 10000),
    ("journal_mode", "wal"),
    ("synchronous", 2),  # FULL: a committed sale survives a power cut
    ("foreign_keys", 1),
)
SQLITE_TIMEOUT_S = 10


def is_sqlite(database: peewee.Database) -> bool:
    """True when ``database`` is a SQLite database (of any flavour)."""
    return isinstance(database, peewee.SqliteDatabase)


def connect_url(url: str) -> peewee.Database:
    """Build (but do not migrate) a peewee database for ``url``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite" and not parts.query:  # the till's own: not playhouse.db_url, which loads every driver
        database: peewee.Database = peewee.SqliteDatabase(parts.path[1:] or ":memory:", pragmas=list(SQLITE_PRAGMAS),
                                                          timeout=SQLITE_TIMEOUT_S)
    else:
        from playhouse.db_url import connect

        sqlite = "sqlite" in scheme
        database = connect(url, **(dict(pragmas=list(SQLITE_PRAGMAS), timeout=SQLITE_TIMEOUT_S) if sqlite else {}))
    if isinstance(database, peewee.SqliteDatabase):
        path = database.database
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return database


def open_database(url: str) -> peewee.Database:
    """Connect to ``url``, bind the models to it and migrate it to the latest schema."""
    from store import migrations

    database = connect_url(url)
    previous = db.obj
    if previous is not None and previous is not database and not previous.is_closed():
        try:
            previous.close()  # this thread's connection to the database we leave
        except peewee.PeeweeException:
            log.warning("could not close the previous database connection", exc_info=True)
    db.initialize(database)
    database.connect(reuse_if_open=True)
    applied = migrations.migrate(database)
    if applied:
        log.info("applied migrations %s to %s", applied, redact(url))
    return database


def close_database() -> None:
    """Close this thread's connection of the bound database, if any."""
    if db.obj is not None and not db.obj.is_closed():
        db.obj.close()


def write_transaction():
    """A transaction that takes the write lock at BEGIN.

    On SQLite a deferred transaction that reads first and writes later can
    fail at once with "database is locked" when another process writes;
    BEGIN IMMEDIATE waits (busy_timeout) instead. Nested calls become
    savepoints.
    """
    database = db.obj
    if is_sqlite(database):
        return database.atomic(lock_type="IMMEDIATE")
    return database.atomic()


def redact(url: str) -> str:
    """``url`` with any password replaced by ***, for logs and messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
