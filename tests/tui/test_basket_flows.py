"""Giving a basket up never loses what was taken: cancel (Ctrl+X), hand money back, remove a payment (Ctrl+D),
and Ctrl+Q with a basket open asks first."""
from __future__ import annotations

from typing import List

from tests.tui.helpers import COLA, last_sale, printed_all, scan, screen_text, settled, text_of, wait_until


def events(kind: str) -> List[str]:
    from store.models import Event

    return [e.detail for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def basket_states() -> List[tuple]:
    from store.models import OpenBasket

    return [(b.state, b.paid_fen, b.total_fen) for b in OpenBasket.select().order_by(OpenBasket.id)]


def kicks(shop, count: int) -> int:
    """The virtual printer's drawer kicks, once it has read ``count`` of them (its own thread decodes them)."""
    import time

    printer = shop.demo.printer
    deadline = time.monotonic() + 10
    while printer.drawer_kicks < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return printer.drawer_kicks


async def stored(pilot, app) -> None:
    """The basket saver has stored everything handed to it, the printer thread is idle, event writes are done."""
    await wait_until(pilot, lambda: app.basket_saver.flush(0.01) and app.till.idle)
    await settled(pilot)


async def take(pilot, *payments: str) -> None:
    """On the tender: pay 'cash:5' or 'wechat:3' (a QR payment with no reference typed), in order."""
    keys = {"cash": "f2", "wechat": "f4", "alipay": "f5"}
    for payment in payments:
        method, amount = payment.split(":")
        await pilot.press(keys[method], *amount, "enter")


async def test_a_basket_with_no_money_taken_is_cancelled_after_one_question(shop_en):
    from tui.screens.confirm import ConfirmScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + COLA)
        await pilot.press("ctrl+x")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cancel this basket (1 item, ¥15.00)?" in screen_text(app)
        await pilot.press("n")  # back: nothing changes
        assert app.screen is app.sale_screen and app.sale_screen.basket.total_fen == 1500
        await pilot.press("ctrl+x", "y")
        await wait_until(pilot, lambda: app.sale_screen.basket.is_empty)
        await stored(pilot, app)
        assert "Basket cancelled" in text_of(app.sale_screen.query_one("#message"))
        assert basket_states() == [("cancelled", 0, 1500)]
        assert events("basket_cancelled") == ["1 items 15.00"]
        assert shop_en.demo.printer.drawer_kicks == 0  # no money: no drawer
        await pilot.press("ctrl+x")  # nothing left to cancel: one sentence
        assert "There is no basket to cancel" in text_of(app.sale_screen.query_one("#message"))
        await scan(pilot, COLA)  # the next basket is a new one
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
    assert last_sale().total_fen == 300
    assert [state for state, _, _ in basket_states()] == ["cancelled", "sold"]


async def test_abandoning_a_half_paid_basket_names_the_money_to_hand_back_and_opens_the_drawer(shop_en):
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.tender import TenderScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + COLA)
        await pilot.press("f12")
        await take(pilot, "cash:5", "wechat:3")
        await pilot.press("f5", "2", "f6")  # Alipay declined: recorded, not counted
        await stored(pilot, app)
        assert basket_states() == [("open", 800, 1500)]
        await pilot.press("ctrl+x")  # on the tender
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cancel this basket and hand back ¥5.00 Cash, ¥3.00 WeChat?" in screen_text(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: not isinstance(app.screen, (TenderScreen, ConfirmScreen))
                         and app.sale_screen.basket.is_empty and app.sale_screen.tender is None)
        await stored(pilot, app)
        assert "hand back ¥5.00 Cash, ¥3.00 WeChat" in text_of(app.sale_screen.query_one("#message"))
        assert basket_states() == [("abandoned", 800, 1500)]
        assert events("payment_handed_back") == ["cash 5.00", "wechat 3.00"]
        assert events("payment_failed") == ["alipay 2.00 (sale not finished)"]
        assert kicks(shop_en, 1) == 1  # cash among them: the drawer opened to hand it back
        assert events("drawer_open")[0].startswith("basket abandoned: hand back cash 5.00")
    assert last_sale() is None  # no sale, no receipt number


async def test_ctrl_d_removes_the_last_payment_after_naming_it_cash_opens_the_drawer(shop_en):
    from tui.screens.confirm import ConfirmScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + COLA)
        await pilot.press("f12")
        await pilot.press("ctrl+d")  # nothing taken yet: one sentence, no question
        assert "No payment to remove yet" in screen_text(app)
        await take(pilot, "cash:5", "wechat:3")
        await pilot.press("ctrl+d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Remove the payment ¥3.00 WeChat and hand it back?" in screen_text(app)
        await pilot.press("y")
        await stored(pilot, app)
        tender = app.sale_screen.tender
        assert [(p.method, p.amount_fen) for p in tender.payments] == [("cash", 500)]
        assert basket_states() == [("open", 500, 1500)]
        assert events("payment_removed") == ["wechat 3.00"]
        assert shop_en.demo.printer.drawer_kicks == 0  # WeChat goes back on the phone, not from the drawer
        await pilot.press("ctrl+d", "n")  # asked, declined: the cash stays
        assert tender.paid_fen == 500
        await pilot.press("ctrl+d", "y")
        await stored(pilot, app)
        assert tender.paid_fen == 0 and basket_states() == [("open", 0, 1500)]
        assert "hand back ¥5.00 Cash" in screen_text(app)
        assert events("payment_removed") == ["wechat 3.00", "cash 5.00"]
        assert kicks(shop_en, 1) == 1
        assert events("drawer_open")[0].startswith("payment removed: hand back cash 5.00")
        await pilot.press("escape")
        await scan(pilot, COLA)  # nothing paid any more: the basket can change again
        assert app.sale_screen.basket.total_fen == 1800
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
    sale = last_sale()
    assert sale.total_fen == 1800 and [(p.method, p.amount_fen) for p in sale.payments] == [("cash", 1800)]


async def test_ctrl_q_with_a_basket_open_asks_keep_or_cancel_and_never_drops_it(shop_en):
    from tui.screens.abandon import QuitScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + COLA)
        await pilot.press("f12")
        await take(pilot, "cash:5")
        await pilot.press("escape", "ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        assert "Already taken: ¥5.00 Cash" in screen_text(app)
        await pilot.press("escape")  # back: the till goes on
        assert app.screen is app.sale_screen and app.return_code is None
        await pilot.press("ctrl+q", "k")  # keep it for the next start
        await wait_until(pilot, lambda: app.return_code is not None)
    assert basket_states() == [("open", 500, 1500)]  # stored before the till closed
    assert events("payment_failed") == [] and shop_en.demo.printer.drawer_kicks == 0

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.sale_screen.sale_open())
        assert "¥5.00 already taken" in text_of(app.sale_screen.query_one("#message"))
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("c")  # cancel it: the money is handed back, then the till closes
        await wait_until(pilot, lambda: app.return_code is not None)
    assert basket_states() == [("abandoned", 500, 1500)]
    assert events("payment_handed_back") == ["cash 5.00"]
    assert kicks(shop_en, 1) == 1  # the till waited for the drawer before it closed


async def test_ctrl_q_with_an_empty_basket_quits_at_once(shop_en):
    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None)
    assert basket_states() == []


async def test_ctrl_q_on_the_sign_in_keeps_the_basket_nobody_signed_in_hands_money_back(shop_en):
    from store.cashiers import add_cashier
    from tui.screens.abandon import QuitScreen

    app = shop_en.app(cashier="C1")
    add_cashier("C1", "Li", "1111")
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, "5*" + COLA)
        await pilot.press("f12")
        await take(pilot, "cash:5")
        await stored(pilot, app)
    app = shop_en.app()  # the next start: the basket is back behind the sign-in
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.signing_in() and app.sale_screen.sale_open())
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitScreen)
        assert "C cancels" not in screen_text(app)
        await pilot.press("c")  # not offered: nothing happens
        await settled(pilot)
        assert isinstance(app.screen, QuitScreen) and basket_states() == [("open", 500, 1500)]
        await pilot.press("k")
        await wait_until(pilot, lambda: app.return_code is not None)
    assert basket_states() == [("open", 500, 1500)] and events("payment_handed_back") == []
