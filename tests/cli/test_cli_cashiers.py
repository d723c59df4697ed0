"""`chaoying cashiers add|list`: cashiers and managers, on a real SQLite file."""
from __future__ import annotations

import json
import re

from tests.cli.helpers import one_line


def test_add_a_manager_and_a_cashier_then_list_them(shop):
    assert "added manager M1" in shop.ok("cashiers", "add", "--code", "M1", "--name", "王店长",
                                         "--pin-stdin", "--manager", input="654321\n").stdout
    assert "added cashier C1" in shop.ok("cashiers", "add", "--code", "C1", "--name", "小李", "--pin-stdin",
                                         input="1111\n").stdout
    listed = json.loads(shop.ok("cashiers", "list", "--json").stdout)
    assert listed == [
        {"code": "C1", "name": "小李", "manager": False, "active": True},
        {"code": "M1", "name": "王店长", "manager": True, "active": True},
    ]
    pin_hash = shop.sql("select pin_hash from cashier where code = 'M1'")[0][0]
    assert "654321" not in pin_hash and pin_hash.startswith("pbkdf2_sha256$")


def test_bad_cashier_input_is_one_sentence_and_changes_nothing(shop):
    shop.ok("cashiers", "add", "--code", "M1", "--name", "王店长", "--pin-stdin", "--manager", input="654321\n")
    for args, pin, words in (
        (("--code", "M1", "--name", "别人"), "9999", "already taken"),
        (("--code", "C2", "--name", "小王"), "12", "A PIN needs at least 4 characters"),
        (("--code", "M2", "--name", "李店长", "--manager"), "12345",
         "A manager's PIN needs at least 6 characters"),  # [signin] manager_min_pin_length
    ):
        result = shop.run("cashiers", "add", *args, "--pin-stdin", input=pin + "\n")
        assert result.returncode == 2
        assert words in one_line(result.stderr)
    assert shop.sql("select count(*) from cashier")[0][0] == 1


def test_the_minimum_pin_lengths_are_settings(shop):
    """[signin] min_pin_length and manager_min_pin_length: a shorter new PIN is refused in one sentence."""
    text = shop.config.read_text(encoding="utf-8")  # `chaoying init` wrote the default file
    text = re.sub(r"(?m)^min_pin_length = 4", "min_pin_length = 5", text)
    text = re.sub(r"(?m)^manager_min_pin_length = 6", "manager_min_pin_length = 8", text)
    shop.config.write_text(text, encoding="utf-8")
    for args, pin, words in (
        (("--code", "C1", "--name", "小李"), "1111", "A PIN needs at least 5 characters"),
        (("--code", "M1", "--name", "王店长", "--manager"), "7654321", "A manager's PIN needs at least 8 characters"),
    ):
        result = shop.run("cashiers", "add", *args, "--pin-stdin", input=pin + "\n")
        assert result.returncode == 2 and words in one_line(result.stderr)
    assert shop.sql("select count(*) from cashier")[0][0] == 0
    shop.ok("cashiers", "add", "--code", "C1", "--name", "小李", "--pin-stdin", input="11111\n")
    shop.ok("cashiers", "add", "--code", "M1", "--name", "王店长", "--pin-stdin", "--manager", input="87654321\n")
