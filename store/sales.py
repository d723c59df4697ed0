"""The sale lifecycle: basket -> tender -> commit, in plain Python (no UI).

``commit_sale`` writes the sale, its lines, its payments (failed ones too),
the receipt outcome ``pending`` and the journal link in ONE transaction, and
takes the next receipt number of the till (``store.numbering``) while
holding the write lock, so numbers are gapless per till even with several
processes selling on one database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from store import audit, chain, journal, money, numbering, outcomes, stock
from store.cashiers import cashier_code
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.events import EVENT_PAYMENT_FAILED
from store.models import Discount, Line, OpenBasket, Payment, Product, Sale, now

log = logging.getLogger("chaoying.store.sales")

METHODS = ("cash", "card", "wechat", "alipay")


class SaleError(StoreError, ValueError):
    """A sale that cannot be committed as it stands: ``code``, ``values`` and one sentence."""


DISCOUNT_KINDS = ("percent", "amount")  # a line or the whole basket
PRICE, ROUND = "price", "round"  # a price override; 抹零


@dataclass(frozen=True)
class DiscountSpec:
    """A discount decision: ``kind`` percent (``value`` in hundredths of a percent, 1000 = 10%),
    amount (fen), price (the new unit price in fen) or round (抹零: the step, 10 or 100 fen);
    with why, who, and which manager allowed it when one had to."""

    kind: str
    value: int
    reason: str = ""
    cashier: str = ""
    manager: str = ""

    def as_dict(self) -> Dict[str, Any]:
        return dict(kind=self.kind, value=self.value, reason=self.reason, cashier=self.cashier,
                    manager=self.manager)


@dataclass(frozen=True)
class Item:
    """What was rung up for one line, before any arithmetic: the basket's stored form."""

    product_id: Optional[int]
    barcode: str
    name: str
    unit: str
    list_price_fen: int
    qty_milli: int
    fixed_fen: Optional[int] = None  # a price-embedded scale label: the amount, whatever the quantity
    price: Optional[DiscountSpec] = None  # a price override
    discount: Optional[DiscountSpec] = None  # percent or amount off this line


@dataclass(frozen=True)
class BasketLine:
    """A line as the customer pays it (computed from an Item and the basket's discounts)."""

    product_id: Optional[int]
    barcode: str
    name: str
    unit: str
    unit_price_fen: int
    qty_milli: int
    amount_fen: int  # gross_fen - discount_fen
    gross_fen: int = 0  # unit price x quantity (or the label's amount)
    discount_fen: int = 0  # this line's own discount and its share of the basket's
    list_price_fen: int = 0
    own_discount_fen: int = 0  # the line's own discount alone


class Basket:
    """The lines of a sale being rung up, with its discounts.

    Line discounts come off their line; a basket discount and 抹零 come off
    the total and are shared over the lines in proportion (``money.allocate``),
    so the lines' amounts always sum to the total.
    """

    def __init__(self) -> None:
        self.items: List[Item] = []
        self.discount: Optional[DiscountSpec] = None  # whole basket
        self.rounding: Optional[DiscountSpec] = None  # 抹零

    def add(self, product, qty_milli: int = 1000, amount_fen: Optional[int] = None, merge: bool = False) -> int:
        """Add a line for ``product`` (a Product or anything with its fields); return its index.

        ``amount_fen`` fixes the line amount instead of price x quantity: a
        price-embedded scale label says what the customer pays (store.codes).
        With ``merge`` a repeated scan of the same product adds to its line.
        """
        check_line(product, qty_milli, amount_fen)
        price = int(product.price_fen)
        product_id = getattr(product, "id", None)
        index = self.merge_index(product, amount_fen) if merge else None
        if index is not None:
            self.set_qty(index, self.items[index].qty_milli + qty_milli)
            return index
        self.items.append(Item(product_id, product.barcode or "", product.name, getattr(product, "unit", "") or "",
                               price, qty_milli, amount_fen))
        return len(self.items) - 1

    def merge_index(self, product, amount_fen: Optional[int] = None) -> Optional[int]:
        """The line a repeated scan of ``product`` adds to (same product, list price, no label or price change)."""
        product_id = getattr(product, "id", None)
        if amount_fen is not None or product_id is None:
            return None
        price = int(product.price_fen)
        for index, item in enumerate(self.items):
            if (item.product_id == product_id and item.fixed_fen is None and item.price is None
                    and item.list_price_fen == price):
                return index
        return None

    def set_qty(self, index: int, qty_milli: int,
                stands: Optional[Callable[[DiscountSpec, int, int], bool]] = None) -> Optional[DiscountSpec]:
        """Change the quantity of line ``index`` (not of a scale label's line: its amount is printed on it).

        The line's discount that no longer stands on the new line (``stands(spec, old line, new line)``,
        by default ``fits_line``; the till passes store.discounts.amount_stands with the cashier's limit)
        is taken off and returned, for the till to say; None when it stands (or there is none).
        """
        _check_qty(qty_milli)
        item = self.items[index]
        if item.fixed_fen is not None:
            raise SaleError("A scale label's line has its own quantity.", "label_qty")
        _check_pieces(item.name, item.unit, qty_milli)
        price = item.price.value if item.price else item.list_price_fen
        dropped = item.discount
        if dropped is None or (stands or fits_line)(dropped, money.line_amount(price, item.qty_milli),
                                                    money.line_amount(price, qty_milli)):
            dropped = None
        self.items[index] = replace(item, qty_milli=qty_milli, discount=None if dropped else item.discount)
        return dropped

    def set_line_discount(self, index: int, spec: Optional[DiscountSpec]) -> None:
        """Discount line ``index`` (percent or amount), or take its discount off (None)."""
        _check_discount(spec)
        self.items[index] = replace(self.items[index], discount=spec)

    def set_price(self, index: int, spec: Optional[DiscountSpec]) -> None:
        """Override the unit price of line ``index`` (kind price, value the new price), or restore it (None)."""
        if spec is not None:
            if spec.kind != PRICE or not _is_fen(spec.value):
                raise SaleError("A price must be a whole number of fen, zero or more.", "bad_price")
            if self.items[index].fixed_fen is not None:
                raise SaleError("A scale label's price is printed on it.", "label_price")
        self.items[index] = replace(self.items[index], price=spec)

    def recheck_discount(self, before_fen: int,
                         stands: Optional[Callable[[DiscountSpec, int, int], bool]] = None) -> Optional[DiscountSpec]:
        """The basket's discount after its lines changed (``before_fen``: the subtotal it was given on).

        Taken off and returned when it no longer stands on the new subtotal (``stands(spec, before, now)``,
        by default ``fits_line``: an amount never above what it is taken off, which would give the basket
        away), for the till to say; None when it stands (or there is none). As ``set_qty`` for a line.
        """
        spec = self.discount
        if spec is None or (stands or fits_line)(spec, before_fen, self.subtotal_fen):
            return None
        self.discount = None
        return spec

    def set_discount(self, spec: Optional[DiscountSpec]) -> None:
        """Discount the whole basket (percent or amount), or take the discount off (None)."""
        _check_discount(spec)
        self.discount = spec

    def set_rounding(self, spec: Optional[DiscountSpec]) -> None:
        """抹零: round the total down to ``spec.value`` fen (10 or 100), or not (None)."""
        if spec is not None and (spec.kind != ROUND or spec.value not in (10, 100)):
            raise SaleError("抹零 rounds to 1 jiao (10 fen) or 1 yuan (100 fen).", "bad_rounding")
        self.rounding = spec

    def void(self, index: int) -> BasketLine:
        """Remove line ``index`` and return it."""
        line = self.lines[index]
        self.items.pop(index)
        return line

    def clear(self) -> None:
        self.items.clear()
        self.discount = self.rounding = None

    # -------------------------------------------------------------- arithmetic

    def _amounts(self) -> Tuple[List[int], List[int], int, int]:
        """Per line: gross and own discount; the basket discount and the 抹零 amount."""
        gross = [item.fixed_fen if item.fixed_fen is not None
                 else money.line_amount(item.price.value if item.price else item.list_price_fen, item.qty_milli)
                 for item in self.items]
        own = [_discount_of(item.discount, amount) for item, amount in zip(self.items, gross)]
        subtotal = sum(gross) - sum(own)
        basket = _discount_of(self.discount, subtotal)
        rounded = subtotal - basket
        rounding = rounded - money.round_down(rounded, self.rounding.value) if self.rounding else 0
        return gross, own, basket, rounding

    @property
    def lines(self) -> List[BasketLine]:
        gross, own, basket, rounding = self._amounts()
        shares = money.allocate(basket + rounding, [g - o for g, o in zip(gross, own)])
        lines = []
        for item, line_gross, line_own, share in zip(self.items, gross, own, shares):
            price = item.price.value if item.price else item.list_price_fen
            lines.append(BasketLine(item.product_id, item.barcode, item.name, item.unit, price, item.qty_milli,
                                    line_gross - line_own - share, line_gross, line_own + share,
                                    item.list_price_fen, line_own))
        return lines

    @property
    def subtotal_fen(self) -> int:
        """After the lines' own discounts, before the basket's discount and 抹零: what a basket discount is of."""
        gross, own, _, _ = self._amounts()
        return sum(gross) - sum(own)

    @property
    def gross_fen(self) -> int:
        """Before discounts (after price overrides)."""
        return sum(self._amounts()[0])

    @property
    def total_fen(self) -> int:
        gross, own, basket, rounding = self._amounts()
        return sum(gross) - sum(own) - basket - rounding

    @property
    def discount_fen(self) -> int:
        """Everything discounts and 抹零 take off the gross."""
        return self.gross_fen - self.total_fen

    @property
    def rounding_fen(self) -> int:
        return self._amounts()[3]

    @property
    def is_empty(self) -> bool:
        return not self.items

    def discount_rows(self) -> List[Dict[str, Any]]:
        """The discount decisions, as stored with the sale (store.models.Discount)."""
        gross, own, basket, rounding = self._amounts()
        rows = []
        for position, (item, line_gross, line_own) in enumerate(zip(self.items, gross, own), start=1):
            if item.price is not None:
                listed = money.line_amount(item.list_price_fen, item.qty_milli)
                rows.append(dict(item.price.as_dict(), line_position=position, amount_fen=listed - line_gross))
            if item.discount is not None:
                rows.append(dict(item.discount.as_dict(), line_position=position, amount_fen=line_own))
        if self.discount is not None:
            rows.append(dict(self.discount.as_dict(), line_position=0, amount_fen=basket))
        if self.rounding is not None:
            rows.append(dict(self.rounding.as_dict(), line_position=0, amount_fen=rounding))
        return rows

    # -------------------------------------------------------------- stored form

    def as_dict(self) -> Dict[str, Any]:
        """The basket as plain data (JSON for store.baskets)."""
        def spec(value: Optional[DiscountSpec]) -> Optional[Dict[str, Any]]:
            return value.as_dict() if value is not None else None

        return dict(
            items=[dict(product_id=i.product_id, barcode=i.barcode, name=i.name, unit=i.unit,
                        list_price_fen=i.list_price_fen, qty_milli=i.qty_milli, fixed_fen=i.fixed_fen,
                        price=spec(i.price), discount=spec(i.discount)) for i in self.items],
            discount=spec(self.discount), rounding=spec(self.rounding))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Basket":
        def spec(value: Optional[Mapping[str, Any]]) -> Optional[DiscountSpec]:
            return DiscountSpec(**value) if value else None

        basket = cls()
        for raw in data.get("items", []):
            basket.items.append(Item(raw["product_id"], raw["barcode"], raw["name"], raw["unit"],
                                     int(raw["list_price_fen"]), int(raw["qty_milli"]), raw.get("fixed_fen"),
                                     spec(raw.get("price")), spec(raw.get("discount"))))
        basket.discount = spec(data.get("discount"))
        basket.rounding = spec(data.get("rounding"))
        return basket


def _is_fen(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_discount(spec: Optional[DiscountSpec]) -> None:
    if spec is None:
        return
    if spec.kind not in DISCOUNT_KINDS or not _is_fen(spec.value):
        raise SaleError("A discount is a percent or an amount, zero or more.", "bad_discount")
    if spec.kind == "percent" and spec.value > 10000:
        raise SaleError("A discount cannot be more than 100%.", "bad_discount")


def fits_line(spec: DiscountSpec, old_base_fen: int, new_base_fen: int) -> bool:
    """A line's discount after its quantity changed: a percent scales with the line; an amount never
    above the new line (kept, it would silently give the line away: ``_discount_of`` stops at the line)."""
    return spec.kind != "amount" or spec.value <= new_base_fen


def _discount_of(spec: Optional[DiscountSpec], amount_fen: int) -> int:
    """What a percent or amount discount takes off ``amount_fen``: never more than it, rounded down."""
    if spec is None or amount_fen <= 0:
        return 0
    if spec.kind == "percent":
        return min(amount_fen, money.percent_of(amount_fen, spec.value))
    return min(amount_fen, spec.value)


def check_line(product, qty_milli: int, amount_fen: Optional[int] = None) -> None:
    """SaleError unless ``product`` x ``qty_milli`` (or a label's ``amount_fen``) can be a line."""
    _check_qty(qty_milli)
    if int(product.price_fen) < 0:
        raise SaleError(f"{product.name} has a negative price.", "negative_price", name=product.name)
    if amount_fen is not None and (not isinstance(amount_fen, int) or isinstance(amount_fen, bool)
                                   or amount_fen < 0):
        raise SaleError("A line amount must be a whole number of fen, zero or more.", "bad_line_amount")
    if amount_fen is None:  # a price label's quantity is derived from its price: any fraction
        _check_pieces(product.name, getattr(product, "unit", "") or "", qty_milli)


def _check_pieces(name: str, unit: str, qty_milli: int) -> None:
    if not money.whole_pieces(unit, qty_milli):
        raise SaleError(f"{name} is sold by the piece ({unit or 'no unit'}): {money.format_qty(qty_milli)} is not "
                        f"a whole number.", "piece_fraction", name=name, unit=unit, qty=money.format_qty(qty_milli))


def _check_qty(qty_milli: int) -> None:
    if not isinstance(qty_milli, int) or isinstance(qty_milli, bool) or qty_milli <= 0:
        raise SaleError("A quantity must be a whole number of thousandths above zero.", "bad_qty")


PAYMENT_OK = "ok"
PAYMENT_FAILED = "failed"  # declined card, cancelled QR payment: kept, never counted


@dataclass(frozen=True)
class TenderPayment:
    method: str
    amount_fen: int
    reference: str = ""
    status: str = PAYMENT_OK  # PAYMENT_OK | PAYMENT_FAILED
    reason: str = ""
    out_trade_no: str = ""  # a mobile payment's attempt (store.payment_attempts); reference: its transaction number

    @property
    def ok(self) -> bool:
        return self.status == PAYMENT_OK


class Tender:
    """Payments taken for a total: split tender, change only from cash.

    A failed payment (declined card, cancelled QR payment) is recorded and
    kept with the sale but does not count towards the total.
    """

    def __init__(self, total_fen: int) -> None:
        if int(total_fen) < 0:
            raise SaleError("A sale total cannot be negative.", "negative_total")
        self.total_fen = int(total_fen)
        self.payments: List[TenderPayment] = []

    def add_payment(self, method: str, amount_fen: int, reference: str = "", out_trade_no: str = "") -> TenderPayment:
        """Record a successful payment; only cash may exceed what is still due."""
        self._check(method, amount_fen)
        if self.covered and self.total_fen > 0:
            raise SaleError("The sale is already paid in full.", "paid_in_full")
        if method != "cash" and amount_fen > self.remaining_fen:
            raise SaleError(
                f"A {method} payment of {money.format_yuan(amount_fen)} is more than the "
                f"{money.format_yuan(self.remaining_fen)} still due; only cash gives change.",
                "non_cash_too_much", method=method, amount_fen=amount_fen, due_fen=self.remaining_fen,
            )
        payment = TenderPayment(method, int(amount_fen), reference or "", out_trade_no=out_trade_no or "")
        self.payments.append(payment)
        return payment

    def record_failed(self, method: str, amount_fen: int, reference: str = "", reason: str = "",
                      out_trade_no: str = "") -> TenderPayment:
        """Record a payment that did not go through; it is kept but not counted."""
        self._check(method, amount_fen)
        payment = TenderPayment(method, int(amount_fen), reference or "", PAYMENT_FAILED, reason or "",
                                out_trade_no or "")
        self.payments.append(payment)
        return payment

    def remove_last(self) -> Optional[TenderPayment]:
        """Take back the last successful payment (a cashier's typo); None if there is none."""
        for index in range(len(self.payments) - 1, -1, -1):
            if self.payments[index].ok:
                return self.payments.pop(index)
        return None

    @staticmethod
    def _check(method: str, amount_fen: int) -> None:
        if method not in METHODS:
            raise SaleError(f"Unknown payment method {method!r}; use one of {', '.join(METHODS)}.",
                            "unknown_method", method=method)
        if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
            raise SaleError("A payment must be a whole number of fen above zero.", "bad_payment")

    @property
    def ok_payments(self) -> List[TenderPayment]:
        return [payment for payment in self.payments if payment.ok]

    @property
    def failed_payments(self) -> List[TenderPayment]:
        return [payment for payment in self.payments if not payment.ok]

    @property
    def paid_fen(self) -> int:
        return sum(payment.amount_fen for payment in self.ok_payments)

    @property
    def remaining_fen(self) -> int:
        return max(0, self.total_fen - self.paid_fen)

    @property
    def change_fen(self) -> int:
        return max(0, self.paid_fen - self.total_fen)

    @property
    def covered(self) -> bool:
        return self.paid_fen >= self.total_fen


def find_product(code: str) -> Optional[Product]:
    """The active product with this barcode (a PLU is a barcode too), or None."""
    code = (code or "").strip()
    if not code:
        return None
    return Product.get_or_none((Product.barcode == code) & (Product.active == True))  # noqa: E712


# --- the commit hot path ------------------------------------------------------
#
# commit_sale runs while the customer waits, so its statements are written
# once per database dialect from the models' own table and column names and
# executed directly; building them through peewee's query compiler on every
# sale cost three times the fsync of the commit itself (see
# tests/bench/bench_commit.py). They stay inside peewee's transaction.

_SALE_FIELDS = (Sale.till_id, Sale.receipt_no, Sale.sold_at, Sale.cashier, Sale.total_fen,
                Sale.change_fen, Sale.prev_hash, Sale.hash, Sale.kind, Sale.original, Sale.reason,
                Sale.manager, Sale.discount_fen, Sale.hash_kind)
_LINE_FIELDS = (Line.sale, Line.position, Line.product, Line.barcode, Line.name, Line.unit,
                Line.unit_price_fen, Line.qty_milli, Line.amount_fen, Line.discount_fen, Line.original_line)
_PAYMENT_FIELDS = (Payment.sale, Payment.position, Payment.method, Payment.amount_fen,
                   Payment.reference, Payment.status, Payment.reason, Payment.out_trade_no)
_DISCOUNT_FIELDS = (Discount.sale, Discount.line_position, Discount.kind, Discount.value, Discount.amount_fen,
                    Discount.reason, Discount.cashier, Discount.manager)
_MAX_ROWS = 100  # rows per multi-row INSERT, far below any bound-parameter limit

_statement_cache: Dict[tuple, str] = {}


def _sql(database, name: str, rows: int = 1) -> str:
    key = (type(database), database.param, database.quote, database.returning_clause, name, rows)
    sql = _statement_cache.get(key)
    if sql is None:
        sql = _statement_cache[key] = _build_sql(database, name, rows)
    return sql


def _build_sql(database, name: str, rows: int) -> str:
    def q(identifier: str) -> str:
        return database.quote[0] + identifier + database.quote[1]

    def insert(model, fields, returning=False) -> str:
        columns = ", ".join(q(field.column_name) for field in fields)
        one = "(" + ", ".join([database.param] * len(fields)) + ")"
        sql = f"INSERT INTO {q(model._meta.table_name)} ({columns}) VALUES " + ", ".join([one] * rows)
        if returning and database.returning_clause:
            sql += f" RETURNING {q(model._meta.primary_key.column_name)}"
        return sql

    if name == "close_basket":
        return (f"UPDATE {q(OpenBasket._meta.table_name)} SET {q(OpenBasket.state.column_name)} = {database.param}, "
                f"{q(OpenBasket.sale.column_name)} = {database.param}, "
                f"{q(OpenBasket.closed_at.column_name)} = {database.param} "
                f"WHERE {q(OpenBasket.id.column_name)} = {database.param}")
    models = {"sale": (Sale, _SALE_FIELDS), "line": (Line, _LINE_FIELDS), "payment": (Payment, _PAYMENT_FIELDS),
              "discount": (Discount, _DISCOUNT_FIELDS)}
    model, fields = models[name]
    return insert(model, fields, returning=name == "sale")


def _insert_rows(database, name: str, rows: List[tuple]) -> None:
    for start in range(0, len(rows), _MAX_ROWS):
        chunk = rows[start:start + _MAX_ROWS]
        database.execute_sql(_sql(database, name, len(chunk)), [value for row in chunk for value in row])


def commit_sale(basket: Basket, tender: Tender, till_id: str, cashier=None,
                basket_id: Optional[int] = None) -> Sale:
    """Store a paid sale durably, in one transaction; return the Sale.

    Writes the sale, its lines, its discounts, all payments (failed ones
    too), the receipt outcome ``pending``, an event per failed payment and
    the journal link; the open basket ``basket_id`` (store.baskets) ends sold.
    """
    if basket.is_empty:
        raise SaleError("The basket is empty.", "basket_empty")
    if tender.total_fen != basket.total_fen:
        raise SaleError("The payments were taken for a different total than the basket's.", "tender_mismatch")
    if not tender.covered:
        raise SaleError(f"{money.format_yuan(tender.remaining_fen)} is still due.", "still_due",
                        due_fen=tender.remaining_fen)
    code = cashier_code(cashier)
    lines = [
        dict(position=index + 1, product=line.product_id, barcode=line.barcode, name=line.name,
             unit=line.unit, unit_price_fen=line.unit_price_fen, qty_milli=line.qty_milli,
             amount_fen=line.amount_fen, discount_fen=line.discount_fen, original_line=None)
        for index, line in enumerate(basket.lines)
    ]
    document = dict(total_fen=basket.total_fen, change_fen=tender.change_fen, discount_fen=basket.discount_fen)
    events = [(EVENT_PAYMENT_FAILED, f"{p.method} {money.format_yuan(p.amount_fen)} {p.reason}".strip())
              for p in tender.failed_payments]
    return commit_document(till_id, code, document, lines, payment_rows(tender.payments),
                           basket.discount_rows(), events, basket_id)


def payment_rows(payments: List[TenderPayment]) -> List[Dict[str, Any]]:
    return [dict(position=index + 1, method=payment.method, amount_fen=payment.amount_fen,
                 reference=payment.reference, status=payment.status, reason=payment.reason,
                 out_trade_no=payment.out_trade_no)
            for index, payment in enumerate(payments)]


def commit_document(till_id: str, cashier: str, document: Dict[str, Any], lines: List[Dict[str, Any]],
                    payments: List[Dict[str, Any]], discounts: List[Dict[str, Any]] = (),  # type: ignore[assignment]
                    events: List[Tuple[str, str]] = (),  # type: ignore[assignment]
                    basket_id: Optional[int] = None, check: Optional[Callable[[], None]] = None) -> Sale:
    """Write one document (a sale, refund or void) in one transaction under the till's next number.

    ``document`` holds total_fen and change_fen, and for corrections kind,
    original, reason and manager; ``check`` runs first under the write lock
    (a refund checks what is left to refund there, so two tills cannot
    refund the same bottle twice).
    """
    till_id = str(till_id)
    database = db.obj
    with write_transaction():
        if check is not None:
            check()
        last_no, last_hash, audit_seq, audit_hash = numbering.lock_counter(database, till_id)
        hash_kind = chain.hash_kind()
        fields: Dict[str, Any] = dict(
            till_id=till_id, receipt_no=last_no + 1, sold_at=now(), cashier=cashier,
            total_fen=document["total_fen"], change_fen=document.get("change_fen", 0), prev_hash=last_hash,
            kind=document.get("kind", "sale"), original=document.get("original"),
            reason=document.get("reason", ""), manager=document.get("manager", ""),
            discount_fen=document.get("discount_fen", 0), hash_kind=hash_kind,
        )
        fields["hash"] = chain.chain_hash(
            last_hash, journal.canonical_content(fields, lines, payments, discounts), hash_kind)
        # SQLite stores the text peewee would; a str avoids sqlite3's deprecated datetime adapter
        at = fields["sold_at"].isoformat(sep=" ") if is_sqlite(database) else fields["sold_at"]
        cursor = database.execute_sql(_sql(database, "sale"), (
            till_id, fields["receipt_no"], at, cashier, fields["total_fen"], fields["change_fen"],
            last_hash, fields["hash"], fields["kind"], fields["original"], fields["reason"], fields["manager"],
            fields["discount_fen"], hash_kind))
        sale_id = cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid
        _insert_rows(database, "line", [
            (sale_id, r["position"], r["product"], r["barcode"], r["name"], r["unit"], r["unit_price_fen"],
             r["qty_milli"], r["amount_fen"], r["discount_fen"], r["original_line"]) for r in lines])
        _insert_rows(database, "payment", [
            (sale_id, r["position"], r["method"], r["amount_fen"], r["reference"], r["status"], r["reason"],
             r.get("out_trade_no", "")) for r in payments])
        _insert_rows(database, "discount", [
            (sale_id, r["line_position"], r["kind"], r["value"], r["amount_fen"], r["reason"], r["cashier"],
             r["manager"]) for r in discounts])
        outcomes.add_pending(database, sale_id, at)
        if basket_id is not None:
            database.execute_sql(_sql(database, "close_basket"), ("sold", sale_id, at, basket_id))
        # The commit's audit record ties the journal hash, the payments' reasons and the first outcome.
        pending = dict(state=outcomes.PENDING, reason_code="", reason="", updated_at=fields["sold_at"])
        audit_seq, audit_hash = audit.append(
            database, till_id, audit.COMMIT, sale_id,
            audit.commit_content(fields["receipt_no"], fields["hash"], payments, pending), (audit_seq, audit_hash))
        audit_seq, audit_hash = stock.moves_for_document(database, sale_id, fields["kind"], till_id, cashier, lines,
                                                         fields["sold_at"], (audit_seq, audit_hash))
        numbering.advance(database, till_id, fields["receipt_no"], fields["hash"], audit_seq, audit_hash)
        for kind, detail in events:  # failed payments: rare, each with its own audit record
            audit.add_event(till_id, kind, cashier, sale_id, detail=detail, at=fields["sold_at"])
        paid_attempts = [r["out_trade_no"] for r in payments if r.get("out_trade_no") and r["status"] == PAYMENT_OK]
        if paid_attempts and fields["kind"] == "sale":  # mobile payments: their attempts now belong to this sale
            from store import payment_attempts

            payment_attempts.link_sale(paid_attempts, sale_id, till_id)
        elif paid_attempts:  # a refund's or void's money back to those orders: asked of the provider after this
            from store import provider_refunds

            provider_refunds.add_for_document(sale_id, till_id, fields["receipt_no"], payments)
    sale = Sale(id=sale_id, **fields)
    sale._dirty.clear()
    return sale
