"""The sale session: one basket's life, from the first scan to the sale (or its end without one).

Plain Python, no Textual, so every selling rule runs and is tested without a
screen. One ``SaleSession`` owns the open basket and its tender; it is made of
parts, one module each (tui/services/sale/):

- core.py: what the session is now (the basket, its tender and payment
  attempts), ``Refused``, and the rules every part shares;
- basket.py: the basket's lines, quantities, stock on hand, discounts and
  price changes, with the cashier's limits and when a manager must approve;
- tender.py: the tender and its payments, 抹零 and which methods it allows,
  and the commit of the sale;
- attempts.py: mobile payments (付款码): an attempt that waits on a provider,
  through the payment desk;
- set_aside.py: a basket set aside while its attempt is unclear;
- held.py: holding (挂单) and resuming (取单), this till's or another's
  through the shop's server, and a stored basket restored;
- ending.py: cancelling or abandoning with what to hand back per method and
  the drawer, and the refund without a receipt.

Every change is handed to the basket saver (tui/services/basket_saver.py) as
it happens: nothing taken is ever lost. What ends a basket runs on the
saver's thread behind its stored changes; its answer comes back, on the
owner's thread, as one typed event through ``report(event)``, as ``Till``
reports its prints. A rule the cashier can break is refused with
``Refused(code)``, the code naming the sentence the screen says.

Call it from one thread (the UI thread); it never touches the store itself.
Screens import the session, its events and rules from here.
"""
from __future__ import annotations

from tui.services.sale.attempts import (
    CONFIRMING,
    PAID_NOW,
    STOPPING,
    TAKE,
    UNCLEAR,
    missing_payments,
    tender_mode,
)
from tui.services.sale.basket import (
    BASKET,
    LINE,
    PRICE,
    BasketPart,
    asks_weight,
    basket_discount_base,
    cashier_limit,
    discount_text,
    merges,
    needs_manager,
    said,
)
from tui.services.sale.core import HOLDING, RESUMING, AttemptView, Refused, blocks_basket, money_taken
from tui.services.sale.ending import (
    BasketEnded,
    EndFailed,
    EndingPart,
    RefundedWithoutReceipt,
    RefundFailed,
    failed_detail,
    hand_back,
)
from tui.services.sale.held import BasketHeld, BasketResumed, HeldPart, HoldFailed, ResumeFailed
from tui.services.sale.set_aside import AsidePart
from tui.services.sale.tender import (
    CommitFailed,
    SaleCommitted,
    change_due,
    drawer_opens,
    rounded_cash_only,
    rounding_spec,
    tender_for,
)

__all__ = [
    "BASKET", "CONFIRMING", "HOLDING", "LINE", "PAID_NOW", "PRICE", "RESUMING", "STOPPING", "TAKE", "UNCLEAR",
    "AttemptView", "BasketEnded", "BasketHeld", "BasketResumed", "CommitFailed", "EndFailed", "HoldFailed",
    "RefundFailed", "RefundedWithoutReceipt", "Refused", "ResumeFailed", "SaleCommitted", "SaleSession",
    "asks_weight", "basket_discount_base", "blocks_basket", "cashier_limit", "change_due", "discount_text",
    "drawer_opens", "failed_detail", "hand_back", "merges", "missing_payments", "money_taken", "needs_manager",
    "rounded_cash_only", "rounding_spec", "said", "tender_for", "tender_mode",
]


class SaleSession(BasketPart, EndingPart, HeldPart, AsidePart):
    """The open basket, its tender, and what the cashier may do with them now."""
