"""Cashiers and their PINs. A PIN is stored only as a salted slow hash.

Stored form: ``"pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>"``. The
iteration count travels with the hash, so it can be raised later without
breaking existing PINs. A short PIN is weak whatever the hash; the slow hash
keeps a copied database from giving PINs away at a glance.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import os
from typing import List, NamedTuple, Optional

from store import audit
from store.db import write_transaction
from store.errors import StoreError
from store.models import Cashier, Event, now
from store.text import control_problem

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 200_000
SALT_BYTES = 16


class CashierError(StoreError, ValueError):
    """Bad cashier data (code taken, PIN too short, ...): ``code``, ``values`` and one sentence."""


def hash_pin(pin: str, iterations: int = ITERATIONS, salt: Optional[bytes] = None) -> str:
    """Hash ``pin`` with a fresh random salt."""
    if not pin:
        raise CashierError("A PIN cannot be empty.", "pin_empty")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches the stored hash; False for any malformed hash."""
    try:
        algorithm, iterations, salt_hex, digest_hex = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        salt = bytes.fromhex(salt_hex)
        expected = bytes.fromhex(digest_hex)
        rounds = int(iterations)
    except (ValueError, AttributeError):
        return False
    digest = hashlib.pbkdf2_hmac("sha256", (pin or "").encode("utf-8"), salt, rounds)
    return hmac.compare_digest(digest, expected)


def check_cashier_text(code: str, name: str) -> None:
    """Refuse a code or name holding a control character, by the rule product names follow."""
    for field, text in (("code", code or ""), ("name", name or "")):
        problem = control_problem(field, text)
        if problem:
            raise CashierError(f"The cashier {problem}.", "cashier_control_character", field=field)


def add_cashier(code: str, name: str, pin: str, manager: bool = False) -> Cashier:
    """Create a cashier (a manager with ``manager=True``); the PIN must have at least 4 characters."""
    check_cashier_text(code, name)
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 16:
        raise CashierError("A cashier code needs 1 to 16 characters.", "cashier_code_length")
    if not name:
        raise CashierError("A cashier needs a name.", "cashier_name_empty")
    if len(pin or "") < 4:
        raise CashierError("A PIN needs at least 4 characters.", "pin_short", min=4)
    pin_hash = hash_pin(pin)  # slow on purpose: before the write lock, not while holding it
    with write_transaction():
        if Cashier.select().where(Cashier.code == code).exists():
            raise CashierError(f"Cashier code {code} is already taken.", "cashier_code_taken", cashier=code)
        return Cashier.create(code=code, name=name, pin_hash=pin_hash, manager=bool(manager))


def set_pin(code: str, pin: str) -> None:
    """Replace a cashier's PIN."""
    if len(pin or "") < 4:
        raise CashierError("A PIN needs at least 4 characters.", "pin_short", min=4)
    pin_hash = hash_pin(pin)  # before the write lock
    updated = Cashier.update(pin_hash=pin_hash).where(Cashier.code == code).execute()
    if not updated:
        raise CashierError(f"There is no cashier with code {code}.", "unknown_cashier", cashier=code)


def check_cashier(code: str, pin: str) -> Optional[Cashier]:
    """The active cashier with ``code`` if ``pin`` is right, else None."""
    cashier = Cashier.get_or_none((Cashier.code == code) & (Cashier.active == True))  # noqa: E712
    if cashier is None:
        verify_pin(pin, hash_pin("x", salt=b"0" * SALT_BYTES))  # same time either way
        return None
    return cashier if verify_pin(pin, cashier.pin_hash) else None


def check_manager(pin: str) -> Optional[Cashier]:
    """The active manager whose PIN this is, or None (every manager's hash is tried: same time either way)."""
    found = None
    for manager in Cashier.select().where((Cashier.active == True) & (Cashier.manager == True)):  # noqa: E712
        if verify_pin(pin, manager.pin_hash) and found is None:
            found = manager
    return found


def cashier_code(cashier) -> str:
    """The code to record for ``cashier`` (a Cashier, a code string or None)."""
    if cashier is None:
        return ""
    if isinstance(cashier, Cashier):
        return cashier.code
    return str(getattr(cashier, "code", cashier))


# ---------------------------------------------------------------- sign-in, with a lock after wrong PINs

SIGN_IN = "sign_in"
SIGN_IN_REFUSED = "sign_in_refused"
SIGN_IN_LOCKED = "sign_in_locked"


class SignInAnswer(NamedTuple):
    cashier: Optional[Cashier]  # signed in, or None
    locked_until: Optional[datetime.datetime] = None  # the code is locked (now or by this attempt) until then


def _recent(code: str, count: int) -> List[Event]:
    """The newest sign-in events of one code (sign-in, refusal, lock), newest first: the count of refusals in a row."""
    kinds = (SIGN_IN, SIGN_IN_REFUSED, SIGN_IN_LOCKED)
    return list(Event.select().where((Event.kind.in_(kinds)) & (Event.cashier == code))
                .order_by(Event.id.desc()).limit(count))


def sign_in(code: str, pin: str, till_id: str, lock_attempts: int, lock_minutes: int) -> SignInAnswer:
    """Check a code and PIN. Each wrong one is an event; ``lock_attempts`` in a row lock the code for
    ``lock_minutes`` (an event too), so the count and the lock survive a restart of the till. A code that
    is no cashier's is never written down (a PIN typed in the wrong field): "an unknown code"."""
    recent = _recent(code, 1)
    if recent and recent[0].kind == SIGN_IN_LOCKED:
        until = recent[0].at + datetime.timedelta(minutes=lock_minutes)
        if now() < until:
            verify_pin(pin, hash_pin("x", salt=b"0" * SALT_BYTES))  # same time either way
            return SignInAnswer(None, until)
    cashier = check_cashier(code, pin)
    if cashier is not None:
        return SignInAnswer(cashier)
    if not Cashier.select().where(Cashier.code == code).exists():
        # what was typed is no cashier's code: it may be a PIN typed in the code field, so it is never
        # stored; there is no account to lock either
        audit.add_event(str(till_id), kind=SIGN_IN_REFUSED, detail="wrong code or PIN for an unknown code")
        return SignInAnswer(None)
    with write_transaction():
        audit.add_event(str(till_id), cashier=code[:16], kind=SIGN_IN_REFUSED,
                     detail=f"wrong PIN for code {code!r}")
        recent = _recent(code, lock_attempts)
        if len(recent) < lock_attempts or any(e.kind != SIGN_IN_REFUSED for e in recent):
            return SignInAnswer(None)
        locked = audit.add_event(str(till_id), cashier=code[:16], kind=SIGN_IN_LOCKED,
                                 detail=f"{lock_attempts} wrong PINs in a row: code {code!r} locked "
                                        f"for {lock_minutes} minutes")
    return SignInAnswer(None, locked.at + datetime.timedelta(minutes=lock_minutes))
