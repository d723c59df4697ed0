"""`chaoying cashiers add|list`: cashiers and managers, on a real SQLite file."""
from __future__ import annotations

import json

from tests.cli.helpers import one_line


def test_add_a_manager_and_a_cashier_then_list_them(shop):
    assert "added manager M1" in shop.ok("cashiers", "add", "--code", "M1", "--name", "王店长",
                                         "--pin-stdin", "--manager", input="4321\n").stdout
    assert "added cashier C1" in shop.ok("cashiers", "add", "--code", "C1", "--name", "小李", "--pin-stdin",
                                         input="1111\n").stdout
    listed = json.loads(shop.ok("cashiers", "list", "--json").stdout)
    assert listed == [
        {"code": "C1", "name": "小李", "manager": False, "active": True},
        {"code": "M1", "name": "王店长", "manager": True, "active": True},
    ]
    pin_hash = shop.sql("select pin_hash from cashier where code = 'M1'")[0][0]
    assert "4321" not in pin_hash and pin_hash.startswith("pbkdf2_sha256$")


def test_bad_cashier_input_is_one_sentence_and_changes_nothing(shop):
    shop.ok("cashiers", "add", "--code", "M1", "--name", "王店长", "--pin-stdin", "--manager", input="4321\n")
    for args, pin, words in (
        (("--code", "M1", "--name", "别人"), "9999", "already taken"),
        (("--code", "C2", "--name", "小王"), "12", "at least 4"),
    ):
        result = shop.run("cashiers", "add", *args, "--pin-stdin", input=pin + "\n")
        assert result.returncode == 2
        assert words in one_line(result.stderr)
    assert shop.sql("select count(*) from cashier")[0][0] == 1
