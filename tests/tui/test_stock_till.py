"""Pilot stories for stock on the till: a line sold with none on hand is marked (warn) or refused (refuse), the
search shows on hand, a refund line goes back on the shelf (Y) or not (N, damaged), the owner sees the low
stock, the stock value and the day's margin, and a stocktake on the till applied with a manager's PIN moves
on hand to the count. A real SQLite file (the demo's 50 of each product) and the virtual printer on a pty."""
from __future__ import annotations

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import COLA, WATER, manager_pin, printed_all, scan, screen_text, settled, text_of, wait_until
from tui.settings import SellingSettings, StockSettings


@pytest.fixture
def shop_with(tmp_path, monkeypatch):
    """A shop with changed settings sections: shop_with(stock=StockSettings(...), ...)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    made = []

    def make(**sections):
        made.append(make_shop(tmp_path / "shop", **sections))
        return made[-1]

    yield make
    for shop in made:
        close_shop(shop)


def on_hand(barcode: str) -> int:
    from store import stock

    return stock.on_hand(stock.find(barcode).id)


def none_left(barcode: str) -> None:
    """The shelf is empty: what is on hand is written off as lost."""
    from store import stock

    stock.adjust(barcode, -on_hand(barcode), stock.LOST, "1")


def message(app) -> str:
    return text_of(app.screen.query_one("#message"))


def basket_names(app):
    return [str(row[1]) for row in (app.screen.query_one("#basket").get_row_at(i)
                                    for i in range(app.screen.query_one("#basket").row_count))]


def screen_is(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def test_none_on_hand_marks_the_line_says_so_once_and_goes_on(shop_with):
    shop = shop_with()  # [stock] negative = "warn", the default
    none_left(COLA)
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, WATER)
        assert "已加入" in message(app) and "缺货" not in basket_names(app)[0]
        await scan(pilot, COLA)
        assert "可口可乐" in message(app) and "库存只有 0" in message(app)  # one sentence
        assert basket_names(app)[1].startswith("缺货 ")  # the mark on its line
        await scan(pilot, COLA)  # the same line, still marked; the sentence is not said again
        assert "已加入" in message(app)
        assert len(app.screen.basket.items) == 2 and app.screen.basket.items[1].qty_milli == 2000
        assert basket_names(app)[1].startswith("缺货 ") and not basket_names(app)[0].startswith("缺货")
        await pilot.press("f12", "enter")  # and it sells
        await printed_all(pilot, app)
        assert on_hand(COLA) == -2000 and on_hand(WATER) == 49000


async def test_none_on_hand_is_refused_when_the_setting_refuses_it(shop_with):
    shop = shop_with(stock=StockSettings(negative="refuse"))
    from store import stock

    stock.adjust(COLA, -49000, stock.LOST, "1")  # one bottle left
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        assert "已加入" in message(app)
        await scan(pilot, COLA)  # a second bottle: none on hand
        assert "库存只有 1瓶，不能卖" in message(app)
        assert [item.qty_milli for item in app.screen.basket.items] == [1000]  # refused, nothing added
        await pilot.press("f3")  # nor by changing the quantity
        await pilot.press("ctrl+a", "backspace", "3", "enter")
        await wait_until(pilot, lambda: screen_is(app, "SaleScreen"))
        assert "不能卖" in message(app) and [item.qty_milli for item in app.screen.basket.items] == [1000]


async def test_the_search_shows_on_hand_for_each_product(shop_with):
    shop = shop_with()
    none_left(WATER)
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: screen_is(app, "SearchScreen") and bool(app.screen.results))
        await pilot.press(*"kekou")
        await wait_until(pilot, lambda: [p["barcode"] for p in app.screen.results] == [COLA])
        options = app.screen.query_one("#search-results")
        assert "库存 50瓶" in str(options.get_option_at_index(0).prompt)
        await pilot.press(*["backspace"] * 5, *"nongfu")
        await wait_until(pilot, lambda: [p["barcode"] for p in app.screen.results] == [WATER])
        assert "库存 0" in str(app.screen.query_one("#search-results").get_option_at_index(0).prompt)


async def refund_one(pilot, app, answer: str) -> None:
    """F9, T on the newest sale, one of its first line back, ``answer`` to the shelf question, F12."""
    from store.models import Sale

    refunds = Sale.select().where(Sale.kind == "refund").count()
    await pilot.press("f9")
    await wait_until(pilot, lambda: screen_is(app, "HistoryScreen") and app.screen.rows)
    if app.screen.search.has_focus:
        await pilot.press("enter")
    app.screen.table.move_cursor(row=[row["receipt"] for row in app.screen.rows].index("1-000001"))
    await pilot.press("t")
    await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
    await pilot.press("1", "enter")
    assert "放回货架按 Y 或 Enter" in app.screen.query_one("#refund-qty").placeholder
    await pilot.press(*answer, "enter")
    assert str(app.screen.table.get_row_at(0)[4]) == ("1瓶 损坏" if answer == "n" else "1瓶 回架")
    await pilot.press("f12")
    await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").count() == refunds + 1)
    await printed_all(pilot, app)
    await pilot.press("escape")
    await wait_until(pilot, lambda: screen_is(app, "SaleScreen"))


async def test_a_refund_line_answered_damaged_leaves_on_hand_and_one_back_on_the_shelf_adds_it(shop_with):
    shop = shop_with(selling=SellingSettings(refund_manager_pin=False))
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "3*" + COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert on_hand(COLA) == 47000
        await refund_one(pilot, app, "n")  # damaged: it does not go back on the shelf
        assert on_hand(COLA) == 47000
        await refund_one(pilot, app, "")  # Enter: back on the shelf
        assert on_hand(COLA) == 48000


async def test_the_owners_view_shows_the_low_stock_the_stock_value_and_the_days_margin(shop_with):
    from store import stock

    shop = shop_with()
    stock.set_min(COLA, 48000)
    app = shop.app()
    async with app.run_test(size=(100, 50)) as pilot:
        await scan(pilot, "2*" + COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await pilot.press("ctrl+w")  # no cashiers: the owner's view opens at once
        await wait_until(pilot, lambda: screen_is(app, "OwnerScreen") and app.screen.loaded is not None)
        text = text_of(app.screen.query_one("#owner-figures"))
        low = text[text.index("库存不足"):]
        assert "可口可乐" in low and "库存 48瓶  下限 48瓶" in low and "农夫山泉" not in low
        assert "库存金额（移动平均成本）" in text and "当天毛利（销售额减成本）" in text
        value = stock.stock_value()
        assert f"{value // 100}.{value % 100:02d}" in text
        assert "¥2.40" in text  # 2 bottles at ¥3.00 less their cost (¥1.80 each): the day's margin


async def test_a_stocktake_on_the_till_applied_with_a_managers_pin_moves_on_hand_to_the_count(shop_with):
    from store.cashiers import add_cashier

    shop = shop_with()
    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: screen_is(app, "PinScreen"))
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: screen_is(app, "OwnerScreen") and app.screen.loaded is not None)
        await pilot.press("s")
        await wait_until(pilot, lambda: screen_is(app, "StocktakeScreen"))
        await settled(pilot)
        await scan(pilot, "404")
        await wait_until(pilot, lambda: "查无此码：404" in screen_text(app))
        await scan(pilot, COLA)
        await wait_until(pilot, lambda: "数到多少" in app.screen.entry.placeholder)
        await pilot.press(*"1x", "enter")
        assert "不是数量" in screen_text(app)
        await pilot.press(*"19", "enter")
        await wait_until(pilot, lambda: "数到 19瓶" in screen_text(app))
        await pilot.press("f3")  # whole or partial is chosen before the first product
        assert "要在数第一个商品之前选定" in screen_text(app)
        assert on_hand(COLA) == 50000  # counted, not applied yet
        await pilot.press("f12")
        await wait_until(pilot, lambda: screen_is(app, "PinScreen"))
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: screen_is(app, "ConfirmScreen"))
        assert on_hand(COLA) == 19000 and on_hand(WATER) == 50000  # not counted: left as it is
        await pilot.press("y")  # print the count
        await wait_until(pilot, lambda: "盘点单已打印" in screen_text(app))
        paper = shop.paper()[-1]
        assert "盘点单 1-0001" in paper and "店长 M1" in paper and "账面 50  盘点 19  差 -31" in paper


async def test_receiving_by_scanning_on_the_owners_view_adds_to_on_hand(shop_with):
    shop = shop_with()
    app = shop.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: screen_is(app, "OwnerScreen") and app.screen.loaded is not None)
        await pilot.press("g")
        await wait_until(pilot, lambda: screen_is(app, "ReceiveScreen"))
        await scan(pilot, COLA)
        await wait_until(pilot, lambda: "进了多少" in app.screen.entry.placeholder)
        await pilot.press(*"24", "enter")
        await pilot.press(*"2.505", "enter")
        assert "不是金额" in screen_text(app)
        await pilot.press(*"2.50", "enter")
        await wait_until(pilot, lambda: "已进货" in screen_text(app))
        assert on_hand(COLA) == 74000 and "现在库存 74瓶" in screen_text(app)

