"""The sale lifecycle: basket -> tender -> commit, in plain Python (no UI).

``commit_sale`` writes the sale, its lines, its payments (failed ones too),
the receipt outcome ``pending`` and the journal link in ONE transaction, and
takes the next receipt number of the till (``store.numbering``) while
holding the write lock, so numbers are gapless per till even with several
processes selling on one database.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from store import journal, money, numbering, outcomes
from store.cashiers import cashier_code
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import Event, Line, Payment, Product, Sale, now

log = logging.getLogger("chaoying.store.sales")

METHODS = ("cash", "card", "wechat", "alipay")


class SaleError(StoreError, ValueError):
    """A sale that cannot be committed as it stands: ``code``, ``values`` and one sentence."""


@dataclass(frozen=True)
class BasketLine:
    product_id: Optional[int]
    barcode: str
    name: str
    unit: str
    unit_price_fen: int
    qty_milli: int
    amount_fen: int


class Basket:
    """The lines of a sale being rung up."""

    def __init__(self) -> None:
        self.lines: List[BasketLine] = []

    def add(self, product, qty_milli: int = 1000, amount_fen: Optional[int] = None) -> int:
        """Add a line for ``product`` (a Product or anything with its fields); return its index.

        ``amount_fen`` fixes the line amount instead of price x quantity: a
        price-embedded scale label says what the customer pays (store.codes).
        """
        check_line(product, qty_milli, amount_fen)
        price = int(product.price_fen)
        self.lines.append(
            BasketLine(
                product_id=getattr(product, "id", None),
                barcode=product.barcode or "",
                name=product.name,
                unit=getattr(product, "unit", "") or "",
                unit_price_fen=price,
                qty_milli=qty_milli,
                amount_fen=money.line_amount(price, qty_milli) if amount_fen is None else amount_fen,
            )
        )
        return len(self.lines) - 1

    def set_qty(self, index: int, qty_milli: int) -> None:
        """Change the quantity of line ``index``."""
        _check_qty(qty_milli)
        line = self.lines[index]
        _check_pieces(line.name, line.unit, qty_milli)
        self.lines[index] = BasketLine(
            line.product_id, line.barcode, line.name, line.unit, line.unit_price_fen,
            qty_milli, money.line_amount(line.unit_price_fen, qty_milli),
        )

    def void(self, index: int) -> BasketLine:
        """Remove line ``index`` and return it."""
        return self.lines.pop(index)

    def clear(self) -> None:
        self.lines.clear()

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines


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

    def add_payment(self, method: str, amount_fen: int, reference: str = "") -> TenderPayment:
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
        payment = TenderPayment(method, int(amount_fen), reference or "")
        self.payments.append(payment)
        return payment

    def record_failed(self, method: str, amount_fen: int, reference: str = "", reason: str = "") -> TenderPayment:
        """Record a payment that did not go through; it is kept but not counted."""
        self._check(method, amount_fen)
        payment = TenderPayment(method, int(amount_fen), reference or "", PAYMENT_FAILED, reason or "")
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
                Sale.change_fen, Sale.prev_hash, Sale.hash)
_LINE_FIELDS = (Line.sale, Line.position, Line.product, Line.barcode, Line.name, Line.unit,
                Line.unit_price_fen, Line.qty_milli, Line.amount_fen)
_PAYMENT_FIELDS = (Payment.sale, Payment.position, Payment.method, Payment.amount_fen,
                   Payment.reference, Payment.status, Payment.reason)
_EVENT_FIELDS = (Event.at, Event.till_id, Event.cashier, Event.kind, Event.sale, Event.printer, Event.detail)
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

    models = {"sale": (Sale, _SALE_FIELDS), "line": (Line, _LINE_FIELDS), "payment": (Payment, _PAYMENT_FIELDS),
              "event": (Event, _EVENT_FIELDS)}
    model, fields = models[name]
    return insert(model, fields, returning=name == "sale")


def _insert_rows(database, name: str, rows: List[tuple]) -> None:
    for start in range(0, len(rows), _MAX_ROWS):
        chunk = rows[start:start + _MAX_ROWS]
        database.execute_sql(_sql(database, name, len(chunk)), [value for row in chunk for value in row])


def commit_sale(basket: Basket, tender: Tender, till_id: str, cashier=None) -> Sale:
    """Store a paid sale durably, in one transaction; return the Sale.

    Writes the sale, its lines, all payments (failed ones too), the receipt
    outcome ``pending``, an event per failed payment and the journal link.
    """
    if basket.is_empty:
        raise SaleError("The basket is empty.", "basket_empty")
    if tender.total_fen != basket.total_fen:
        raise SaleError("The payments were taken for a different total than the basket's.", "tender_mismatch")
    if not tender.covered:
        raise SaleError(f"{money.format_yuan(tender.remaining_fen)} is still due.", "still_due",
                        due_fen=tender.remaining_fen)
    till_id = str(till_id)
    code = cashier_code(cashier)
    lines = [
        dict(position=index + 1, product=line.product_id, barcode=line.barcode, name=line.name,
             unit=line.unit, unit_price_fen=line.unit_price_fen, qty_milli=line.qty_milli,
             amount_fen=line.amount_fen)
        for index, line in enumerate(basket.lines)
    ]
    payments = [
        dict(position=index + 1, method=payment.method, amount_fen=payment.amount_fen,
             reference=payment.reference, status=payment.status, reason=payment.reason)
        for index, payment in enumerate(tender.payments)
    ]
    database = db.obj
    with write_transaction():
        last_no, last_hash = numbering.lock_counter(database, till_id)
        fields: Dict[str, Any] = dict(
            till_id=till_id, receipt_no=last_no + 1, sold_at=now(), cashier=code,
            total_fen=basket.total_fen, change_fen=tender.change_fen, prev_hash=last_hash,
        )
        fields["hash"] = journal.chain_hash(last_hash, journal.canonical_content(fields, lines, payments))
        # SQLite stores the text peewee would; a str avoids sqlite3's deprecated datetime adapter
        at = fields["sold_at"].isoformat(sep=" ") if is_sqlite(database) else fields["sold_at"]
        cursor = database.execute_sql(_sql(database, "sale"), (
            till_id, fields["receipt_no"], at, code, fields["total_fen"], fields["change_fen"],
            last_hash, fields["hash"]))
        sale_id = cursor.fetchone()[0] if database.returning_clause else cursor.lastrowid
        _insert_rows(database, "line", [
            (sale_id, r["position"], r["product"], r["barcode"], r["name"], r["unit"], r["unit_price_fen"],
             r["qty_milli"], r["amount_fen"]) for r in lines])
        _insert_rows(database, "payment", [
            (sale_id, r["position"], r["method"], r["amount_fen"], r["reference"], r["status"], r["reason"])
            for r in payments])
        outcomes.add_pending(database, sale_id, at)
        _insert_rows(database, "event", [
            (at, till_id, code, outcomes.EVENT_PAYMENT_FAILED, sale_id, "",
             f"{p.method} {money.format_yuan(p.amount_fen)} {p.reason}".strip())
            for p in tender.failed_payments])
        numbering.advance(database, till_id, fields["receipt_no"], fields["hash"])
    sale = Sale(id=sale_id, **fields)
    sale._dirty.clear()
    return sale
