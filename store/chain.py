"""Hashing of the chains (journal, audit, checkpoints): SHA-256, or HMAC-SHA256 with the optional journal key.

With a key, new documents, audit records and checkpoints are hashed with
HMAC-SHA256 and say so (hash_kind "hmac"): rebuilding a chain after an edit
then needs the key, which lives in a file outside the database ([journal]
key_file, written by `chaoying init`). Older records keep their plain
SHA-256 and verify as such.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Optional


def chain_hash(prev_hash: str, content: str, kind: str = "") -> str:
    """SHA-256 (hex) of the previous hash followed by the canonical content; HMAC-SHA256 with the key for "hmac"."""
    data = (prev_hash + content).encode("utf-8")
    if kind == HMAC:
        if _key is None:
            raise KeyMissing("the journal key is not loaded")
        return hmac.new(_key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


HMAC = "hmac"
_key: Optional[bytes] = None


class KeyMissing(Exception):
    """A record is sealed with the journal key and the key is not loaded."""


def set_key(key: Optional[bytes]) -> None:
    """Use ``key`` for new records and for verifying keyed ones (None: no key)."""
    global _key
    _key = key


def hash_kind() -> str:
    """The hash kind new records get: "hmac" with a key, "" (SHA-256) without."""
    return HMAC if _key is not None else ""


def make_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 0600) unless it exists; True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return True


def read_key_file(path: Path) -> Optional[bytes]:
    """The key in ``path``, or None when the file is missing or unreadable."""
    try:
        text = path.read_text(encoding="ascii").strip()
        return bytes.fromhex(text) if text else None
    except (OSError, ValueError):
        return None
