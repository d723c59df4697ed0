"""Nothing taken is ever lost: the open basket and its payments are stored as they change."""
from __future__ import annotations

from tests.tui.helpers import APPLE, COLA, last_sale, printed_all, scan, text_of, wait_until


async def test_a_basket_with_money_taken_comes_back_at_the_next_start(shop):
    from store.models import OpenBasket

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, "2*" + APPLE)
        await pilot.press("f12", *"5", "enter")  # ¥5 of ¥20.80 taken in cash
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
        stored = OpenBasket.get(OpenBasket.state == "open")
        assert (stored.items, stored.paid_fen, stored.total_fen) == (2, 500, 2080)
    # the till closed with the basket open (as after a crash): the next start brings it back
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.started and app.sale_screen.sale_open())
        screen = app.sale_screen
        assert [line.qty_milli for line in screen.basket.lines] == [1000, 2000]
        assert screen.tender is not None and screen.tender.paid_fen == 500
        assert "5.00" in text_of(screen.query_one("#message"))
        await pilot.press("f12", "enter")  # the rest, in cash
        await printed_all(pilot, app)
        sale = last_sale()
        assert sale.total_fen == 2080 and [p.amount_fen for p in sale.payments] == [500, 1580]
        assert OpenBasket.get_by_id(stored.id).state == "sold"
        assert OpenBasket.select().where(OpenBasket.state == "open").count() == 0


async def test_a_basket_emptied_before_the_close_does_not_come_back(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f4")  # its only line voided: stored as an empty open basket
        await wait_until(pilot, lambda: app.basket_saver.flush(0.01))
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert not app.sale_screen.sale_open()
        assert "恢复" not in text_of(app.sale_screen.query_one("#message"))
