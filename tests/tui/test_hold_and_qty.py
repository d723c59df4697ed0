"""Pilot stories: F3 changes a line's quantity, a repeated scan joins its line, Ctrl+G holds a basket
and Ctrl+Y takes it back (on this till, after a restart, or not when another till took it first)."""
from __future__ import annotations

import pytest

from tests.tui.conftest import scans_not_merged
from tests.tui.helpers import APPLE, BUN, COLA, WATER, last_sale, printed_all, scan, settled, text_of, wait_until


def message(app) -> str:
    return text_of(app.sale_screen.query_one("#message"))


def quantities(app):
    return [line.qty_milli for line in app.sale_screen.basket.lines]


def stored(state: str):
    from store.models import OpenBasket

    return list(OpenBasket.select().where(OpenBasket.state == state).order_by(OpenBasket.id))


def events(kind: str):
    from store.models import Event

    return [e.detail for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def shown(app, screen_type) -> bool:
    return isinstance(app.screen, screen_type)


# ---------------------------------------------------------------- F3: a line's quantity

async def test_f3_changes_the_selected_lines_quantity_and_the_basket_is_stored(shop):
    from store import baskets
    from tui.screens.ask import AskScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await pilot.press("up", "f3")  # the cola line
        await wait_until(pilot, lambda: shown(app, AskScreen))
        assert app.screen.query_one("#ask-input").value == "1"
        await pilot.press(*"3", "enter")
        await wait_until(pilot, lambda: not shown(app, AskScreen))
        assert quantities(app) == [3000, 1000]
        assert app.sale_screen.basket.total_fen == 3 * 300 + 200
        assert "3" in message(app)
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
        basket = baskets.open_basket(app.till_id)
        assert basket is not None and [item.qty_milli for item in basket.basket.items] == [3000, 1000]
        assert basket.total_fen == 1100
        await settled(pilot)
        assert events("qty_changed") == ["可口可乐 Coca-Cola 330ml 1 -> 3"]
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 1100


async def test_f3_refuses_bad_text_and_a_scale_labels_line_changing_nothing(shop):
    from store.codes import make_scale_label, scale_layouts
    from tui.screens.ask import AskScreen

    label = make_scale_label(APPLE, 1335, scale_layouts(shop.settings.scale)[0])  # 苹果, ¥13.35 on the label
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, BUN)
        await pilot.press("f3")
        await wait_until(pilot, lambda: shown(app, AskScreen))
        await pilot.press(*"abc", "enter")  # not a quantity: the dialog says so and stays
        assert shown(app, AskScreen)
        assert "数量不对" in text_of(app.screen.query_one("#ask-message"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not shown(app, AskScreen))
        assert quantities(app) == [1000]
        await scan(pilot, label)
        assert app.sale_screen.basket.total_fen == 100 + 1335
        await pilot.press("f3")  # the label's line: its quantity is printed on the label
        await pilot.pause()
        assert not shown(app, AskScreen)
        assert "电子秤" in message(app) and "不能改" in message(app)
        assert app.sale_screen.basket.total_fen == 100 + 1335
        await settled(pilot)
        assert events("qty_changed") == []


async def test_f3_is_refused_once_a_payment_was_taken(shop):
    from tui.screens.ask import AskScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await pilot.press("f12", *"2", "enter", "escape")  # ¥2 of ¥5 taken in cash, back to the basket
        await pilot.press("f3")
        await pilot.pause()
        assert not shown(app, AskScreen)
        assert "正在付款" in message(app)
        assert quantities(app) == [1000, 1000]


# ---------------------------------------------------------------- a repeated scan joins its line

async def test_a_repeated_scan_joins_its_line_and_the_display_shows_the_unit_price(shop):
    from textual.widgets import DataTable

    app = shop.app()
    shown_items = []
    app.customer_display.show_item = lambda name, price: shown_items.append((name, price))
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await scan(pilot, "2*" + COLA)
        assert quantities(app) == [3000, 1000]
        assert app.sale_screen.query_one("#basket", DataTable).cursor_row == 0  # the merged line is selected
        assert shown_items[-1] == ("可口可乐 Coca-Cola 330ml", 300)  # 单价: the price of one, not the line
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        sale = last_sale()
        assert [(line.qty_milli, line.amount_fen) for line in sale.lines] == [(3000, 900), (1000, 200)]


async def test_with_merge_scans_off_each_scan_has_its_own_line(shop):
    shop.settings = scans_not_merged(shop.settings)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, COLA)
        assert quantities(app) == [1000, 1000]


# ---------------------------------------------------------------- hold (挂单) and resume (取单)

async def hold(pilot, note: str = "") -> None:
    from tui.screens.ask import AskScreen

    app = pilot.app
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: shown(app, AskScreen))
    await pilot.press(*note, "enter")
    await wait_until(pilot, lambda: not app.sale_screen.busy and not shown(app, AskScreen))


async def open_held(pilot):
    """Ctrl+Y, and wait for the list to be read."""
    from tui.screens.held import HeldScreen

    app = pilot.app
    await pilot.press("ctrl+y")
    await wait_until(pilot, lambda: shown(app, HeldScreen) and app.screen.loaded)
    return app.screen


async def test_hold_a_basket_sell_another_then_resume_the_first_and_pay(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "2*" + APPLE)
        await hold(pilot, "wang")
        assert app.sale_screen.basket.is_empty and "已挂单" in message(app)
        [held] = stored("held")
        assert (held.items, held.total_fen, held.note) == (2, 300 + 1780, "wang")
        await settled(pilot)
        assert len(events("basket_held")) == 1
        # the next customer
        await scan(pilot, WATER)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 200
        # back to the first
        held_list = await open_held(pilot)
        assert [row.note for row in held_list.rows] == ["wang"]
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.sale_screen.sale_open() and not app.sale_screen.busy)
        assert quantities(app) == [1000, 2000] and "已取回" in message(app)
        assert stored("held") == []
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        sale = last_sale()
        assert sale.total_fen == 2080 and len(sale.lines) == 2
        from store.models import OpenBasket

        assert OpenBasket.get_by_id(held.id).state == "sold"
        assert stored("open") == [] and stored("held") == []
        await settled(pilot)
        assert len(events("basket_resumed")) == 1


async def test_held_baskets_survive_a_restart(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await hold(pilot)
        await scan(pilot, BUN)
        await hold(pilot, "li")
    assert [(b.total_fen, b.note) for b in stored("held")] == [(300, ""), (100, "li")]
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert not app.sale_screen.sale_open()  # nothing was left open: held baskets wait for Ctrl+Y
        held_list = await open_held(pilot)
        assert [row.note for row in held_list.rows] == ["", "li"]
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: app.sale_screen.sale_open() and not app.sale_screen.busy)
        assert [line.name for line in app.sale_screen.basket.lines] == ["馒头 Steamed Bun"]
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 100
        assert [b.total_fen for b in stored("held")] == [300]


async def test_resume_is_refused_while_the_basket_is_not_empty(shop):
    from tui.screens.held import HeldScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await hold(pilot)
        await scan(pilot, WATER)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert not shown(app, HeldScreen)
        assert "先挂单或结账" in message(app)
        assert quantities(app) == [1000] and len(stored("held")) == 1


async def test_hold_is_refused_for_an_empty_basket_and_once_money_was_taken(shop):
    from tui.screens.ask import AskScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert not shown(app, AskScreen) and "空" in message(app)
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await pilot.press("f12", *"2", "enter", "escape")  # ¥2 taken
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert not shown(app, AskScreen) and "收了钱" in message(app)
        assert stored("held") == [] and app.sale_screen.sale_open()


async def test_a_held_basket_another_till_took_meanwhile_is_refused_in_one_sentence(shop):
    from store import baskets

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await hold(pilot)
        await open_held(pilot)
        baskets.resume(stored("held")[0].id, "2")  # till 2 takes it while this list is open
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.sale_screen.busy and "别的收银台" in message(app))
        assert not app.sale_screen.sale_open()


@pytest.mark.parametrize("fails", [False, True], ids=["held", "not_held"])
async def test_a_scan_while_a_basket_is_being_held_waits_for_the_answer(shop, fails):
    """The hold is store work on the basket saver's thread: a scan meanwhile lands in the next basket,
    or, when the hold fails, in the basket that comes back (never lost, never in the wrong one)."""
    import threading

    from store import baskets as store_baskets
    from store.baskets import BasketError
    from tui.screens.ask import AskScreen

    gate = threading.Event()
    original = store_baskets.hold

    def slow_hold(*args, **kwargs):
        gate.wait(10)
        if fails:
            raise BasketError("That basket is no longer open.", "basket_not_open")
        return original(*args, **kwargs)

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: shown(app, AskScreen))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_baskets, "hold", slow_hold)
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.sale_screen.busy == "hold")
            await scan(pilot, WATER)  # typed while the hold is being written
            assert app.sale_screen.basket.is_empty
            gate.set()
            await wait_until(pilot, lambda: not app.sale_screen.busy and app.sale_screen.sale_open())
        names = [line.name for line in app.sale_screen.basket.lines]
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
        if fails:
            assert names == ["可口可乐 Coca-Cola 330ml", "农夫山泉 Spring Water 550ml"]
            assert "不是进行中" in message(app)
            assert stored("held") == [] and [b.total_fen for b in stored("open")] == [500]
        else:
            assert names == ["农夫山泉 Spring Water 550ml"]
            [held] = stored("held")
            [open_basket] = stored("open")
            assert held.total_fen == 300 and open_basket.total_fen == 200
