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


MIN_PIN_LENGTH = 4  # the floor under the [signin] settings: no PIN is ever shorter


class PinLengths(NamedTuple):
    """The fewest characters a new PIN may have, by role ([signin] min_pin_length, manager_min_pin_length)."""

    cashier: int = MIN_PIN_LENGTH
    manager: int = MIN_PIN_LENGTH

    def of(self, manager: bool) -> int:
        """The minimum for a manager (``manager`` true) or a cashier, never below MIN_PIN_LENGTH."""
        return max(MIN_PIN_LENGTH, self.manager if manager else self.cashier)


FLOOR = PinLengths()  # what the store alone asks; the till and the CLI pass the [signin] settings


def check_pin_length(pin: str, manager: bool, lengths: PinLengths) -> None:
    """Refuse, in one sentence, a new PIN shorter than its role's minimum."""
    minimum = lengths.of(manager)
    if len(pin or "") < minimum:
        whose = "A manager's PIN" if manager else "A PIN"
        raise CashierError(f"{whose} needs at least {minimum} characters.", "pin_short", min=minimum)


def pin_is_short(pin: str, cashier: Cashier, lengths: PinLengths) -> int:
    """The minimum a PIN that was just accepted falls short of (a PIN set before the rule), else 0."""
    minimum = lengths.of(bool(cashier.manager))
    return minimum if len(pin or "") < minimum else 0


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


def add_cashier(code: str, name: str, pin: str, manager: bool = False,
                lengths: PinLengths = FLOOR) -> Cashier:
    """Create a cashier (a manager with ``manager=True``); the PIN needs its role's ``lengths``."""
    check_cashier_text(code, name)
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 16:
        raise CashierError("A cashier code needs 1 to 16 characters.", "cashier_code_length")
    if not name:
        raise CashierError("A cashier needs a name.", "cashier_name_empty")
    check_pin_length(pin, manager, lengths)
    pin_hash = hash_pin(pin)  # slow on purpose: before the write lock, not while holding it
    with write_transaction():
        if Cashier.select().where(Cashier.code == code).exists():
            raise CashierError(f"Cashier code {code} is already taken.", "cashier_code_taken", cashier=code)
        return Cashier.create(code=code, name=name, pin_hash=pin_hash, manager=bool(manager))


def set_pin(code: str, pin: str, lengths: PinLengths = FLOOR) -> None:
    """Replace a cashier's PIN; the new one needs the cashier's role's ``lengths``."""
    cashier = Cashier.get_or_none(Cashier.code == code)
    if cashier is None:
        raise CashierError(f"There is no cashier with code {code}.", "unknown_cashier", cashier=code)
    check_pin_length(pin, bool(cashier.manager), lengths)
    pin_hash = hash_pin(pin)  # before the write lock
    updated = Cashier.update(pin_hash=pin_hash).where(Cashier.code == code).execute()
    if not updated:
        raise CashierError(f"There is no cashier with code {code}.", "unknown_cashier", cashier=code)


def _same_time(pin: str) -> None:
    """Spend the time a PIN check takes, so a refusal without one (no such code, a lock) is not told apart."""
    verify_pin(pin, hash_pin("x", salt=b"0" * SALT_BYTES))


def check_cashier(code: str, pin: str) -> Optional[Cashier]:
    """The active cashier with ``code`` if ``pin`` is right, else None."""
    cashier = Cashier.get_or_none((Cashier.code == code) & (Cashier.active == True))  # noqa: E712
    if cashier is None:
        _same_time(pin)
        return None
    return cashier if verify_pin(pin, cashier.pin_hash) else None


def cashier_code(cashier) -> str:
    """The code to record for ``cashier`` (a Cashier, a code string or None)."""
    if cashier is None:
        return ""
    if isinstance(cashier, Cashier):
        return cashier.code
    return str(getattr(cashier, "code", cashier))


# ---------------------------------------------------------------- a code and PIN, with a lock after wrong PINs
#
# Sign-in and the manager prompt ask the same rule (check_with_lock): wrong PINs for one code are counted
# in a row across both, and a locked code is locked for both. Counted from the event log, so the count and
# the lock survive a restart of the till.

SIGN_IN = "sign_in"  # written by the till once a cashier signs in: it ends a run of wrong PINs
SIGN_IN_REFUSED = "sign_in_refused"  # a wrong code or PIN at sign-in
SIGN_IN_LOCKED = "sign_in_locked"  # a code locked, for sign-in and the manager prompt alike
PIN_REFUSED = "pin_refused"  # a wrong code or PIN at the manager prompt, or a code that is no manager's
MANAGER_APPROVED = "manager_approved"  # a manager's code and PIN allowed something: it ends a run too
LOCKED_REFUSED = "locked_refused"  # a locked code was tried: refused, not counted (the lock is on)
PIN_SHORT = "pin_short"  # a PIN shorter than its role's minimum was used (set before the rule)
_WRONG = (SIGN_IN_REFUSED, PIN_REFUSED)
_RUN = (SIGN_IN, MANAGER_APPROVED, SIGN_IN_REFUSED, PIN_REFUSED, SIGN_IN_LOCKED)


class LockRule(NamedTuple):
    """[signin] lock_attempts wrong PINs in a row lock a code for lock_minutes."""

    attempts: int
    minutes: int


class SignInAnswer(NamedTuple):
    cashier: Optional[Cashier]  # signed in (or approving), or None
    locked_until: Optional[datetime.datetime] = None  # the code is locked (now or by this attempt) until then
    not_manager: bool = False  # the manager prompt: the code is an active cashier's who is no manager


def _recent(code: str, count: int) -> List[Event]:
    """The newest events of one code that make or end a run of wrong PINs, newest first."""
    return list(Event.select().where((Event.kind.in_(_RUN)) & (Event.cashier == code))
                .order_by(Event.id.desc()).limit(count))


def locked_until(code: str, minutes: int) -> Optional[datetime.datetime]:
    """When the lock on ``code`` ends, or None when the code is not locked now."""
    lock = (Event.select().where((Event.kind == SIGN_IN_LOCKED) & (Event.cashier == code))
            .order_by(Event.id.desc()).first())
    if lock is None:
        return None
    until = lock.at + datetime.timedelta(minutes=minutes)
    return until if now() < until else None


def _because(why: str) -> str:
    return f" ({why})" if why else ""


def check_with_lock(code: str, pin: str, till_id: str, rule: LockRule, refused: str, why: str = "") -> SignInAnswer:
    """The rule of a code and PIN: a locked code is refused (an event); each wrong PIN is a ``refused`` event;
    ``rule.attempts`` in a row lock the code for ``rule.minutes`` (an event too). A code that is no cashier's
    is never written down (a PIN typed in the wrong field): "an unknown code"."""
    until = locked_until(code, rule.minutes)
    if until is not None:
        _same_time(pin)
        audit.add_event(till_id, cashier=code[:16], kind=LOCKED_REFUSED,
                        detail=f"code {code!r} is locked{_because(why)}")
        return SignInAnswer(None, until)
    cashier = check_cashier(code, pin)
    if cashier is not None:
        return SignInAnswer(cashier)
    if not Cashier.select().where(Cashier.code == code).exists():
        # what was typed is no cashier's code: it may be a PIN typed in the code field, so it is never
        # stored; there is no account to lock either
        audit.add_event(till_id, kind=refused, detail="wrong code or PIN for an unknown code" + _because(why))
        return SignInAnswer(None)
    return _wrong_pin(code, till_id, rule, refused, why)


def _wrong_pin(code: str, till_id: str, rule: LockRule, refused: str, why: str) -> SignInAnswer:
    """One wrong PIN for a known code: an event, and the lock when it makes ``rule.attempts`` in a row."""
    with write_transaction():
        audit.add_event(till_id, cashier=code[:16], kind=refused, detail=f"wrong PIN for code {code!r}{_because(why)}")
        recent = _recent(code, rule.attempts)
        if len(recent) < rule.attempts or any(e.kind not in _WRONG for e in recent):
            return SignInAnswer(None)
        locked = audit.add_event(till_id, cashier=code[:16], kind=SIGN_IN_LOCKED,
                                 detail=f"{rule.attempts} wrong PINs in a row: code {code!r} locked "
                                        f"for {rule.minutes} minutes")
    return SignInAnswer(None, locked.at + datetime.timedelta(minutes=rule.minutes))


def sign_in(code: str, pin: str, till_id: str, lock_attempts: int, lock_minutes: int) -> SignInAnswer:
    """Check a cashier's code and PIN at sign-in, under the lock rule (``check_with_lock``)."""
    return check_with_lock(code, pin, str(till_id), LockRule(lock_attempts, lock_minutes), SIGN_IN_REFUSED)


def approve(code: str, pin: str, till_id: str, rule: LockRule, why: str = "") -> SignInAnswer:
    """Check a manager's code and PIN at the manager prompt, under the same lock rule as sign-in.

    Only that code's PIN is tried. An active cashier's code that is no manager's is refused (an event)
    without trying its PIN; an approval is an event (``why``: what it allows), which ends a run of wrong PINs.
    """
    till_id = str(till_id)
    cashier = Cashier.get_or_none((Cashier.code == code) & (Cashier.active == True))  # noqa: E712
    if cashier is not None and not cashier.manager:
        audit.add_event(till_id, kind=PIN_REFUSED, detail=f"code {code!r} is not a manager's{_because(why)}")
        return SignInAnswer(None, not_manager=True)
    answer = check_with_lock(code, pin, till_id, rule, PIN_REFUSED, why)
    if answer.cashier is not None:
        audit.add_event(till_id, cashier=code[:16], kind=MANAGER_APPROVED, detail=why)
    return answer
