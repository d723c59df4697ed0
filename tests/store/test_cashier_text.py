"""Cashier codes and names refuse control characters by the rule product names follow (store.text)."""
from __future__ import annotations

import pytest

from store import cashiers, catalogue, text
from store.models import Cashier

DRAWER_KICK = "a\x1bp\x00\x19b"  # ESC p 0 25: opens the cash drawer when it reaches the printer
CLEAR_SCREEN = "a\x1b[2Jb"


def test_products_and_cashiers_share_one_rule():
    assert catalogue.control_problem is text.control_problem


@pytest.mark.parametrize("bad", [CLEAR_SCREEN, DRAWER_KICK, "a\tb", "a\x7fb", "a\x9bb"])
@pytest.mark.parametrize("field", ["code", "name"])
def test_a_control_character_in_a_code_or_name_is_refused_and_nothing_is_stored(database, field, bad):
    values = {"code": "C1", "name": "小李", field: bad}
    with pytest.raises(cashiers.CashierError) as refused:
        cashiers.add_cashier(values["code"], values["name"], "1234")
    assert refused.value.code == "cashier_control_character" and refused.value.values == {"field": field}
    assert f"the {field} holds the control character U+" in str(refused.value)
    assert Cashier.select().count() == 0


def test_a_plain_name_with_chinese_and_spaces_is_kept(database):
    assert cashiers.add_cashier(" C1 ", " 王 芳 ", "1234").name == "王 芳"
