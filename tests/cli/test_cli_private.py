"""A shop owner's backups prove themselves, and the shop's files are the owner's only (issue 25: 3, 8)."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import List

from tests.cli.helpers import one_line


def _backups(shop) -> Path:
    """The shop's backup folder: [backup] dir's default, in the user data dir beside the database."""
    return shop.db_path.parent / "backups"


def _backup(shop) -> Path:
    shop.ok("backup")
    [path] = sorted(_backups(shop).glob("*.db.gz"))
    return path


def _note(path: Path) -> Path:
    return path.with_name(path.name[:-len(".db.gz")] + ".json")


def _checkpoints(shop) -> int:
    return shop.sql("SELECT COUNT(*) FROM journal_checkpoint")[0][0]


def test_an_edited_manifest_is_refused_by_verify_and_restore_even_when_forced(shop):
    shop.seed(3)
    path = _backup(shop)
    manifest = json.loads(_note(path).read_text(encoding="utf-8"))
    manifest["sales"] = 2
    _note(path).write_text(json.dumps(manifest), encoding="utf-8")
    for args in (("backup", "verify", str(path), "--force"), ("restore", str(path), "--to", str(shop.home / "r.db"))):
        refused = shop.run(*args)
        assert refused.returncode == 1
        assert "was changed or made by hand (its seal does not match the journal key)" in one_line(refused.stderr)
    assert not (shop.home / "r.db").exists()


def test_a_backup_made_while_the_key_was_missing_verifies_only_with_force_and_says_so(shop):
    shop.seed(2)
    shop.key_file.rename(shop.home / "journal.key.away")
    path = _backup(shop)
    (shop.home / "journal.key.away").rename(shop.key_file)
    refused = shop.run("backup", "verify", str(path))
    assert refused.returncode == 1
    line = one_line(refused.stderr)
    assert line.startswith("chaoying: backup not verified: ") and "has no seal" in line
    assert line.endswith("; --force uses it anyway")
    forced = shop.ok("backup", "verify", str(path), "--force").stdout
    assert forced.startswith(f"backup checked but not proved: {path}: its manifest ") and "journal ok, 2 sales" in forced
    restored = shop.ok("restore", str(path), "--to", str(shop.home / "r.db"), "--force").stdout
    assert "restored 2 sales" in restored and "but not proved: its manifest" in restored


def test_journal_verify_names_a_cut_a_backup_shows_and_writes_no_checkpoint_over_it(shop):
    """Issue 25 finding 1 against a backup: the newest sale with its audit records and counter deleted."""
    shop.seed(2)
    shop.seed(1)  # receipt 3 and all its records come last
    shop.ok("journal", "verify")
    _backup(shop)
    sale_id = shop.sql("SELECT MAX(id) FROM sale")[0][0]
    seq = shop.sql("SELECT MIN(seq) FROM audit WHERE kind = 'commit' AND ref = ?", sale_id)[0][0]
    con = sqlite3.connect(str(shop.db_path))
    with con:
        for table in ("line", "payment", "receipt_outcome", "print_attempt", "event"):
            con.execute(f'DELETE FROM "{table}" WHERE sale_id = ?', (sale_id,))
        con.execute("DELETE FROM sale WHERE id = ?", (sale_id,))
        con.execute("DELETE FROM stock_move WHERE document = ?", (sale_id,))  # its stock moves (store.stock) too
        con.execute("DELETE FROM audit WHERE seq >= ?", (seq,))
        con.execute("DELETE FROM journal_checkpoint")  # and every checkpoint: only the backup still knows
        con.execute("UPDATE till_counter SET last_receipt_no = 2, last_hash = (SELECT hash FROM sale "
                    "WHERE receipt_no = 2), audit_seq = ?, audit_hash = (SELECT hash FROM audit WHERE seq = ?)",
                    (seq - 1, seq - 1))
    con.close()
    before = _checkpoints(shop)
    broken = shop.run("journal", "verify", "--full")  # the walk from the start finds nothing wrong: the backup does
    assert broken.returncode == 1, broken.stdout
    line = one_line(broken.stderr)
    assert line.startswith("chaoying: journal broken: receipt 1-000003, the newest in backup chaoying-")
    assert line.endswith("is gone from the live database: records were cut after that backup")
    assert shop.run("journal", "verify").returncode == 1
    assert _checkpoints(shop) == before


# ---------------------------------------------------------------- private files


def _modes(folder: Path) -> List[str]:
    """Every file not 0600 and folder not 0700 under ``folder`` (itself included)."""
    wrong = []
    for path in [folder] + sorted(folder.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            wrong.append(f"{path.relative_to(folder.parent)} {mode:04o}")
    return wrong


def test_a_new_shops_files_are_the_owners_only(shop):
    old = os.umask(0o022)  # the shell's: chaoying sets its own (process_state puts this one back after each run)
    try:
        shop.seed(1)
        path = _backup(shop)
        shop.ok("restore", str(path), "--to", str(shop.home / "restored" / "shop.sqlite3"))
        shop.ok("journal", "verify")
    finally:
        os.umask(old)
    for folder in ("data", "state", "restored"):  # the database with its backups, the log, the restored copy
        assert _modes(shop.home / folder) == [], folder
    assert (shop.home / "state" / "chaoying" / "log" / "chaoying.log").stat().st_size > 0
    for file in (shop.config, shop.key_file):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_init_on_a_shop_an_older_version_left_readable_tightens_it_and_says_what_it_changed(shop):
    shop.seed(1)
    path = _backup(shop)
    log = shop.home / "state" / "chaoying" / "log" / "chaoying.log"
    readable = [shop.db_path, shop.key_file, shop.config, log, path, _note(path)]
    for file in readable:
        file.chmod(0o644)
    folders = [shop.db_path.parent, _backups(shop), log.parent]
    for folder in folders:
        folder.chmod(0o755)
    said = shop.ok("init").stdout.splitlines()
    changed = [line for line in said if line.startswith("made private: ")]
    assert f"made private: {shop.db_path}: 0644 -> 0600" in changed
    assert f"made private: {shop.db_path.parent}: 0755 -> 0700" in changed
    assert len(changed) == len(readable) + len(folders), said
    for file in readable:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert not [line for line in shop.ok("init").stdout.splitlines() if line.startswith("made private: ")]
