"""Running `chaoying` in this process (most tests) or as a real process (smoke tests).

``Cli`` calls ``tui.cli.main(argv)`` the way a fresh process would run it:
HOME and the XDG folders point into the test's folder, stdout and stderr are
read through capsys, and afterwards ``process_state()`` puts back what a
command leaves behind process-wide (logging handlers, the bound database,
the UI language, environment variables, the umask), so the next call, and the next
test, starts clean.

The fixtures ``home``, ``cli`` and ``shop`` live in tests/cli/conftest.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Settings a developer's own shell may carry; a test names them when it wants them.
UNSET = ("CHAOYING_CONFIG", "DATABASE_URL", "CHAOYING_LOG_DIR")


def home_env(home: Path) -> Dict[str, str]:
    """HOME and the XDG folders of a shop whose owner lives in ``home``."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }


def enter_home(monkeypatch: pytest.MonkeyPatch, home: Path, **extra: str) -> None:
    """Make this process look like one started in ``home`` (undone after the test)."""
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**home_env(home), **extra}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(home)


# ---------------------------------------------------------------- in this process

@dataclass
class Result:
    """What a run of `chaoying` gave: the fields of subprocess.CompletedProcess the tests read."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def process_state() -> Iterator[None]:
    """Put back the process-wide state a command changes, as if it had run in its own process."""
    from store.db import close_database, db
    from tui import i18n

    root = logging.getLogger()
    ours = logging.getLogger("chaoying")
    root_handlers, root_level = list(root.handlers), root.level
    our_handlers, our_level = list(ours.handlers), ours.level
    warnings_to_log = getattr(logging, "_warnings_showwarning", None) is not None
    environ = dict(os.environ)
    database = db.obj
    language = i18n.language()
    umask = os.umask(0o077)  # main() sets it: put back after, as the end of its process would
    os.umask(umask)
    try:
        yield
    finally:
        os.umask(umask)
        if db.obj is not database:
            try:
                close_database()
            finally:
                db.initialize(database)
        for logger, handlers, level in ((root, root_handlers, root_level), (ours, our_handlers, our_level)):
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()  # the log file a command opened
            logger.handlers[:] = handlers  # also what setup_logging took off (pytest's capture)
            logger.setLevel(level)
        logging.captureWarnings(warnings_to_log)
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        for name, value in environ.items():
            if os.environ.get(name) != value:
                os.environ[name] = value
        i18n.set_language(language)


def run_main(argv: List[str], capsys: pytest.CaptureFixture) -> Result:
    """``tui.cli.main(argv)``; a SystemExit (argparse, --help) gives its code as a process would."""
    from tui.cli import main

    capsys.readouterr()  # only what this command prints
    with process_state():
        try:
            code = main(argv)
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
    out, err = capsys.readouterr()
    return Result(code, out, err)


class Cli:
    """`chaoying ARGS` in this process; no run may show a traceback."""

    def __init__(self, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str, env: Optional[Dict[str, str]] = None,
                 input: Optional[str] = None) -> Result:
        with self.monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            if input is not None:
                patch.setattr(sys, "stdin", io.StringIO(input))
            result = run_main(list(args), self.capsys)
        assert "Traceback" not in result.stderr, result.stderr
        assert "Traceback" not in result.stdout, result.stdout
        return result


# ---------------------------------------------------------------- as a real process

def command() -> List[str]:
    """The installed `chaoying` script if there is one, else ``python -m tui.cli``."""
    script = Path(sys.executable).parent / "chaoying"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui.cli"]


def process_env(home: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a process started in ``home``, running this work tree's code."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(home_env(home), PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    env.update(extra or {})
    return env


def run_process(argv: List[str], home: Path, env: Optional[Dict[str, str]] = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``argv`` as its own process in ``home``; no traceback may reach its output."""
    result = subprocess.run(argv, cwd=str(home), env=process_env(home, env), capture_output=True,
                            text=True, encoding="utf-8", timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    return result


# ---------------------------------------------------------------- a shop on disk

class Shop:
    """A shop on disk: a home folder, a settings file and a SQLite database."""

    def __init__(self, home: Path, cli: Cli):
        self.home = home
        self.cli = cli
        self.config = home / "shop.toml"
        self.db_path = home / "data" / "chaoying" / "chaoying.sqlite3"
        self.url = "sqlite:///" + str(self.db_path)
        self.key_file = home / "journal.key"  # made by init beside the settings file

    def argv(self, args, config: bool = True) -> List[str]:
        return (["--config", str(self.config)] if config else []) + list(args)

    def run(self, *args: str, env: Optional[Dict[str, str]] = None, config: bool = True,
            input: Optional[str] = None) -> Result:
        return self.cli(*self.argv(args, config), env=env, input=input)

    def ok(self, *args: str, **kwargs) -> Result:
        result = self.run(*args, **kwargs)
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        return result

    def process(self, *args: str, env: Optional[Dict[str, str]] = None,
                config: bool = True) -> subprocess.CompletedProcess:
        """The same command as a real `chaoying` process."""
        return run_process(command() + self.argv(args, config), self.home, env)

    def products(self) -> list:
        return json.loads(self.ok("products", "list", "--json").stdout)

    def csv(self, name: str, text: str, bom: bool = False) -> Path:
        path = self.home / name
        data = textwrap.dedent(text).lstrip("\n").encode("utf-8")
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path

    def sql(self, statement: str, *params) -> list:
        con = sqlite3.connect(str(self.db_path), timeout=10)
        try:
            with con:
                return con.execute(statement, params).fetchall()
        finally:
            con.close()

    def seed(self, count: int = 3, till: str = "1", url: Optional[str] = None) -> None:
        """Sales made as a till makes them (see tests.cli.seed), in this process."""
        from tests.cli.seed import sell

        with process_state():
            sell(url or self.url, till, count, str(self.key_file))


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def open_shop(home: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """A shop made with `chaoying init` in ``home``, this process at home there."""
    enter_home(monkeypatch, home)
    shop = Shop(home, Cli(capsys, monkeypatch))
    shop.ok("init")
    return shop
