"""Database URLs: the default SQLite file, passwords kept out of messages."""
from __future__ import annotations

from store.db import close_database, db, open_database, redact
from store.models import Product
from tui.settings import default_sqlite_url


def test_default_sqlite_url_opens_a_file_in_the_data_dir(tmp_path):
    data_dir = tmp_path / "does" / "not" / "exist yet"
    url = default_sqlite_url(data_dir)
    assert url.startswith("sqlite:////") and url.endswith("chaoying.sqlite3")
    open_database(url)
    try:
        Product.create(barcode="1", name="x", price_fen=1)
        assert (data_dir / "chaoying.sqlite3").is_file()
    finally:
        close_database()


def test_redact_hides_the_password():
    assert redact("postgresql://till:s3cret@db.local:5432/shop") == "postgresql://till:***@db.local:5432/shop"
    assert redact("sqlite:////var/lib/chaoying.sqlite3") == "sqlite:////var/lib/chaoying.sqlite3"


def test_reopen_closes_the_previous_connection(sqlite_url, tmp_path):
    first = open_database(sqlite_url)
    assert not first.is_closed()
    second = open_database("sqlite:///" + str(tmp_path / "second.sqlite3"))
    try:
        assert first.is_closed() and db.obj is second
    finally:
        close_database()
