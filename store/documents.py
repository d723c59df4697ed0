"""Corrections as documents: a refund (退货) of some lines of a sale, a void (作废) of a whole sale.

Each is a new document in the ``sale`` table with the till's next gapless
receipt number, in the journal chain, with its own receipt outcome (so the
same printing and banner apply); ``original`` links it to the sale it
corrects, and each refund line to the sold line it returns. Nothing is
edited or deleted. Amounts are positive; ``kind`` says the money went back.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from store import money
from store.cashiers import cashier_code
from store.db import db, is_sqlite
from store.errors import StoreError
from store.events import with_manager
from store.models import Line, Payment, Sale
from store.numbering import format_receipt_no
from store.sales import METHODS, PAYMENT_OK, commit_document

SALE, REFUND, VOID = "sale", "refund", "void"
KINDS = (SALE, REFUND, VOID)
EVENT_REFUND, EVENT_VOID = "refund", "void"


class DocumentError(StoreError, ValueError):
    """A refund or void that cannot be made as asked: one sentence, a code and its values."""


@dataclass(frozen=True)
class Refundable:
    """A sold line and what is left of it to refund."""

    line_id: int
    position: int
    barcode: str
    name: str
    unit: str
    unit_price_fen: int
    qty_milli: int
    amount_fen: int
    discount_fen: int
    refunded_qty: int
    refunded_fen: int

    @property
    def remaining_qty(self) -> int:
        return self.qty_milli - self.refunded_qty

    @property
    def remaining_fen(self) -> int:
        return self.amount_fen - self.refunded_fen

    def refund_fen(self, qty_milli: int) -> int:
        """What refunding ``qty_milli`` of the line gives back: its share of what was paid (the rest, last)."""
        if qty_milli >= self.remaining_qty:
            return self.remaining_fen
        return self.amount_fen * qty_milli // self.qty_milli


def check_refund_qty(line: Refundable, qty_milli: int) -> None:
    """DocumentError unless ``qty_milli`` of ``line`` can come back: never more than is left, and of a
    product sold by the piece a whole number (money.whole_pieces), or all that is left of a line that
    was sold in a fraction (a price label's quantity)."""
    if qty_milli > line.remaining_qty:
        raise DocumentError(f"Only {money.format_qty(line.remaining_qty)} of {line.name} can still be refunded.",
                            "refund_too_much", name=line.name, qty=money.format_qty(line.remaining_qty))
    if not money.whole_pieces(line.unit, qty_milli) and qty_milli != line.remaining_qty:
        raise DocumentError(f"{line.name} is sold by the piece ({line.unit or 'no unit'}): "
                            f"{money.format_qty(qty_milli)} is not a whole number.", "piece_fraction",
                            name=line.name, unit=line.unit, qty=money.format_qty(qty_milli))


def _original(sale_id: int) -> Sale:
    sale = Sale.get_or_none(Sale.id == sale_id)
    if sale is None:
        raise DocumentError("That receipt does not exist.", "no_such_receipt")
    number = format_receipt_no(sale.till_id, sale.receipt_no)
    if sale.kind != SALE:
        raise DocumentError(f"Receipt {number} is a {sale.kind}, not a sale.", "not_a_sale", receipt=number,
                            kind=sale.kind)
    if Sale.select().where((Sale.original == sale_id) & (Sale.kind == VOID)).exists():
        raise DocumentError(f"Receipt {number} was voided.", "voided", receipt=number)
    return sale


def refundable(sale_id: int, elsewhere: Optional[Dict[int, Tuple[int, int]]] = None) -> List[Refundable]:
    """The lines of a sale with what was already refunded of each (``elsewhere``: line id -> (qty, fen) other
    tills gave back, as the server says: store.shop_wide's refund of another till's receipt)."""
    _original(sale_id)
    lines = list(Line.select().where(Line.sale == sale_id).order_by(Line.position))
    done: Dict[int, Tuple[int, int]] = dict(elsewhere or {})
    returned = (Line.select(Line.original_line, Line.qty_milli, Line.amount_fen)
                .join(Sale).where((Line.original_line.in_([line.id for line in lines])) & (Sale.kind == REFUND))
                .tuples())
    for original_line, qty, amount in returned:
        qty_done, fen_done = done.get(original_line, (0, 0))
        done[original_line] = (qty_done + qty, fen_done + amount)
    return [Refundable(line.id, line.position, line.barcode, line.name, line.unit, line.unit_price_fen,
                       line.qty_milli, line.amount_fen, line.discount_fen, *done.get(line.id, (0, 0)))
            for line in lines]


def _net_by_method(sale: Sale, kind: str = SALE) -> Dict[str, int]:
    """What each tender of a sale took in (cash less the change), or what refunds already gave back."""
    net: Dict[str, int] = {}
    if kind == SALE:
        payments = Payment.select().where((Payment.sale == sale.id) & (Payment.status == PAYMENT_OK))
    else:
        payments = (Payment.select().join(Sale)
                    .where((Sale.original == sale.id) & (Sale.kind == kind) & (Payment.status == PAYMENT_OK)))
    for payment in payments.order_by(Payment.id):
        net[payment.method] = net.get(payment.method, 0) + payment.amount_fen
    if kind == SALE and sale.change_fen:
        net["cash"] = net.get("cash", 0) - sale.change_fen
    return net


def refund_room(sale_id: int) -> Dict[str, int]:
    """What each tender of a sale can still take back: what it took in less what refunds gave back on it."""
    sale = Sale.get_by_id(sale_id)
    paid, given = _net_by_method(sale), _net_by_method(sale, REFUND)
    return {method: amount - given.get(method, 0) for method, amount in paid.items()}


def plan_refund_payments(room: Dict[str, int], amount_fen: int) -> List[Tuple[str, int]]:
    """Back to the original tenders: the non-cash ones first (what they have left), the rest in cash."""
    plan: List[Tuple[str, int]] = []
    left = amount_fen
    for method in [m for m in room if m != "cash"] + ["cash"]:
        take = left if method == "cash" else min(left, max(0, room.get(method, 0)))
        if take > 0:
            plan.append((method, take))
            left -= take
    return plan


def default_refund_payments(sale_id: int, amount_fen: int) -> List[Tuple[str, int]]:
    """Back to the original tenders: the non-cash ones first (what they have left), the rest in cash."""
    return plan_refund_payments(refund_room(sale_id), amount_fen)


def _lock_original(sale_id: int) -> None:
    """PostgreSQL: two tills refunding one sale wait for each other (SQLite's write lock already does)."""
    if not is_sqlite(db.obj):
        list(Sale.select(Sale.id).where(Sale.id == sale_id).for_update())


def commit_refund(sale_id: int, items: Sequence[Tuple[Any, ...]], till_id: str, cashier=None, manager=None,
                  reason: str = "", payments: Optional[Sequence[Tuple[str, int]]] = None,
                  elsewhere: Optional[Dict[int, Tuple[int, int]]] = None) -> Sale:
    """Refund ``items`` (line id, quantity in thousandths[, restock]) of a sale as a new document; return it.

    Never more of a line than was sold less what was refunded before (checked
    again under the write lock); the money goes back by ``payments`` (method,
    fen), by default to the original tenders. ``restock`` (default True): the
    goods go back on the shelf; False: damaged (store.stock writes them off).
    """
    restock = {int(item[0]): bool(item[2]) for item in items if len(item) > 2}
    wanted = [(int(item[0]), int(item[1])) for item in items if int(item[1]) != 0]
    if not wanted or any(qty < 0 for _, qty in wanted):
        raise DocumentError("Choose at least one line and a quantity above zero to refund.", "refund_nothing")

    def plan() -> Tuple[List[dict], int]:
        lines = {line.line_id: line for line in refundable(sale_id, elsewhere)}
        rows, total = [], 0
        for position, (line_id, qty) in enumerate(wanted, start=1):
            line = lines.get(line_id)
            if line is None:
                raise DocumentError("That line is not on this receipt.", "refund_wrong_line")
            check_refund_qty(line, qty)
            amount = line.refund_fen(qty)
            discount = line.discount_fen * qty // line.qty_milli
            rows.append(dict(position=position, product=None, barcode=line.barcode, name=line.name, unit=line.unit,
                             unit_price_fen=line.unit_price_fen, qty_milli=qty, amount_fen=amount,
                             discount_fen=discount, original_line=line_id))
            total += amount
        return rows, total

    rows, total = plan()
    tenders = list(payments) if payments is not None else default_refund_payments(sale_id, total)
    if sum(amount for _, amount in tenders) != total or any(m not in METHODS or a <= 0 for m, a in tenders):
        raise DocumentError(f"The refund pays back {money.format_yuan(total)}; the payments must add up to it.",
                            "refund_payments", total=money.format_yuan(total))
    original = Sale.get_by_id(sale_id)

    def check() -> None:
        _lock_original(sale_id)
        def key(found: List[dict]) -> List[tuple]:
            return [(r["original_line"], r["qty_milli"], r["amount_fen"]) for r in found]

        if key(plan()[0]) != key(rows):
            raise DocumentError("Another till refunded this receipt meanwhile; look again.", "refund_changed")

    products = {line.id: line.product_id for line in
                Line.select(Line.id, Line.product).where(Line.id.in_([r["original_line"] for r in rows]))}
    for row in rows:
        row["product"] = products.get(row["original_line"])
        row["restock"] = restock.get(row["original_line"], True)
    number = format_receipt_no(original.till_id, original.receipt_no)
    document = dict(kind=REFUND, original=sale_id, total_fen=total, reason=reason or "",
                    manager=cashier_code(manager), discount_fen=sum(r["discount_fen"] for r in rows))
    return commit_document(till_id, cashier_code(cashier), document, rows, _refund_payment_rows(sale_id, tenders),
                           [], [(EVENT_REFUND, with_manager(f"{number} {money.format_yuan(total)} {reason or ''}"
                                                            .strip(), manager))],
                           check=check)


def voidable(sale: Sale, today: Optional[datetime.date] = None) -> None:
    """Raise DocumentError unless ``sale`` can be voided: a sale of today, not refunded or voided."""
    number = format_receipt_no(sale.till_id, sale.receipt_no)
    _original(sale.id)
    sold = sale.sold_at if isinstance(sale.sold_at, datetime.datetime) else datetime.datetime.fromisoformat(
        str(sale.sold_at))
    if sold.date() != (today or datetime.date.today()):
        raise DocumentError(f"Receipt {number} is not of today; refund it instead.", "void_other_day",
                            receipt=number)
    if Sale.select().where(Sale.original == sale.id).exists():
        raise DocumentError(f"Receipt {number} already has a refund; refund the rest instead.", "void_refunded",
                            receipt=number)


def commit_void(sale_id: int, till_id: str, cashier=None, manager=None, reason: str = "") -> Sale:
    """作废: reverse a whole sale of today as a new document (its lines, its money back by its tenders)."""
    if not (reason or "").strip():
        raise DocumentError("A void needs a reason.", "void_reason")
    original = _original(sale_id)
    voidable(original)
    lines = [dict(position=line.position, product=line.product_id, barcode=line.barcode, name=line.name,
                  unit=line.unit, unit_price_fen=line.unit_price_fen, qty_milli=line.qty_milli,
                  amount_fen=line.amount_fen, discount_fen=line.discount_fen, original_line=line.id)
             for line in Line.select().where(Line.sale == sale_id).order_by(Line.position)]
    tenders = [(method, amount) for method, amount in _net_by_method(original).items() if amount > 0]

    def check() -> None:
        _lock_original(sale_id)
        voidable(Sale.get_by_id(sale_id))

    number = format_receipt_no(original.till_id, original.receipt_no)
    document = dict(kind=VOID, original=sale_id, total_fen=original.total_fen, reason=reason.strip(),
                    manager=cashier_code(manager), discount_fen=original.discount_fen)
    detail = with_manager(f"{number} {money.format_yuan(original.total_fen)} {reason}".strip(), manager)
    return commit_document(till_id, cashier_code(cashier), document, lines, _refund_payment_rows(sale_id, tenders),
                           [], [(EVENT_VOID, detail)], check=check)


def _payment_rows(tenders: Sequence[Tuple[str, int]]) -> List[dict]:
    return [dict(position=index, method=method, amount_fen=amount, reference="", status=PAYMENT_OK, reason="")
            for index, (method, amount) in enumerate(tenders, start=1)]


def _refund_payment_rows(sale_id: int, tenders: Sequence[Tuple[str, int]]) -> List[dict]:
    """A refund's or void's payments: a mobile method split over the sale's till-charged orders (each row naming
    its order and transaction number: the provider refunds it), the rest as before (store.provider_refunds)."""
    from store.provider_refunds import orders_of, split_by_order

    rows = split_by_order(tenders, orders_of(sale_id))
    return [dict(position=index, method=row["method"], amount_fen=row["amount_fen"], reference=row["reference"],
                 status=PAYMENT_OK, reason="", out_trade_no=row["out_trade_no"])
            for index, row in enumerate(rows, start=1)]


def corrections(sale_id: int) -> List[Sale]:
    """The refunds and the void of a sale, in order."""
    return list(Sale.select().where(Sale.original == sale_id).order_by(Sale.id))


def commit_refund_without_receipt(basket, till_id: str, cashier=None, manager=None, reason: str = "",
                                  method: str = "cash", basket_id: Optional[int] = None,
                                  restock: bool = True) -> Sale:
    """无单退货: the basket's goods come back with no original receipt; the money goes back by ``method``.

    Only when [selling] refund_without_receipt allows it and a manager said so
    (the till checks both); a refund document with no ``original``.
    """
    if basket.is_empty:
        raise DocumentError("Choose at least one line and a quantity above zero to refund.", "refund_nothing")
    if method not in METHODS:
        raise DocumentError(f"The refund pays back {money.format_yuan(basket.total_fen)}; the payments must add up "
                            "to it.", "refund_payments", total=money.format_yuan(basket.total_fen))
    if not cashier_code(manager):
        raise DocumentError("A refund without a receipt needs a manager.", "refund_needs_manager")
    rows = [dict(position=index, product=line.product_id, barcode=line.barcode, name=line.name, unit=line.unit,
                 unit_price_fen=line.unit_price_fen, qty_milli=line.qty_milli, amount_fen=line.amount_fen,
                 discount_fen=line.discount_fen, original_line=None, restock=restock)
            for index, line in enumerate(basket.lines, start=1)]
    total = basket.total_fen
    document = dict(kind=REFUND, original=None, total_fen=total, reason=reason or "",
                    manager=cashier_code(manager), discount_fen=basket.discount_fen)
    tenders = [(method, total)] if total > 0 else []
    return commit_document(till_id, cashier_code(cashier), document, rows, _payment_rows(tenders), [],
                           [(EVENT_REFUND, with_manager(f"no receipt {money.format_yuan(total)} {reason or ''}".strip(),
                                                        manager))],
                           basket_id)
