"""The network for the sync tests: a shop's server the test stops and starts, a till's SQLite, a proxy between."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Tuple

import pytest

from tests.store.pgserver import PostgresServer, PostgresUnavailable

PASSWORD = "s3cret-pw"


def start_server() -> PostgresServer:
    """A server of the test's own (it is stopped and started), listening on 127.0.0.1 with a password."""
    import os

    server = PostgresServer(tcp=True, password=PASSWORD)
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL is required on CI: {exc}")
        pytest.skip(f"PostgreSQL 15 not available: {exc}")
    return server


def shop_database(server: PostgresServer) -> str:
    """A fresh database on ``server``, migrated as `chaoying init` does; its TCP URL (with the password)."""
    import uuid

    from store.server import migrate_server

    name = "t_" + uuid.uuid4().hex[:12]
    server.create_database(name)
    url = server.tcp_url(name)
    migrate_server(url)
    return url


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or predicate}")
        time.sleep(0.05)


def on_server(url: str, till_id: str) -> Tuple[int, int, int]:
    """(audit records, distinct seqs, sales) of ``till_id`` on the server; (-1, -1, -1) while it is down."""
    import psycopg2

    try:
        conn = psycopg2.connect(url, connect_timeout=2)
    except psycopg2.Error:
        return (-1, -1, -1)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(*), count(DISTINCT seq) FROM audit WHERE till_id = %s", (till_id,))
            records, seqs = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM sale WHERE till_id = %s", (till_id,))
            sales = cursor.fetchone()[0]
        return int(records), int(seqs), int(sales)
    except psycopg2.Error:
        return (-1, -1, -1)
    finally:
        conn.close()


def local_counts(till_id: str) -> Tuple[int, int]:
    """(audit records, sales) of ``till_id`` in the bound local database."""
    from store.models import Audit, Sale

    return (Audit.select().where(Audit.till_id == till_id).count(),
            Sale.select().where(Sale.till_id == till_id).count())


def all_on_server(url: str, till_id: str) -> bool:
    """Every local record and sale of the till is on the server, each once (the bound database is the till's)."""
    from store.db import db

    with db.connection_context():
        records, sales = local_counts(till_id)
    return on_server(url, till_id) == (records, records, sales)


@contextlib.contextmanager
def local_till(folder: Path, till_id: str = "1", new: bool = True) -> Iterator[dict]:
    """The till's own SQLite file, bound for the block, with the test catalogue (``new``); yields its products."""
    from store.db import close_database, db, open_database
    from tests.store.helpers import catalogue

    open_database("sqlite:///" + str(folder / f"till-{till_id}.sqlite3"))
    try:
        if new:
            yield catalogue()
        else:
            from store import sales

            yield {code: sales.find_product(code) for code in ("6901234567892", "2001", "42")}
    finally:
        close_database()
        db.initialize(None)
