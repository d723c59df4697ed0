"""The sale screen: entry line, basket, running total, success panel."""
from __future__ import annotations

import logging
from functools import partial
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
from tui.screens.status import BackupWarningStrip, JournalKeyStrip, PrinterStrip
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
        # Holding or resuming a basket (store work on the basket saver's thread): scans wait in typed_ahead.
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
            yield JournalKeyStrip(id="journal-strip")
            yield BackupWarningStrip(id="backup-strip")
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
        if self.ending or self.busy:  # cancelling, holding or resuming: this scan goes to the next basket
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
        from tui.screens.confirm import ask_limit
        from tui.services import guards

        try:
            check_line(product, qty, amount_fen)
        except SaleError as exc:
            from tui.errors import describe

            self.refuse(on_screen(self.app, describe(exc)))
            return
        merge = self.app.settings.selling.merge_scans
        joins = self.basket.merge_index(product, amount_fen) if merge and self.sale_open() else None
        line_qty = qty if joins is None else self.basket.items[joins].qty_milli + qty  # a repeat scan: its line
        amount = line_amount(product.price_fen, line_qty) if amount_fen is None else amount_fen
        question = None if confirmed else guards.line_question(self.app.settings.limits, product.name, line_qty, amount)
        if question is not None:
            ask_limit(self.app, question, lambda: self.add_line(product, qty, amount_fen, confirmed=True),
                       lambda: self.say(t("guard.not_added")))
            return
        self.show_basket()
        index = self.basket.add(product, qty, amount_fen, merge=merge)
        self.changed()
        self.refresh_basket(select=index)
        line = self.basket.lines[index]
        self.app.customer_display.show_item(line.name, line.unit_price_fen)  # 单价: the price of one
        self.say(t("sale.added", name=on_screen(self.app, product.name)))

    def show_total_on_display(self) -> None:
        """The basket changed (quantity, void, discount, resumed): the customer sees its new total."""
        if self.sale_open():
            self.app.customer_display.show_total(self.basket.total_fen)
        else:
            self.app.customer_display.show_welcome()

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
            self.refuse(t("sale.unknown_code", code=brief(code, 20)))  # a 600-digit scan: a short sentence
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
        for number, (item, line) in enumerate(zip(self.basket.items, self.basket.lines), start=1):
            name = Text(on_screen(self.app, line.name), no_wrap=True, overflow="ellipsis")
            amount = Text(format_yuan(line.gross_fen), justify="right")
            below = self.discount_row(item, line)  # a discounted line: what and why on a second row
            if below:
                name.append("\n  " + on_screen(self.app, below), style="italic")
                if line.own_discount_fen:
                    amount.append("\n" + format_yuan(-line.own_discount_fen), style="italic")
            table.add_row(
                Text(str(number), justify="right"),
                name,
                Text(format_qty(line.qty_milli) + on_screen(self.app, line.unit or ""), justify="right", no_wrap=True),
                Text(format_yuan(line.unit_price_fen), justify="right"),
                amount,
                height=2 if below else 1,
            )
        if table.row_count:
            row = table.row_count - 1 if select is None else min(select, table.row_count - 1)
            table.move_cursor(row=row)
        self.query_one("#total", Digits).update(format_yuan(self.basket.total_fen))
        self.query_one("#items", Static).update(self.items_text())

    def discount_row(self, item: Any, line: Any) -> str:
        """What the second row of a discounted line says: its discount or its price change, and why."""
        from store.money import format_yuan

        if item.discount is not None:
            return t("sale.line_discount_row", what=_what(item.discount), reason=item.discount.reason).strip()
        if item.price is not None:
            return t("sale.line_price_row", price=format_yuan(item.list_price_fen), reason=item.price.reason).strip()
        return ""

    def items_text(self) -> str:
        """The total bar's left side: how many lines, and what the discounts take off."""
        from store.money import format_yuan

        basket = self.basket
        count = len(basket.items)
        if not count:
            return t("sale.empty")
        parts = [t("sale.items", count=count)]
        if basket.discount_fen:
            parts.append(t("sale.saved", amount=format_yuan(basket.discount_fen)))
        if basket.discount is not None:
            parts.append(t("sale.basket_discount_shown", what=_what(basket.discount)))
        if basket.rounding is not None:
            parts.append(t("sale.rounding_shown", amount=format_yuan(basket.rounding_fen)))
        return "  ".join(parts)

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
        before = self.basket.subtotal_fen
        self.basket.void(index)
        dropped = self.recheck_basket_discount(before)
        self.changed()
        self.app.log_event("void_line", detail=name)
        self.show_total_on_display()
        self.refresh_basket(select=max(0, index - 1) if index else 0)
        self.say(t("sale.voided", name=on_screen(self.app, name)))
        self.say_basket_discount_off(dropped)

    def recheck_basket_discount(self, before_fen: int) -> Any:
        """An amount off the whole basket that its smaller subtotal no longer allows comes off (as a line's)."""
        from store.discounts import amount_stands

        limit = self.app.settings.selling.cashier_max_discount if self.app.sign_in_used else None
        dropped = self.basket.recheck_discount(before_fen, partial(amount_stands, max_percent=limit))
        if dropped is not None:
            self.app.log_event("discount", detail=f"basket: {_what(dropped)} off (subtotal "
                                                  f"{_yuan(self.basket.subtotal_fen)})")
        return dropped

    def say_basket_discount_off(self, dropped: Any) -> None:
        if dropped is not None:
            self.say(t("sale.basket_discount_dropped", amount=_yuan(dropped.value),
                       subtotal=_yuan(self.basket.subtotal_fen)), error=True)

    # ------------------------------------------------------------ discounts and price changes

    def discount_target(self, line: bool) -> Optional[int]:
        """The selected line's index (-1: the basket), or None after saying why not."""
        table = self.query_one("#basket", DataTable)
        if self.query_one("#main", ContentSwitcher).current != "basket" or not table.row_count:
            self.refuse(t("sale.no_line" if line else "sale.basket_empty"))
            return None
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return None
        return table.cursor_row if line else -1

    def action_line_discount(self) -> None:
        """F5: a percent or amount off the selected line."""
        from tui.screens.discount import LINE, DiscountScreen

        index = self.discount_target(line=True)
        if index is None:
            return
        line = self.basket.lines[index]
        title = t("discount.title.line", name=on_screen(self.app, line.name), amount=_yuan(line.gross_fen))
        self.ask_discount(DiscountScreen(LINE, title, line.gross_fen), index, line.gross_fen)

    def action_basket_discount(self) -> None:
        """F6: a percent or amount off the whole basket (after the lines' own discounts)."""
        from tui.screens.discount import BASKET, DiscountScreen

        if self.discount_target(line=False) is None:
            return
        base = sum(line.gross_fen - line.own_discount_fen for line in self.basket.lines)
        self.ask_discount(DiscountScreen(BASKET, t("discount.title.basket", amount=_yuan(base)), base), -1, base)

    def action_price_override(self) -> None:
        """Ctrl+P: a new unit price for the selected line."""
        from tui.screens.discount import PRICE, DiscountScreen

        index = self.discount_target(line=True)
        if index is None:
            return
        item = self.basket.items[index]
        if item.fixed_fen is not None:
            self.refuse(t("sale.label_price"))
            return
        title = t("discount.title.price", name=on_screen(self.app, item.name), price=_yuan(item.list_price_fen))
        self.ask_discount(DiscountScreen(PRICE, title, item.list_price_fen), index, item.list_price_fen)

    def ask_discount(self, dialog: Any, index: int, base_fen: int) -> None:
        """Show the dialog; a discount within the cashier's limits applies at once, else a manager says yes."""
        from dataclasses import replace

        from store.discounts import approver, over_limit

        what = dialog.what
        item = self.basket.items[index] if index >= 0 else None

        def answered(decision: Any) -> None:
            if decision is None:
                return
            spec, reason = decision
            if spec is None:
                self.apply_discount(what, index, item, None)
                return
            spec = replace(spec, reason=reason, cashier=self.app.till.cashier)
            rules = self.app.settings.selling
            if not over_limit(spec, base_fen, rules.cashier_max_discount, rules.cashier_price_override):
                self.apply_discount(what, index, item, spec)
                return
            self.app.in_background(partial(approver, spec.cashier),
                                   partial(self.approved, what, index, item, spec), group="discount")

        self.app.push_screen(dialog, answered)

    def approved(self, what: str, index: int, item: Any, spec: Any, manager: Optional[str]) -> None:
        """Over the limits: a shop without cashiers or a manager selling needs no PIN; else ask for one."""
        from dataclasses import replace

        from tui.screens.discount import PRICE
        from tui.screens.pin import PinScreen

        if self.app.screen is not self:  # the tender opened meanwhile: its total must not change under it
            self.refuse(t("sale.basket_changed"))
            return
        if manager is not None:
            self.apply_discount(what, index, item, replace(spec, manager=manager))
            return

        def answered(code: Optional[str]) -> None:
            if code:
                self.apply_discount(what, index, item, replace(spec, manager=code))
            else:
                self.say(t("sale.price_cancelled" if what == PRICE else "sale.discount_cancelled"))

        self.app.push_screen(PinScreen(self.why_manager(what, spec)), answered)

    def why_manager(self, what: str, spec: Any) -> str:
        """Why the PIN screen asks: the decision and the cashier's limit it is above."""
        from tui.screens.discount import PRICE

        rules = self.app.settings.selling
        if what == PRICE and not rules.cashier_price_override:
            return t("pin.why_price", what=_said(what, spec))
        key = "pin.why_price_limit" if what == PRICE else "pin.why_discount"
        return t(key, what=_said(what, spec), limit=rules.cashier_max_discount)

    def apply_discount(self, what: str, index: int, item: Any, spec: Any, confirmed: bool = False) -> None:
        """Put the decision on the basket (None: take it off), store it, log it, show it.

        A new price that makes the line larger than [limits] allows asks first (as a new line does).
        """
        from store.money import line_amount
        from store.sales import SaleError
        from tui.screens.confirm import ask_limit
        from tui.screens.discount import BASKET, PRICE
        from tui.services import guards

        basket = self.basket
        if (basket.is_empty or (index >= 0 and (index >= len(basket.items) or basket.items[index] is not item))
                or (self.tender is not None and self.tender.paid_fen > 0)):
            self.refuse(t("sale.basket_changed"))  # a scan or a payment came between the question and the answer
            return
        if what == PRICE and spec is not None and not confirmed:
            amount = line_amount(spec.value, item.qty_milli)
            question = guards.line_question(self.app.settings.limits, item.name, item.qty_milli, amount)
            if question is not None:
                ask_limit(self.app, question, lambda: self.apply_discount(what, index, item, spec, confirmed=True),
                           lambda: self.say(t("guard.not_changed")))
                return
        before = basket.subtotal_fen
        try:
            if what == BASKET:
                basket.set_discount(spec)
            elif what == PRICE:
                basket.set_price(index, spec)
            else:
                basket.set_line_discount(index, spec)
        except SaleError as exc:
            from tui.errors import describe

            self.refuse(describe(exc))
            return
        dropped = None if what == BASKET else self.recheck_basket_discount(before)
        self.changed()
        self.show_total_on_display()
        table = self.query_one("#basket", DataTable)
        self.refresh_basket(select=index if index >= 0 else table.cursor_row)
        name = item.name if item is not None else ""
        where = f"line {index + 1} {name}" if index >= 0 else "basket"
        if spec is None:
            detail = f"{where}: off"
        else:
            detail = f"{where}: {_said(what, spec)} ({spec.reason})" + (f", manager {spec.manager}"
                                                                        if spec.manager else "")
        self.app.log_event("price_override" if what == PRICE else "discount", detail=detail)
        shown = on_screen(self.app, name)
        if what == BASKET:
            self.say(t("sale.basket_discount_given", what=_what(spec)) if spec else t("sale.basket_discount_off"))
        elif what == PRICE:
            self.say(t("sale.price_given", name=shown, price=_yuan(spec.value)) if spec
                     else t("sale.price_off", name=shown))
        else:
            self.say(t("sale.discount_given", name=shown, what=_what(spec)) if spec
                     else t("sale.discount_off", name=shown))
        self.say_basket_discount_off(dropped)

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
                        max_length=12, parse=typed_qty)
        self.app.push_screen(ask, partial(self.qty_chosen, index))

    def qty_chosen(self, index: int, qty: Optional[int], confirmed: bool = False, item: Any = None) -> None:
        """The new quantity of line ``index``; a line over [limits] asks first (as a new line does)."""
        from store.discounts import amount_stands
        from store.money import format_qty, line_amount
        from store.sales import SaleError
        from tui.errors import describe
        from tui.screens.confirm import ask_limit
        from tui.services import guards

        if qty is None or index >= len(self.basket.items):
            return
        if item is not None and self.basket.items[index] is not item:  # the basket changed under the question
            self.refuse(t("sale.basket_changed"))
            return
        item = self.basket.items[index]
        if qty == item.qty_milli:
            return
        price = item.price.value if item.price is not None else item.list_price_fen
        limits = self.app.settings.limits
        question = None if confirmed else guards.line_question(limits, item.name, qty, line_amount(price, qty))
        if question is not None:
            ask_limit(self.app, question, lambda: self.qty_chosen(index, qty, confirmed=True, item=item),
                       lambda: self.say(t("guard.not_changed")))
            return
        # an amount off this line that a smaller line no longer allows comes off (store.discounts.amount_stands)
        limit = self.app.settings.selling.cashier_max_discount if self.app.sign_in_used else None
        before = self.basket.subtotal_fen
        try:
            dropped = self.basket.set_qty(index, qty, partial(amount_stands, max_percent=limit))
        except SaleError as exc:
            self.refuse(on_screen(self.app, describe(exc)))
            return
        basket_dropped = self.recheck_basket_discount(before)
        self.changed()
        self.show_total_on_display()
        self.app.log_event("qty_changed", detail=f"{item.name} {format_qty(item.qty_milli)} -> {format_qty(qty)}")
        self.refresh_basket(select=index)
        shown = on_screen(self.app, item.name)
        if dropped is None:
            self.say(t("sale.qty_changed", name=shown, qty=format_qty(qty)))
            self.say_basket_discount_off(basket_dropped)
            return
        self.app.log_event("discount", detail=f"line {index + 1} {item.name}: {_what(dropped)} off "
                                              f"(quantity {format_qty(qty)})")
        self.say(t("sale.qty_discount_off", name=shown, qty=format_qty(qty), amount=_yuan(dropped.value)),
                 error=True)
        self.say_basket_discount_off(basket_dropped)

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
        """Hold the basket as stored (the basket saver stores the last change first); the screen empties at once."""
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
        self.show_total_on_display()  # put aside: the customer display says welcome again
        self.say(t("hold.holding"))
        self.app.basket_saver.finish(hold, self.hold_done, self.hold_failed)

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
        """Resume the chosen basket (on the basket saver's thread, after what it still has to store)."""
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
        self.app.basket_saver.finish(resume, self.resumed, self.resume_failed)

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

    def show_backup(self, warning: str) -> None:
        """The last backup's warning on the title line ("" clears it)."""
        self.query_one(BackupWarningStrip).show(warning)

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
        """The basket or its payments changed: the basket saver stores it (nothing taken is ever lost)."""
        self.app.basket_saver.keep(self.basket, self.tender.payments if self.tender is not None else [])

    def restore(self, stored: Any) -> None:
        """The basket left open at the last run (a crash, a close) comes back with its payments."""
        from store.money import format_yuan

        self.app.basket_saver.adopt(stored.id)
        self._basket = stored.basket
        self.tender = stored.tender() if stored.payments else None
        self.show_basket()
        self.refresh_basket()
        self.show_total_on_display()
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
        self.show_total_on_display()  # the welcome: no total of a basket that is gone

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts on an empty basket and entry line, not the last change."""
        self.tender = None
        self.show_basket()
        self.entry.value = ""
        self.say("")

    # ------------------------------------------------------------ no sale (开钱箱) and 无单退货

    def action_no_sale(self) -> None:
        """Ctrl+O: open the drawer without a sale, with a reason (and a manager's PIN by setting); logged."""
        from tui.screens.reason import ReasonScreen

        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return

        def reason_given(reason: Optional[str]) -> None:
            if not reason:
                self.say(t("nosale.cancelled"))
            elif self.app.settings.selling.no_sale_manager_pin:
                self.with_manager(t("pin.why_no_sale"), lambda manager: self.open_drawer(reason, manager),
                                  t("nosale.cancelled"))
            else:
                self.open_drawer(reason, "")

        self.app.push_screen(ReasonScreen(t("nosale.question")), reason_given)

    def open_drawer(self, reason: str, manager: str) -> None:
        self.app.log_event("no_sale", detail=f"{reason} (manager {manager})" if manager else reason)
        self.app.till.open_drawer(f"no sale: {reason}")
        self.say(t("nosale.opened"))

    def with_manager(self, why: str, then: Any, cancelled: str) -> None:
        from tui.screens.pin import PinScreen

        def answered(manager: Optional[str]) -> None:
            if manager:
                then(manager)
            else:
                self.say(cancelled)

        self.app.push_screen(PinScreen(why), answered)

    def action_refund_without_receipt(self) -> None:
        """Ctrl+T: 无单退货 of what is in the basket, all in cash, when [selling] refund_without_receipt allows it."""
        from tui.screens.reason import ReasonScreen

        if not self.app.settings.selling.refund_without_receipt:
            self.refuse(t("sale.refund_without_receipt_off"))
            return
        if self.query_one("#main", ContentSwitcher).current != "basket" or self.basket.is_empty:
            self.refuse(t("sale.basket_empty"))
            return
        if self.tender is not None and self.tender.paid_fen > 0:
            self.refuse(t("sale.payment_in_progress"))
            return
        if self.app.till_blocked():
            self.refuse(t("sale.waiting_receipt"))
            return

        def approved(manager: str) -> None:
            def reason_given(reason: Optional[str]) -> None:
                if reason:
                    self.commit_refund_without_receipt(manager, reason)
                else:
                    self.say(t("refund.no_receipt_cancelled"))

            self.app.push_screen(ReasonScreen(t("refund.no_receipt_reason")), reason_given)

        self.with_manager(t("pin.why_refund_no_receipt"), approved, t("refund.no_receipt_cancelled"))

    def commit_refund_without_receipt(self, manager: str, reason: str) -> None:
        from store.documents import commit_refund_without_receipt

        basket, app = self.basket, self.app

        def job(basket_id: Optional[int]) -> Any:
            return commit_refund_without_receipt(basket, app.till_id, app.till.cashier or None, manager, reason,
                                                 "cash", basket_id=basket_id)

        def failed(exc: Exception) -> None:
            from tui.errors import describe

            log.error("refund without a receipt failed: %s", exc, exc_info=exc)
            self.refuse(on_screen(app, describe(exc)))

        app.basket_saver.finish(job, self.refunded_without_receipt, failed)

    def refunded_without_receipt(self, refund: Any) -> None:
        from store.money import format_yuan
        from store.numbering import format_receipt_no
        from store.sales import Basket

        self._basket = Basket()
        self.tender = None
        self.refresh_basket()
        self.app.print_sale(refund.id, open_drawer=refund.total_fen > 0)
        self.say(t("history.refunded_ok", number=format_receipt_no(refund.till_id, refund.receipt_no),
                   amount=format_yuan(refund.total_fen)))


def typed_qty(text: str) -> int:
    """A typed quantity in thousandths; Refused (one sentence) when it will not do."""
    from store.money import parse_qty
    from tui.screens.ask import Refused

    try:
        return parse_qty(text)
    except ValueError:
        raise Refused(t("sale.bad_quantity", text=brief(text))) from None


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)


def _what(spec: Any) -> str:
    """A discount as the cashier says it: 10% or 2.50 (off)."""
    from store.money import format_percent

    return format_percent(spec.value) if spec.kind == "percent" else _yuan(spec.value)


def _said(what: str, spec: Any) -> str:
    """A decision in a few words: "10%", "2.50" or, for a price, "Price 2.50"."""
    from tui.screens.discount import PRICE

    return t("key.price_override") + " " + _yuan(spec.value) if what == PRICE else _what(spec)
