"""S on the owner's view: a stocktake (盘点) on the till, and G: receiving (进货) by scanning.

Stocktake: scan a code, Enter; type the count, Enter; again for the next
product. Each product counted is stored at once, as of that moment (sales
after it stay: ``store.stock.count_line``), so Esc or a crash loses nothing:
the till's open count goes on next time. F3, before the first product, makes
the count whole (products not counted count as 0); else they stay as they
are. F12 finishes: a manager's PIN (the manager prompt) applies it, and the
count prints if asked (``tui.services.stock.count_paper``, printed as a
report is). Receiving: scan a code, type the quantity, the cost per unit in
yuan, Enter. Every store read and write runs off the UI thread
(``tui.services.stock``); the screens only draw and forward keys.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import brief, t
from tui.screens.widgets import KeyBar
from tui.services import stock
from tui.services.till import MAIN, printer_config

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.stocktake")

CSS = """
{name} {{ layout: vertical; }}
.stock-title {{ height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }}
.stock-table {{ height: 1fr; }}
.stock-message {{ height: auto; padding: 0 1; background: $panel; }}
.stock-message.-error {{ color: $text-error; text-style: bold; }}
{name} KeyBar {{ height: 1; background: $panel; color: $text-muted; padding: 0 1; }}
"""


class _StockScreen(Screen):
    """What both screens share: a title, a table, the entry line, one message and the key bar."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    GROUP = ""
    AUTO_FOCUS = ".stock-entry"

    def __init__(self) -> None:
        super().__init__()
        self.busy = False  # store work on a worker: the entry waits for its answer
        self.product: Optional[Tuple[str, str, str]] = None  # (barcode, name, unit) scanned, asked about next

    def compose(self) -> ComposeResult:
        yield Static(self.title_text(), classes="stock-title")
        yield DataTable(classes="stock-table", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder=t(self.GROUP + ".code_placeholder"), classes="stock-entry")
        yield Static("", classes="stock-message")
        yield KeyBar(self.GROUP)

    def title_text(self) -> str:
        return t(self.GROUP + ".title")

    @property
    def entry(self) -> Input:
        return self.query_one(".stock-entry", Input)

    @property
    def table(self) -> DataTable:
        return self.query_one(".stock-table", DataTable)

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one(".stock-message", Static)
        message.update(Text(text))
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    def ask(self, placeholder: str) -> None:
        self.entry.placeholder = placeholder

    def run(self, job: Any, done: Any) -> None:
        """Store work off the UI thread; a refusal is one sentence and the entry goes on."""
        self.busy = True
        self.app.in_background(job, partial(self._done, done), self.refused, group="stock")

    def _done(self, done: Any, value: Any) -> None:
        self.busy = False
        if self.is_attached:
            done(value)

    def refused(self, exc: Exception) -> None:
        from tui.errors import describe

        self.busy = False
        log.info("stock work refused: %s", exc)
        if self.is_attached:
            self.say(on_screen(self.app, describe(exc)), error=True)

    def scan(self, code: str) -> None:
        if code:
            self.run(partial(stock.product_name, code), self.scanned)

    def scanned(self, found: Tuple[str, str, str]) -> None:
        raise NotImplementedError

    def action_close(self) -> None:
        if not self.busy:
            self.dismiss(None)


class StocktakeScreen(_StockScreen):
    """盘点: count products by scanning, then a manager's PIN applies the count."""

    BINDINGS = keymap.bindings("stocktake")
    GROUP = "stocktake"
    DEFAULT_CSS = CSS.format(name="StocktakeScreen")

    def __init__(self) -> None:
        super().__init__()
        self.count: Optional[Any] = None  # store.stock.CountInfo, from the first product counted (or left open)
        self.whole = False
        self.lines: List[Any] = []  # store.stock.CountLineInfo: the standing count of each product

    def on_mount(self) -> None:
        table = self.table
        table.can_focus = False  # the entry line keeps the focus
        table.add_column(t("stocktake.col.name"), width=34, key="name")
        table.add_column(Text(t("stocktake.col.counted"), justify="right"), width=10, key="counted")
        table.add_column(Text(t("stocktake.col.on_hand"), justify="right"), width=10, key="on_hand")
        self.run(partial(stock.open_count, self.app.till_id), self.opened)

    def opened(self, found: Tuple[Optional[Any], List[Any]]) -> None:
        self.count, self.lines = found
        self.whole = bool(self.count is not None and self.count.whole)
        self.show()

    def show(self) -> None:
        table = self.table
        table.clear()
        for line in self.lines:
            unit = on_screen(self.app, line.unit)
            table.add_row(Text(on_screen(self.app, line.name), no_wrap=True, overflow="ellipsis"),
                          Text(stock.on_hand_text(line.counted_milli, unit), justify="right"),
                          Text(stock.on_hand_text(line.expected_milli, unit), justify="right"))
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
        self.query_one(".stock-title", Static).update(self.title_text())

    def title_text(self) -> str:
        name = f"  {self.count.name}" if self.count is not None else ""
        return t("stocktake.title") + name + "  " + (t("stocktake.whole") if self.whole else t("stocktake.partial"))

    @on(Input.Submitted, ".stock-entry")
    def entered(self, event: Input.Submitted) -> None:
        from store.money import typed

        event.stop()
        text = typed(event.value).strip()
        if self.busy:
            return
        event.input.value = ""
        if self.product is None:
            self.scan(text)
            return
        try:
            counted = stock.parse_count(text)
        except ValueError:
            self.say(t("stocktake.bad_count", text=brief(text)), error=True)
            return
        barcode = self.product[0]
        self.run(partial(stock.count_product, self.count, self.whole, self.app.till_id, self.app.till.cashier or "",
                         barcode, counted), self.counted)

    def scanned(self, found: Tuple[str, str, str]) -> None:
        self.product = found
        self.ask(t("stocktake.count_of", name=on_screen(self.app, found[1])))
        self.say("")

    def counted(self, answer: Tuple[Any, Any]) -> None:
        self.count, line = answer
        self.lines = stock.standing_lines(self.lines, line)
        self.product = None
        self.ask(t("stocktake.code_placeholder"))
        self.say(t("stocktake.counted", name=on_screen(self.app, line.name),
                   qty=stock.on_hand_text(line.counted_milli, on_screen(self.app, line.unit))))
        self.show()

    def action_whole(self) -> None:
        """F3: whole or partial, chosen before the first product is counted."""
        if self.count is not None:
            self.say(t("stocktake.whole_fixed"), error=True)
            return
        self.whole = not self.whole
        self.say(t("stocktake.whole") if self.whole else t("stocktake.partial"))
        self.show()

    def action_finish(self) -> None:
        """F12: a manager's PIN applies the count."""
        from tui.screens.pin import PinScreen

        if self.busy:
            return
        if self.count is None or not self.lines:
            self.say(t("stocktake.nothing"), error=True)
            return

        def answered(manager: Optional[str]) -> None:
            if not manager:
                self.say(t("stocktake.not_applied"), error=True)
                return
            count, lines = self.count, self.lines
            self.run(partial(stock.apply_count, count, self.app.till_id, manager),
                     partial(self.applied, count, lines, manager))

        self.app.push_screen(PinScreen(t("stocktake.pin_why")), answered)

    def applied(self, count: Any, lines: List[Any], manager: str, results: List[Any]) -> None:
        from tui.screens.confirm import ConfirmScreen

        changed = stock.changed(results)
        self.app.log_event("stocktake", detail=f"{count.name} manager {manager}: {changed} changed")
        self.count, self.lines, self.whole = None, [], False
        self.show()
        self.say(t("stocktake.applied", number=count.name, count=changed))
        paper = partial(stock.count_paper, count.name, count.whole, manager, lines, results)
        self.app.push_screen(ConfirmScreen(t("stocktake.print_question")),
                             lambda yes: self.print_paper(paper) if yes else None)

    def print_paper(self, paper: Any) -> None:
        try:
            columns = printer_config(self.app.settings, MAIN).columns
        except ValueError:
            columns = 48
        self.say(t("stocktake.printing"))
        self.app.print_report("stocktake", paper(columns if columns in (32, 48) else 48), self.printed)

    def printed(self, result: Any) -> None:
        if not self.is_attached:
            return
        if result.ok:
            self.say(t("stocktake.printed"))
        else:
            reason = result.reason_zh if self.app.language == "zh" else result.reason_en
            self.say(t("stocktake.print_failed", reason=reason), error=True)


class ReceiveScreen(_StockScreen):
    """进货 by scanning: code, quantity, cost per unit, Enter; each product received at once."""

    BINDINGS = keymap.bindings("receive")
    GROUP = "receive"
    DEFAULT_CSS = CSS.format(name="ReceiveScreen")

    def __init__(self) -> None:
        super().__init__()
        self.qty_text = ""  # the quantity typed for the scanned product; the cost comes next

    def on_mount(self) -> None:
        table = self.table
        table.can_focus = False
        table.add_column(t("stocktake.col.name"), width=34, key="name")
        table.add_column(Text(t("stocktake.col.on_hand"), justify="right"), width=10, key="on_hand")

    @on(Input.Submitted, ".stock-entry")
    def entered(self, event: Input.Submitted) -> None:
        from store.money import typed

        event.stop()
        text = typed(event.value).strip()
        if self.busy:
            return
        event.input.value = ""
        if self.product is None:
            self.scan(text)
        elif not self.qty_text:
            self.typed_qty(text)
        else:
            self.typed_cost(text)

    def scanned(self, found: Tuple[str, str, str]) -> None:
        self.product, self.qty_text = found, ""
        self.ask(t("receive.qty_question", name=on_screen(self.app, found[1])))
        self.say("")

    def typed_qty(self, text: str) -> None:
        from store.money import parse_qty, whole_pieces

        assert self.product is not None
        try:
            if not whole_pieces(self.product[2], parse_qty(text)):
                raise ValueError(text)
        except ValueError:
            self.say(t("receive.bad_qty", text=brief(text)), error=True)
            return
        self.qty_text = text
        self.ask(t("receive.cost_question", name=on_screen(self.app, self.product[1]),
                   unit=on_screen(self.app, self.product[2])))

    def typed_cost(self, text: str) -> None:
        from store.money import parse_yuan

        try:
            parse_yuan(text)
        except ValueError:
            self.say(t("receive.bad_cost", text=brief(text)), error=True)
            return
        assert self.product is not None
        barcode, name, unit = self.product
        self.run(partial(stock.receive_one, barcode, self.qty_text, text, self.app.till_id,
                         self.app.till.cashier or ""), partial(self.received, unit, self.qty_text, text))

    def received(self, unit: str, qty_text: str, cost_text: str, answer: Tuple[str, int]) -> None:
        name, on_hand = answer
        unit = on_screen(self.app, unit)
        self.app.log_event("stock_received", detail=f"{name} {qty_text} at {cost_text}")
        self.product, self.qty_text = None, ""
        self.ask(t("receive.code_placeholder"))
        self.table.add_row(Text(on_screen(self.app, name), no_wrap=True, overflow="ellipsis"),
                           Text(stock.on_hand_text(on_hand, unit), justify="right"))
        self.say(t("receive.received", name=on_screen(self.app, name), qty=qty_text + unit, cost=cost_text,
                   on_hand=stock.on_hand_text(on_hand, unit)))
