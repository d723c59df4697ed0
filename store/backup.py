"""Backups of the shop's database: made while tills sell, checked, listed, rotated, restored.

A SQLite backup is ``VACUUM INTO`` a temporary file (one read transaction: in
WAL mode the tills keep committing while it runs, see tests/bench/bench_backup.py),
gzip-compressed; a PostgreSQL backup is ``pg_dump -Fc`` of a snapshot whose
figures go into the manifest. Each backup is ``chaoying-<shop>-<till>-<YYYYMMDD>-<HHMMSS>``
plus ``.db.gz`` or ``.pgdump``, with a JSON manifest of the same name beside it
(sales count, each till's last receipt number, journal head and audit head, the
head of the journal checkpoints, schema version, created_at, the file's SHA-256).

The manifest is sealed: ``hmac`` is HMAC-SHA256 with the journal key of all its
other fields (``keyed`` true). ``backup verify`` and ``restore`` refuse a manifest
whose seal does not match (changed, or made by hand), and check the copy's
journal against it (sales count, every till's heads, the checkpoint head). A
manifest without a seal (made while the key was missing, or before manifests were
sealed), or one whose key is not loaded, proves nothing: they refuse it unless
told ``force``. ``check_manifests`` holds the live database against the manifests
of its backups: a head a backup holds that the live database no longer has means
records were cut from it after that backup.

Files are the owner's only: backups, manifests and restored databases 0600, the
folders made for them 0700 (whatever the umask).

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
import dataclasses
import datetime
import gzip
import hashlib
import hmac
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
#: 2: the manifest is sealed (``keyed``, ``hmac``) and names the checkpoint head (``checkpoint``).
MANIFEST_FORMAT = 2
#: Put before the manifest's text under its HMAC: a manifest's seal is never a chain's hash, nor one a valid seal.
_SEAL_CONTEXT = "chaoying backup manifest\n"
#: The seal of a manifest (``seal_state``).
SEALED, FORGED, UNKEYED, NO_KEY = "sealed", "forged", "unkeyed", "no_key"
FILE_MODE, FOLDER_MODE = 0o600, 0o700


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
    #: why the manifest does not prove the backup ("" when its seal does): a use told ``force``
    unproven: str = ""


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
        target.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
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
        checkpoint = _checkpoint_head(con.cursor())
        version = con.execute('SELECT MAX(version) FROM "schema_version"').fetchone()[0]
    finally:
        con.close()
    return {"sales": int(sales), "tills": tills, "checkpoint": checkpoint, "schema_version": version}


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


def _checkpoint_head(cursor: Any) -> Optional[Dict[str, Any]]:
    """The newest journal checkpoint (id and hash) in the snapshot ``cursor`` reads; None before any.

    Read in the backup's own snapshot, with its figures (journal.checkpoint_head reads the live database).
    """
    cursor.execute('SELECT MAX(version) FROM "schema_version"')
    if (cursor.fetchone()[0] or 0) < 8:  # migration 8 made the checkpoints
        return None
    cursor.execute('SELECT id, hash FROM "journal_checkpoint" ORDER BY id DESC LIMIT 1')
    row = cursor.fetchone()
    return None if row is None else {"id": int(row[0]), "hash": row[1]}


def _private(path: Path, binary: bool = True) -> Any:
    """``path`` opened for writing, made (or emptied) with mode 0600 whatever the umask."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # a file that was there keeps its mode otherwise
    return open(fd, "wb") if binary else open(fd, "w", encoding="utf-8")


def _compress(raw: Path, packed: Path) -> None:
    with open(raw, "rb") as source, _private(packed) as out:
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
    bare, env = _pg_client(dsn, dump.parent)
    con = psycopg2.connect(dsn)
    try:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with con.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            cursor.execute('SELECT COUNT(*) FROM "sale"')
            sales = cursor.fetchone()[0]
            tills = _heads(cursor)
            checkpoint = _checkpoint_head(cursor)
            cursor.execute('SELECT MAX(version) FROM "schema_version"')
            version = cursor.fetchone()[0]
            done = subprocess.run([pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(dump), "-d", bare],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        con.rollback()
    finally:
        con.close()
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise BackupError(f"pg_dump failed: {last}", "backup_pg_dump")
    os.chmod(dump, FILE_MODE)
    _fsync(dump)
    return {"sales": int(sales), "tills": tills, "checkpoint": checkpoint, "schema_version": version}


def _pg_client(dsn: str, work: Path) -> Tuple[str, Dict[str, str]]:
    """The connection string without its password, and the environment that gives pg_dump the password.

    The password goes into a 0600 passfile in the 0700 working folder (PGPASSFILE), never into argv,
    where every user of the machine sees it (ps, /proc/PID/cmdline).
    """
    from psycopg2.extensions import make_dsn, parse_dsn

    params = parse_dsn(dsn)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        passfile = work / "pgpass"
        with _private(passfile, binary=False) as out:
            out.write("*:*:*:*:" + password.replace("\\", "\\\\").replace(":", "\\:") + "\n")
        env["PGPASSFILE"] = str(passfile)
        env.pop("PGPASSWORD", None)
    return make_dsn(**params), env


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
    manifest.update(file=final.name, size=file.stat().st_size, sha256=file_sha256(file), format=MANIFEST_FORMAT)
    note = work / "manifest.json"
    with _private(note, binary=False) as out:
        json.dump(seal_manifest(manifest), out, ensure_ascii=False, indent=2, sort_keys=True)
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
            os.chmod(temp, FILE_MODE)
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


# ---------------------------------------------------------------- the manifest's seal

def seal_manifest(manifest: Dict[str, Any]) -> Dict[str, Any]:
    """``manifest`` sealed with the journal key: ``hmac`` over all its other fields; ``keyed`` false without a key."""
    from store import chain

    sealed = {name: value for name, value in manifest.items() if name != "hmac"}
    sealed["keyed"] = chain.hash_kind() == chain.HMAC
    if sealed["keyed"]:
        sealed["hmac"] = _seal(sealed)
    return sealed


def _seal(manifest: Dict[str, Any]) -> str:
    from store import chain

    text = json.dumps({name: value for name, value in manifest.items() if name != "hmac"},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return chain.chain_hash(_SEAL_CONTEXT, text, chain.HMAC)


def seal_state(manifest: Dict[str, Any]) -> str:
    """SEALED (the seal matches the loaded key), FORGED (it does not), UNKEYED (no seal), NO_KEY (no key loaded)."""
    from store import chain

    seal = manifest.get("hmac")
    if seal is None and manifest.get("keyed") is not True:
        return UNKEYED
    if chain.hash_kind() != chain.HMAC:
        return NO_KEY
    good = isinstance(seal, str) and hmac.compare_digest(_seal(manifest), seal)
    return SEALED if good and manifest.get("keyed") is True else FORGED


def _proof(path: Path, note: Path, manifest: Optional[Dict[str, Any]]) -> str:
    """Why the manifest does not prove the backup ("" when its seal does); BackupError when the seal is wrong."""
    if manifest is None:
        return f"it has no manifest ({note.name} is missing beside it), so nothing says what it should hold"
    state = seal_state(manifest)
    if state == FORGED:
        raise BackupError(f"{path} is refused: its manifest {note.name} was changed or made by hand (its seal does "
                          f"not match the journal key)", "backup_manifest_forged", file=str(path),
                          manifest=str(note))
    if state == UNKEYED:
        return (f"its manifest {note.name} has no seal (it was made without the journal key, or by hand), so "
                f"nothing proves what the backup should hold")
    if state == NO_KEY:
        return (f"its manifest {note.name} is sealed with the journal key, which is not loaded here, so the seal "
                f"cannot be checked")
    return ""


def _proved(checked: VerifiedBackup, unproven: str, force: bool) -> VerifiedBackup:
    """``checked``, saying why it is not proved; refused (BackupError) when it is not and not ``force``."""
    if unproven and not force:
        whole = ("reads whole" if checked.kind == "postgresql"
                 else f"is whole: {checked.sales} sale{'' if checked.sales == 1 else 's'}, journal ok")
        raise BackupError(f"{checked.path} is not proved: {unproven} (the file itself {whole})", "backup_unproven",
                          file=str(checked.path))
    return dataclasses.replace(checked, unproven=unproven)


# ---------------------------------------------------------------- verify and restore

def verify_backup(path: Path, force: bool = False) -> VerifiedBackup:
    """Check a backup against its manifest: its seal, SQLite's integrity check, the full journal check of the copy.

    ``path``: the backup file, or its manifest (``X.json``: the backup it names
    is checked). A backup without its manifest is not verified: nothing then
    says what it should hold. A manifest whose seal does not match the journal
    key is refused; one without a seal, or whose key is not loaded, proves
    nothing: refused unless ``force`` (the result's ``unproven`` then says why).
    A PostgreSQL dump is read whole by ``pg_restore --list`` (checking its
    journal needs a server). Raises BackupError naming what is wrong.
    """
    path, note = _backup_and_manifest(Path(path).expanduser())
    manifest = _manifest_for(path, note)
    unproven = _proof(path, note, manifest) if manifest is not None else ""
    checked = _check_file(path, manifest)
    if manifest is None:  # said after the checks of the file itself: a damaged backup is the worse news
        sales = f"{checked.sales} sale{'' if checked.sales == 1 else 's'}"
        whole = "reads whole" if checked.kind == "postgresql" else f"is whole ({sales}, journal ok)"
        raise BackupError(f"{path} has no manifest: {note.name} is missing beside it, so nothing says what it should "
                          f"hold (the file itself {whole})", "backup_manifest_missing", file=str(path),
                          manifest=str(note))
    return _proved(checked, unproven, force)


def _backup_and_manifest(path: Path) -> Tuple[Path, Path]:
    """(the backup file, its manifest) for a backup file or a manifest; BackupError when the backup is missing."""
    if path.name.endswith(".json"):
        note, path = path, backup_named_by(path)
    else:
        note = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist", "backup_missing", file=str(path))
    return path, note


def _check_file(path: Path, manifest: Optional[Dict[str, Any]]) -> VerifiedBackup:
    if path.name.endswith(PG_SUFFIX):
        return _verify_pg(path, manifest or {})
    with tempfile.TemporaryDirectory(prefix="chaoying-verify-") as work:
        return _unpack_and_check(path, Path(work) / "copy.db", manifest)


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


def restore_backup(path: Path, to: Path, force: bool = False) -> VerifiedBackup:
    """Restore a verified backup into the new database file ``to`` (0600); never over an existing file.

    Its manifest must prove it as for ``verify_backup``; without one, or without a seal that can be
    checked, only with ``force`` (the copy itself is checked all the same).
    """
    path, to = Path(path).expanduser(), Path(to).expanduser()
    if to.exists() or Path(str(to) + "-wal").exists():
        raise BackupError(f"{to} already exists; restore only into a new file, never over a database",
                          "restore_exists", file=str(to))
    path, note = _backup_and_manifest(path)
    if path.name.endswith(PG_SUFFIX):
        raise BackupError(f"{path} is a PostgreSQL backup: restore it with pg_restore -d DATABASE {path}",
                          "restore_pg", file=str(path))
    manifest = _manifest_for(path, note)
    unproven = _proof(path, note, manifest)
    try:
        to.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        work = partial_folder(to.parent)
    except OSError as exc:
        raise BackupError(f"cannot write {to}: {_reason(exc)}", "restore_write", file=str(to)) from None
    try:
        copy = work / "restored.db"
        checked = _proved(_unpack_and_check(path, copy, manifest), unproven, force)
        _fsync(copy)
        _link_new(copy, to)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dataclasses.replace(checked, path=to)


def _link_new(copy: Path, to: Path) -> None:
    try:
        os.link(copy, to)  # fails if ``to`` appeared meanwhile: never replaces a file
    except FileExistsError:
        raise BackupError(f"{to} already exists; restore only into a new file, never over a database",
                          "restore_exists", file=str(to)) from None
    except OSError as exc:
        raise BackupError(f"cannot write {to}: {_reason(exc)}", "restore_write", file=str(to)) from None
    _fsync_folder(to.parent)


def _unpack_and_check(path: Path, copy: Path, manifest: Optional[Dict[str, Any]]) -> VerifiedBackup:
    if manifest and manifest.get("sha256") and manifest["sha256"] != file_sha256(path):
        raise BackupError(f"{path} is damaged: it does not match the SHA-256 in its manifest",
                          "backup_damaged", file=str(path))
    try:
        with gzip.open(path, "rb") as source, _private(copy) as out:
            shutil.copyfileobj(source, out, _CHUNK)
    except (OSError, EOFError, zlib.error) as exc:  # cut short, not gzip, or bytes changed
        raise BackupError(f"{path} is damaged: it is not a whole compressed backup ({_reason(exc)})",
                          "backup_damaged", file=str(path)) from None
    _integrity_check(path, copy)
    figures = read_figures(copy)
    _check_figures(path, manifest or {}, figures)
    result = _journal_check(copy)
    if not result.ok:
        raise BackupError(f"{path}: the journal of the copy is broken: {result.message.rstrip('.')}",
                          "backup_journal", file=str(path))
    return VerifiedBackup(path, figures["sales"], len(figures["tills"]), "sqlite", True)


def _check_figures(path: Path, manifest: Dict[str, Any], figures: Dict[str, Any]) -> None:
    """The copy holds what its manifest says: the sales count, every till's heads, the checkpoint head."""
    if manifest.get("sales") is not None and manifest["sales"] != figures["sales"]:
        raise BackupError(f"{path} holds {figures['sales']} sales but its manifest says {manifest['sales']}",
                          "backup_manifest", file=str(path))
    said = manifest.get("tills")
    if said is not None and said != figures["tills"]:
        raise BackupError(f"{path} does not hold what its manifest says: {_heads_apart(said, figures['tills'])}",
                          "backup_manifest", file=str(path))
    if "checkpoint" in manifest and manifest["checkpoint"] != figures["checkpoint"]:
        raise BackupError(f"{path} does not hold what its manifest says: its newest journal checkpoint is not the "
                          f"one the manifest names", "backup_manifest", file=str(path))


def _heads_apart(said: Any, held: Dict[str, Dict[str, Any]]) -> str:
    """Where a manifest's heads and the copy's part: the first till they differ on."""
    said = said if isinstance(said, dict) else {}
    for till in sorted(set(said) | set(held), key=str):
        manifest, copy = said.get(till), held.get(till)
        if manifest == copy:
            continue
        if not isinstance(manifest, dict):
            return f"it holds till {till}, which the manifest does not name"
        if copy is None:
            return f"the manifest names till {till}, which it does not hold"
        return f"till {till} ends at {_head_text(copy)} in it, at {_head_text(manifest)} in the manifest"
    return "its tills are not the ones the manifest names"


def _head_text(head: Dict[str, Any]) -> str:
    text = f"receipt {head.get('last_receipt_no')}"
    if head.get("audit_seq") is not None:
        text += f" and audit record {head.get('audit_seq')}"
    return text + f" (hash {str(head.get('last_hash'))[:12]}…)"


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



# ---------------------------------------------------------------- the live database against its backups

def check_manifests(folder: Path, shop: str, till_id: str) -> List[str]:
    """The live database (the bound one) held against the manifests of this till's backups in ``folder``.

    One finding per manifest that disagrees: a head it holds (a receipt, an
    audit record, a checkpoint) that the live database no longer has, or has
    changed, means records were cut or rewritten after that backup; a seal that
    does not match the journal key means the manifest was changed or made by
    hand. A manifest without a seal is held against the live database all the
    same. A folder that cannot be read (a stick not plugged in) finds nothing.
    """
    from store import archive_view

    findings: List[str] = []
    with archive_view.joined():  # a receipt moved to the archive file is still there
        for note in _manifests(Path(folder).expanduser(), f"chaoying-{shop_slug(shop)}-{till_id}-"):
            manifest = _manifest_or_none(note)
            finding = _manifest_finding(note, manifest) if manifest is not None else ""
            if finding:
                findings.append(finding)
    return findings


def _manifests(folder: Path, prefix: str) -> List[Path]:
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return []
    return [folder / name for name in names if name.startswith(prefix) and name.endswith(".json")
            and _created(name[:-len(".json")] + SQLITE_SUFFIX) is not None]


def _manifest_or_none(note: Path) -> Optional[Dict[str, Any]]:
    try:
        value = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _manifest_finding(note: Path, manifest: Dict[str, Any]) -> str:
    if seal_state(manifest) == FORGED:
        return f"the backup manifest {note} was changed or made by hand: its seal does not match the journal key"
    tills = manifest.get("tills")
    for till, head in sorted(tills.items() if isinstance(tills, dict) else [], key=lambda item: str(item[0])):
        finding = _till_finding(note.name, str(till), head if isinstance(head, dict) else {})
        if finding:
            return finding
    return _checkpoint_finding(note.name, manifest.get("checkpoint"))


def _till_finding(name: str, till: str, head: Dict[str, Any]) -> str:
    """Whether the live database still has the last receipt and audit record of ``till`` that backup ``name`` holds."""
    from store.models import Audit, Sale
    from store.numbering import format_receipt_no

    number = int(head.get("last_receipt_no") or 0)
    if number:
        what = f"receipt {format_receipt_no(till, number)}"
        row = Sale.select(Sale.hash).where((Sale.till_id == till) & (Sale.receipt_no == number)).first()
        finding = _head_finding(what, name, None if row is None else row.hash, head.get("last_hash"))
        if finding:
            return finding
    seq = int(head.get("audit_seq") or 0)
    if seq:
        row = Audit.select(Audit.hash).where((Audit.till_id == till) & (Audit.seq == seq)).first()
        return _head_finding(f"audit record {seq} of till {till}", name, None if row is None else row.hash,
                             head.get("audit_hash"))
    return ""


def _checkpoint_finding(name: str, head: Any) -> str:
    from store.models import JournalCheckpoint

    if not isinstance(head, dict) or not head.get("id"):
        return ""
    row = JournalCheckpoint.get_or_none(JournalCheckpoint.id == int(head["id"]))
    return _head_finding(f"journal checkpoint {head['id']}", name, None if row is None else row.hash,
                         head.get("hash"))


def _head_finding(what: str, name: str, live: Optional[str], held: Any) -> str:
    if live is None:
        return (f"{what}, the newest in backup {name}, is gone from the live database: records were cut after "
                f"that backup")
    if live != held:
        return f"{what} in the live database is not the one backup {name} holds: it was rewritten after that backup"
    return ""
