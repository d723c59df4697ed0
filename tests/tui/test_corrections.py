"""Pilot stories for corrections: 退货 by receipt, 作废 of a sale of today, the no-sale drawer, 无单退货.

The till runs on a real SQLite file and the virtual printer on a real pty; the
back office is the real `chaoying` CLI run in this process on the same file.
"""
from __future__ import annotations

import dataclasses
import datetime
import json

import pytest

from tests.cli.helpers import Cli
from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import (
    APPLE,
    COLA,
    WATER,
    last_sale,
    manager_pin,
    printed_all,
    scan,
    settled,
    text_of,
    wait_until,
)
from tui.settings import SellingSettings


@pytest.fixture
def shop_with(tmp_path, monkeypatch):
    """A shop with changed [selling] settings: shop_with(refund_manager_pin=False, ...)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    made = []

    def make(**selling):
        made.append(make_shop(tmp_path / "shop", selling=SellingSettings(**selling)))
        return made[-1]

    yield make
    for shop in made:
        close_shop(shop)


@pytest.fixture
def manager():
    """A manager (M1, PIN 4321) and a cashier (C1, PIN 1111)."""
    from store.cashiers import add_cashier

    def make():
        add_cashier("M1", "王店长", "4321", manager=True)
        add_cashier("C1", "小李", "1111")

    return make


def screen_is(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def sell_cash(pilot, *codes: str):
    for code in codes:
        await scan(pilot, code)
    await pilot.press("f12", "enter")
    await printed_all(pilot, pilot.app)
    return last_sale()


async def open_history_on(pilot, number: str) -> None:
    """F9 and the cursor on receipt ``number``."""
    app = pilot.app
    if not screen_is(app, "HistoryScreen"):
        await pilot.press("f9")
    await wait_until(pilot, lambda: screen_is(app, "HistoryScreen") and app.screen.rows)
    if app.screen.search.has_focus:
        await pilot.press("enter")  # from the search box to the list, where T and V are commands
    index = [row["receipt"] for row in app.screen.rows].index(number)
    app.screen.table.move_cursor(row=index)
    await pilot.pause()


def message(app) -> str:
    return text_of(app.screen.query_one("#history-message"))


async def pin(pilot, pin: str, code: str = "M1") -> None:
    """The manager prompt: M1's code (unless ``code``) and ``pin``."""
    await wait_until(pilot, lambda: screen_is(pilot.app, "PinScreen"))
    await manager_pin(pilot, code, pin)


def back_office(shop, capsys, monkeypatch, *args: str):
    """`chaoying ARGS` on the till's database, in this process."""
    config = shop.folder / "shop.toml"
    config.write_text(f'[till]\nid = "{shop.settings.till.id}"\n\n[database]\nurl = "{shop.settings.database.url}"\n',
                      encoding="utf-8")
    result = Cli(capsys, monkeypatch)("--config", str(config), *args)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


# ---------------------------------------------------------------- refund by receipt


async def test_refund_one_of_three_bottles_on_paper_linked_in_sales_list_and_the_journal_holds(
        shop_with, manager, capsys, monkeypatch):
    from store.models import Line, Sale

    shop = shop_with()  # refund_manager_pin on by default
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        bottles = await sell_cash(pilot, "3*" + COLA)
        await sell_cash(pilot, WATER)
        await open_history_on(pilot, "1-000001")
        await pilot.press("t")
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        table = app.screen.table
        assert [str(cell) for cell in table.get_row_at(0)][1:] == ["3瓶", "0", "3瓶", "0"]  # sold, refunded, left, now
        await pilot.press("1", "enter")
        assert "退款 ￥3.00" in text_of(app.screen.query_one("#refund-total"))
        assert "现金 ￥3.00" in text_of(app.screen.query_one("#refund-total"))  # back to the original tender
        await pilot.press("f12")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").exists())
        await printed_all(pilot, app)
        assert any("1-000003" in n.message and "3.00" in n.message for n in app._notifications)
        assert shop.demo.printer.drawer_kicks == 3  # two cash sales and the cash going back

        refund = Sale.get(Sale.kind == "refund")
        assert (refund.original_id, refund.total_fen, refund.manager, refund.cashier) == (bottles.id, 300, "M1", "C1")
        assert Line.get(Line.sale == refund.id).qty_milli == 1000
        paper = shop.paper()[-1]
        assert "退货 REFUND" in paper and "1-000001" in paper and "1-000003" in paper and "-￥3.00" in paper
        await settled(pilot)
        rows = {row["receipt"]: row for row in app.screen.rows}
        assert "退货" in str(app.screen.table.get_row_at(0)[3])  # the newest row: the refund, marked
        assert str(app.screen.table.get_row_at(0)[2]) == "-3.00"  # money back: with a minus
        assert str(app.screen.table.get_row_at(1)[2]) == "2.00"  # a sale: as it was
        assert rows["1-000001"]["refunded"] and rows["1-000003"]["original"] == "1-000001"

        # the second sale is voided with the manager's PIN and a reason
        await open_history_on(pilot, "1-000002")
        await pilot.press("v")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press(*"scanned twice", "enter")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "void").exists())
        await printed_all(pilot, app)
        assert "作废 VOID" in shop.paper()[-1] and "scanned twice" in shop.paper()[-1]

    listed = json.loads(back_office(shop, capsys, monkeypatch, "sales", "list", "--json"))
    assert [(s["receipt"], s["kind"], s["original"]) for s in listed] == [
        ("1-000001", "sale", None), ("1-000002", "sale", None), ("1-000003", "refund", "1-000001"),
        ("1-000004", "void", "1-000002")]
    assert listed[0]["refunded"] and listed[1]["voided"]
    table = back_office(shop, capsys, monkeypatch, "sales", "list")
    assert "sale, refunded" in table and "void" in table and "-3.00" in table
    last = table.splitlines()[-1]  # refunds and voids are not added as sales
    assert "2 sales" in last and "total 11.00" in last and "gave back 5.00" in last and last.endswith("net 6.00")
    assert "journal ok" in back_office(shop, capsys, monkeypatch, "journal", "verify")


async def test_the_refund_dialog_never_takes_more_than_is_left(shop_with):
    from store.models import Sale

    shop = shop_with(refund_manager_pin=False)
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sell_cash(pilot, "3*" + COLA)
        await open_history_on(pilot, "1-000001")
        await pilot.press("t")
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        await pilot.press("f12")  # nothing chosen yet
        assert "请至少给一件商品填上退货数量" in text_of(app.screen.query_one("#refund-message"))
        await pilot.press("2", "enter", "f12")  # no PIN asked: the setting is off
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").exists())
        await printed_all(pilot, app)

        await pilot.press("t")  # again: one bottle is left
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        assert [str(cell) for cell in app.screen.table.get_row_at(0)][1:] == ["3瓶", "2瓶", "1瓶", "0"]
        await pilot.press("2", "enter")
        said = text_of(app.screen.query_one("#refund-message"))
        assert "最多只能再退 1" in said and "可口可乐" in said
        assert app.screen.qty == {}  # nothing taken
        await pilot.press("f3")  # all cash: shown, still nothing to refund
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_is(app, "HistoryScreen"))
        assert "没有退货" in message(app)
        assert Sale.select().where(Sale.kind == "refund").count() == 1


async def test_the_refund_dialog_takes_a_piece_back_whole_and_a_weighed_item_in_fractions(shop_with):
    from store.models import Line, Sale

    shop = shop_with(refund_manager_pin=False)
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sell_cash(pilot, "2*" + COLA, "1.5*" + APPLE)
        await open_history_on(pilot, "1-000001")
        await pilot.press("t")
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        await pilot.press("0", ".", "5", "enter")  # half a bottle of cola
        said = text_of(app.screen.query_one("#refund-message"))
        assert "可口可乐" in said and "按件卖" in said and "0.5" in said
        assert app.screen.qty == {}  # nothing taken
        await pilot.press("backspace", "backspace", "backspace", "down", "0", ".", "5", "enter")  # half a 斤 of apples
        assert text_of(app.screen.query_one("#refund-message")) == ""
        await pilot.press("f12")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").exists())
        refund = Sale.get(Sale.kind == "refund")
        assert [(line.name, line.qty_milli) for line in Line.select().where(Line.sale == refund.id)] == [
            ("苹果 Apple", 500)]


async def test_a_refund_asks_the_managers_pin_when_the_setting_says_so(shop_with, manager):
    from store.models import Event, Sale

    shop = shop_with(refund_manager_pin=True)
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await sell_cash(pilot, COLA)
        await open_history_on(pilot, "1-000001")
        await pilot.press("t")
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        await pilot.press("1", "enter", "f12")
        await pin(pilot, "1111")  # the cashier's PIN with the manager's code: wrong
        await wait_until(pilot, lambda: "密码不对" in text_of(app.screen.query_one("#pin-message")))
        assert screen_is(app, "PinScreen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen_is(app, "HistoryScreen"))
        assert "没有退货" in message(app)
        await settled(pilot)
        assert not Sale.select().where(Sale.kind == "refund").exists()
        assert Event.select().where(Event.kind == "pin_refused").count() == 1


async def test_refunds_and_voids_are_refused_for_corrections_and_voided_sales(shop_with, manager):
    from store.models import Sale

    shop = shop_with(refund_manager_pin=False)
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await sell_cash(pilot, COLA)
        await open_history_on(pilot, "1-000001")
        await pilot.press("v")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press("enter")  # a void needs a reason
        assert "请写上原因" in text_of(app.screen.query_one("#ask-message"))
        await pilot.press(*"wrong item", "enter")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "void").exists())
        await printed_all(pilot, app)
        assert shop.demo.printer.drawer_kicks == 2  # the cash went back
        await settled(pilot)
        rows = {row["receipt"]: row for row in app.screen.rows}
        assert rows["1-000001"]["voided"]
        assert "已作废" in str(app.screen.table.get_row_at(1)[3]) and "作废" in str(app.screen.table.get_row_at(0)[3])
        assert str(app.screen.table.get_row_at(0)[2]) == "-3.00"  # the void gave the 3.00 back

        for key in ("t", "v"):  # the voided sale: one sentence, nothing asked
            await open_history_on(pilot, "1-000001")
            app.screen.say("")
            await pilot.press(key)
            await wait_until(pilot, lambda: "1-000001 已经作废" in message(app))
        await open_history_on(pilot, "1-000002")  # the void itself
        await pilot.press("t")
        await wait_until(pilot, lambda: "不是销售单" in message(app))
        assert "1-000002" in message(app) and "作废" in message(app)
        assert screen_is(app, "HistoryScreen") and Sale.select().count() == 2


async def test_after_a_void_the_success_panel_no_longer_says_the_sale_printed(shop_with, manager):
    """Sold, printed, F9, V on it: back on the sale screen its success panel says the sale is voided."""
    from store.models import Sale

    shop = shop_with()
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        sale = await sell_cash(pilot, COLA)
        status = app.sale_screen.query_one("#done-status")
        assert text_of(status) == "已打印" and app.sale_screen.last_sale_id == sale.id
        await open_history_on(pilot, "1-000001")
        await pilot.press("v")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press(*"wrong item", "enter")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "void").exists())
        await printed_all(pilot, app)  # the void's own receipt printed: it does not speak for the sale
        await pilot.press("escape")  # the history closes
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        assert text_of(status) == "已作废"
        assert "1-000001" in text_of(app.sale_screen.query_one("#done-number"))


def test_the_history_detail_gives_a_refund_or_void_total_with_a_minus():
    from tui.screens.history import detail_text, shown_total

    sale = dict(receipt="1-000001", kind="sale", total="3.00", sold_at="", lines=[], payments=[], outcome="printed",
                print_attempts=[])
    void = dict(sale, receipt="1-000002", kind="void", original="1-000001")
    assert (shown_total(sale), shown_total(void)) == ("3.00", "-3.00")
    assert "合计 ￥3.00" in detail_text(sale).plain and "合计 -￥3.00" in detail_text(void).plain


async def test_a_void_is_refused_for_a_sale_of_another_day(shop_with, manager, monkeypatch):
    from store import sales
    from store.models import Sale

    shop = shop_with()
    manager()
    yesterday = datetime.datetime.now().replace(microsecond=0) - datetime.timedelta(days=1)
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        monkeypatch.setattr(sales, "now", lambda: yesterday)  # the sale is stored as made yesterday
        await sell_cash(pilot, COLA)
        monkeypatch.undo()
        assert last_sale().sold_at.date() == yesterday.date()
        await open_history_on(pilot, "1-000001")
        await pilot.press("v")
        await wait_until(pilot, lambda: "不是今天的" in message(app))
        assert "1-000001" in message(app) and "退货" in message(app)
        assert screen_is(app, "HistoryScreen")  # no PIN asked
        assert Sale.select().count() == 1


# ---------------------------------------------------------------- the drawer, and 无单退货


async def test_no_sale_opens_the_drawer_with_a_reason_and_logs_who(shop_with, manager):
    from store.models import Event

    shop = shop_with(no_sale_manager_pin=True)
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press(*"change for 100", "enter")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: shop.demo.printer.drawer_kicks == 1)
        await wait_until(pilot, lambda: Event.select().where(Event.kind == "drawer_open").exists())
        await settled(pilot)
        opened = Event.get(Event.kind == "drawer_open")
        assert "change for 100" in opened.detail and opened.cashier == "C1" and opened.sale_id is None
        logged = Event.get(Event.kind == "no_sale")
        assert "change for 100" in logged.detail and "M1" in logged.detail and logged.cashier == "C1"
        assert not shop.paper()  # no receipt


async def test_no_sale_is_refused_while_payment_is_taken(shop_with):
    shop = shop_with()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"1", "enter")  # 1.00 of 3.00 taken in cash
        await wait_until(pilot, lambda: app.sale_screen.tender is not None and app.sale_screen.tender.paid_fen)
        await pilot.press("escape", "ctrl+o")
        await pilot.pause()
        assert not screen_is(app, "ReasonScreen")
        assert "正在付款" in text_of(app.sale_screen.query_one("#message"))
        assert shop.demo.printer.drawer_kicks == 0


def test_the_demo_allows_the_refund_without_a_receipt_that_f1_lists(tmp_path):
    """F1 lists Ctrl+T (无单退货); the demo turns it on, as it does 抹零; a shop's own settings file decides."""
    from tui.demo import demo_settings
    from tui.settings import load_settings

    assert not load_settings(None).selling.refund_without_receipt  # off by default in a shop
    demo = demo_settings(load_settings(None), tmp_path)
    assert demo.selling.refund_without_receipt and demo.selling.rounding == "jiao"
    own = tmp_path / "chaoying.toml"
    own.write_text("[selling]\nrefund_without_receipt = false\n", encoding="utf-8")
    assert not demo_settings(load_settings(own), tmp_path).selling.refund_without_receipt


async def test_refund_without_receipt_is_refused_when_off(shop_with):
    shop = shop_with()
    shop.settings = dataclasses.replace(shop.settings, selling=SellingSettings(refund_without_receipt=False))
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "没有开启无单退货" in text_of(app.sale_screen.query_one("#message"))
        assert not screen_is(app, "PinScreen")


async def test_refund_without_receipt_when_allowed_needs_a_manager(shop_with, manager):
    from store.models import OpenBasket, Sale

    shop = shop_with(refund_without_receipt=True)
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("ctrl+t")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press(*"lost receipt", "enter")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").exists())
        await printed_all(pilot, app)
        refund = Sale.get(Sale.kind == "refund")
        assert (refund.original_id, refund.total_fen, refund.manager, refund.reason) == (None, 300, "M1",
                                                                                         "lost receipt")
        assert "退货 REFUND" in shop.paper()[-1] and "无原小票" in shop.paper()[-1]
        assert app.sale_screen.basket.is_empty
        assert not OpenBasket.select().where(OpenBasket.state == "open").exists()


def test_every_refusal_of_a_refund_or_void_is_said_in_both_languages():
    import re
    from pathlib import Path

    from store import documents
    from tui.errors import describe
    from tui.i18n import CATALOGUES, language, set_language

    source = Path(documents.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'DocumentError\([^"]*"[^"]*"[^"]*,\s*"([a-z_]+)"', source, re.S))
    assert {"refund_too_much", "void_other_day", "voided", "not_a_sale"} <= codes  # the scan finds them
    for name, catalogue in CATALOGUES.items():
        assert sorted(code for code in codes if "error." + code not in catalogue) == [], name
    before = language()
    try:
        set_language("en")
        said = describe(documents.DocumentError("x", "refund_too_much", name="Cola", qty="1"))
        assert said == "Only 1 of Cola can still be refunded"
    finally:
        set_language(before)


# ---------------------------------------------------------------- the list never goes stale


async def test_the_history_list_follows_a_refunds_print_and_its_banner_choice_and_never_cuts_a_word(
        tmp_path, monkeypatch):
    """QA: refund 1-000004 stayed "refund pending" after it printed; "refunded printed" was cut at 80 columns."""
    from store.models import Sale

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language="en", selling=SellingSettings(refund_manager_pin=False))
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await sell_cash(pilot, "3*" + COLA)
            await open_history_on(pilot, "1-000001")

            def cell(number: str):
                index = [row["receipt"] for row in app.screen.rows].index(number)
                return app.screen.table.get_row_at(index)[3]

            held = []  # the refund's receipt waits until the list has shown it pending
            print_sale = app.till.print_sale
            monkeypatch.setattr(app.till, "print_sale", lambda *args, **kwargs: held.append((args, kwargs)))
            await pilot.press("t")
            await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
            await pilot.press("1", "enter", "f12")
            await wait_until(pilot, lambda: held and screen_is(app, "HistoryScreen")
                             and "1-000002" in [row["receipt"] for row in app.screen.rows])
            assert str(cell("1-000002")) == "refund pending"
            monkeypatch.setattr(app.till, "print_sale", print_sale)
            for args, kwargs in held:
                print_sale(*args, **kwargs)
            await printed_all(pilot, app)
            await settled(pilot)
            assert str(cell("1-000002")) == "refund printed"  # the print answer refreshed the row
            assert str(cell("1-000001")) == "refunded\nprinted"  # two lines rather than "refunded prin…"

            shop.demo.set_fault("paper_out")  # the next refund's receipt fails: the banner covers the history
            await pilot.press("t")
            await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
            await pilot.press("1", "enter", "f12")
            await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").count() == 2)
            await wait_until(pilot, lambda: screen_is(app, "BannerScreen"))
            await pilot.press("h")
            await wait_until(pilot, lambda: screen_is(app, "HandwrittenView"))
            await pilot.press("escape")
            await wait_until(pilot, lambda: screen_is(app, "HistoryScreen"))
            await settled(pilot)
            assert str(cell("1-000003")) == "refund\nhandwritten"  # the banner's choice refreshed the row
    finally:
        close_shop(shop)


async def test_offline_refund_of_this_tills_own_receipt_says_other_tills_refunds_may_not_be_known(
        tmp_path, monkeypatch):
    """A server named but not answering: T on this till's receipt opens the refund with the sentence that other
    tills' refunds of it may not be known yet; F12 refunds it all the same, and the sentence is said again."""
    from store.models import Sale
    from tui.settings import ServerSettings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shop = make_shop(tmp_path / "shop", language="en", selling=SellingSettings(refund_manager_pin=False),
                     server=ServerSettings(url="postgresql://nobody@127.0.0.1:1/none"))
    sentence = "other tills' refunds of this receipt may not be known yet"
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await sell_cash(pilot, COLA)
            await open_history_on(pilot, "1-000001")
            await pilot.press("t")
            await wait_until(pilot, lambda: screen_is(app, "RefundScreen")
                             and sentence in text_of(app.screen.query_one("#refund-message")))
            await pilot.press("1", "enter", "f12")
            await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").count() == 1)
            await wait_until(pilot, lambda: any(sentence in str(n.message) for n in app._notifications))
    finally:
        close_shop(shop)
