"""Open and held baskets, stored as they change: nothing taken is ever lost.

An open basket is not a sale: no receipt number, not in the journal. Its
lines, discounts and payments are kept as JSON in one ``open_basket`` row,
rewritten at each change (one short UPDATE), so after a crash the till
starts again with the basket and the money taken as they were. A paid
basket ends ``sold`` in the sale's own transaction (store.sales); a basket
given up ends ``cancelled``, or ``abandoned`` with each payment recorded as
handed back; a held basket (挂单) waits as ``held`` until a till resumes it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from store import audit, money
from store.cashiers import cashier_code
from store.db import write_transaction
from store.errors import StoreError
from store.models import OpenBasket, now
from store.sales import Basket, Tender, TenderPayment

OPEN, HELD, SOLD, CANCELLED, ABANDONED = "open", "held", "sold", "cancelled", "abandoned"
EVENT_CANCELLED, EVENT_HANDED_BACK = "basket_cancelled", "payment_handed_back"
EVENT_HELD, EVENT_RESUMED = "basket_held", "basket_resumed"


class BasketError(StoreError, ValueError):
    """A held basket that cannot be resumed (another till took it), and the like."""


@dataclass(frozen=True)
class Stored:
    """An open or held basket as it was read back."""

    id: int
    till_id: str
    state: str
    cashier: str
    note: str
    opened_at: Any
    updated_at: Any
    total_fen: int
    paid_fen: int
    items: int
    basket: Basket
    payments: List[TenderPayment]

    def tender(self) -> Tender:
        """A Tender for the basket's total holding the payments taken."""
        tender = Tender(self.basket.total_fen)
        tender.payments.extend(self.payments)
        return tender


def payment_detail(payment: TenderPayment) -> str:
    """How the event log writes a payment of a basket: "cash 5.00", "card 2.00 6222"."""
    return f"{payment.method} {money.format_yuan(payment.amount_fen)} {payment.reference}".strip()


def _content(basket: Basket, payments: List[TenderPayment]) -> str:
    data = basket.as_dict()
    data["payments"] = [dict(method=p.method, amount_fen=p.amount_fen, reference=p.reference, status=p.status,
                             reason=p.reason, **({"out_trade_no": p.out_trade_no} if p.out_trade_no else {}))
                        for p in payments]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _stored(row: OpenBasket) -> Stored:
    data = json.loads(row.content or "{}")
    payments = [TenderPayment(p["method"], int(p["amount_fen"]), p.get("reference", ""), p.get("status", "ok"),
                              p.get("reason", ""), p.get("out_trade_no", "")) for p in data.get("payments", [])]
    return Stored(row.id, row.till_id, row.state, row.cashier, row.note, row.opened_at, row.updated_at,
                  row.total_fen, row.paid_fen, row.items, Basket.from_dict(data), payments)


def save(basket_id: Optional[int], till_id: str, basket: Basket, payments: List[TenderPayment],
         cashier=None) -> int:
    """Store the open basket as it is now (a new row when ``basket_id`` is None); return its id."""
    at = now()
    values = dict(cashier=cashier_code(cashier), updated_at=at, total_fen=basket.total_fen,
                  paid_fen=sum(p.amount_fen for p in payments if p.ok), items=len(basket.items),
                  content=_content(basket, payments))
    with write_transaction():
        if basket_id is not None:
            changed = (OpenBasket.update(**values)
                       .where((OpenBasket.id == basket_id) & (OpenBasket.state == OPEN)).execute())
            if changed:
                return basket_id
        return OpenBasket.create(till_id=str(till_id), state=OPEN, opened_at=at, **values).id


def open_basket(till_id: str) -> Optional[Stored]:
    """The basket this till left open (a crash, or Ctrl+Q with a basket), or None."""
    row = (OpenBasket.select().where((OpenBasket.state == OPEN) & (OpenBasket.till_id == str(till_id)))
           .order_by(OpenBasket.id.desc()).first())
    return _stored(row) if row is not None else None


def _close(basket_id: int, state: str, from_state: str = OPEN) -> bool:
    return bool(OpenBasket.update(state=state, closed_at=now(), updated_at=now())
                .where((OpenBasket.id == basket_id) & (OpenBasket.state == from_state)).execute())


def cancel(basket_id: int, till_id: str, cashier=None) -> None:
    """The customer changed her mind before paying: the basket ends cancelled, and the log says so."""
    with write_transaction():
        row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
        if row is None or not _close(basket_id, CANCELLED):
            return
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_CANCELLED,
                     detail=f"{row.items} items {money.format_yuan(row.total_fen)}")


def abandon(basket_id: int, till_id: str, cashier=None) -> List[TenderPayment]:
    """Give the basket up with money taken: each payment is recorded as handed back (who, when).

    Returns the payments handed back (cash among them means the drawer opens).
    """
    code = cashier_code(cashier)
    with write_transaction():
        row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
        if row is None or row.state != OPEN:
            return []
        stored = _stored(row)
        _close(basket_id, ABANDONED)
        returned = [p for p in stored.payments if p.ok]
        audit.add_event(str(till_id), cashier=code, kind=EVENT_CANCELLED,
                     detail=f"{row.items} items {money.format_yuan(row.total_fen)}")
        for payment in returned:
            audit.add_event(str(till_id), cashier=code, kind=EVENT_HANDED_BACK,
                         detail=payment_detail(payment))
    return returned


def hold(basket_id: int, till_id: str, note: str = "", cashier=None) -> None:
    """挂单: put the basket aside (no payment may have been taken)."""
    with write_transaction():
        row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
        if row is None or row.state != OPEN:
            raise BasketError("That basket is no longer open.", "basket_not_open")
        if row.paid_fen:
            raise BasketError("A basket with money taken cannot be held; finish or cancel it.", "held_with_payment")
        OpenBasket.update(state=HELD, note=(note or "")[:255], updated_at=now()).where(
            OpenBasket.id == basket_id).execute()
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_HELD,
                     detail=f"{row.items} items {money.format_yuan(row.total_fen)} {note or ''}".strip())


def held(limit: int = 50) -> List[Stored]:
    """The held baskets of the shop, oldest first (any till may resume one)."""
    rows = OpenBasket.select().where(OpenBasket.state == HELD).order_by(OpenBasket.id).limit(limit)
    return [_stored(row) for row in rows]


def resume(basket_id: int, till_id: str, cashier=None) -> Stored:
    """取单: the held basket becomes this till's open basket (once: two tills cannot both take it)."""
    with write_transaction():
        changed = (OpenBasket.update(state=OPEN, till_id=str(till_id), updated_at=now())
                   .where((OpenBasket.id == basket_id) & (OpenBasket.state == HELD)).execute())
        if not changed:
            raise BasketError("That held basket was already taken.", "held_taken")
        row = OpenBasket.get_by_id(basket_id)
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_RESUMED,
                     detail=f"{row.items} items {money.format_yuan(row.total_fen)} {row.note}".strip())
    return _stored(row)


def counts(till_id: str) -> Tuple[int, int]:
    """(open baskets of this till, held baskets of the shop): a Z report is refused while either is not 0."""
    open_count = OpenBasket.select().where((OpenBasket.state == OPEN) & (OpenBasket.till_id == str(till_id))).count()
    return open_count, OpenBasket.select().where(OpenBasket.state == HELD).count()
