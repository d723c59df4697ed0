"""What every subcommand shares: the one error, and loading the settings."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.settings import Settings


class CliError(Exception):
    """Bad input or a state the user must fix: one sentence on stderr, exit code."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def load_settings(args: argparse.Namespace) -> Settings:
    """The settings every command runs on (--config, CHAOYING_CONFIG or the default file), checked once.

    A broken or missing named file is one sentence and exit 2. Logging goes to
    the user log dir, or next to the SQLite database when that cannot be written.
    """
    from tui.logs import log_path_for_database, setup_logging
    from tui.settings import SettingsError, load

    try:
        settings = load(getattr(args, "config", None))
    except SettingsError as exc:
        raise CliError(str(exc).rstrip("."), 2) from None
    setup_logging(fallback=log_path_for_database(settings.database.url))
    return settings
