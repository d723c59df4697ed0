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


async def settled(pilot, printer: bool = False, timeout: float = 15.0) -> None:
    """Let the till finish what it has started, and what the answers start (an event write after a check,
    a print after a commit): after this, what did not happen will not happen without a new key or timer.

    Settled means: no thread worker is left (each has posted its answer), the basket saver has stored all it
    was handed, and no message waits in the app's or a screen's queue. With ``printer``, also: no receipt is
    in flight, the printer thread is idle (a separate drawer kick runs after its receipt's answer) and the
    demo's virtual printer has read and run every byte on its line (a kick is never confirmed). All of it must
    hold twice in a row with the UI loop run in between, since an answer handled can start new work.
    Fails the test after ``timeout`` seconds, naming what was still busy.
    """
    app = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        await pilot.pause()
        busy = still_busy(app, printer)
        quiet = 0 if busy else quiet + 1
        if busy:
            if time.monotonic() > deadline:
                raise AssertionError(f"the till did not settle within {timeout} s: still busy: {', '.join(busy)}")
            await pilot.pause(0.02)


def still_busy(app, printer: bool = False) -> List[str]:
    """What the till is still doing (see settled); empty when it has settled."""
    busy = [f"worker {worker.name or worker.group}" for worker in app.workers]
    saver = getattr(app, "basket_saver", None)
    if saver is not None and not saver.flush(0):
        busy.append("basket saver")
    busy += [f"messages for {pump}" for pump in (app, *app.screen_stack) if pump.message_queue_size]
    if printer:
        if app.in_flight:
            busy.append(f"receipts in flight {sorted(app.in_flight)}")
        if not app.till.idle:
            busy.append("printer thread")
        virtual = getattr(getattr(app, "demo", None), "printer", None)
        if virtual is not None and not virtual.drained():
            busy.append("virtual printer (bytes on its line)")
    return busy


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


async def manager_pin(pilot, code: str, pin: str) -> None:
    """At the manager prompt: the manager's code (over whatever the field held), Enter, the PIN, Enter."""
    from textual.widgets import Input

    field = pilot.app.screen.query_one("#pin-code", Input)
    field.value = ""
    field.focus()
    await pilot.press(*code, "enter", *pin, "enter")
