"""The shift at the till: the float at start, paid out (and a manager above the limit), X, Z refused and
closed with a count, blind close, a hand-over recorded."""
from __future__ import annotations

import dataclasses

from tests.tui.helpers import COLA, manager_pin, printed_all, scan, screen_text, settled, wait_until


def asking(shop, **shift):
    """The shop's settings with [shift] changed (the demo without a settings file does not ask the float)."""
    shop.settings = dataclasses.replace(shop.settings, shift=dataclasses.replace(shop.settings.shift, **shift))
    return shop


def notified(app) -> str:
    return "\n".join(n.message for n in app._notifications)


def on(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def type_in(pilot, *answers: str) -> None:
    """Each answer typed into the focused field, then Enter."""
    for answer in answers:
        await pilot.press(*answer, "enter")
        await pilot.pause()


async def one_total(pilot) -> None:
    """On the count per denomination: F2 switches to typing one total."""
    await wait_until(pilot, lambda: on(pilot.app, "CountScreen"))
    await pilot.press("f2")
    await wait_until(pilot, lambda: on(pilot.app, "AmountScreen"))


async def open_shift(pilot, float_yuan: str) -> None:
    await pilot.press("f11", "s")
    await one_total(pilot)
    await type_in(pilot, float_yuan)
    await settled(pilot)


async def test_the_till_asks_the_float_at_start_and_opens_the_shift_with_200(shop):
    from store.shifts import current_shift

    app = asking(shop, ask_float=True).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: on(app, "CountScreen"))
        assert "备用金" in screen_text(app)
        await one_total(pilot)
        await type_in(pilot, "abc")  # not an amount: one sentence, still asking
        assert on(app, "AmountScreen") and "不是金额" in screen_text(app)
        app.screen.query_one("#amount-input").value = ""
        await type_in(pilot, "200")
        await settled(pilot)
        assert not on(app, "AmountScreen")
        shift = current_shift(app.till_id)
        assert shift is not None and shift.float_fen == 20000
        assert "备用金 ￥200.00" in notified(app)


async def test_esc_on_the_float_sells_without_a_shift(shop):
    from store.shifts import current_shift

    app = asking(shop, ask_float=True).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: on(app, "CountScreen"))
        await pilot.press("escape")
        await settled(pilot)
        assert app.screen is app.sale_screen and current_shift(app.till_id) is None
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert len(shop.paper()) == 1


async def test_pay_out_20_with_a_reason_and_x_shows_the_expected_cash(shop):
    from store.models import CashMove

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "o")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await type_in(pilot, "20", "")  # no reason: one sentence, nothing recorded
        assert "请写原因" in screen_text(app) and CashMove.select().count() == 0
        await type_in(pilot, "送货")
        await settled(pilot)
        move = CashMove.get()
        assert (move.kind, move.amount_fen, move.reason, move.manager) == ("paid_out", 2000, "送货", "")
        await pilot.press("f11", "x")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        text = str(app.screen.query_one("#report-text").render())
        assert "应有现金" in text and "180.00" in text and "支出" in text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.sale_screen


async def test_the_drawer_opens_for_the_float_and_each_paid_in_or_out_and_the_log_says_why(shop):
    """QA (issue 23): opening the shift and paying out left no trace in the event log, and no drawer opened."""
    from store.models import Event

    def logged(kind):
        return [e.detail for e in Event.select().where(Event.kind == kind).order_by(Event.id)]

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await wait_until(pilot, lambda: len(logged("drawer_open")) == 1)
        for key, amount, reason in (("i", "50", "换零钱"), ("o", "20", "送货")):
            await pilot.press("f11", key)
            await wait_until(pilot, lambda: on(app, "AmountScreen"))
            await type_in(pilot, amount, reason)
            await settled(pilot)
        await wait_until(pilot, lambda: len(logged("drawer_open")) == 3)
        assert logged("drawer_open") == ["shift 1 opened: float 200.00", "paid in 50.00: 换零钱",
                                         "paid out 20.00: 送货"]
        assert shop.demo.printer.drawer_kicks == 3
        assert logged("shift_open") == ["shift 1, float 200.00"]
        assert logged("paid_in") == ["50.00 换零钱"] and logged("paid_out") == ["20.00 送货"]


async def test_paying_out_above_the_limit_asks_a_manager_pin(shop):
    from store.cashiers import add_cashier
    from store.models import CashMove

    add_cashier("M1", "王店长", "4321", manager=True)
    app = asking(shop, cashier_max_paid_out=5000).app(cashier="M1")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "o")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await type_in(pilot, "80", "进货")
        await wait_until(pilot, lambda: on(app, "PinScreen"))
        assert CashMove.select().count() == 0
        await manager_pin(pilot, "M1", "4321")
        await settled(pilot)
        move = CashMove.get()
        assert (move.amount_fen, move.manager) == (8000, "M1")


async def test_z_is_refused_while_a_basket_is_open(shop):
    from store.models import ZReport

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await scan(pilot, COLA)
        await settled(pilot)
        assert app.basket_saver.flush(5)
        await pilot.press("f11", "z")
        await settled(pilot)
        assert "还有一单没有结账" in notified(app)
        assert app.screen is app.sale_screen and ZReport.select().count() == 0


async def test_z_with_a_count_one_yuan_short_says_short_and_prints(shop):
    from store.models import Shift, ZReport

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await pilot.press("f11", "z")
        await one_total(pilot)
        assert "应有现金 ￥203.00" in screen_text(app)  # not blind: the expected figure is shown
        await type_in(pilot, "202")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "短款 1.00" in screen_text(app)
        await wait_until(pilot, lambda: "Z 报表已打印" in screen_text(app))
        z = ZReport.get()
        assert z.z_no == 1 and Shift.get().closed_at is not None
        paper = shop.paper()
        assert len(paper) == 2 and "Z 报表" in paper[-1] and "短款" in paper[-1] and "1.00" in paper[-1]
        # the Z's backup ([backup] dir: the demo's own folder), made on a worker without waiting for idle
        from store import backup

        await wait_until(pilot, lambda: not app.backup_running and app.backup_day is not None)
        made = backup.list_backups(shop.folder / "backups")
        assert len(made) == 1 and made[0].manifest["sales"] == 1


async def test_z_in_english_says_short(shop_en):
    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "z")
        await one_total(pilot)
        await type_in(pilot, "199")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "short 1.00" in screen_text(app)
        await wait_until(pilot, lambda: "Z report printed" in screen_text(app))
        assert "Short" in shop_en.paper()[-1]


async def test_blind_close_hides_the_expected_cash_until_counted(shop):
    app = asking(shop, blind_close=True).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "z")
        await one_total(pilot)
        assert "200.00" not in screen_text(app) and "盲点" in screen_text(app)
        await type_in(pilot, "200")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "200.00" in str(app.screen.query_one("#report-text").render())
        assert "现金相符" in screen_text(app)


async def test_a_failed_z_print_blocks_until_r_prints_it(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        shop.demo.set_fault("paper_out")
        await pilot.press("f11", "z")
        await one_total(pilot)
        await type_in(pilot, "200")
        await wait_until(pilot, lambda: on(app, "ReportPrintFailed"))
        assert shop.paper() == []
        shop.demo.set_fault("ok")
        await pilot.press("r")
        await wait_until(pilot, lambda: on(app, "ReportView") and "Z 报表已打印" in screen_text(app))
        assert "Z 报表" in shop.paper()[-1]


async def test_a_hand_over_is_recorded_in_the_shift(shop):
    from store.cashiers import add_cashier
    from store.models import ShiftHandover
    from tests.tui.test_signin import sign_in

    add_cashier("C1", "小李", "1111")
    add_cashier("C2", "小王", "2222")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        await open_shift(pilot, "200")
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: on(app, "SignInScreen"))
        await sign_in(pilot, "C2", "2222")
        await settled(pilot)
        handover = ShiftHandover.get()
        assert (handover.from_cashier, handover.to_cashier) == ("C1", "C2")


async def test_paying_out_more_than_the_drawer_holds_is_refused_in_one_sentence(shop):
    """Float ¥200, F11 O ¥300 (a manager's limit): refused, the drawer should hold only ¥200.00; nothing recorded."""
    from store.models import CashMove

    app = asking(shop, cashier_max_paid_out=100000).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "o")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await type_in(pilot, "300", "进货")
        await wait_until(pilot, lambda: "不能支出" in notified(app))
        assert "不能支出 ￥300.00：钱箱里应有的现金只有 ￥200.00" in notified(app)
        assert CashMove.select().count() == 0 and app.screen is app.sale_screen


async def z_counted(pilot, amount: str) -> None:
    await pilot.press("f11", "z")
    await one_total(pilot)
    await type_in(pilot, amount)


async def test_a_z_count_far_off_asks_first_and_n_counts_again(shop):
    """Float ¥200, counted ¥269.80: "实点 ￥269.80，应有 ￥200.00，长款 ￥69.80" - N counts again (no Z), ¥200 closes
    without asking; only Y closes a far count."""
    from store.models import ZReport

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await z_counted(pilot, "269.8")
        await wait_until(pilot, lambda: on(app, "ConfirmScreen"))
        assert "实点 ￥269.80，应有 ￥200.00，长款 ￥69.80" in screen_text(app)
        await pilot.press("enter", "x")  # not a yes
        await pilot.pause()
        assert on(app, "ConfirmScreen") and ZReport.select().count() == 0
        await pilot.press("n")
        await wait_until(pilot, lambda: on(app, "CountScreen"))
        assert ZReport.select().count() == 0
        await pilot.press("f2")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await type_in(pilot, "200")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert ZReport.get().z_no == 1 and "现金相符" in screen_text(app)


async def test_a_blind_z_count_far_off_shows_the_expected_only_after_the_count_and_y_closes(shop):
    from store.models import ZReport

    app = asking(shop, blind_close=True, ask_difference_fen=1000).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await pilot.press("f11", "z")
        await one_total(pilot)
        assert "200.00" not in screen_text(app)
        await type_in(pilot, "189")
        await wait_until(pilot, lambda: on(app, "ConfirmScreen"))
        assert "实点 ￥189.00，应有 ￥200.00，短款 ￥11.00" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "短款 11.00" in screen_text(app) and ZReport.select().count() == 1


async def test_ask_difference_0_never_asks(shop):
    app = asking(shop, ask_difference_fen=0).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await z_counted(pilot, "1000")
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "长款 800.00" in screen_text(app)


def test_money_on_screen_puts_the_sign_before_the_yuan_sign():
    from tui.i18n import set_language, yuan

    set_language("zh")
    assert (yuan(-473020), yuan(350), yuan(0)) == ("-￥4730.20", "￥3.50", "￥0.00")
    set_language("en")
    assert yuan(-5) == "-¥0.05"
    set_language("zh")
