"""Sign-in and the manager's PIN, as the till's screens ask them: a real SQLite file, no screen."""
from __future__ import annotations

import datetime

from store.cashiers import SIGN_IN_LOCKED, SIGN_IN_REFUSED, add_cashier
from store.models import Cashier, Event
from tui.services.cashiers import (
    LOCKED,
    NOT_MANAGER,
    WRONG,
    active_cashiers_exist,
    check_approval,
    check_sign_in,
    minutes_left,
)
from tui.settings import SignInSettings

LOCK = SignInSettings(lock_attempts=2, lock_minutes=5)  # [signin]: two wrong PINs in a row lock a code


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


def kinds(code: str):
    return [e.kind for e in Event.select().where(Event.cashier == code).order_by(Event.id)]


def later(minutes: int) -> None:
    """Every event happened ``minutes`` earlier: a lock's time passes."""
    for event in Event.select():
        Event.update(at=event.at - datetime.timedelta(minutes=minutes, seconds=1)).where(Event.id == event.id).execute()


def managers() -> None:
    add_cashier("01", "王芳", "1234")
    add_cashier("M1", "李经理", "654321", manager=True)
    add_cashier("M2", "赵经理", "135790", manager=True)


def test_only_an_active_managers_code_with_its_own_pin_approves(sqlite_database):
    managers()
    assert check_approval("M1", "654321", "1", LOCK, "a refund").manager == "M1"
    assert check_approval("M1", "135790", "1", LOCK).refused == WRONG  # M2's PIN: only M1's is tried
    assert check_approval("01", "1234", "1", LOCK).refused == NOT_MANAGER  # a cashier's code and PIN
    Cashier.update(active=False).where(Cashier.code == "M2").execute()
    assert check_approval("M2", "135790", "1", LOCK).refused == WRONG
    approved = Event.get(Event.kind == "manager_approved")
    assert (approved.cashier, approved.detail) == ("M1", "a refund")  # who allowed what


def test_wrong_pins_at_the_manager_prompt_lock_that_code_for_approvals_and_sign_in(sqlite_database):
    """Two wrong PINs for M1: M1 is locked (even its right PIN, at the prompt and at sign-in), M2 still
    approves; each refusal is an event; once the lock's minutes pass M1 approves again."""
    managers()
    assert check_approval("M1", "000000", "1", LOCK).refused == WRONG
    locked = check_approval("M1", "111111", "1", LOCK)
    assert (locked.refused, locked.minutes_left) == (LOCKED, 5)
    assert check_approval("M1", "654321", "1", LOCK).refused == LOCKED  # the right PIN waits too
    assert check_sign_in("M1", "654321", "1", LOCK).answer.cashier is None  # one lock for both
    assert check_approval("M2", "135790", "1", LOCK).manager == "M2"  # another manager is not locked
    assert kinds("M1") == ["pin_refused", "pin_refused", SIGN_IN_LOCKED, "locked_refused", "locked_refused"]
    assert all("000000" not in e.detail and "111111" not in e.detail for e in Event.select())  # never a PIN
    later(5)
    assert check_approval("M1", "654321", "1", LOCK).manager == "M1"


def test_sign_in_and_the_manager_prompt_count_wrong_pins_together_and_an_approval_ends_a_run(sqlite_database):
    managers()
    assert check_approval("M1", "000000", "1", LOCK).refused == WRONG
    assert check_approval("M1", "654321", "1", LOCK).manager == "M1"  # ends the run
    assert check_sign_in("M1", "000000", "1", LOCK).answer.locked_until is None  # one wrong in a row
    assert check_approval("M1", "000000", "1", LOCK).refused == LOCKED  # two, at sign-in and the prompt
    assert kinds("M1")[-3:] == [SIGN_IN_REFUSED, "pin_refused", SIGN_IN_LOCKED]


def test_an_unknown_code_is_refused_and_never_written_down(sqlite_database):
    """A PIN typed in the code field is no cashier's code: the event says "an unknown code", not what was typed."""
    managers()
    for _ in range(3):
        assert check_approval("654321", "654321", "1", LOCK, "a void").refused == WRONG
    refused = list(Event.select().where(Event.kind == "pin_refused"))
    assert len(refused) == 3 and not Event.select().where(Event.kind == SIGN_IN_LOCKED).exists()
    assert all(e.cashier == "" and "654321" not in e.detail and "unknown code" in e.detail for e in refused)
    assert check_approval("M1", "654321", "1", LOCK).manager == "M1"


def test_a_lock_says_whole_minutes_left_never_zero():
    until = datetime.datetime(2024, 5, 31, 12, 5, 0)
    assert minutes_left(until, datetime.datetime(2024, 5, 31, 12, 0, 0)) == 5
    assert minutes_left(until, datetime.datetime(2024, 5, 31, 12, 0, 59)) == 5
    assert minutes_left(until, datetime.datetime(2024, 5, 31, 12, 1, 0)) == 4
    assert minutes_left(until, datetime.datetime(2024, 5, 31, 12, 4, 59, 500000)) == 1


def test_a_pin_set_before_the_rule_still_works_and_is_logged_for_the_owner(sqlite_database):
    """A manager's 4-digit PIN (set before manager_min_pin_length) approves and signs in; each use says so."""
    add_cashier("M9", "老店长", "4321", manager=True)  # the store's floor is 4: an older shop's manager
    approved = check_approval("M9", "4321", "1", LOCK)
    assert (approved.manager, approved.short_pin) == ("M9", 6)
    assert check_sign_in("M9", "4321", "1", LOCK).short_pin == 6
    assert check_approval("M9", "4321", "1", SignInSettings(manager_min_pin_length=4)).short_pin == 0
    shorts = list(Event.select().where(Event.kind == "pin_short"))
    assert len(shorts) == 2 and all(e.cashier == "M9" and "4321" not in e.detail for e in shorts)
