"""Pilot stories for discounts, price changes and 抹零: the dialog, the cashier's limits, the manager's PIN,
the tender's Ctrl+R, and what the receipt says. A real SQLite file and the virtual printer on a pty."""
from __future__ import annotations

import dataclasses

import pytest

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

ODD = "8801237"  # a product at ¥12.37, for 抹零


def add_odd_product() -> None:
    from store.catalogue import add_product

    add_product(ODD, "散装糖果 Candy", 1237, "袋")


def with_cashiers() -> None:
    from store.cashiers import add_cashier

    add_cashier("M1", "王店长", "4321", manager=True)
    add_cashier("C1", "小李", "1111")  # a cashier's PIN is not a manager's


def discounts():
    from store.models import Discount

    return list(Discount.select().order_by(Discount.id))


def basket_rows(app) -> list:
    """The basket table's rows as text (a discounted line: both of its rows)."""
    table = app.sale_screen.query_one("#basket")
    return [" ".join(str(cell) for cell in table.get_row_at(row)) for row in range(table.row_count)]


def pin_up(app) -> bool:
    from tui.screens.pin import PinScreen

    return isinstance(app.screen, PinScreen)


def dialog_up(app) -> bool:
    from tui.screens.discount import DiscountScreen

    return isinstance(app.screen, DiscountScreen)


async def give(pilot, key: str, amount: str, reason: str) -> None:
    """Open the discount dialog with ``key``, type the amount, Enter, the reason, Enter."""
    await pilot.press(key, *amount, "enter")
    if reason:
        await pilot.press(*reason, "enter")
    await pilot.pause()


async def pay_cash(pilot, app) -> None:
    await pilot.press("f12", "enter")
    await printed_all(pilot, app)


# ---------------------------------------------------------------- line discounts and the cashier's limit


async def test_line_discount_within_the_limit_needs_no_pin_and_is_on_the_receipt(shop):
    from textual.widgets import Digits

    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await pilot.press("up")  # the cola's line
        await give(pilot, "f5", "10%", "1")  # 1: the first quick reason, 临期
        assert not pin_up(app) and not dialog_up(app)
        assert app.screen.query_one("#total", Digits).value == "4.70"
        assert "优惠 ￥0.30" in screen_text(app)
        cola = basket_rows(app)[0]
        assert "折扣 10% 临期" in cola and "3.00\n-0.30" in cola  # its discount on a second row
        await pay_cash(pilot, app)
        sale = last_sale()
        assert (sale.total_fen, sale.discount_fen) == (470, 30)
        [row] = discounts()
        assert (row.line_position, row.kind, row.value, row.amount_fen) == (1, "percent", 1000, 30)
        assert (row.reason, row.cashier, row.manager) == ("临期", "C1", "")
        paper = shop.paper()[-1]
        assert "折扣 10% 临期" in paper and "-0.30" in paper and "￥4.70" in paper
        await settled(pilot)
        from store.models import Event

        assert "10% (临期)" in Event.get(Event.kind == "discount").detail


async def test_a_quick_reason_picked_on_an_english_screen_prints_in_chinese_on_the_receipt(shop_en):
    """QA: the quick reason was stored in the screen's language, so the Chinese receipt printed "折扣 5% other".
    A quick reason is stored in the receipt's language; a typed one as typed."""
    app = shop_en.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f5", *"5%", "enter")
        assert "4 other" in screen_text(app)  # offered in the screen's language
        await pilot.press("4", "enter")
        await scan(pilot, WATER)
        await give(pilot, "f5", "0.10", "smudged box")  # typed: stored as typed
        await pay_cash(pilot, app)
        assert [row.reason for row in discounts()] == ["其他", "smudged box"]
        paper = shop_en.paper()[-1]
        assert "折扣 5% 其他" in paper and "other" not in paper


async def test_discount_over_the_limit_needs_a_manager_pin_and_stores_the_manager(shop):
    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await give(pilot, "f5", "1.50", "老顾客")  # 50% of ¥3.00: above the cashier's 10%
        await wait_until(pilot, lambda: pin_up(app))
        assert "1.50 超过收银员的 10% 权限" in text_of(app.screen.query_one("#pin-why"))  # the limit is said
        await manager_pin(pilot, "M1", "1111")  # the cashier's own PIN with the manager's code: wrong
        await settled(pilot)  # the PIN check (PBKDF2, off the UI thread) has answered
        assert pin_up(app) and "密码不对" in text_of(app.screen.query_one("#pin-message"))
        assert app.sale_screen.basket.total_fen == 300  # nothing given yet
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: not pin_up(app))
        assert app.sale_screen.basket.total_fen == 150
        await pay_cash(pilot, app)
        [row] = discounts()
        assert (row.kind, row.value, row.amount_fen, row.reason) == ("amount", 150, 150, "老顾客")
        assert (row.cashier, row.manager) == ("C1", "M1")


async def test_esc_on_the_pin_gives_no_discount(shop):
    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await give(pilot, "f5", "50%", "2")
        await wait_until(pilot, lambda: pin_up(app))
        await pilot.press("escape")
        assert app.sale_screen.basket.total_fen == 300 and app.sale_screen.basket.items[0].discount is None
        assert "没有店长同意" in text_of(app.screen.query_one("#message"))


async def test_a_manager_selling_gives_a_large_discount_without_a_pin(shop):
    with_cashiers()
    app = shop.app(cashier="M1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await give(pilot, "f5", "50%", "3")
        await wait_until(pilot, lambda: app.sale_screen.basket.total_fen == 150)
        assert not pin_up(app)
        await pay_cash(pilot, app)
        [row] = discounts()
        assert (row.cashier, row.manager, row.reason) == ("M1", "M1", "老顾客")


# ---------------------------------------------------------------- price override


async def test_price_override_by_a_cashier_is_refused_without_a_manager_pin(shop):
    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await give(pilot, "ctrl+p", "2.50", "破损")
        await wait_until(pilot, lambda: pin_up(app))
        assert "收银员不能改价" in text_of(app.screen.query_one("#pin-why"))
        await pilot.press("escape")
        assert app.sale_screen.basket.total_fen == 300  # cashier_price_override is off: no PIN, no new price
        assert text_of(app.screen.query_one("#message")) == "没有改价：没有店长同意"
        await give(pilot, "ctrl+p", "2.50", "破损")
        await wait_until(pilot, lambda: pin_up(app))
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: app.sale_screen.basket.total_fen == 250)
        assert "改价 原价 3.00 破损" in basket_rows(app)[0]
        await pay_cash(pilot, app)
        [row] = discounts()
        assert (row.kind, row.value, row.amount_fen, row.manager) == ("price", 250, 50, "M1")
        paper = shop.paper()[-1]
        assert "改价 破损" in paper and "原价 3.00" in paper and "2.50" in paper


async def test_bad_amounts_are_refused_in_one_sentence_and_change_nothing(shop):
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        for typed, said in (("120%", "0% 到 100%"), ("abc", "折扣不对"), ("5.00", "超过了金额")):
            await pilot.press("f5", *typed, "enter")
            assert dialog_up(app)
            assert said in text_of(app.screen.query_one("#discount-message"))
            await pilot.press("escape")
        await pilot.press("f5")
        app.screen.query_one("#discount-amount").value = "１０％"  # full-width, from a Chinese input method
        await pilot.press("enter", "enter")
        assert dialog_up(app) and "原因" in text_of(app.screen.query_one("#discount-message"))
        await pilot.press(*"到期", "enter")
        assert not dialog_up(app) and app.sale_screen.basket.total_fen == 270
        await give(pilot, "f5", "0", "")  # 0 takes it off again
        assert app.sale_screen.basket.total_fen == 300 and app.sale_screen.basket.items[0].discount is None


# ---------------------------------------------------------------- basket discount


async def test_basket_discount_in_a_shop_without_cashiers_has_no_limit_and_prints_below_the_subtotal(shop):
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await give(pilot, "f6", "30%", "老顾客")  # nobody to ask in a shop without cashiers
        assert not pin_up(app) and app.sale_screen.basket.total_fen == 350
        assert "整单 30%" in screen_text(app)
        await pay_cash(pilot, app)
        sale = last_sale()
        assert sale.total_fen == 350 and sum(line.amount_fen for line in sale.lines) == 350
        [row] = discounts()
        assert (row.line_position, row.kind, row.value, row.amount_fen) == (0, "percent", 3000, 150)
        paper = shop.paper()[-1]
        assert "小计" in paper and "5.00" in paper and "整单优惠 30% 老顾客" in paper and "-1.50" in paper


# ---------------------------------------------------------------- 抹零


async def test_round_down_to_jiao_on_12_37_in_cash_takes_12_30(shop):
    from textual.widgets import Digits

    add_odd_product()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r")
        assert app.screen.query_one("#remaining", Digits).value == "12.30"
        await pilot.press("f3")  # card: refused, 抹零 is for cash
        assert "只收现金" in text_of(app.screen.query_one("#tender-message"))
        await pilot.press("f2", "enter")  # cash, exact (a refused card leaves no method: F2 chooses cash)
        await printed_all(pilot, app)
        sale = last_sale()
        assert (sale.total_fen, sale.change_fen, sale.discount_fen) == (1230, 0, 7)
        [row] = discounts()
        assert (row.kind, row.value, row.amount_fen, row.reason) == ("round", 10, 7, "抹零")
        paper = shop.paper()[-1]
        assert "抹零" in paper and "-0.07" in paper and "￥12.30" in paper and "12.37" in paper


async def test_ctrl_r_again_takes_the_rounding_off(shop):
    from textual.widgets import Digits

    add_odd_product()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r", "ctrl+r")
        assert app.screen.query_one("#remaining", Digits).value == "12.37"
        assert app.sale_screen.basket.rounding is None
        await pilot.press("enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 1237 and not discounts()


async def test_round_down_is_refused_after_a_non_cash_payment(shop):
    from textual.widgets import Digits

    add_odd_product()
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "f4", *"5", "enter")  # ¥5 by WeChat (Enter pays at once)
        await pilot.press("ctrl+r")
        assert "非现金" in text_of(app.screen.query_one("#tender-message"))
        assert app.screen.query_one("#remaining", Digits).value == "7.37"


async def test_round_down_off_in_the_settings_says_so(shop):
    from tui.settings import SellingSettings

    add_odd_product()
    shop.settings = dataclasses.replace(shop.settings, selling=SellingSettings(rounding="off"))
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r")
        assert "没有打开" in text_of(app.screen.query_one("#tender-message"))
        assert app.sale_screen.basket.total_fen == 1237


@pytest.mark.parametrize("rounding, total", [("yuan", 1200)])
async def test_round_down_to_yuan(shop, rounding, total):
    from tui.settings import SellingSettings

    add_odd_product()
    shop.settings = dataclasses.replace(shop.settings, selling=SellingSettings(rounding=rounding))
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, ODD)
        await pilot.press("f12", "ctrl+r", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == total


# ---------------------------------------------------------------- a quantity changed after an amount discount


async def test_fewer_bottles_take_off_an_amount_discount_now_above_the_cashiers_limit(shop):
    from store import baskets
    from store.models import Event
    from tui.screens.ask import AskScreen

    with_cashiers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "10*" + COLA)  # ¥30.00
        await give(pilot, "f5", "3", "老顾客")  # ¥3.00 off: 10%, the cashier's own limit
        assert not pin_up(app) and app.sale_screen.basket.total_fen == 2700
        await pilot.press("f3", *"20", "enter")  # more bottles: a smaller share, it stands
        await wait_until(pilot, lambda: not isinstance(app.screen, AskScreen))
        assert app.sale_screen.basket.total_fen == 5700
        await pilot.press("f3", *"5", "enter")  # ¥3.00 of ¥15.00 is 20%: no longer the cashier's to give
        await wait_until(pilot, lambda: not isinstance(app.screen, AskScreen))
        said = text_of(app.sale_screen.query_one("#message"))
        assert "可口可乐" in said and "3.00" in said and "已取消" in said and "F5" in said
        assert app.sale_screen.basket.total_fen == 1500 and app.sale_screen.basket.items[0].discount is None
        assert "老顾客" not in " ".join(basket_rows(app))  # the second row went with it
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
        assert baskets.open_basket(app.till_id).basket.items[0].discount is None  # stored as it is now
        await pay_cash(pilot, app)
        assert (last_sale().total_fen, discounts()) == (1500, [])
        await settled(pilot)
        assert "3.00 off (quantity 5)" in Event.select().where(Event.kind == "discount").order_by(Event.id)[-1].detail


async def test_an_amount_above_the_smaller_line_comes_off_in_a_shop_without_cashiers(shop):
    from tui.screens.ask import AskScreen

    app = shop.app()  # no cashiers: no limits, but never a discount above its line
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "2*" + COLA)  # ¥6.00
        await give(pilot, "f5", "5", "老顾客")  # ¥5.00 off
        assert not pin_up(app) and app.sale_screen.basket.total_fen == 100
        await pilot.press("f3", *"1", "enter")  # a ¥3.00 line: ¥5.00 off would give the bottle away
        await wait_until(pilot, lambda: not isinstance(app.screen, AskScreen))
        assert "已取消" in text_of(app.sale_screen.query_one("#message"))
        assert app.sale_screen.basket.total_fen == 300


async def test_voiding_a_line_takes_off_an_amount_off_the_basket_now_above_the_subtotal(shop):
    app = shop.app()  # no cashiers: no limits, but never a basket discount above what it is taken off
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)  # ¥3.00
        await scan(pilot, WATER)  # ¥2.00
        await give(pilot, "f6", "4", "老顾客")  # ¥4.00 off ¥5.00
        assert app.sale_screen.basket.total_fen == 100
        await pilot.press("up", "f4")  # void the cola: ¥4.00 off ¥2.00 would give the water away
        await pilot.pause()
        assert "已取消" in text_of(app.sale_screen.query_one("#message"))
        assert app.sale_screen.basket.total_fen == 200 and app.sale_screen.basket.discount is None
        await pay_cash(pilot, app)
        assert last_sale().total_fen == 200 and not discounts()


async def test_ctrl_r_on_a_round_total_says_so_and_stores_nothing(shop):
    from store.models import Event

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)  # ¥3.00: nothing to round down
        await pilot.press("f12", "ctrl+r")
        said = text_of(app.screen.query_one("#tender-message"))
        assert "没有零头" in said and "3.00" in said
        assert app.sale_screen.basket.rounding is None
        await pilot.press("enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 300 and not discounts()
        assert Event.select().where(Event.kind == "rounding").count() == 0


async def test_f6_on_cash_records_no_failed_payment(shop):
    from store.models import Event, Payment

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "f6")  # the sale screen's basket discount key, pressed on the tender
        assert "现金不会付款失败" in text_of(app.screen.query_one("#tender-message"))
        assert app.screen.tender.payments == []
        await pilot.press("enter")
        await printed_all(pilot, app)
        assert [(p.method, p.status) for p in Payment.select()] == [("cash", "ok")]
        assert Event.select().where(Event.kind == "payment_failed").count() == 0
