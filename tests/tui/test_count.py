"""The drawer counted note by note (F11 S, F11 Z): the float and the Z's count stored with their counts,
a bad row refused in one sentence, F2 still types one total."""
from __future__ import annotations

import json

from tests.tui.helpers import COLA, printed_all, scan, screen_text, settled, wait_until
from tests.tui.test_shift import asking, notified, on, open_shift

# the rows, top to bottom: ¥100 ¥50 ¥20 ¥10 ¥5 ¥1 5角 1角


async def counting(pilot, keys: str) -> None:
    """F11 S or F11 Z was pressed: wait for the rows and count, one row per "|"."""
    await wait_until(pilot, lambda: on(pilot.app, "CountScreen"))
    for number in keys.split("|"):
        await pilot.press(*number, "enter")
        await pilot.pause()


def message(app) -> str:
    return str(app.screen.query_one("#count-message").render())


def total(app) -> str:
    return str(app.screen.query_one("#count-total").render())


async def test_a_float_of_2_hundreds_and_3_ones_opens_the_shift_with_203_and_its_counts(shop):
    from store.shifts import current_shift

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await counting(pilot, "2||||")  # ¥100 x 2, then ¥50 ¥20 ¥10 ¥5 left empty
        app.screen.query_one("#count-100").value = "３"  # full-width, as a Chinese input method types it
        await pilot.pause()
        assert "合计 ￥203.00" in total(app) and current_shift(app.till_id) is None
        await pilot.press("f12")
        await settled(pilot)
        assert app.screen is app.sale_screen
        shift = current_shift(app.till_id)
        assert shift.float_fen == 20300 and json.loads(shift.float_counts) == {"10000": 2, "100": 3}
        assert "备用金 ￥203.00" in notified(app)
        await pilot.press("f11", "x")  # the X shows the float's counts under the float
        await wait_until(pilot, lambda: on(app, "ReportView"))
        text = str(app.screen.query_one("#report-text").render())
        assert "100.00 x 2" in text and "1.00 x 3" in text


async def test_a_z_counted_per_denomination_is_one_yuan_short_and_prints_the_counts(shop):
    from store.models import ZReport

    app = asking(shop, blind_close=True).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_shift(pilot, "200")
        await scan(pilot, COLA)  # ¥3.00 in cash: ¥203.00 expected
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await pilot.press("f11", "z")
        await counting(pilot, "2|||||2")  # ¥100 x 2, ¥1 x 2: ¥202.00
        assert "合计 ￥202.00" in total(app) and "203.00" not in screen_text(app)  # blind stays blind
        await pilot.press("enter", "enter")  # 5角, then 1角: Enter on the last row answers
        await wait_until(pilot, lambda: on(app, "ReportView"))
        assert "短款 1.00" in screen_text(app)
        cash = json.loads(ZReport.get().figures)["cash"]
        assert (cash["counted_fen"], cash["over_short_fen"]) == (20200, -100)
        assert cash["counts"] == {"10000": 2, "100": 2}
        await wait_until(pilot, lambda: "Z 报表已打印" in screen_text(app))
        paper = shop.paper()[-1]
        assert any("实点现金" in line and line.endswith("202.00") for line in paper.splitlines())
        assert "100.00 x 2" in paper and "1.00 x 2" in paper


async def test_a_bad_row_is_refused_in_one_sentence_and_changes_nothing(shop):
    from store.shifts import current_shift

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await counting(pilot, "1")  # ¥100 x 1; the cursor is on ¥50
        for bad, said in (("abc", "“abc”不是张数"), ("-1", "“-1”不是张数"), ("1.5", "“1.5”不是张数"),
                          ("123456", "张数太多"), ("9" * 5000, "张数太多")):
            app.screen.query_one("#count-5000").value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert said in message(app), bad
            assert app.screen.focused.id == "count-5000" and "合计 ￥100.00" in total(app)
        await pilot.press("up")  # a bad row holds Up and F12 too
        await pilot.pause()
        assert app.screen.focused.id == "count-5000"
        await pilot.press("down", "down", "f12")
        await settled(pilot)
        assert on(app, "CountScreen") and app.screen.focused.id == "count-5000" and current_shift(app.till_id) is None
        app.screen.query_one("#count-5000").value = "1"
        await pilot.press("up")
        await pilot.pause()
        assert message(app) == "" and app.screen.focused.id == "count-10000" and "合计 ￥150.00" in total(app)
        await pilot.press("f12")
        await settled(pilot)
        assert current_shift(app.till_id).float_fen == 15000


async def test_f2_types_one_total_and_esc_there_comes_back_to_the_rows(shop):
    from store.shifts import current_shift

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await counting(pilot, "1")
        await pilot.press("f2")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: on(app, "CountScreen"))
        assert "合计 ￥100.00" in total(app)
        await pilot.press("f2")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await pilot.press(*"150.50", "enter")
        await settled(pilot)
        assert app.screen is app.sale_screen
        shift = current_shift(app.till_id)
        assert (shift.float_fen, shift.float_counts) == (15050, "")  # one amount typed: no counts


async def test_a_shop_that_counts_one_total_gets_the_amount_at_once(shop):
    """[shift] count_notes = false: no rows, the float (and the Z's count) is one amount typed."""
    from store.shifts import current_shift

    app = asking(shop, count_notes=False).app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await pilot.press(*"200", "enter")
        await settled(pilot)
        shift = current_shift(app.till_id)
        assert shift.float_fen == 20000 and not shift.float_counts


async def test_a_too_large_row_shows_no_amount_and_f2_says_amount_too_large(shop):
    """¥100 x 1, then 14 nines typed on ¥50: the row shows no amount, the total stays ¥100.00 (not the
    ¥4,999,950.00 of the 5 nines before it); F2 with the 14 nines says "amount too large" as the tender does."""
    from store.shifts import current_shift

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await counting(pilot, "1")
        await pilot.press(*"99999999999999")
        await pilot.pause()
        assert str(app.screen.query_one("#count-amount-5000").render()) == ""
        assert "合计 ￥100.00" in total(app) and "4999950" not in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "张数太多" in message(app) and app.screen.focused.id == "count-5000"
        await pilot.press("f2")
        await wait_until(pilot, lambda: on(app, "AmountScreen"))
        await pilot.press(*"99999999999999", "enter")
        await pilot.pause()
        said = str(app.screen.query_one("#amount-message").render())
        assert "金额太大" in said and "不是金额" not in said
        assert current_shift(app.till_id) is None


async def test_on_the_linux_console_the_count_rows_show_the_typed_digits_in_ascii_borders(console_shop):
    """linux16: each row's field is one line with no border (not "+--------+"), the typed 2 and 37 show, no text
    is in its background's colour (the focused row was cyan on cyan), the dialog's border is ASCII."""
    from tests.tui.language import screen_lines
    from tests.tui.test_themes import assert_16_colours, assert_ascii_borders

    app = console_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f11", "s")
        await counting(pilot, "2")
        await pilot.press("3", "7")
        await pilot.pause()
        assert app.theme == "linux16"
        field = app.screen.query_one("#count-5000")
        assert field.size.height == 1 and field.styles.border_top[0] in ("", "none")
        lines = [line.rstrip() for line in screen_lines(app)]
        assert any("| ¥100       2 " in line and line.endswith("200.00 |") for line in lines), lines
        assert any("| ¥50        37 " in line and line.endswith("1850.00 |") for line in lines), lines
        assert not any("+--------+" in line for line in lines)
        assert_ascii_borders(app.screen)
        assert_16_colours(app)
