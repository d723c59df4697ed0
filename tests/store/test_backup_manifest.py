"""A backup's manifest is sealed with the journal key: a hand-made or edited one is refused, and the live
database is held against the manifests of its backups (a record a backup holds and the live one lost is a cut)."""
from __future__ import annotations

import datetime
import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any, Dict

import pytest

from store import backup, journal
from store.backup import BackupError
from store.db import db
from tests.store.helpers import catalogue, ring_up

SHOP = "超赢小店"
KEY = bytes(range(32))
DAY = datetime.datetime(2025, 3, 1, 12, 0, 0)


@pytest.fixture(autouse=True)
def keyed() -> None:
    """The shop's journal key, loaded as `chaoying backup`, `backup verify` and the till load it."""
    journal.set_key(KEY)


@pytest.fixture
def sell(sqlite_database):
    """``sell(n, *items)``: n cash sales on till 1 of a fresh SQLite shop (a cola each, or ``items``)."""
    products = catalogue()

    def sell(count: int, *items) -> None:
        for _ in range(count):
            ring_up(products, *items)
    return sell


def _backup(url: str, folder: Path, minute: int = 0, till: str = "1") -> backup.BackupResult:
    return backup.create_backup(url, folder, SHOP, till, when=DAY + datetime.timedelta(minutes=minute))


def _note(made: backup.BackupResult) -> Path:
    return backup.manifest_path(made.path)


def _read(note: Path) -> Dict[str, Any]:
    return json.loads(note.read_text(encoding="utf-8"))


def _write(note: Path, manifest: Dict[str, Any]) -> None:
    note.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def edit(sql: str, *params) -> None:
    """One statement on the live database file through its own connection: an edit outside the till."""
    con = sqlite3.connect(db.obj.database, timeout=10)
    try:
        with con:
            con.execute(sql, params)
    finally:
        con.close()


def cut_newest_sale() -> int:
    """What finding 1 of issue 25 did: the newest sale, its rows and audit records deleted, the counter set back."""
    con = sqlite3.connect(db.obj.database, timeout=10)
    try:
        with con:
            sale_id, number = con.execute("SELECT id, receipt_no FROM sale ORDER BY receipt_no DESC LIMIT 1").fetchone()
            seq = con.execute("SELECT MIN(seq) FROM audit WHERE kind = 'commit' AND ref = ?", (sale_id,)).fetchone()[0]
            for table in ("line", "payment", "discount", "receipt_outcome", "print_attempt", "event"):
                con.execute(f'DELETE FROM "{table}" WHERE sale_id = ?', (sale_id,))
            con.execute("DELETE FROM sale WHERE id = ?", (sale_id,))
            con.execute("DELETE FROM audit WHERE seq >= ?", (seq,))
            con.execute("UPDATE till_counter SET last_receipt_no = ?, "
                        "last_hash = (SELECT hash FROM sale WHERE receipt_no = ?), audit_seq = ?, "
                        "audit_hash = (SELECT hash FROM audit WHERE seq = ?)", (number - 1, number - 1, seq - 1, seq - 1))
    finally:
        con.close()
    return number


# ---------------------------------------------------------------- the seal


def test_a_manifest_is_sealed_with_the_journal_key_and_names_the_checkpoint_head(sell, sqlite_url, tmp_path):
    from store.models import JournalCheckpoint

    sell(2)
    assert journal.verify(checkpoint=True).ok
    made = _backup(sqlite_url, tmp_path / "b")
    manifest = _read(_note(made))
    newest = JournalCheckpoint.select().order_by(JournalCheckpoint.id.desc()).first()
    assert manifest["keyed"] is True and len(manifest["hmac"]) == 64 and manifest["format"] == 2
    assert manifest["checkpoint"] == {"id": newest.id, "hash": newest.hash}
    assert backup.seal_state(manifest) == backup.SEALED
    checked = backup.verify_backup(made.path)
    assert checked.unproven == "" and checked.sales == 2
    journal.set_key(bytes(32))  # another shop's key
    assert backup.seal_state(manifest) == backup.FORGED


def test_a_cut_backup_with_a_hand_made_manifest_is_refused(sell, sqlite_url, tmp_path):
    """Issue 25 finding 3: the backup of 3 sales replaced by one of 2, its manifest written to match."""
    sell(2)
    cut = _backup(sqlite_url, tmp_path / "cut")
    sell(1)
    made = _backup(sqlite_url, tmp_path / "b", minute=1)
    made.path.write_bytes(cut.path.read_bytes())
    forged = dict(_read(_note(made)))
    forged.update({name: _read(_note(cut))[name] for name in ("sha256", "size", "sales", "tills", "checkpoint")})
    _write(_note(made), forged)  # the old seal kept
    for call in (lambda: backup.verify_backup(made.path, force=True),
                 lambda: backup.restore_backup(made.path, tmp_path / "r.db", force=True)):
        with pytest.raises(BackupError, match="was changed or made by hand") as refused:
            call()
        assert refused.value.code == "backup_manifest_forged"
    del forged["hmac"]
    forged["keyed"] = False  # as a backup made without the key says
    _write(_note(made), forged)
    for call in (lambda: backup.verify_backup(made.path), lambda: backup.restore_backup(made.path, tmp_path / "r.db")):
        with pytest.raises(BackupError, match="is not proved: its manifest .* has no seal") as refused:
            call()
        assert refused.value.code == "backup_unproven" and "2 sales, journal ok" in str(refused.value)
    assert not (tmp_path / "r.db").exists()


def test_the_copy_is_held_against_every_head_of_its_manifest(sell, sqlite_url, tmp_path):
    sell(3)
    assert journal.verify(checkpoint=True).ok
    made = _backup(sqlite_url, tmp_path / "b")
    honest = _read(_note(made))
    ahead = json.loads(json.dumps(honest))
    ahead["tills"]["1"]["last_receipt_no"] = 4
    _write(_note(made), backup.seal_manifest(ahead))  # sealed with the key: only the heads disagree
    with pytest.raises(BackupError, match="does not hold what its manifest says: till 1 ends at receipt 3 .* in it, "
                                          "at receipt 4 .* in the manifest"):
        backup.verify_backup(made.path)
    other = dict(honest, checkpoint={"id": 99, "hash": "0" * 64})
    _write(_note(made), backup.seal_manifest(other))
    with pytest.raises(BackupError, match="newest journal checkpoint is not the one the manifest names"):
        backup.restore_backup(made.path, tmp_path / "r.db")
    _write(_note(made), honest)
    assert backup.restore_backup(made.path, tmp_path / "r.db").sales == 3


def test_a_backup_made_while_the_key_was_missing_is_not_proved_and_restores_only_when_forced(
        sell, sqlite_url, tmp_path):
    sell(1)
    journal.set_key(None)  # the key file was missing when the backup ran
    made = _backup(sqlite_url, tmp_path / "b")
    manifest = _read(_note(made))
    assert manifest["keyed"] is False and "hmac" not in manifest
    journal.set_key(KEY)
    with pytest.raises(BackupError, match="has no seal .*made without the journal key"):
        backup.verify_backup(made.path)
    checked = backup.verify_backup(made.path, force=True)
    assert checked.sales == 1 and "has no seal" in checked.unproven
    restored = backup.restore_backup(made.path, tmp_path / "r.db", force=True)
    assert restored.path == tmp_path / "r.db" and restored.unproven


def test_a_sealed_manifest_read_without_the_key_cannot_be_proved(sell, sqlite_url, tmp_path):
    sell(1)
    made = _backup(sqlite_url, tmp_path / "b")
    journal.set_key(None)
    with pytest.raises(BackupError, match="sealed with the journal key, which is not loaded here") as refused:
        backup.verify_backup(made.path)
    assert refused.value.code == "backup_unproven"


# ---------------------------------------------------------------- the live database against its backups


def test_a_cut_after_a_backup_is_named_by_its_manifest(sell, sqlite_url, tmp_path):
    sell(3)
    _backup(sqlite_url, tmp_path / "b")
    assert backup.check_manifests(tmp_path / "b", SHOP, "1") == []
    assert cut_newest_sale() == 3
    [finding] = backup.check_manifests(tmp_path / "b", SHOP, "1")
    assert finding.startswith("receipt 1-000003, the newest in backup chaoying-chaoyingxiaodian-1-20250301-120000.json"
                              ", is gone from the live database: records were cut")
    sell(1, ("42", 2000))  # the cut covered by another sale with the number the cut one had
    [finding] = backup.check_manifests(tmp_path / "b", SHOP, "1")
    assert "receipt 1-000003 in the live database is not the one backup" in finding and "rewritten" in finding


def test_a_cut_of_audit_records_alone_and_of_the_newest_checkpoint_are_named(sell, sqlite_url, tmp_path):
    from store.models import JournalCheckpoint

    sell(2)
    assert journal.verify(checkpoint=True).ok
    _backup(sqlite_url, tmp_path / "b")
    newest = JournalCheckpoint.select().order_by(JournalCheckpoint.id.desc()).first()
    edit("DELETE FROM journal_checkpoint WHERE id = ?", newest.id)
    [finding] = backup.check_manifests(tmp_path / "b", SHOP, "1")
    assert finding.startswith(f"journal checkpoint {newest.id}, the newest in backup ") and "is gone" in finding
    edit("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    [finding] = backup.check_manifests(tmp_path / "b", SHOP, "1")
    assert finding.startswith("audit record ") and "of till 1, the newest in backup" in finding


def test_an_edited_manifest_is_named_and_other_tills_manifests_are_left_alone(sell, sqlite_url, tmp_path):
    sell(2)
    made = _backup(sqlite_url, tmp_path / "b")
    other = _backup(sqlite_url, tmp_path / "b", minute=1, till="2")  # another till sharing the folder
    manifest = _read(_note(made))
    manifest["sales"] = 1
    _write(_note(made), manifest)
    _write(_note(other), dict(_read(_note(other)), sales=7))
    [finding] = backup.check_manifests(tmp_path / "b", SHOP, "1")
    assert finding == (f"the backup manifest {_note(made)} was changed or made by hand: its seal does not match "
                       f"the journal key")
    assert backup.check_manifests(tmp_path / "missing-stick", SHOP, "1") == []


# ---------------------------------------------------------------- private files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backups_manifests_copies_and_restored_databases_are_the_owners_only(sell, sqlite_url, tmp_path):
    sell(1)
    (tmp_path / "stick").mkdir()
    old = os.umask(0o022)  # a process that did not set its umask: the files are private all the same
    try:
        made = backup.create_backup(sqlite_url, tmp_path / "b", SHOP, "1", second=tmp_path / "stick")
        restored = backup.restore_backup(made.path, tmp_path / "restored" / "shop.db")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "b") == 0o700 and _mode(tmp_path / "restored") == 0o700
    for path in (made.path, _note(made), made.copies[0], backup.manifest_path(made.copies[0]), restored.path):
        assert _mode(path) == 0o600, path
