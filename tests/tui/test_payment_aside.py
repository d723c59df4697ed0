"""The shop's internet goes down mid-payment (Pilot): the tender says so and names Ctrl+G; Ctrl+G sets the basket
aside, the next customer pays cash, and when the internet is back the set-aside basket's payment arrives as its
own sale with its receipt, said in one sentence (zh and en).

The demo shop and its payment simulator, the real WeChat Pay client, a real TCP relay as the shop's internet.
"""
from __future__ import annotations

import dataclasses

import pytest

from tests.services import internet
from tests.tui.conftest import Shop, close_shop
from tests.tui.helpers import COLA, WATER, scan, text_of, wait_until
from tests.tui.test_mobile_payments import SHORT, wechat_code

PATIENT = dataclasses.replace(SHORT, wait_limit_seconds=60.0)  # the desk never cancels while the test waits

#: language -> what the tender, the sale screen and the toasts say (parts of the i18n sentences)
SAYS = {
    "zh": ("按 ^G 先挂起此单，为下一位顾客结账", "只有付款码付款无应答时", "此单已挂起", "挂起那一单的微信付款"),
    "en": ("^G sets this basket aside to serve the next customer", "only while its payment code payment gets no answer",
           "Basket set aside", "of the basket set aside at"),
}


@pytest.fixture(params=["zh", "en"])
def line_shop(request, tmp_path, monkeypatch):
    from tui.demo import start_demo
    from tui.settings import load_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    base = load_settings(None).with_ui(request.param, "dark")
    settings, demo = start_demo(base, tmp_path / "shop", payments=True)
    line = internet.Line(int(demo.simulator.url.rsplit(":", 1)[1]))
    wechat = dataclasses.replace(settings.payments.wechat, base_url=line.url, timeout_seconds=1)
    settings = dataclasses.replace(settings, payments=dataclasses.replace(settings.payments, wechat=wechat))
    shop = Shop(settings, demo, tmp_path / "shop")
    shop.line, shop.language = line, request.param  # type: ignore[attr-defined]
    try:
        yield shop
    finally:
        line.stop()
        close_shop(shop)


def toasts(app) -> str:
    return "\n".join(str(notification.message) for notification in app._notifications)


def sales():
    from store.models import Sale

    return list(Sale.select().order_by(Sale.receipt_no))


async def test_ctrl_g_sets_an_unclear_basket_aside_and_its_payment_arrives_as_its_own_sale(line_shop):
    from tui.screens.tender import TenderScreen

    unclear, refused, done, arrived = SAYS[line_shop.language]
    line = line_shop.line
    app = line_shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.payment_desk._schedule = PATIENT
        await pilot.press("ctrl+g")  # nothing is unclear: the sale screen asks for a hold note as usual
        await pilot.press("escape")
        await scan(pilot, COLA)
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: refused in text_of(app.screen.query_one("#tender-message")))
        line.mode = internet.LOSING  # the provider charges; its answer is lost
        await scan(pilot, wechat_code("000"))
        await wait_until(pilot, lambda: unclear in text_of(app.screen.query_one("#tender-message")))
        line.mode = internet.DOWN
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: not isinstance(app.screen, TenderScreen) and app.session.aside
                         and done in text_of(app.sale_screen.query_one("#message")))
        await scan(pilot, WATER)  # the next customer, in cash
        await pilot.press("f12")
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(sales()) == 1)
        line.mode = internet.UP
        await wait_until(pilot, lambda: len(sales()) == 2 and arrived in toasts(app))
        cash, mobile = sales()
        assert (cash.total_fen, mobile.total_fen) == (200, 300) and mobile.receipt_no == cash.receipt_no + 1
        assert f"{mobile.till_id}-{mobile.receipt_no:06d}" in toasts(app)
        assert not app.session.aside
        await wait_until(pilot, lambda: len(line_shop.paper()) == 2)  # its receipt printed, as any sale's
        assert f"{mobile.receipt_no:06d}" in line_shop.paper()[-1]
