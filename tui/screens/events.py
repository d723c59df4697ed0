"""F10: the event log of this till, newest first.

Printer faults, failed payments, reprints, drawer opens, receipt outcome
choices ...: time, kind, receipt number, cashier and detail, so the owner can
see what went wrong and when. The line under the list shows the selected
event's detail; Enter opens it whole, wrapped, in a dialog (Esc or Enter
closes it), however long it is.
"""
from __future__ import annotations

import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Any, Dict, List

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import CATALOGUES, language, t
from tui.screens.widgets import KeyBar

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.events")

LIMIT = 500
# Kinds worth a colour: something went wrong.
TROUBLE = ("print_failed", "payment_failed", "drawer_failed", "printer_status", "paper_near_end",
           "reprint_refused", "pin_refused", "sign_in_refused", "sign_in_locked", "locked_refused",
           "pin_short", "report_print_failed")


def kind_label(kind: str) -> str:
    """The event kind in the UI language; an unknown kind as it is stored."""
    key = "event." + kind
    return t(key) if key in CATALOGUES.get(language(), {}) else kind


# How the store writes details: "printing -> failed (paper_out: printer out of paper)", "reprint 2",
# "paper_out: printer out of paper". Stored as written; shown with their parts translated.
_TRANSITION = re.compile(r"^(\w+) -> (\w+)(?: \(((\w+)(?:: .*)?)\))?$")
_REASON = re.compile(r"^(\w+)(?:: .*)?$")
_REPRINT = re.compile(r"^reprint (\d+)$")


def _known(key: str) -> bool:
    return key in CATALOGUES.get(language(), {})


def _word(word: str) -> str:
    """A receipt outcome state, a printer state or a reason code in the UI language; else as stored."""
    for key in ("history.outcome." + word, "printer." + word, "events.word." + word):
        if _known(key):
            return t(key)
    return word


def detail_text(kind: str, detail: str) -> str:
    """An event's detail for display: states and reasons translated by their parts, the rest as stored."""
    transition = _TRANSITION.match(detail) if kind in ("outcome", "printer_status") else None
    if transition:
        before, after, reason, code = transition.groups()
        text = f"{_word(before)} -> {_word(after)}"
        return text + (f" ({reason_text(code, reason)})" if reason else "")
    reprint = _REPRINT.match(detail) if kind == "reprint" else None
    if reprint:
        return t("history.reprint_mark", n=reprint.group(1))
    reason = _REASON.match(detail) if kind in ("print_failed", "drawer_failed") else None
    return reason_text(reason.group(1), detail) if reason else detail


def reason_text(code: str, stored: str) -> str:
    """A printer reason by its code in the UI language; an unknown code keeps its stored words."""
    return t("printer." + code) if _known("printer." + code) else stored


def printer_name(printer: str) -> str:
    """The main or the spare printer in the UI language (another name as stored)."""
    key = "printer.name." + printer
    return t(key) if _known(key) else printer


class EventsScreen(Screen):
    """The event log as a table; Esc closes."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("events")
    AUTO_FOCUS = "#events-table"
    DEFAULT_CSS = """
    EventsScreen { layout: vertical; }
    #events-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    #events-table { height: 1fr; }
    #events-detail { height: 2; padding: 0 1; background: $panel; }
    EventsScreen KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: List[Dict[str, Any]] = []
        self.loaded = False  # the first read of the event log came back

    def compose(self) -> ComposeResult:
        yield Static(t("events.title", till=self.app.till_id), id="events-title")
        yield DataTable(id="events-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="events-detail")
        yield KeyBar("events")

    def on_mount(self) -> None:
        table = self.query_one("#events-table", DataTable)
        table.add_column(t("events.col.time"), width=14, key="time")
        table.add_column(t("events.col.kind"), width=12, key="kind")
        table.add_column(t("events.col.receipt"), width=8, key="receipt")
        table.add_column(t("events.col.cashier"), width=7, key="cashier")
        table.add_column(t("events.col.detail"), width=27, key="detail")
        self.reload()

    def reload(self) -> None:
        """Read the event log off the UI thread; the table fills when it comes."""
        from store.queries import events

        self.app.in_background(partial(events, self.app.till_id, limit=LIMIT), self.show_rows, self.failed,
                               group="events-screen")

    def failed(self, exc: Exception) -> None:
        log.error("event log query failed: %s", exc, exc_info=exc)
        if self in self.app.screen_stack:
            self.query_one("#events-detail", Static).update(t("sale.db_error", error=str(exc).split("\n")[0]))

    def show_rows(self, rows: List[Dict[str, Any]]) -> None:
        if self not in self.app.screen_stack:
            return
        self.rows, self.loaded = rows, True
        table = self.query_one("#events-table", DataTable)
        table.clear()
        for row in self.rows:
            style = "bold" if row["kind"] in TROUBLE else ""
            table.add_row(
                (row["at"] or "")[5:19],
                Text(kind_label(row["kind"]), style=style, no_wrap=True, overflow="ellipsis"),
                row["receipt"],
                Text(row["cashier"], no_wrap=True, overflow="ellipsis"),
                Text(on_screen(self.app, detail_text(row["kind"], row["detail"] or "")), no_wrap=True,
                     overflow="ellipsis"),
                key=str(row["id"]),
            )
        self.show_detail()

    @staticmethod
    def detail_of(row: Dict[str, Any]) -> str:
        printer = f"[{printer_name(row['printer'])}] " if row["printer"] else ""
        return printer + detail_text(row["kind"], row["detail"] or "")

    @on(DataTable.RowHighlighted, "#events-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        detail = self.query_one("#events-detail", Static)
        table = self.query_one("#events-table", DataTable)
        if not self.rows:
            detail.update(t("events.empty"))
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        who = t("events.cashier", cashier=row["cashier"]) if row["cashier"] else ""
        detail.update(Text(f"{row['at']}  {kind_label(row['kind'])}  {row['receipt']}  {who}\n"
                           f"{on_screen(self.app, self.detail_of(row))}", overflow="ellipsis"))

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#events-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    @on(DataTable.RowSelected, "#events-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row (the table hears it first)."""
        self.action_whole_detail()

    def action_whole_detail(self) -> None:
        """Enter: the selected event with its whole detail, wrapped, in a dialog."""
        if not self.rows:
            return
        row = self.rows[min(self.query_one("#events-table", DataTable).cursor_row, len(self.rows) - 1)]
        head = [row["at"] or "", kind_label(row["kind"]), row["receipt"] or "",
                t("events.cashier", cashier=row["cashier"]) if row["cashier"] else ""]
        self.app.push_screen(EventDetailView("  ".join(part for part in head if part),
                                             on_screen(self.app, self.detail_of(row))))

    def action_close(self) -> None:
        self.dismiss(None)


class EventDetailView(ModalScreen[bool]):
    """One event whole: when, what, which receipt, who, and its detail wrapped to the width; Esc or Enter closes."""

    BINDINGS = [b for b in keymap.bindings("view") if isinstance(b, Binding) and b.action == "close"]
    AUTO_FOCUS = "#event-detail-scroll"
    DEFAULT_CSS = """
    EventDetailView { align: center middle; background: $background 60%; }
    #event-detail-box { width: 72; max-width: 100%; height: auto; max-height: 100%; border: thick $accent;
                        background: $surface; padding: 0 1; }
    #event-detail-title { text-style: bold; width: 100%; height: auto; }
    #event-detail-head { width: 100%; height: auto; color: $text-muted; }
    #event-detail-scroll { height: auto; max-height: 16; }
    #event-detail-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, head: str, detail: str) -> None:
        super().__init__()
        self.head = head
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="event-detail-box"):
            yield Static(t("events.detail_title"), id="event-detail-title")
            yield Static(Text(self.head), id="event-detail-head")
            with VerticalScroll(id="event-detail-scroll"):
                yield Static(Text(self.detail or "-"), id="event-detail-text")  # wraps: nothing is cut
            yield KeyBar("view", hidden=("view.prev", "view.next"))

    def action_close(self) -> None:
        self.dismiss(True)
