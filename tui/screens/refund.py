"""退货 by receipt: the sale's lines with what is left to refund; the cashier types how many of each.

Up/Down choose a line, a quantity and Enter set it (never more than what is
left, never a fraction of a piece: store.documents.check_refund_qty, refused
in one sentence); then one more Enter (or Y) puts it back on the shelf, N
says it is damaged (its stock stays as it is), F3 switches the money between the original tenders and
all cash, F12 confirms. Dismisses with a RefundChoice, or None
on Esc. Everything here is worked out from values read before it opened: no
store work on the UI thread.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import brief, t
from tui.screens.widgets import KeyBar
from tui.services import corrections
from tui.services.corrections import RefundChoice


class RefundScreen(ModalScreen[Optional[RefundChoice]]):
    """Choose what of a receipt comes back, and see the money going back."""

    BINDINGS = keymap.bindings("refund")
    AUTO_FOCUS = "#refund-qty"
    DEFAULT_CSS = """
    RefundScreen { align: center middle; background: $background 60%; }
    #refund-box { width: 78; max-width: 100%; height: auto; max-height: 100%; border: thick $warning;
                  background: $surface; padding: 0 1; }
    #refund-title { text-style: bold; width: 100%; }
    #refund-table { height: auto; max-height: 10; }
    #refund-total { text-style: bold; }
    #refund-message { height: auto; }
    #refund-message.-error { color: $text-error; text-style: bold; }
    #refund-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, number: str, lines: List[Any], room: Dict[str, int], note: str = "") -> None:
        super().__init__()
        self.number = number
        self.note = note  # a sentence shown first (a refund read offline: other tills' may not be known yet)
        self.lines = lines  # store.documents.Refundable, in receipt order
        self.room = room  # what each original tender can still take back
        self.qty: Dict[int, int] = {}  # line id -> thousandths to refund
        self.damaged: Set[int] = set()  # line ids answered N: not back on the shelf
        self.asking: Optional[Any] = None  # the line whose "back on the shelf?" is asked (the next Enter answers)
        self.all_cash = False

    def compose(self) -> ComposeResult:
        with Vertical(id="refund-box"):
            yield Static(t("refund.title", number=self.number), id="refund-title")
            yield DataTable(id="refund-table", cursor_type="row")
            yield Input(placeholder=t("refund.qty_placeholder"), id="refund-qty")
            yield Static("", id="refund-total")
            yield Static("", id="refund-message")
            yield KeyBar("refund")

    def on_mount(self) -> None:
        table = self.table
        table.can_focus = False  # the quantity box keeps the focus
        table.add_column(t("refund.col.name"), width=26, key="name")
        for key in ("sold", "refunded", "left"):
            table.add_column(Text(t("refund.col." + key), justify="right"), width=8, key=key)
        table.add_column(Text(t("refund.col.now"), justify="right"), width=14, key="now")  # and 回架 / 损坏
        self.show()
        if self.note:
            self.say(self.note)

    @property
    def table(self) -> DataTable:
        return self.query_one("#refund-table", DataTable)

    def show(self) -> None:
        from store.money import format_qty

        table, row = self.table, self.table.cursor_row
        table.clear()
        for line in self.lines:
            unit = on_screen(self.app, line.unit or "")
            table.add_row(Text(on_screen(self.app, line.name), no_wrap=True, overflow="ellipsis"),
                          *(Text(format_qty(q) + unit if q else "0", justify="right")
                            for q in (line.qty_milli, line.refunded_qty, line.remaining_qty)),
                          Text(self.now_text(line, unit), justify="right"),
                          key=str(line.line_id))
        if table.row_count:
            table.move_cursor(row=max(0, min(row, table.row_count - 1)))
        self.query_one("#refund-total", Static).update(self.total_text())

    def now_text(self, line: Any, unit: str) -> str:
        """What of the line comes back now, and whether it goes back on the shelf: '1瓶 回架', '2瓶 损坏', '0'."""
        from store.money import format_qty

        qty = self.qty.get(line.line_id, 0)
        if not qty:
            return "0"
        shelf = t("refund.shelf_no") if line.line_id in self.damaged else t("refund.shelf_yes")
        return f"{format_qty(qty)}{unit} {shelf}" + ("?" if self.asking is line else "")

    def total_fen(self) -> int:
        return corrections.refund_total_fen(self.lines, self.qty)

    def payments(self) -> List[Tuple[str, int]]:
        return corrections.refund_payments(self.room, self.total_fen(), self.all_cash)

    def total_text(self) -> str:
        from store.money import format_yuan

        back = "  ".join(t("refund.back_item", method=t("method." + method), amount=format_yuan(amount))
                         for method, amount in self.payments())
        return t("refund.total", amount=format_yuan(self.total_fen()), back=back or "-")

    def selected(self) -> Optional[Any]:
        row = self.table.cursor_row
        return self.lines[row] if 0 <= row < len(self.lines) else None

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#refund-message", Static)
        message.update(Text(text))
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    @on(Input.Submitted, "#refund-qty")
    def qty_typed(self, event: Input.Submitted) -> None:
        """Enter: the typed quantity is what comes back of the chosen line (0 or empty: none of it)."""
        from store.documents import DocumentError, check_refund_qty
        from store.money import parse_qty
        from tui.errors import describe

        event.stop()
        line, text = self.selected(), event.value.strip()
        if self.asking is not None:
            self.shelf_answered(text)
            return
        if line is None:
            return
        try:
            qty = 0 if text in ("", "0") else parse_qty(text)
        except ValueError:
            self.say(t("sale.bad_quantity", text=brief(text)), error=True)
            return
        if qty:
            try:  # more than is left, half a bottle: the store refuses it too, under its write lock
                check_refund_qty(line, qty)
            except DocumentError as exc:
                self.say(on_screen(self.app, describe(exc)), error=True)
                return
        self.qty[line.line_id] = qty
        event.input.value = ""
        self.say("")
        if qty:
            self.ask_shelf(line)
            return
        self.show()
        self.action_cursor(1)

    def ask_shelf(self, line: Any) -> None:
        """One more step per returned line: back on the shelf (Y, Enter) or damaged (N)."""
        from store.money import format_qty

        self.asking = line
        question = t("refund.restock_question", name=on_screen(self.app, line.name),
                     qty=format_qty(self.qty[line.line_id]) + on_screen(self.app, line.unit or ""))
        self.query_one("#refund-qty", Input).placeholder = question  # the message keeps what was said before
        self.show()

    def shelf_answered(self, text: str, step: int = 1) -> None:
        """The answer to the shelf question (Enter or Y: back on the shelf, N: damaged); then the next line."""
        shelf = corrections.shelf_answer(text)
        line = self.asking
        qty_input = self.query_one("#refund-qty", Input)
        qty_input.value = ""
        if shelf is None or line is None:
            self.app.bell()
            return
        self.asking = None
        (self.damaged.discard if shelf else self.damaged.add)(line.line_id)
        qty_input.placeholder = t("refund.qty_placeholder")
        self.show()
        self.action_cursor(step)

    def action_cursor(self, step: int) -> None:
        table = self.table
        if self.asking is not None:  # moving on takes the shelf question's default: back on the shelf
            self.shelf_answered("", step)
            return
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_all_cash(self) -> None:
        """F3: all the money back in cash, or back to the original tenders again."""
        self.all_cash = not self.all_cash
        self.show()

    def action_confirm(self) -> None:
        if self.asking is not None:  # F12 takes the shelf question's default: back on the shelf
            self.shelf_answered("", 0)
        items = tuple((line_id, qty) for line_id, qty in self.qty.items() if qty)
        if not items:
            self.say(t("error.refund_nothing"), error=True)
            return
        payments = tuple(self.payments()) if self.all_cash else None
        damaged = tuple(line_id for line_id, _qty in items if line_id in self.damaged)
        self.dismiss(RefundChoice(items, payments, self.total_fen(), damaged))

    def action_cancel(self) -> None:
        self.dismiss(None)
