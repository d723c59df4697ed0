"""Who sells: the sign-in's and the manager prompt's store work, as plain rules.

Plain Python, no Textual: the sign-in screen (tui/screens/signin.py) and the
manager prompt (tui/screens/pin.py) ask these off the UI thread (PBKDF2 is
slow by design) and say the answer. The PIN rules themselves (the slow hash,
the lock after wrong PINs, the event per refusal) live in ``store.cashiers``;
the [signin] settings are read here.
"""
from __future__ import annotations

import datetime
import math
from typing import Any, NamedTuple, Optional

from store import audit
from store.cashiers import PIN_SHORT, LockRule, PinLengths, approve, pin_is_short, sign_in
from store.models import Cashier, now

WRONG, NOT_MANAGER, LOCKED = "wrong", "not_manager", "locked"  # why the manager prompt refused


class SignIn(NamedTuple):
    """The store's answer to a code and PIN (a store.cashiers.SignInAnswer), and whether any cashier is left."""

    answer: Any
    cashiers_left: bool
    short_pin: int = 0  # signed in with a PIN shorter than this minimum (set before the rule): tell the owner


class Approval(NamedTuple):
    """The manager prompt's answer: the manager's code, or why not."""

    manager: Optional[str] = None  # the code of the manager who approved
    refused: str = ""  # WRONG, NOT_MANAGER or LOCKED when ``manager`` is None
    minutes_left: int = 0  # LOCKED: whole minutes until the lock ends (at least 1)
    short_pin: int = 0  # approved with a PIN shorter than this minimum: tell the owner


def pin_lengths(signin: Any) -> PinLengths:
    """The [signin] minimum PIN lengths, for ``store.cashiers.add_cashier`` and ``set_pin``."""

    return PinLengths(signin.min_pin_length, signin.manager_min_pin_length)


def active_cashiers_exist() -> bool:
    """True when at least one active cashier is in the store: the till then asks who sells."""

    return Cashier.select().where(Cashier.active == True).exists()  # noqa: E712


def check_sign_in(code: str, pin: str, till_id: str, settings: Any) -> SignIn:
    """Check a cashier's code and PIN under the [signin] lock rules; store work (a refusal is an event)."""

    answer = sign_in(code, pin, till_id, settings.lock_attempts, settings.lock_minutes)
    short = _short_pin(pin, answer.cashier, till_id, settings)
    return SignIn(answer, answer.cashier is not None or active_cashiers_exist(), short)


def check_approval(code: str, pin: str, till_id: str, settings: Any, why: str = "") -> Approval:
    """Check a manager's code and PIN at the manager prompt under the [signin] lock rules; store work
    (each refusal and each approval is an event; ``why`` says what the manager allows)."""

    answer = approve(code, pin, till_id, LockRule(settings.lock_attempts, settings.lock_minutes), why)
    if answer.cashier is not None:
        return Approval(answer.cashier.code, short_pin=_short_pin(pin, answer.cashier, till_id, settings))
    if answer.locked_until is not None:
        return Approval(refused=LOCKED, minutes_left=minutes_left(answer.locked_until))
    return Approval(refused=NOT_MANAGER if answer.not_manager else WRONG)


def minutes_left(until: datetime.datetime, at: Optional[datetime.datetime] = None) -> int:
    """Whole minutes from ``at`` (now) until ``until``, rounded up: a lock never says 0 minutes."""

    seconds = (until - (at or now())).total_seconds()
    return max(1, math.ceil(seconds / 60))


def _short_pin(pin: str, cashier: Any, till_id: str, settings: Any) -> int:
    """The minimum an accepted PIN falls short of (0: long enough); a short one is an event for the owner."""

    if cashier is None:
        return 0
    minimum = pin_is_short(pin, cashier, pin_lengths(settings))
    if minimum:
        audit.add_event(str(till_id), cashier=cashier.code, kind=PIN_SHORT,
                        detail=f"the PIN of code {cashier.code!r} is shorter than {minimum} characters "
                               "([signin] settings): set a longer one")
    return minimum
