"""The basket saver: the open basket's store work, on its own thread, in the order it happened.

Nothing taken is ever lost: every change of the basket or its payments is
handed to ``keep()`` (a snapshot: the UI goes on at once) and stored by one
thread through ``store.baskets.save``. What ends a basket (the sale commit,
cancel, hold, abandon) is queued behind the changes with ``finish()``, so it
always acts on the basket as stored, and the next change starts a new one.
Consecutive changes collapse into the newest (each is the whole basket). A
failed write is kept and tried again (every second, and before a finish).
No Textual here: answers go back through ``post`` (the app's call_from_thread).
"""
from __future__ import annotations

import collections
import logging
import threading
from typing import Any, Callable, Deque, List, Optional, Tuple

from store.db import db

log = logging.getLogger("chaoying.tui.services.basket_saver")

RETRY_SECONDS = 1.0


class BasketSaver:
    def __init__(self, till_id: str, cashier: Callable[[], str],
                 post: Callable[..., Any] = lambda function, *args: function(*args),
                 trouble: Callable[[Optional[Exception]], Any] = lambda error: None) -> None:
        self.till_id = till_id
        self._cashier = cashier
        self._post = post  # runs a callback on the owner's thread
        self._trouble = trouble  # posted with the error when a write fails, with None when writes work again
        self._changed = threading.Condition()
        self._queue: Deque[Tuple[str, Any]] = collections.deque()
        self._unsaved: Optional[Tuple[Any, List[Any]]] = None  # the newest state not stored yet
        self._busy = False
        self._stopping = False
        self._failing = False
        self._error: Exception = RuntimeError("the open basket is not stored")
        self.basket_id: Optional[int] = None  # touched by the basket saver thread only (and adopt before start)
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaoying-basket", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Store what is queued (up to ``timeout``), then end the thread; False if something was left."""
        done = self.flush(timeout)
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        return done

    def keep(self, basket: Any, payments: List[Any]) -> None:
        """The basket or its payments changed: store this state (soon, in order)."""
        from store.sales import Basket

        snapshot = (Basket.from_dict(basket.as_dict()), list(payments))
        with self._changed:
            if self._queue and self._queue[-1][0] == "keep":
                self._queue[-1] = ("keep", snapshot)
            else:
                self._queue.append(("keep", snapshot))
            self._changed.notify_all()

    def adopt(self, basket_id: Optional[int]) -> None:
        """From now on the basket is this stored one (restored after a crash, or resumed from held)."""
        with self._changed:
            self._queue.append(("adopt", basket_id))
            self._changed.notify_all()

    def finish(self, job: Callable[[Optional[int]], Any], done: Callable[[Any], Any],
               failed: Callable[[Exception], Any]) -> None:
        """After the queued changes: ``job(basket_id)`` ends the stored basket; ``done(value)`` or ``failed(error)``
        are posted back. When the job succeeds the next change starts a new basket."""
        with self._changed:
            self._queue.append(("finish", (job, done, failed)))
            self._changed.notify_all()

    def run(self, job: Callable[[Optional[int]], Any], done: Callable[[Any], Any],
            failed: Callable[[Exception], Any]) -> None:
        """After the queued changes: ``job(basket_id)`` with the basket as stored, which goes on (a payment
        attempt is charged for it); ``done(value)`` or ``failed(error)`` are posted back."""
        with self._changed:
            self._queue.append(("run", (job, done, failed)))
            self._changed.notify_all()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything handed in is done and stored; False if that took longer than ``timeout``."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._queue and not self._busy and self._unsaved is None, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                if not self._changed.wait_for(lambda: self._queue or self._stopping,
                                              RETRY_SECONDS if self._unsaved is not None else None):
                    command: Tuple[str, Any] = ("retry", None)
                elif self._queue:
                    command = self._queue.popleft()
                else:
                    return
                self._busy = True
            try:
                with db.connection_context():
                    self._do(*command)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()

    def _do(self, kind: str, value: Any) -> None:
        if kind == "keep":
            self._unsaved = value
            self._save()
        elif kind == "retry":
            self._save()
        elif kind == "adopt":
            self.basket_id, self._unsaved = value, None
        else:
            job, done, failed = value
            try:
                if not self._save():
                    raise self._error
                result = job(self.basket_id)
            except Exception as exc:
                log.error("basket not finished: %s", exc, exc_info=exc)
                self._post(failed, exc)
                return
            if kind == "finish":
                self.basket_id = None
            self._post(done, result)

    def _save(self) -> bool:
        from store import baskets

        if self._unsaved is None:
            return True
        basket, payments = self._unsaved
        try:
            self.basket_id = baskets.save(self.basket_id, self.till_id, basket, payments, self._cashier() or None)
        except Exception as exc:  # the database is away: say so once, try again with the newest state
            log.error("open basket not stored: %s", exc, exc_info=exc)
            self._error = exc
            if not self._failing:
                self._failing = True
                self._post(self._trouble, exc)
            return False
        with self._changed:
            if self._unsaved is not None and self._unsaved[0] is basket:
                self._unsaved = None
        if self._failing:
            self._failing = False
            self._post(self._trouble, None)
        return True
