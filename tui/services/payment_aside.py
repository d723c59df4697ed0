"""A basket set aside while its payment is unclear (the shop's internet is down), so the till serves the next
customer, and what its attempt's answer does with it later.

Plain Python, no Textual. The rule (``may_set_aside``) and the store work run on the basket saver's thread
(``commit_aside``, ``release_aside``); the sale session (tui/services/sale_session.py) owns the baskets set
aside and reports these events. The customer is charged at most once: the basket cannot be resumed, paid
again or cancelled while its attempt is unclear (store.baskets.ASIDE), and a paid attempt belongs to one
sale only (store.payment_attempts.link_sale).
"""
from __future__ import annotations

import datetime
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from store import payment_attempts as states

#: What a set-aside basket does by its attempt's state (settlement).
COMMIT, RELEASE, WAIT = "commit", "release", "wait"


class Aside(NamedTuple):
    """One basket set aside: the attempt it waits for, and when it was set aside ("14:02")."""

    out_trade_no: str
    provider: str
    amount_fen: int
    at: str


# ---------------------------------------------------------------- events (through the session's report)

class BasketSetAside(NamedTuple):
    aside: Aside


class SetAsideFailed(NamedTuple):
    """Not set aside (the database is away): the basket is back as it was."""

    error: Exception


class AsideCommitted(NamedTuple):
    """The set-aside basket's attempt was paid: it is a sale now, durable before its receipt prints."""

    aside: Aside
    sale: Any


class AsideReleased(NamedTuple):
    """Its attempt charged nothing (failed, cancelled): it is a held basket now, to take back and pay."""

    aside: Aside


class AsideFailed(NamedTuple):
    """The store work for a set-aside basket failed; the next start asks again."""

    aside: Aside
    error: Exception


# ---------------------------------------------------------------- the rules

def may_set_aside(attempts: List[Any]) -> bool:
    """The basket may be set aside only while its open attempt is unclear (unknown: no answer, or a cancel
    with no answer), never while the customer confirms: the till does not wait on the network."""
    waiting = [attempt for attempt in attempts if attempt.state not in states.NOTHING_CHARGED]
    return bool(waiting) and waiting[-1].state in (states.UNKNOWN, states.CANCELLING)


def awaited(attempts: List[Any]) -> Optional[Any]:
    """The attempt a set-aside basket waits for: its newest not failed or cancelled, else its newest."""
    waiting = [attempt for attempt in attempts if attempt.state not in states.NOTHING_CHARGED]
    return (waiting or list(attempts) or [None])[-1]


def settlement(state: str) -> str:
    """COMMIT a paid attempt's basket, RELEASE one whose attempt charged nothing, else WAIT for the answer."""
    if state == states.PAID:
        return COMMIT
    if state in states.NOTHING_CHARGED:
        return RELEASE
    return WAIT


def aside_now(attempt: Any, at: Optional[datetime.datetime] = None) -> Aside:
    """The Aside of a basket set aside now (or stored at ``at``) for ``attempt``."""
    return Aside(attempt.out_trade_no, attempt.provider, int(attempt.amount_fen),
                 (at or datetime.datetime.now()).strftime("%H:%M"))


def aside_at(value: Any) -> Optional[datetime.datetime]:
    """A stored time (a datetime or its text) as a datetime."""
    if isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None


# ---------------------------------------------------------------- the store work (the basket saver's thread)

def commit_aside(till: Any, out_trade_no: str, missing_payments: Callable[[List[Any], List[Any]], List[Any]]
                 ) -> Optional[Tuple[Any, Any]]:
    """The basket set aside for this paid attempt becomes its sale, with its stored tender and the attempt's
    payment (``missing_payments``, the session's rule: once); (sale, tender), or None when the basket is no
    longer aside."""
    from store import baskets

    stored = baskets.stored(states.get(out_trade_no).basket)
    if stored is None or stored.state != baskets.ASIDE:
        return None
    tender = stored.tender()
    tender.payments.extend(missing_payments(stored.payments, states.of_basket(stored.id)))
    return till.commit_sale(stored.basket, tender, stored.id), tender


def release_aside(till_id: str, out_trade_no: str, note: str, cashier: Optional[str]) -> bool:
    """The basket set aside for this attempt (which charged nothing) is a held basket with ``note`` now;
    False when it was no longer aside."""
    from store import baskets

    return baskets.release(states.get(out_trade_no).basket, till_id, note, cashier)


def found_aside(till_id: str) -> List[Tuple[Any, List[Any]]]:
    """At start: this till's baskets set aside, each with its attempts (read off the UI thread)."""
    from store import baskets

    return [(stored, states.of_basket(stored.id)) for stored in baskets.aside(till_id)]
