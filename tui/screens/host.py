"""What a screen may use of the till's app: a small typed interface, so no screen imports tui/app.py.

``ChaoyingApp`` (tui/app.py) is a ``TillHost``; screens are typed against
this class (``getters.app(TillHost)``) and reach only what is declared here:
the till's services, its settings and the few app-level calls (store work off
the UI thread, the event log, printing, the banner).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, List, Optional, Set

from textual.app import App

if TYPE_CHECKING:
    from tui.services.basket_saver import BasketSaver
    from tui.services.sale_session import SaleSession
    from tui.services.till import Till
    from tui.settings import Settings


class TillHost(App):
    """The till's app as its screens see it (filled in by tui.app.ChaoyingApp)."""

    settings: Settings
    till: Till
    basket_saver: BasketSaver
    session: SaleSession
    till_id: str
    cashier: str
    cashier_name: str
    language: str
    demo: Any
    customer_display: Any
    sale_screen: Any
    started: bool
    sign_in_used: bool
    display_shown: str
    ascii_only: bool

    def in_background(self, job: Callable[[], Any], done: Callable[[Any], Any],
                      failed: Optional[Callable[[Exception], Any]] = None, group: str = "store") -> None:
        """Run store work ``job()`` on a thread worker; ``done(value)`` or ``failed(error)`` on the UI thread."""
        raise NotImplementedError

    def log_event(self, kind: str, detail: str = "", sale: Any = None) -> None:
        """Append to the event log off the UI thread."""
        raise NotImplementedError

    def store_error(self, exc: Exception) -> None:
        """Store work failed: log it, tell the cashier, keep running."""
        raise NotImplementedError

    def print_sale(self, sale_id: int, printer: str = "main", open_drawer: bool = False) -> None:
        """Hand a document to the till's printer thread."""
        raise NotImplementedError

    def print_report(self, name: str, lines: List[str], done: Optional[Callable[[Any], Any]] = None) -> None:
        """Print a report on the till's printer, in turn with the receipts."""
        raise NotImplementedError

    def till_blocked(self) -> bool:
        """True while any document of this till has no known receipt outcome."""
        raise NotImplementedError

    def unresolved_count(self) -> int:
        raise NotImplementedError

    def resolve_from_banner(self, banner: Any, state: str) -> None:
        raise NotImplementedError

    def backup_after_z(self) -> None:
        raise NotImplementedError

    def hidden_keys(self) -> tuple:
        raise NotImplementedError

    @property
    def in_flight(self) -> Set[int]:
        raise NotImplementedError
