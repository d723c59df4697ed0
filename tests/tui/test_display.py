"""Pilot stories with the customer display (客显): a virtual VFD or LED on a pty, a missing one, a stuck one."""
from __future__ import annotations

import dataclasses
import threading

import pytest

from tests.tui.conftest import Shop, close_shop
from tests.tui.helpers import COLA, WATER, last_sale, outcome, printed_all, scan, text_of, wait_until


def shop_with_display(folder, kind: str = "vfd2x20", port: str = "") -> Shop:
    """A demo shop with a virtual customer display of ``kind``, or a real one on ``port``."""
    from tui.demo import start_demo
    from tui.settings import load_settings

    base = load_settings(None).with_ui("zh", "dark")
    settings, demo = start_demo(base, folder, display=kind if not port else "none")
    if port:
        settings = dataclasses.replace(settings, display=dataclasses.replace(settings.display, kind=kind, port=port))
    return Shop(settings, demo, folder)


@pytest.fixture
def make(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shops = []

    def make_shop(**kwargs) -> Shop:
        shops.append(shop_with_display(tmp_path / "shop", **kwargs))
        return shops[-1]

    yield make_shop
    for shop in shops:
        close_shop(shop)


def shows(display, text: str):
    return lambda: text in display.text()


async def test_cash_sale_the_vfd_shows_the_price_the_total_then_paid_and_change(make):
    shop = make()
    display = shop.demo.display
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, shows(display, "欢迎光临"))
        await scan(pilot, COLA)
        await wait_until(pilot, shows(display, "单价            3.00"))
        assert display.text().startswith("可口可乐 Coca-Cola 3")
        await scan(pilot, WATER)
        await wait_until(pilot, shows(display, "农夫山泉"))
        await pilot.press("f12")
        await wait_until(pilot, shows(display, "5.00"))
        assert display.text().startswith("合计")
        await pilot.press(*"50", "enter")
        await wait_until(pilot, shows(display, "找零           45.00"))
        assert display.text().startswith("收款           50.00")
        await printed_all(pilot, app)
        assert last_sale().change_fen == 4500
        # the demo's strip shows what the customer sees
        await wait_until(pilot, lambda: "找零" in text_of(app.sale_screen.query_one("#customer-display")))


async def test_cash_sale_the_led_lights_price_total_and_change(make):
    shop = make(kind="led8")
    display = shop.demo.display
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await wait_until(pilot, shows(display, "[price] 3.00"))
        await pilot.press("f12")
        await wait_until(pilot, shows(display, "[total] 3.00"))
        await pilot.press(*"10", "enter")
        await wait_until(pilot, shows(display, "[change] 7.00"))
        await printed_all(pilot, app)


async def test_a_missing_display_is_said_once_and_the_sale_goes_on(make, tmp_path):
    shop = make(port=str(tmp_path / "no-such-display"))
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "客显不工作" in text_of(app.sale_screen.query_one("#message")))
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert outcome(last_sale().id).state == "printed"
        assert "客显不工作" not in text_of(app.sale_screen.query_one("#message"))  # said once, not at every scan


async def test_a_display_that_stops_reading_never_holds_up_the_sale(make):
    shop = make()
    app = shop.app()
    release = threading.Event()
    stuck = threading.Event()
    original = app.customer_display._send

    def send_stuck(data):  # the display's line hangs: every write waits until the test lets go
        stuck.set()
        release.wait(30)
        original(data)

    app.customer_display._send = send_stuck
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, stuck.is_set)
            await scan(pilot, COLA)
            await scan(pilot, WATER)
            await pilot.press("f12", "enter")
            await printed_all(pilot, app)
            assert not release.is_set()  # the whole sale happened while the display was stuck
            assert outcome(last_sale().id).state == "printed"
            release.set()
            await wait_until(pilot, shows(shop.demo.display, "找零"))  # then it shows the newest picture
    finally:
        release.set()


async def test_on_the_linux_console_the_strip_shows_the_display_in_pinyin(tmp_path, monkeypatch):
    """The display itself shows Chinese to the customer; the till's strip, on a console without CJK, pinyin."""
    from tui.demo import start_demo
    from tui.settings import load_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings, demo = start_demo(load_settings(None).with_ui("en", "linux16"), tmp_path / "shop", display="vfd2x20")
    shop = Shop(settings, demo, tmp_path / "shop")
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, COLA)
            await pilot.press("f12", *"50", "enter")
            await wait_until(pilot, shows(demo.display, "找零"))
            strip = lambda: text_of(app.sale_screen.query_one("#customer-display"))  # noqa: E731
            await wait_until(pilot, lambda: "zhaoling" in strip())
            assert not any("\u4e00" <= ch <= "\u9fff" for ch in strip())
    finally:
        close_shop(shop)


def total_is(display, amount: str):
    """The display shows the basket's total (合计) of ``amount``, nothing older."""
    return lambda: display.text().startswith("合计") and display.text().rstrip().endswith(" " + amount)


async def test_a_scan_shows_the_unit_price_and_every_change_of_the_basket_its_new_total(make):
    from tui.screens.ask import AskScreen

    shop = make()
    display = shop.demo.display
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, shows(display, "欢迎光临"))
        await scan(pilot, WATER)
        await scan(pilot, "3*" + COLA)  # 3 x ¥3.00: the price of one, not the line's ¥9.00
        await wait_until(pilot, shows(display, "单价            3.00"))
        assert display.text().startswith("可口可乐")
        await pilot.press("f3")  # the colas: 2 of them
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("2", "enter")
        await wait_until(pilot, total_is(display, "8.00"))
        await pilot.press("f4")  # the colas go
        await wait_until(pilot, total_is(display, "2.00"))
        await pilot.press("f6", *"0.50", "enter", "3", "enter")  # ¥0.50 off the basket
        await wait_until(pilot, total_is(display, "1.50"))
        await pilot.press("ctrl+x")
        await wait_until(pilot, lambda: not app.sale_screen.ending and app.screen is not app.sale_screen)
        await pilot.press("y")
        await wait_until(pilot, shows(display, "欢迎光临"))  # no total of a basket that is gone
        assert "1.50" not in display.text()


async def test_a_resumed_basket_and_one_restored_at_start_show_their_total(make):
    from tui.screens.ask import AskScreen
    from tui.screens.held import HeldScreen

    shop = make()
    display = shop.demo.display
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + WATER)  # ¥10.00
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.sale_screen.busy and app.screen is app.sale_screen)
        await wait_until(pilot, shows(display, "欢迎光临"))  # put aside
        await scan(pilot, "2*" + COLA)  # ¥6.00 for the next customer
        await pilot.press("f12")
        await wait_until(pilot, total_is(display, "6.00"))
        await pilot.press("escape", "ctrl+x")
        await wait_until(pilot, lambda: app.screen is not app.sale_screen)
        await pilot.press("y")
        await wait_until(pilot, shows(display, "欢迎光临"))
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: isinstance(app.screen, HeldScreen) and app.screen.loaded)
        await pilot.press("enter")
        await wait_until(pilot, total_is(display, "10.00"))
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
    # the till closed with the basket open: the next start brings it back, and its total to the customer
    display.screen.upper = display.screen.lower = ""  # forget the last picture: what follows is the next run's
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.started and app.sale_screen.sale_open())
        await wait_until(pilot, total_is(display, "10.00"))

