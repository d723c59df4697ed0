"""Pilot stories for the day after: history (F9), reprints (补打), the event log (F10), printer health.

The till runs on a real SQLite file and the virtual printer on a real pty.
"""
from __future__ import annotations

import datetime

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import (
    APPLE,
    COLA,
    WATER,
    last_sale,
    manager_pin,
    outcome,
    printed_all,
    scan,
    screen_text,
    settled,
    text_of,
    wait_until,
)
from tui.settings import ReprintSettings

YESTERDAY_AT = (datetime.datetime.now() - datetime.timedelta(days=1)).replace(hour=9, minute=15, second=0,
                                                                               microsecond=0)


@pytest.fixture
def shop_with(tmp_path, monkeypatch):
    """A shop with changed settings: shop_with(reprint=ReprintSettings(...))."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    made = []

    def make(**changes):
        made.append(make_shop(tmp_path / "shop", **changes))
        return made[-1]

    yield make
    for shop in made:
        close_shop(shop)


def history_up(app) -> bool:
    from tui.screens.history import HistoryScreen

    return isinstance(app.screen, HistoryScreen)


async def sell_cash(pilot, *codes: str) -> None:
    for code in codes:
        await scan(pilot, code)
    await pilot.press("f12", "enter")
    await printed_all(pilot, pilot.app)


def move_sale_to_yesterday(sale_id: int) -> None:
    from store.models import Sale

    Sale.update(sold_at=YESTERDAY_AT).where(Sale.id == sale_id).execute()


async def yesterdays_cola_and_todays_water(pilot):
    """Two sales: 可口可乐 3.00 (moved to yesterday 09:15) and 2 x 农夫山泉 4.00 (today)."""
    await sell_cash(pilot, COLA)
    cola = last_sale()
    move_sale_to_yesterday(cola.id)
    await sell_cash(pilot, "2*" + WATER)
    return cola, last_sale()


def history_rows(app):
    return [row["receipt"] for row in app.screen.rows]


async def reprint_and_wait(pilot, app) -> None:
    await pilot.press("r")
    await printed_all(pilot, app)
    await pilot.pause()


# ---------------------------------------------------------------- find and reprint


async def test_find_yesterdays_receipt_by_amount_and_reprint_it_with_the_mark(shop):
    from store.models import Event, PrintAttempt

    app = shop.app(cashier="007")
    async with app.run_test(size=(80, 24)) as pilot:
        cola, water = await yesterdays_cola_and_todays_water(pilot)
        await pilot.press("f9")
        assert history_up(app)
        assert history_rows(app) == ["1-000002", "1-000001"]  # newest first
        await pilot.press(*"3.00")  # F9 opens in the search box
        assert app.screen.search.value == "3.00"
        assert history_rows(app) == ["1-000001"]
        detail = text_of(app.screen.query_one("#history-detail"))
        assert "可口可乐" in detail and YESTERDAY_AT.strftime("%Y-%m-%d %H:%M:%S") in detail
        await pilot.press("enter")  # back to the list
        paper_before = len(shop.paper())
        await reprint_and_wait(pilot, app)

        paper = shop.paper()
        assert len(paper) == paper_before + 1
        reprint = paper[-1]
        assert "补打 REPRINT 1" in reprint and "1-000001" in reprint and "可口可乐" in reprint
        assert "原单时间" in reprint and YESTERDAY_AT.strftime("%Y-%m-%d %H:%M:%S") in reprint
        today = datetime.date.today().isoformat()
        assert any(line.startswith("补打时间") and today in line for line in reprint.splitlines())

        attempt = PrintAttempt.select().where(PrintAttempt.sale == cola.id).order_by(PrintAttempt.id.desc()).first()
        assert (attempt.reprint_no, attempt.result, attempt.cashier, attempt.printer) == (1, "printed", "007", "main")
        event = Event.get((Event.kind == "reprint") & (Event.sale == cola.id))
        assert (event.cashier, event.printer, event.detail) == ("007", "main", "reprint 1")
        assert event.at.date() == datetime.date.today()
        assert outcome(cola.id).state == "printed"
        assert "补打1次" in text_of(app.screen.query_one("#history-detail"))

        await pilot.press("f10")  # the reprint is in the event log
        from tui.screens.events import EventsScreen

        assert isinstance(app.screen, EventsScreen)
        await wait_until(pilot, lambda: any(row["kind"] == "reprint" for row in app.screen.rows))  # read off the UI thread
        rows = app.screen.rows
        reprints = [row for row in rows if row["kind"] == "reprint"]
        assert reprints and reprints[0]["receipt"] == "1-000001" and reprints[0]["cashier"] == "007"
        assert rows[0]["at"] >= reprints[0]["at"]  # newest first
        from textual.widgets import DataTable

        table = app.screen.query_one("#events-table", DataTable)
        cells = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "补打" in cells
        details = [str(table.get_row_at(i)[4]) for i in range(table.row_count)]
        assert "补打1" in details and "正在打印 -> 已打印" in details  # shown in Chinese by their parts
        assert not [d for d in details if "print" in d], details
        assert event.detail == "reprint 1"  # stored as written


async def test_search_by_receipt_number_date_and_product(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await yesterdays_cola_and_todays_water(pilot)
        await pilot.press("f9")
        for text, expected in (
            ("2", ["1-000002"]),
            ("1-000001", ["1-000001"]),
            (YESTERDAY_AT.date().isoformat(), ["1-000001"]),
            (datetime.date.today().isoformat(), ["1-000002"]),
            ("4.00", ["1-000002"]),
            ("农夫", ["1-000002"]),
            ("cola", ["1-000001"]),
            ("9.99", []),
        ):
            app.screen.search.value = text
            await settled(pilot)  # the search runs on a worker: one pause is not enough on a busy machine
            assert history_rows(app) == expected, text
        assert "9.99" in text_of(app.screen.query_one("#history-message"))
        await pilot.press("/", "escape")  # Esc in the box clears it, Esc again closes
        assert history_rows(app) == ["1-000002", "1-000001"]
        await pilot.press("escape")
        assert not history_up(app)


async def test_letters_typed_in_the_search_only_search_never_reprint_refund_or_void(shop):
    """QA: F9 then "rice" reprinted the receipt (R), "t" opened a refund, "v" a void; BSpace died after Enter."""
    from store.models import PrintAttempt

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        attempts_before = PrintAttempt.select().count()
        await pilot.press("f9")
        await settled(pilot)
        for word in ("rice", "tvr", "quest"):
            await pilot.press(*word)
            await settled(pilot)
            assert history_up(app) and app.screen.search.value == word  # no refund, void or PIN dialog
            assert app.screen.search.has_focus
            await pilot.press(*["backspace"] * len(word))
        assert not app.in_flight and PrintAttempt.select().count() == attempts_before  # nothing reprinted
        assert len(shop.paper()) == 1

        await pilot.press(*"tv", "enter")  # Enter: to the list ...
        assert app.screen.table.has_focus
        await pilot.press("backspace", "a")  # ... BSpace goes back to the box and keeps editing
        assert app.screen.search.has_focus and app.screen.search.value == "ta"
        await pilot.press("escape")  # clears the box and stays in it
        assert app.screen.search.has_focus and app.screen.search.value == ""
        await settled(pilot)
        await pilot.press("down", "r")  # on the list, R is the reprint
        await printed_all(pilot, app)
        assert len(shop.paper()) == 2 and "补打 REPRINT 1" in shop.paper()[-1]


async def test_q_shows_the_receipt_as_a_qr_code_again(shop):
    from store.models import Event
    from tui.screens.history import QrAgainView

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await pilot.press("f9", "enter", "q")  # Enter: from the search box to the list
        assert isinstance(app.screen, QrAgainView)
        assert "再次显示" in screen_text(app) and "1-000001" in screen_text(app)
        await settled(pilot)  # the event is written off the UI thread
        assert Event.select().where(Event.kind == "qr_shown").count() == 1
        assert outcome(last_sale().id).state == "printed"  # showing it again changes no outcome
        await pilot.press("escape")
        assert history_up(app)


async def test_a_handwritten_receipt_gets_its_official_print_from_the_history(shop):
    from tui.screens.banner import BannerScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, "1*" + APPLE)  # a 斤 of apples (a weighed PLU alone asks its weight)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        await pilot.press("h")
        await pilot.press("escape")  # close the copy view
        sale = last_sale()
        assert outcome(sale.id).state == "handwritten"
        shop.demo.set_fault("ok")
        await pilot.press("f9", "enter")
        assert "手写小票" in str(app.screen.query_one("#history-table").get_row_at(0)[3])
        await reprint_and_wait(pilot, app)
        assert outcome(sale.id).state == "printed"
        assert "补打 REPRINT 1" in shop.paper()[-1] and "苹果" in shop.paper()[-1]


async def test_an_unresolved_receipt_is_not_reprinted_from_the_history(shop):
    from tui.screens.history import HistoryScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await pilot.press("f9")  # opens over the banner
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("enter", "r")
        assert "还没有结果" in text_of(app.screen.query_one("#history-message"))
        assert not app.in_flight
        await pilot.press("escape")
        from tui.screens.banner import BannerScreen

        assert isinstance(app.screen, BannerScreen)


# ---------------------------------------------------------------- cap and manager PIN


async def test_reprint_cap_reached_says_so_and_prints_nothing(shop_with):
    from store.models import Event, PrintAttempt

    shop = shop_with(reprint=ReprintSettings(manager_pin=False, max=1))
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await pilot.press("f9", "enter")
        await reprint_and_wait(pilot, app)
        assert len(shop.paper()) == 2
        bells = []
        app.bell = lambda: bells.append(1)
        await pilot.press("r")
        await settled(pilot, printer=True)  # the check's answer, its event write and any print it started
        assert not app.in_flight
        assert len(shop.paper()) == 2  # nothing printed
        message = text_of(app.screen.query_one("#history-message"))
        assert "达到上限" in message and "1-000001" in message and "1" in message
        assert bells
        assert PrintAttempt.select().where(PrintAttempt.reprint_no > 0).count() == 1
        assert Event.select().where(Event.kind == "reprint_refused").count() == 1


async def test_manager_pin_wrong_pin_refused_right_pin_prints(shop_with):
    from textual.widgets import Input

    from store.cashiers import add_cashier
    from store.models import Event, PrintAttempt
    from tui.screens.pin import PinScreen

    shop = shop_with(reprint=ReprintSettings(manager_pin=True, max=0))
    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")  # a cashier's PIN is not a manager's
    app = shop.app(cashier="C1")
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await pilot.press("f9", "enter", "r")
        assert isinstance(app.screen, PinScreen)
        pin_input = app.screen.query_one("#pin-input", Input)
        assert pin_input.password  # the PIN is masked
        await manager_pin(pilot, "M1", "1111")  # the cashier's PIN with the manager's code
        await wait_until(pilot, lambda: "密码不对" in text_of(app.screen.query_one("#pin-message")))  # PBKDF2: slow
        assert isinstance(app.screen, PinScreen)
        assert len(shop.paper()) == 1 and not app.in_flight
        await settled(pilot)  # the event is written off the UI thread
        assert Event.select().where(Event.kind == "pin_refused").count() == 1
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: not isinstance(app.screen, PinScreen))
        await printed_all(pilot, app)
        assert len(shop.paper()) == 2 and "补打 REPRINT 1" in shop.paper()[-1]
        attempt = PrintAttempt.get(PrintAttempt.reprint_no == 1)
        assert attempt.cashier == "C1" and attempt.result == "printed"
        approved = Event.get(Event.kind == "reprint_approved")
        assert "M1" in approved.detail and approved.cashier == "C1"


async def test_esc_on_the_pin_prompt_prints_nothing(shop_with):
    shop = shop_with(reprint=ReprintSettings(manager_pin=True, max=0))
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await pilot.press("f9", "enter", "r", "escape")
        assert history_up(app)
        assert "没有补打" in text_of(app.screen.query_one("#history-message"))
        await settled(pilot, printer=True)  # a reprint sent anyway would have been cut by now
        assert len(shop.paper()) == 1 and not app.in_flight


# ---------------------------------------------------------------- printer health and the drawer


@pytest.fixture
def quick_polls(monkeypatch):
    from tui.services import till

    monkeypatch.setattr(till, "STATUS_POLL_SECONDS", 0.2)


@pytest.mark.parametrize("fault, words, css", [
    ("near_end", "纸快用完", "-warning"),
    ("paper_out", "缺纸", "-error"),
    ("silent", "没有响应", "-error"),
    ("cover_open", "盖未合上", "-error"),
    ("no_confirm", "打印未确认", "-error"),  # answers DLE EOT, never confirms: seen with no sale failing first
])
async def test_status_strip_shows_the_printer_state_without_blocking(shop, quick_polls, fault, words, css):
    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        strip = app.screen.query_one("#printer-strip")
        await wait_until(pilot, lambda: app.printer_state == "ready")
        assert "打印机正常" in text_of(strip) and strip.has_class("-ok")
        shop.demo.set_fault(fault)
        await wait_until(pilot, lambda: app.printer_state not in ("", "ready"))
        await pilot.pause()
        assert words in text_of(strip) and strip.has_class(css)
        await scan(pilot, COLA)  # typing is not held up by the polls
        assert len(app.screen.basket.lines) == 1
        assert Event.select().where((Event.kind == "printer_status") & Event.detail.contains("ready ->")).count() == 1
        shop.demo.set_fault("ok")
        await wait_until(pilot, lambda: app.printer_state == "ready")
        assert strip.has_class("-ok") and not strip.has_class(css)


async def test_drawer_opens_when_a_cash_sales_receipt_does_not_print(shop):
    from store.models import Event
    from tui.screens.banner import BannerScreen

    app = shop.app(cashier="007")
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        assert shop.demo.printer.wait_for(lambda p: p.drawer_kicks == 1, 5)
        await wait_until(pilot, lambda: Event.select().where(Event.kind == "drawer_open").count() == 1)
        event = Event.get(Event.kind == "drawer_open")
        assert event.sale_id == last_sale().id and event.cashier == "007" and "separate kick" in event.detail
        assert not shop.paper()


async def test_a_drawer_that_does_not_open_either_is_said_in_one_sentence(shop):
    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("silent")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: Event.select().where(Event.kind == "drawer_failed").count() == 1)
        await wait_until(pilot, lambda: any("钱箱没有打开" in n.message for n in app._notifications))
        assert shop.demo.printer.drawer_kicks == 0


async def test_no_extra_drawer_kick_when_the_receipt_printed(shop):
    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await settled(pilot, printer=True)  # a separate kick follows the receipt's answer, and is not confirmed
        assert shop.demo.printer.drawer_kicks == 1
        assert Event.select().where(Event.kind == "drawer_open").count() == 1


# ---------------------------------------------------------------- English


async def test_history_and_event_log_in_english(shop_en):
    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await pilot.press("f9", "enter")
        await reprint_and_wait(pilot, app)
        text = screen_text(app)
        assert "Receipts" in text and "reprinted 1x" in text and "Print attempts" in text
        await pilot.press("f10")
        assert "Event log" in screen_text(app)


def test_the_history_says_when_the_paper_is_the_cashiers_word_not_the_printers(shop):
    """failed -> P on the banner: the detail pane marks that attempt as the cashier's word."""
    from store import print_attempts, queries
    from store.models import Product
    from store.sales import Basket, Tender, commit_sale
    from tui.screens.history import detail_text

    basket = Basket()
    basket.add(Product.get(Product.barcode == APPLE))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    sale = commit_sale(basket, tender, shop.settings.till.id)
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, False, "paper_out", "打印机缺纸")
    assert "收银员确认" not in detail_text(queries.sale_detail(sale.id)).plain
    print_attempts.confirm_printed(sale.id, cashier="c1")
    shown = detail_text(queries.sale_detail(sale.id)).plain
    assert shown.count("收银员确认") == 1
