"""F10, the event log: a detail longer than its column is read whole (issue 23, finding 5)."""
from __future__ import annotations

from tests.tui.helpers import screen_text, settled, wait_until

LONG = ("付款码被拒：" + "顾客的微信零钱余额不足，请换一张银行卡或者改用现金支付，" * 4 + "最后一段在这里").strip()


def drawn(app, widget=None) -> str:
    """What the screen (or one widget) shows, its lines joined without spaces: text wrapped over lines reads whole."""
    if widget is None:
        strips = app.screen._compositor.render_strips()
    else:
        strips = widget.render_lines(widget.region.reset_offset)
    return "".join(strip.text for strip in strips).replace(" ", "")


def on(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def test_enter_on_an_event_shows_its_whole_detail_wrapped_and_esc_goes_back(shop):
    """QA: a long detail was cut at the table's column and on the line below, with no way to read it."""
    from store import events
    from tui.screens.events import EventDetailView

    events.log_event("payment_failed", shop.settings.till.id, cashier="c1", detail=LONG)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await wait_until(pilot, lambda: on(app, "EventsScreen") and app.screen.loaded)
        assert LONG not in drawn(app)  # cut: the table's column and the line below end in …
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EventDetailView))
        shown = screen_text(app)
        assert "c1" in shown and "付款失败" in shown
        text = app.screen.query_one("#event-detail-text")
        assert LONG in drawn(app, text) and text.size.height > 1  # the whole of it, wrapped over lines
        await pilot.press("escape")
        await settled(pilot)
        assert on(app, "EventsScreen")


async def test_enter_on_an_empty_event_log_does_nothing(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await wait_until(pilot, lambda: on(app, "EventsScreen") and app.screen.loaded)
        assert app.screen.rows == []
        await pilot.press("enter")
        await settled(pilot)
        assert on(app, "EventsScreen")
