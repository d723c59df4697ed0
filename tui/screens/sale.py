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
    from store.money import parse_qty

    text = text.strip()
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
        # Holding or resuming a basket (store work on the keeper's thread): scans wait in typed_ahead.
        self.busy = ""
        self.holding: Optional[Tuple[Any, Any]] = None  # (basket, tender) being held, back if the hold fails

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
        text = event.value.strip()
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
        if self.busy:  # a basket is being held or resumed: this scan goes to the basket shown next
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
        self.show_basket()
        qty = qty_milli if "*" in text else label_qty
        index = self.basket.add(product, qty, amount_fen, merge=self.app.settings.selling.merge_scans)
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
        from tui.screens.search import SearchScreen

        text = self.entry.value.strip()
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
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return
        index = table.cursor_row
        name = self.basket.lines[index].name
        self.basket.void(index)
        self.changed()
        self.app.log_event("void_line", detail=name)
        self.refresh_basket(select=max(0, index - 1) if index else 0)
        self.say(t("sale.voided", name=on_screen(self.app, name)))

    def action_change_qty(self) -> None:
        """F3: change the selected line's quantity (not a scale label's line: the label says it)."""
        from functools import partial

        from store.money import format_qty
        from store.sales import SaleError
        from tui.errors import describe
        from tui.screens.ask import AskScreen

        table = self.query_one("#basket", DataTable)
        if self.query_one("#main", ContentSwitcher).current != "basket" or not table.row_count:
            self.refuse(t("sale.no_line"))
            return
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return
        index = table.cursor_row
        item = self.basket.items[index]
        try:
            self.basket.set_qty(index, item.qty_milli)  # the same quantity: a scale label's line refuses here
        except SaleError as exc:
            self.refuse(on_screen(self.app, describe(exc)))
            return
        ask = AskScreen(t("qty.title", name=on_screen(self.app, item.name)), format_qty(item.qty_milli),
                        max_length=12, check=qty_refusal)
        self.app.push_screen(ask, partial(self.qty_chosen, index))

    def qty_chosen(self, index: int, text: Optional[str]) -> None:
        from store.money import format_qty, parse_qty
        from store.sales import SaleError
        from tui.errors import describe

        if text is None or index >= len(self.basket.items):
            return
        qty = parse_qty(text)  # checked by the dialog
        item = self.basket.items[index]
        if qty == item.qty_milli:
            return
        try:
            self.basket.set_qty(index, qty)
        except SaleError as exc:
            self.refuse(on_screen(self.app, describe(exc)))
            return
        self.changed()
        self.app.log_event("qty_changed", detail=f"{item.name} {format_qty(item.qty_milli)} -> {format_qty(qty)}")
        self.refresh_basket(select=index)
        self.say(t("sale.qty_changed", name=on_screen(self.app, item.name), qty=format_qty(qty)))

    # ------------------------------------------------------------ paying

    def action_tender(self) -> None:
        from store.sales import Tender
        from tui.screens.tender import TenderScreen

        if self.query_one("#main", ContentSwitcher).current != "basket" or self.basket.is_empty:
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

    # ------------------------------------------------------------ held baskets (挂单 / 取单)

    def action_hold(self) -> None:
        """Ctrl+G 挂单: put this basket aside (with a note, maybe) and go on with an empty one."""
        from tui.screens.ask import AskScreen

        if self.busy:
            self.refuse(t("held.busy"))
            return
        if self.query_one("#main", ContentSwitcher).current != "basket" or self.basket.is_empty:
            self.refuse(t("hold.empty"))
            return
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("hold.paid"))
            return
        self.app.push_screen(AskScreen(t("hold.title"), placeholder=t("hold.note"), max_length=60), self.hold_with)

    def hold_with(self, note: Optional[str]) -> None:
        """Hold the basket as stored (the keeper stores the last change first); the screen empties at once."""
        from store import baskets

        if note is None or self.basket.is_empty:
            return
        till_id, cashier = self.app.till_id, self.app.till.cashier or None

        def hold(basket_id: Optional[int]) -> None:
            if basket_id is None:
                raise baskets.BasketError("That basket is no longer open.", "basket_not_open")
            baskets.hold(basket_id, till_id, note, cashier)

        self.busy, self.holding = "hold", (self.basket, self.tender)
        self._basket, self.tender = None, None
        self.refresh_basket()
        self.say(t("hold.holding"))
        self.app.keeper.finish(hold, self.hold_done, self.hold_failed)

    def hold_done(self, _value: Any = None) -> None:
        self.busy, self.holding = "", None
        held_key = keymap.by_id("sale.held")
        self.say(t("hold.done", shortcut=keymap.display_key(keymap.key_of(held_key)) if held_key else ""))
        self.replay_typed_ahead()

    def hold_failed(self, exc: Exception) -> None:
        """Not held (the database is away ...): the basket comes back as it was."""
        from tui.errors import describe

        if self.holding is not None:
            self._basket, self.tender = self.holding
        self.busy, self.holding = "", None
        self.refresh_basket()
        self.replay_typed_ahead()
        self.refuse(on_screen(self.app, describe(exc)))  # after the scans typed meanwhile: this is what to read

    def action_held(self) -> None:
        """Ctrl+Y 取单: the held baskets, to take one back (only onto an empty basket)."""
        from tui.screens.held import HeldScreen

        if self.busy:
            self.refuse(t("held.busy"))
            return
        if self.sale_open() or (self.tender is not None and self.tender.paid_fen > 0):
            self.refuse(t("held.finish_first"))
            return
        self.app.push_screen(HeldScreen(), self.take_held)

    def take_held(self, basket_id: Optional[int]) -> None:
        """Resume the chosen basket (on the keeper's thread, after what it still has to store)."""
        from store import baskets

        if basket_id is None or self.busy:
            return
        if self.sale_open():
            self.refuse(t("held.finish_first"))
            return
        till_id, cashier = self.app.till_id, self.app.till.cashier or None

        def resume(current_id: Optional[int]) -> Any:
            stored = baskets.resume(basket_id, till_id, cashier)
            if current_id is not None and current_id != stored.id:
                baskets.cancel(current_id, till_id, cashier)  # a basket emptied line by line: it ends here
            return stored

        self.busy = "resume"
        self.say(t("held.taking"))
        self.app.keeper.finish(resume, self.resumed, self.resume_failed)

    def resumed(self, stored: Any) -> None:
        self.busy = ""
        self.restore(stored)
        self.say(t("held.resumed", amount=_yuan(stored.total_fen)))
        self.replay_typed_ahead()

    def resume_failed(self, exc: Exception) -> None:
        """Another till took it meanwhile (or the database is away): one sentence, the basket stays empty."""
        from tui.errors import describe

        self.busy = ""
        self.replay_typed_ahead()
        self.refuse(on_screen(self.app, describe(exc)))

    # ------------------------------------------------------------ what the app tells and asks

    def receipt_status(self, sale_id: int, state: str, reason: str = "", warning: str = "") -> None:
        """The till reported on a sale's receipt; update the success panel if it is shown."""
        if sale_id == self.last_sale_id:
            self.success_panel().set_status(state, reason, warning)
        elif warning == "paper_near_end":
            self.say(t("status.near_end"), error=True)

    def show_printer(self, state: str, reason: str = "") -> None:
        """What the idle printer said, on the status strip."""
        self.query_one(PrinterStrip).show(state, reason)

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

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts on an empty basket and entry line, not the last change."""
        self.tender = None
        self.show_basket()
        self.entry.value = ""
        self.say("")


def qty_refusal(text: str) -> Optional[str]:
    """Why a typed quantity will not do (one sentence), or None."""
    from store.money import parse_qty

    try:
        parse_qty(text)
    except ValueError:
        return t("sale.bad_quantity", text=brief(text))
    return None


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)
