"""Importing shop CSV files: encodings, bad rows by line, duplicates, all or nothing, export back."""
from __future__ import annotations

import io

import pytest

from store import catalogue
from store.catalogue import CatalogueError, import_file, read_products
from store.models import Product
from tests.catalogue.conftest import csv_bytes

SHOP_CSV = """
    条码,品名,售价,单位,库存
    6901234567892,可口可乐 330ml,3.00,瓶,24
    6902538005141,农夫山泉 550ml,2,瓶,48
    1,苹果,8.9,斤,
    """


def products():
    return {p.barcode: (p.name, p.price_fen, p.unit, p.active) for p in Product.select().order_by(Product.barcode)}


@pytest.mark.parametrize("encoding, name", [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("gbk", "GBK"), ("gb18030", "GBK"),
])
def test_encodings_are_detected(shop_db, encoding, name):
    result = import_file(csv_bytes(SHOP_CSV, encoding))
    assert result.imported and result.encoding == name
    assert (result.added, result.updated) == (3, 0)
    assert products()["6901234567892"] == ("可口可乐 330ml", 300, "瓶", True)
    assert result.ignored_columns == ["库存"]


def test_gb18030_characters_outside_gbk_survive(shop_db):
    data = csv_bytes("barcode,name,price\n7,𠮷野家 牛丼,25\n", "gb18030")
    assert import_file(data).imported
    assert products()["7"][0] == "𠮷野家 牛丼"


def test_neither_utf8_nor_gbk_names_the_line():
    with pytest.raises(CatalogueError, match="line 3"):
        read_products(b"barcode,name,price\n1,a,1\n2,\xff\xfe\xff,1\n")


def test_utf16_from_excel_says_what_to_do():
    with pytest.raises(CatalogueError, match="UTF-16"):
        read_products("barcode,name,price\n".encode("utf-16"))


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(shop_db):
    catalogue.add_product("5000", "已有", 100)
    data = csv_bytes("""
        barcode,name,price,unit
        8001,好的,1.00,个
        8002,价格错,abc,个
        8003,,2.00,个
        8004,负数,-3,个
        8001,重复,1.50,个
        8005,三位小数,1.005,个
        6901234567893,校验位错,3,个
        8006,单位太长,1,一二三四五六七八九十十一
        8007,空价格,,个
        8008,少一列,1
        """)
    result = import_file(data)
    assert not result.imported
    reasons = dict(result.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "abc" in reasons[3] and "name is empty" in reasons[4] and "negative" in reasons[5]
    assert "line 2" in reasons[6] and "1.005" in reasons[7] and "should be 2" in reasons[8]
    assert "unit" in reasons[9] and "price is empty" in reasons[10] and "fields" in reasons[11]
    assert all(reason.endswith(".") and "\n" not in reason for reason in reasons.values())
    assert list(products()) == ["5000"]


def test_keep_going_imports_the_good_rows_and_reports_the_bad(shop_db):
    data = csv_bytes("barcode,name,price\n8001,好的,1\n8002,坏的,x\n8001,重复,2\n8003,也好,3\n")
    result = import_file(data, keep_going=True)
    assert result.imported and (result.added, result.updated) == (2, 0)
    assert [line for line, _ in result.errors] == [3, 4]
    # duplicates within a file are an error: the first row stands, the second is reported
    assert products() == {"8001": ("好的", 100, "", True), "8003": ("也好", 300, "", True)}


def test_existing_barcodes_are_updated_and_price_changes_recorded(any_db):
    catalogue.add_product("9001", "旧名", 100, "个")
    catalogue.add_product("9002", "不变", 200, "个")
    data = csv_bytes("barcode,name,price,unit\n9001,新名,1.5,盒\n9002,不变,2,个\n9003,新品,3,个\n")
    result = import_file(data, changed_by="王店长")
    assert (result.added, result.updated, result.unchanged, result.price_changes) == (1, 1, 1, 1)
    assert products()["9001"] == ("新名", 150, "盒", True)
    history = catalogue.price_history("9001")
    assert [(h["old_price_fen"], h["new_price_fen"], h["changed_by"], h["source"]) for h in history] == [
        (100, 150, "王店长", "import")]
    assert history[0]["changed_at"]
    assert catalogue.price_history("9002") == []
    # the new name is searchable, the old one is gone
    assert [p["barcode"] for p in catalogue.search_products("新名")] == ["9001"]
    assert catalogue.search_products("旧名") == []


def test_a_bad_row_found_by_the_check_leaves_nothing_even_at_the_end_of_a_big_file(shop_db):
    rows = "".join(f"{10000 + i},商品{i},{i % 50 + 1}\n" for i in range(1200)) + "1,苹果,x\n"
    result = import_file(("barcode,name,price\n" + rows).encode())
    assert not result.imported and [line for line, _ in result.errors] == [1202]
    assert products() == {}


def test_thousands_of_rows_import_in_one_go_with_progress(any_db):
    data = csv_bytes("barcode,name,price,unit\n") + "".join(
        f"{catalogue_code(i)},测试商品{i} 规格{i % 7},{i % 97 + 1}.{i % 100:02d},个\n" for i in range(3000)
    ).encode()
    seen = []
    result = import_file(data, progress=lambda done, total, phase: seen.append((done, total, phase)))
    assert result.imported and result.added == 3000
    assert Product.select().count() == 3000
    assert seen[-1] == (3000, 3000, "write") and len(seen) == -(-3000 // catalogue.BATCH)
    assert [p["barcode"] for p in catalogue.search_products("测试商品2999")] == [catalogue_code(2999)]
    # importing the same file again finds nothing to change
    again = import_file(data)
    assert (again.added, again.updated, again.unchanged, again.price_changes) == (0, 0, 3000, 0)


def catalogue_code(i: int) -> str:
    from store.gs1 import with_check_digit

    return with_check_digit(f"690{i:09d}")


def test_active_column_and_export_round_trip(any_db):
    data = csv_bytes("""
        barcode,name,price,unit,active
        6901234567892,"可口可乐, 罐装",3,罐,1
        2,停售商品,1.5,个,0
        3,"引号""名字",0.5,,是
        """)
    assert import_file(data).imported
    before = products()
    assert before["2"][3] is False
    out = io.StringIO()
    assert catalogue.export_csv(out) == 3
    for encoding in ("utf-8-sig", "gb18030"):
        Product.delete().execute()
        result = import_file(out.getvalue().encode(encoding))
        assert result.imported and not result.errors and result.added == 3
        assert products() == before


def test_export_is_the_documented_header():
    assert catalogue.EXPORT_COLUMNS == ("barcode", "name", "price", "unit", "active")


@pytest.mark.parametrize("data, words", [
    (b"", ["empty"]),
    (b"code,title\n1,a\n", ["line 1", "name", "price"]),
    (b"barcode,name,price,barcode\n", ["twice"]),
])
def test_unusable_files_are_one_sentence(data, words):
    with pytest.raises(CatalogueError) as caught:
        read_products(data)
    for word in words:
        assert word in str(caught.value)
