"""Every command loads the settings the same way: a named file that does not exist is refused."""
from __future__ import annotations

import argparse

import pytest

from tests.cli.helpers import one_line

# One sample of each command that reads the settings (init writes them: it is the one exception).
COMMANDS = [
    [], ["run"], ["demo"],
    ["products", "list"], ["products", "search", "kele"], ["products", "add", "--barcode", "100", "--name", "x",
                                                           "--price", "1"],
    ["sales", "list"], ["receipts", "list"], ["cashiers", "list"], ["journal", "verify"],
    ["printer", "status", "--port", "/dev/null"], ["printer", "test", "--port", "/dev/null"],
    ["backup"], ["backup", "list"], ["backup", "verify", "x.db.gz"], ["restore", "x.db.gz", "--to", "y.db"],
    ["export", "sales", "--from", "2024-01-01", "--to", "2024-01-31"],
    ["report", "x"], ["report", "z", "--list"], ["report", "sales", "--from", "2024-01-01"],
    ["report", "receipts"], ["shift", "open", "--float", "200"], ["shift", "pay-out", "20", "--reason", "x"],
    ["report", "reconcile", "--date", "2024-05-31", "--wechat", "bill.csv"], ["archive", "--before", "2024-01-01"],
    ["stock", "list"], ["stock", "receive", "--barcode", "1", "--qty", "1", "--cost", "1"],
    ["shared", "list"], ["shared", "set", "selling.rounding", "jiao"],
]


def test_the_samples_cover_every_command():
    from tui.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) - {"init"} == {args[0] for args in COMMANDS if args}


@pytest.mark.parametrize("named_by", ["--config", "CHAOYING_CONFIG"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]) or "till")
def test_a_named_settings_file_that_does_not_exist_is_refused_by_every_command(home, cli, args, named_by):
    missing = home / "typo.toml"
    if named_by == "--config":
        result = cli("--config", str(missing), *args)
    else:
        result = cli(*args, env={"CHAOYING_CONFIG": str(missing)})
    assert result.returncode == 2, result
    assert f"settings file {missing} does not exist" in one_line(result.stderr)
    assert not list(home.rglob("*.sqlite3")), "a database was created on the default path"
