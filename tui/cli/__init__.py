"""`chaoying`: the till, demo mode and the back-office commands.

Each group of subcommands lives in its own module and registers itself here.
Nothing heavy (Textual, escpos, peewee models) is imported before a handler
runs, so back-office commands start fast.
"""
from __future__ import annotations

import argparse
import gc
import logging
import sys
from typing import Callable, Optional, Sequence

from tui.cli.common import CliError

TILL_COMMANDS = (None, "run", "demo")


def build_parser(till_only: bool = False) -> argparse.ArgumentParser:
    """The whole CLI; ``till_only`` leaves out the back office (not even imported: part of the till's start-up)."""
    from tui.cli import till

    parser = argparse.ArgumentParser(
        prog="chaoying", description="超赢 Chaoying cash register"
    )
    parser.add_argument("--config", metavar="PATH", help="settings file (TOML)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    till.register(sub)
    if not till_only:
        from tui.cli import backoffice, backup, exports, printer, refunds, reports, shared, stock, sync

        backoffice.register(sub)
        refunds.register(sub)  # sales refund-again
        backup.register(sub)
        exports.register(sub)
        printer.register(sub)
        reports.register(sub)
        stock.register(sub)
        sync.register(sub)
        shared.register(sub)  # shared settings
    _one_line_errors(parser)
    return parser


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Usage mistakes get one line on stderr and exit 2, in every subcommand."""

    def error(message: str):
        parser.exit(2, f"{parser.prog}: {message} (see {parser.prog} --help)\n")

    parser.error = error  # type: ignore[method-assign]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _one_line_errors(child)


def _command(argv: Sequence[str]) -> Optional[str]:
    """The subcommand argv names (None for none), skipping the value of --config."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif word in ("-h", "--help"):
            return word
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    from tui.files import private_umask

    private_umask()  # first: the database, its WAL, backups and logs are the owner's only
    argv = sys.argv[1:] if argv is None else list(argv)
    till = _command(argv) in TILL_COMMANDS
    if till:
        # What the till's start-up allocates (modules, settings, stylesheets) lives as long as the till:
        # no collections while it is built; the first frame freezes it and turns them on (ChaoyingApp.on_ready).
        gc.disable()
    parser = build_parser(till_only=till)
    args = parser.parse_args(argv)
    handler: Optional[Callable[[argparse.Namespace], Optional[int]]] = getattr(
        args, "handler", None
    )
    if handler is None:
        from tui.cli.till import run_till

        handler = run_till
    from tui.logs import setup_logging

    setup_logging()
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # here, not at exit: a reader that has gone is seen below
        return code
    except BrokenPipeError:  # `chaoying products export | head -1`: the reader has all it wants
        _drop_stdout()
        return 141  # what a shell shows for a command ended by SIGPIPE
    except CliError as exc:
        print(f"chaoying: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: never a traceback at a user
        logging.getLogger("chaoying").exception("unexpected error")
        print(f"chaoying: unexpected error: {exc}", file=sys.stderr)
        return 1
    finally:
        gc.enable()  # a till that ended before its first frame



def _drop_stdout() -> None:
    """Send what is still buffered for a closed pipe to /dev/null, so the exit flush stays quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no file (a test's capture): nothing to flush at exit
        pass
