"""Files written whole or not at all, and files only their owner reads.

The shop's files (the database, its WAL and SHM, backups, manifests, restored
databases, logs, the journal key, exports) hold customer data and secrets:
each is 0600 in a 0700 folder. The process starts with ``private_umask()``,
so whatever it makes is so; ``make_private`` tightens what an older version
left readable (``chaoying init``).
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, TypeVar

#: Group and other may do nothing with the shop's files.
PRIVATE_UMASK = 0o077

T = TypeVar("T")


def write_atomically(path: Path, write: Callable[[Any], T], encoding: str = "utf-8",
                     newline: Optional[str] = None, binary: bool = False) -> T:
    """``write(handle)`` into a temp file beside ``path``, then rename it over ``path``.

    A reader or a crash never sees half a file; ``binary`` hands ``write`` a bytes handle.
    Returns what ``write`` returned; raises OSError.
    """
    fd, tmp = tempfile.mkstemp(prefix=".chaoying-", suffix=path.suffix, dir=str(path.parent))
    try:
        if binary:
            with open(fd, "wb") as out:
                result = write(out)
        else:
            with open(fd, "w", encoding=encoding, newline=newline) as handle:
                result = write(handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return result


def private_umask() -> None:
    """Files and folders this process makes from now on are its user's only (0600, 0700)."""
    os.umask(PRIVATE_UMASK)


def make_private(paths: Iterable[Path]) -> List[str]:
    """Take group and other access off each existing path; one line per change ("chaoying.sqlite3: 0644 -> 0600").

    A symlink, a path of another user and a shared folder (sticky, like /tmp) are left as they are;
    one that cannot be changed is said so.
    """
    changes: List[str] = []
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        old = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or old & stat.S_ISVTX or not old & PRIVATE_UMASK:
            continue
        try:
            os.chmod(path, old & ~PRIVATE_UMASK)
        except OSError as exc:
            changes.append(f"{path}: {old:04o}, could not be changed ({exc.strerror or exc})")
            continue
        changes.append(f"{path}: {old:04o} -> {old & ~PRIVATE_UMASK:04o}")
    return changes


def shop_paths(settings: Any, config: Path) -> List[Path]:
    """What `chaoying init` makes private: chaoying's own folders, then the shop's files that are there.

    Folders: the platform's chaoying data, config and log folders and the backup folder (never a folder
    the settings merely name, such as the home folder holding a settings file). Files: the SQLite
    database with its WAL, SHM and archive file, the journal key, the settings file, the logs, and the
    backups with their manifests in the backup folder and the second place.
    """
    import platformdirs

    from tui.logs import default_log_path, log_path_for_database, sqlite_file

    app = "chaoying"  # tui.settings.APP_NAME, which imports this module
    folders = [Path(platformdirs.user_data_dir(app)), Path(platformdirs.user_config_dir(app)),
               Path(platformdirs.user_log_dir(app)), Path(settings.backup.dir)]
    files: List[Path] = []
    database = sqlite_file(settings.database.url)
    for main in [database, database.with_name(f"{database.stem}-archive.sqlite3")] if database else []:
        files += [main] + [Path(f"{main}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    files += [Path(settings.journal.key_file)] if settings.journal.key_file else []
    files.append(Path(config))
    logs = [default_log_path(), log_path_for_database(settings.database.url)]
    for log in sorted({path for path in logs if path is not None}):
        files += sorted(log.parent.glob(log.name + "*"))  # chaoying.log and the rotated chaoying.log.1 ...
    for folder in [settings.backup.dir, settings.backup.second_dir]:
        files += _backup_files(Path(folder)) if folder else []
    return [folder for folder in folders if folder != Path.home()] + files


def _backup_files(folder: Path) -> List[Path]:
    from store.backup import BackupError, list_backups, manifest_path

    try:
        found = list_backups(folder)
    except BackupError:  # a stick not plugged in
        return []
    return [path for info in found for path in (info.path, manifest_path(info.path))]
