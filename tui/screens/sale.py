"""The sale screen: entry line, basket, running total, success panel."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Digits, Input, Static

from store import outcomes
from tui import keymap
from tui.console import on_screen
from tui.i18n import brief, t
from tui.screens.status import PrinterStrip
from tui.screens.widgets import Amount, KeyBar, TopBar

if TYPE_CHECKING:
    from textual import getters

    from tui.app import ChaoyingApp

log = logging.getLogger("chaoying.tui.sale")


def parse_entry(text: str) -> Tuple[int, str]:
    """'3*6901234567892' -> (3000, '6901234567892'); ValueError on a bad quantity."""
    from store.money import parse_qty, typed

    text = typed(text).strip()  # ３＊6901234567892 from a Chinese input method is 3*6901234567892
    if "*" in text:
        qty_text, code = text.split("*", 1)
        return parse_qty(qty_text), code.strip()
    return 1000, text


class SuccessPanel(Vertical):
    """After a sale: amount, big change, receipt number and receipt status."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sale_id: Optional[int] = None
        self.amount = self.change = self.number = ""
        self.status: Tuple[str, str, str] = (outcomes.PENDING, "", "")

    def compose(self) -> ComposeResult:
        yield Static(t("done.title"), id="done-title")
        yield Static("", id="done-amount")
        with Horizontal(id="done-change-row"):
            yield Static(t("done.change"), id="done-change-label")
            yield Amount("0.00", id="done-change")
        yield Static("", id="done-number")
        yield Static("", id="done-status")
        yield Static(t("done.next"), id="done-next")

    def on_mount(self) -> None:
        self._show()

    def show_sale(self, sale: Any, paid_fen: int) -> None:
        from store.money import format_yuan
        from store.numbering import format_receipt_no

        self.sale_id = sale.id
        self.amount = t("done.amount", amount=format_yuan(paid_fen))
        self.change = format_yuan(sale.change_fen)
        self.number = t("done.receipt_no", number=format_receipt_no(sale.till_id, sale.receipt_no))
        self.set_status(outcomes.PENDING)

    def set_status(self, state: str, reason: str = "", warning: str = "") -> None:
        self.status = (state, reason, warning)
        if self.is_mounted:
            self._show()

    def _show(self) -> None:
        state, reason, warning = self.status
        self.query_one("#done-amount", Static).update(self.amount)
        self.query_one("#done-change", Digits).update(self.change or "0.00")
        self.query_one("#done-number", Static).update(self.number)
        failed = state == outcomes.FAILED
        text = t("status.failed", reason=reason) if failed else t(f"status.{state}")
        if warning == "paper_near_end":
            text += "  " + t("status.near_end")
        status = self.query_one("#done-status", Static)
        status.update(text)
        status.set_class(failed, "-failed")
        status.set_class(state == outcomes.PRINTED, "-ok")


class SaleScreen(Screen):
    """Scan, see the basket and total, F12 to pay."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(ChaoyingApp)

    BINDINGS = keymap.bindings("sale")
    AUTO_FOCUS = "#entry"

    def __init__(self) -> None:
        super().__init__()
        self._basket: Optional[Any] = None
        self.tender: Optional[Any] = None
        self.last_sale_id: Optional[int] = None
        # Codes entered before the till started, or typed while a sale was being saved: kept in
        # order and added when the till is ready (the keys are never lost, never doubled).
        self.typed_ahead: List[str] = []
        self.typed_while_saving: List[str] = []  # left here by the tender screen for tender_done
        self.ending = False  # the basket is being cancelled (tui/screens/abandon.py): codes wait for the next

    @property
    def basket(self) -> Any:
        """The store Basket being rung up (created at first use: a faster start)."""
        if self._basket is None:
            from store.sales import Basket

            self._basket = Basket()
        return self._basket

    def compose(self) -> ComposeResult:
        with Horizontal(id="topline"):
            yield TopBar(id="topbar")
            yield PrinterStrip(id="printer-strip")
        yield Input(placeholder=t("sale.entry_placeholder"), id="entry")
        yield Static("", id="message")
        with ContentSwitcher(initial="basket", id="main"):
            yield DataTable(id="basket", cursor_type="row", zebra_stripes=True)
            # the success panel is mounted after the first sale: a faster start
        with Horizontal(id="totalbar"):
            yield Static("", id="items")
            yield Static(t("sale.total"), id="total-label")
            yield Amount("0.00", id="total")
        if getattr(self.app.demo, "display", None) is not None:  # the demo's virtual customer display
            yield Static(t("display.shown", text=on_screen(self.app, self.app.display_shown)), id="customer-display")
        yield KeyBar("sale", "demo", "app", "till", id="keybar")  # demo keys early: 80 columns cut the end

    def on_mount(self) -> None:
        table = self.query_one("#basket", DataTable)
        table.can_focus = False  # the entry line keeps the focus, always
        table.add_column(Text(t("sale.col.no"), justify="right"), width=3, key="no")
        table.add_column(Text(t("sale.col.name")), width=34, key="name")  # Text: no markup (and no emoji table) to load
        table.add_column(Text(t("sale.col.qty"), justify="right"), width=7, key="qty")
        table.add_column(Text(t("sale.col.price"), justify="right"), width=9, key="price")
        table.add_column(Text(t("sale.col.amount"), justify="right"), width=10, key="amount")
        self.query_one("#items", Static).update(t("sale.empty"))

    # ------------------------------------------------------------ entry

    @property
    def entry(self) -> Input:
        return self.query_one("#entry", Input)

    def say(self, text: str, error: bool = False) -> None:
        from rich.text import Text

        message = self.query_one("#message", Static)
        message.update(Text(text))  # never markup: what the cashier typed ("[/]") is shown as typed
        message.set_class(error, "-error")

    @on(Input.Submitted, "#entry")
    def entry_submitted(self, event: Input.Submitted) -> None:
        from store.money import typed

        text = typed(event.value).strip()
        self.entry.value = ""
        if not text:
            return
        if not self.app.started:
            self.typed_ahead.append(text)
            return
        self.add_code(text)

    def replay_typed_ahead(self, pending: str = "") -> None:
        """Add the codes entered while the till was busy, in order; ``pending`` goes on the entry line."""
        codes, self.typed_ahead = self.typed_ahead, []
        for code in codes:
            self.add_code(code)
        if pending:
            self.entry.value = pending + self.entry.value
            self.entry.cursor_position = len(self.entry.value)

    def add_code(self, text: str) -> None:
        """Add what a scanned or typed code stands for: a product, a PLU or a scale label."""
        if self.ending:
            self.typed_ahead.append(text)
            return
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return
        try:
            qty_milli, code = parse_entry(text)
        except ValueError:
            self.refuse(t("sale.bad_quantity", text=brief(text)))
            return
        found = self.lookup(code)
        if found is None:
            return
        product, label_qty, amount_fen = found
        if "*" in text and (label_qty != 1000 or amount_fen is not None):
            self.refuse(t("sale.bad_quantity", text=brief(text)))  # a scale label carries its own quantity
            return
        qty = qty_milli if "*" in text else label_qty
        self.add_line(product, qty, amount_fen)

    def add_line(self, product: Any, qty: int, amount_fen: Optional[int], confirmed: bool = False) -> None:
        """Add a line for a found product; a fraction of a piece is refused, a line over [limits] asks first."""
        from store.money import line_amount
        from store.sales import SaleError, check_line
        from tui import guards

        try:
            check_line(product, qty, amount_fen)
        except SaleError as exc:
            from tui.errors import describe

            self.refuse(on_screen(self.app, describe(exc)))
            return
        amount = line_amount(product.price_fen, qty) if amount_fen is None else amount_fen
        question = None if confirmed else guards.line_question(self.app, product.name, qty, amount)
        if question is not None:
            guards.ask(self.app, question, lambda: self.add_line(product, qty, amount_fen, confirmed=True),
                       lambda: self.say(t("guard.not_added")))
            return
        self.show_basket()
        index = self.basket.add(product, qty, amount_fen)
        self.changed()
        self.refresh_basket(select=index)
        self.show_item_on_display(index, qty, amount_fen)
        self.say(t("sale.added", name=on_screen(self.app, product.name)))

    def show_item_on_display(self, index: int, qty_milli: int, amount_fen: Optional[int]) -> None:
        """The customer display shows what this scan costs (a repeat scan: this one, not the whole line)."""
        from store.money import line_amount

        line = self.basket.lines[index]
        price = amount_fen if amount_fen is not None else line_amount(line.unit_price_fen, qty_milli)
        self.app.customer_display.show_item(line.name, price)

    def lookup(self, code: str) -> Optional[Tuple[Any, int, Optional[int]]]:
        """(product, qty_milli, fixed amount) for a code; None after telling the cashier why not."""
        from store.codes import CodeError, resolve_code, scale_layouts

        try:
            resolved = resolve_code(code, scale_layouts(self.app.settings.scale)) if code else None
        except CodeError as exc:  # misread, mistyped or no longer sold: one sentence naming the code
            from tui.errors import describe

            self.refuse(on_screen(self.app, describe(exc)))
            return None
        except Exception as exc:  # the database is away: the basket stays as it is
            log.error("product lookup failed: %s", exc, exc_info=exc)
            self.refuse(t("sale.db_error", error=exc))
            return None
        if resolved is None:
            self.refuse(t("sale.unknown_code", code=code))
            return None
        return resolved.product, resolved.qty_milli, resolved.amount_fen

    def action_search(self) -> None:
        """F2: find a product by name, pinyin or code; '3*' typed first still sets the quantity."""
        from store.money import typed
        from tui.screens.search import SearchScreen

        text = typed(self.entry.value).strip()
        prefix = text if text.endswith("*") else ""
        self.entry.value = ""

        def chosen(barcode: Optional[str]) -> None:
            if barcode:
                self.add_code(prefix + barcode)

        self.app.push_screen(SearchScreen("" if prefix else text), chosen)

    def refuse(self, text: str) -> None:
        self.say(text, error=True)
        self.app.bell()

    def action_clear_entry(self) -> None:
        self.entry.value = ""
        self.say("")

    # ------------------------------------------------------------ basket

    def show_basket(self) -> None:
        switcher = self.query_one("#main", ContentSwitcher)
        if switcher.current != "basket":
            switcher.current = "basket"
            self.last_sale_id = None
            self.refresh_basket()

    def success_panel(self) -> "SuccessPanel":
        panels = self.query("#done")
        if panels:
            return panels.first(SuccessPanel)
        panel = SuccessPanel(id="done")
        self.query_one("#main", ContentSwitcher).mount(panel)
        return panel

    def refresh_basket(self, select: Optional[int] = None) -> None:
        from store.money import format_qty, format_yuan

        table = self.query_one("#basket", DataTable)
        table.clear()
        for number, line in enumerate(self.basket.lines, start=1):
            table.add_row(
                Text(str(number), justify="right"),
                Text(on_screen(self.app, line.name), no_wrap=True, overflow="ellipsis"),
                Text(format_qty(line.qty_milli) + on_screen(self.app, line.unit or ""), justify="right", no_wrap=True),
                Text(format_yuan(line.unit_price_fen), justify="right"),
                Text(format_yuan(line.amount_fen), justify="right"),
            )
        if table.row_count:
            row = table.row_count - 1 if select is None else min(select, table.row_count - 1)
            table.move_cursor(row=row)
        self.query_one("#total", Digits).update(format_yuan(self.basket.total_fen))
        count = len(self.basket.lines)
        self.query_one("#items", Static).update(t("sale.items", count=count) if count else t("sale.empty"))

    def action_cursor_up(self) -> None:
        self.query_one("#basket", DataTable).action_cursor_up()

    def action_cursor_down(self) -> None:
        self.query_one("#basket", DataTable).action_cursor_down()

    def action_void_line(self) -> None:
        table = self.query_one("#basket", DataTable)
        if self.query_one("#main", ContentSwitcher).current != "basket" or not table.row_count:
            self.refuse(t("sale.nothing_to_void"))
            return
        if (self.tender is not None and self.tender.paid_fen > 0) or self.ending:
            self.refuse(t("sale.payment_in_progress"))
            return
        index = table.cursor_row
        name = self.basket.lines[index].name
        self.basket.void(index)
        self.changed()
        self.app.log_event("void_line", detail=name)
        self.refresh_basket(select=max(0, index - 1) if index else 0)
        self.say(t("sale.voided", name=on_screen(self.app, name)))

    # ------------------------------------------------------------ paying

    def action_tender(self) -> None:
        from store.sales import Tender
        from tui.screens.tender import TenderScreen

        if self.query_one("#main", ContentSwitcher).current != "basket" or self.basket.is_empty or self.ending:
            self.refuse(t("sale.basket_empty"))
            return
        if self.app.till_blocked():
            self.refuse(t("sale.waiting_receipt"))
            return
        if self.tender is None or self.tender.total_fen != self.basket.total_fen:
            # The basket changed since the last try: failed payments stay on record.
            carried = self.tender.failed_payments if self.tender is not None else []
            self.tender = Tender(self.basket.total_fen)
            self.tender.payments.extend(carried)
        self.say("")
        self.app.customer_display.show_total(self.basket.total_fen)
        self.app.push_screen(TenderScreen(self.basket, self.tender), self.tender_done)

    def tender_done(self, sale: Optional[Any]) -> None:
        from store.sales import Basket

        if sale is None:  # back to the basket; the tender keeps its payments for F12
            return
        tender = self.tender
        self._basket = Basket()
        self.tender = None
        self.last_sale_id = sale.id
        paid_fen = tender.paid_fen if tender else sale.total_fen
        self.app.customer_display.show_paid_change(paid_fen, sale.change_fen)
        self.success_panel().show_sale(sale, paid_fen)
        self.query_one("#main", ContentSwitcher).current = "done"
        self.query_one("#total", Digits).update(_yuan(sale.total_fen))
        self.query_one("#items", Static).update("")
        self.say("")
        cash = any(p.method == "cash" for p in tender.payments if p.status == "ok") if tender else False
        self.app.print_sale(sale.id, open_drawer=cash)
        typed, self.typed_while_saving = self.typed_while_saving, []
        self.add_typed_while_saving(typed)

    def add_typed_while_saving(self, keys: List[str]) -> None:
        """Keys the cashier typed on the tender while the sale was being saved: the next sale's codes."""
        text = ""
        for key in keys:
            if key == "\n":
                if text.strip():
                    self.typed_ahead.append(text.strip())
                text = ""
            else:
                text += key
        self.replay_typed_ahead(pending=text)

    # ------------------------------------------------------------ what the app tells and asks

    def receipt_status(self, sale_id: int, state: str, reason: str = "", warning: str = "") -> None:
        """The till reported on a sale's receipt; update the success panel if it is shown."""
        if sale_id == self.last_sale_id:
            self.success_panel().set_status(state, reason, warning)
        elif warning == "paper_near_end":
            self.say(t("status.near_end"), error=True)

    def show_printer(self, state: str, reason: str = "") -> None:
        """What the idle printer said, on the status strip (none while the till closes: a report may come late)."""
        for strip in self.query(PrinterStrip).results(PrinterStrip):
            strip.show(state, reason)

    def show_display(self, text: str) -> None:
        """The demo: what the customer display shows, on its strip."""
        for strip in self.query("#customer-display").results(Static):
            strip.update(t("display.shown", text=on_screen(self.app, text)))

    def show_cashier(self) -> None:
        """The signed-in cashier changed: redraw the title line."""
        self.query_one(TopBar).show()

    def changed(self) -> None:
        """The basket or its payments changed: the keeper stores it (nothing taken is ever lost)."""
        self.app.keeper.keep(self.basket, self.tender.payments if self.tender is not None else [])

    def restore(self, stored: Any) -> None:
        """The basket left open at the last run (a crash, a close) comes back with its payments."""
        from store.money import format_yuan

        self.app.keeper.adopt(stored.id)
        self._basket = stored.basket
        self.tender = stored.tender() if stored.payments else None
        self.show_basket()
        self.refresh_basket()
        paid = self.tender.paid_fen if self.tender is not None else 0
        self.say(t("sale.restored_paid", amount=format_yuan(paid)) if paid else t("sale.restored"))

    def sale_open(self) -> bool:
        """Is a basket being rung up?"""
        return self._basket is not None and not self._basket.is_empty

    def abandoned_payments(self) -> List[Any]:
        """The failed payments of the sale not yet finished (they still go to the event log)."""
        return list(self.tender.failed_payments) if self.tender is not None else []

    def action_cancel_basket(self) -> None:
        """Ctrl+X: the customer changed her mind; one question, then the basket ends (money handed back)."""
        from tui.screens.abandon import ask_cancel

        ask_cancel(self.app)

    def start_over(self) -> None:
        """The basket ended without a sale: an empty basket on screen, the next change starts a new one."""
        from store.sales import Basket

        self._basket = Basket()
        self.tender = None
        self.show_basket()
        self.refresh_basket()

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts on an empty basket and entry line, not the last change."""
        self.tender = None
        self.show_basket()
        self.entry.value = ""
        self.say("")


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)
