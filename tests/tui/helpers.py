"""Story helpers: scan, wait for the printer thread, read the screen."""
from __future__ import annotations

import time
from typing import Callable, List

COLA = "6901234567892"      # 可口可乐 3.00
WATER = "6902538005141"     # 农夫山泉 2.00
APPLE = "1"                 # 苹果 8.90 / 斤
BUN = "7"                   # 馒头 1.00


async def scan(pilot, code: str) -> None:
    """Type a code into the entry line and press Enter, like a scanner."""
    await pilot.press(*code, "enter")


async def settled(pilot) -> None:
    """Let the till's thread workers and its basket saver (which commits sales) finish, and what their
    answers start (an event write after a check, a print after a commit)."""
    saver = getattr(pilot.app, "basket_saver", None)
    for _ in range(2):
        await pilot.pause()
        if saver is not None:
            await wait_until(pilot, lambda: saver.flush(0))
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until predicate() holds; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        await pilot.pause(0.05)
    await pilot.pause()


async def printed_all(pilot, app, timeout: float = 15.0) -> None:
    """Wait until the till's printer thread has answered every job and the app has seen the answers."""
    await settled(pilot)  # a commit runs on a thread worker: its answer hands the sale to the printer
    await wait_until(pilot, lambda: not app.in_flight and app.till.idle, timeout)


def outcome(sale_id: int):
    from store.models import ReceiptOutcome

    return ReceiptOutcome.get(ReceiptOutcome.sale == sale_id)


def attempts(sale_id: int) -> List[str]:
    from store.models import PrintAttempt

    return [a.result for a in PrintAttempt.select().where(PrintAttempt.sale == sale_id).order_by(PrintAttempt.id)]


def last_sale():
    from store.models import Sale

    return Sale.select().order_by(Sale.id.desc()).first()


def text_of(widget) -> str:
    """What a Static shows, as plain text."""
    return str(widget.render())


def screen_text(app) -> str:
    """Every Static on the current screen, joined (for 'the screen says ...' checks)."""
    from textual.widgets import Static

    return "\n".join(text_of(w) for w in app.screen.query(Static))
