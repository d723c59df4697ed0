"""Fixtures for the CLI tests: a home folder, `chaoying` in this process, a shop made by init."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import Cli, Shop, enter_home


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """The shop owner's home folder; this process runs in it (HOME, XDG folders, cwd)."""
    home = tmp_path / "home"
    home.mkdir()
    enter_home(monkeypatch, home)
    return home


@pytest.fixture
def cli(capsys, monkeypatch) -> Cli:
    """`chaoying ARGS` in this process."""
    return Cli(capsys, monkeypatch)


@pytest.fixture
def shop(home, cli) -> Shop:
    """A shop made with `chaoying init` in ``home``."""
    shop = Shop(home, cli)
    shop.ok("init")
    return shop
