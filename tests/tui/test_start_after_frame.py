"""What a till with a server asks at start waits until after the first frame, and still decides the start.

``ChaoyingApp.start_refusal`` (set by ``chaoying run`` with ``[server] url``) is asked on a thread once the
first frame is drawn, before the start-up store work: a refusal ends the till before it sells (run_till then
says it, exit 2); an answer of "" or a failure to ask lets the start-up go on. The sync worker's thread starts
after the first frame too. And peewee is imported without the database drivers, which stay importable.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "till 1 sold 250 receipts on the shop's server before tills synced; give this till a new [till] id."


@pytest.fixture
def shop(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    made = make_shop(tmp_path / "shop")
    try:
        yield made
    finally:
        close_shop(made)


def till(shop, refusal):
    from tui.app import ChaoyingApp

    app = ChaoyingApp(shop.settings, demo=shop.demo)
    app.start_refusal = refusal
    return app


async def test_a_refusal_asked_after_the_first_frame_ends_the_till_before_it_sells(shop):
    asked = []

    def refuse() -> str:
        asked.append(threading.current_thread() is threading.main_thread())
        return REFUSAL

    app = till(shop, refuse)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: bool(app.refused))
    assert asked == [False]  # on a thread, never the UI thread
    assert app.refused == REFUSAL and app.return_code == 2
    assert not app.started  # the start-up store work never ran: nothing sold, nothing recovered


async def test_no_refusal_lets_the_start_up_go_on(shop):
    app = till(shop, lambda: "")
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert app.refused == ""
    assert app.return_code in (None, 0)


async def test_a_question_that_fails_lets_the_start_up_go_on(shop):
    def broken() -> str:
        raise RuntimeError("server gone")

    app = till(shop, broken)
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert app.refused == ""


def test_run_till_asks_only_with_a_server(shop):
    from tui.cli.till import start_refusal
    from tui.settings import ServerSettings

    assert start_refusal(shop.settings) is None
    served = dataclasses.replace(shop.settings, server=ServerSettings(url="postgresql://till@127.0.0.1:1/shop"))
    assert callable(start_refusal(served))


async def test_the_sync_worker_starts_after_the_first_frame(shop):
    from tui.settings import ServerSettings

    settings = dataclasses.replace(shop.settings, server=ServerSettings(url="postgresql://till@127.0.0.1:1/shop"))
    from tui.app import ChaoyingApp

    app = ChaoyingApp(settings, demo=shop.demo)
    callers = []
    start = app.sync.start

    def watched_start():
        callers.append([frame.function for frame in inspect.stack()[1:3]])
        return start()

    app.sync.start = watched_start  # type: ignore[method-assign]
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.started and app.sync.alive)
    assert callers == [["start_sync", "start_up_after_frame"]]  # not on_mount: after the first frame


CHILD = r"""
import json, sys
from types import SimpleNamespace
import tui.cli.till as till
till._skip_drivers(SimpleNamespace(database=SimpleNamespace(url=sys.argv[1])))
import peewee
seen = {"peewee_psycopg2": peewee.psycopg2 is not None, "hidden_left": [d for d in till._DRIVERS if d in sys.modules]}
try:
    import psycopg2  # noqa: F401
    seen["importable"] = True
except ImportError:
    seen["importable"] = False
print(json.dumps(seen))
"""


@pytest.mark.parametrize("url", ["sqlite:///till.sqlite3", "postgresql://till@127.0.0.1:1/shop"])
def test_peewee_loads_without_the_drivers_and_psycopg2_stays_importable(url):
    pytest.importorskip("psycopg2")
    seen = json.loads(subprocess.run([sys.executable, "-c", CHILD, url], cwd=str(ROOT), check=True,
                                     capture_output=True, text=True, timeout=60).stdout)
    assert seen == {"peewee_psycopg2": False, "hidden_left": [], "importable": True}


async def test_the_sale_screen_is_the_only_screen_and_the_payment_desk_starts_after_the_first_frame(shop,
                                                                                                     monkeypatch):
    from tui.services.payments.desk import PaymentDesk

    callers = []
    start = PaymentDesk.start

    def watched_start(desk):
        callers.append([frame.function for frame in inspect.stack()[1:2]])
        return start(desk)

    monkeypatch.setattr(PaymentDesk, "start", watched_start)
    app = till(shop, None)
    assert app._payment_desk is None and app.session.desk is None  # nothing of the desk before the app runs
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, lambda: app.started)
        assert app.screen_stack == [app.sale_screen]  # no empty default screen built and styled below it
        assert app.session.desk is app.payment_desk
    assert callers == [["start_up_after_frame"]]


def test_importing_the_app_loads_neither_the_payment_desk_nor_the_provider_interface():
    code = ("import sys, tui.app; print(sorted(m for m in ('tui.services.payments.desk', "
            "'tui.services.payments.provider', 'tui.services.payments.wechat') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), check=True, capture_output=True,
                            text=True, timeout=60).stdout.strip()
    assert loaded == "[]"
