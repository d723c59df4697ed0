"""Pilot stories for the owner's view (Ctrl+W): the manager's PIN, a day's figures, the hourly bars, the
day's Z reports shown and reprinted. A real SQLite file and the virtual printer on a pty."""
from __future__ import annotations

import datetime

from tests.tui.helpers import (
    COLA,
    WATER,
    last_sale,
    manager_pin,
    printed_all,
    scan,
    screen_text,
    settled,
    text_of,
    wait_until,
)


def with_cashiers() -> None:
    from store.cashiers import add_cashier

    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")


def owner_up(app) -> bool:
    from tui.screens.owner import OwnerScreen

    return isinstance(app.screen, OwnerScreen)


def loaded(app) -> bool:
    return owner_up(app) and app.screen.loaded is not None


def figures_text(app) -> str:
    return text_of(app.screen.query_one("#owner-figures"))


async def sell_and_refund(pilot, app) -> None:
    """Cola ¥3.00 in cash, water ¥2.00 by card, then the cola refunded (¥3.00 back in cash)."""
    from store.documents import commit_refund, refundable

    await scan(pilot, COLA)
    await pilot.press("f12", "enter")
    await printed_all(pilot, app)
    cola = last_sale().id
    await scan(pilot, WATER)
    await pilot.press("f12", "f3", "tab", *"6222", "enter")  # a card needs its last four digits
    await printed_all(pilot, app)
    [line] = refundable(cola)
    refund = commit_refund(cola, [(line.line_id, 1000)], app.till_id, "C1", "M1", "broken")
    app.print_sale(refund.id)
    await printed_all(pilot, app)


async def test_the_owners_view_is_refused_with_a_wrong_pin_and_shows_todays_figures_with_the_managers(shop):
    from tui.screens.pin import PinScreen

    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 40)) as pilot:
        await sell_and_refund(pilot, app)
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: isinstance(app.screen, PinScreen))
        await manager_pin(pilot, "C1", "1111")  # a cashier's code and PIN: not a manager's
        await wait_until(pilot, lambda: "编号 C1 不是店长" in text_of(app.screen.query_one("#pin-message")))
        assert isinstance(app.screen, PinScreen) and not owner_up(app)
        await pilot.press("escape")
        await settled(pilot)
        assert not owner_up(app)  # Esc on the PIN opens nothing
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: isinstance(app.screen, PinScreen))
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: loaded(app))
        text = figures_text(app)
        hour = datetime.datetime.now().strftime("%H")
        assert "销售（笔数，总额）" in text and "5.00" in text  # two sales, ¥5.00 gross
        lines = {line.split()[0]: line for line in text.splitlines() if line.strip()}
        assert lines["净额"].split()[-1] == "¥2.00"  # 3.00 + 2.00 - the 3.00 refunded
        assert lines["退货"].split()[-2:] == ["1", "-3.00"]
        assert lines["现金"].split()[-2:] == ["1", "0.00"]  # cola paid, then paid back
        assert lines["银行卡"].split()[-2:] == ["1", "2.00"]
        bars = [line for line in text.splitlines() if line.strip().startswith(hour + ":00")]
        assert len(bars) == 1 and "█" in bars[0]  # the hour sold has a bar
        assert "这一天没有 Z 报表" in text


async def test_yesterday_says_no_sales_and_todays_z_is_listed_shown_and_reprinted(shop):
    from store.reports import close_z

    app = shop.app()  # a shop without cashiers: nobody to ask for a PIN
    async with app.run_test(size=(100, 40)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: loaded(app))
        await pilot.press("left")
        await wait_until(pilot, lambda: loaded(app) and app.screen.day < datetime.date.today())
        assert "这一天没有销售" in figures_text(app)
        await pilot.press("right")
        await wait_until(pilot, lambda: loaded(app) and app.screen.day == datetime.date.today())
        assert "这一天没有销售" not in figures_text(app)
        await pilot.press("right")  # tomorrow has not come: one sentence, the day stays
        await pilot.pause()
        assert app.screen.day == datetime.date.today() and "还没到" in screen_text(app)
        close_z(app.till_id)
        await pilot.press("d", *"2001-13-01", "enter")  # not a date
        await wait_until(pilot, lambda: owner_up(app) and "不是日期" in screen_text(app))
        await pilot.press("d", *datetime.date.today().isoformat(), "enter")
        await wait_until(pilot, lambda: loaded(app) and "Z #1" in figures_text(app))
        papers = len(shop.paper())
        await pilot.press("z")
        await wait_until(pilot, lambda: "Z 报表（结班） #1" in screen_text(app))
        assert "净额" in screen_text(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: "Z 报表已打印" in screen_text(app))
        assert len(shop.paper()) == papers + 1 and "Z 报表（结班） #1" in shop.paper()[-1]


async def test_all_tills_sums_every_till_of_the_day(shop_en):
    from store.sales import Basket, Tender, commit_sale, find_product

    app = shop_en.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        basket = Basket()
        basket.add(find_product(WATER), 2000)
        tender = Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        commit_sale(basket, tender, "2", "")  # another till: ¥4.00
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: loaded(app))
        assert [line.split()[-1] for line in figures_text(app).splitlines() if line.strip().startswith("Net")] \
            == ["¥3.00"]
        await pilot.press("a")
        await wait_until(pilot, lambda: loaded(app) and app.screen.all_tills)
        assert "all tills" in screen_text(app)
        assert [line.split()[-1] for line in figures_text(app).splitlines() if line.strip().startswith("Net")] \
            == ["¥7.00"]


def test_ascii_bars_and_typed_days():
    from tui.screens.owner import bar, parse_day

    assert bar(50, 100, True, width=10) == "#####" and bar(0, 100, False) == ""
    assert set(bar(1, 1000, False)) == {"█"}  # a small hour still shows
    today = datetime.date(2026, 5, 6)
    assert parse_day("2026-01-02", today) == datetime.date(2026, 1, 2)
    assert parse_day("２０２６/1/2", today) == datetime.date(2026, 1, 2)
    assert parse_day("20260102", today) == datetime.date(2026, 1, 2)
    assert parse_day("3-4", today) == datetime.date(2026, 3, 4)
    assert parse_day("2026-02-30", today) is None and parse_day("yesterday", today) is None


def test_long_names_are_cut_so_the_columns_stay_put():
    """A product or cashier name longer than its column is cut (with …, ~ on the console): every count starts in
    one column and every amount ends in one, whatever the names."""
    from types import SimpleNamespace

    from rich.cells import cell_len

    from tui.screens.owner import LABEL_WIDTH, figure_lines

    tender = dict(count=1, amount_fen=300)
    figures = dict(
        sales=dict(count=2, gross_fen=1200, discount_fen=0, rounding_fen=0),
        refunds=dict(count=0, amount_fen=0), voids=dict(count=0, amount_fen=0), net_fen=1200,
        tenders=dict(cash=tender, card=tender, wechat=tender, alipay=tender), hours=[],
        cashiers=[dict(cashier="小王", count=1, net_fen=300),
                  dict(cashier="王店长的侄子（周末来帮忙的那位）", count=1, net_fen=900)],
        top_products=[dict(name="可口可乐 Coca-Cola 330ml", qty_milli=2000, amount_fen=600),
                      dict(name="康师傅红烧牛肉面 Beef Noodles 五连包 特价装", qty_milli=1000, amount_fen=450),
                      dict(name="盐", qty_milli=12345, amount_fen=150)])
    for ascii_only, mark in ((False, "…"), (True, "~")):
        lines = figure_lines(figures, SimpleNamespace(ascii_only=ascii_only))
        rows = [line for line in lines if line.startswith("  ") and line.rstrip()[-1].isdigit()
                and ":00" not in line]
        assert {cell_len(line) for line in rows} == {60}  # every amount ends in one column
        counted = [line for line in rows if cell_len(line[:-12].rstrip()) > LABEL_WIDTH]
        assert len(counted) >= 7
        for line in counted:  # the count starts right after the label column
            label, cells = "", 0
            for char in line:
                if cells >= LABEL_WIDTH:
                    break
                label, cells = label + char, cells + cell_len(char)
            assert cells == LABEL_WIDTH and label.endswith(" ") and line[len(label)] != " ", line
        assert sum(mark in line for line in rows) == 2  # the long product and the long cashier, cut
