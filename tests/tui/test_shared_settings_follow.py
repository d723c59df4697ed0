"""The shop's shared [selling] and [limits] values reach a running till within seconds, never mid-tender.

Through the real till app (Pilot) on its own SQLite file: with a real PostgreSQL server the shop sets
``[limits] max_qty`` there (store.shared_data.set_shared_setting, in a process of its own, as the back office
does), the sync worker pulls it and the next line asks; without a server, new settings handed to the app as
the follower does (a message from another thread) wait while a basket is being paid and are in use when it ends.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import subprocess
import sys
import threading

from tests.tui.helpers import COLA, last_sale, printed_all, scan, text_of, wait_until


def asking(app) -> bool:
    from tui.screens.confirm import ConfirmScreen

    return isinstance(app.screen, ConfirmScreen)


def lines(app):
    return [(line.name.split()[0], line.qty_milli) for line in app.sale_screen.basket.lines]


def set_on_server(url: str, section: str, key: str, value) -> None:
    """What `chaoying shared set` does on the shop's server, in a process of its own (this one's store is the
    till's SQLite)."""
    code = ("import sys; from store.db import open_database, close_database; from store import shared_data; "
            "open_database(sys.argv[1]); shared_data.set_shared_setting(sys.argv[2], sys.argv[3], int(sys.argv[4]), "
            "changed_by='test'); close_database()")
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-c", code, url, section, key, str(value)], check=True, timeout=60, env=env,
                   cwd=os.getcwd())


async def test_a_max_qty_set_on_the_server_asks_on_the_running_till_without_a_restart(synced_shop, caplog):
    caplog.set_level(logging.INFO, logger="chaoying.tui.app")
    app = synced_shop.app()
    async with app.run_test(size=(100, 24)) as pilot:
        assert app.sync is not None and app.settings_follower is not None
        await scan(pilot, "6*" + COLA)
        assert not asking(app) and lines(app) == [("可口可乐", 6000)]  # the file's max_qty: 999
        await pilot.press("ctrl+x", "y")  # that basket ends (cancelled) before the shop changes its limits
        await wait_until(pilot, lambda: lines(app) == [])
        set_on_server(synced_shop.server_url, "limits", "max_qty", 5)
        await wait_until(pilot, lambda: app.settings.limits.max_qty == 5, timeout=30)
        assert app.session.settings is app.settings and app.till.settings is app.settings
        assert app.file_settings.limits.max_qty == 999  # the file's own stay under the shop's
        await scan(pilot, "6*" + COLA)
        assert asking(app)  # the limit the cashier meets is the shop's now
        assert "6" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
        assert lines(app) == []
        await scan(pilot, "5*" + COLA)
        assert not asking(app) and lines(app) == [("可口可乐", 5000)]
    applied = [r.getMessage() for r in caplog.records if "shared settings are in use now" in r.getMessage()]
    assert len(applied) == 1 and "limits.max_qty 999 -> 5" in applied[0]


def post_from_thread(app, settings) -> None:
    """What SharedSettingsFollower's apply does for the app: a message posted from the sync thread."""
    from tui.app import SharedSettingsReport

    thread = threading.Thread(target=lambda: app.post_message(SharedSettingsReport(settings)))
    thread.start()
    thread.join()


async def test_settings_changed_during_a_tender_wait_for_the_basket_to_end(shop, caplog):
    from tui.screens.tender import TenderScreen

    caplog.set_level(logging.INFO, logger="chaoying.tui.app")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.settings
        strict = dataclasses.replace(before, limits=dataclasses.replace(before.limits, max_change_fen=500))
        await scan(pilot, COLA)
        await pilot.press("f12")
        assert isinstance(app.screen, TenderScreen)
        post_from_thread(app, strict)
        await wait_until(pilot, lambda: app.session.settings_waiting())
        assert app.settings is before and app.session.settings is before  # not in the middle of a tender
        await pilot.press(*"10", "enter")  # ¥7 change: the old limit (¥1,000) does not ask
        assert not asking(app)
        await printed_all(pilot, app)
        assert last_sale().change_fen == 700
        await wait_until(pilot, lambda: app.settings is strict)  # the basket ended: in use
        assert app.session.settings is strict and not app.session.settings_waiting()
        await scan(pilot, COLA)
        await pilot.press("f12", *"10", "enter")
        assert asking(app)  # the next basket meets the new limit
        await pilot.press("escape")
    applied = [r.getMessage() for r in caplog.records if "shared settings are in use now" in r.getMessage()]
    assert len(applied) == 1 and "limits.max_change_fen 100000 -> 500" in applied[0]


async def test_settings_changed_with_no_basket_being_paid_are_in_use_at_once(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        before = app.settings
        loose = dataclasses.replace(before, selling=dataclasses.replace(before.selling, cashier_max_discount=40))
        await scan(pilot, COLA)  # a basket being rung up, not paid: the rules change for its next step
        post_from_thread(app, loose)
        await wait_until(pilot, lambda: app.settings is loose)
        assert app.session.settings is loose and app.session.settings.selling.cashier_max_discount == 40
