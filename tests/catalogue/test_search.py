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


def test_nothing_typed_browses_the_catalogue_in_pinyin_order(shop):
    """F2 on an empty entry: the active products, the first ``limit`` of them by pinyin, not nothing."""
    from store.pinyin import name_keys

    catalogue.set_active("6902538005141", False)  # 农夫山泉: not sold any more, not listed
    listed = [p["name"] for p in catalogue.browse_products(limit=50)]
    active = [name for barcode, name, _, _ in CATALOGUE if barcode != "6902538005141"]
    assert listed == sorted(active, key=lambda name: name_keys(name).pinyin)
    assert [p["name"] for p in catalogue.browse_products(limit=3)] == listed[:3]
    assert catalogue.browse_products(limit=0) == []


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


# ---------------------------------------------------------------- pinyin from any syllable

MORE = [("15", "青岛啤酒", 450, "瓶"), ("16", "蒙牛纯牛奶", 600, "盒"), ("17", "乐事薯片", 700, "袋")]


@pytest.fixture
def more(shop):
    for barcode, name, price, unit in MORE:
        catalogue.add_product(barcode, name, price, unit)
    return shop


def test_keys_from_each_later_syllable():
    keys = name_keys("青岛啤酒")
    assert {"daopij", "pijiu", "jiu", "dpj", "pj", "j"} <= set(keys.suffixes)   # cut to SUFFIX_MAX letters
    assert "jdpj" in keys.alternatives and "dpj" in keys.suffixes   # 青 also read jing: the rest is the same
    assert "qingdaopijiu" not in keys.suffixes and "ngdao" not in "".join(keys.suffixes)
    assert not any(s.startswith("330") or s.startswith("ml") for s in name_keys("可口可乐 330ml").suffixes)
    assert {"hqt", "qt"} <= set(name_keys("银行卡套").suffixes)  # suffixes of the other readings too


def test_pinyin_and_initials_from_any_syllable_find_the_name(more):
    assert names("pijiu") == ["青岛啤酒"]
    assert names("pj") == ["青岛啤酒"]
    assert names("jiu") == ["青岛啤酒"]
    assert names("kele") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("niunai") == ["蒙牛纯牛奶"]
    assert names("NiuNai") == ["蒙牛纯牛奶"]
    assert names("qt") == ["银行卡套"]                      # initials of 卡套 read qia tao


def test_a_later_syllable_typed_longer_than_a_key(more):
    from store.pinyin import SUFFIX_MAX

    catalogue.add_product("18", "康师傅红烧牛肉面", 450, "袋")
    catalogue.add_product("19", "康师傅红烧排骨面", 450, "袋")
    assert len("hongshao") > SUFFIX_MAX
    assert names("hongshaoniuroumian") == ["康师傅红烧牛肉面"]
    assert names("hongshao") == ["康师傅红烧牛肉面", "康师傅红烧排骨面"]
    assert names("hongshaoniuroumianx") == [] and names("hongshaopaigumian") == ["康师傅红烧排骨面"]


def test_a_fragment_across_syllables_finds_nothing_unrelated(more):
    assert set(names("ngdao")) <= {"青岛啤酒"}
    assert names("ngdao") == []                           # a syllable boundary is where a key starts
    assert names("jiukele") == [] and names("pijiuxx") == []


def test_the_start_of_a_name_comes_before_the_middle(more):
    assert names("le") == ["乐事薯片", "可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("ls")[0] == "乐事薯片"
    assert names("k") [:2] == ["可口可乐 330ml", "可口可乐 零度 500ml"]


def test_products_saved_by_an_older_version_get_the_new_keys(more):
    from store.models import ProductKey

    # what an older version saved: no keys from later syllables, no version key
    ProductKey.delete().where(ProductKey.kind.in_(["s", "v"])).execute()
    assert names("pijiu") == [] and names("kele") == []
    assert len(catalogue.stale_products()) == len(CATALOGUE) + len(MORE)
    assert catalogue.refresh_keys() == len(CATALOGUE) + len(MORE)
    assert names("pijiu") == ["青岛啤酒"] and names("kele") == ["可口可乐 330ml", "可口可乐 零度 500ml"]
    assert names("niunai") == ["蒙牛纯牛奶"]
    assert catalogue.stale_products() == [] and catalogue.refresh_keys() == 0   # once only


def test_a_product_renamed_by_an_older_version_is_renewed_alone(more):
    from store.models import Product, ProductKey

    beer = Product.get(Product.barcode == "15")
    ProductKey.delete().where(ProductKey.product == beer.id).execute()
    ProductKey.insert(kind="n", key="啤酒", product=beer.id).execute()
    assert catalogue.stale_products() == [beer.id]
    assert catalogue.refresh_keys() == 1 and names("pijiu") == ["青岛啤酒"]


def test_a_refresh_cancelled_between_batches_is_finished_by_the_next_one(more, monkeypatch):
    from store.models import ProductKey

    monkeypatch.setattr(catalogue, "BATCH", 5)
    ProductKey.delete().where(ProductKey.kind.in_(["s", "v"])).execute()
    asked = []
    assert catalogue.refresh_keys(cancelled=lambda: asked.append(1) or len(asked) > 1) == 5
    assert len(catalogue.stale_products()) == len(CATALOGUE) + len(MORE) - 5
    assert catalogue.refresh_keys() == len(CATALOGUE) + len(MORE) - 5
    assert names("niunai") == ["蒙牛纯牛奶"]


def test_never_more_results_than_asked_for(more):
    catalogue.add_product("18", "崂山啤酒", 400, "瓶")
    catalogue.add_product("19", "雪花啤酒", 400, "瓶")
    assert len(catalogue.search_products("pj", limit=2)) == 2      # three match, keys of one may match twice
    assert len(catalogue.search_products("j", limit=1)) == 1
