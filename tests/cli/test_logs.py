"""Logging goes to a rotating file, never to the terminal (escpos's basicConfig included)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli.helpers import process_state

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CACHE_HOME=str(tmp_path / "cache"), CHAOYING_LOG_DIR="")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60)


def test_everything_goes_to_the_file_and_nothing_to_the_terminal(tmp_path):
    result = run_python(
        """
        import logging, os, warnings
        from tui.logs import setup_logging
        path = setup_logging()
        print(path)
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = os.path.join(os.environ["XDG_CACHE_HOME"], "escpos")
        os.makedirs(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"])  # escpos does not create it
        import escpos.printer  # calls logging.basicConfig()
        logging.basicConfig()
        logging.getLogger("escpos").warning("escpos says hi")
        logging.getLogger("chaoying.test").error("till says 你好")
        warnings.warn("a warning")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.getLogger("chaoying.test").exception("boom")
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    path = Path(result.stdout.strip())
    assert path == tmp_path / "state" / "chaoying" / "log" / "chaoying.log"
    log = path.read_text(encoding="utf-8")
    for text in ("escpos says hi", "till says 你好", "a warning", "ZeroDivisionError"):
        assert text in log


@pytest.fixture
def fresh_logging(tmp_path, monkeypatch):
    """Logging in this process as a new process has it: nothing on the root logger (all put back after)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("CHAOYING_LOG_DIR", "")
    with process_state():
        logging.getLogger().handlers.clear()  # pytest's capture handlers, until the test ends
        yield tmp_path / "state" / "chaoying" / "log" / "chaoying.log"


def test_a_terminal_handler_added_later_is_removed(fresh_logging, capsys):
    from tui.logs import remove_terminal_handlers, setup_logging

    setup_logging()
    logging.getLogger().addHandler(logging.StreamHandler(sys.stderr))
    assert remove_terminal_handlers() == 1
    logging.getLogger("x").warning("only in the file")
    setup_logging()  # again: still one file handler
    file_handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    assert len(file_handlers) == 1, file_handlers
    assert capsys.readouterr().err == ""
    assert "only in the file" in fresh_logging.read_text(encoding="utf-8")


def test_unwritable_log_dir_falls_back_next_to_the_database(fresh_logging, tmp_path):
    from tui.logs import log_path_for_database, setup_logging

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    db_dir = tmp_path / "shop"
    fallback = log_path_for_database(f"sqlite:///{db_dir}/chaoying.sqlite3")
    assert setup_logging(blocker / "chaoying.log", fallback=fallback) == db_dir / "chaoying.log"
    assert (db_dir / "chaoying.log").exists()


def test_log_path_for_database():
    from tui.logs import log_path_for_database

    assert log_path_for_database("sqlite:////srv/shop/a.db") == Path("/srv/shop/chaoying.log")
    assert log_path_for_database("postgresql://x@y/z") is None
    assert log_path_for_database("sqlite:///:memory:") is None


def test_an_exception_that_ends_a_thread_goes_to_the_log_file_not_the_terminal(tmp_path):
    log_file = tmp_path / "chaoying.log"
    done = run_python(f"""
        import threading
        from pathlib import Path
        from tui.logs import setup_logging

        setup_logging(Path({str(log_file)!r}))
        def die():
            raise RuntimeError("boom in a thread")
        thread = threading.Thread(target=die, name="chaoying-printer")
        thread.start()
        thread.join()
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    text = log_file.read_text(encoding="utf-8")
    assert "uncaught exception ends thread chaoying-printer" in text and "boom in a thread" in text
