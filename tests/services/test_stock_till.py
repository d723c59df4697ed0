"""Stock on the till as plain rules: the mark of a line sold with none on hand, the refund's shelf answer, a
stocktake's lines and paper, and the store work the screens run (a real SQLite file, no screen)."""
from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from store import stock as store_stock
from store.stock_files import delivery_row
from tests.services.test_sale_session import settings  # noqa: F401 (the fixture: a demo till on SQLite)
from tests.store.helpers import catalogue, ring_up
from tui.services import stock
from tui.services.corrections import RefundChoice, shelf_answer
from tui.settings import SettingsError, StockSettings, load_settings

COLA = "6901234567892"


# ---------------------------------------------------------------- [stock] negative


def test_none_on_hand_warns_by_default_refuses_or_says_nothing_as_the_setting_says():
    assert StockSettings().negative == stock.WARN
    assert stock.stock_mark(0, 1000, stock.WARN) == stock.SHORT
    assert stock.stock_mark(0, 1000, stock.REFUSE) == stock.REFUSED
    assert stock.stock_mark(0, 1000, stock.ALLOW) == stock.FINE
    assert stock.stock_mark(-2000, 1000, stock.WARN) == stock.SHORT  # already below: still short


def test_selling_what_is_on_hand_is_fine_and_one_more_is_short():
    assert stock.stock_mark(3000, 3000, stock.REFUSE) == stock.FINE  # on hand after the line: 0
    assert stock.stock_mark(3000, 3001, stock.REFUSE) == stock.REFUSED
    assert stock.stock_mark(None, 5000, stock.REFUSE) == stock.FINE  # not read: nothing is said


def test_the_basket_quantity_adds_every_line_of_the_product():
    items = [SimpleNamespace(product_id=1, qty_milli=2000), SimpleNamespace(product_id=2, qty_milli=500),
             SimpleNamespace(product_id=1, qty_milli=1000)]
    assert stock.basket_qty(items, 1) == 3000 and stock.basket_qty(items, 3) == 0


def test_the_setting_is_read_and_a_wrong_one_is_named_with_its_line(tmp_path: Path):
    path = tmp_path / "shop.toml"
    path.write_text('[stock]\nnegative = "refuse"\n', encoding="utf-8")
    assert load_settings(path).stock.negative == "refuse"
    path.write_text('[shop]\nname = "x"\n\n[stock]\nnegative = "never"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert "line 5" in str(caught.value) and '[stock] negative must be one of "allow", "warn", "refuse"' in str(
        caught.value)


def test_on_hand_reads_as_the_screen_says_it():
    assert stock.on_hand_text(12000, "瓶") == "12瓶"
    assert stock.on_hand_text(1500, "kg") == "1.5kg"
    assert stock.on_hand_text(-3000) == "-3"
    assert stock.on_hand_text(None) == "-"


# ---------------------------------------------------------------- the refund's shelf question


def test_back_on_the_shelf_is_the_default_and_n_says_damaged():
    assert shelf_answer("") is True and shelf_answer("y") is True and shelf_answer("Ｙ") is True
    assert shelf_answer("n") is False and shelf_answer(" N ") is False
    assert shelf_answer("3") is None  # asked again


def test_a_refund_choice_restocks_every_line_but_the_damaged():
    choice = RefundChoice(((1, 1000), (2, 2000)), None, 500, damaged=(2,))
    assert choice.restock(1) is True and choice.restock(2) is False


# ---------------------------------------------------------------- stocktake


def test_a_count_is_a_quantity_or_zero():
    assert stock.parse_count("12") == 12000 and stock.parse_count("1.5") == 1500
    assert stock.parse_count("0") == 0 and stock.parse_count("０") == 0 and stock.parse_count("0.0") == 0
    for text in ("", "abc", "-1", "."):
        with pytest.raises(ValueError):
            stock.parse_count(text)


def _line(pid, counted, expected=0):
    return store_stock.CountLineInfo(pid, str(pid), f"p{pid}", "", counted, expected)


def test_a_product_counted_again_keeps_its_place_with_the_newest_count():
    lines = [_line(1, 1000), _line(2, 2000)]
    assert [(x.product_id, x.counted_milli) for x in stock.standing_lines(lines, _line(1, 5000))] == [
        (1, 5000), (2, 2000)]
    assert [x.product_id for x in stock.standing_lines(lines, _line(3, 0))] == [1, 2, 3]


def test_the_count_paper_names_the_count_the_manager_and_each_difference(zh):
    lines = [_line(1, 19000, 21000)]
    results = [store_stock.CountResult(1, "1", "p1", 19000, -2000), store_stock.CountResult(2, "2", "p2", 5000, 0)]
    paper = stock.count_paper("1-0001", False, "M1", lines, results, 32)
    text = "\n".join(paper)
    assert "盘点单 1-0001" in text and "部分盘点" in text and "店长 M1" in text
    assert "账面 21  盘点 19  差 -2" in text and "账面 5  盘点 5  差 0" in text
    assert stock.changed(results) == 1


@pytest.fixture
def zh():
    from tui.i18n import language, set_language

    before = language()
    set_language("zh")
    yield
    set_language(before)


# ---------------------------------------------------------------- the store work (real SQLite)


def test_the_search_results_carry_their_on_hand_read_from_the_balances(sqlite_database):
    from tui.services.products import find_products

    products = catalogue()
    store_stock.receive([delivery_row(COLA, "24", "2.00")], "1")
    ring_up(products, (COLA, 3000))
    found = {p["barcode"]: p["on_hand"] for p in find_products("", 10)}
    assert found[COLA] == "21瓶" and found["42"] == "0"


def test_a_stocktake_on_the_till_starts_with_its_first_product_and_applies_to_the_count(sqlite_database):
    products = catalogue()
    store_stock.receive([delivery_row(COLA, "24", "2.00")], "1")
    assert stock.open_count("1") == (None, [])
    with pytest.raises(store_stock.StockError):
        stock.count_product(None, False, "1", "c1", "404", 1000)  # unknown: no count started for it
    assert stock.open_count("1") == (None, [])
    count, line = stock.count_product(None, False, "1", "c1", COLA, 19000)
    assert (line.counted_milli, line.expected_milli) == (19000, 24000)
    again, lines = stock.open_count("1")  # Esc or a crash: the count goes on
    assert again == count and [x.counted_milli for x in lines] == [19000]
    results = stock.apply_count(count, "1", "M1")
    assert store_stock.on_hand(products[COLA].id) == 19000 and stock.changed(results) == 1
    assert stock.open_count("1") == (None, [])


def test_receiving_one_product_as_typed_moves_its_on_hand(sqlite_database):
    products = catalogue()
    assert stock.receive_one(COLA, "24", "2.50", "1", "c1") == ("可口可乐 330ml", 24000)
    with pytest.raises(store_stock.StockError):
        stock.receive_one(COLA, "24", "2.505", "1", "c1")  # three decimals: nothing written
    assert store_stock.on_hand(products[COLA].id) == 24000


def test_the_owners_stock_figures_name_the_low_products_the_value_and_the_margin(sqlite_database):
    from tui.services.figures import day_figures

    products = catalogue()
    store_stock.receive([delivery_row(COLA, "24", "2.00")], "1")
    ring_up(products, (COLA, 3000))
    store_stock.set_min(COLA, 21000)
    figures = day_figures("1", datetime.date.today(), all_tills=False)["stock"]
    assert [row.barcode for row in figures["low"]] == [COLA]
    assert figures["value_fen"] == 21 * 200
    assert (figures["margin"].sales_fen, figures["margin"].cost_fen, figures["margin"].margin_fen) == (
        1050, 600, 450)


# ---------------------------------------------------------------- the sale session (no screen)


def _session(settings, negative: str):
    import dataclasses

    from tests.services.test_sale_session import Owner

    return Owner(dataclasses.replace(settings, stock=StockSettings(negative=negative)))


def test_the_session_reads_on_hand_at_the_scan_and_marks_the_line_beyond_it_once(settings):
    from tests.tui.helpers import COLA as DEMO_COLA

    store_stock.adjust(DEMO_COLA, -49000, store_stock.LOST, "1")  # one bottle on the shelf
    owner = _session(settings, stock.WARN)
    try:
        session = owner.session
        found = session.resolve(DEMO_COLA)
        session.check_stock(found.product, 1000)  # the one on the shelf: fine
        index = session.add(found.product, 1000, None)
        item = session.basket.items[index]
        assert not session.line_short(item) and session.say_short(item) is None
        session.resolve(DEMO_COLA)
        index = session.add(found.product, 1000, None)  # a second: none on hand
        item = session.basket.items[index]
        assert session.line_short(item)
        assert session.say_short(item) == "1瓶" and session.say_short(item) is None  # said once
        session.start_over()
        assert not session.line_short(item)  # a new basket forgets what the last one read
    finally:
        owner.stop()


def test_the_session_refuses_a_scan_and_a_larger_quantity_beyond_on_hand_when_set_to_refuse(settings):
    from tests.tui.helpers import COLA as DEMO_COLA
    from tui.services.sale_session import Refused

    store_stock.adjust(DEMO_COLA, -49000, store_stock.LOST, "1")
    owner = _session(settings, stock.REFUSE)
    try:
        session = owner.session
        found = session.resolve(DEMO_COLA)
        index = session.add(found.product, 1000, None)
        with pytest.raises(Refused) as caught:
            session.check_stock(found.product, 1000)
        assert caught.value.code == "stock.refused" and caught.value.values["on_hand"] == "1瓶"
        with pytest.raises(Refused):
            session.set_qty(index, 2000)
        assert session.basket.items[index].qty_milli == 1000
    finally:
        owner.stop()


def test_with_a_server_named_the_scan_reads_the_shops_on_hand_and_says_its_time_when_stale(settings):
    import dataclasses

    from store.models import ShopStock, ShopStockMark, StockMove
    from tests.services.test_sale_session import Owner
    from tests.tui.helpers import COLA as DEMO_COLA
    from tui.i18n import t
    from tui.settings import ServerSettings

    pid = store_stock.find(DEMO_COLA).id
    # as a pull left it at 09:05: the shop holds 1 (till 1 sold the rest); the server has all of this till's moves
    ShopStock.create(product_id=pid, on_hand_milli=1000, avg_cost_fen=0, version=1)
    ShopStockMark.create(id=1, instance="s", version=1, till_id="1", head_seq=0,
                         first_move=StockMove.select().count() + 1, pulled_at=datetime.datetime(2020, 1, 1, 9, 5),
                         checked_at=datetime.datetime(2020, 1, 1, 9, 5))
    shop = dataclasses.replace(settings, stock=StockSettings(negative=stock.WARN),
                               server=ServerSettings(url="postgresql://till@server/shop"))
    for named, said in ((False, None), (True, "1瓶" + t("stock.as_of", time="09:05"))):
        owner = Owner(shop if named else dataclasses.replace(shop, server=ServerSettings()))
        try:
            session = owner.session
            found = session.resolve(DEMO_COLA)
            index = session.add(found.product, 2000, None)  # two: the shop has one, this till alone fifty
            assert session.say_short(session.basket.items[index]) == said
        finally:
            owner.stop()
