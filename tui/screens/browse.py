"""F9 and F10: open the history or the event log over the sale screen or the banner.

The two read-only screens swap for each other (F10 on the history shows the
event log); this module knows both, so neither has to import the other.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Type

from tui.screens.sale import SaleScreen

if TYPE_CHECKING:
    from textual.screen import Screen


def toggle(app: Any, wanted: Type[Screen[Any]]) -> None:
    """Open ``wanted`` (or close it when it is open); the other browser gives way to it."""
    from tui.screens.banner import BannerScreen
    from tui.screens.events import EventsScreen
    from tui.screens.history import HistoryScreen

    screen = app.screen
    if isinstance(screen, wanted):
        screen.dismiss(None)
        return
    if isinstance(screen, (HistoryScreen, EventsScreen)):
        screen.dismiss(None)
    elif not isinstance(screen, (SaleScreen, BannerScreen)):
        app.bell()  # in the middle of a payment or a question: finish that first
        return
    app.push_screen(wanted())


def open_history(app: Any) -> None:
    """F9: this till's receipts."""
    from tui.screens.history import HistoryScreen

    toggle(app, HistoryScreen)


def open_events(app: Any) -> None:
    """F10: this till's event log."""
    from tui.screens.events import EventsScreen

    toggle(app, EventsScreen)
