"""Open and held baskets, stored as they change: nothing taken is ever lost.

An open basket is not a sale: no receipt number, not in the journal. Its
lines, discounts and payments are kept as JSON in one ``open_basket`` row,
rewritten at each change (one short UPDATE), so after a crash the till
starts again with the basket and the money taken as they were. A paid
basket ends ``sold`` in the sale's own transaction (store.sales); a basket
given up ends ``cancelled``, or ``abandoned`` with each payment recorded as
handed back; a held basket (挂单) waits as ``held`` until a till resumes it.
A basket set ``aside`` waits for a payment provider's answer about its
unclear attempt (the shop's internet is down): listed with the held ones,
never resumed, it ends sold when the attempt is paid or ``held`` again when
nothing was charged.
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
ASIDE = "aside"
#: Listed as held (取单 shows them, a Z report waits for them).
HELD_STATES = (HELD, ASIDE)
EVENT_CANCELLED, EVENT_HANDED_BACK = "basket_cancelled", "payment_handed_back"
EVENT_HELD, EVENT_RESUMED = "basket_held", "basket_resumed"
EVENT_SET_ASIDE, EVENT_RELEASED = "basket_set_aside", "basket_released"


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
    _put_aside(basket_id, till_id, note, cashier, HELD, EVENT_HELD)


def set_aside(basket_id: int, till_id: str, note: str = "", cashier=None) -> int:
    """Set the open basket aside while its payment attempt is unclear (no money may have been taken); its id."""
    _put_aside(basket_id, till_id, note, cashier, ASIDE, EVENT_SET_ASIDE)
    return basket_id


def _put_aside(basket_id: int, till_id: str, note: str, cashier: Any, state: str, event: str) -> None:
    """The open basket, with no money taken, becomes ``state`` (held, or aside), with its note and ``event``."""
    with write_transaction():
        row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
        if row is None or row.state != OPEN:
            raise BasketError("That basket is no longer open.", "basket_not_open")
        if row.paid_fen:
            raise BasketError("A basket with money taken cannot be held; finish or cancel it.", "held_with_payment")
        OpenBasket.update(state=state, note=(note or "")[:255], updated_at=now()).where(
            OpenBasket.id == basket_id).execute()
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=event,
                        detail=f"{row.items} items {money.format_yuan(row.total_fen)} {note or ''}".strip())


def release(basket_id: int, till_id: str, note: str = "", cashier=None) -> bool:
    """The set-aside basket's attempt charged nothing: it is a held basket now (False: it was not aside)."""
    with write_transaction():
        row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
        if row is None or not _close_to(basket_id, HELD, note):
            return False
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_RELEASED,
                        detail=f"{row.items} items {money.format_yuan(row.total_fen)} {note or ''}".strip())
    return True


def _close_to(basket_id: int, state: str, note: str) -> bool:
    return bool(OpenBasket.update(state=state, note=(note or "")[:255], updated_at=now())
                .where((OpenBasket.id == basket_id) & (OpenBasket.state == ASIDE)).execute())


def stored(basket_id: Optional[int]) -> Optional[Stored]:
    """One basket as stored (any state), or None."""
    row = OpenBasket.get_or_none(OpenBasket.id == basket_id) if basket_id is not None else None
    return _stored(row) if row is not None else None


def aside(till_id: str) -> List[Stored]:
    """The baskets this till set aside for a provider's answer, oldest first (asked again at start)."""
    rows = (OpenBasket.select().where((OpenBasket.state == ASIDE) & (OpenBasket.till_id == str(till_id)))
            .order_by(OpenBasket.id))
    return [_stored(row) for row in rows]


def held(limit: int = 50) -> List[Stored]:
    """The held baskets of the shop, and those set aside for a provider's answer, oldest first (any till may
    resume a held one)."""
    rows = OpenBasket.select().where(OpenBasket.state.in_(HELD_STATES)).order_by(OpenBasket.id).limit(limit)
    return [_stored(row) for row in rows]


def resume(basket_id: int, till_id: str, cashier=None) -> Stored:
    """取单: the held basket becomes this till's open basket (once: two tills cannot both take it)."""
    with write_transaction():
        changed = (OpenBasket.update(state=OPEN, till_id=str(till_id), updated_at=now())
                   .where((OpenBasket.id == basket_id) & (OpenBasket.state == HELD)).execute())
        if not changed:
            _not_resumed(basket_id)
        row = OpenBasket.get_by_id(basket_id)
        audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_RESUMED,
                     detail=f"{row.items} items {money.format_yuan(row.total_fen)} {row.note}".strip())
    return _stored(row)


def _not_resumed(basket_id: int) -> None:
    row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
    if row is not None and row.state == ASIDE:
        raise BasketError("That basket waits for its payment's answer.", "held_waits_for_payment")
    raise BasketError("That held basket was already taken.", "held_taken")


def counts(till_id: str) -> Tuple[int, int]:
    """(open baskets of this till, held baskets of the shop): a Z report is refused while either is not 0."""
    open_count = OpenBasket.select().where((OpenBasket.state == OPEN) & (OpenBasket.till_id == str(till_id))).count()
    return open_count, OpenBasket.select().where(OpenBasket.state.in_(HELD_STATES)).count()
