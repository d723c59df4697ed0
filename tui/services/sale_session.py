"""The sale session: one basket's life, from the first scan to the sale (or its end without one).

Plain Python, no Textual, so every selling rule runs and is tested without a
screen. One ``SaleSession`` owns the open basket and its tender:

- the basket's lines, quantities, discounts and price changes, with the
  cashier's limits and when a manager must approve;
- the tender and its payments (a payment attempt that waits on a provider
  belongs here too), 抹零 and which methods it allows;
- holding (挂单) and resuming (取单), cancelling or abandoning with what to
  hand back per method and the drawer, the refund without a receipt, and the
  commit of the sale.

Every change is handed to the basket saver (tui/services/basket_saver.py) as
it happens: nothing taken is ever lost. What ends a basket runs on the
saver's thread behind its stored changes; its answer comes back, on the
owner's thread, as one typed event through ``report(event)``, as ``Till``
reports its prints. A rule the cashier can break is refused with
``Refused(code)``, the code naming the sentence the screen says.

Call it from one thread (the UI thread); it never touches the store itself.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import partial
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from store import payment_attempts as states
from tui.i18n import t
from tui.services import payment_aside as aside_rules, stock
from tui.services.payment_aside import (
    AsideCommitted,
    AsideFailed,
    AsideReleased,
    BasketSetAside,
    SetAsideFailed,
)
from tui.services.payments.desk import (
    PaymentCancelled,
    PaymentCancelling,
    PaymentNotSent,
    PaymentPaid,
    PaymentRefused,
    PaymentUnclear,
    PaymentWaiting,
)

log = logging.getLogger("chaoying.tui.sale_session")

#: What a discount applies to (the discount dialog's ``what``).
LINE, BASKET, PRICE = "line", "basket", "price"

#: busy: store work on the saver's thread that the next scan must wait for.
HOLDING, RESUMING = "hold", "resume"


class Refused(Exception):
    """A selling rule says no; ``code`` names the sentence (an i18n key), ``values`` fill it."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


# ---------------------------------------------------------------- events (through report)

@dataclass(frozen=True)
class SaleCommitted:
    """The basket is a sale now, durable before any printing; ``cash``: the drawer opens with its receipt.
    ``payments``: its successful payments (a mobile one with its provider and transaction number)."""

    sale: Any
    paid_fen: int
    cash: bool
    payments: Tuple[Any, ...] = ()


@dataclass(frozen=True)
class CommitFailed:
    error: Exception


@dataclass(frozen=True)
class BasketHeld:
    pass


@dataclass(frozen=True)
class HoldFailed:
    """Not held: the basket is back as it was."""

    error: Exception


@dataclass(frozen=True)
class BasketResumed:
    stored: Any


@dataclass(frozen=True)
class ResumeFailed:
    error: Exception


@dataclass(frozen=True)
class BasketEnded:
    """Cancelled (nothing taken) or abandoned: ``handed_back`` is what went back to the customer."""

    handed_back: List[Any] = field(default_factory=list)


@dataclass(frozen=True)
class EndFailed:
    error: Exception


@dataclass(frozen=True)
class RefundedWithoutReceipt:
    refund: Any


@dataclass(frozen=True)
class RefundFailed:
    error: Exception


@dataclass(frozen=True)
class AttemptView:
    """What the session knows of one payment attempt of its basket (the store row has the same names)."""

    out_trade_no: str
    provider: str
    amount_fen: int
    state: str
    transaction_id: str = ""
    reason: str = ""
    sale: Optional[int] = None


# ---------------------------------------------------------------- the rules, one function each

#: What the tender may do now (tender_mode).
TAKE, CONFIRMING, UNCLEAR, STOPPING, PAID_NOW = "take", "confirming", "unclear", "stopping", "paid"


def blocks_basket(attempts: List[Any]) -> bool:
    """An attempt not known failed or cancelled blocks paying again, holding, abandoning and cancelling the
    basket: the customer is charged at most once."""
    return any(attempt.state not in states.NOTHING_CHARGED for attempt in attempts)


def missing_payments(tender_payments: List[Any], attempts: List[Any]) -> List[Any]:
    """The paid attempts (no sale yet) whose payment the stored tender lacks, each once: a crash came between
    the attempt's paid mark and the tender's save. Added on restore, never twice."""
    from store.sales import TenderPayment

    held = {payment.out_trade_no for payment in tender_payments if payment.ok and payment.out_trade_no}
    missing = []
    for attempt in attempts:
        if attempt.state == states.PAID and attempt.sale is None and attempt.out_trade_no not in held:
            held.add(attempt.out_trade_no)
            missing.append(TenderPayment(attempt.provider, int(attempt.amount_fen), attempt.transaction_id,
                                         out_trade_no=attempt.out_trade_no))
    return missing


def tender_mode(attempts: List[Any]) -> str:
    """What the tender may do now, by its newest attempt not failed or cancelled: TAKE a code or a method;
    CONFIRMING (the customer confirms: the stop-waiting key); UNCLEAR (no answer: the desk keeps asking);
    STOPPING (being cancelled); PAID_NOW (the sale is committed)."""
    for attempt in reversed(attempts):
        if attempt.state in (states.REQUESTED, states.WAITING):
            return CONFIRMING
        if attempt.state == states.UNKNOWN:
            return UNCLEAR
        if attempt.state == states.CANCELLING:
            return STOPPING
        if attempt.state == states.PAID:
            return PAID_NOW
    return TAKE


def money_taken(tender: Any) -> bool:
    """Money has been taken for this basket: it cannot be changed, held, left or dropped without handing it back."""
    return tender is not None and tender.paid_fen > 0


def hand_back(payments: List[Any]) -> Dict[str, int]:
    """Fen to hand back per method for the successful payments, methods in the order first taken."""
    owed: Dict[str, int] = {}
    for payment in payments:
        if payment.ok:
            owed[payment.method] = owed.get(payment.method, 0) + payment.amount_fen
    return owed


def merges(product: Any, merge_scans: bool) -> bool:
    """Does a repeat scan of ``product`` join its line? Never for a weighed product: each weighing is a line."""
    from store.money import sold_by_weight

    return merge_scans and not sold_by_weight(product.unit or "")


def asks_weight(product: Any, qty_typed: bool, from_label: bool) -> bool:
    """A product sold by weight, scanned by its PLU with no quantity typed and no scale label: ask its weight."""
    from store.money import sold_by_weight

    return sold_by_weight(product.unit or "") and not qty_typed and not from_label


def drawer_opens(payments: List[Any]) -> bool:
    """Cash is among these successful payments: the drawer opens (to take it, or to hand it back)."""
    return any(payment.ok and payment.method == "cash" for payment in payments)


def basket_discount_base(basket: Any) -> int:
    """What a discount off the whole basket applies to: the lines after their own discounts."""
    return sum(line.gross_fen - line.own_discount_fen for line in basket.lines)


def cashier_limit(rules: Any, sign_in_used: bool) -> Optional[int]:
    """The percent a cashier may give alone; None in a shop without cashiers (nobody to limit)."""
    return rules.cashier_max_discount if sign_in_used else None


def needs_manager(spec: Any, base_fen: int, rules: Any) -> bool:
    """Is this discount or price beyond the cashier's limits, so a manager must say yes?"""
    from store.discounts import over_limit

    return over_limit(spec, base_fen, rules.cashier_max_discount, rules.cashier_price_override)


def rounded_cash_only(basket: Any, rules: Any) -> bool:
    """After 抹零 with ``rounding_tenders = "cash"`` only cash is taken."""
    return basket.rounding is not None and rules.rounding_tenders == "cash"


def rounding_spec(basket: Any, tender: Any, rules: Any, cashier: str) -> Any:
    """The 抹零 the settings allow on this basket now (to 角 or 元), or Refused saying why not."""
    from store.discounts import ROUNDING_REASON
    from store.money import round_down
    from store.sales import DiscountSpec

    if rules.rounding == "off":
        raise Refused("tender.rounding_off_setting")
    if rules.rounding_tenders == "cash" and any(p.method != "cash" for p in tender.ok_payments):
        raise Refused("tender.rounding_cash_only")
    step = 10 if rules.rounding == "jiao" else 100
    if round_down(basket.total_fen, step) == basket.total_fen:  # nothing to take off: nothing stored
        raise Refused("tender.nothing_to_round", total_fen=basket.total_fen)
    return DiscountSpec("round", step, ROUNDING_REASON, cashier)


def tender_for(basket: Any, tender: Any) -> Any:
    """The tender for the basket as it is: the same one while the total stands, else a new one that keeps the
    failed payments on record."""
    from store.sales import Tender

    if tender is not None and tender.total_fen == basket.total_fen:
        return tender
    fresh = Tender(basket.total_fen)
    if tender is not None:
        fresh.payments.extend(tender.failed_payments)
    return fresh


def change_due(tender: Any, cash_fen: int) -> int:
    """The change a cash payment of ``cash_fen`` would give."""
    return cash_fen - tender.remaining_fen


def failed_detail(payment: Any) -> str:
    """How the event log writes a failed payment of a basket that ended without a sale."""
    from store.baskets import payment_detail

    return payment_detail(payment) + " (sale not finished)"


# ---------------------------------------------------------------- the session

class SaleSession:
    """The open basket, its tender, and what the cashier may do with them now."""

    def __init__(self, till: Any, saver: Any, settings: Any, report: Callable[[Any], Any] = lambda event: None,
                 log_event: Optional[Callable[..., Any]] = None,
                 sign_in_used: Callable[[], bool] = lambda: False, desk: Optional[Any] = None) -> None:
        self.till = till
        self.saver = saver
        self.desk = desk  # tui.services.payments.desk.PaymentDesk; None: no provider is set up
        self.attempts: Dict[str, AttemptView] = {}  # the open basket's payment attempts, oldest first
        self.settings = settings
        self._report = report
        self._log_event = log_event or (lambda kind, detail="": till.log_event(kind, detail=detail))
        self._sign_in_used = sign_in_used
        self._basket: Optional[Any] = None
        self.tender: Optional[Any] = None
        self.ending = False  # being cancelled: scans wait for the next basket
        self.busy = ""  # HOLDING or RESUMING: scans wait
        self._holding: Optional[Tuple[Any, Any]] = None  # (basket, tender) being held, back if the hold fails
        self.aside: Dict[str, aside_rules.Aside] = {}  # baskets set aside while their attempt is unclear
        self._stock_of: Optional[Any] = None  # the basket _on_hand and _said_short are of
        self._on_hand: Dict[int, Optional[int]] = {}  # product id -> on hand read at its scan (this basket)
        self._said_short: Set[int] = set()  # products whose "none on hand" sentence was said (this basket)
        self._as_of = ""  # " (as of 10:42)" after the shop-wide on hand read last, when the server is not reached

    # ------------------------------------------------------------ what it is now

    @property
    def basket(self) -> Any:
        """The store Basket being rung up (created at first use: a faster start)."""
        if self._basket is None:
            from store.sales import Basket

            self._basket = Basket()
        return self._basket

    def sale_open(self) -> bool:
        """Is a basket being rung up (any line)?"""
        return self._basket is not None and not self._basket.is_empty

    def money_taken(self) -> bool:
        return money_taken(self.tender)

    def taken(self) -> List[Any]:
        """The successful payments of the open basket."""
        return list(self.tender.ok_payments) if self.tender is not None else []

    def failed_payments(self) -> List[Any]:
        """The failed payments of the sale not yet finished (they still go to the event log)."""
        return list(self.tender.failed_payments) if self.tender is not None else []

    def basket_open(self) -> bool:
        """Is there a basket with items or money taken (one that may not just disappear)?"""
        return self.sale_open() or bool(self.taken())

    def waits(self) -> bool:
        """Store work is ending or setting aside this basket: a scan now is for the next one."""
        return self.ending or bool(self.busy)

    def check_changeable(self) -> None:
        """Refused while money is taken (its lines are what was paid for), a payment attempt is open, or the
        basket is ending."""
        if self.money_taken() or self.ending or self.blocked():
            raise Refused("sale.payment_in_progress")

    def blocked(self) -> bool:
        """A payment attempt of this basket is not known failed or cancelled (blocks_basket)."""
        return blocks_basket(list(self.attempts.values()))

    def check_not_blocked(self) -> None:
        if self.blocked():
            raise Refused("pay.attempt_open")

    def tender_mode(self) -> str:
        return tender_mode(list(self.attempts.values()))

    def save(self) -> None:
        """The basket or its payments changed: the saver stores it (nothing taken is ever lost)."""
        self.saver.keep(self.basket, self.tender.payments if self.tender is not None else [])

    def log(self, kind: str, detail: str = "") -> None:
        self._log_event(kind, detail=detail)

    def limits_percent(self) -> Optional[int]:
        return cashier_limit(self.settings.selling, self._sign_in_used())

    # ------------------------------------------------------------ lines

    def resolve(self, code: str) -> Any:
        """What a scanned code stands for (product, quantity, a label's amount), or None; CodeError if misread.

        The store reads on the UI thread: a unique-index lookup, and the product's on hand (its balance row by
        key, unless [stock] negative = allow), so scans land in the order scanned.
        """
        from store.codes import resolve_code, scale_layouts

        resolved = resolve_code(code, scale_layouts(self.settings.scale)) if code else None
        if resolved is not None and self.settings.stock.negative != stock.ALLOW:
            shop_wide = bool(self.settings.server.url)  # the shop's figure: every till's moves (store.shop_stock)
            self._stock()[0][resolved.product.id] = stock.read_on_hand(resolved.product.id, shop_wide)  # indexed
            self._as_of = stock.as_of_note(shop_wide)
        return resolved

    # ------------------------------------------------------------ stock on hand ([stock] negative)

    def _stock(self) -> Tuple[Dict[int, Optional[int]], Set[int]]:
        """This basket's on hand per product (read at its scans) and the products already said short."""
        if self._stock_of is not self.basket:
            self._stock_of, self._on_hand, self._said_short = self.basket, {}, set()
        return self._on_hand, self._said_short

    def stock_mark(self, product_id: Optional[int], more_milli: int = 0) -> str:
        """stock.stock_mark of a product: the basket's quantity of it (and ``more_milli`` about to be added)
        against its on hand read at the scan; FINE when it was not read."""
        if product_id is None:
            return stock.FINE
        qty = stock.basket_qty(self.basket.items, product_id) + more_milli
        return stock.stock_mark(self._stock()[0].get(product_id), qty, self.settings.stock.negative)

    def check_stock(self, product: Any, qty_milli: int) -> None:
        """Refused("stock.refused") when adding ``qty_milli`` of ``product`` sells more than is on hand and
        [stock] negative refuses it."""
        if self.stock_mark(product.id, qty_milli) == stock.REFUSED:
            on_hand = self._stock()[0].get(product.id)
            raise Refused("stock.refused", name=product.name,
                          on_hand=stock.on_hand_text(on_hand, product.unit) + self._as_of)

    def line_short(self, item: Any) -> bool:
        """Is this line's product sold beyond its on hand ([stock] negative = warn): its row shows the mark."""
        return self.stock_mark(item.product_id) == stock.SHORT

    def say_short(self, item: Any) -> Optional[str]:
        """The line's product's on hand as text the first time it goes short in this basket, else None."""
        on_hand, said = self._stock()
        if item.product_id in said or not self.line_short(item):
            return None
        said.add(item.product_id)
        return stock.on_hand_text(on_hand.get(item.product_id), item.unit) + self._as_of

    def line_after_scan(self, product: Any, qty_milli: int, amount_fen: Optional[int]) -> Tuple[int, int]:
        """(quantity, amount) of the line a scan makes: its own, or its line's when a repeat scan joins it."""
        from store.money import line_amount

        merge = merges(product, self.settings.selling.merge_scans)
        joins = self.basket.merge_index(product, amount_fen) if merge and self.sale_open() else None
        line_qty = qty_milli if joins is None else self.basket.items[joins].qty_milli + qty_milli
        amount = line_amount(product.price_fen, line_qty) if amount_fen is None else amount_fen
        return line_qty, amount

    def add(self, product: Any, qty_milli: int, amount_fen: Optional[int]) -> int:
        """Add (or join) a line; its index. SaleError when the product cannot be sold so."""
        from store.sales import check_line

        check_line(product, qty_milli, amount_fen)
        merge = merges(product, self.settings.selling.merge_scans)
        index = self.basket.add(product, qty_milli, amount_fen, merge=merge)
        self.save()
        return index

    def void_line(self, index: int) -> Tuple[str, Any]:
        """Take line ``index`` off; (its name, the basket discount that no longer stands or None)."""
        self.check_changeable()
        name = self.basket.lines[index].name
        before = self.basket.subtotal_fen
        self.basket.void(index)
        dropped = self.recheck_basket_discount(before)
        self.save()
        self.log("void_line", name)
        return name, dropped

    def recheck_basket_discount(self, before_fen: int) -> Any:
        """An amount off the whole basket that its smaller subtotal no longer allows comes off (as a line's)."""

        from store.discounts import amount_stands

        dropped = self.basket.recheck_discount(before_fen, partial(amount_stands, max_percent=self.limits_percent()))
        if dropped is not None:
            self.log("discount", f"basket: {discount_text(dropped)} off (subtotal {_yuan(self.basket.subtotal_fen)})")
        return dropped

    def check_qty(self, index: int) -> Any:
        """The line whose quantity may change (not a scale label's: the label says it); SaleError if not."""
        self.check_changeable()
        item = self.basket.items[index]
        self.basket.set_qty(index, item.qty_milli)  # the same quantity: a scale label's line refuses here
        return item

    def qty_amount(self, item: Any, qty_milli: int) -> int:
        """What the line would come to at ``qty_milli`` (for the limits' question)."""
        from store.money import line_amount

        price = item.price.value if item.price is not None else item.list_price_fen
        return line_amount(price, qty_milli)

    def set_qty(self, index: int, qty_milli: int) -> Tuple[Any, Any]:
        """The new quantity of line ``index``; (its discount that no longer stands, the basket's), each or None.
        Refused("stock.refused") when more than is on hand and [stock] negative refuses it."""

        from store.discounts import amount_stands
        from store.money import format_qty

        item = self.basket.items[index]
        old_qty = item.qty_milli
        if qty_milli > old_qty and item.product_id is not None:  # [stock] negative = refuse: not beyond on hand
            self.check_stock(SimpleNamespace(id=item.product_id, name=item.name, unit=item.unit), qty_milli - old_qty)
        before = self.basket.subtotal_fen
        dropped = self.basket.set_qty(index, qty_milli, partial(amount_stands, max_percent=self.limits_percent()))
        basket_dropped = self.recheck_basket_discount(before)
        self.save()
        self.log("qty_changed", f"{item.name} {format_qty(old_qty)} -> {format_qty(qty_milli)}")
        if dropped is not None:
            self.log("discount", f"line {index + 1} {item.name}: {discount_text(dropped)} off "
                                 f"(quantity {format_qty(qty_milli)})")
        return dropped, basket_dropped

    # ------------------------------------------------------------ discounts and price changes

    def discount_base(self, what: str, index: int) -> int:
        """What a discount of ``what`` on line ``index`` (-1: the basket) applies to; a price: the list price."""
        self.check_changeable()
        if what == BASKET:
            return basket_discount_base(self.basket)
        if what == PRICE:
            item = self.basket.items[index]
            if item.fixed_fen is not None:
                raise Refused("sale.label_price")
            return item.list_price_fen
        return self.basket.lines[index].gross_fen

    def needs_manager(self, spec: Any, base_fen: int) -> bool:
        return needs_manager(spec, base_fen, self.settings.selling)

    def still_there(self, index: int, item: Any) -> bool:
        """The line (or, for -1, the basket) a question was asked about is as it was, and nothing is paid."""
        basket = self.basket
        if basket.is_empty or self.money_taken():
            return False
        return index < 0 or (index < len(basket.items) and basket.items[index] is item)

    def price_amount(self, item: Any, spec: Any) -> int:
        """The line's amount at the new price (for the limits' question)."""
        from store.money import line_amount

        return line_amount(spec.value, item.qty_milli)

    def apply_discount(self, what: str, index: int, item: Any, spec: Any) -> Any:
        """Put the decision on the basket (spec None: take it off), store and log it; the basket discount that
        no longer stands (or None). SaleError when the basket refuses it."""
        basket = self.basket
        before = basket.subtotal_fen
        if what == BASKET:
            basket.set_discount(spec)
        elif what == PRICE:
            basket.set_price(index, spec)
        else:
            basket.set_line_discount(index, spec)
        dropped = None if what == BASKET else self.recheck_basket_discount(before)
        self.save()
        name = item.name if item is not None else ""
        where = f"line {index + 1} {name}" if index >= 0 else "basket"
        if spec is None:
            detail = f"{where}: off"
        else:
            detail = f"{where}: {said(what, spec)} ({spec.reason})" + (f", manager {spec.manager}"
                                                                       if spec.manager else "")
        self.log("price_override" if what == PRICE else "discount", detail)
        return dropped

    # ------------------------------------------------------------ the tender

    def open_tender(self) -> Any:
        """F12: the tender for the basket as it is. Refused on an empty basket or one being cancelled."""
        if self.basket.is_empty or self.ending:
            raise Refused("sale.basket_empty")
        self.tender = tender_for(self.basket, self.tender)
        return self.tender

    def _tender(self) -> Any:
        """The tender F12 opened (payments need one)."""
        if self.tender is None:
            raise Refused("sale.basket_empty")
        return self.tender

    def method_allowed(self, method: str) -> bool:
        return method == "cash" or not rounded_cash_only(self.basket, self.settings.selling)

    def change_due(self, cash_fen: int) -> int:
        return change_due(self.tender, cash_fen)

    def pay(self, method: str, amount_fen: int, reference: str = "") -> Any:
        """A payment taken (stored at once); SaleError when the tender refuses it."""
        if not self.method_allowed(method):
            raise Refused("tender.rounded_cash_only", method=method)
        self.check_not_blocked()
        payment = self._tender().add_payment(method, amount_fen, reference)
        log.info("payment %s %s", method, amount_fen)
        self.save()  # money taken is stored as it is taken
        return payment

    def record_failed(self, method: str, amount_fen: int, reference: str = "") -> Any:
        """The terminal or the phone said no: kept with the tender (stored with the sale and logged then)."""
        payment = self._tender().record_failed(method, amount_fen, reference, "payment failed")
        self.save()
        return payment

    def last_payment(self) -> Any:
        """The payment Ctrl+D would take back, or None."""
        return next((p for p in reversed(self.tender.payments) if p.ok), None) if self.tender is not None else None

    def remove_last_payment(self) -> Any:
        """Take back the last payment (stored, logged); cash opens the drawer to hand it back. None if none."""
        from store.baskets import payment_detail

        self.check_not_blocked()
        last = self.last_payment()
        if last is not None and last.out_trade_no:  # charged by the provider: only a refund gives it back
            raise Refused("pay.mobile_not_removed", method=last.method)
        removed = self._tender().remove_last()
        if removed is None:
            return None
        self.save()
        detail = payment_detail(removed)
        self.log("payment_removed", detail)
        if drawer_opens([removed]):  # it went into the drawer: the drawer opens to hand it back
            self.till.open_drawer("payment removed: hand back " + detail)
        return removed

    def toggle_rounding(self) -> Any:
        """Ctrl+R: 抹零 on, or (again) off; the spec now in force (None: off). Refused when the rules say no."""
        from store.money import format_yuan

        basket, tender = self.basket, self._tender()
        self.check_not_blocked()
        spec = None if basket.rounding is not None else rounding_spec(basket, tender, self.settings.selling,
                                                                        self.till.cashier)
        basket.set_rounding(spec)
        tender.total_fen = basket.total_fen  # the tender follows the basket; what is paid stays paid
        self.save()
        self.log("rounding", f"{format_yuan(basket.rounding_fen)} to {spec.value} fen" if spec else "off")
        return spec

    def commit(self) -> None:
        """Payments cover the total: the sale becomes durable now (on the saver's thread, behind the basket's
        stored changes, so the stored basket ends sold with it); SaleCommitted or CommitFailed follows."""
        basket, tender, till = self.basket, self._tender(), self.till

        def done(sale: Any) -> None:
            self._basket, self.tender, self.attempts = None, None, {}
            self._report(SaleCommitted(sale, tender.paid_fen, drawer_opens(tender.payments),
                                       tuple(tender.ok_payments)))

        self.saver.finish(lambda basket_id: till.commit_sale(basket, tender, basket_id), done,
                          lambda exc: self._report(CommitFailed(exc)))

    # ------------------------------------------------------------ held baskets (挂单 / 取单)

    def check_hold(self) -> None:
        """Ctrl+G: refused while busy, on an empty basket, or with money taken."""
        if self.busy:
            raise Refused("held.busy")
        if self.basket.is_empty:
            raise Refused("hold.empty")
        self.check_not_blocked()
        if self.money_taken():
            raise Refused("hold.paid")

    def hold(self, note: str) -> None:
        """Hold the basket as stored; the session has an empty one at once. BasketHeld or HoldFailed follows."""
        from store import baskets

        self.check_hold()
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def hold(basket_id: Optional[int]) -> None:
            if basket_id is None:
                raise baskets.BasketError("That basket is no longer open.", "basket_not_open")
            baskets.hold(basket_id, till_id, note, cashier)

        def failed(exc: Exception) -> None:
            if self._holding is not None:
                self._basket, self.tender = self._holding
            self.busy, self._holding = "", None
            self._report(HoldFailed(exc))

        def done(_value: Any) -> None:
            self.busy, self._holding = "", None
            self._report(BasketHeld())

        self.busy, self._holding = HOLDING, (self.basket, self.tender)
        self._basket, self.tender, self.attempts = None, None, {}
        self.saver.finish(hold, done, failed)

    def check_resume(self) -> None:
        """Ctrl+Y: only onto an empty basket with nothing taken, and not while busy."""
        if self.busy:
            raise Refused("held.busy")
        if self.sale_open() or self.money_taken():
            raise Refused("held.finish_first")

    def resume(self, basket_id: Any) -> None:
        """Take a held basket back (after what the saver still has to store); BasketResumed or ResumeFailed
        follows. ``basket_id``: what the Ctrl+Y row hands over (store.shop_wide.HeldRow.choice): this till's
        basket id, or another till's basket on the shop's server, claimed there first (store.shop_wide.take)."""
        from store import baskets

        self.check_resume()
        till_id, cashier = self.till.till_id, self.till.cashier or None
        server_url = self.server_url()

        def take() -> Any:
            if not server_url and isinstance(basket_id, int):
                return baskets.resume(basket_id, till_id, cashier)
            from store import shop_wide

            return shop_wide.take(basket_id, till_id, cashier, server_url)

        def resume(current_id: Optional[int]) -> Any:
            stored = take()
            if current_id is not None and current_id != stored.id:
                baskets.cancel(current_id, till_id, cashier)  # a basket emptied line by line: it ends here
            return stored

        def done(stored: Any) -> None:
            self.busy = ""
            self.restore(stored)
            self._report(BasketResumed(stored))

        def failed(exc: Exception) -> None:
            self.busy = ""
            self._report(ResumeFailed(exc))

        self.busy = RESUMING
        self.saver.finish(resume, done, failed)

    def server_url(self) -> str:
        """The shop's server ([server] url), "" when this till stands alone."""
        server = getattr(self.settings, "server", None)
        return str(getattr(server, "url", "") or "")

    def shop(self) -> str:
        """The shop code ([till] shop): the server lists the held baskets of this shop's tills."""
        return str(getattr(getattr(self.settings, "till", None), "shop", "") or "")

    def held_list(self) -> Any:
        """Ctrl+Y's list (store.shop_wide.held_list): this till's held baskets and, from the server, the other
        tills'; store and network work, for a thread worker."""
        from store import shop_wide

        return shop_wide.held_list(self.till.till_id, self.server_url(), self.shop())

    def restore(self, stored: Any, attempts: List[Any] = ()) -> bool:  # type: ignore[assignment]
        """A stored basket (left open by a crash or a close, or resumed) is this session's, with its payments
        and its payment attempts (read from the store). A paid attempt whose payment the tender lacks becomes
        its payment, once; a tender covered by it commits now (SaleCommitted follows): True then."""
        self.saver.adopt(stored.id)
        self._basket = stored.basket
        self.tender = stored.tender() if stored.payments else None
        self.attempts = {a.out_trade_no: _view(a) for a in attempts}
        missing = missing_payments(stored.payments, list(attempts))
        if not missing:
            return False
        self.tender = tender_for(self.basket, self.tender)
        self.tender.payments.extend(missing)  # charged by the provider: kept whatever the tender says
        self.save()
        log.info("restored basket %s: %d paid payment attempts added", stored.id, len(missing))
        if self.tender.covered:
            self.commit()
            return True
        return False

    # ------------------------------------------------------------ ending without a sale

    def check_cancel(self) -> None:
        if not self.basket_open():
            raise Refused("abandon.nothing")
        self.check_not_blocked()

    def cancel(self) -> None:
        """End the open basket: cancelled, or abandoned with each payment handed back (the drawer opens for
        cash); BasketEnded or EndFailed follows. The failed payments still go to the event log."""
        from store import baskets
        from store.baskets import payment_detail

        payments = self.taken()
        declined = self.failed_payments()
        till = self.till
        till_id, cashier = till.till_id, till.cashier

        def job(basket_id: Optional[int]) -> List[Any]:
            returned: List[Any] = []
            if basket_id is not None and payments:
                returned = baskets.abandon(basket_id, till_id, cashier or None)
            elif basket_id is not None:
                baskets.cancel(basket_id, till_id, cashier or None)
            for payment in declined:  # still go to the event log (here: the till may close right after)
                till.log_event("payment_failed", detail=failed_detail(payment), cashier=cashier)
            return returned

        def done(returned: List[Any]) -> None:
            self.ending = False
            self.start_over()
            handed = returned or payments
            if drawer_opens(handed):
                till.open_drawer("basket abandoned: hand back " + ", ".join(
                    payment_detail(p) for p in handed if p.method == "cash"))
            log.info("basket %s, %d payments handed back", "abandoned" if handed else "cancelled", len(handed))
            self._report(BasketEnded(list(handed)))

        def failed(exc: Exception) -> None:
            self.ending = False
            self._report(EndFailed(exc))

        self.ending = True
        self.saver.finish(job, done, failed)

    def start_over(self) -> None:
        """The basket ended without a sale: the next change starts a new one."""
        self._basket, self.tender, self.attempts = None, None, {}

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts with no tender of the last one's."""
        self.tender = None

    # ------------------------------------------------------------ 无单退货

    def check_refund_without_receipt(self) -> None:
        if not self.settings.selling.refund_without_receipt:
            raise Refused("sale.refund_without_receipt_off")
        if self.basket.is_empty:
            raise Refused("sale.basket_empty")
        if self.money_taken():
            raise Refused("sale.payment_in_progress")

    def refund_without_receipt(self, manager: str, reason: str) -> None:
        """The basket's goods come back in cash with no receipt (a manager said yes); RefundedWithoutReceipt or
        RefundFailed follows."""
        from store.documents import commit_refund_without_receipt

        basket, till = self.basket, self.till

        def job(basket_id: Optional[int]) -> Any:
            return commit_refund_without_receipt(basket, till.till_id, till.cashier or None, manager, reason,
                                                 "cash", basket_id=basket_id)

        def done(refund: Any) -> None:
            self.start_over()
            self._report(RefundedWithoutReceipt(refund))

        self.saver.finish(job, done, lambda exc: self._report(RefundFailed(exc)))

    def no_sale_allowed(self) -> None:
        """Ctrl+O opens the drawer only when no money of a basket is waiting in the tender."""
        if self.money_taken():
            raise Refused("sale.payment_in_progress")

    # ------------------------------------------------------------ mobile payments (付款码)

    def charge_code(self, text: str) -> str:
        """A scanned payment code pays the amount due with its provider (through the desk, after the basket is
        stored); its out_trade_no. Refused: a code of the wrong form, a provider not set up, a basket an
        attempt blocks, nothing due. Payment events follow (payment_event)."""
        from tui.services.payments.codes import NotAPaymentCode, provider_of

        try:
            provider = provider_of(text)
        except NotAPaymentCode as exc:
            raise Refused(exc.key) from None
        if provider is None:
            raise Refused("pay_code.not_a_payment_code")
        if self.desk is None or not self.desk.offers(provider):
            raise Refused("pay_code.not_set_up", method=provider)
        self.check_not_blocked()
        due = self._tender().remaining_fen
        if due <= 0:
            raise Refused("pay_code.nothing_due")
        if not self.method_allowed(provider):
            raise Refused("tender.rounded_cash_only", method=provider)
        desk, code = self.desk, text.strip()
        out_trade_no = desk.new_out_trade_no()
        self.attempts[out_trade_no] = AttemptView(out_trade_no, provider, due, states.REQUESTED)
        self.save()  # the basket is stored first: the attempt names it
        self.saver.run(lambda basket_id: desk.charge(out_trade_no, basket_id, provider, code, due),
                       lambda _value: None, partial(self._not_sent, out_trade_no, provider, due))
        log.info("payment %s: %s %d fen", out_trade_no, provider, due)
        return out_trade_no

    def stop_waiting(self) -> bool:
        """The cashier stops waiting for the customer: the open attempt is cancelled. False if none is open."""
        waiting = [a for a in self.attempts.values() if a.state in states.OPEN_STATES]
        if not waiting or self.desk is None:
            return False
        self.desk.stop_waiting(waiting[-1].out_trade_no)
        return True

    def payment_event(self, event: Any) -> None:
        """The desk's answer about an attempt (on the owner's thread). One of another basket pays nothing here."""
        if event.out_trade_no in self.aside:
            self._aside_event(event)
            return
        view = self.attempts.get(event.out_trade_no)
        if view is None:
            log.warning("payment %s is not this basket's: %s ignored", event.out_trade_no, type(event).__name__)
            return
        if isinstance(event, PaymentNotSent):  # nothing stored, nothing asked: as if never scanned
            del self.attempts[event.out_trade_no]
            self._report(event)
            return
        state = _state_of(event, view.state)
        self.attempts[event.out_trade_no] = replace(view, state=state, reason=getattr(event, "reason", ""),
                                                    transaction_id=getattr(event, "transaction_id", ""))
        if state == states.PAID:
            self._paid(event)
        elif state in states.NOTHING_CHARGED:
            self._not_charged(event, state)
        self._report(event)
        if state == states.PAID and self.tender is not None and self.tender.covered:
            self.commit()

    def _paid(self, event: Any) -> None:
        from store.sales import TenderPayment

        self.tender = tender_for(self.basket, self.tender)
        if any(p.ok and p.out_trade_no == event.out_trade_no for p in self.tender.payments):
            return  # said again: it is in the tender once
        # charged by the provider: kept as it is (the basket could not change while the attempt was open)
        self.tender.payments.append(TenderPayment(event.provider, event.amount_fen, event.transaction_id,
                                                  out_trade_no=event.out_trade_no))
        self.save()

    def _not_charged(self, event: Any, state: str) -> None:
        self.tender = tender_for(self.basket, self.tender)
        reason = getattr(event, "reason", "") or state
        self.tender.record_failed(event.provider, event.amount_fen, "", reason, out_trade_no=event.out_trade_no)
        self.save()

    def _not_sent(self, out_trade_no: str, provider: str, amount_fen: int, exc: Exception) -> None:
        """The basket could not be stored: no attempt, no request. Said as the desk says a request not sent."""
        self.payment_event(PaymentNotSent(out_trade_no, provider, amount_fen, str(exc)))


    # ------------------------------------------------------------ set aside while a payment is unclear

    def may_set_aside(self) -> bool:
        return aside_rules.may_set_aside(list(self.attempts.values()))

    def check_set_aside(self) -> None:
        """Ctrl+G on the tender: only while the basket's attempt is unclear, nothing else taken, not busy."""
        if self.busy:
            raise Refused("held.busy")
        if not self.may_set_aside():
            raise Refused("aside.not_unclear")
        if self.money_taken():
            raise Refused("hold.paid")

    def set_aside(self) -> aside_rules.Aside:
        """Set the basket aside (stored as such); the session has an empty one at once and the desk keeps asking.
        BasketSetAside or SetAsideFailed follows; later AsideCommitted or AsideReleased (payment_event)."""
        from store import baskets

        self.check_set_aside()
        views = self.attempts
        aside = aside_rules.aside_now(aside_rules.awaited(list(views.values())))
        note = t("aside.note", method=t(f"method.{aside.provider}"))
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def failed(exc: Exception) -> None:
            if self._holding is not None:
                self._basket, self.tender = self._holding
            self.attempts, self.busy, self._holding = views, "", None
            self.aside.pop(aside.out_trade_no, None)
            self._report(SetAsideFailed(exc))

        def done(_value: Any) -> None:
            self.busy, self._holding = "", None  # the store logged it (basket_set_aside)
            self._report(BasketSetAside(aside))

        self.busy, self._holding = HOLDING, (self.basket, self.tender)
        self.aside[aside.out_trade_no] = aside
        self._basket, self.tender, self.attempts = None, None, {}
        self.saver.finish(lambda basket_id: baskets.set_aside(_stored_id(basket_id), till_id, note, cashier),
                          done, failed)
        return aside

    def recover_aside(self, found: List[Tuple[Any, List[Any]]]) -> None:
        """At start (before the desk's recover): the baskets this till set aside, each settled by its attempt
        as stored now (paid: its sale commits; nothing charged: held), or followed again."""
        for stored, attempts in found:
            attempt = aside_rules.awaited(list(attempts))
            if attempt is None:
                continue
            aside = aside_rules.aside_now(attempt, aside_rules.aside_at(stored.updated_at))
            self.aside[aside.out_trade_no] = aside
            self._settle(aside, attempt.state, None)

    def _aside_event(self, event: Any) -> None:
        """An answer about a set-aside basket's attempt: the open basket is not touched."""
        aside = self.aside[event.out_trade_no]
        self._settle(aside, _state_of(event, states.UNKNOWN), event)

    def _settle(self, aside: aside_rules.Aside, state: str, event: Any) -> None:
        what = aside_rules.settlement(state)
        if what == aside_rules.COMMIT:
            self._commit_aside(aside, event)
        elif what == aside_rules.RELEASE:
            self._release_aside(aside, event)

    def _commit_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        """The saver commits THAT basket (not the open one), behind what it still has to store."""
        till = self.till

        def done(result: Any) -> None:
            if self.aside.pop(aside.out_trade_no, None) is None or result is None:
                self._not_aside(aside, event)
                return
            sale, _tender = result
            self.log("basket_aside_paid", f"{aside.provider} {_yuan(aside.amount_fen)} {aside.out_trade_no} "
                                          f"sale {sale.receipt_no}")
            self._report(AsideCommitted(aside, sale))

        self.saver.run(lambda _open_id: aside_rules.commit_aside(till, aside.out_trade_no, missing_payments), done,
                       lambda exc: self._report(AsideFailed(aside, exc)))

    def _release_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        note = t("aside.failed_note", method=t(f"method.{aside.provider}"))
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def done(released: bool) -> None:
            if self.aside.pop(aside.out_trade_no, None) is None or not released:
                self._not_aside(aside, event)
                return
            self._report(AsideReleased(aside))  # the store logged it (basket_released)

        self.saver.run(lambda _open_id: aside_rules.release_aside(till_id, aside.out_trade_no, note, cashier),
                       done, lambda exc: self._report(AsideFailed(aside, exc)))

    def _not_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        """The basket was not aside (its set-aside failed: it is the open one again): the answer is its."""
        self.aside.pop(aside.out_trade_no, None)
        if event is not None and event.out_trade_no in self.attempts:
            self.payment_event(event)


def _stored_id(basket_id: Optional[int]) -> int:
    from store import baskets

    if basket_id is None:
        raise baskets.BasketError("That basket is no longer open.", "basket_not_open")
    return basket_id


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)


def discount_text(spec: Any) -> str:
    """A discount as the cashier and the event log say it: 10% or 2.50 (off)."""
    from store.money import format_percent

    return format_percent(spec.value) if spec.kind == "percent" else _yuan(spec.value)


def said(what: str, spec: Any) -> str:
    """A decision in a few words: "10%", "2.50" or, for a price, "Price 2.50" (in the UI's language)."""

    return t("key.price_override") + " " + _yuan(spec.value) if what == PRICE else discount_text(spec)


def _view(attempt: Any) -> AttemptView:
    return AttemptView(attempt.out_trade_no, attempt.provider, int(attempt.amount_fen), attempt.state,
                       attempt.transaction_id or "", attempt.reason or "", attempt.sale)


#: The attempt's state after each kind of desk event (PaymentUnclear says its own).
_EVENT_STATES = {PaymentWaiting: states.WAITING, PaymentPaid: states.PAID, PaymentRefused: states.FAILED,
                 PaymentCancelling: states.CANCELLING, PaymentCancelled: states.CANCELLED}


def _state_of(event: Any, current: str) -> str:
    if isinstance(event, PaymentUnclear):
        return str(event.state)
    return _EVENT_STATES.get(type(event), current)
