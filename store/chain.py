"""Hashing of the chains (journal, audit, checkpoints): SHA-256, or HMAC-SHA256 with the optional journal key.

With a key, new documents, audit records and checkpoints are hashed with
HMAC-SHA256 and say so (hash_kind "hmac"): rebuilding a chain after an edit
then needs the key, which lives in a file outside the database ([journal]
key_file, written by `chaoying init`). Older records keep their plain
SHA-256 and verify as such.

A till whose settings name a key file that it cannot read sells on with
plain SHA-256 records marked "nokey" (written while the shop's key was
missing): verify reports them apart from records rewritten without the key
(store.journal), and the first of each run of them is the event
``journal_key_missing`` (store.audit).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Optional, Tuple


def chain_hash(prev_hash: str, content: str, kind: str = "") -> str:
    """SHA-256 (hex) of the previous hash followed by the canonical content; HMAC-SHA256 with the key for "hmac"."""
    data = (prev_hash + content).encode("utf-8")
    if kind == HMAC:
        if _key is None:
            raise KeyMissing("the journal key is not loaded")
        return hmac.new(_key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


HMAC = "hmac"
#: A plain SHA-256 record written while the shop's key file was missing (the till sold on without it).
NOKEY = "nokey"
_key: Optional[bytes] = None
_missing = False  # the settings name a key file and it could not be read
_made = ""  # when the key was made ("YYYY-MM-DD HH:MM:SS"; "" unknown): later records must be keyed


class KeyMissing(Exception):
    """A record is sealed with the journal key and the key is not loaded."""


def set_key(key: Optional[bytes], made: str = "", missing: bool = False) -> None:
    """Use ``key`` for new records and for verifying keyed ones (None: no key); ``made``: when it was made.

    ``missing``: the shop has a key (its settings name the file) but it could
    not be read; new records are then plain and marked "nokey".
    """
    global _key, _made, _missing
    _key, _made, _missing = key, (made if key is not None else ""), (key is None and missing)


def key_missing() -> bool:
    """True while the shop's key file names a key that could not be loaded: records are written "nokey"."""
    return _missing


def key_made() -> str:
    """When the loaded key was made: a plain record dated at or after it was rewritten without the key."""
    return _made


def hash_kind() -> str:
    """The hash kind new records get: "hmac" with a key, "nokey" while the shop's key is missing, "" without one."""
    if _key is not None:
        return HMAC
    return NOKEY if _missing else ""


def make_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 0600) unless it exists; True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        made = datetime.datetime.now().replace(microsecond=0).isoformat(sep=" ")
        out.write(f"{secrets.token_hex(32)}\nmade {made}\n")
        out.flush()
        os.fsync(out.fileno())
    return True


def read_key_file(path: Path) -> Tuple[Optional[bytes], str]:
    """(the key in ``path``, when it was made) or (None, "") when the file is missing or unreadable."""
    try:
        lines = path.read_text(encoding="ascii").split("\n")
        key = bytes.fromhex(lines[0].strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None, ""
    made = next((line[5:].strip() for line in lines[1:] if line.startswith("made ")), "")
    return (key, made) if key else (None, "")
