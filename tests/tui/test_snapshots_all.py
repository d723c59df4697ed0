"""Every screen of the till at 80x24, in Chinese and in English (pytest-textual-snapshot).

Update after an intended change with:
    pytest tests/tui/test_snapshots_all.py --snapshot-update
Screens that would show the time of day (the handwritten copy, the QR, the
paper) are opened on a fixed receipt, so the pictures do not change by the minute.
"""
from __future__ import annotations

from datetime import datetime

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import APPLE, BUN, COLA, WATER, printed_all, scan, wait_until
from tests.tui.language import assert_one_language

SIZE = (80, 24)


@pytest.fixture
def snap_compare(snap_compare):
    """Every picture is also checked for words of the other language (after run_before)."""
    def compare(app, run_before=None, **kwargs):
        async def checked(pilot):
            if run_before is not None:
                await run_before(pilot)
            await ready(pilot)
            steady_cursors(pilot.app)
            await pilot.pause()
            assert_one_language(pilot.app, pilot.app.language)

        return snap_compare(app, run_before=checked, **kwargs)

    return compare


def steady_cursors(app) -> None:
    """Input cursors blink every half second: a picture must not depend on when it was taken."""
    from textual.widgets import Input

    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


@pytest.fixture(params=["zh", "en"])
def shop_lang(request, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shop = make_shop(tmp_path / "shop", language=request.param)
    try:
        yield shop
    finally:
        close_shop(shop)


async def ready(pilot) -> None:
    """The printer strip has had the virtual printer's first answer (else it still says 'checking')."""
    await wait_until(pilot, lambda: getattr(pilot.app, "printer_state", "x"))


async def settle(pilot) -> None:
    """Let class changes made by the last message be styled and drawn."""
    for _ in range(3):
        await pilot.pause(0.05)


async def fill_basket(pilot) -> None:
    await ready(pilot)
    await scan(pilot, COLA)
    await scan(pilot, "3*" + APPLE)
    await scan(pilot, "2*" + BUN)
    await scan(pilot, WATER)
    await pilot.press("up")


async def paper_out_banner(pilot, shop) -> None:
    from tui.screens.banner import BannerScreen

    await ready(pilot)
    shop.demo.set_fault("paper_out")
    await fill_basket(pilot)
    await pilot.press("f12", "enter")
    await printed_all(pilot, pilot.app)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BannerScreen))
    # the strip behind the banner: the worker asks the printer again just after the job
    await wait_until(pilot, lambda: getattr(pilot.app, "printer_state", "paper_out") == "paper_out")
    await settle(pilot)


def pressing(*keys):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press(*keys)
        await settle(pilot)
    return run_before


def fixed_receipt(language: str):
    """A receipt with a fixed time, for the views that show one."""
    from printing.receipt import Receipt, ReceiptLine, ReceiptPayment

    lines = (ReceiptLine("可口可乐 Coca-Cola 330ml", 2000, 300, 600, "瓶"),
             ReceiptLine("苹果 Apple", 1500, 890, 1335, "斤"))
    return Receipt(shop_name="超赢小店", receipt_no="1-000042", till_id="1", cashier="", language=language,
                   sold_at=datetime(2026, 1, 2, 3, 4), lines=lines, total_fen=1935,
                   payments=(ReceiptPayment("cash", 2000),), change_fen=65)


def test_sale(shop_lang, snap_compare):
    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=fill_basket)


def test_tender(shop_lang, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", "f3", *"10", "tab", *"6222", "enter")

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_success(shop_lang, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", *"100", "enter")
        await printed_all(pilot, pilot.app)
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_banner(shop_lang, snap_compare):
    async def run_before(pilot):
        await paper_out_banner(pilot, shop_lang)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_decline_confirm(shop_lang, snap_compare):
    from tui.screens.confirm import ConfirmScreen

    async def run_before(pilot):
        await paper_out_banner(pilot, shop_lang)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_handwritten(shop_lang, snap_compare):
    from printing.layout import layout
    from tui.screens.receipt_views import HandwrittenView

    async def run_before(pilot):
        await ready(pilot)
        receipt = fixed_receipt(shop_lang.settings.receipt.language)
        await pilot.app.push_screen(HandwrittenView("1-000042", layout(receipt, 48)))
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_qr(shop_lang, snap_compare):
    from tui.screens.receipt_views import QrView

    async def run_before(pilot):
        await ready(pilot)
        await pilot.app.push_screen(QrView("1-000042", fixed_receipt(shop_lang.settings.receipt.language)))
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_help_on_the_sale_screen(shop_lang, snap_compare):
    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=pressing("f1"))


def test_help_on_the_banner(shop_lang, snap_compare):
    async def run_before(pilot):
        await paper_out_banner(pilot, shop_lang)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_fault_menu(shop_lang, snap_compare):
    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=pressing("f8"))


def test_paper_viewer(shop_lang, snap_compare, tmp_path):
    from printing.layout import layout
    from tui.screens.demo_views import PaperView

    paper = tmp_path / "paper"
    paper.mkdir()
    receipt = fixed_receipt(shop_lang.settings.receipt.language)
    (paper / "0001.txt").write_text("\n".join(layout(receipt, 48)) + "\n", encoding="utf-8")

    async def run_before(pilot):
        await ready(pilot)
        await pilot.app.push_screen(PaperView(paper))
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_search_popup(shop_lang, snap_compare):
    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f2", *"kele")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_unknown_code_message(shop_lang, snap_compare):
    async def run_before(pilot):
        await ready(pilot)
        await scan(pilot, COLA)
        await scan(pilot, "6901234567893")  # a wrong check digit: the store's sentence, translated

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def freeze_times() -> None:
    """Every stored time becomes one fixed moment: the history and the event log show times."""
    from store.models import Event, PrintAttempt, ReceiptOutcome, Sale

    moment = datetime(2026, 1, 2, 3, 4, 5)
    Sale.update(sold_at=moment).execute()
    PrintAttempt.update(started_at=moment, finished_at=moment).execute()
    ReceiptOutcome.update(updated_at=moment).execute()
    Event.update(at=moment).execute()


def test_history(shop_lang, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", *"100", "enter")
        await printed_all(pilot, pilot.app)
        freeze_times()
        await pilot.press("f9")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_event_log(shop_lang, snap_compare):
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f4")  # a voided line: one row in the event log
        await settle(pilot)
        freeze_times()
        await pilot.press("f10")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_held_baskets(shop_lang, snap_compare):
    """Ctrl+Y: two held baskets (one with a note), held at a fixed time."""
    from store.models import OpenBasket
    from tui.screens.ask import AskScreen
    from tui.screens.held import HeldScreen

    async def hold(pilot, note: str) -> None:
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AskScreen))
        await pilot.press(*note, "enter")
        await wait_until(pilot, lambda: not pilot.app.sale_screen.busy and pilot.app.screen is pilot.app.sale_screen)

    async def run_before(pilot):
        await fill_basket(pilot)
        await hold(pilot, "A12")
        await scan(pilot, BUN)
        await hold(pilot, "")
        moment = datetime(2026, 1, 2, 3, 4, 5)
        OpenBasket.update(opened_at=moment, updated_at=moment).execute()
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HeldScreen) and pilot.app.screen.loaded)
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_count_drawer(shop_lang, snap_compare):
    """F11 S: the float counted note by note, 2 x ¥100 and 3 x ¥1 typed, the cursor on 5角 with a refused row."""
    from tui.screens.count import CountScreen

    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f11", "s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CountScreen))
        await pilot.press("2", "enter", "enter", "enter", "enter", "enter", "3", "enter", "x", "enter")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


def test_signin(shop_lang, snap_compare):
    """A shop with cashiers starts on the sign-in; the picture shows a refused PIN (code kept, PIN gone)."""
    from store.cashiers import add_cashier
    from tui.screens.signin import SignInScreen

    add_cashier("C1", "小李", "1111")

    async def run_before(pilot):
        await ready(pilot)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen))
        await pilot.press("C", "1", "enter", "9", "9", "9", "9", "enter")
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)


# ---------------------------------------------------------------- the Linux console

def test_linux_console_sale(console_shop, snap_compare):
    assert snap_compare(console_shop.app(), terminal_size=SIZE, run_before=fill_basket)


def test_linux_console_banner(console_shop, snap_compare):
    async def run_before(pilot):
        await paper_out_banner(pilot, console_shop)

    assert snap_compare(console_shop.app(), terminal_size=SIZE, run_before=run_before)


def test_linux_console_count_drawer(console_shop, snap_compare):
    """F11 S on the console: 2 x ¥100 and 37 x ¥50 typed, the digits in one-line fields, ASCII borders."""
    from tui.screens.count import CountScreen

    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("f11", "s")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CountScreen))
        await pilot.press("2", "enter", "3", "7")
        await settle(pilot)

    assert snap_compare(console_shop.app(), terminal_size=SIZE, run_before=run_before)


def test_owners_view(shop_lang, snap_compare):
    """Ctrl+W in a shop without cashiers (no PIN), then D to the day the sales were moved to."""
    async def run_before(pilot):
        await fill_basket(pilot)
        await pilot.press("f12", *"100", "enter")
        await printed_all(pilot, pilot.app)
        freeze_times()
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "loaded", None) is not None)
        await pilot.press("d", *"2026-01-02", "enter")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "loaded", None) is not None
                         and "2026-01-02" in str(pilot.app.screen.query_one("#owner-title").render()))
        await settle(pilot)

    assert snap_compare(shop_lang.app(), terminal_size=SIZE, run_before=run_before)
