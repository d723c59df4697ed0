"""A settings file from the shared-database days keeps working: its PostgreSQL URL becomes the shop's server."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui.services.local_first import (
    BACKUP_SUFFIX,
    MigrationError,
    is_postgres,
    moved_to_server,
    sell_locally,
)
from tui.settings import load_settings

OLD = ('# my shop\n[shop]\nname = "张记"   # 店名\n\n[database]\n'
       'url = "postgresql://till:s3cret@192.0.2.10/shop"  # the shared one\n\n[till]\nid = "2"\n')
URL = "postgresql://till:s3cret@192.0.2.10/shop"


def test_postgres_urls_are_known_by_their_scheme():
    assert is_postgres("postgresql://a@b/c") and is_postgres("postgres://a@b/c") and is_postgres(" POSTGRESQL://x")
    assert is_postgres("postgresql+psycopg2://a@b/c")
    assert not is_postgres("sqlite:////tmp/x.db") and not is_postgres("")


def test_the_url_moves_to_a_new_server_section_and_every_other_byte_stays():
    new = moved_to_server(OLD, URL)
    assert new == OLD.replace('url = "postgresql://till:s3cret@192.0.2.10/shop"  # the shared one\n', "") + \
        f'\n[server]\nurl = "{URL}"\n'


def test_an_existing_server_section_gets_the_url_in_place():
    text = OLD + '\n[server]\nwarn_minutes = 5\n'
    new = moved_to_server(text, URL)
    assert new == text.replace('url = "postgresql://till:s3cret@192.0.2.10/shop"  # the shared one\n', "") \
        .replace("[server]\n", f'[server]\nurl = "{URL}"\n')


def test_an_empty_server_url_line_is_filled_keeping_its_comment():
    text = '[server]\nurl = ""    # 空 = 无服务器\n\n[database]\nurl = "postgres://x@h/db"\n'
    new = moved_to_server(text, "postgres://x@h/db")
    assert new == '[server]\nurl = "postgres://x@h/db"    # 空 = 无服务器\n\n[database]\n'


def test_crlf_line_endings_are_kept():
    text = OLD.replace("\n", "\r\n")
    new = moved_to_server(text, URL)
    assert "\n" not in new.replace("\r\n", "")
    assert new.endswith(f'[server]\r\nurl = "{URL}"\r\n')


def test_another_server_already_named_is_one_sentence_and_nothing_changes():
    text = OLD + '[server]\nurl = "postgresql://till:other@192.0.2.99/shop"\n'
    with pytest.raises(MigrationError) as raised:
        moved_to_server(text, URL)
    assert "already names" in str(raised.value) and "other" not in str(raised.value)


def test_an_inline_table_is_left_for_the_owner():
    with pytest.raises(MigrationError, match="yourself"):
        moved_to_server('database = {url = "postgresql://a@b/c"}\n', "postgresql://a@b/c")


def write(tmp_path: Path, text: str, bom: bool = False) -> Path:
    path = tmp_path / "chaoying.toml"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    path.chmod(0o600)
    return path


def test_the_till_start_migrates_the_file_keeps_the_old_one_and_says_it_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write(tmp_path, OLD, bom=True)
    settings = load_settings(path)
    assert settings.database.url == URL  # what the file says, before the rule
    done = sell_locally(settings, environ={})
    assert done.settings.server.url == URL
    assert done.settings.database.url.startswith("sqlite:///") and str(tmp_path / "data") in done.settings.database.url
    assert done.backup == tmp_path / ("chaoying.toml" + BACKUP_SUFFIX)
    assert done.backup.read_bytes() == b"\xef\xbb\xbf" + OLD.encode("utf-8")  # the old file as it was
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and (path.stat().st_mode & 0o777) == 0o600
    again = load_settings(path)  # the migrated file says the same, but for where the URL is
    assert again.server.url == URL and not is_postgres(again.database.url)
    assert again.shop.name == "张记" and again.till.id == "2"
    assert len(done.said.splitlines()) == 1 and "s3cret" not in done.said
    assert "till:***@192.0.2.10" in done.said and done.file in done.said and "[server] url" in done.said
    # the next start has nothing to say
    assert sell_locally(again, environ={}).said == ""


def test_a_second_migration_keeps_the_first_backup(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write(tmp_path, OLD)
    sell_locally(load_settings(path), environ={})
    path.write_text(OLD, encoding="utf-8")
    second = sell_locally(load_settings(path), environ={})
    assert second.backup is not None and second.backup.name.endswith(BACKUP_SUFFIX + ".1")
    assert (tmp_path / ("chaoying.toml" + BACKUP_SUFFIX)).exists()


def test_database_url_naming_postgresql_is_the_server_for_this_run_and_the_file_stays(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write(tmp_path, '[database]\nurl = "sqlite:///till.db"\n')
    monkeypatch.setenv("DATABASE_URL", URL)
    settings = load_settings(path)
    done = sell_locally(settings)
    assert done.settings.server.url == URL
    assert done.settings.database.url == "sqlite:///" + str((tmp_path / "till.db").resolve())
    assert path.read_text(encoding="utf-8") == '[database]\nurl = "sqlite:///till.db"\n'
    assert done.backup is None and "DATABASE_URL" in done.said and "s3cret" not in done.said


def test_a_file_it_cannot_change_still_sells_locally_and_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = write(tmp_path, 'database = {url = "postgresql://a:pw@b/c"}\n')
    done = sell_locally(load_settings(path), environ={})
    assert done.settings.server.url == "postgresql://a:pw@b/c" and done.settings.database.url.startswith("sqlite")
    assert "yourself" in done.said and "pw" not in done.said.replace("postgresql", "")
    assert path.read_text(encoding="utf-8") == 'database = {url = "postgresql://a:pw@b/c"}\n'


def test_a_local_till_is_left_alone(tmp_path):
    path = write(tmp_path, '[till]\nid = "1"\n')
    settings = load_settings(path)
    done = sell_locally(settings, environ={})
    assert done.settings is settings and done.said == "" and done.backup is None
