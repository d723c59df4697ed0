"""Pilot stories for the guard rails: slips a cashier can make with a keyboard, a scanner and a Chinese input method.

A quantity, a line or the change of a cash payment far larger than a shop
ever sees asks first (Y or Enter: go on, and the event log says so; N or
Esc: nothing changes). A fraction of a product sold by the piece is refused.
Full-width digits and ＊ from a Chinese input method are typed numbers. And a
scan meant for the next customer never becomes a card's reference.
"""
from __future__ import annotations

import pytest

from tests.tui.helpers import APPLE, COLA, WATER, last_sale, printed_all, scan, settled, text_of, wait_until

OIL = "12"  # 花生油 45.90 / 桶: 300 of them make a ¥13,770 line with a quantity well under 999


def asking(app) -> bool:
    from tui.screens.confirm import ConfirmScreen

    return isinstance(app.screen, ConfirmScreen)


def question(app) -> str:
    return text_of(app.screen.query_one("#confirm-question"))


async def confirmations(pilot):
    from store.models import Event

    await settled(pilot)  # events are written off the UI thread
    return [e.detail for e in Event.select().where(Event.kind == "limit_confirmed").order_by(Event.id)]


async def ime(pilot, text: str) -> None:
    """Text a Chinese input method commits into the focused field (Pilot cannot press ＊ or ．)."""
    pilot.app.focused.insert_text_at_cursor(text)
    await pilot.pause()


def basket(app):
    return [(line.name.split()[0], line.qty_milli, line.amount_fen) for line in app.sale_screen.basket.lines]


def message(app) -> str:
    return text_of(app.sale_screen.query_one("#message"))


# ---------------------------------------------------------------- a line far too large


@pytest.mark.parametrize("no", ["escape", "n"])
async def test_a_million_colas_asks_and_no_adds_nothing(shop, no):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "1000000*" + COLA)
        assert asking(app)
        assert "1000001" in question(app) and "可口可乐" in question(app)  # the line it joins, as it would be
        await pilot.press(no)
        assert not asking(app)
        assert basket(app) == [("可口可乐", 1000, 300)]
        assert "已取消" in message(app)
        assert await confirmations(pilot) == []
        await scan(pilot, WATER)  # the till goes on as before
        assert len(basket(app)) == 2


async def test_a_million_colas_confirmed_is_sold_and_logged(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "1000000*" + COLA)
        await pilot.press(*WATER, "enter")  # a scan never answers the question: Enter is not yes
        assert asking(app)
        await pilot.press("y")
        assert not asking(app)
        assert basket(app) == [("可口可乐", 1_000_000_000, 300_000_000)]
        assert await confirmations(pilot) == ["qty 1000000 可口可乐 Coca-Cola 330ml"]


async def test_a_line_over_ten_thousand_yuan_asks_even_with_a_small_quantity(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "300*" + OIL)
        assert asking(app) and "13770.00" in question(app)
        await pilot.press("escape")
        assert basket(app) == []
        await scan(pilot, "300*" + OIL)
        await pilot.press("y")
        assert basket(app) == [("花生油", 300_000, 1_377_000)]
        assert await confirmations(pilot) == ["line 13770.00 花生油 Peanut Oil 1.8L"]


async def test_ordinary_lines_never_ask(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "999*" + COLA)  # at the limit, not over it: ¥2,997
        await scan(pilot, "3.5*" + APPLE)
        assert not asking(app)
        assert basket(app) == [("可口可乐", 999_000, 299_700), ("苹果", 3500, 3115)]


async def test_the_limits_come_from_the_settings(tmp_path, monkeypatch):
    """[limits] max_qty = 5 asks at 6 pieces, max_line_fen = 10000 at ¥137.70; max_change_fen = 0 never asks."""
    from tests.tui.conftest import close_shop, make_shop
    from tui.settings import LimitsSettings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", limits=LimitsSettings(max_qty=5, max_line_fen=10_000, max_change_fen=0))
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, "5*" + COLA)
            assert not asking(app)
            await scan(pilot, COLA)  # joins the line: 6
            assert asking(app) and "6" in question(app)
            await pilot.press("escape")
            await scan(pilot, "3*" + OIL)
            assert asking(app) and "137.70" in question(app)
            await pilot.press("escape")
            assert basket(app) == [("可口可乐", 5000, 1500)]
            await pilot.press("f12", *"100000", "enter")
            assert not asking(app)
            await printed_all(pilot, app)
            assert last_sale().change_fen == 9_998_500
    finally:
        close_shop(shop)


# ---------------------------------------------------------------- change far too large


async def test_twelve_million_in_cash_for_a_cola_asks_and_no_takes_nothing(shop):
    from tui.screens.tender import TenderScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"12345678.00", "enter")  # 8 digits alone are a scanned code
        assert asking(app)
        assert "12345678.00" in question(app) and "12345675.00" in question(app)
        await pilot.press("escape")
        assert isinstance(app.screen, TenderScreen)
        assert app.screen.tender.paid_fen == 0 and last_sale() is None
        assert "没有收款" in text_of(app.screen.query_one("#tender-message"))
        await pilot.press("ctrl+a", "ctrl+k", *"10", "enter")  # what the customer really gave
        await printed_all(pilot, app)
        assert last_sale().change_fen == 700
        assert await confirmations(pilot) == []


async def test_twelve_million_in_cash_confirmed_gives_the_change_and_is_logged(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"12345678.00", "enter")  # 8 digits alone are a scanned code
        assert asking(app)
        await pilot.press("y")
        await printed_all(pilot, app)
        assert last_sale().change_fen == 1_234_567_500
        assert await confirmations(pilot) == ["change 12345675.00 from cash 12345678.00"]


async def test_change_up_to_a_thousand_yuan_never_asks(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"1003", "enter")  # ¥1,000.00 change: the limit, not over it
        await printed_all(pilot, app)
        assert last_sale().change_fen == 100_000


# ---------------------------------------------------------------- by the piece


@pytest.mark.parametrize("language, says", [("zh", "按件卖"), ("en", "sold by the piece")])
async def test_half_a_cola_is_refused_in_one_sentence_half_a_jin_of_apples_sells(tmp_path, monkeypatch,
                                                                                   language, says):
    from tests.tui.conftest import close_shop, make_shop

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language=language)
    try:
        app = shop.app()
        bells = []
        app.bell = lambda: bells.append(1)
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, "1.5*" + COLA)
            said = message(app)
            assert says in said and "1.5" in said and "\n" not in said, said
            assert basket(app) == [] and bells == [1] and not asking(app)
            await scan(pilot, "0.5*" + APPLE)  # 斤: weighed
            assert basket(app) == [("苹果", 500, 445)]
    finally:
        close_shop(shop)


async def test_a_fraction_of_a_piece_is_refused_before_any_question(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "1000.5*" + COLA)  # over max_qty too
        assert not asking(app) and basket(app) == []
        assert "按件卖" in message(app)


# ---------------------------------------------------------------- a Chinese input method's digits


async def test_full_width_quantity_and_star_in_the_sale_entry(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for typed in ("３＊6901234567892", "１．５＊" + APPLE, "１。５＊" + APPLE):  # 。: the point key in Chinese mode
            await ime(pilot, typed)
            await pilot.press("enter")
        # each weighing of apples is a line of its own (issue 23): never merged into 3 斤
        assert basket(app) == [("可口可乐", 3000, 900), ("苹果", 1500, 1335), ("苹果", 1500, 1335)]


async def test_full_width_quantity_before_f2_and_a_full_width_search(shop):
    from tui.screens.search import SearchScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ime(pilot, "２＊")
        await pilot.press("f2")
        assert isinstance(app.screen, SearchScreen)
        await ime(pilot, "６９０１２３")  # the code's first digits, full width
        await settled(pilot)
        await wait_until(pilot, lambda: bool(app.screen.results))
        assert app.screen.results[0]["barcode"] == COLA
        await pilot.press("enter")
        await pilot.pause()
        assert basket(app) == [("可口可乐", 2000, 600)]


async def test_full_width_cash_amount_with_a_full_width_point(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12")
        await ime(pilot, "１８．５")
        await pilot.press("enter")
        await printed_all(pilot, app)
        assert last_sale().change_fen == 1550


async def test_full_width_sign_in_code_and_pin(shop):
    from store.cashiers import add_cashier
    from tui.screens.signin import SignInScreen

    add_cashier("01", "小李", "1234")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await ime(pilot, "０１")
        await pilot.press("enter")
        await ime(pilot, "１２３４")
        await pilot.press("enter")
        await settled(pilot)
        assert app.screen is app.sale_screen and app.cashier == "01"


async def test_full_width_history_search(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        for code in (COLA, WATER):
            await scan(pilot, code)
            await pilot.press("f12", "enter")
            await printed_all(pilot, app)
        await pilot.press("f9")
        await settled(pilot)
        app.screen.search.value = "２．００"  # the water sale's amount
        await settled(pilot)
        assert [row["receipt"] for row in app.screen.rows] == ["1-000002"]


# ---------------------------------------------------------------- the tender: references and keys


async def test_a_scan_after_choosing_card_never_becomes_its_reference(shop):
    """Card chosen, Enter: the reference is still empty, so nothing is paid; the next customer's scan lands in
    the amount (a code is no amount) and pays nothing either. Only Tab reaches the reference."""
    from textual.widgets import Input

    from store.models import Payment
    from tui.screens.tender import TenderScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f3", "enter")
        said = text_of(app.screen.query_one("#tender-message"))
        await pilot.press(*WATER, "enter")  # a scan meant for the next customer
        await settled(pilot)
        assert last_sale() is None
        assert isinstance(app.screen, TenderScreen) and app.screen.tender.paid_fen == 0
        assert "Tab" in said and "后四位" in said, said
        assert app.screen.query_one("#reference", Input).value == ""
        assert app.screen.query_one("#amount", Input).has_focus
        await pilot.press("ctrl+a", "ctrl+k", "tab", *"6222", "enter")
        await printed_all(pilot, app)
        payments = [(p.method, p.amount_fen, p.reference) for p in Payment.select()]
        assert payments == [("card", 300, "6222")]


async def test_wechat_enter_pays_at_once_and_the_next_scan_starts_the_next_sale(shop):
    from store.models import Payment

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f4", "enter")
        await scan(pilot, WATER)  # while the sale is being saved, or after: the next customer's
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: app.screen is app.sale_screen and bool(basket(app)))
        assert [(p.method, p.amount_fen, p.reference) for p in Payment.select()] == [("wechat", 300, "")]
        assert basket(app) == [("农夫山泉", 1000, 200)]


@pytest.mark.parametrize("language, keys, sale_keys", [
    ("zh", ["F2 现金", "F3 银行卡", "F4 微信", "F5 支付宝", "F6 付款失败", "Tab 参考号", "Esc 返回"],
     ["查找", "删除"]),
    ("en", ["F2 Cash", "F3 Card", "F4 WeChat", "F5 Alipay", "F6 Failed", "Tab Reference", "Esc Back"],
     ["Find", "Void"]),
])
@pytest.mark.parametrize("width", [80, 120])
async def test_the_key_bar_at_the_bottom_of_the_tender_names_the_tender_keys(tmp_path, monkeypatch, language,
                                                                             keys, sale_keys, width):
    from tests.tui.conftest import close_shop, make_shop
    from tui.screens.widgets import KeyBar

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language=language)
    try:
        app = shop.app()
        async with app.run_test(size=(width, 24)) as pilot:
            await scan(pilot, COLA)
            await pilot.press("f12")
            await pilot.pause()
            widget, _ = app.screen.get_widget_at(1, 23)  # what the bottom line of the terminal shows
            assert isinstance(widget, KeyBar) and widget.id == "tender-keys"
            shown = text_of(widget)
            assert all(key in shown for key in keys), shown
            assert not any(word in shown for word in sale_keys), shown
    finally:
        close_shop(shop)


# ---------------------------------------------------------------- a line made too large afterwards (F3, a repeat scan, Ctrl+P)


async def f3_to(pilot, qty: str) -> None:
    from tui.screens.ask import AskScreen

    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AskScreen))
    await pilot.press(*qty, "enter")
    await pilot.pause()


@pytest.mark.parametrize("no", ["escape", "n"])
async def test_f3_to_a_thousand_asks_no_changes_nothing_yes_changes_it(shop, no):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await f3_to(pilot, "1000")
        assert asking(app) and "1000" in question(app)
        await pilot.press(no)
        assert not asking(app)
        assert basket(app) == [("可口可乐", 1000, 300)]
        assert "没有改动" in message(app)
        await f3_to(pilot, "1000")
        await pilot.press("y")
        assert basket(app) == [("可口可乐", 1_000_000, 300_000)]
        assert await confirmations(pilot) == ["qty 1000 可口可乐 Coca-Cola 330ml"]


async def test_a_repeated_scan_that_makes_its_line_too_large_asks(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "900*" + COLA)
        assert not asking(app)
        await scan(pilot, "900*" + COLA)  # joins the line: 1800 colas
        assert asking(app) and "1800" in question(app)
        await pilot.press("escape")
        assert basket(app) == [("可口可乐", 900_000, 270_000)]
        await scan(pilot, "900*" + COLA)
        await pilot.press("y")
        assert basket(app) == [("可口可乐", 1_800_000, 540_000)]
        assert await confirmations(pilot) == ["qty 1800 可口可乐 Coca-Cola 330ml"]


async def test_a_new_price_that_makes_the_line_over_ten_thousand_yuan_asks(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "200*" + COLA)  # ¥600
        await pilot.press("ctrl+p", *"99.99", "enter", "3", "enter")  # ¥19,998 a line: a slip of the price
        await wait_until(pilot, lambda: asking(app))
        assert "19998.00" in question(app)
        await pilot.press("n")
        assert basket(app) == [("可口可乐", 200_000, 60_000)]
        assert app.sale_screen.basket.items[0].price is None
        assert "没有改动" in message(app)
        await pilot.press("ctrl+p", *"99.99", "enter", "3", "enter")
        await wait_until(pilot, lambda: asking(app))
        await pilot.press("y")
        assert basket(app) == [("可口可乐", 200_000, 1_999_800)]
        assert await confirmations(pilot) == ["line 19998.00 可口可乐 Coca-Cola 330ml"]


# ---------------------------------------------------------------- sentences that fit 80 columns


async def test_a_long_sentence_takes_two_lines_at_80_columns_and_a_600_digit_scan_a_short_one(tmp_path, monkeypatch):
    from tests.tui.conftest import close_shop, make_shop

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language="en")
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, "9" * 600)
            said = message(app)
            assert said.startswith("Unknown code: 9999") and len(said) < 40, said
            await scan(pilot, COLA)
            await pilot.press("f12", "1", "enter", "escape", "ctrl+g")  # ¥1 taken: it cannot be held
            said = message(app)
            assert len(said) > 78, said  # longer than the line: it takes two
            widget = app.sale_screen.query_one("#message")
            assert widget.size.height == 2
            shown = [strip.text for strip in widget.render_lines(widget.region.reset_offset)]
            assert said.split()[-1] in " ".join(shown)  # its last word is on screen
    finally:
        close_shop(shop)
