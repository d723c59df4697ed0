"""Ctrl+Y: the held baskets of the shop (取单), to pick one with Enter.

This till's held baskets, then the other tills' from the shop's server
(store.shop_wide.held_list): till, time held, items, amount, cashier and
note; the line under the list names the selected basket's items, and says
when the other tills' wait for the server. Read off the UI thread.
Dismisses with the chosen row's choice (this till's basket id, or another
till's basket to claim on the server), or None on Esc.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t
from tui.screens.widgets import KeyBar

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.held")


def held_time(value: Any) -> str:
    """When a basket was held, as month-day hour:minute ("01-02 03:04")."""
    return str(value or "")[5:16]


class HeldScreen(Screen[Any]):
    """The held baskets as a table; Enter takes the selected one, Esc closes."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("held")
    AUTO_FOCUS = "#held-table"
    DEFAULT_CSS = """
    HeldScreen { layout: vertical; }
    #held-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    #held-table { height: 1fr; }
    #held-detail { height: 2; padding: 0 1; background: $panel; }
    HeldScreen KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, load: Callable[[], Any]) -> None:
        super().__init__()
        self.load = load  # store work returning store.shop_wide.HeldList (the sale session's held_list)
        self.rows: List[Any] = []  # store.shop_wide.HeldRow: this till's, then the other tills'
        self.note = ""  # the sentence saying the other tills' wait for the server, or ""
        self.loaded = False  # the first read came back

    def compose(self) -> ComposeResult:
        yield Static(t("held.title"), id="held-title")
        yield DataTable(id="held-table", cursor_type="row", zebra_stripes=True)
        yield Static(t("held.loading"), id="held-detail")
        yield KeyBar("held")

    def on_mount(self) -> None:
        table = self.query_one("#held-table", DataTable)
        table.add_column(t("held.col.till"), width=6, key="till")
        table.add_column(t("held.col.time"), width=11, key="time")
        table.add_column(Text(t("held.col.items"), justify="right"), width=5, key="items")
        table.add_column(Text(t("held.col.amount"), justify="right"), width=10, key="amount")
        table.add_column(t("held.col.cashier"), width=8, key="cashier")
        table.add_column(t("held.col.note"), width=32, key="note")
        self.app.in_background(self.load, self.show_rows, self.failed, group="held")

    def failed(self, exc: Exception) -> None:
        log.error("held baskets not read: %s", exc, exc_info=exc)
        if self in self.app.screen_stack:
            self.query_one("#held-detail", Static).update(t("sale.db_error", error=str(exc).split("\n")[0]))

    def show_rows(self, listed: Any) -> None:
        from store.money import format_yuan

        if self not in self.app.screen_stack:
            return
        self.rows, self.loaded = list(listed.rows), True
        self.note = t("held.offline") if listed.note else ""
        table = self.query_one("#held-table", DataTable)
        table.clear()
        for row in self.rows:
            table.add_row(
                Text(row.till_id, no_wrap=True, overflow="ellipsis"),
                held_time(row.updated_at),
                Text(str(row.items), justify="right"),
                Text(format_yuan(row.total_fen), justify="right"),
                Text(row.cashier, no_wrap=True, overflow="ellipsis"),
                Text(on_screen(self.app, row.note), no_wrap=True, overflow="ellipsis"),
                key=row.key,
            )
        self.show_detail()

    @on(DataTable.RowHighlighted, "#held-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def selected(self) -> Optional[Any]:
        table = self.query_one("#held-table", DataTable)
        return self.rows[min(table.cursor_row, len(self.rows) - 1)] if self.rows else None

    def show_detail(self) -> None:
        detail = self.query_one("#held-detail", Static)
        row = self.selected()
        note = ("\n" + self.note) if self.note else ""
        if row is None:
            detail.update(t("held.empty") + note)
            return
        names = t("held.sep").join(item.name for item in row.basket.items)
        detail.update(Text(on_screen(self.app, names + note), overflow="ellipsis"))

    @on(DataTable.RowSelected, "#held-table")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_take()

    def action_take(self) -> None:
        row = self.selected()
        if row is None:
            self.app.bell()
            return
        self.dismiss(row.choice)

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#held-table", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_close(self) -> None:
        self.dismiss(None)
