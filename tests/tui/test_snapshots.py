"""Snapshots of the main screens at 80x24 (pytest-textual-snapshot).

Update after an intended change with: pytest tests/tui/test_snapshots.py --snapshot-update
Screens that show the time of day (handwritten copy, QR) are checked by the stories instead.
"""
from __future__ import annotations

from tests.tui.helpers import APPLE, BUN, COLA, WATER, printed_all, scan, wait_until
from tests.tui.test_snapshots_all import snap_compare  # noqa: F401  (steady cursors, printer strip answered)

SIZE = (80, 24)


async def settle(pilot) -> None:
    """Let class changes made by the last message be styled and drawn."""
    for _ in range(3):
        await pilot.pause(0.05)


async def fill_basket(pilot) -> None:
    await scan(pilot, COLA)
    await scan(pilot, "3*" + APPLE)
    await scan(pilot, "2*" + BUN)
    await scan(pilot, WATER)
    await pilot.press("up")


def test_sale_screen(shop, snap_compare):
    assert snap_compare(shop.app(), terminal_size=SIZE, run_before=fill_basket)


def test_sale_screen_unknown_code(shop, snap_compare):
    async def run_before(pilot):
        await scan(pilot, COLA)
        await scan(pilot, "404")

    assert snap_compare(shop.app(), terminal_size=SIZE, run_before=run_before)


def test_tender_after_a_card_payment(shop, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", "f3", *"10", "enter", *"6222", "enter")

    assert snap_compare(shop.app(), terminal_size=SIZE, run_before=run_before)


def test_success_panel_after_cash(shop, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", *"100", "enter")
        await printed_all(pilot, pilot.app)
        await settle(pilot)

    assert snap_compare(shop.app(), terminal_size=SIZE, run_before=run_before)


def test_banner_paper_out(shop, snap_compare):
    from tui.screens.banner import BannerScreen

    async def run_before(pilot):
        shop.demo.set_fault("paper_out")
        await fill_basket(pilot)
        await pilot.press("f12", "enter")
        await printed_all(pilot, pilot.app)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, BannerScreen))
        await settle(pilot)

    assert snap_compare(shop.app(), terminal_size=SIZE, run_before=run_before)


def test_help(shop, snap_compare):
    assert snap_compare(shop.app(), terminal_size=SIZE, press=["f1"])


def test_fault_menu(shop, snap_compare):
    assert snap_compare(shop.app(), terminal_size=SIZE, press=["f8"])


def test_sale_screen_english(shop_en, snap_compare):
    assert snap_compare(shop_en.app(), terminal_size=SIZE, run_before=fill_basket)
