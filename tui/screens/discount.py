"""The discount dialog: an amount (10% or 2.50, or a new price) and a reason.

Used for a line discount (F5), a basket discount (F6) and a price override
(Ctrl+P). Dismisses with (spec, reason) (spec None: take the discount or
override off) or None on Esc. An empty amount, or 0, takes it off; a reason
is needed otherwise (1-4 pick a quick one, recorded in the receipt's language). Who may give it is the sale
screen's question (store.discounts), asked after the dialog closes.
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Optional

from tui.i18n import CATALOGUES, brief, t
from tui.screens.ask import AmountScreen, Reason, Refused

if TYPE_CHECKING:
    from textual import getters

    from store.sales import DiscountSpec
    from tui.screens.host import TillHost

QUICK_REASONS = ("discount.reason.1", "discount.reason.2", "discount.reason.3", "discount.reason.4")
LINE, BASKET, PRICE = "line", "basket", "price"


def discount_spec(what: str, base_fen: int, text: str) -> Optional["DiscountSpec"]:
    """A typed discount of ``base_fen`` (``what`` LINE or BASKET) or new price (PRICE); None takes it off.

    Raises Refused (one sentence) for anything else: not a percent or amount, over 100% or over the base,
    a price of zero."""
    from store.money import MAX_FEN, format_yuan, parse_percent, parse_yuan
    from store.sales import PRICE as PRICE_KIND, DiscountSpec

    shown = brief(text)
    if not text:
        return None
    if what == PRICE:
        try:
            price = parse_yuan(text)
        except ValueError:
            raise Refused(t("discount.bad_price", text=shown)) from None
        if price == 0:
            raise Refused(t("discount.price_zero"))
        return None if price == base_fen else DiscountSpec(PRICE_KIND, price)
    if unicodedata.normalize("NFKC", text).endswith("%"):  # a full-width ％ too
        try:
            value = parse_percent(text)
        except ValueError:
            raise Refused(t("discount.bad_percent", text=shown)) from None
        return DiscountSpec("percent", value) if value else None
    try:
        amount = parse_yuan(text)
    except ValueError as exc:
        too_large = getattr(exc, "code", "") == "amount_too_large"
        raise Refused(t("tender.amount_too_large", text=shown, max=format_yuan(MAX_FEN)) if too_large
                      else t("discount.bad_amount", text=shown)) from None
    if amount > base_fen:
        raise Refused(t("discount.too_much", amount=format_yuan(amount), base=format_yuan(base_fen)))
    return DiscountSpec("amount", amount) if amount else None


class DiscountScreen(AmountScreen):
    """Ask for a discount (``what`` LINE or BASKET) or a new price (PRICE) of ``base_fen``."""

    INPUT, MESSAGE = "discount-amount", "discount-message"
    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    def __init__(self, what: str, title: str, base_fen: int) -> None:
        reason = Reason(t("discount.reason_placeholder"), t("discount.reason_needed"), max_length=40,
                        quick=tuple(t(key) for key in QUICK_REASONS))
        super().__init__(title, placeholder=t("discount.price_placeholder" if what == PRICE
                                              else "discount.amount_placeholder"),
                         parse=partial(discount_spec, what, base_fen), reason=reason)
        self.what = what

    def on_mount(self) -> None:
        """A quick reason is shown in the screen's language but stored in the receipt's, which prints it as
        stored (a typed reason is stored as typed)."""
        assert self.reason is not None
        language = self.app.settings.receipt.language
        self.reason = replace(self.reason, quick_stored=tuple(CATALOGUES[language][key] for key in QUICK_REASONS))
