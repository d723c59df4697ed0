"""Provider refunds: a refund or void document giving back a WeChat Pay or Alipay payment through the provider.

A document's mobile payment back (a payment row of the document naming the
order it refunds, ``out_trade_no``) gets one provider refund, written in the
document's own transaction (``add_for_document``, from
store.sales.commit_document): so the request leaves only once the document
is durable, and a crash before or after it leaves a row the next start
follows. Its ``out_refund_no`` comes from the document (``refund_number``):
asked again, the provider answers for the same refund and gives the money
back at most once. Each answer moves it through ``TRANSITIONS`` and every
change is sealed in the till's audit chain in the transaction that writes it.

Which orders a refund's money goes back to is ``split_by_order``: within each
method, the sale's till-charged payments (oldest first, each within what it
has left), the rest by the method as before (a typed reference, a card).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Sequence, Tuple

from peewee import OP, SQL, EnclosedNodeList, Expression

from store import audit
from store.db import write_transaction
from store.errors import StoreError
from store.models import Payment, PaymentAttempt, ProviderRefund, Sale, now

REQUESTED, PENDING, REFUNDED, FAILED, UNKNOWN = "requested", "pending", "refunded", "failed", "unknown"
STATES = (REQUESTED, PENDING, REFUNDED, FAILED, UNKNOWN)
#: Not settled: the till follows them (== the partial index provider_refund_open, migration 12).
OPEN_STATES = (REQUESTED, PENDING, UNKNOWN)
#: Mobile methods a provider can refund (== store.reconcile.PROVIDERS).
MOBILE = ("wechat", "alipay")

_ANSWERED: FrozenSet[str] = frozenset({PENDING, REFUNDED, FAILED, UNKNOWN})
#: state -> the states a move may take it to. refunded is final; failed may be asked again (same number).
TRANSITIONS: Dict[str, FrozenSet[str]] = {
    REQUESTED: _ANSWERED,
    PENDING: _ANSWERED,
    UNKNOWN: _ANSWERED,
    FAILED: frozenset({REQUESTED}),
    REFUNDED: frozenset(),
}


class RefundError(StoreError, ValueError):
    """A move the state machine does not allow, or a provider refund that is not there."""


def check_move(old: str, new: str) -> None:
    """RefundError unless a provider refund in ``old`` may move to ``new``."""
    if new not in TRANSITIONS.get(old, frozenset()):
        raise RefundError(f"A provider refund cannot go from {old} to {new}.", "refund_move", old=old, new=new)


def refund_number(till_id: str, receipt_no: int, position: int) -> str:
    """The ``out_refund_no`` of a document's payment: till, receipt number and payment position.

    Unique (a till's receipt numbers are) and stable (the same document gives the same number after a
    crash). [0-9A-Za-z_] only, as both providers allow; a "-" of the till id becomes "_".
    """
    return f"{str(till_id).replace('-', '_')}_R{int(receipt_no):08d}_{int(position)}"


# ---------------------------------------------------------------- which orders the money goes back to

@dataclass(frozen=True)
class Order:
    """A till-charged payment of a sale and what it has left to refund."""

    method: str
    out_trade_no: str
    transaction_id: str
    room_fen: int


def orders_of(sale_id: int) -> List[Order]:
    """The sale's payments charged through a provider (oldest first), each with what refunds left of it."""
    paid = list(Payment.select().where((Payment.sale == sale_id) & (Payment.status == "ok")
                                       & (Payment.out_trade_no != "") & Payment.method.in_(MOBILE))
                .order_by(Payment.position))
    if not paid:
        return []
    given: Dict[str, int] = {}
    back = (Payment.select(Payment.out_trade_no, Payment.amount_fen).join(Sale)
            .where((Sale.original == sale_id) & (Payment.status == "ok") & (Payment.out_trade_no != "")).tuples())
    for out_trade_no, amount in back:
        given[out_trade_no] = given.get(out_trade_no, 0) + int(amount)
    return [Order(p.method, p.out_trade_no, p.reference or "", int(p.amount_fen) - given.get(p.out_trade_no, 0))
            for p in paid]


def split_by_order(tenders: Sequence[Tuple[str, int]], orders: Sequence[Order]) -> List[Dict[str, Any]]:
    """The payment rows of a refund: each (method, fen) of ``tenders`` split over the sale's ``orders`` of that
    method (each within its room, oldest first), the rest by the method alone. Rows: method, amount_fen,
    out_trade_no ("" when no provider is asked), reference (the order's transaction number)."""
    rooms = {order.out_trade_no: order.room_fen for order in orders}
    rows: List[Dict[str, Any]] = []
    for method, amount in tenders:
        left = int(amount)
        for order in (o for o in orders if o.method == method):
            take = min(left, max(0, rooms[order.out_trade_no]))
            if take > 0:
                rows.append(dict(method=method, amount_fen=take, out_trade_no=order.out_trade_no,
                                 reference=order.transaction_id))
                rooms[order.out_trade_no] -= take
                left -= take
        if left > 0:
            rows.append(dict(method=method, amount_fen=left, out_trade_no="", reference=""))
    return rows


# ---------------------------------------------------------------- writes

def add_for_document(document_id: int, till_id: str, receipt_no: int, payments: Iterable[Mapping[str, Any]]) -> None:
    """One provider refund (requested) per payment of the document naming an order; inside its transaction."""
    at = now()
    for payment in payments:
        if not payment.get("out_trade_no") or payment.get("method") not in MOBILE:
            continue
        order = PaymentAttempt.get_or_none(PaymentAttempt.out_trade_no == payment["out_trade_no"])
        if order is None:
            raise RefundError(f"The payment {payment['out_trade_no']} was not charged by this shop's till.",
                              "refund_no_order", out_trade_no=payment["out_trade_no"])
        row = ProviderRefund.create(
            till_id=str(till_id), document=document_id, position=int(payment["position"]),
            out_refund_no=refund_number(till_id, receipt_no, payment["position"]),
            out_trade_no=payment["out_trade_no"], provider=order.provider, total_fen=int(order.amount_fen),
            amount_fen=int(payment["amount_fen"]), created_at=at, state=REQUESTED, updated_at=at)
        audit.seal_row(audit.PROVIDER_REFUND, row.id, str(till_id))


def move(out_refund_no: str, state: str, refund_id: str = "", reason_code: str = "",
         reason: str = "") -> ProviderRefund:
    """Move the refund named ``out_refund_no`` to ``state`` (RefundError when the table says no) and seal it.

    The same state with the same code changes nothing (a query that says "still processing").
    """
    with write_transaction():
        row = get(out_refund_no)
        if row.state == state and row.reason_code == (reason_code or "")[:64]:
            return row
        check_move(row.state, state)
        values: Dict[str, Any] = dict(state=state, reason_code=(reason_code or "")[:64], reason=(reason or "")[:255],
                                      updated_at=now())
        if refund_id:
            values["refund_id"] = refund_id[:64]
        ProviderRefund.update(**values).where(ProviderRefund.id == row.id).execute()
        audit.seal_row(audit.PROVIDER_REFUND, row.id, row.till_id)
    return get(out_refund_no)


def ask_again(out_refund_no: str) -> ProviderRefund:
    """A refused refund asked again (the cashier's retry): back to requested, with the same number."""
    return move(out_refund_no, REQUESTED)


# ---------------------------------------------------------------- reads

def get(out_refund_no: str) -> ProviderRefund:
    row = ProviderRefund.get_or_none(ProviderRefund.out_refund_no == out_refund_no)
    if row is None:
        raise RefundError(f"There is no provider refund {out_refund_no}.", "refund_missing",
                          out_refund_no=out_refund_no)
    return row


def open_refunds(till_id: str) -> List[ProviderRefund]:
    """This till's provider refunds not settled yet, oldest first; bounded by open work (the partial index)."""
    states = EnclosedNodeList([SQL(f"'{state}'") for state in OPEN_STATES])
    where = Expression(ProviderRefund.state, OP.IN, states)
    return list(ProviderRefund.select().where((ProviderRefund.till_id == str(till_id)) & where)
                .order_by(ProviderRefund.id))


def of_documents(document_ids: Sequence[int]) -> Dict[Tuple[int, int], ProviderRefund]:
    """(document id, payment position) -> its provider refund, for these documents."""
    found: Dict[Tuple[int, int], ProviderRefund] = {}
    ids = list(document_ids)
    for start in range(0, len(ids), 500):
        for row in ProviderRefund.select().where(ProviderRefund.document.in_(ids[start:start + 500])):
            found[(row.document, row.position)] = row
    return found


def of_document(document_id: int) -> List[ProviderRefund]:
    """The provider refunds of one document, by payment position."""
    return list(ProviderRefund.select().where(ProviderRefund.document == document_id)
                .order_by(ProviderRefund.position))


def as_dict(row: Any) -> Dict[str, Any]:
    """A provider refund as plain values (the till hands these to its threads and its screens)."""
    return {name: getattr(row, name) for name in audit.FIELDS[audit.PROVIDER_REFUND]}


def of_receipt(till_id: str, receipt_no: int) -> List[ProviderRefund]:
    """The provider refunds of the document with this till and receipt number ([] when there is none)."""
    document = Sale.get_or_none((Sale.till_id == str(till_id)) & (Sale.receipt_no == int(receipt_no)))
    return of_document(document.id) if document is not None else []
