"""`chaoying run` / `chaoying demo` refuse bad input with one line and a non-zero exit."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHAOYING = Path(sys.executable).parent / "chaoying"


def run(*args: str, tmp_path: Path):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env["CHAOYING_LOG_DIR"] = str(tmp_path / "logs")
    return subprocess.run([str(CHAOYING), *args], capture_output=True, text=True, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_a_bad_setting_is_one_line_naming_file_line_and_key(tmp_path):
    config = tmp_path / "chaoying.toml"
    config.write_text('[printer]\nbaudrate = "fast"\n', encoding="utf-8")
    result = run("--config", str(config), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "line 2" in lines[0] and "baudrate" in lines[0]


def test_an_unreachable_database_is_one_line(tmp_path):
    config = tmp_path / "chaoying.toml"
    config.write_text('[database]\nurl = "postgresql://nobody:secret@127.0.0.1:1/shop"\n', encoding="utf-8")
    result = run("--config", str(config), "run", tmp_path=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chaoying: cannot open the database")
    assert "secret" not in result.stderr


def test_demo_and_run_are_registered():
    from tui.cli import build_parser
    from tui.cli.till import run_demo, run_till

    parser = build_parser()
    assert parser.parse_args(["run"]).handler is run_till
    assert parser.parse_args(["demo", "--dir", "x"]).handler is run_demo
    assert getattr(parser.parse_args([]), "handler", None) is None  # cli.main falls back to run_till
