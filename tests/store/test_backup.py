"""Backups taken while another process sells, killed half-way, rotated, verified and restored."""
from __future__ import annotations

import datetime
import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Tuple

import pytest

from store import backup
from store.backup import BackupError
from tests.store.helpers import catalogue, ring_up

ROOT = Path(__file__).resolve().parents[2]
SHOP = "超赢小店"
KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def journal_key() -> None:
    """The shop's journal key is loaded, as `chaoying backup` and the till load it: manifests are sealed."""
    from store import journal

    journal.set_key(KEY)


def _file(url: str) -> Path:
    return Path(url[len("sqlite:///"):])


def _receipts(db_file: Path) -> list:
    con = sqlite3.connect(str(db_file))
    try:
        return [row[0] for row in con.execute("SELECT receipt_no FROM sale WHERE till_id = '1' ORDER BY receipt_no")]
    finally:
        con.close()


def _unpack(path: Path, to: Path) -> Path:
    with gzip.open(path, "rb") as source:
        to.write_bytes(source.read())
    return to


def test_backup_while_another_process_commits_holds_every_sale_before_it_and_verifies(
        sqlite_database, sqlite_url, tmp_path):
    from store import journal

    journal.set_key(None)  # the worker commits without the key: all records of this shop are plain
    products = catalogue()
    for _ in range(5):
        ring_up(products)
    worker = subprocess.Popen([sys.executable, "-m", "tests.store.commit_worker", sqlite_url, "1", "400"],
                              cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        worker.stdin.write("go\n")
        worker.stdin.flush()
        source = _file(sqlite_url)
        while len(_receipts(source)) < 50:  # the worker is committing now
            time.sleep(0.01)
        before = _receipts(source)  # committed before the backup started
        journal.set_key(KEY)  # the manifest is sealed
        made = backup.create_backup(sqlite_url, tmp_path / "backups", SHOP, "1")
        out, err = worker.communicate(timeout=90)
        assert worker.returncode == 0, err
    finally:
        if worker.poll() is None:
            worker.kill()
    copy = _receipts(_unpack(made.path, tmp_path / "copy.db"))
    assert set(before) <= set(copy)
    assert copy == list(range(1, len(copy) + 1))  # a consistent snapshot: no gap
    assert made.manifest["sales"] == len(copy)
    assert made.manifest["tills"]["1"]["last_receipt_no"] == len(copy)
    checked = backup.verify_backup(made.path)
    assert checked.sales == len(copy) and checked.journal_checked


KILLED_BACKUP = """
import sys
from pathlib import Path
from store import backup
backup.create_backup(sys.argv[1], Path(sys.argv[2]), "超赢小店", "1")
"""


def test_kill_9_mid_backup_leaves_the_earlier_backups_and_no_file_that_looks_whole(
        sqlite_database, sqlite_url, tmp_path):
    products = catalogue()
    for _ in range(3):
        ring_up(products)
    folder = tmp_path / "backups"
    earlier = backup.create_backup(sqlite_url, folder, SHOP, "1",
                                   when=datetime.datetime.now() - datetime.timedelta(days=1))
    digest = backup.file_sha256(earlier.path)
    con = sqlite3.connect(str(_file(sqlite_url)))  # make the database big, so the backup takes a while
    with con:
        con.executemany("INSERT INTO event (at, till_id, cashier, kind, printer, detail) VALUES (?, '1', '', 'filler', '', ?)",
                        ((f"2024-01-01 00:00:{i % 60:02d}", os.urandom(300).hex()) for i in range(200_000)))
    con.close()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BACKUP, sqlite_url, str(folder)], cwd=str(ROOT))
    try:
        deadline = time.monotonic() + 60
        while not any(p.is_file() and p.stat().st_size > 0 and p.name != backup.OWNER_FILE
                      for p in folder.glob(".partial-*/*")):
            assert proc.poll() is None, "the backup finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert [info.path for info in backup.list_backups(folder)] == [earlier.path]
    assert not [p for p in folder.iterdir() if p.name.endswith((".db.gz", ".pgdump")) and p != earlier.path]
    assert backup.file_sha256(earlier.path) == digest
    assert backup.verify_backup(earlier.path).sales == 3
    # The next backup removes what the killed one left at once, before it starts: its process is gone.
    [left] = folder.glob(".partial-*")
    size = sum(p.stat().st_size for p in left.iterdir())
    assert size > 0
    made = backup.create_backup(sqlite_url, folder, SHOP, "1")
    assert made.swept == [left] and made.swept_bytes == size
    assert not list(folder.glob(".partial-*"))


OWN_A_PARTIAL_FOLDER = """
import sys
from pathlib import Path
from store import backup
print(backup.partial_folder(Path(sys.argv[1])), flush=True)
sys.stdin.read()  # a backup at work until the test closes stdin
"""


def _leave_partial(folder: Path, running: bool) -> Tuple[Path, subprocess.Popen]:
    """A ``.partial-*`` folder made by a real process, still running or gone, with a file in it."""
    proc = subprocess.Popen([sys.executable, "-c", OWN_A_PARTIAL_FOLDER, str(folder)], cwd=str(ROOT),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line, "the process made no partial folder"
    work = Path(line)
    (work / "copy.db").write_bytes(b"x" * 4096)
    if not running:
        proc.communicate(timeout=30)
    return work, proc


def test_the_next_backup_sweeps_dead_backups_folders_and_never_a_running_ones(sqlite_database, sqlite_url, tmp_path):
    """Two tills may share a backup folder: only folders whose owner is known gone, or a day old, go."""
    ring_up(catalogue())
    folder = tmp_path / "shared"
    folder.mkdir()
    dead, _ = _leave_partial(folder, running=False)
    dead_too, _ = _leave_partial(folder, running=False)
    live, proc = _leave_partial(folder, running=True)
    try:
        reused = folder / ".partial-pid-reused"  # the live process's pid, but a process that started at another time
        reused.mkdir()
        owner = json.loads((live / backup.OWNER_FILE).read_text(encoding="utf-8"))
        (reused / backup.OWNER_FILE).write_text(json.dumps(dict(owner, start="1")), encoding="utf-8")
        elsewhere = folder / ".partial-other-till"  # another machine's backup at work: its pid means nothing here
        elsewhere.mkdir()
        (elsewhere / backup.OWNER_FILE).write_text(json.dumps(dict(owner, runtime="another boot", pid=999_999_999)),
                                                   encoding="utf-8")
        starting = folder / ".partial-no-owner-yet"  # a backup between making its folder and writing its owner
        starting.mkdir()
        old = folder / ".partial-older-version"  # no owner file, two days old: a backup that died long ago
        old.mkdir()
        (old / "copy.db").write_bytes(b"y" * 1000)
        os.utime(old, (time.time() - 2 * 86400,) * 2)

        gone = [dead, dead_too, reused, old]
        size = sum(p.stat().st_size for work in gone for p in work.iterdir())

        made = backup.create_backup(sqlite_url, folder, SHOP, "1")

        assert sorted(made.swept) == sorted(gone) and made.swept_bytes == size
        assert sorted(p.name for p in folder.glob(".partial-*")) == sorted([live.name, elsewhere.name, starting.name])
        assert (live / "copy.db").read_bytes() == b"x" * 4096  # the running backup's work is untouched
        assert backup.verify_backup(made.path).sales == 1
    finally:
        proc.communicate(timeout=30)


def test_rotation_keeps_the_newest_of_n_days_and_n_months(sqlite_database, sqlite_url, tmp_path):
    products = catalogue()
    ring_up(products)
    folder = tmp_path / "backups"
    start = datetime.datetime(2026, 1, 1, 22, 0, 0)
    made = []
    for day in range(0, 75, 2):  # every other day over two and a half months, twice on each day
        for hour in (9, 22):
            when = start + datetime.timedelta(days=day) - datetime.timedelta(hours=22 - hour)
            made.append(backup.create_backup(sqlite_url, folder, SHOP, "1", keep_daily=3, keep_monthly=2,
                                             when=when).path)
    other_till = backup.create_backup(sqlite_url, folder, SHOP, "2", when=start).path  # never touched by till 1
    kept = [info.path for info in backup.list_backups(folder)]
    newest = made[-1]
    days = sorted(p.name.split("-")[-2] for p in kept if p != other_till)
    assert newest in kept and other_till in kept
    # 3 days (their 22:00 backups) + the newest of 2 months: March (its newest day is the 16th) and February.
    assert days == ["20260228", "20260312", "20260314", "20260316"]
    assert all(p.name.endswith("-220000.db.gz") for p in kept)
    assert all(backup.manifest_path(p).exists() for p in kept)
    assert len(list(folder.glob("*.json"))) == len(kept)


def test_a_missing_second_place_is_a_warning_and_the_first_copy_stands(sqlite_database, sqlite_url, tmp_path):
    ring_up(catalogue())
    made = backup.create_backup(sqlite_url, tmp_path / "first", SHOP, "1", second=tmp_path / "usb-stick")
    assert made.path.exists() and made.copies == []
    assert len(made.warnings) == 1 and "usb-stick" in made.warnings[0]
    (tmp_path / "usb-stick").mkdir()
    made = backup.create_backup(sqlite_url, tmp_path / "first", SHOP, "1", second=tmp_path / "usb-stick")
    assert made.warnings == [] and made.copies == [tmp_path / "usb-stick" / made.path.name]
    assert backup.verify_backup(made.copies[0]).sales == 1


def test_restore_round_trip_and_refusals(sqlite_database, sqlite_url, tmp_path):
    products = catalogue()
    for _ in range(4):
        ring_up(products)
    made = backup.create_backup(sqlite_url, tmp_path / "b", SHOP, "1")
    restored = backup.restore_backup(made.path, tmp_path / "new" / "shop.db")
    assert restored.sales == 4
    assert _receipts(tmp_path / "new" / "shop.db") == [1, 2, 3, 4]
    with pytest.raises(BackupError, match="already exists"):
        backup.restore_backup(made.path, tmp_path / "new" / "shop.db")
    with pytest.raises(BackupError, match="already exists"):
        backup.restore_backup(made.path, _file(sqlite_url))  # never over the live database
    damaged = tmp_path / "b" / made.path.name.replace("-1-", "-9-")
    damaged.write_bytes(made.path.read_bytes()[:-40])
    with pytest.raises(BackupError, match="is damaged"):
        backup.restore_backup(damaged, tmp_path / "other.db")
    assert not (tmp_path / "other.db").exists()


def test_verify_given_the_manifest_checks_the_backup_it_names(sqlite_database, sqlite_url, tmp_path):
    products = catalogue()
    for _ in range(2):
        ring_up(products)
    made = backup.create_backup(sqlite_url, tmp_path / "b", SHOP, "1")
    note = backup.manifest_path(made.path)
    checked = backup.verify_backup(note)
    assert checked.path == made.path and checked.sales == 2 and checked.journal_checked
    assert backup.restore_backup(note, tmp_path / "from-manifest.db").sales == 2
    made.path.unlink()
    with pytest.raises(BackupError, match="the backup .*json names, does not exist") as missing:
        backup.verify_backup(note)
    assert missing.value.code == "backup_missing"


def test_a_backup_without_its_manifest_is_not_verified_and_restores_only_when_forced(
        sqlite_database, sqlite_url, tmp_path):
    ring_up(catalogue())
    made = backup.create_backup(sqlite_url, tmp_path / "b", SHOP, "1")
    note = backup.manifest_path(made.path)
    note.unlink()
    with pytest.raises(BackupError) as refused:
        backup.verify_backup(made.path)
    assert refused.value.code == "backup_manifest_missing"
    assert f"has no manifest: {note.name} is missing" in str(refused.value)
    assert "the file itself is whole (1 sale, journal ok)" in str(refused.value)
    note.write_text("{not json", encoding="utf-8")
    with pytest.raises(BackupError, match="its manifest .* is damaged"):
        backup.verify_backup(made.path)
    note.unlink()
    with pytest.raises(BackupError, match="is not proved: it has no manifest") as unproven:
        backup.restore_backup(made.path, tmp_path / "restored.db")
    assert unproven.value.code == "backup_unproven" and not (tmp_path / "restored.db").exists()
    restored = backup.restore_backup(made.path, tmp_path / "restored.db", force=True)  # the copy itself is checked
    assert restored.sales == 1 and "has no manifest" in restored.unproven


def test_verify_names_a_changed_sale_in_the_copy(sqlite_database, sqlite_url, tmp_path):
    products = catalogue()
    for _ in range(3):
        ring_up(products)
    made = backup.create_backup(sqlite_url, tmp_path / "b", SHOP, "1")
    copy = _unpack(made.path, tmp_path / "copy.db")
    con = sqlite3.connect(str(copy))
    with con:
        con.execute("UPDATE sale SET total_fen = 1 WHERE receipt_no = 2")
    con.close()
    forged = tmp_path / made.path.name
    with gzip.open(forged, "wb") as out:
        out.write(copy.read_bytes())
    with pytest.raises(BackupError, match="journal of the copy is broken.*1-000002"):
        backup.verify_backup(forged)
    manifest = json.loads(backup.manifest_path(made.path).read_text(encoding="utf-8"))
    assert manifest["schema_version"] and manifest["created_at"] and manifest["shop"] == SHOP


def test_postgres_backup_is_pg_dump_custom_format(postgres_url, tmp_path):
    from store.db import close_database, db, open_database

    open_database(postgres_url)
    try:
        products = catalogue()
        for _ in range(2):
            ring_up(products)
        made = backup.create_backup(postgres_url, tmp_path / "b", SHOP, "1")
    finally:
        close_database()
        db.initialize(None)
    assert made.path.name.startswith("chaoying-chaoyingxiaodian-1-") and made.path.name.endswith(".pgdump")
    assert made.path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert made.manifest["sales"] == 2 and made.manifest["database"] == "postgresql"
    assert backup.verify_backup(made.path).sales == 2
    with pytest.raises(BackupError, match="pg_restore"):
        backup.restore_backup(made.path, tmp_path / "x.db")


PG_DUMP_SPY = """#!/bin/sh
printf '%s\\n' "$@" > "{out}/argv"
env | cut -d= -f1 > "{out}/env"
stat -c %a "$PGPASSFILE" > "{out}/passfile-mode"
exec "{real}" "$@"
"""


def _password_database(server, name: str, user: str, password: str) -> str:
    """A database only ``user`` with ``password`` may open (scram-sha-256 for it alone, trust stays for the rest)."""
    import psycopg2

    server.create_database(name)
    admin = psycopg2.connect(dbname="postgres", user="postgres", host=str(server.dir), port=server.port)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE ROLE \"{user}\" LOGIN PASSWORD %s", (password,))
            cursor.execute(f'ALTER DATABASE "{name}" OWNER TO "{user}"')
            hba = server.dir / "data" / "pg_hba.conf"
            hba.write_text(f"local {name} all scram-sha-256\n" + hba.read_text())
            cursor.execute("SELECT pg_reload_conf()")
    finally:
        admin.close()
    for _ in range(400):  # the server reloads its rules on its own time: wait until a password is asked
        try:
            psycopg2.connect(dbname=name, user=user, host=str(server.dir), port=server.port).close()
        except psycopg2.OperationalError as exc:
            if "password" in str(exc):
                break
            raise
        time.sleep(0.05)
    else:
        pytest.fail("the server never asked for the password")
    return f"postgresql://{user}:{password}@/{name}?host={server.dir}&port={server.port}"


def test_pg_dump_gets_the_password_from_a_private_passfile_never_from_its_command_line(
        postgres_server, tmp_path, monkeypatch):
    import shutil
    import uuid

    from store.db import close_database, db, open_database

    password = "se:cr\\et-" + uuid.uuid4().hex[:8]  # a colon and a backslash: the passfile escapes both
    tag = uuid.uuid4().hex[:10]
    url = _password_database(postgres_server, f"pw_{tag}", f"u_{tag}", password)
    spy = tmp_path / "bin"
    spy.mkdir()
    (spy / "pg_dump").write_text(PG_DUMP_SPY.format(out=tmp_path, real=shutil.which("pg_dump")))
    (spy / "pg_dump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    open_database(url)
    try:
        ring_up(catalogue())
        made = backup.create_backup(url, tmp_path / "b", SHOP, "1")  # the server asks pg_dump for the password
    finally:
        close_database()
        db.initialize(None)
    argv = (tmp_path / "argv").read_text()
    assert "--snapshot=" in argv and password not in argv and "se:cr" not in argv
    assert "PGPASSFILE" in (tmp_path / "env").read_text().split()
    assert (tmp_path / "passfile-mode").read_text().strip() == "600"
    assert made.manifest["sales"] == 1 and not list((tmp_path / "b").rglob("pgpass"))
