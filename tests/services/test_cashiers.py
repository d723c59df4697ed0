"""Sign-in and the manager's PIN, as the till's screens ask them: a real SQLite file, no screen."""
from __future__ import annotations

from types import SimpleNamespace

from store.cashiers import SIGN_IN_LOCKED, SIGN_IN_REFUSED, add_cashier
from store.models import Cashier, Event
from tui.services.cashiers import active_cashiers_exist, check_sign_in, manager_code_for_pin

LOCK = SimpleNamespace(lock_attempts=2, lock_minutes=5)  # the [signin] section's two fields


def test_a_shop_asks_who_sells_only_while_an_active_cashier_is_stored(sqlite_database):
    assert active_cashiers_exist() is False
    add_cashier("01", "王芳", "1234")
    assert active_cashiers_exist() is True
    Cashier.update(active=False).where(Cashier.code == "01").execute()
    assert active_cashiers_exist() is False


def test_the_right_pin_signs_in_a_wrong_one_is_an_event_and_two_lock_the_code(sqlite_database):
    add_cashier("01", "王芳", "1234")
    signed = check_sign_in("01", "1234", "1", LOCK)
    assert signed.answer.cashier.code == "01" and signed.cashiers_left is True
    wrong = check_sign_in("01", "9999", "1", LOCK)
    assert (wrong.answer.cashier, wrong.answer.locked_until, wrong.cashiers_left) == (None, None, True)
    assert [e.kind for e in Event.select().where(Event.cashier == "01")] == [SIGN_IN_REFUSED]
    locked = check_sign_in("01", "9999", "1", LOCK)
    assert locked.answer.cashier is None and locked.answer.locked_until is not None
    assert check_sign_in("01", "1234", "1", LOCK).answer.cashier is None  # locked: even the right PIN waits
    assert Event.select().where(Event.kind == SIGN_IN_LOCKED).count() == 1


def test_a_refusal_says_when_no_active_cashier_is_left(sqlite_database):
    add_cashier("01", "王芳", "1234")
    Cashier.update(active=False).where(Cashier.code == "01").execute()  # deactivated while the sign-in showed
    refused = check_sign_in("01", "1234", "1", LOCK)
    assert refused.answer.cashier is None and refused.cashiers_left is False


def test_only_an_active_managers_pin_names_a_manager(sqlite_database):
    add_cashier("01", "王芳", "1234")
    add_cashier("M1", "李经理", "4321", manager=True)
    assert manager_code_for_pin("4321") == "M1"
    assert manager_code_for_pin("1234") is None  # a cashier's PIN is not a manager's
    Cashier.update(active=False).where(Cashier.code == "M1").execute()
    assert manager_code_for_pin("4321") is None
