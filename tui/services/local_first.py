"""Local first: the till always sells on its own SQLite file; PostgreSQL is the shop's server.

A settings file from the days when tills shared one PostgreSQL database (``[database] url =
"postgresql://..."``), or ``DATABASE_URL`` naming PostgreSQL when the till starts, keeps
working: that URL now names the shop's server, and the till sells on its own SQLite file
(the ``[database] url`` default) and syncs to it. The settings file is migrated once: the
URL moves to ``[server] url``, every other byte stays, and the old file is kept beside it.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Dict, Mapping, NamedTuple, Optional

from store.db import redact

log = logging.getLogger("chaoying.local_first")

BACKUP_SUFFIX = ".before-server"

_POSTGRES = re.compile(r"postgres(ql)?(\+[a-z0-9_]+)?://", re.IGNORECASE)
_URL_LINE = re.compile(r"""^(?P<lead>\s*url\s*=\s*)(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')(?P<rest>\s*(#.*)?)$""")


class MigrationError(Exception):
    """The settings file could not be migrated; str() is one sentence (the till still sells locally)."""


def is_postgres(url: str) -> bool:
    """True when ``url`` names a PostgreSQL database."""
    return bool(_POSTGRES.match(url.strip()))


def redact_url(url: str) -> str:
    """The URL with its password replaced (store.db.redact, the one home of the rule)."""
    return redact(url)


class LocalFirst(NamedTuple):
    """What the till sells on after the rule: settings with a SQLite ``database.url`` and the server in
    ``server.url``; ``said`` is the one sentence for the start ("" when nothing needed saying)."""

    settings: Any
    said: str = ""
    server: str = ""  # the server's URL, redacted ("" when nothing moved)
    file: str = ""  # the SQLite file the till now sells on
    backup: Optional[Path] = None  # the copy of the settings file before it was migrated
    source: str = ""  # "file" ([database] url), "env" (DATABASE_URL) or ""


def sell_locally(settings: Any, environ: Optional[Mapping[str, str]] = None, migrate: bool = True) -> LocalFirst:
    """Apply the local-first rule to loaded settings: migrate the file when it names PostgreSQL in
    [database] url (``migrate``: the till's start; a command that only reads leaves the file alone); treat
    DATABASE_URL naming PostgreSQL as the server for this run. Logs the sentence when it migrates."""
    from tui.settings import DatabaseSettings, default_database_url, resolve_database_url

    environ = os.environ if environ is None else environ
    env = environ.get("DATABASE_URL", "").strip()
    written = _file_database_url(settings.path)
    if is_postgres(env):
        source, server = "env", env
    elif is_postgres(written):
        source, server = "file", written
    else:
        return LocalFirst(settings)
    local = "" if is_postgres(written) else resolve_database_url(written, settings.path, env="")
    local = local or default_database_url()
    changed = dataclasses.replace(settings, database=DatabaseSettings(url=local),
                                  server=dataclasses.replace(settings.server, url=server))
    file = local[len("sqlite:///"):] if local.startswith("sqlite:///") else local
    backup: Optional[Path] = None
    problem = ""
    if not migrate:
        return LocalFirst(changed, "", redact_url(server), file, None, source)
    if source == "file":
        try:
            backup = migrate_file(settings.path, server)
        except MigrationError as exc:
            problem = str(exc)
    said = start_sentence(source, redact_url(server), file, settings.path, backup, problem)
    log.warning("%s", said)
    return LocalFirst(changed, said, redact_url(server), file, backup, source)


def start_sentence(source: str, server: str, file: str, path: Optional[Path], backup: Optional[Path],
                   problem: str = "") -> str:
    """The one sentence said at start when a PostgreSQL URL now names the shop's server."""
    named = "DATABASE_URL" if source == "env" else "[database] url"
    head = (f"{named} names PostgreSQL {server}: that is now the shop's server; this till sells on its own "
            f"SQLite file {file} and syncs to it")
    if source == "env":
        return head + " (put the URL in [server] url of the settings and DATABASE_URL need not be set)."
    if problem:
        return head + f" ({problem})."
    return head + f" (the settings file {path} now has it in [server] url; the old file is kept as {backup})."


def _file_database_url(path: Optional[Path]) -> str:
    """[database] url as the settings file writes it ("" when the file or the key is missing)."""
    if path is None:
        return ""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return ""
    data = _toml(text)
    value = data.get("database", {}).get("url", "") if isinstance(data.get("database"), dict) else ""
    return value if isinstance(value, str) else ""


def _toml(text: str) -> Dict[str, Any]:
    from tui.settings import tomllib  # the settings' own TOML reader (tomllib, or tomli before 3.11)

    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}


# ---------------------------------------------------------------- the file

def moved_to_server(text: str, url: str) -> str:
    """The settings text with [database] url's line gone and ``url`` in [server] url; every other byte as it was.

    Raises MigrationError (one sentence) for a file it cannot change safely: the key written another way
    (inline table, dotted key), or [server] url naming another server.
    """
    from tui.settings import _scan

    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    entries = _scan(text)
    database = [n for n, section, key in entries if section == "database" and key == "url"]
    if len(database) != 1 or not _URL_LINE.match(lines[database[0] - 1].rstrip("\r\n")):
        raise MigrationError("move the URL from [database] url to [server] url yourself: it is not written "
                             "as one url = \"...\" line under [database]")
    server_line = [n for n, section, key in entries if section == "server" and key == "url"]
    server_header = [n for n, section, key in entries if section == "server" and key is None]
    if any(section == "" and key == "server" for _, section, key in entries):
        raise MigrationError("move the URL from [database] url to [server] url yourself: server is not "
                             "written as a [server] section")
    quoted = json.dumps(url)
    insert_at: Optional[int] = None  # 0-based index to insert a new url line before
    if server_line:
        index = server_line[0] - 1
        match = _URL_LINE.match(lines[index].rstrip("\r\n"))
        if match is None:
            raise MigrationError("move the URL from [database] url to [server] url yourself: [server] url is "
                                 "not written as one url = \"...\" line")
        current = _toml(f"v = {match.group('value')}").get("v", "")
        if current and current != url:
            raise MigrationError(f"[server] url already names {redact_url(current)}: delete the one that is "
                                 f"wrong from the settings file")
        ending = lines[index][len(lines[index].rstrip("\r\n")):]
        lines[index] = match.group("lead") + quoted + match.group("rest") + ending
    elif server_header:
        insert_at = server_header[0]
    old_index = database[0] - 1
    if insert_at is not None:
        lines.insert(insert_at, f"url = {quoted}{newline}")
        if insert_at <= old_index:
            old_index += 1
    del lines[old_index]
    if not server_line and not server_header:
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(f"{newline}[server]{newline}url = {quoted}{newline}")
    result = "".join(lines)
    _check_moved(text, result, url)
    return result


def _check_moved(before: str, after: str, url: str) -> None:
    """The new text must say exactly what the old one said, but for the URL moved."""
    expected = copy.deepcopy(_toml(before))
    expected.get("database", {}).pop("url", None)
    expected.setdefault("server", {})["url"] = url
    if not _toml(after) or _toml(after) != expected:
        raise MigrationError("move the URL from [database] url to [server] url yourself: the file could not be "
                             "changed without changing something else")


def migrate_file(path: Path, url: str) -> Path:
    """Move [database] url to [server] url in the settings file; the old file is kept beside it. Returns the copy."""
    from tui.files import write_atomically

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MigrationError(f"the settings file could not be read: {exc.strerror or exc}") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    new = moved_to_server(text, url).encode("utf-8")
    backup = _free_name(path.with_name(path.name + BACKUP_SUFFIX))
    try:
        shutil.copy2(path, backup)
        write_atomically(path, lambda handle: handle.write((b"\xef\xbb\xbf" if bom else b"") + new), binary=True)
        os.chmod(path, os.stat(backup).st_mode & 0o7777)
    except OSError as exc:
        raise MigrationError(f"the settings file could not be rewritten: {exc.strerror or exc}") from None
    return backup


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    number = 1
    while path.with_name(f"{path.name}.{number}").exists():
        number += 1
    return path.with_name(f"{path.name}.{number}")
