"""The CLI's one error: bad input or a state the user must fix."""
from __future__ import annotations


class CliError(Exception):
    """Bad input or a state the user must fix: one sentence on stderr, exit code."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code
