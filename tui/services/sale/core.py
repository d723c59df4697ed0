"""What one sale session is now: its open basket, tender and payment attempts, and the rules all its parts share.

The state of ``SaleSession`` (tui/services/sale_session.py) lives here; each of its parts
(tui/services/sale/) adds what the cashier may do with it. Plain Python, no Textual.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple

from store import payment_attempts as states
from tui.services import payment_aside as aside_rules

log = logging.getLogger("chaoying.tui.sale_session")

#: busy: store work on the saver's thread that the next scan must wait for.
HOLDING, RESUMING = "hold", "resume"


class Refused(Exception):
    """A selling rule says no; ``code`` names the sentence (an i18n key), ``values`` fill it."""

    def __init__(self, code: str, **values: Any) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class AttemptView(NamedTuple):
    """What the session knows of one payment attempt of its basket (the store row has the same names)."""

    out_trade_no: str
    provider: str
    amount_fen: int
    state: str
    transaction_id: str = ""
    reason: str = ""
    sale: Optional[int] = None


def blocks_basket(attempts: List[Any]) -> bool:
    """An attempt not known failed or cancelled blocks paying again, holding, abandoning and cancelling the
    basket: the customer is charged at most once."""
    return any(attempt.state not in states.NOTHING_CHARGED for attempt in attempts)


def money_taken(tender: Any) -> bool:
    """Money has been taken for this basket: it cannot be changed, held, left or dropped without handing it back."""
    return tender is not None and tender.paid_fen > 0


def stored_id(basket_id: Optional[int]) -> int:
    """The stored basket's id the saver hands its job; BasketError when the basket is no longer open."""
    from store import baskets

    if basket_id is None:
        raise baskets.BasketError("That basket is no longer open.", "basket_not_open")
    return basket_id


def yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)


class SessionCore:
    """The open basket, its tender and its payment attempts: what the session is now."""

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
        self._next_settings: Optional[Any] = None  # new shared settings waiting for the basket being paid to end
        self.settings_taken: Callable[[Any], Any] = lambda settings: None  # the owner swaps its own too (the app)

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

    def save(self) -> None:
        """The basket or its payments changed: the saver stores it (nothing taken is ever lost)."""
        self.saver.keep(self.basket, self.tender.payments if self.tender is not None else [])

    def log(self, kind: str, detail: str = "") -> None:
        self._log_event(kind, detail=detail)

    def start_over(self) -> None:
        """The basket ended without a sale: the next change starts a new one."""
        self._basket, self.tender, self.attempts = None, None, {}
        self.take_waiting_settings()

    def hand_over(self) -> None:
        """Sign-out: the next cashier starts with no tender of the last one's."""
        self.tender = None
        self.take_waiting_settings()

    # ------------------------------------------------------------ the settings, kept current

    def paying(self) -> bool:
        """Is a basket being paid: F12 opened its tender (kept, with its payments, until the basket ends), money
        is taken, a payment attempt is open, or it is ending or being held or set aside?"""
        return self.tender is not None or self.money_taken() or bool(self.attempts) or self.waits()

    def follow_settings(self, settings: Any) -> bool:
        """New settings while the till runs (the shop's shared [selling] and [limits] changed on its server:
        tui.services.shared_settings.SharedSettingsFollower). True: in use from now on.

        A swap never happens in the middle of a tender: while a basket is being paid (``paying``) they wait,
        and the basket's end (its sale, cancel, hold or set-aside; ``take_waiting_settings``) puts them in use.
        Newer settings replace ones still waiting. Every rule reads ``self.settings`` when it asks, so the swap
        reaches each of them."""
        self._next_settings = settings
        return self.take_waiting_settings()

    def take_waiting_settings(self) -> bool:
        """Settings waiting for the basket to end are put in use when none is being paid; True when they were."""
        if self._next_settings is None or self.paying():
            return False
        self.settings, self._next_settings = self._next_settings, None
        self.settings_taken(self.settings)
        return True

    def settings_waiting(self) -> bool:
        return self._next_settings is not None
