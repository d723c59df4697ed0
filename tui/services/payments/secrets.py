"""Secret files of the payment providers (API keys, private keys): read only when they are private.

A secret file must be ours and readable by us alone (mode 0600 or stricter), else the client is not
built: ``SecretFileError`` names the file and what is wrong with it, never what is in it.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from tui.services.payments.provider import ProviderError

MISSING, UNREADABLE, NOT_OURS, OPEN_TO_OTHERS, EMPTY = "missing", "unreadable", "not_ours", "open_to_others", "empty"

_SENTENCES = {
    MISSING: "The key file {path} is missing.",
    UNREADABLE: "The key file {path} cannot be read.",
    NOT_OURS: "The key file {path} belongs to another user: chown it to the user running the till.",
    OPEN_TO_OTHERS: "The key file {path} may be read by other users: chmod 600 it.",
    EMPTY: "The key file {path} is empty.",
}


class SecretFileError(ProviderError):
    """A secret file that cannot be used. ``problem`` is one of the names above (for the UI's own
    sentence, key ``payments.secret.<problem>``); ``str()`` is one English sentence naming the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(_SENTENCES[problem].format(path=path))
        self.path = path
        self.problem = problem


def read_secret_bytes(path: Path) -> bytes:
    """The whole content of the secret file ``path`` (a PEM key, say), once it is known to be private."""
    path = Path(path).expanduser()
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except FileNotFoundError:
        raise SecretFileError(path, MISSING) from None
    except OSError:
        raise SecretFileError(path, UNREADABLE) from None
    with os.fdopen(fd, "rb") as handle:
        _check_private(path, os.fstat(fd))
        try:
            content = handle.read()
        except OSError:
            raise SecretFileError(path, UNREADABLE) from None
    if not content.strip():
        raise SecretFileError(path, EMPTY)
    return content


def read_secret(path: Path) -> str:
    """The secret in ``path`` as text, without the spaces and line ends around it (an API key)."""
    try:
        return read_secret_bytes(path).decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretFileError(Path(path).expanduser(), UNREADABLE) from None


def check_private(path: Path) -> None:
    """Raise ``SecretFileError`` unless ``path`` is a private file of ours (for a file another library
    opens itself, such as a client certificate's key handed to ``ssl``)."""
    read_secret_bytes(path)


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise SecretFileError(path, UNREADABLE)
    if info.st_uid != os.geteuid():
        raise SecretFileError(path, NOT_OURS)
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise SecretFileError(path, OPEN_TO_OTHERS)


def write_secret(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` readable by us alone (mode 0600), replacing what was there."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(content)
