"""The search popup in Pilot: type kkkl, Enter, and 可口可乐 is in the basket."""
from __future__ import annotations

from typing import List, Optional

import pytest
from textual.app import App
from textual.widgets import OptionList, Static

from store import catalogue
from tui.screens.search import SearchScreen


class Host(App):
    """A stand-in for the sale screen: F2 opens the popup, the chosen product goes in a basket."""

    BINDINGS = [("f2", "search", "Search")]

    def __init__(self) -> None:
        super().__init__()
        from store.sales import Basket

        self.basket = Basket()
        self.closed: List[Optional[str]] = []

    def compose(self):
        yield Static("till")

    def action_search(self) -> None:
        self.push_screen(SearchScreen(), self.chosen)

    def chosen(self, barcode: Optional[str]) -> None:
        from store.sales import find_product

        self.closed.append(barcode)
        if barcode:
            self.basket.add(find_product(barcode))


@pytest.fixture
def shop(shop_db):
    for barcode, name, price, unit in [
        ("6901234567892", "可口可乐 330ml", 300, "瓶"),
        ("6902538005141", "农夫山泉 550ml", 200, "瓶"),
        ("6920202888883", "旺旺雪饼 84g", 650, "包"),
        ("6925303721367", "康师傅冰红茶 500ml", 300, "瓶"),
        ("1", "苹果", 890, "斤"),
    ]:
        catalogue.add_product(barcode, name, price, unit)
    return shop_db


def results(app) -> List[str]:
    options = app.screen.query_one("#search-results", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_kkkl_enter_puts_coca_cola_in_the_basket(shop):
    app = Host()
    async with app.run_test() as pilot:
        await pilot.press("f2")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("k")
        assert any("可口可乐" in r for r in results(app)) and any("康师傅" in r for r in results(app))
        await pilot.press("k", "k", "l")
        assert len(results(app)) == 1 and "可口可乐 330ml" in results(app)[0] and "3.00" in results(app)[0]
        await pilot.press("enter")
        assert not isinstance(app.screen, SearchScreen)
        assert [line.name for line in app.basket.lines] == ["可口可乐 330ml"]
        assert app.basket.total_fen == 300


async def test_arrows_choose_and_esc_closes_without_adding(shop):
    app = Host()
    async with app.run_test() as pilot:
        await pilot.press("f2", *"69")
        assert len(results(app)) == 4                  # code prefix: in barcode order
        await pilot.press("down", "down", "up", "down")  # 0 -> 1 -> 2 -> 1 -> 2
        await pilot.press("enter")
        assert app.closed == ["6920202888883"] and app.basket.lines[0].name == "旺旺雪饼 84g"
        await pilot.press("f2", *"雪饼", "escape")
        assert app.closed[-1] is None and len(app.basket.lines) == 1


async def test_no_match_says_so_and_enter_does_nothing(shop):
    app = Host()
    async with app.run_test() as pilot:
        await pilot.press("f2", *"zzzz")
        assert results(app) == []
        status = str(app.screen.query_one("#search-status", Static).render())
        assert "zzzz" in status
        await pilot.press("enter")
        assert isinstance(app.screen, SearchScreen) and app.closed == []


async def test_a_database_error_is_shown_and_the_popup_stays(shop):
    def broken(text, limit):
        raise RuntimeError("database is locked\nmore detail")

    class BrokenHost(Host):
        def action_search(self) -> None:
            self.push_screen(SearchScreen(search=broken), self.chosen)

    app = BrokenHost()
    async with app.run_test() as pilot:
        await pilot.press("f2", "k")
        assert isinstance(app.screen, SearchScreen) and results(app) == []
        status = str(app.screen.query_one("#search-status", Static).render())
        assert "database is locked" in status and "more detail" not in status
