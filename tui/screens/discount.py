"""The discount dialog: an amount (10% or 2.50, or a new price) and a reason.

Used for a line discount (F5), a basket discount (F6) and a price override
(Ctrl+P). Dismisses with a ``Decision`` (its ``spec`` None: take the discount
or override off) or None on Esc. An empty amount, or 0, takes it off; a
reason is needed otherwise (1-4 pick a quick one). Who may give it is the
sale screen's question (store.discounts), asked after the dialog closes.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui import keymap
from tui.i18n import brief, t
from tui.screens.widgets import KeyBar

if TYPE_CHECKING:
    from store.sales import DiscountSpec

QUICK_REASONS = ("discount.reason.1", "discount.reason.2", "discount.reason.3", "discount.reason.4")
LINE, BASKET, PRICE = "line", "basket", "price"


@dataclass(frozen=True)
class Decision:
    spec: Optional["DiscountSpec"]  # None: off (no discount, the list price)


class DiscountScreen(ModalScreen[Optional[Decision]]):
    """Ask for a discount (``what`` LINE or BASKET) or a new price (PRICE) of ``base_fen``."""

    BINDINGS = keymap.bindings("discount")
    AUTO_FOCUS = "#discount-amount"
    DEFAULT_CSS = """
    DiscountScreen { align: center middle; background: $background 60%; }
    #discount-box { width: 60; max-width: 100%; height: auto; border: thick $accent; background: $surface;
                    padding: 0 1; }
    #discount-title { text-style: bold; width: 100%; }
    #discount-message { height: auto; }
    #discount-message.-error { color: $text-error; text-style: bold; }
    #discount-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, what: str, title: str, base_fen: int) -> None:
        super().__init__()
        self.what = what
        self.title_text = title
        self.base_fen = base_fen
        self.spec: Optional["DiscountSpec"] = None

    def compose(self) -> ComposeResult:
        with Vertical(id="discount-box"):
            yield Static(self.title_text, id="discount-title")
            yield Input(placeholder=t("discount.price_placeholder" if self.what == PRICE
                                      else "discount.amount_placeholder"), id="discount-amount")
            yield Input(placeholder=t("discount.reason_placeholder"), max_length=40, id="discount-reason")
            yield Static(t("discount.quick", **{f"r{n}": t(key) for n, key in enumerate(QUICK_REASONS, 1)}),
                         id="discount-quick")
            yield Static("", id="discount-message")
            yield KeyBar("discount")

    def on_mount(self) -> None:
        self.query_one("#discount-reason", Input).disabled = True

    def say(self, text: str) -> None:
        from rich.text import Text

        message = self.query_one("#discount-message", Static)
        message.update(Text(text))  # never markup: what the cashier typed is shown as typed
        message.set_class(True, "-error")
        self.app.bell()

    @on(Input.Submitted, "#discount-amount")
    def amount_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        spec = self.parse(text)
        if spec is False:
            return
        if spec is None:
            self.dismiss(Decision(None))
            return
        self.spec = spec
        reason = self.query_one("#discount-reason", Input)
        reason.disabled = False
        reason.focus()
        self.query_one("#discount-message", Static).update("")

    def parse(self, text: str):  # -> DiscountSpec, None (off) or False (refused, said why)
        from store.money import MAX_FEN, format_yuan, parse_percent, parse_yuan
        from store.sales import PRICE as PRICE_KIND, DiscountSpec

        shown = brief(text)
        if not text:
            return None
        if self.what == PRICE:
            try:
                price = parse_yuan(text)
            except ValueError:
                self.say(t("discount.bad_price", text=shown))
                return False
            if price == 0:
                self.say(t("discount.price_zero"))
                return False
            return None if price == self.base_fen else DiscountSpec(PRICE_KIND, price)
        if unicodedata.normalize("NFKC", text).endswith("%"):  # a full-width ％ too
            try:
                value = parse_percent(text)
            except ValueError:
                self.say(t("discount.bad_percent", text=shown))
                return False
            return DiscountSpec("percent", value) if value else None
        try:
            amount = parse_yuan(text)
        except ValueError as exc:
            code = getattr(exc, "code", "")
            self.say(t("tender.amount_too_large", text=shown, max=format_yuan(MAX_FEN))
                     if code == "amount_too_large" else t("discount.bad_amount", text=shown))
            return False
        if amount > self.base_fen:
            self.say(t("discount.too_much", amount=format_yuan(amount), base=format_yuan(self.base_fen)))
            return False
        return DiscountSpec("amount", amount) if amount else None

    @on(Input.Submitted, "#discount-reason")
    def reason_submitted(self, event: Input.Submitted) -> None:
        from dataclasses import replace

        event.stop()
        reason = " ".join(event.value.split())
        if reason in ("1", "2", "3", "4"):
            reason = t(QUICK_REASONS[int(reason) - 1])
        if not reason:
            self.say(t("discount.reason_needed"))
            return
        if self.spec is not None:
            self.dismiss(Decision(replace(self.spec, reason=reason)))

    def action_cancel(self) -> None:
        self.dismiss(None)
