"""`chaoying run` / `chaoying demo` refuse bad input with one line and a non-zero exit."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHAOYING = Path(sys.executable).parent / "chaoying"


def run(*args: str, tmp_path: Path, **extra: str):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **extra}  # this work tree's code
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


def test_a_postgresql_database_url_becomes_the_server_and_the_till_sells_on_its_own_sqlite(tmp_path):
    """The shared-database days' settings: one sentence says what the URL now means, the file is migrated (the
    old one kept beside it); here the till's own SQLite file cannot be made (its folder is a file): one line."""
    config = tmp_path / "chaoying.toml"
    config.write_text('[database]\nurl = "postgresql://nobody:secret@127.0.0.1:1/shop"\n', encoding="utf-8")
    blocked = tmp_path / "data"
    blocked.write_text("not a folder", encoding="utf-8")
    result = run("--config", str(config), "run", tmp_path=tmp_path, XDG_DATA_HOME=str(blocked))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "that is now the shop's server" in lines[0] and "[server] url" in lines[0]
    assert lines[1].startswith("chaoying: cannot open the database sqlite:///")
    assert "secret" not in result.stderr
    assert config.read_text(encoding="utf-8") == '[database]\n\n[server]\nurl = "postgresql://nobody:secret@127.0.0.1:1/shop"\n'
    assert (tmp_path / "chaoying.toml.before-server").read_text(encoding="utf-8").startswith("[database]")


def test_demo_and_run_are_registered():
    from tui.cli import build_parser
    from tui.cli.till import run_demo, run_till

    parser = build_parser()
    assert parser.parse_args(["run"]).handler is run_till
    assert parser.parse_args(["demo", "--dir", "x"]).handler is run_demo
    assert getattr(parser.parse_args([]), "handler", None) is None  # cli.main falls back to run_till
