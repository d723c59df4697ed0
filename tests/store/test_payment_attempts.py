"""Payment attempts in the store: stored before the request, one state machine, sealed, linked to their sale."""
from __future__ import annotations

import datetime
import re

import pytest

from store import journal, payment_attempts as attempts, sales
from store.models import Payment, PaymentAttempt
from tests.store.helpers import catalogue

CODE = "134567890123456789"


def basket_of(products):
    basket = sales.Basket()
    basket.add(products["6901234567892"], 1000)
    return basket


def test_an_attempt_keeps_the_last_four_digits_only_and_starts_requested(database):
    row = attempts.create("1_x1", "1", 7, "wechat", 350, CODE)
    assert (row.state, row.code_last4, row.basket, row.amount_fen) == (attempts.REQUESTED, "6789", 7, 350)
    stored = PaymentAttempt.select().dicts().get()
    assert CODE not in repr(stored)


def test_the_state_machine_allows_its_table_only(database):
    attempts.create("1_a", "1", 1, "wechat", 350, CODE)
    attempts.move("1_a", attempts.WAITING)
    attempts.move("1_a", attempts.WAITING)  # a poll that says "still waiting": nothing changes
    attempts.move("1_a", attempts.CANCELLING)
    with pytest.raises(attempts.AttemptError):
        attempts.move("1_a", attempts.WAITING)
    assert attempts.move("1_a", attempts.CANCELLED).state == attempts.CANCELLED
    for state in attempts.STATES:
        with pytest.raises(attempts.AttemptError):
            attempts.check_move(attempts.CANCELLED, state)
        with pytest.raises(attempts.AttemptError):
            attempts.check_move(attempts.PAID, state)
    with pytest.raises(attempts.AttemptError):
        attempts.move("nope", attempts.PAID)


def test_out_trade_no_is_new_each_time_in_the_providers_alphabet():
    at = datetime.datetime(2026, 5, 1, 12, 0, 0, 123456)
    numbers = {attempts.new_out_trade_no("till-01", at) for _ in range(100)}
    assert len(numbers) == 100
    for number in numbers:
        assert len(number) <= 32 and re.fullmatch(r"[0-9A-Za-z_]+", number)
    later = attempts.new_out_trade_no("till-01")
    assert later not in numbers  # a restart (or a restore) is later in time: never the same number


def test_open_attempts_are_the_unsettled_and_the_paid_no_sale_holds(database):
    for name, state in (("1_w", attempts.WAITING), ("1_f", attempts.FAILED), ("1_p", attempts.PAID),
                        ("1_u", attempts.UNKNOWN)):
        attempts.create(name, "1", 1, "alipay", 100, "2512345678901234")
        attempts.move(name, state, transaction_id="T" if state == attempts.PAID else "")
    attempts.create("2_w", "2", 2, "alipay", 100, "2512345678901234")
    assert [row.out_trade_no for row in attempts.open_attempts("1")] == ["1_w", "1_p", "1_u"]
    assert [row.out_trade_no for row in attempts.of_basket(1)] == ["1_w", "1_f", "1_p", "1_u"]


def test_the_sale_keeps_the_attempts_number_and_the_transaction_number(database):
    products = catalogue()
    basket = basket_of(products)
    attempts.create("1_paid", "1", None, "wechat", basket.total_fen, CODE)
    attempts.move("1_paid", attempts.PAID, transaction_id="4200000001")
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("wechat", basket.total_fen, "4200000001", out_trade_no="1_paid")
    sale = sales.commit_sale(basket, tender, "1")
    payment = Payment.get(Payment.sale == sale.id)
    assert (payment.method, payment.reference, payment.out_trade_no) == ("wechat", "4200000001", "1_paid")
    assert [row.out_trade_no for row in attempts.of_sale(sale.id)] == ["1_paid"]
    assert attempts.open_attempts("1") == []
    assert journal.verify().ok


def test_a_payment_whose_attempt_is_not_paid_never_commits(database):
    products = catalogue()
    basket = basket_of(products)
    attempts.create("1_wait", "1", None, "wechat", basket.total_fen, CODE)
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("wechat", basket.total_fen, "", out_trade_no="1_wait")
    with pytest.raises(attempts.AttemptError):
        sales.commit_sale(basket, tender, "1")
    assert sales.Sale.select().count() == 0


def test_a_paid_attempt_pays_one_sale_only(database):
    products = catalogue()
    attempts.create("1_once", "1", None, "alipay", 350, "2512345678901234")
    attempts.move("1_once", attempts.PAID, transaction_id="2026T1")
    for _ in range(2):
        basket = basket_of(products)
        tender = sales.Tender(basket.total_fen)
        tender.add_payment("alipay", basket.total_fen, "2026T1", out_trade_no="1_once")
        if sales.Sale.select().count() == 0:
            sales.commit_sale(basket, tender, "1")
        else:
            with pytest.raises(attempts.AttemptError):
                sales.commit_sale(basket, tender, "1")
    assert sales.Sale.select().count() == 1


def test_journal_verify_names_an_attempt_edited_outside_the_till(sqlite_database):
    from tests.store.test_tamper import edit

    row = attempts.create("1_edit", "1", 1, "wechat", 350, CODE)
    attempts.move("1_edit", attempts.FAILED, reason_code="NOTENOUGH", reason="余额不足")
    assert journal.verify().ok
    edit("UPDATE payment_attempt SET state = 'paid', transaction_id = 'X' WHERE id = ?", row.id)
    result = journal.verify()
    assert not result.ok and f"payment attempt {row.id} was changed outside the till" in result.message


def test_the_open_attempts_query_reads_the_partial_index(sqlite_database):
    sql, params = attempts.open_query("1").sql()
    plan = " ".join(str(row) for row in sqlite_database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "payment_attempt_open" in plan
