"""The sale screen: entry line, basket, running total, success panel."""
from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

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
from tui.screens.status import BackupWarningStrip, JournalKeyStrip, PrinterStrip, SyncStrip
from tui.screens.widgets import Amount, KeyBar, TopBar
from tui.services.payment_aside import AsideCommitted, AsideFailed, AsideReleased, BasketSetAside, SetAsideFailed
from tui.services.sale_session import (
    BASKET,
    LINE,
    PRICE,
    BasketEnded,
    BasketHeld,
    BasketResumed,
    CommitFailed,
    EndFailed,
    HoldFailed,
    RefundedWithoutReceipt,
    RefundFailed,
    Refused,
    ResumeFailed,
    SaleCommitted,
    SaleSession,
    asks_weight,
    discount_text,
    said,
)

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

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

    def show_sale(self, sale: Any, paid_fen: int, payments: Tuple[Any, ...] = ()) -> None:
        """``payments``: the sale's successful ones; a mobile one shows its provider and transaction number."""
        from store.money import format_yuan
        from store.numbering import format_receipt_no

        self.sale_id = sale.id
        self.amount = t("done.amount", amount=format_yuan(paid_fen))
        for payment in payments:
            if payment.out_trade_no:
                self.amount += "\n" + t("done.mobile", method=t(f"method.{payment.method}"),
                                        number=payment.reference)
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
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("sale")
    AUTO_FOCUS = "#entry"

    def __init__(self, session: SaleSession) -> None:
        super().__init__()
        self.session = session  # the basket, its tender and every selling rule (tui/services/sale_session.py)
        self.last_sale_id: Optional[int] = None
        # Codes entered before the till started, or typed while a sale was being saved: kept in
        # order and added when the till is ready (the keys are never lost, never doubled).
        self.typed_ahead: List[str] = []
        self.typed_while_saving: List[str] = []  # left here by the tender screen for tender_done
        self.tender_screen: Optional[Any] = None  # the tender open over this screen, which hears the commit
        self.then_quit = False  # Ctrl+Q chose to cancel the basket: the till closes once it has ended

    @property
    def basket(self) -> Any:
        """The store Basket being rung up (the session's)."""
        return self.session.basket

    @property
    def tender(self) -> Optional[Any]:
        return self.session.tender

    @property
    def ending(self) -> bool:
        """The basket is being cancelled: codes wait for the next."""
        return self.session.ending

    @property
    def busy(self) -> str:
        """Holding or resuming a basket (store work on the basket saver's thread): scans wait in typed_ahead."""
        return self.session.busy

    def compose(self) -> ComposeResult:
        with Horizontal(id="topline"):
            yield TopBar(id="topbar")
            yield JournalKeyStrip(id="journal-strip")
            yield BackupWarningStrip(id="backup-strip")
            yield SyncStrip(id="sync-strip")
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
        if self.session.waits():  # cancelling, holding or resuming: this scan goes to the next basket
            self.typed_ahead.append(text)
            return
        if self.session.money_taken():
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
        if asks_weight(product, "*" in text, label_qty != 1000 or amount_fen is not None):
            self.ask_weight(product)
            return
        self.add_line(product, qty, amount_fen)

    def ask_weight(self, product: Any) -> None:
        """A weighed product by its PLU: its weight is asked (in its unit), never taken as one."""
        from tui.screens.ask import AskScreen

        def weighed(qty: Optional[int]) -> None:
            if qty is None:
                self.say(t("weight.not_added", name=on_screen(self.app, product.name)))
            else:
                self.add_line(product, qty, None)

        title = t("weight.title", name=on_screen(self.app, product.name), unit=on_screen(self.app, product.unit))
        self.app.push_screen(AskScreen(title, "", max_length=12, parse=typed_qty), weighed)

    def add_line(self, product: Any, qty: int, amount_fen: Optional[int], confirmed: bool = False) -> None:
        """Add a line for a found product; a fraction of a piece is refused, a line over [limits] asks first."""
        from store.sales import SaleError, check_line
        from tui.screens.confirm import ask_limit
        from tui.services import guards

        try:
            check_line(product, qty, amount_fen)
        except SaleError as exc:
            from tui.errors import describe

            self.refuse(on_screen(self.app, describe(exc)))
            return
        line_qty, amount = self.session.line_after_scan(product, qty, amount_fen)  # a repeat scan: its line
        try:
            self.session.check_stock(product, qty)  # [stock] negative = refuse: none on hand, not sold
        except Refused as exc:
            self.refuse(t(exc.code, **{**exc.values, "name": on_screen(self.app, product.name)}))
            return
        question = None if confirmed else guards.line_question(self.app.settings.limits, product.name, line_qty, amount)
        if question is not None:
            ask_limit(self.app, question, lambda: self.add_line(product, qty, amount_fen, confirmed=True),
                      lambda: self.say(t("guard.not_added")))
            return
        self.show_basket()
        index = self.session.add(product, qty, amount_fen)
        self.refresh_basket(select=index)
        line = self.basket.lines[index]
        self.app.customer_display.show_item(line.name, line.unit_price_fen)  # 单价: the price of one
        short = self.session.say_short(self.basket.items[index])  # [stock] negative = warn: said once
        if short is not None:
            self.say(t("stock.short_said", name=on_screen(self.app, product.name), on_hand=short), error=True)
        else:
            self.say(t("sale.added", name=on_screen(self.app, product.name)))

    def show_total_on_display(self) -> None:
        """The basket changed (quantity, void, discount, resumed): the customer sees its new total."""
        if self.sale_open():
            self.app.customer_display.show_total(self.basket.total_fen)
        else:
            self.app.customer_display.show_welcome()

    def lookup(self, code: str) -> Optional[Tuple[Any, int, Optional[int]]]:
        """(product, qty_milli, fixed amount) for a code; None after telling the cashier why not."""
        from store.codes import CodeError

        try:
            resolved = self.session.resolve(code)
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
            if self.session.line_short(item):  # sold with none on hand ([stock] negative = warn)
                name = Text.assemble((t("stock.short_mark") + " ", "bold reverse"), name, no_wrap=True,
                                     overflow="ellipsis")
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
            return t("sale.line_discount_row", what=discount_text(item.discount), reason=item.discount.reason).strip()
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
            parts.append(t("sale.basket_discount_shown", what=discount_text(basket.discount)))
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
        index = table.cursor_row
        try:
            name, dropped = self.session.void_line(index)
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.show_total_on_display()
        self.refresh_basket(select=max(0, index - 1) if index else 0)
        self.say(t("sale.voided", name=on_screen(self.app, name)))
        self.say_basket_discount_off(dropped)

    def say_basket_discount_off(self, dropped: Any) -> None:
        if dropped is not None:
            self.say(t("sale.basket_discount_dropped", amount=_yuan(dropped.value),
                       subtotal=_yuan(self.basket.subtotal_fen)), error=True)

    # ------------------------------------------------------------ discounts and price changes

    def discount_target(self, what: str) -> Optional[Tuple[int, int]]:
        """(the selected line's index (-1: the basket), what the decision applies to), or None after saying why not."""
        table = self.query_one("#basket", DataTable)
        if self.query_one("#main", ContentSwitcher).current != "basket" or not table.row_count:
            self.refuse(t("sale.basket_empty" if what == BASKET else "sale.no_line"))
            return None
        index = -1 if what == BASKET else table.cursor_row
        try:
            return index, self.session.discount_base(what, index)
        except Refused as exc:
            self.refuse(t(exc.code))
            return None

    def action_line_discount(self) -> None:
        """F5: a percent or amount off the selected line."""
        from tui.screens.discount import DiscountScreen

        target = self.discount_target(LINE)
        if target is None:
            return
        index, base = target
        title = t("discount.title.line", name=on_screen(self.app, self.basket.lines[index].name), amount=_yuan(base))
        self.ask_discount(DiscountScreen(LINE, title, base), index, base)

    def action_basket_discount(self) -> None:
        """F6: a percent or amount off the whole basket (after the lines' own discounts)."""
        from tui.screens.discount import DiscountScreen

        target = self.discount_target(BASKET)
        if target is None:
            return
        _index, base = target
        self.ask_discount(DiscountScreen(BASKET, t("discount.title.basket", amount=_yuan(base)), base), -1, base)

    def action_price_override(self) -> None:
        """Ctrl+P: a new unit price for the selected line."""
        from tui.screens.discount import DiscountScreen

        target = self.discount_target(PRICE)
        if target is None:
            return
        index, base = target
        title = t("discount.title.price", name=on_screen(self.app, self.basket.items[index].name), price=_yuan(base))
        self.ask_discount(DiscountScreen(PRICE, title, base), index, base)

    def ask_discount(self, dialog: Any, index: int, base_fen: int) -> None:
        """Show the dialog; a discount within the cashier's limits applies at once, else a manager says yes."""

        from store.discounts import approver

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
            if not self.session.needs_manager(spec, base_fen):
                self.apply_discount(what, index, item, spec)
                return
            self.app.in_background(partial(approver, spec.cashier),
                                   partial(self.approved, what, index, item, spec), group="discount")

        self.app.push_screen(dialog, answered)

    def approved(self, what: str, index: int, item: Any, spec: Any, manager: Optional[str]) -> None:
        """Over the limits: a shop without cashiers or a manager selling needs no PIN; else ask for one."""

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
        rules = self.app.settings.selling
        if what == PRICE and not rules.cashier_price_override:
            return t("pin.why_price", what=said(what, spec))
        key = "pin.why_price_limit" if what == PRICE else "pin.why_discount"
        return t(key, what=said(what, spec), limit=rules.cashier_max_discount)

    def apply_discount(self, what: str, index: int, item: Any, spec: Any, confirmed: bool = False) -> None:
        """Put the decision on the basket (None: take it off) through the session, and show it.

        A new price that makes the line larger than [limits] allows asks first (as a new line does).
        """
        from store.sales import SaleError
        from tui.screens.confirm import ask_limit
        from tui.services import guards

        session = self.session
        if not session.still_there(index, item):
            self.refuse(t("sale.basket_changed"))  # a scan or a payment came between the question and the answer
            return
        if what == PRICE and spec is not None and not confirmed:
            question = guards.line_question(self.app.settings.limits, item.name, item.qty_milli,
                                            session.price_amount(item, spec))
            if question is not None:
                ask_limit(self.app, question, lambda: self.apply_discount(what, index, item, spec, confirmed=True),
                          lambda: self.say(t("guard.not_changed")))
                return
        try:
            dropped = session.apply_discount(what, index, item, spec)
        except SaleError as exc:
            from tui.errors import describe

            self.refuse(describe(exc))
            return
        self.show_total_on_display()
        table = self.query_one("#basket", DataTable)
        self.refresh_basket(select=index if index >= 0 else table.cursor_row)
        shown = on_screen(self.app, item.name if item is not None else "")
        if what == BASKET:
            self.say(t("sale.basket_discount_given", what=discount_text(spec)) if spec
                     else t("sale.basket_discount_off"))
        elif what == PRICE:
            self.say(t("sale.price_given", name=shown, price=_yuan(spec.value)) if spec
                     else t("sale.price_off", name=shown))
        else:
            self.say(t("sale.discount_given", name=shown, what=discount_text(spec)) if spec
                     else t("sale.discount_off", name=shown))
        self.say_basket_discount_off(dropped)

    def action_change_qty(self) -> None:
        """F3: change the selected line's quantity (not a scale label's line: the label says it)."""
        from store.money import format_qty
        from store.sales import SaleError
        from tui.errors import describe
        from tui.screens.ask import AskScreen

        table = self.query_one("#basket", DataTable)
        if self.query_one("#main", ContentSwitcher).current != "basket" or not table.row_count:
            self.refuse(t("sale.no_line"))
            return
        index = table.cursor_row
        try:
            item = self.session.check_qty(index)
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        except SaleError as exc:
            self.refuse(on_screen(self.app, describe(exc)))
            return
        ask = AskScreen(t("qty.title", name=on_screen(self.app, item.name)), format_qty(item.qty_milli),
                        max_length=12, parse=typed_qty)
        self.app.push_screen(ask, partial(self.qty_chosen, index))

    def qty_chosen(self, index: int, qty: Optional[int], confirmed: bool = False, item: Any = None) -> None:
        """The new quantity of line ``index``; a line over [limits] asks first (as a new line does)."""
        from store.money import format_qty
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
        amount = self.session.qty_amount(item, qty)
        question = None if confirmed else guards.line_question(self.app.settings.limits, item.name, qty, amount)
        if question is not None:
            ask_limit(self.app, question, lambda: self.qty_chosen(index, qty, confirmed=True, item=item),
                      lambda: self.say(t("guard.not_changed")))
            return
        # an amount off this line that a smaller line no longer allows comes off (store.discounts.amount_stands)
        try:
            dropped, basket_dropped = self.session.set_qty(index, qty)
        except SaleError as exc:
            self.refuse(on_screen(self.app, describe(exc)))
            return
        except Refused as exc:  # [stock] negative = refuse
            self.refuse(t(exc.code, **{**exc.values, "name": on_screen(self.app, item.name)}))
            return
        self.show_total_on_display()
        self.refresh_basket(select=index)
        shown = on_screen(self.app, item.name)
        if dropped is None:
            self.say(t("sale.qty_changed", name=shown, qty=format_qty(qty)))
            self.say_basket_discount_off(basket_dropped)
            return
        self.say(t("sale.qty_discount_off", name=shown, qty=format_qty(qty), amount=_yuan(dropped.value)),
                 error=True)
        self.say_basket_discount_off(basket_dropped)

    # ------------------------------------------------------------ paying

    def action_tender(self) -> None:
        from tui.screens.tender import TenderScreen

        if self.query_one("#main", ContentSwitcher).current != "basket":
            self.refuse(t("sale.basket_empty"))
            return
        try:
            tender = self.session.open_tender()
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        if self.app.till_blocked():
            self.refuse(t("sale.waiting_receipt"))
            return
        self.say("")
        self.app.customer_display.show_total(self.basket.total_fen)
        self.tender_screen = TenderScreen(self.session, tender)
        self.app.push_screen(self.tender_screen, self.tender_done)

    def tender_done(self, _sale: Optional[Any]) -> None:
        """The tender closed: with the sale (SaleCommitted has shown it) or back to the basket (Esc), its
        payments kept for the next F12."""
        self.tender_screen = None

    def sale_committed(self, event: SaleCommitted) -> None:
        """The sale is stored: the success panel, the customer display, the receipt (and the drawer for cash)."""
        sale = event.sale
        if self.tender_screen is not None:
            self.tender_screen.committed(sale)  # closes the tender (tender_done); keys typed meanwhile come here
        self.last_sale_id = sale.id
        self.app.customer_display.show_paid_change(event.paid_fen, sale.change_fen)
        self.success_panel().show_sale(sale, event.paid_fen, event.payments)
        self.query_one("#main", ContentSwitcher).current = "done"
        self.query_one("#total", Digits).update(_yuan(sale.total_fen))
        self.query_one("#items", Static).update("")
        self.say("")
        self.app.print_sale(sale.id, open_drawer=event.cash)
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

        if self.query_one("#main", ContentSwitcher).current != "basket" and not self.busy:
            self.refuse(t("hold.empty"))
            return
        if self.session.may_set_aside():  # a restored basket whose payment is unclear: it waits aside
            self.set_aside()
            return
        try:
            self.session.check_hold()
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.app.push_screen(AskScreen(t("hold.title"), placeholder=t("hold.note"), max_length=60), self.hold_with)

    def hold_with(self, note: Optional[str]) -> None:
        """Hold the basket as stored (the saver stores the last change first); the screen empties at once."""
        if note is None or self.basket.is_empty:
            return
        try:
            self.session.hold(note)
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.refresh_basket()
        self.show_total_on_display()  # put aside: the customer display says welcome again
        self.say(t("hold.holding"))

    def hold_done(self, _event: Any = None) -> None:
        held_key = keymap.by_id("sale.held")
        self.say(t("hold.done", shortcut=keymap.display_key(keymap.key_of(held_key)) if held_key else ""))
        self.replay_typed_ahead()

    def hold_failed(self, event: HoldFailed) -> None:
        """Not held (the database is away ...): the basket is back as it was."""
        from tui.errors import describe

        self.refresh_basket()
        self.replay_typed_ahead()
        self.refuse(on_screen(self.app, describe(event.error)))  # after the scans typed meanwhile: this to read

    def set_aside(self) -> None:
        try:
            self.session.set_aside()
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.show_setting_aside()

    def show_setting_aside(self) -> None:
        """The basket waits aside for its payment's answer: the screen empties at once for the next customer."""
        self.refresh_basket()
        self.show_total_on_display()
        self.say(t("hold.holding"))

    def set_aside_done(self, event: BasketSetAside) -> None:
        self.say(t("aside.done", method=t(f"method.{event.aside.provider}")))
        self.replay_typed_ahead()

    def aside_committed(self, event: AsideCommitted) -> None:
        """A set-aside basket's payment arrived: its sale is stored; its receipt prints (the banner if it fails);
        the open basket, mid-tender or not, is not touched."""
        from store.numbering import format_receipt_no

        sale, aside = event.sale, event.aside
        self.app.print_sale(sale.id)
        self.app.notify(t("aside.paid", method=t(f"method.{aside.provider}"), time=aside.at,
                          amount=_yuan(aside.amount_fen), number=format_receipt_no(sale.till_id, sale.receipt_no)),
                        timeout=15)

    def aside_released(self, event: AsideReleased) -> None:
        aside = event.aside
        held_key = keymap.by_id("sale.held")
        self.app.notify(t("aside.released", method=t(f"method.{aside.provider}"), time=aside.at,
                          amount=_yuan(aside.amount_fen),
                          shortcut=keymap.display_key(keymap.key_of(held_key)) if held_key else ""),
                        severity="warning", timeout=15)

    def aside_failed(self, event: AsideFailed) -> None:
        self.app.store_error(event.error)

    def action_held(self) -> None:
        """Ctrl+Y 取单: the held baskets, to take one back (only onto an empty basket)."""
        from tui.screens.held import HeldScreen

        try:
            self.session.check_resume()
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.app.push_screen(HeldScreen(self.session.held_list), self.take_held)

    def take_held(self, basket_id: Any) -> None:
        """Resume the chosen basket (on the saver's thread, after what it still has to store)."""
        if basket_id is None or self.busy:
            return
        try:
            self.session.resume(basket_id)
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        self.say(t("held.taking"))

    def resumed(self, event: BasketResumed) -> None:
        self.show_restored()
        self.say(t("held.resumed", amount=_yuan(event.stored.total_fen)))
        self.replay_typed_ahead()

    def resume_failed(self, event: ResumeFailed) -> None:
        """Another till took it meanwhile (or the database is away): one sentence, the basket stays empty."""
        from tui.errors import describe

        self.replay_typed_ahead()
        self.refuse(on_screen(self.app, describe(event.error)))

    # ------------------------------------------------------------ what the session reports

    def session_event(self, event: Any) -> None:
        """The sale session's answer to store work it ran (on the UI thread)."""
        handlers: Dict[type, Callable[[Any], None]] = {
            SaleCommitted: self.sale_committed, CommitFailed: self.commit_failed,
            BasketHeld: self.hold_done, HoldFailed: self.hold_failed,
            BasketSetAside: self.set_aside_done, SetAsideFailed: self.hold_failed,
            AsideCommitted: self.aside_committed, AsideReleased: self.aside_released, AsideFailed: self.aside_failed,
            BasketResumed: self.resumed, ResumeFailed: self.resume_failed,
            BasketEnded: self.basket_ended, EndFailed: self.end_failed,
            RefundedWithoutReceipt: self.refunded_without_receipt, RefundFailed: self.refund_failed}
        handler = handlers.get(type(event))
        if handler is None:  # a payment attempt's news (tui.services.payments.events)
            self.payment_event(event)
            return
        handler(event)

    def payment_event(self, event: Any) -> None:
        """The tender shows it; with the tender closed (a restored basket), one sentence here."""
        if self.tender_screen is not None:
            self.tender_screen.payment_event(event)
        elif type(event).__name__ == "PaymentPaid":
            self.say(t("pay.paid", method=t(f"method.{event.provider}"), amount=_yuan(event.amount_fen),
                       number=event.transaction_id))

    def commit_failed(self, event: CommitFailed) -> None:
        if self.tender_screen is not None:
            self.tender_screen.commit_failed(event.error)
        else:
            self.app.store_error(event.error)

    def basket_ended(self, event: BasketEnded) -> None:
        from tui.screens.abandon import hand_back_text

        self.show_started_over()
        if event.handed_back:
            self.say(t("abandon.done_paid", payments=hand_back_text(event.handed_back)), error=True)
        else:
            self.say(t("abandon.done"))
        self.replay_typed_ahead()
        if self.then_quit:
            self.app.exit()

    def end_failed(self, event: EndFailed) -> None:
        self.then_quit = False
        self.app.store_error(event.error)
        self.replay_typed_ahead()

    # ------------------------------------------------------------ what the app tells and asks

    def receipt_status(self, sale_id: int, state: str, reason: str = "", warning: str = "") -> None:
        """The till reported on a sale's receipt; update the success panel if it is shown."""
        if not self.is_mounted:  # the till is stopping: a report of a receipt still printing has nowhere to go
            return
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

    def show_sync(self, status: Any) -> None:
        """The sync worker's status (a SyncStatus) on its strip."""
        for strip in self.query(SyncStrip).results(SyncStrip):
            strip.show(status)

    def show_display(self, text: str) -> None:
        """The demo: what the customer display shows, on its strip."""
        for strip in self.query("#customer-display").results(Static):
            strip.update(t("display.shown", text=on_screen(self.app, text)))

    def show_cashier(self) -> None:
        """The signed-in cashier changed: redraw the title line (not composed yet: it shows them when it is)."""
        for bar in self.query(TopBar):
            bar.show()

    def restore(self, stored: Any, attempts: Any = ()) -> None:
        """The basket left open at the last run (a crash, a close) comes back with its payments and payment
        attempts (a paid one whose payment was not stored yet becomes its payment, and the sale commits)."""
        self.session.restore(stored, list(attempts))
        self.show_restored()

    def show_restored(self) -> None:
        self.show_basket()
        self.refresh_basket()
        self.show_total_on_display()
        paid = self.tender.paid_fen if self.tender is not None else 0
        self.say(t("sale.restored_paid", amount=_yuan(paid)) if paid else t("sale.restored"))

    def sale_open(self) -> bool:
        """Is a basket being rung up?"""
        return self.session.sale_open()

    def action_cancel_basket(self) -> None:
        """Ctrl+X: the customer changed her mind; one question, then the basket ends (money handed back)."""
        from tui.screens.abandon import ask_cancel

        ask_cancel(self.app)

    def start_over(self) -> None:
        """The basket ended without a sale: an empty basket on screen, the next change starts a new one."""
        self.session.start_over()
        self.show_started_over()

    def show_started_over(self) -> None:
        self.show_basket()
        self.refresh_basket()
        self.show_total_on_display()  # the welcome: no total of a basket that is gone

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts on an empty basket and entry line, not the last change."""
        self.session.hand_over()
        self.show_basket()
        self.entry.value = ""
        self.say("")

    # ------------------------------------------------------------ no sale (开钱箱) and 无单退货

    def action_no_sale(self) -> None:
        """Ctrl+O: open the drawer without a sale, with a reason (and a manager's PIN by setting); logged."""
        from tui.screens.reason import ReasonScreen

        try:
            self.session.no_sale_allowed()
        except Refused as exc:
            self.refuse(t(exc.code))
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

        on_basket = self.query_one("#main", ContentSwitcher).current == "basket"
        if not on_basket and self.app.settings.selling.refund_without_receipt:
            self.refuse(t("sale.basket_empty"))
            return
        try:
            self.session.check_refund_without_receipt()
        except Refused as exc:
            self.refuse(t(exc.code))
            return
        if self.app.till_blocked():
            self.refuse(t("sale.waiting_receipt"))
            return

        def approved(manager: str) -> None:
            def reason_given(reason: Optional[str]) -> None:
                if reason:
                    self.session.refund_without_receipt(manager, reason)
                else:
                    self.say(t("refund.no_receipt_cancelled"))

            self.app.push_screen(ReasonScreen(t("refund.no_receipt_reason")), reason_given)

        self.with_manager(t("pin.why_refund_no_receipt"), approved, t("refund.no_receipt_cancelled"))

    def refund_failed(self, event: RefundFailed) -> None:
        from tui.errors import describe

        log.error("refund without a receipt failed: %s", event.error, exc_info=event.error)
        self.refuse(on_screen(self.app, describe(event.error)))

    def refunded_without_receipt(self, event: RefundedWithoutReceipt) -> None:
        from store.numbering import format_receipt_no

        refund = event.refund
        self.refresh_basket()
        self.app.print_sale(refund.id, open_drawer=refund.total_fen > 0)
        self.say(t("history.refunded_ok", number=format_receipt_no(refund.till_id, refund.receipt_no),
                   amount=_yuan(refund.total_fen)))


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
