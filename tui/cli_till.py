from __future__ import annotations


def register(sub) -> None:
    """Add this module's subcommands."""


def run_till(args) -> int:
    from tui.cli import CliError

    raise CliError("the till is not built yet", 1)
