"""`cashiers add` refuses control characters in codes and names as `products import` does (issue 25, finding 6)."""
from __future__ import annotations

import pytest

from tests.cli.helpers import one_line


@pytest.mark.parametrize("field, value", [
    ("--name", "a\x1b[2Jb"),  # $'a\e[2Jb': clears a terminal that lists cashiers
    ("--name", "a\x1bp0\x19b"),  # ESC p 0 25: a drawer kick on every receipt (argv holds no NUL)
    ("--code", "C\x1bp0\x19"),
])
def test_a_control_character_in_a_cashier_is_one_sentence_and_nothing_is_stored(shop, field, value):
    values = {"--code": "C1", "--name": "小李", field: value}
    result = shop.run("cashiers", "add", *[w for pair in values.items() for w in pair], "--pin-stdin",
                      input="2468\n")
    assert result.returncode == 2
    assert f"the {field[2:]} holds the control character U+001B at character 2" in one_line(result.stderr)
    assert shop.sql("select count(*) from cashier") == [(0,)]
