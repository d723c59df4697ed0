"""Who sells: the sign-in's and the manager PIN's store work, as plain rules.

Plain Python, no Textual: the sign-in screen (tui/screens/signin.py) and the
PIN prompt (tui/screens/pin.py) ask these off the UI thread (PBKDF2 is slow
by design) and say the answer. The PIN rules themselves (the slow hash, the
lock after wrong PINs, the event per refusal) live in ``store.cashiers``.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Optional

from store.cashiers import check_manager, sign_in
from store.models import Cashier


class SignIn(NamedTuple):
    """The store's answer to a code and PIN (a store.cashiers.SignInAnswer), and whether any cashier is left."""

    answer: Any
    cashiers_left: bool


def active_cashiers_exist() -> bool:
    """True when at least one active cashier is in the store: the till then asks who sells."""

    return Cashier.select().where(Cashier.active == True).exists()  # noqa: E712


def check_sign_in(code: str, pin: str, till_id: str, settings: Any) -> SignIn:
    """Check a cashier's code and PIN under the [signin] lock rules; store work (a refusal is an event)."""

    answer = sign_in(code, pin, till_id, settings.lock_attempts, settings.lock_minutes)
    return SignIn(answer, answer.cashier is not None or active_cashiers_exist())


def manager_code_for_pin(pin: str) -> Optional[str]:
    """The code of the active manager whose PIN this is, or None; store work (every manager's hash is tried)."""

    manager = check_manager(pin)
    return None if manager is None else manager.code
