"""Fixtures for the till: a real SQLite file and the virtual printer on a real pty."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import List

import pytest


@dataclasses.dataclass
class Shop:
    """A demo shop in a temp folder: settings, database, virtual printer."""

    settings: object
    demo: object
    folder: Path

    def app(self, **kwargs):
        """The till on this shop; its Pilot starts once the start-up store work has answered."""
        from tui.app import ChaoyingApp

        app = ChaoyingApp(self.settings, demo=self.demo, **kwargs)
        app.run_test = started_first(app, app.run_test)  # type: ignore[method-assign]
        return app

    def paper(self) -> List[str]:
        """Text of every receipt the virtual printer has cut, oldest first."""
        return [p.read_text(encoding="utf-8") for p in sorted(self.demo.paper_dir.glob("*.txt"))]


def started_first(app, run_test):
    """run_test whose pilot is handed over when the till has started (recovery, open receipts, sign-in)."""
    import contextlib
    import time

    @contextlib.asynccontextmanager
    async def run(*args, **kwargs):
        async with run_test(*args, **kwargs) as pilot:
            deadline = time.monotonic() + 15
            while not app.started and time.monotonic() < deadline:
                await pilot.pause(0.02)
            await pilot.pause()
            yield pilot

    return run


def make_shop(folder: Path, language: str = "zh", **changes) -> Shop:
    from tui.demo import start_demo
    from tui.settings import load_settings

    theme = changes.pop("theme", "dark")
    base = dataclasses.replace(load_settings(None).with_ui(language, theme), **changes)
    settings, demo = start_demo(base, folder)
    return Shop(settings, demo, folder)


def scans_not_merged(settings):
    """The same settings with each scan on a line of its own ([selling] merge_scans = false)."""
    return dataclasses.replace(settings, selling=dataclasses.replace(settings.selling, merge_scans=False))


def close_shop(shop: Shop) -> None:
    from store.db import close_database, db

    shop.demo.stop()
    close_database()
    db.initialize(None)


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shop = make_shop(tmp_path / "shop")
    try:
        yield shop
    finally:
        close_shop(shop)


@pytest.fixture
def shop_en(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language="en")
    try:
        yield shop
    finally:
        close_shop(shop)


@pytest.fixture
def console_shop(tmp_path, monkeypatch):
    """The till on the Linux console: TERM=linux, so the linux16 theme and English."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TERM", "linux")
    shop = make_shop(tmp_path / "shop", language="auto", theme="auto")
    try:
        yield shop
    finally:
        close_shop(shop)


@pytest.fixture
def synced_shop(tmp_path, monkeypatch, pg):
    """A till's shop whose [server] url names a fresh database on ``pg`` (migrated as chaoying init does)."""
    from tests.services.syncnet import shop_database
    from tui.settings import ServerSettings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    url = shop_database(pg)
    shop = make_shop(tmp_path / "shop", server=ServerSettings(url=url, warn_minutes=15))
    shop.server_url = url  # type: ignore[attr-defined]
    try:
        yield shop
    finally:
        close_shop(shop)
