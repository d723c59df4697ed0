"""The basket's lines: scans, quantities, voids, stock on hand ([stock] negative), discounts and price changes,
with the cashier's limits and when a manager must approve (a part of SaleSession)."""
from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any, Dict, Optional, Set, Tuple

from tui.i18n import t
from tui.services import stock
from tui.services.sale.core import Refused, SessionCore, yuan

#: What a discount applies to (the discount dialog's ``what``).
LINE, BASKET, PRICE = "line", "basket", "price"


def merges(product: Any, merge_scans: bool) -> bool:
    """Does a repeat scan of ``product`` join its line? Never for a weighed product: each weighing is a line."""
    from store.money import sold_by_weight

    return merge_scans and not sold_by_weight(product.unit or "")


def asks_weight(product: Any, qty_typed: bool, from_label: bool) -> bool:
    """A product sold by weight, scanned by its PLU with no quantity typed and no scale label: ask its weight."""
    from store.money import sold_by_weight

    return sold_by_weight(product.unit or "") and not qty_typed and not from_label


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


def discount_text(spec: Any) -> str:
    """A discount as the cashier and the event log say it: 10% or 2.50 (off)."""
    from store.money import format_percent

    return format_percent(spec.value) if spec.kind == "percent" else yuan(spec.value)


def said(what: str, spec: Any) -> str:
    """A decision in a few words: "10%", "2.50" or, for a price, "Price 2.50" (in the UI's language)."""

    return t("key.price_override") + " " + yuan(spec.value) if what == PRICE else discount_text(spec)


class BasketPart(SessionCore):
    """Lines, quantities, stock on hand and discounts of the open basket."""

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
            self.log("discount", f"basket: {discount_text(dropped)} off (subtotal {yuan(self.basket.subtotal_fen)})")
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
