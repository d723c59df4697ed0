"""Pilot stories: the till on a real SQLite file and the virtual printer on a real pty."""
from __future__ import annotations

import pytest

from tests.tui.helpers import (
    APPLE,
    BUN,
    COLA,
    WATER,
    attempts,
    last_sale,
    outcome,
    printed_all,
    scan,
    screen_text,
    settled,
    text_of,
    wait_until,
)


def banner_up(app) -> bool:
    from tui.screens.banner import BannerScreen

    return isinstance(app.screen, BannerScreen)


async def sell_cash(pilot, *codes: str) -> None:
    for code in codes:
        await scan(pilot, code)
    await pilot.press("f12", "enter")


# ---------------------------------------------------------------- selling


async def test_cash_sale_scans_f12_enter_prints_the_receipt_and_opens_the_drawer(shop):
    from textual.widgets import DataTable, Digits

    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "3*" + APPLE)
        table = app.screen.query_one("#basket", DataTable)
        assert table.row_count == 2
        assert app.screen.query_one("#total", Digits).value == "29.70"
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        sale = last_sale()
        assert sale.total_fen == 2970 and sale.receipt_no == 1
        assert outcome(sale.id).state == "printed"
        assert "已打印" in text_of(app.screen.query_one("#done-status"))
        assert "1-000001" in text_of(app.screen.query_one("#done-number"))
        paper = shop.paper()
        assert len(paper) == 1
        assert "可口可乐" in paper[0] and "苹果" in paper[0] and "1-000001" in paper[0] and "29.70" in paper[0]
        assert shop.demo.printer.drawer_kicks == 1
        assert Event.select().where(Event.kind == "drawer_open").count() == 1
        # the next scan starts a new sale
        await scan(pilot, WATER)
        assert table.row_count == 1
        assert app.screen.query_one("#total", Digits).value == "2.00"


async def test_change_is_shown_large_after_overpaying_in_cash(shop):
    from textual.widgets import Digits

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"50", "enter")
        await printed_all(pilot, app)
        assert app.screen.query_one("#done-change", Digits).value == "47.00"
        assert last_sale().change_fen == 4700


async def test_unknown_code_beeps_and_leaves_the_basket_alone(shop):
    app = shop.app()
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "12345")
        assert len(app.screen.basket.lines) == 1
        assert "12345" in text_of(app.screen.query_one("#message"))
        assert bells == [1]
        assert app.screen.entry.value == ""


@pytest.mark.parametrize("language, words", [("zh", "已停售"), ("en", "No longer sold")])
async def test_a_deactivated_product_is_no_longer_sold_not_unknown(tmp_path, monkeypatch, language, words):
    """Water is taken off sale: its code says 已停售 / no longer sold, with its name, and sells nothing."""
    from store.catalogue import set_active
    from tests.tui.conftest import close_shop, make_shop

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language=language)
    try:
        assert set_active(WATER, False)
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, WATER)
            message = text_of(app.screen.query_one("#message"))
            assert words in message and "农夫山泉" in message and WATER in message, message
            assert "查无此码" not in message and "Unknown" not in message
            assert app.screen.basket.is_empty
    finally:
        close_shop(shop)


async def test_quantity_prefix_and_void_of_the_selected_line(shop):
    from textual.widgets import Digits

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "2*" + WATER)
        await scan(pilot, BUN)
        lines = app.screen.basket.lines
        assert [line.qty_milli for line in lines] == [1000, 2000, 1000]
        await pilot.press("up", "f4")  # select 农夫山泉, void it
        assert [line.name.split()[0] for line in app.screen.basket.lines] == ["可口可乐", "馒头"]
        assert app.screen.query_one("#total", Digits).value == "4.00"


async def test_esc_clears_the_entry(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"6901")
        assert app.screen.entry.value == "6901"
        await pilot.press("escape")
        assert app.screen.entry.value == ""
        assert app.screen.entry.has_focus


async def test_split_tender_card_then_wechat_until_covered(shop):
    from store.models import Payment

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "3*" + APPLE)  # 26.70
        await pilot.press("f12", "f3", *"10", "tab", *"1234", "enter")  # card 10.00, Tab to its reference
        assert last_sale() is None  # 16.70 still due
        await pilot.press("f4", "enter")  # WeChat, the rest, no reference
        await printed_all(pilot, app)
        sale = last_sale()
        payments = [(p.method, p.amount_fen, p.reference, p.status)
                    for p in Payment.select().where(Payment.sale == sale.id).order_by(Payment.position)]
        assert payments == [("card", 1000, "1234", "ok"), ("wechat", 1670, "", "ok")]
        assert sale.change_fen == 0
        assert outcome(sale.id).state == "printed"
        assert shop.demo.printer.drawer_kicks == 0  # no cash, no drawer


async def test_card_needs_a_reference(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f3", "enter", "enter")
        assert last_sale() is None
        assert "后四位" in text_of(app.screen.query_one("#tender-message"))


async def test_failed_payment_is_recorded_and_another_method_pays(shop):
    from store.models import Event, Payment

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f5", "tab", *"88", "f6")  # Alipay, the rest, reference 88: it fails
        assert "失败" in text_of(app.screen.query_one("#tender-message"))
        assert last_sale() is None
        await pilot.press("enter")  # cash, exact
        await printed_all(pilot, app)
        sale = last_sale()
        payments = [(p.method, p.amount_fen, p.reference, p.status)
                    for p in Payment.select().where(Payment.sale == sale.id).order_by(Payment.position)]
        assert payments == [("alipay", 300, "88", "failed"), ("cash", 300, "", "ok")]
        assert Event.select().where((Event.kind == "payment_failed") & (Event.sale == sale.id)).count() == 1
        assert Event.select().where(Event.kind == "payment_failed").count() == 1


async def test_a_failed_payment_of_an_unfinished_sale_is_still_logged(shop):
    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f4", "f6", "escape")
        await pilot.press("ctrl+q", "c")  # quit, cancelling the basket (no money taken)
        await wait_until(pilot, lambda: app.return_code is not None)
    events = list(Event.select().where(Event.kind == "payment_failed"))
    assert len(events) == 1 and "wechat 3.00" in events[0].detail and events[0].sale_id is None


async def test_esc_in_tender_keeps_payments_taken(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "3*" + APPLE)
        await pilot.press("f12", *"5", "enter", "escape")
        assert app.screen.tender.paid_fen == 500
        await scan(pilot, COLA)  # the basket is locked while money is taken
        assert len(app.screen.basket.lines) == 1
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 2670


async def test_typing_stays_responsive_while_the_printer_hangs(shop, monkeypatch):
    """A hung print holds the worker, never the entry: keys land and the basket fills meanwhile.

    The print is held at a gate until the test lets go, so "meanwhile" does not depend on the
    machine's speed; how fast the keys land then is a figure of tests/bench/bench_hang.py.
    """
    import threading

    import printing.printer

    gate = threading.Event()
    real_print = printing.printer.print_receipt

    def hung(*args, **kwargs):
        gate.wait(20)  # the test lets go sooner; the cap only ends a hang of the UI itself
        return real_print(*args, **kwargs)

    monkeypatch.setattr(printing.printer, "print_receipt", hung)
    app = shop.app()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            shop.demo.set_fault("no_confirm")  # let go, it prints and never confirms: the banner
            await sell_cash(pilot, COLA)
            sale_id = last_sale().id
            await wait_until(pilot, lambda: outcome(sale_id).state == "printing")
            await pilot.press(*WATER[:4])
            assert app.screen.entry.value == WATER[:4]
            await scan(pilot, WATER[4:])
            assert [line.barcode for line in app.screen.basket.lines] == [WATER]
            assert app.in_flight and outcome(sale_id).state == "printing"  # the print is still hung
            await pilot.press("f12")  # no new sale while the last receipt is unresolved
            assert "打印" in text_of(app.screen.query_one("#message"))
            gate.set()
            await wait_until(pilot, lambda: banner_up(app), timeout=30)
    finally:
        gate.set()


# ---------------------------------------------------------------- the banner


async def test_paper_out_banner_reprint_while_out_then_paper_back(shop):
    """paper out -> banner -> R while still out -> banner -> paper back -> R -> printed once."""
    from textual.widgets import Static

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        sale = last_sale()
        reason = app.screen.query_one("#banner-reason", Static)
        assert "缺纸" in text_of(reason)
        assert "1-000001" in text_of(app.screen.query_one("#banner-number"))
        assert "3.00" in text_of(app.screen.query_one("#banner-total"))
        await pilot.press("escape")
        assert banner_up(app)  # Esc does not close it
        await pilot.press("r")
        await printed_all(pilot, app)
        assert banner_up(app) and "缺纸" in text_of(app.screen.query_one("#banner-reason"))
        assert outcome(sale.id).state == "failed"
        shop.demo.set_fault("ok")
        await pilot.press("r")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: not banner_up(app))
        assert outcome(sale.id).state == "printed"
        assert attempts(sale.id) == ["failed", "failed", "printed"]
        paper = shop.paper()
        assert len(paper) == 1 and "1-000001" in paper[0]


async def test_banner_shows_what_was_paid_and_the_change_due(shop):
    """paper out after 50 yuan for a 3 yuan cola: the banner says paid 50.00, change 47.00, the number."""
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await scan(pilot, COLA)
        await pilot.press("f12", *"50", "enter")
        await wait_until(pilot, lambda: banner_up(app))
        await wait_until(pilot, lambda: "47.00" in text_of(app.screen.query_one("#banner-change")))
        assert "50.00" in text_of(app.screen.query_one("#banner-paid"))
        assert "1-000001" in text_of(app.screen.query_one("#banner-number"))


async def test_r_while_still_out_of_paper_says_still_and_counts_the_tries(shop):
    """paper out -> banner -> R -> "still ... try 2" -> R -> "try 3": the cashier sees each R was heard."""
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        await wait_until(pilot, lambda: "1-000001" in text_of(app.screen.query_one("#banner-number")))
        for tries in (2, 3):
            await pilot.press("r")
            await printed_all(pilot, app)
            shown = "第 %d 次" % tries
            await wait_until(pilot, lambda: shown in text_of(app.screen.query_one("#banner-status")))  # noqa: B023
            status = text_of(app.screen.query_one("#banner-status"))
            assert "仍然" in status and "缺纸" in status


async def test_a_scan_on_the_banner_is_refused_with_a_reason(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        await scan(pilot, WATER)
        assert banner_up(app)
        assert "扫码" in text_of(app.screen.query_one("#banner-status"))


async def test_reprint_with_a_new_fault_shows_the_new_reason(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        shop.demo.set_fault("cover_open")
        await pilot.press("r")
        await printed_all(pilot, app)
        assert banner_up(app)
        assert "盖" in text_of(app.screen.query_one("#banner-reason"))


async def test_no_new_sale_while_the_banner_is_up(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        await scan(pilot, WATER)
        await pilot.press("f12", "enter")
        assert banner_up(app)
        assert app.sale_screen.basket.is_empty
        assert last_sale().receipt_no == 1


async def test_handwritten_receipt_shows_the_receipt_and_records_it(shop):
    from tui.screens.receipt_views import HandwrittenView

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA, "2*" + BUN)
        await wait_until(pilot, lambda: banner_up(app))
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HandwrittenView))
        shown = screen_text(app)
        assert "1-000001" in shown and "可口可乐" in shown and "馒头" in shown and "5.00" in shown
        assert outcome(last_sale().id).state == "handwritten"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        assert "手写" in text_of(app.screen.query_one("#done-status"))


async def test_qr_e_receipt_carries_the_receipt_and_records_it(shop):
    from tui.qr import qr_matrix
    from tui.screens.receipt_views import QrView

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA, WATER)
        await wait_until(pilot, lambda: banner_up(app))
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QrView))
        view = app.screen
        for part in ("超赢便利店", "1-000001", "可口可乐", "农夫山泉", "5.00"):
            assert part in view.payload
        assert len(view.lines) <= 24  # fits 80x24 with two modules per row
        decoded = decode_half_blocks(view.lines)
        assert any(decoded[:len(m)] == m for m in (qr_matrix(view.payload, border=b) for b in (2, 1)))
        assert outcome(last_sale().id).state == "e_receipt"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)


async def test_declined_asks_once_then_records(shop):
    from tui.screens.confirm import ConfirmScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert banner_up(app) and outcome(last_sale().id).state == "failed"
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: not banner_up(app))
        assert outcome(last_sale().id).state == "declined"


async def test_spare_key_only_when_a_spare_printer_is_configured(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop.demo.set_fault("paper_out")
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        assert "备用" not in screen_text(app)
        await pilot.press("b")
        await settled(pilot, printer=True)  # a print on a backup would have its attempt stored by now
        assert attempts(last_sale().id) == ["failed"]


async def test_two_failed_receipts_get_one_banner_each(shop):
    from store.models import Sale

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await printed_all(pilot, app)
        # a second till process left two failed receipts behind (simulated in the store)
    ids = _two_failed_sales(shop)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: banner_up(app))
        assert app.screen.sale_id == ids[0]
        assert "1" in text_of(app.screen.query_one("#banner-more"))
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: banner_up(app) and app.screen.sale_id == ids[1])
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: not banner_up(app))
        assert {outcome(i).state for i in ids} == {"declined"}
        assert Sale.select().count() == 3


def _two_failed_sales(shop):
    from store import print_attempts
    from store.models import Product
    from store.sales import Basket, Tender, commit_sale

    ids = []
    for _ in range(2):
        basket = Basket()
        basket.add(Product.get(Product.barcode == BUN))
        tender = Tender(basket.total_fen)
        tender.add_payment("cash", basket.total_fen)
        sale = commit_sale(basket, tender, shop.settings.till.id)
        attempt = print_attempts.start_printing(sale.id, "main")
        print_attempts.finish_printing(attempt.id, False, "paper_out", "打印机缺纸")
        ids.append(sale.id)
    return ids


# ---------------------------------------------------------------- crash recovery


async def test_killed_while_printing_restart_shows_the_banner(shop):
    """A till that died mid-print left the outcome 'printing': the next start shows the banner."""
    from store import print_attempts
    from store.models import Product
    from store.sales import Basket, Tender, commit_sale

    basket = Basket()
    basket.add(Product.get(Product.barcode == COLA))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", 300)
    sale = commit_sale(basket, tender, shop.settings.till.id)
    print_attempts.start_printing(sale.id, "main")  # ... and the till was killed here
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: banner_up(app))
        assert "关掉" in text_of(app.screen.query_one("#banner-reason"))
        assert outcome(sale.id).reason_code == "interrupted"
        await pilot.press("r")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: not banner_up(app))
        assert outcome(sale.id).state == "printed"


async def test_killed_mid_print_the_cashier_holds_the_paper_p_records_printed_by_the_cashier(shop):
    """interrupted print -> banner -> P: printed on the cashier's word, nothing reprinted, history says so."""
    from store import print_attempts
    from store.models import PrintAttempt, Product
    from store.sales import Basket, Tender, commit_sale

    basket = Basket()
    basket.add(Product.get(Product.barcode == COLA))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", 300)
    sale = commit_sale(basket, tender, shop.settings.till.id)
    print_attempts.start_printing(sale.id, "main")  # ... and the till was killed here
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: banner_up(app))
        await pilot.press("p", "y")  # P asks first: the cashier says yes, the paper is here
        await wait_until(pilot, lambda: not banner_up(app))
        assert outcome(sale.id).state == "printed"
        evidence = [a.evidence for a in PrintAttempt.select().where(PrintAttempt.sale == sale.id).order_by(PrintAttempt.id)]
        assert evidence == ["", "cashier"]
        assert shop.paper() == []


async def test_sale_committed_but_never_printed_is_printed_at_start_and_the_cashier_is_told(shop):
    """killed after the commit, before any byte went out -> start: the sale screen says which receipt prints
    and why, it prints, no banner."""
    from store.models import Product
    from store.sales import Basket, Tender, commit_sale

    basket = Basket()
    basket.add(Product.get(Product.barcode == COLA))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", 300)
    sale = commit_sale(basket, tender, shop.settings.till.id)  # ... and the till was killed here
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        message = app.sale_screen.query_one("#message")
        await wait_until(pilot, lambda: "正在打印小票 1-000001：停机前没有打印出来" in text_of(message))
        await wait_until(pilot, lambda: outcome(sale.id).state == "printed")
        await printed_all(pilot, app)
        assert len(shop.paper()) == 1 and not banner_up(app)


# ---------------------------------------------------------------- demo keys, help


async def test_demo_fault_menu_sets_the_virtual_printer(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f8", "3")
        assert shop.demo.printer.state == "near-end"
        await pilot.press("f8", "8")  # the fault `printer simulate` calls stall
        assert shop.demo.printer.state == "stall"
        await pilot.press("f8", "1")
        assert shop.demo.printer.state == "ok"


async def test_paper_near_end_is_a_warning_not_a_failure(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f8", "3")
        await sell_cash(pilot, COLA)
        await printed_all(pilot, app)
        assert outcome(last_sale().id).state == "printed"
        assert "纸快用完" in text_of(app.screen.query_one("#done-status"))


async def test_paper_viewer_shows_the_latest_receipt(shop):
    from tui.screens.demo_views import PaperView

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await printed_all(pilot, app)
        await sell_cash(pilot, WATER)
        await printed_all(pilot, app)
        await pilot.press("f7")
        assert isinstance(app.screen, PaperView)
        assert "农夫山泉" in screen_text(app) and "0002.txt" in screen_text(app)
        await pilot.press("left")
        assert "可口可乐" in screen_text(app)
        await pilot.press("escape")
        assert app.screen is app.sale_screen


async def test_f1_lists_every_key_of_the_current_screen(shop):
    from tui import keymap
    from tui.i18n import t

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        shown = screen_text(app)
        for group in ("sale",) + keymap.GLOBAL_GROUPS:
            for key in keymap.KEYS[group]:
                if key.id != "app.sign_out":  # no cashiers in this shop: nobody to sign out (test_signin)
                    assert t(key.label) in shown, key.id
        assert t("key.pay_failed") not in shown  # the tender's keys are on the tender's F1
        await pilot.press("f1")
        assert app.screen is app.sale_screen


async def test_english_till(shop_en):
    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await printed_all(pilot, app)
        assert "printed" in text_of(app.screen.query_one("#done-status"))
        assert "Receipt 1-000001" in text_of(app.screen.query_one("#done-number"))


def decode_half_blocks(lines):
    """Modules back from half-block text (True = dark), two rows per line."""
    top = {"\u2580", "\u2588"}
    bottom = {"\u2584", "\u2588"}
    rows = []
    for line in lines:
        rows.append([c in top for c in line])
        rows.append([c in bottom for c in line])
    return rows


async def test_spare_printer_prints_when_the_main_one_is_out_of_paper(shop):
    import dataclasses

    from printing.virtual import VirtualPrinter

    spare = VirtualPrinter(shop.folder / "spare", shop.folder / "spare-paper", width=80).start()
    try:
        table = dataclasses.replace(shop.settings.printer, port=str(shop.folder / "spare"), drawer=False, name="backup")
        settings = dataclasses.replace(shop.settings, spare_printer=table)
        from tui.app import ChaoyingApp

        app = ChaoyingApp(settings, demo=shop.demo)
        async with app.run_test(size=(80, 24)) as pilot:
            shop.demo.set_fault("paper_out")
            await sell_cash(pilot, COLA)
            await wait_until(pilot, lambda: banner_up(app))
            assert "备用打印机" in screen_text(app)
            await pilot.press("b")
            await printed_all(pilot, app)
            await wait_until(pilot, lambda: not banner_up(app))
            sale = last_sale()
            assert outcome(sale.id).state == "printed"
            papers = sorted((shop.folder / "spare-paper").glob("*.txt"))
            assert len(papers) == 1 and "1-000001" in papers[0].read_text(encoding="utf-8")
            assert shop.paper() == []
    finally:
        spare.stop()


async def test_unplugged_printer_banner_names_the_port_problem(shop):
    import dataclasses

    from tui.app import ChaoyingApp

    settings = dataclasses.replace(shop.settings, printer=dataclasses.replace(shop.settings.printer, port=str(shop.folder / "gone")))
    app = ChaoyingApp(settings, demo=shop.demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await sell_cash(pilot, COLA)
        await wait_until(pilot, lambda: banner_up(app))
        assert "找不到打印机" in text_of(app.screen.query_one("#banner-reason"))
        assert outcome(last_sale().id).reason_code == "port_missing"


async def test_a_database_error_on_scan_is_said_and_the_till_keeps_going(shop, monkeypatch):
    import peewee

    import store.catalogue

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)

        def broken(code):
            raise peewee.OperationalError("disk I/O error")

        monkeypatch.setattr(store.catalogue, "find_active", broken)
        await scan(pilot, WATER)
        assert "disk I/O error" in text_of(app.screen.query_one("#message"))
        assert len(app.screen.basket.lines) == 1
        monkeypatch.undo()
        await sell_cash(pilot, WATER)
        await printed_all(pilot, app)
        assert last_sale().total_fen == 500


async def test_a_till_on_an_empty_catalogue_says_how_to_add_products(shop):
    from store.models import Product, ProductKey, StockBalance, StockMove
    from tui.i18n import t

    StockBalance.delete().execute()  # the demo's opening stock goes with its products
    StockMove.delete().execute()
    ProductKey.delete().execute()
    Product.delete().execute()
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text_of(app.screen.query_one("#message")) == t("sale.no_products")
        assert "chaoying products add" in t("sale.no_products")


async def test_a_till_with_products_says_nothing_about_adding_them(shop):
    from tui.i18n import t

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text_of(app.screen.query_one("#message")) != t("sale.no_products")
