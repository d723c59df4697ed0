"""Scan to pay at the till (Pilot): the demo shop with its payment simulator, the real clients over HTTP.

The scanner types the customer's payment code into the tender and presses Enter; no key picks the method.
"""
from __future__ import annotations

import dataclasses
import itertools

import pytest

from tests.tui.conftest import Shop, close_shop
from tests.tui.helpers import COLA, last_sale, scan, text_of, wait_until
from tui.services.payments.provider import Schedule

SHORT = Schedule(poll_seconds=0.1, wait_limit_seconds=5.0, cancel_after_seconds=0.2, retry_seconds=0.1)
_serial = itertools.count(1)


def wechat_code(end: str) -> str:
    return f"13{next(_serial):013d}{end}"


@pytest.fixture
def pay_shop(tmp_path, monkeypatch):
    from tui.demo import start_demo
    from tui.settings import load_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    base = dataclasses.replace(load_settings(None).with_ui("zh", "dark"))
    settings, demo = start_demo(base, tmp_path / "shop", payments=True)
    shop = Shop(settings, demo, tmp_path / "shop")
    try:
        yield shop
    finally:
        close_shop(shop)


def said(app) -> str:
    return text_of(app.screen.query_one("#tender-message"))


async def to_tender(pilot) -> None:
    await scan(pilot, COLA)
    await pilot.press("f12")
    await pilot.pause()


async def test_a_scanned_wechat_code_pays_and_the_panel_shows_the_transaction_number(pay_shop):
    from store.models import Payment

    app = pay_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_tender(pilot)
        await scan(pilot, wechat_code("000"))
        await wait_until(pilot, lambda: last_sale() is not None and app.sale_screen.last_sale_id is not None)
        payment = Payment.get(Payment.sale == last_sale().id)
        assert payment.method == "wechat" and payment.reference and payment.out_trade_no
        panel = text_of(app.sale_screen.query_one("#done-amount"))
        assert payment.reference in panel and "微信" in panel
        await pilot.pause()
        assert app.sale_screen.query_one("#done-amount").size.height == 2  # its second line is on screen, not cut off


async def test_balance_too_low_says_why_and_the_tender_stays_open_for_cash(pay_shop):
    from tui.screens.tender import TenderScreen

    app = pay_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_tender(pilot)
        await scan(pilot, wechat_code("301"))
        await wait_until(pilot, lambda: "余额不足" in said(app))
        assert isinstance(app.screen, TenderScreen) and last_sale() is None
        await pilot.press("enter")  # cash, what is due
        await wait_until(pilot, lambda: last_sale() is not None)


async def test_customer_confirming_is_shown_and_ctrl_s_stops_waiting(pay_shop):
    from tui.screens.tender import TenderScreen

    app = pay_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.payment_desk._schedule = SHORT  # the test's short schedule (the clients' own wait 45 or 60 s)
        await to_tender(pilot)
        await scan(pilot, wechat_code("130"))
        await wait_until(pilot, lambda: "顾客确认中" in said(app))
        await pilot.press("escape")  # the tender stays while the attempt is open
        assert isinstance(app.screen, TenderScreen)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "已撤销" in said(app))
        assert not app.session.blocked() and last_sale() is None
        await pilot.press("enter")
        await wait_until(pilot, lambda: last_sale() is not None)


async def test_a_code_of_the_wrong_length_charges_nothing(pay_shop):
    app = pay_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await to_tender(pilot)
        await scan(pilot, "1345678901234")
        await wait_until(pilot, lambda: "位数不对" in said(app))
        assert app.session.attempts == {} and last_sale() is None
