"""Odd amounts typed in the tender dialog: each gets one clear sentence, none ends the till.

A till once vanished right after "NaN" was typed. Whatever is typed (not a
number, infinity, an exponent, a negative zero, markup, ten thousand digits),
the dialog stays, says why in the cashier's language, and takes no payment.
"""
from __future__ import annotations

import pytest

from tests.tui.helpers import COLA, last_sale, printed_all, scan, text_of

ODD = {
    "NaN": "not",
    "nan": "not",
    "inf": "not",
    "-inf": "not",
    "Infinity": "not",
    "1e309": "not",
    "1e3": "not",
    "-0": "not",
    "-5": "not",
    "0x10": "not",
    "3.999": "not",
    "[/]": "not",
    "[bold]5": "not",
    "{text}": "not",
    "0": "zero",
    "0.00": "zero",
    "1000000000.00": "large",
    "1" + "0" * 12: "code",  # 8 digits or more are a scanned code: not a payment code, nothing charged
    "9" * 5000: "code",
    "9" * 100_000: "code",
}
SAYS = {"not": "金额不对", "zero": "金额必须大于零", "large": "金额太大", "code": "没有收款"}


@pytest.mark.parametrize("typed", list(ODD), ids=lambda s: s if len(s) < 20 else f"{len(s)}-digits")
async def test_an_odd_amount_gets_a_sentence_and_the_till_keeps_running(shop, typed):
    from textual.widgets import Input

    from tui.screens.tender import TenderScreen

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12")
        amount = app.screen.query_one("#amount", Input)
        amount.value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, TenderScreen)
        said = text_of(app.screen.query_one("#tender-message"))
        assert SAYS[ODD[typed]] in said, said[:80]
        assert len(said) < 80, said[:80]  # one sentence, never the typed text at length
        assert app.screen.tender.paid_fen == 0 and last_sale() is None
        await pilot.press("escape")


async def test_full_width_digits_pay(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", *"１８", "enter")
        await printed_all(pilot, app)
        assert last_sale().change_fen == 1500


@pytest.mark.parametrize("typed", ["[/]", "[/]*" + COLA, "nan*" + COLA, "inf*" + COLA, "-0*" + COLA,
                                   "9" * 100_000 + "*" + COLA])
async def test_an_odd_entry_on_the_sale_screen_gets_a_sentence(shop, typed):
    from textual.widgets import Input

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#entry", Input).value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running and app.return_code is None
        said = text_of(app.screen.query_one("#message"))
        assert said.strip() and len(said) < 80, said[:80]
        assert not app.screen.basket.lines
