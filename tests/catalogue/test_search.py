"""Search as the cashier types: part of a name, pinyin, initials, other readings, code prefix."""
from __future__ import annotations

import pytest

from store import catalogue
from store.pinyin import name_keys, search_key

CATALOGUE = [
    ("6901234567892", "可口可乐 330ml", 300, "瓶"),
    ("6901234567908", "可口可乐 零度 500ml", 350, "瓶"),
    ("6902538005141", "农夫山泉 550ml", 200, "瓶"),
    ("6920202888883", "旺旺雪饼 84g", 650, "包"),
    ("6925303721367", "统一冰红茶 500ml", 300, "瓶"),
    ("6954767410388", "Oreo 奥利奥 97g", 890, "包"),
    ("1", "苹果", 890, "斤"),
    ("12", "重庆小面", 1200, "碗"),
    ("13", "银行卡套", 500, "个"),
    ("14", "长柄伞", 3500, "把"),
]


@pytest.fixture
def shop(any_db):
    from store.gs1 import check_digit_ok

    for barcode, name, price, unit in CATALOGUE:
        assert len(barcode) < 8 or check_digit_ok(barcode), barcode
        catalogue.add_product(barcode, name, price, unit)
    return any_db


def names(text, limit=20):
    return [p["name"] for p in catalogue.search_products(text, limit=limit)]


def test_name_keys_are_computed_once_on_save():
    keys = name_keys("可口可乐 330ml")
    assert (keys.pinyin, keys.initials) == ("kekoukele330ml", "kkkl3")
    assert name_keys("重庆小面")[:2] == ("chongqingxiaomian", "cqxm")  # a phrase: 重 read chong, not zhong
    assert name_keys("银行卡套")[:2] == ("yinhangkatao", "yhkt")       # 银行: hang, not xing
    assert "yhqt" in name_keys("银行卡套").alternatives                  # 卡 alone may be read qia
    assert search_key(" Ke Kou ") == "kekou" and search_key("ＫＫＫＬ") == "kkkl"


def test_initials_find_coca_cola(shop):
    assert names("kkkl") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("KKKL") == names("kkkl")


def test_full_pinyin_prefix(shop):
    assert names("kekou") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("nongfu") == ["农夫山泉 550ml"]
    assert names("chongqing") == ["重庆小面"]


def test_part_of_the_name(shop):
    assert names("可乐") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("零度") == ["可口可乐 零度 500ml"]
    assert names("雪") == ["旺旺雪饼 84g"]
    assert names("oreo") == ["Oreo 奥利奥 97g"]
    assert names("奥利奥 97") == ["Oreo 奥利奥 97g"]   # every word must be there
    assert names("小面条") == []


def test_code_prefix_and_plu(shop):
    assert names("69012") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("1") [:4] == ["苹果", "重庆小面", "银行卡套", "长柄伞"]   # PLU 1, then 12, 13, 14
    assert names("6902538005141") == ["农夫山泉 550ml"]


def test_other_readings_of_a_polyphone_also_find_it(shop):
    assert names("yhkt") == ["银行卡套"]
    assert names("yhqt") == ["银行卡套"]


def test_inactive_products_are_not_found(shop):
    catalogue.set_active("6902538005141", False)
    assert names("nongfu") == [] and names("农夫") == [] and names("690253") == []


def test_results_are_limited_and_best_first(shop):
    assert len(catalogue.search_products("6", limit=3)) == 3
    found = catalogue.search_products("1")
    assert found[0] == {"id": found[0]["id"], "barcode": "1", "name": "苹果", "price_fen": 890,
                        "price": "8.90", "unit": "斤"}
    assert catalogue.search_products("   ") == []


def test_reindex_rebuilds_every_key(shop):
    from store.models import Product, ProductKey

    ProductKey.delete().execute()
    Product.update(pinyin="", initials="").execute()
    assert names("kkkl") == [] and names("可乐") == []
    assert catalogue.reindex() == len(CATALOGUE)
    assert names("kkkl") == ["可口可乐 330ml", "可口可乐 零度 500ml"] and len(names("可乐")) == 2


def test_find_active_is_exact_and_skips_inactive(shop):
    assert catalogue.find_active("1").name == "苹果"
    assert catalogue.find_active("1").price_fen == 890
    assert catalogue.find_active("6901") is None
    catalogue.set_active("1", False)
    assert catalogue.find_active("1") is None
