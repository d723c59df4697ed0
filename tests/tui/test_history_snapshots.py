"""Snapshots of the history (F9) and the event log (F10) at 80x24, in Chinese and English.

Update after an intended change with:
    pytest tests/tui/test_history_snapshots.py --snapshot-update
The day is rung up through the till, then every time in the database is set
to a fixed one, so the pictures do not depend on the clock.
"""
from __future__ import annotations

import datetime

import pytest

from tests.tui.helpers import COLA, WATER, printed_all, scan, wait_until

SIZE = (80, 24)
DAY = datetime.datetime(2026, 11, 22, 9, 15, 0)


@pytest.fixture(autouse=True)
def no_status_polls(monkeypatch):
    """The idle printer is not asked how it is: its answers would land in the event log at any time."""
    from tui import printer_worker

    monkeypatch.setattr(printer_worker, "STATUS_POLL_SECONDS", 0)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause(0.05)


async def ring_up_a_day(pilot, shop) -> None:
    """A printed and reprinted cola; water whose paper ran out, handwritten instead; fixed times."""
    from tui.screens.banner import BannerScreen

    app = pilot.app
    await scan(pilot, COLA)
    await pilot.press("f12", "enter")
    await printed_all(pilot, app)
    await pilot.press("f9", "r")
    await printed_all(pilot, app)
    await pilot.press("escape")
    shop.demo.set_fault("paper_out")
    await scan(pilot, "2*" + WATER)
    await pilot.press("f12", "enter")
    await printed_all(pilot, app)
    await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
    await pilot.press("h", "escape")
    shop.demo.set_fault("ok")
    fix_the_clock()
    app.clear_notifications()


def fix_the_clock() -> None:
    from store.db import db
    from store.models import Event, PrintAttempt, Sale

    with db.atomic():
        _fix_times(Event, PrintAttempt, Sale)


def _fix_times(Event, PrintAttempt, Sale) -> None:
    for number, sale in enumerate(list(Sale.select().order_by(Sale.id))):
        Sale.update(sold_at=DAY + datetime.timedelta(minutes=5 * number)).where(Sale.id == sale.id).execute()
    for attempt in list(PrintAttempt.select()):
        at = DAY + datetime.timedelta(minutes=1, seconds=attempt.id)
        PrintAttempt.update(started_at=at, finished_at=at).where(PrintAttempt.id == attempt.id).execute()
    # The idle printer's polls may or may not have seen the paper run out: not part of the picture.
    Event.delete().where(Event.kind == "printer_status").execute()
    for event in list(Event.select()):
        Event.update(at=DAY + datetime.timedelta(seconds=event.id)).where(Event.id == event.id).execute()


def history_run(shop):
    async def run_before(pilot):
        await ring_up_a_day(pilot, shop)
        await pilot.press("f9")
        await settle(pilot)

    return run_before


def events_run(shop):
    async def run_before(pilot):
        await ring_up_a_day(pilot, shop)
        await pilot.press("f10")
        await settle(pilot)

    return run_before


def test_history(shop, snap_compare):
    assert snap_compare(shop.app(cashier="007"), terminal_size=SIZE, run_before=history_run(shop))


def test_history_english(shop_en, snap_compare):
    assert snap_compare(shop_en.app(cashier="007"), terminal_size=SIZE, run_before=history_run(shop_en))


def test_event_log(shop, snap_compare):
    assert snap_compare(shop.app(cashier="007"), terminal_size=SIZE, run_before=events_run(shop))


def test_event_log_english(shop_en, snap_compare):
    assert snap_compare(shop_en.app(cashier="007"), terminal_size=SIZE, run_before=events_run(shop_en))
