"""The till never waits: no store work on the UI thread.

A whole Pilot story (start-up, sign-in with a PIN, scans, F12 + payment +
commit, printing, paper out -> banner -> R, H, F9 history search, a reprint
behind a manager's PIN, F10 events, F3 a quantity, hold and resume, sign-out) runs with every SQL statement
recorded with the thread that ran it and the till code (tui/) that asked for
it. None may run on the UI thread (the event loop: the main thread under
Pilot) except the allowlist below. Queries the test itself makes (no tui/
frame on the stack) are not the till's and are not counted.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import peewee
import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import COLA, WATER, last_sale, manager_pin, outcome, printed_all, scan, screen_text, wait_until
from tui.settings import ReprintSettings

TUI = Path(__file__).resolve().parents[2] / "tui"

# (file under tui/, function) whose SQL may run on the UI thread, and why.
ALLOWED = {
    # The scan's product lookup by barcode (primary/unique index, well under a millisecond): kept
    # synchronous so scans land in the basket in the order they were scanned, with no queue.
    ("screens/sale.py", "lookup"),
    # The till is closing: failed payments of an unfinished sale go to the event log; no worker
    # would outlive the app, and no cashier waits for a closing till.
    ("app.py", "on_unmount"),
}


@dataclass(frozen=True)
class Statement:
    sql: str
    thread: str
    on_ui: bool
    tui_frames: Tuple[Tuple[str, str], ...]  # (file under tui/, function), innermost first

    @property
    def allowed(self) -> bool:
        return any(frame in ALLOWED for frame in self.tui_frames)


class SqlRecorder:
    """Wraps peewee's Database.execute_sql: every statement, its thread and the till code that asked."""

    def __init__(self, monkeypatch) -> None:
        self.statements: List[Statement] = []
        original = peewee.Database.execute_sql
        recorder = self

        def execute_sql(database, sql, *args, **kwargs):
            recorder.record(sql)
            return original(database, sql, *args, **kwargs)

        monkeypatch.setattr(peewee.Database, "execute_sql", execute_sql)

    def record(self, sql: str) -> None:
        frames = []
        frame: Optional[object] = sys._getframe(2)
        while frame is not None:
            path = Path(frame.f_code.co_filename)  # type: ignore[attr-defined]
            if TUI in path.parents:
                frames.append((path.relative_to(TUI).as_posix(), frame.f_code.co_name))  # type: ignore[attr-defined]
            frame = frame.f_back  # type: ignore[attr-defined]
        current = threading.current_thread()
        self.statements.append(Statement(sql, current.name, current is threading.main_thread(), tuple(frames)))

    def on_ui_thread(self) -> List[Statement]:
        """The till's statements that ran on the UI thread and are not allowlisted."""
        return [s for s in self.statements if s.on_ui and s.tui_frames and not s.allowed]

    def report(self) -> str:
        return "\n".join(f"{s.tui_frames[0]} <- {s.tui_frames[-1]}: {s.sql[:90]}" for s in self.on_ui_thread())


@pytest.fixture
def managed_shop(tmp_path, monkeypatch):
    """A shop whose reprints need a manager's PIN, with a cashier and a manager."""
    from store.cashiers import add_cashier

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    shop = make_shop(tmp_path / "shop", reprint=ReprintSettings(manager_pin=True, max=0))
    add_cashier("C1", "小李", "1111")
    add_cashier("M1", "王店长", "4321", manager=True)
    try:
        yield shop
    finally:
        close_shop(shop)


def on(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def test_a_whole_day_runs_no_store_work_on_the_ui_thread(managed_shop, monkeypatch):
    from textual.widgets import Input

    shop = managed_shop
    recorder = SqlRecorder(monkeypatch)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        # start-up (recovery, open receipts, who sells) and sign-in: a wrong PIN, then the right one
        assert on(app, "SignInScreen")
        await pilot.press(*"C1", "enter", *"9999", "enter")
        await wait_until(pilot, lambda: "编号或密码不对" in screen_text(app))
        app.screen.query_one("#signin-code", Input).value = ""
        app.screen.query_one("#signin-code", Input).focus()
        await pilot.press(*"C1", "enter", *"1111", "enter")
        await wait_until(pilot, lambda: app.screen is app.sale_screen and app.cashier == "C1")

        # scans, F12, cash, the commit, the receipt
        await scan(pilot, COLA)
        await scan(pilot, "2*" + WATER)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert outcome(last_sale().id).state == "printed"

        # paper out -> banner -> R with paper back; then paper out again -> banner -> H
        shop.demo.set_fault("paper_out")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await wait_until(pilot, lambda: on(app, "BannerScreen") and "缺纸" in screen_text(app))
        shop.demo.set_fault("ok")
        await pilot.press("r")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        shop.demo.set_fault("paper_out")
        await scan(pilot, WATER)
        await pilot.press("f12", "enter")
        await wait_until(pilot, lambda: on(app, "BannerScreen") and "缺纸" in screen_text(app))
        await pilot.press("h")
        await wait_until(pilot, lambda: on(app, "HandwrittenView"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)
        shop.demo.set_fault("ok")

        # F9: search, the detail, R behind a manager's PIN (wrong, then right)
        await pilot.press("f9")
        await wait_until(pilot, lambda: on(app, "HistoryScreen") and len(app.screen.rows) == 3)
        await pilot.press(*"1-000001")
        await wait_until(pilot, lambda: [row["receipt"] for row in app.screen.rows] == ["1-000001"])
        await pilot.press("enter", "r")
        await wait_until(pilot, lambda: on(app, "PinScreen"))
        await manager_pin(pilot, "M1", "1111")
        await wait_until(pilot, lambda: "密码不对" in screen_text(app))
        await manager_pin(pilot, "M1", "4321")
        await wait_until(pilot, lambda: on(app, "HistoryScreen"))
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: "补打 REPRINT 1" in shop.paper()[-1])

        # F10: the event log; then the shift hand-over
        await pilot.press("f10")
        await wait_until(pilot, lambda: on(app, "EventsScreen") and app.screen.loaded)
        assert app.screen.rows
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.sale_screen)

        # F3 a line's quantity; Ctrl+G hold the basket, Ctrl+Y the held list, take it back and pay
        await scan(pilot, COLA)
        await pilot.press("f3", *"2", "enter")
        await wait_until(pilot, lambda: app.sale_screen.basket.total_fen == 600)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: on(app, "AskScreen"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is app.sale_screen and not app.sale_screen.busy)
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: on(app, "HeldScreen") and app.screen.loaded)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.sale_screen.sale_open() and not app.sale_screen.busy)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().total_fen == 600
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: on(app, "SignInScreen"))

    assert any(not s.on_ui for s in recorder.statements)  # the recorder saw the workers' statements
    assert any(s.allowed and s.on_ui for s in recorder.statements)  # and the scans' lookups
    assert recorder.on_ui_thread() == [], recorder.report()


async def test_the_recorder_flags_store_work_on_the_ui_thread(shop, monkeypatch):
    """Proof the check can fail: the same recorder catches a store call the till makes on the UI thread."""
    recorder = SqlRecorder(monkeypatch)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        assert recorder.on_ui_thread() == []
        app.till.unresolved()  # what F12 used to ask the store, on the UI thread
        await pilot.pause()
    flagged = recorder.on_ui_thread()
    assert flagged and flagged[0].tui_frames[0] == ("services/till.py", "unresolved")
    assert "receipt_outcome" in flagged[0].sql


# ---------------------------------------------------------------- where the cashier waits, keys are kept


@pytest.fixture
def held(monkeypatch):
    """held("commit_sale"): that Till method waits (off the UI thread) until the test lets it go."""
    from tui.services.till import Till

    gates = {}

    def hold(name: str) -> threading.Event:
        gate = gates[name] = threading.Event()
        original = getattr(Till, name)

        def waiting(self, *args, **kwargs):
            assert gate.wait(30), f"{name} was never let go"
            return original(self, *args, **kwargs)

        monkeypatch.setattr(Till, name, waiting)
        return gate

    yield hold
    for gate in gates.values():
        gate.set()  # never leave a worker waiting


async def test_saving_shows_and_keys_typed_meanwhile_go_to_the_next_sale_once(shop, held):
    from store.models import Sale
    from tui.screens.tender import SavingNote, TenderScreen

    gate = held("commit_sale")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TenderScreen) and app.screen.saving)
        note = app.screen.query_one(SavingNote)
        assert note.display and "保存中" in str(note.render())
        await pilot.press("enter", "escape", "f2")  # no second commit, no way out, no method change
        await scan(pilot, WATER)  # the next customer's items, scanned while the sale is saved
        await pilot.press(*"69")
        assert isinstance(app.screen, TenderScreen) and Sale.select().count() == 0
        gate.set()
        await wait_until(pilot, lambda: app.screen is app.sale_screen and app.sale_screen.basket.lines)
        await printed_all(pilot, app)
        assert Sale.select().count() == 1 and last_sale().total_fen == 300
        assert ["农夫山泉" in line.name for line in app.sale_screen.basket.lines] == [True]
        assert app.sale_screen.entry.value == "69"


async def test_codes_scanned_before_the_till_has_started_are_added_in_order_after(shop, held):
    from tui.app import ChaoyingApp

    gate = held("recover")
    app = ChaoyingApp(shop.settings, demo=shop.demo)  # not shop.app(): its pilot waits for the start
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await scan(pilot, WATER)
        await pilot.press("f12")
        assert not app.started and not app.sale_screen.sale_open()
        gate.set()
        await wait_until(pilot, lambda: app.started and len(app.sale_screen.basket.lines) == 2)
        names = [line.name for line in app.sale_screen.basket.lines]
        assert "可口可乐" in names[0] and "农夫山泉" in names[1]
