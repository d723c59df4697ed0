"""The one thread a payment or refund desk runs on: started, woken through ``_changed``, stopped."""
from __future__ import annotations

import threading
from typing import Optional


class Worker:
    """A desk's thread. The subclass's ``_run`` loops under ``_changed`` until ``_stopping``; what is still
    open when it stops is followed again by the next start's ``recover``."""

    thread_name = "chaoying-worker"

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """End the thread (waiting up to ``timeout`` for the step it is in)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
