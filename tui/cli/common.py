"""What every subcommand shares: the one error, and loading the settings."""
from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

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
    from pathlib import Path

    from store import journal

    name = settings.journal.key_file
    key, made = journal.read_key_file(Path(name)) if name else (None, "")
    if name and key is None:
        import logging

        # Records written now are plain SHA-256 marked "nokey"; verify lists them apart from a rewrite.
        logging.getLogger("chaoying.journal").warning("journal key file %s is missing or unreadable", name)
    journal.set_key(key, made, missing=bool(name) and key is None)
