"""Cashier PINs are stored as salted slow hashes, never in plain text."""
from __future__ import annotations

import pytest

from store import cashiers
from store.models import Cashier


def test_hash_format_and_verify():
    stored = cashiers.hash_pin("1234")
    algorithm, iterations, salt, digest = stored.split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) >= 100_000
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert "1234" not in stored
    assert cashiers.verify_pin("1234", stored)
    assert not cashiers.verify_pin("1235", stored)
    assert not cashiers.verify_pin("", stored)


def test_same_pin_gets_a_different_salt():
    assert cashiers.hash_pin("1234") != cashiers.hash_pin("1234")


@pytest.mark.parametrize("stored", ["", "1234", "md5$1$00$00", "pbkdf2_sha256$x$00$00", "pbkdf2_sha256$1$zz$00", None])
def test_malformed_hash_never_verifies(stored):
    assert cashiers.verify_pin("1234", stored) is False


def test_cashier_stored_without_plain_pin(database):
    cashiers.add_cashier("c1", "王芳", "8642")
    row = Cashier.get(Cashier.code == "c1")
    assert "8642" not in row.pin_hash
    assert cashiers.check_cashier("c1", "8642").name == "王芳"
    assert cashiers.check_cashier("c1", "0000") is None
    assert cashiers.check_cashier("nobody", "8642") is None
    cashiers.set_pin("c1", "1111")
    assert cashiers.check_cashier("c1", "1111") is not None
    assert cashiers.check_cashier("c1", "8642") is None


def test_cashier_validation(database):
    cashiers.add_cashier("c1", "王芳", "8642")
    for code, name, pin in (("c1", "x", "1234"), ("", "x", "1234"), ("c2", "", "1234"), ("c2", "x", "12")):
        with pytest.raises(cashiers.CashierError):
            cashiers.add_cashier(code, name, pin)
    assert Cashier.select().count() == 1


def test_a_new_pin_shorter_than_its_roles_minimum_is_refused_in_one_sentence(database):
    lengths = cashiers.PinLengths(cashier=5, manager=6)  # [signin] min_pin_length, manager_min_pin_length
    with pytest.raises(cashiers.CashierError, match=r"^A PIN needs at least 5 characters\.$"):
        cashiers.add_cashier("c1", "王芳", "1234", lengths=lengths)
    with pytest.raises(cashiers.CashierError, match=r"^A manager's PIN needs at least 6 characters\.$") as refused:
        cashiers.add_cashier("m1", "李经理", "12345", manager=True, lengths=lengths)
    assert (refused.value.code, refused.value.values["min"]) == ("pin_short", 6)
    assert Cashier.select().count() == 0
    cashiers.add_cashier("c1", "王芳", "12345", lengths=lengths)
    cashiers.add_cashier("m1", "李经理", "123456", manager=True, lengths=lengths)
    with pytest.raises(cashiers.CashierError, match="manager's PIN needs at least 6"):
        cashiers.set_pin("m1", "12345", lengths=lengths)  # a new PIN follows the cashier's role
    cashiers.set_pin("c1", "54321", lengths=lengths)
    assert cashiers.check_cashier("m1", "123456") is not None  # the refused PIN changed nothing


def test_no_setting_goes_below_the_stores_floor(database):
    with pytest.raises(cashiers.CashierError, match="at least 4"):
        cashiers.add_cashier("c1", "王芳", "123", lengths=cashiers.PinLengths(1, 1))
