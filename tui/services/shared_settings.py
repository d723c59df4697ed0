"""The shop's shared [selling] and [limits] values over the till's own settings file, kept current.

Plain Python, no Textual. At start the till applies them once (``tui.cli.till.with_shared_settings``); while
it runs, ``SharedSettingsFollower`` hears each pull that changed the shared settings (``store.shared_data
.on_change``, on the sync thread, where the local database is open), builds the settings again from the
file's and hands them to ``apply`` (the app posts them to its UI thread, which swaps ``app.settings`` and
``session.settings``). A value that fails its check is ignored and logged, as at start.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, List, Optional, Set

log = logging.getLogger("chaoying.shared_settings")


def applied(file_settings: Any) -> Any:
    """``file_settings`` with the shared values of the local copy over them; store work (one small read)."""
    from store.shared_data import shared_settings
    from tui.settings import with_shared

    settings, problems = with_shared(file_settings, shared_settings())
    for problem in problems:
        log.warning("%s", problem)
    return settings


def changes(before: Any, after: Any) -> List[str]:
    """The shared values that differ, as "limits.max_qty 999 -> 5" (for the log line of a swap)."""
    from tui.settings import SHARED_SECTIONS

    found: List[str] = []
    for section in SHARED_SECTIONS:
        old, new = getattr(before, section), getattr(after, section)
        for field in dataclasses.fields(new):
            was, now = getattr(old, field.name), getattr(new, field.name)
            if was != now:
                found.append(f"{section}.{field.name} {was!r} -> {now!r}")
    return found


class SharedSettingsFollower:
    """Calls ``apply(settings)`` with fresh settings after every pull that changed the shared settings."""

    def __init__(self, file_settings: Any, apply: Callable[[Any], Any]) -> None:
        self.file_settings = file_settings
        self.apply = apply
        self.errors: List[str] = []
        self._remove: Optional[Callable[[], None]] = None

    def start(self) -> "SharedSettingsFollower":
        from store import shared_data

        if self._remove is None:
            self._remove = shared_data.on_change(self._changed)
        return self

    def stop(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None

    def _changed(self, tables: Set[str]) -> None:
        if "shared_setting" not in tables:
            return
        try:
            settings = applied(self.file_settings)
        except Exception as exc:  # the settings in use stay; the next change tries again
            log.exception("the shop's shared settings could not be read")
            self.errors.append(str(exc))
            return
        self.apply(settings)
