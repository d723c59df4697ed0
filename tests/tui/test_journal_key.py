"""A till started with [journal] key_file set and the file missing sells on, and says so on its status line."""
from __future__ import annotations

import dataclasses

import pytest

from store import chain
from tests.tui.helpers import COLA, last_sale, printed_all, scan, text_of
from tui.cli.common import load_journal_key


@pytest.fixture
def no_key_after():
    yield
    chain.set_key(None)


def keyed(shop, key_file):
    """The shop's settings naming ``key_file``, loaded as `chaoying` loads them before the till starts."""
    shop.settings = dataclasses.replace(
        shop.settings, journal=dataclasses.replace(shop.settings.journal, key_file=str(key_file)))
    load_journal_key(shop.settings)


async def test_a_missing_journal_key_is_on_the_status_line_and_the_till_sells_on(shop, no_key_after):
    missing = shop.folder / "usb" / "journal.key"
    keyed(shop, missing)
    app = shop.app()
    async with app.run_test() as pilot:
        strip = app.sale_screen.query_one("#journal-strip")
        assert strip.display and "日志没有密钥封存" in str(strip.render())
        said = text_of(app.sale_screen.query_one("#message"))
        assert str(missing) in said and "重新启动" in said  # which file, and what to do
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().hash_kind == chain.NOKEY  # written plain and marked so, as the strip says
        assert strip.display  # until a start finds the file


async def test_a_journal_key_that_loads_shows_nothing(shop, no_key_after):
    found = shop.folder / "journal.key"
    chain.make_key_file(found)
    keyed(shop, found)
    app = shop.app()
    async with app.run_test() as pilot:
        assert not app.sale_screen.query_one("#journal-strip").display
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().hash_kind == chain.HMAC
