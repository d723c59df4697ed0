"""Backups of the shop's database: made while tills sell, checked, listed, rotated, restored.

A SQLite backup is ``VACUUM INTO`` a temporary file (one read transaction: in
WAL mode the tills keep committing while it runs, see tests/bench/bench_backup.py),
gzip-compressed; a PostgreSQL backup is ``pg_dump -Fc`` of a snapshot whose
figures go into the manifest. Each backup is ``chaoying-<shop>-<till>-<YYYYMMDD>-<HHMMSS>``
plus ``.db.gz`` or ``.pgdump``, with a JSON manifest of the same name beside it
(sales count, each till's last receipt number, journal head and audit head, schema
version, created_at, the file's SHA-256).

Written atomically: everything is made inside a hidden ``.partial-*`` folder in
the target, fsynced, then renamed into place, manifest first. A backup killed
half-way leaves only that folder, never a file named like a finished backup, and
the earlier backups untouched. The folder holds an owner file naming the process
that works in it; the next backup removes the folders whose process is gone (on
this machine), and those of another machine (tills may share a backup folder) or
without an owner file once they are a day old.
"""
from __future__ import annotations

import contextlib
import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from store.errors import StoreError

SQLITE_SUFFIX = ".db.gz"
PG_SUFFIX = ".pgdump"
PARTIAL_PREFIX = ".partial-"
#: Inside a ``.partial-*`` folder: who works in it (host, this boot and process namespace, pid, process start).
OWNER_FILE = "owner.json"
#: A ``.partial-*`` folder whose owner cannot be asked (another machine, no owner file) and is older than
#: this is a backup that died: swept by the next backup.
STALE_PARTIAL_S = 24 * 3600
#: Backup API method only: pages copied per step, and the pause between steps.
STEP_PAGES = 256
STEP_SLEEP_S = 0.002
_STAMP = re.compile(r"(?P<date>\d{8})-(?P<time>\d{6})(?:-(?P<n>\d+))?(?P<ext>\.db\.gz|\.pgdump)$")
_NAME = re.compile(r"^chaoying-.+-" + _STAMP.pattern)
_CHUNK = 1 << 20


class BackupError(StoreError):
    """A backup that could not be made, read, checked or restored: one sentence."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Dict[str, Any]
    copies: List[Path] = field(default_factory=list)  # the copy in the second place, if any
    warnings: List[str] = field(default_factory=list)  # the second place failed: the first copy stands
    removed: List[Path] = field(default_factory=list)  # rotated away
    swept: List[Path] = field(default_factory=list)  # .partial-* folders of backups that died, removed first
    swept_bytes: int = 0  # the space they took


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created: datetime.datetime
    size: int
    manifest: Optional[Dict[str, Any]]


@dataclass(frozen=True)
class VerifiedBackup:
    path: Path
    sales: int
    tills: int
    kind: str  # sqlite | postgresql
    journal_checked: bool


# ---------------------------------------------------------------- names

def shop_slug(name: str) -> str:
    """The shop's name for file names: pinyin, lowercase ASCII letters, digits and '-' ("chaoyingxiaodian")."""
    from store.pinyin import name_keys

    words = [name_keys(word).pinyin for word in (name or "").split()]
    slug = "-".join(word for word in words if word)[:40].strip("-")
    return slug or "shop"


def backup_stem(shop: str, till_id: str, when: datetime.datetime) -> str:
    """chaoying-<shop>-<till>-YYYYMMDD-HHMMSS, the name of a backup without its suffix."""
    return f"chaoying-{shop_slug(shop)}-{till_id}-{when.strftime('%Y%m%d-%H%M%S')}"


def _created(name: str) -> Optional[datetime.datetime]:
    found = _STAMP.search(name)
    if not found or not _NAME.match(name):
        return None
    try:
        return datetime.datetime.strptime(found.group("date") + found.group("time"), "%Y%m%d%H%M%S")
    except ValueError:
        return None


def _order(info: "BackupInfo") -> Tuple[datetime.datetime, int]:
    """Oldest first; stem-2 (a second backup within the same second) after stem."""
    found = _STAMP.search(info.path.name)
    return info.created, int(found.group("n") or 1) if found else 1


def manifest_path(backup: Path) -> Path:
    """The manifest beside a backup file."""
    name = backup.name
    for suffix in (SQLITE_SUFFIX, PG_SUFFIX):
        if name.endswith(suffix):
            return backup.with_name(name[: -len(suffix)] + ".json")
    return backup.with_name(name + ".json")


# ---------------------------------------------------------------- making one

def create_backup(url: str, target: Path, shop: str, till_id: str, keep_daily: int = 7, keep_monthly: int = 12,
                  second: Optional[Path] = None, when: Optional[datetime.datetime] = None,
                  method: str = "vacuum") -> BackupResult:
    """Back up the database at ``url`` into ``target`` (made if missing), copy it to ``second``, rotate both.

    ``method``: "vacuum" (VACUUM INTO, the default) or "steps" (the backup API a few pages at a
    time), SQLite only. Raises BackupError when the first copy cannot be made; a second place that
    is missing or cannot be written is a warning in the result.
    """
    when = (when or datetime.datetime.now()).replace(microsecond=0)
    target = Path(target).expanduser()
    try:
        target.mkdir(parents=True, exist_ok=True)
        swept, swept_bytes = sweep_partials(target)  # first: a disk filled by dead backups has room again
        work = partial_folder(target)
    except OSError as exc:
        raise BackupError(f"cannot write to the backup folder {target}: {_reason(exc)}", "backup_folder",
                          folder=str(target)) from None
    try:
        file, manifest = _make(url, work, when, method)
        manifest.update(shop=shop, till=till_id, created_at=when.isoformat(sep=" "))
        stem = _free_stem(target, backup_stem(shop, till_id, when))
        path = _publish(work, file, manifest, target, stem, file.name.endswith(PG_SUFFIX))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    removed = rotate(target, shop, till_id, keep_daily, keep_monthly)
    copies: List[Path] = []
    warnings: List[str] = []
    if second is not None and str(second).strip():
        try:
            copies.append(copy_backup(path, Path(second).expanduser()))
            removed += rotate(Path(second).expanduser(), shop, till_id, keep_daily, keep_monthly)
        except OSError as exc:
            warnings.append(f"the second backup place {second} was not written: {_reason(exc)}")
    return BackupResult(path, dict(_read_manifest(path) or {}), copies, warnings, removed, swept, swept_bytes)


def _make(url: str, work: Path, when: datetime.datetime, method: str) -> Tuple[Path, Dict[str, Any]]:
    from store.db import connect_url, is_sqlite

    database = connect_url(url)
    if is_sqlite(database):
        source = database.database
        if not source or source == ":memory:" or str(source).startswith("file:"):
            raise BackupError("only a SQLite file or a PostgreSQL database can be backed up", "backup_kind")
        raw = work / "copy.db"
        copy_sqlite(Path(source), raw, method)
        manifest = dict(read_figures(raw), database="sqlite", method=method)
        packed = work / ("copy" + SQLITE_SUFFIX)
        _compress(raw, packed)
        raw.unlink()
        return packed, manifest
    dump = work / ("copy" + PG_SUFFIX)
    return dump, dict(_pg_dump(url, dump), database="postgresql", method="pg_dump")


def copy_sqlite(source: Path, copy: Path, method: str = "vacuum") -> None:
    """A consistent copy of a live SQLite file; tills keep committing while it is made (WAL)."""
    if not source.exists():
        raise BackupError(f"database {source} does not exist", "backup_source", file=str(source))
    con = sqlite3.connect(str(source), timeout=10, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        if method == "vacuum":
            con.execute("VACUUM INTO ?", (str(copy),))
        elif method == "steps":
            out = sqlite3.connect(str(copy))
            try:
                con.backup(out, pages=STEP_PAGES, sleep=STEP_SLEEP_S)
            finally:
                out.close()
        else:
            raise ValueError(f"unknown backup method {method!r}")
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy database {source}: {_reason(exc)}", "backup_copy", file=str(source)) from None
    finally:
        con.close()
    _fsync(copy)


def read_figures(db_file: Path) -> Dict[str, Any]:
    """Sales count, each till's last receipt number and journal head, schema version of a SQLite file."""
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        sales = con.execute('SELECT COUNT(*) FROM "sale"').fetchone()[0]
        tills = _heads(con.cursor())
        version = con.execute('SELECT MAX(version) FROM "schema_version"').fetchone()[0]
    finally:
        con.close()
    return {"sales": int(sales), "tills": tills, "schema_version": version}


def _heads(cursor: Any) -> Dict[str, Dict[str, Any]]:
    """Each till's last receipt number and journal head, and (from migration 8) its audit chain head."""
    cursor.execute('SELECT MAX(version) FROM "schema_version"')
    audit = (cursor.fetchone()[0] or 0) >= 8
    cursor.execute('SELECT till_id, last_receipt_no, last_hash' + (', audit_seq, audit_hash' if audit else '')
                   + ' FROM "till_counter" ORDER BY till_id')
    heads = {}
    for row in cursor.fetchall():
        heads[row[0]] = {"last_receipt_no": row[1], "last_hash": row[2]}
        if audit:
            heads[row[0]].update(audit_seq=row[3], audit_hash=row[4])
    return heads


def _compress(raw: Path, packed: Path) -> None:
    with open(raw, "rb") as source, open(packed, "wb") as out:
        with gzip.GzipFile(filename="chaoying.db", mode="wb", fileobj=out, compresslevel=6, mtime=0) as gz:
            shutil.copyfileobj(source, gz, _CHUNK)
        out.flush()
        os.fsync(out.fileno())


def _pg_dump(url: str, dump: Path) -> Dict[str, Any]:
    """pg_dump -Fc of one snapshot; the figures are read in that same snapshot."""
    import psycopg2

    dsn = _libpq_url(url)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed; install the PostgreSQL client tools", "backup_pg_dump")
    con = psycopg2.connect(dsn)
    try:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with con.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute('SELECT COUNT(*) FROM "sale"')
            sales = cursor.fetchone()[0]
            tills = _heads(cursor)
            cursor.execute('SELECT MAX(version) FROM "schema_version"')
            version = cursor.fetchone()[0]
            done = subprocess.run([pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(dump), "-d", dsn],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        con.rollback()
    finally:
        con.close()
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BackupError(f"pg_dump failed: {last}", "backup_pg_dump")
    _fsync(dump)
    return {"sales": int(sales), "tills": tills, "schema_version": version}


def _libpq_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.lower().startswith("postgres") else url


def _free_stem(folder: Path, stem: str) -> str:
    """``stem``, or stem-2, stem-3 ... when a backup of the same second is there already."""
    candidate, number = stem, 1
    while any((folder / (candidate + suffix)).exists() for suffix in (SQLITE_SUFFIX, PG_SUFFIX, ".json")):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def _publish(work: Path, file: Path, manifest: Dict[str, Any], target: Path, stem: str, pg: bool) -> Path:
    """Manifest, then the backup, renamed from the partial folder into place; then the folder is synced."""
    final = target / (stem + (PG_SUFFIX if pg else SQLITE_SUFFIX))
    manifest.update(file=final.name, size=file.stat().st_size, sha256=file_sha256(file), format=1)
    note = work / "manifest.json"
    with open(note, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(note, manifest_path(final))
    os.replace(file, final)
    _fsync_folder(target)
    return final


def copy_backup(path: Path, folder: Path) -> Path:
    """Copy a finished backup and its manifest into ``folder`` (which must exist), whole or not at all."""
    if not folder.is_dir():
        raise FileNotFoundError(2, "the folder does not exist (is the stick plugged in?)", str(folder))
    sweep_partials(folder)
    work = partial_folder(folder)
    try:
        pairs = [(manifest_path(path), manifest_path(folder / path.name)), (path, folder / path.name)]
        for source, final in pairs:
            if not source.exists():
                continue
            temp = work / source.name
            shutil.copyfile(source, temp)
            _fsync(temp)
            os.replace(temp, final)
        _fsync_folder(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder / path.name


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems (a network share) cannot sync a folder
        fd = os.open(str(folder), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
    return str(text).rstrip(".")


# ---------------------------------------------------------------- listing and rotation

def list_backups(folder: Path) -> List[BackupInfo]:
    """Every finished backup in ``folder``, oldest first, with its manifest when it has one."""
    found: List[BackupInfo] = []
    try:
        entries = list(Path(folder).expanduser().iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackupError(f"cannot read the backup folder {folder}: {_reason(exc)}", "backup_folder") from None
    for entry in entries:
        created = _created(entry.name)
        if created is None or not entry.is_file():
            continue
        found.append(BackupInfo(entry, created, entry.stat().st_size, _read_manifest(entry)))
    return sorted(found, key=_order)


def _read_manifest(path: Path) -> Optional[Dict[str, Any]]:
    try:
        value = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def rotate(folder: Path, shop: str, till_id: str, keep_daily: int, keep_monthly: int,
           now: Optional[float] = None) -> List[Path]:
    """Keep the newest backup of each of the last ``keep_daily`` days and ``keep_monthly`` months.

    Only this shop's and till's backups are touched (a folder may hold other tills'); the newest is
    always kept. Partial folders of backups that died are swept (``sweep_partials``). Returns what went.
    """
    prefix = f"chaoying-{shop_slug(shop)}-{till_id}-"
    ours = [info for info in list_backups(folder)
            if info.path.name.startswith(prefix) and _STAMP.fullmatch(info.path.name[len(prefix):])]
    ours.sort(key=_order, reverse=True)
    keep = set(info.path for info in ours[:1])
    for size, period in ((keep_daily, lambda d: d.date()), (keep_monthly, lambda d: (d.year, d.month))):
        seen: set = set()
        for info in ours:
            key = period(info.created)
            if key not in seen and len(seen) < size:
                seen.add(key)
                keep.add(info.path)
    removed = []
    for info in ours:
        if info.path not in keep:
            with contextlib.suppress(FileNotFoundError):
                info.path.unlink()
            with contextlib.suppress(FileNotFoundError):
                manifest_path(info.path).unlink()
            removed.append(info.path)
    sweep_partials(Path(folder), now)
    return removed


def made_since(folder: Path, shop: str, till_id: str, since: datetime.datetime) -> bool:
    """Whether this shop's till has a backup in ``folder`` made at or after ``since``."""
    prefix = f"chaoying-{shop_slug(shop)}-{till_id}-"
    return any(info.created >= since for info in list_backups(folder) if info.path.name.startswith(prefix))


# ---------------------------------------------------------------- partial folders

def partial_folder(folder: Path) -> Path:
    """A new hidden ``.partial-*`` working folder in ``folder``, with the owner file that says it is in use."""
    work = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=str(folder)))
    try:
        (work / OWNER_FILE).write_text(json.dumps(_owner()), encoding="utf-8")
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return work


def sweep_partials(folder: Path, now: Optional[float] = None) -> Tuple[List[Path], int]:
    """Remove the ``.partial-*`` folders of backups that died; return them and the bytes they took.

    Dead: the owner file names a process of this machine (this boot, this
    process namespace) that is gone, or whose pid another process now has.
    A folder of another machine sharing the backup folder, or one without an
    owner file (a backup still starting, or made before owner files), is
    only removed once it is older than ``STALE_PARTIAL_S``: a running backup's
    folder is never touched.
    """
    now = time.time() if now is None else now
    swept: List[Path] = []
    size = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return swept, size
    for entry in entries:
        if not entry.name.startswith(PARTIAL_PREFIX) or entry.is_symlink() or not entry.is_dir():
            continue
        if not _abandoned(entry, now):
            continue
        taken = _folder_size(entry)
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            swept.append(entry)
            size += taken
    return swept, size


def _abandoned(work: Path, now: float) -> bool:
    try:
        age = now - work.stat().st_mtime
    except OSError:  # another backup swept it meanwhile
        return False
    owner = _read_owner(work)
    here = _runtime()
    if owner is not None and here is not None and owner.get("runtime") == here:
        return not _running(owner)
    return age > STALE_PARTIAL_S


def _owner() -> Dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "runtime": _runtime(), "pid": pid, "start": _process_start(pid),
            "started_at": time.time()}


def _read_owner(work: Path) -> Optional[Dict[str, Any]]:
    try:
        value = json.loads((work / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not written yet, or another user's folder
        return None
    if not isinstance(value, dict) or not isinstance(value.get("pid"), int) or value["pid"] <= 0:
        return None
    return value


def _runtime() -> Optional[str]:
    """This boot of this machine and this process namespace: where a pid names one process.

    Two tills sharing a backup folder never share it (a cloned disk has the
    same host name, never the same boot id); None where /proc cannot tell.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except (OSError, ValueError):
        return None
    return f"{boot} {namespace}" if boot else None


def _process_stat(pid: int) -> Optional[List[str]]:
    """The fields of /proc/PID/stat after the process name (which may hold spaces): state first."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat[stat.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return None


def _process_start(pid: int) -> Optional[str]:
    """When process ``pid`` started (clock ticks since boot), to tell it from a later process with its pid."""
    fields = _process_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None  # field 22 of stat


def _running(owner: Dict[str, Any]) -> bool:
    pid = int(owner["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError): it is there
        pass
    fields = _process_stat(pid)
    if fields is None:  # /proc hides it: it is there, as far as we can tell
        return True
    if fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return False
    start = fields[19] if len(fields) > 19 else None
    return start is None or owner.get("start") is None or start == owner["start"]


def _folder_size(folder: Path) -> int:
    size = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                size += (Path(root) / name).stat().st_size
    return size


# ---------------------------------------------------------------- verify and restore

def verify_backup(path: Path) -> VerifiedBackup:
    """Check a backup against its manifest: unpack it, SQLite's integrity check, the full journal check of the copy.

    ``path``: the backup file, or its manifest (``X.json``: the backup it names
    is checked). A backup without its manifest is not verified: nothing then
    says what it should hold. A PostgreSQL dump is read whole by
    ``pg_restore --list`` (checking its journal needs a server). Raises
    BackupError naming what is wrong.
    """
    path = Path(path).expanduser()
    if path.name.endswith(".json"):
        note, path = path, backup_named_by(path)
    else:
        note = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist", "backup_missing", file=str(path))
    manifest = _manifest_for(path, note)
    if path.name.endswith(PG_SUFFIX):
        checked = _verify_pg(path, manifest or {})
    else:
        with tempfile.TemporaryDirectory(prefix="chaoying-verify-") as work:
            checked = _unpack_and_check(path, Path(work) / "copy.db", manifest)
    if manifest is None:  # said after the checks of the file itself: a damaged backup is the worse news
        sales = f"{checked.sales} sale{'' if checked.sales == 1 else 's'}"
        whole = "reads whole" if checked.kind == "postgresql" else f"is whole ({sales}, journal ok)"
        raise BackupError(f"{path} has no manifest: {note.name} is missing beside it, so nothing says what it should "
                          f"hold (the file itself {whole})", "backup_manifest_missing", file=str(path),
                          manifest=str(note))
    return checked


def backup_named_by(note: Path) -> Path:
    """The backup file a manifest names (its ``file``, in the manifest's folder)."""
    if not note.is_file():
        raise BackupError(f"{note} does not exist", "backup_missing", file=str(note))
    try:
        value = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{note} is not a backup manifest: it is not readable JSON", "backup_manifest",
                          file=str(note)) from None
    name = value.get("file") if isinstance(value, dict) else None
    if not isinstance(name, str) or Path(name).name != name or not name.endswith((SQLITE_SUFFIX, PG_SUFFIX)):
        raise BackupError(f"{note} is not a backup manifest: it names no backup file", "backup_manifest",
                          file=str(note))
    found = note.with_name(name)
    if not found.is_file():
        raise BackupError(f"{found}, the backup {note.name} names, does not exist", "backup_missing", file=str(found))
    return found


def _manifest_for(path: Path, note: Path) -> Optional[Dict[str, Any]]:
    """The manifest ``note`` of the backup ``path``, None when it is missing; one sentence when it is not one."""
    if not note.exists():
        return None
    try:
        value = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        value = None
    if not isinstance(value, dict):
        raise BackupError(f"{path} cannot be checked: its manifest {note.name} is damaged (not readable JSON)",
                          "backup_manifest", file=str(path), manifest=str(note))
    return value


def restore_backup(path: Path, to: Path) -> VerifiedBackup:
    """Restore a verified backup into the new database file ``to``; never over an existing file."""
    path, to = Path(path).expanduser(), Path(to).expanduser()
    if to.exists() or Path(str(to) + "-wal").exists():
        raise BackupError(f"{to} already exists; restore only into a new file, never over a database",
                          "restore_exists", file=str(to))
    if path.name.endswith(".json"):
        path = backup_named_by(path)
    if path.name.endswith(PG_SUFFIX):
        raise BackupError(f"{path} is a PostgreSQL backup: restore it with pg_restore -d DATABASE {path}",
                          "restore_pg", file=str(path))
    if not path.is_file():
        raise BackupError(f"{path} does not exist", "backup_missing", file=str(path))
    try:
        to.parent.mkdir(parents=True, exist_ok=True)
        work = partial_folder(to.parent)
    except OSError as exc:
        raise BackupError(f"cannot write {to}: {_reason(exc)}", "restore_write", file=str(to)) from None
    try:
        copy = work / "restored.db"
        checked = _unpack_and_check(path, copy, _read_manifest(path))  # a restore without one still checks the copy
        _fsync(copy)
        try:
            os.link(copy, to)  # fails if ``to`` appeared meanwhile: never replaces a file
        except FileExistsError:
            raise BackupError(f"{to} already exists; restore only into a new file, never over a database",
                              "restore_exists", file=str(to)) from None
        except OSError as exc:
            raise BackupError(f"cannot write {to}: {_reason(exc)}", "restore_write", file=str(to)) from None
        _fsync_folder(to.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return VerifiedBackup(to, checked.sales, checked.tills, checked.kind, checked.journal_checked)


def _unpack_and_check(path: Path, copy: Path, manifest: Optional[Dict[str, Any]]) -> VerifiedBackup:
    if manifest and manifest.get("sha256") and manifest["sha256"] != file_sha256(path):
        raise BackupError(f"{path} is damaged: it does not match the SHA-256 in its manifest",
                          "backup_damaged", file=str(path))
    try:
        with gzip.open(path, "rb") as source, open(copy, "wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
    except (OSError, EOFError, zlib.error) as exc:  # cut short, not gzip, or bytes changed
        raise BackupError(f"{path} is damaged: it is not a whole compressed backup ({_reason(exc)})",
                          "backup_damaged", file=str(path)) from None
    _integrity_check(path, copy)
    figures = read_figures(copy)
    if manifest and manifest.get("sales") is not None and manifest["sales"] != figures["sales"]:
        raise BackupError(f"{path} holds {figures['sales']} sales but its manifest says {manifest['sales']}",
                          "backup_manifest", file=str(path))
    result = _journal_check(copy)
    if not result.ok:
        raise BackupError(f"{path}: the journal of the copy is broken: {result.message.rstrip('.')}",
                          "backup_journal", file=str(path))
    return VerifiedBackup(path, figures["sales"], len(figures["tills"]), "sqlite", True)


def _integrity_check(path: Path, copy: Path) -> None:
    try:
        con = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            rows = [row[0] for row in con.execute("PRAGMA integrity_check")]
            con.execute('SELECT COUNT(*) FROM "sale"').fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is damaged: the database in it cannot be read ({_reason(exc)})",
                          "backup_damaged", file=str(path)) from None
    if rows != ["ok"]:
        raise BackupError(f"{path} is damaged: SQLite's integrity check says {rows[0]}",
                          "backup_damaged", file=str(path))


def _journal_check(copy: Path) -> Any:
    """``store.journal.verify()`` with the store bound to the copy, then bound back."""
    from store import journal
    from store.db import close_database, db, open_database

    previous = db.obj
    try:
        open_database("sqlite:///" + str(copy))
        return journal.verify(full=True)  # a backup is checked whole: checkpoints do not skip anything here
    finally:
        close_database()
        db.initialize(previous)


def _verify_pg(path: Path, manifest: Dict[str, Any]) -> VerifiedBackup:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not installed; install the PostgreSQL client tools", "backup_pg_dump")
    done = subprocess.run([pg_restore, "--list", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BackupError(f"{path} is damaged: pg_restore cannot read it ({last})", "backup_damaged",
                          file=str(path))
    if manifest.get("sha256") and manifest["sha256"] != file_sha256(path):
        raise BackupError(f"{path} is damaged: it does not match the SHA-256 in its manifest",
                          "backup_damaged", file=str(path))
    return VerifiedBackup(path, int(manifest.get("sales") or 0), len(manifest.get("tills") or {}),
                          "postgresql", False)

