"""A cashier's second week (issue 23): money booked where it was paid, and P asks before it records."""
from __future__ import annotations

import pytest

from tests.tui.helpers import last_sale, printed_all, scan, text_of, wait_until
from tests.tui.test_stories import banner_up

ODD = "8801851"  # a product at ¥18.51


def add_product_at_18_51() -> None:
    from store.catalogue import add_product

    add_product(ODD, "散装坚果 Nuts", 1851, "袋")


def payments_of(sale) -> list:
    return sorted((p.method, p.amount_fen) for p in sale.payments)


async def test_alipay_refused_after_rounding_takes_nothing_then_ctrl_r_pays_it_by_alipay(shop):
    """¥18.51, F12, Ctrl+R, 10 Enter, F5 (refused) -> Enter takes nothing -> Ctrl+R -> Enter: ¥8.51 by Alipay."""
    from textual.widgets import Digits

    add_product_at_18_51()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r")
        assert app.screen.query_one("#remaining", Digits).value == "18.50"
        await pilot.press(*"10", "enter")  # ¥10 cash
        await wait_until(pilot, lambda: app.screen.query_one("#remaining", Digits).value == "8.50")
        await pilot.press("f5")  # Alipay after 抹零: refused
        assert "只收现金" in text_of(app.screen.query_one("#tender-message"))
        await pilot.press("enter")  # the Enter that used to take ¥8.50 as cash
        assert "没有收款" in text_of(app.screen.query_one("#tender-message"))
        assert [(p.method, p.amount_fen) for p in app.session.taken()] == [("cash", 1000)]
        assert app.screen.query_one("#remaining", Digits).value == "8.50"
        await pilot.press("ctrl+r")  # the rounding off: Alipay is asked again, for ¥8.51
        assert app.screen.query_one("#remaining", Digits).value == "8.51"
        assert app.screen.method == "alipay"
        await pilot.press("enter")
        await printed_all(pilot, app)
        sale = last_sale()
        assert sale.total_fen == 1851 and payments_of(sale) == [("alipay", 851), ("cash", 1000)]
        assert "支付宝" in shop.paper()[-1]


async def test_a_refused_method_then_f2_takes_cash(shop):
    add_product_at_18_51()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r", "f4", "f6")  # WeChat refused; F6 (failed) records nothing either
        assert "没有收款" in text_of(app.screen.query_one("#tender-message"))
        assert app.session.tender.payments == []
        await pilot.press("f2", "enter")
        await printed_all(pilot, app)
        assert payments_of(last_sale()) == [("cash", 1850)]


async def killed_before_the_printer_confirmed(shop):
    from store import print_attempts
    from store.models import Product
    from store.sales import Basket, Tender, commit_sale

    basket = Basket()
    basket.add(Product.get(Product.barcode == "6901234567892"))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", 300)
    sale = commit_sale(basket, tender, shop.settings.till.id)
    print_attempts.start_printing(sale.id, "main")  # ... and the till was killed here
    return sale


async def test_p_asks_first_and_n_records_nothing(shop):
    from tests.tui.helpers import outcome
    from tui.screens.confirm import ConfirmScreen

    sale = await killed_before_the_printer_confirmed(shop)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: banner_up(app))
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "打印出来" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        await wait_until(pilot, lambda: banner_up(app))
        assert outcome(sale.id).state == "failed"
        await pilot.press("p", "y")
        await wait_until(pilot, lambda: not banner_up(app))
        assert outcome(sale.id).state == "printed"


@pytest.mark.parametrize("fault, title", [("no_confirm", "小票打印未确认"), ("paper_out", "小票没有打印出来")])
async def test_the_banner_title_says_not_confirmed_only_when_the_printer_did_not_confirm(shop, fault, title):
    from tests.tui.helpers import COLA

    shop.demo.set_fault(fault)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await wait_until(pilot, lambda: banner_up(app))
        await wait_until(pilot, lambda: text_of(app.screen.query_one("#banner-reason")) != "")  # the facts came
        assert text_of(app.screen.query_one("#banner-title")) == title


async def test_a_weighed_plu_asks_its_weight_and_two_weighings_stay_two_lines(shop):
    """土豆 by PLU 6: its weight is asked (0.8 斤), and 0.5*6 after it is a line of its own, not 1.3 斤."""
    from tui.screens.ask import AskScreen

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "6")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        assert "重量" in text_of(app.screen.query_one("#ask-title"))
        assert app.session.basket.is_empty, "nothing is sold before it is weighed"
        await pilot.press(*"0.8", "enter")
        await wait_until(pilot, lambda: app.screen is app.sale_screen and not app.session.basket.is_empty)
        await scan(pilot, "0.5*6")
        await wait_until(pilot, lambda: len(app.session.basket.items) == 2)
        assert [(item.qty_milli, line.gross_fen) for item, line in
                zip(app.session.basket.items, app.session.basket.lines)] == [(800, 200), (500, 125)]


async def test_esc_on_the_weight_adds_nothing(shop):
    from tui.screens.ask import AskScreen

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "6")
        await wait_until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        assert app.session.basket.is_empty
        assert "没有称重" in text_of(app.sale_screen.query_one("#message"))
