"""The in-process runner leaves the process as it found it, so tests cannot leak into each other."""
from __future__ import annotations

import logging
import os

from tests.cli.helpers import process_state


def _state():
    from store.db import db
    from tui import i18n

    root, ours = logging.getLogger(), logging.getLogger("chaoying")
    return (list(root.handlers), root.level, list(ours.handlers), ours.level,
            logging.getLogger().manager.disable, dict(os.environ), db.obj, i18n.language())


def _open_logs() -> list:
    """Files this process holds open under any chaoying.log name."""
    folder = "/proc/self/fd"
    names = []
    for fd in os.listdir(folder):
        try:
            names.append(os.readlink(os.path.join(folder, fd)))
        except OSError:
            pass
    return [name for name in names if name.endswith("chaoying.log")]


def test_commands_leave_no_handler_database_or_variable_behind(shop):
    before = _state()
    assert shop.ok("products", "add", "--barcode", "1", "--name", "苹果", "--price", "1").stdout
    assert shop.run("products", "add", "--barcode", "1").returncode == 2  # argparse's SystemExit
    assert shop.run("sales", "list", "--date", "x").returncode == 2       # a CliError
    assert _state() == before
    assert _open_logs() == []


def test_the_check_sees_what_a_bare_main_call_leaves_behind(shop, capsys):
    from tui.cli import main

    before = _state()
    with process_state():
        assert main(["--config", str(shop.config), "products", "list"]) == 0
        assert _state() != before and _open_logs()  # what the test above would catch
    assert _state() == before and _open_logs() == []
