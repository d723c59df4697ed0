"""Pilot story: Ctrl+Y lists another till's held basket from the shop's server; Enter takes it (claimed there)."""
from __future__ import annotations

import json

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import text_of, wait_until


@pytest.fixture
def shop_with_server(tmp_path, monkeypatch, postgres_url):
    from store.server import migrate_server
    from tui.settings import ServerSettings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    migrate_server(postgres_url)
    shop = make_shop(tmp_path / "shop", server=ServerSettings(url=postgres_url))
    try:
        yield shop
    finally:
        close_shop(shop)


def held_on_till_9(url: str) -> None:
    """Till 9's held basket as its push leaves it on the server (one bottle of water, ¥2.00, note "Li")."""
    from store import shop_wide
    from store.sales import Basket, Item

    basket = Basket()
    basket.items.append(Item(None, "6920000000001", "矿泉水", "瓶", 200, 1000))
    conn = shop_wide.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO shop_held (till_id, basket_id, shop, state, cashier, note, total_fen, items, "
                           "content, held_at) VALUES ('9', 5, '', 'held', 'c9', 'Li', 200, 1, %s, "
                           "'2026-01-02 03:04:05')", (json.dumps(basket.as_dict()),))
        conn.commit()
    finally:
        conn.close()


def server_state(url: str):
    from store import shop_wide

    conn = shop_wide.connect(url)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT state, taken_by FROM shop_held WHERE till_id = '9' AND basket_id = 5")
            return cursor.fetchone()
    finally:
        conn.close()


async def test_ctrl_y_lists_another_tills_held_basket_and_enter_takes_it(shop_with_server):
    from tui.screens.held import HeldScreen

    url = shop_with_server.settings.server.url
    held_on_till_9(url)
    app = shop_with_server.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: isinstance(app.screen, HeldScreen) and app.screen.loaded)
        screen = app.screen
        assert [(row.till_id, row.note, row.total_fen) for row in screen.rows] == [("9", "Li", 200)]
        assert "矿泉水" in text_of(screen.query_one("#held-detail"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, HeldScreen)
                         and [line.name for line in app.sale_screen.basket.lines] == ["矿泉水"])
        assert app.sale_screen.basket.total_fen == 200
        assert server_state(url) == ("taken", app.till_id)


async def test_ctrl_y_offline_lists_this_tills_and_says_the_others_wait(tmp_path, monkeypatch):
    from tui.screens.held import HeldScreen
    from tui.settings import ServerSettings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shop = make_shop(tmp_path / "shop", server=ServerSettings(url="postgresql://nobody@127.0.0.1:1/none"))
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+y")
            await wait_until(pilot, lambda: isinstance(app.screen, HeldScreen) and app.screen.loaded)
            detail = text_of(app.screen.query_one("#held-detail"))
            assert "其他收银台的挂单要等连上服务器" in detail
    finally:
        close_shop(shop)

