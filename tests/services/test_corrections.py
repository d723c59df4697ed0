"""Refunds and voids as the history builds them: a real SQLite file, no screen."""
from __future__ import annotations

import pytest

from store import documents
from store.models import Payment, Sale
from tests.store.helpers import catalogue, ring_up
from tui.services import corrections
from tui.services.corrections import Committed, RefundChoice

COLA, BAG = "6901234567892", "42"


def test_what_is_left_to_refund_and_the_room_of_each_tender(sqlite_database):
    products = catalogue()
    sale = ring_up(products, (COLA, 3000), (BAG, 1000), pay=[("wechat", 500), ("cash", 570)])  # 10.70
    lines, room = corrections.refund_choices(sale.id)
    assert [(line.name, line.remaining_qty) for line in lines] == [("可口可乐 330ml", 3000), ("塑料袋", 1000)]
    assert room == {"wechat": 500, "cash": 570}
    assert corrections.all_refunded(lines) is False


def test_the_refund_total_is_each_lines_share_of_what_was_paid(sqlite_database):
    products = catalogue()
    sale = ring_up(products, (COLA, 3000), (BAG, 1000))
    lines, _room = corrections.refund_choices(sale.id)
    cola, bag = lines
    assert corrections.refund_total_fen(lines, {}) == 0
    assert corrections.refund_total_fen(lines, {cola.line_id: 1000}) == 350
    assert corrections.refund_total_fen(lines, {cola.line_id: 3000, bag.line_id: 0}) == 1050
    assert corrections.refund_total_fen(lines, {cola.line_id: 1000, bag.line_id: 1000}) == 370


def test_the_money_goes_back_to_the_original_tenders_non_cash_first_or_all_in_cash():
    room = {"cash": 570, "wechat": 500}
    assert corrections.refund_payments(room, 700, all_cash=False) == [("wechat", 500), ("cash", 200)]
    assert corrections.refund_payments(room, 300, all_cash=False) == [("wechat", 300)]
    assert corrections.refund_payments(room, 700, all_cash=True) == [("cash", 700)]
    assert corrections.refund_payments(room, 0, all_cash=True) == []


def test_a_refund_commits_as_chosen_and_says_whether_cash_goes_back(sqlite_database):
    products = catalogue()
    sale = ring_up(products, (COLA, 3000), (BAG, 1000), pay=[("wechat", 500), ("cash", 570)])
    cola = corrections.refund_choices(sale.id)[0][0]
    by_wechat = corrections.commit_refund(sale.id, RefundChoice(((cola.line_id, 1000),), None, 350), "1", "c1", "")
    assert by_wechat == Committed(by_wechat.document_id, "1-000002", "3.50", False)  # back to WeChat: no drawer
    refund = Sale.get_by_id(by_wechat.document_id)
    assert (refund.kind, refund.original_id, refund.cashier, refund.manager) == ("refund", sale.id, "c1", "")
    in_cash = corrections.commit_refund(sale.id, RefundChoice(((cola.line_id, 1000),), (("cash", 350),), 350),
                                        "1", "c1", "M1")
    assert (in_cash.number, in_cash.amount, in_cash.cash_back) == ("1-000003", "3.50", True)
    assert Sale.get_by_id(in_cash.document_id).manager == "M1"
    assert [(p.method, p.amount_fen) for p in Payment.select().where(Payment.sale == in_cash.document_id)] == [
        ("cash", 350)]


def test_everything_refunded_leaves_nothing_to_choose(sqlite_database):
    products = catalogue()
    sale = ring_up(products, (COLA, 1000), (BAG, 1000))
    cola, bag = corrections.refund_choices(sale.id)[0]
    corrections.commit_refund(sale.id, RefundChoice(((bag.line_id, 1000),), None, 20), "1", "", "")
    assert corrections.all_refunded(corrections.refund_choices(sale.id)[0]) is False  # the cola is left
    corrections.commit_refund(sale.id, RefundChoice(((cola.line_id, 1000),), None, 350), "1", "", "")
    assert corrections.all_refunded(corrections.refund_choices(sale.id)[0]) is True


def test_a_sale_of_today_voids_whole_a_refunded_one_does_not(sqlite_database):
    products = catalogue()
    sale = ring_up(products, (COLA, 2000))
    corrections.check_voidable(sale.id)  # raises nothing
    void = corrections.commit_void(sale.id, "1", "c1", "M1", "扫错了 wrong item")
    assert (void.number, void.amount, void.cash_back) == ("1-000002", "7.00", True)
    document = Sale.get_by_id(void.document_id)
    assert (document.kind, document.original_id, document.manager, document.reason) == (
        "void", sale.id, "M1", "扫错了 wrong item")
    with pytest.raises(documents.DocumentError) as refused:
        corrections.check_voidable(sale.id)
    assert refused.value.code == "voided"

    other = ring_up(products, (COLA, 2000))
    line = corrections.refund_choices(other.id)[0][0]
    corrections.commit_refund(other.id, RefundChoice(((line.line_id, 1000),), None, 350), "1", "", "")
    with pytest.raises(documents.DocumentError) as refused:
        corrections.check_voidable(other.id)
    assert refused.value.code == "void_refunded"
