"""What every subcommand shares: the one error, and loading the settings."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, List, Tuple, Union

if TYPE_CHECKING:
    import datetime

    from tui.settings import Settings


class CliError(Exception):
    """Bad input or a state the user must fix: one sentence on stderr, exit code."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


#: Days a date option takes by name, as days before today.
DAY_NAMES = {"today": 0, "yesterday": 1}
DAY_FORMS = "a date like 2024-05-31, today or yesterday"


def parse_day(text: str, option: str) -> datetime.date:
    """A date option's day: YYYY-MM-DD, ``today`` or ``yesterday`` (local time); else one sentence naming it."""
    import datetime as dt

    word = text.strip().lower()
    if word in DAY_NAMES:
        return dt.date.today() - dt.timedelta(days=DAY_NAMES[word])
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise CliError(f"{option} {text!r} is not {DAY_FORMS}", 2) from None


def load_settings(args: argparse.Namespace, require_file: bool = False) -> Settings:
    """The settings every command runs on (--config, CHAOYING_CONFIG or the default file), checked once.

    A broken or missing named file is one sentence and exit 2; so is no settings
    file at all, and no DATABASE_URL, when ``require_file`` (the till and the
    commands on the shop's database: only init makes a shop). Logging goes to
    the user log dir, or next to the SQLite database when that cannot be written.
    """
    from tui.logs import log_path_for_database, setup_logging
    from tui.settings import SettingsError, load

    try:
        settings = load(getattr(args, "config", None))
    except SettingsError as exc:
        raise CliError(str(exc).rstrip("."), 2) from None
    named_database = bool(os.environ.get("DATABASE_URL", "").strip())  # a shop run on DATABASE_URL alone
    if require_file and not named_database and settings.path is not None and not settings.path.exists():
        raise CliError(f"no settings file {settings.path}; create the shop with: chaoying init", 2)
    setup_logging(fallback=log_path_for_database(settings.database.url))
    return settings


def require_database(url: str) -> None:
    """Only init creates a SQLite file: a missing one (a typo, no init yet) is one sentence, exit 2."""
    from tui.logs import sqlite_file

    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise CliError(f"database {file} does not exist; create it with: chaoying init", 2)


def load_journal_key(settings: Settings) -> None:
    """Seal and check the journal with the key file of [journal] key_file when it exists."""
    from store import chain as journal  # the key's home: store.journal (the walk) waits for a verify

    name = settings.journal.key_file
    key, made = journal.read_key_file(Path(name)) if name else (None, "")
    if name and key is None:
        import logging

        # Records written now are plain SHA-256 marked "nokey"; verify lists them apart from a rewrite.
        logging.getLogger("chaoying.journal").warning("journal key file %s is missing or unreadable", name)
    journal.set_key(key, made, missing=bool(name) and key is None)


# ---------------------------------------------------------------- files a command writes

#: The files SQLite keeps beside a database: suffix -> what it is ("" for the database itself).
_SQLITE_FILES = (("", ""), ("-wal", "the write-ahead log of "), ("-shm", "the shared-memory file of "),
                 ("-journal", "the rollback journal of "))


def shop_files(settings: Settings) -> List[Tuple[Path, str]]:
    """The files no command output may replace, --force or not: (path, what it is)."""
    from store.archive_view import archive_path
    from tui.logs import sqlite_file

    files: List[Tuple[Path, str]] = []
    database = sqlite_file(settings.database.url)
    if database is not None:
        for base in {database.absolute(), Path(os.path.realpath(database))}:  # SQLite names its WAL after either
            for file, name in ((base, "the shop's database"), (archive_path(base), "the archive of closed years")):
                files.extend((Path(f"{file}{suffix}"), part + name) for suffix, part in _SQLITE_FILES)
    if settings.journal.key_file:
        files.append((Path(settings.journal.key_file).expanduser(), "the journal key file"))
    if settings.path is not None:
        files.append((settings.path, "the settings file"))
    return files


def same_file(one: Path, other: Path) -> bool:
    """True when both names reach one file: the same path once symbolic links are followed, or a hard link."""
    if os.path.realpath(one) == os.path.realpath(other):
        return True
    try:
        first, second = os.stat(one), os.stat(other)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def check_output(path: Union[str, Path], force: bool, settings: Settings) -> Path:
    """The file a command may write ``path`` as, else one sentence (exit 2) and nothing written.

    Never one of the shop's files (shop_files), even with --force; an existing
    file only with ``force`` (a command whose store step refuses existing files
    itself, or that reuses its own file, passes True).
    """
    target = Path(path).expanduser()
    for file, what in shop_files(settings):
        if same_file(target, file):
            raise CliError(f"{target} is {what}, which no command writes over, even with --force; "
                           f"choose another file", 2)
    if not force and (target.exists() or target.is_symlink()):
        raise CliError(f"{target} already exists; add --force to replace it, or choose another file", 2)
    return target


# ---------------------------------------------------------------- PINs: asked for or piped in, never in argv

#: The options a PIN was once given with: dest -> option.
_PIN_OPTIONS = {"pin": "--pin", "manager_pin": "--manager-pin"}


def add_pin_options(parser: argparse.ArgumentParser, instead: str) -> None:
    """--pin-stdin, and the old --pin / --manager-pin kept (hidden) only to refuse them, saying ``instead``."""
    parser.add_argument("--pin-stdin", action="store_true",
                        help="read the PIN from the first line of stdin (for scripts) instead of asking for it")
    for dest, option in _PIN_OPTIONS.items():
        parser.add_argument(option, dest=dest, help=argparse.SUPPRESS)
    parser.set_defaults(pin_instead=instead)


def refuse_pin_in_argv(args: argparse.Namespace) -> None:
    """A PIN on the command line shows in ps and the shell history: refused before anything is read or written."""
    for dest, option in _PIN_OPTIONS.items():
        if getattr(args, dest, None) is not None:
            raise CliError(f"{option} would show the PIN in ps and the shell history; {args.pin_instead} "
                           f"(hidden), or pipe it in with --pin-stdin; nothing was changed", 2)


def read_pin(from_stdin: bool, confirm: bool, prompt: str = "PIN") -> str:
    """The PIN from stdin's first line (``from_stdin``), else asked for hidden on the terminal (twice: ``confirm``)."""
    import sys

    if from_stdin:
        pin = sys.stdin.readline().rstrip("\r\n")
        if not pin:
            raise CliError("no PIN on the first line of stdin; nothing was changed", 2)
        return pin
    if not sys.stdin.isatty():
        raise CliError("no terminal to ask for the PIN on; pipe it in with --pin-stdin", 2)
    return _ask_pin(prompt, confirm)


def _ask_pin(prompt: str, confirm: bool) -> str:
    import getpass

    try:
        pin = getpass.getpass(f"{prompt}: ")
        if confirm and getpass.getpass(f"{prompt} again: ") != pin:
            raise CliError("the two PINs differ; nothing was changed", 2)
    except (EOFError, KeyboardInterrupt):
        raise CliError("no PIN given; nothing was changed", 2) from None
    return pin
