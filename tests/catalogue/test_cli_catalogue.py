"""The back-office commands of issue 6: import (GBK, --keep-going, progress), export, search, price, history."""
from __future__ import annotations

import json

import pytest

from tests.cli.helpers import Shop, one_line, open_shop


@pytest.fixture
def shop(tmp_path, capsys, monkeypatch) -> Shop:
    return open_shop(tmp_path, capsys, monkeypatch)


def write(shop, name: str, text: str, encoding: str = "utf-8"):
    path = shop.home / name
    path.write_bytes(text.encode(encoding))
    return path


def products(shop):
    return {p["barcode"]: (p["name"], p["price_fen"], p["unit"]) for p in
            json.loads(shop.ok("products", "list", "--json").stdout)}


def test_gbk_file_with_chinese_headers_imports(shop):
    path = write(shop, "gbk.csv", "条码,品名,售价,单位\r\n6901234567892,可口可乐,3,瓶\r\n1,苹果,8.9,斤\r\n", "gbk")
    result = shop.ok("products", "import", str(path))
    assert "2 added" in result.stdout and "GBK" in result.stdout
    assert result.stderr == ""  # small files: no progress output
    assert products(shop) == {"6901234567892": ("可口可乐", 300, "瓶"), "1": ("苹果", 890, "斤")}


def test_keep_going_imports_good_rows_lists_bad_ones_and_exits_1(shop):
    path = write(shop, "mixed.csv", "barcode,name,price\n1,好,1\n2,坏,x\n6901234567893,校验位,3\n3,也好,2\n")
    result = shop.run("products", "import", "--keep-going", str(path))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(" line 3: " in line and "'x'" in line for line in lines)
    assert any(" line 4: " in line and "should be 2" in line for line in lines)
    assert "2 bad rows" in lines[-1] and "--keep-going" in lines[-1]
    assert "2 added" in result.stdout
    assert sorted(products(shop)) == ["1", "3"]


def test_without_keep_going_nothing_is_imported_exit_2(shop):
    path = write(shop, "mixed.csv", "barcode,name,price\n1,好,1\n2,坏,x\n")
    result = shop.run("products", "import", str(path))
    assert result.returncode == 2 and "nothing imported: 1 bad row" in result.stderr
    assert products(shop) == {}


def test_large_import_reports_progress_as_percentages_when_not_a_terminal(shop):
    from store.codes import with_check_digit

    rows = "".join(f"{with_check_digit(f'690{i:09d}')},商品{i},{i % 90 + 1}\n" for i in range(12000))
    path = write(shop, "big.csv", "barcode,name,price\n" + rows)
    result = shop.ok("products", "import", str(path))
    assert "12000 added" in result.stdout.replace(",", "")
    progress = [line for line in result.stderr.splitlines() if line.startswith("importing:")]
    assert progress[-1] == "importing: 100%" and 2 <= len(progress) <= 5


def test_export_stdout_and_gbk_file_read_back(shop):
    write(shop, "in.csv", "barcode,name,price,unit\n6901234567892,\"可口可乐, 罐\",3,罐\n1,苹果,8.9,斤\n")
    shop.ok("products", "import", str(shop.home / "in.csv"))
    shop.ok("products", "price", "1", "9.5", "--by", "店长")
    out = shop.ok("products", "export").stdout
    assert out.splitlines()[0] == "barcode,name,price,unit,active"
    assert '6901234567892,"可口可乐, 罐",3.00,罐,1' in out.splitlines()
    target = shop.home / "out.csv"
    assert "exported 2 products" in shop.ok("products", "export", str(target), "--encoding", "gbk").stdout
    target.read_bytes().decode("gbk")  # really GBK
    before = products(shop)
    result = shop.ok("products", "import", str(target))
    assert result.stdout.startswith("nothing changed: the 2 products in ") and "updated" not in result.stdout
    assert products(shop) == before


def test_utf8_export_file_has_a_bom_for_excel(shop):
    shop.ok("products", "add", "--barcode", "1", "--name", "苹果", "--price", "1")
    target = shop.home / "out.csv"
    shop.ok("products", "export", str(target))
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")


def test_search_price_and_history(shop):
    shop.ok("products", "add", "--barcode", "6901234567892", "--name", "可口可乐", "--price", "3", "--unit", "瓶")
    found = json.loads(shop.ok("products", "search", "kkkl", "--json").stdout)
    assert [p["name"] for p in found] == ["可口可乐"]
    assert "3.00 -> 3.50" in shop.ok("products", "price", "6901234567892", "3.5", "--by", "王").stdout
    history = json.loads(shop.ok("products", "history", "6901234567892", "--json").stdout)
    assert [(h["old_price"], h["new_price"], h["changed_by"], h["source"]) for h in history] == [
        ("3.00", "3.50", "王", "cli")]
    result = shop.run("products", "price", "404", "1")
    assert result.returncode == 2 and "404" in one_line(result.stderr)


def test_adding_a_mistyped_barcode_is_refused_in_one_sentence(shop):
    result = shop.run("products", "add", "--barcode", "6901234567893", "--name", "x", "--price", "1")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "6901234567893" in line and "should be 2" in line
    assert products(shop) == {}


def test_a_deactivated_product_is_not_found_until_activated(shop):
    shop.ok("products", "add", "--barcode", "1", "--name", "苹果", "--price", "8.9", "--unit", "斤")
    assert "no longer sold" in shop.ok("products", "deactivate", "1").stdout
    assert products(shop) == {}
    assert json.loads(shop.ok("products", "search", "pg", "--json").stdout) == []
    shop.ok("products", "activate", "1")
    assert products(shop) == {"1": ("苹果", 890, "斤")}
    result = shop.run("products", "deactivate", "404")
    assert result.returncode == 2 and "404" in one_line(result.stderr)
