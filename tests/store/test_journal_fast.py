"""The fast walk of journal verify (store.journal_fast) hashes exactly the canonical text, and takes a real shop.

Its texts are compared with store.journal.canonical_content and
store.audit's over documents of every kind (sales, refunds, voids,
discounts, handwritten outcomes, keyless and keyed records, non-ASCII and
odd text, NULLs, big amounts), and with rows made up to reach every branch.
A shop of those verifies in the fast walk itself (not by falling back to the
walk that names breaks), with the same result as that walk.
"""
from __future__ import annotations

import itertools

import pytest

from store import audit, chain, documents, journal, journal_fast as fast, outcomes, print_attempts, sales
from store.db import db
from store.models import GENESIS_HASH, Line, Sale, now
from tests.store.helpers import catalogue, ring_up

KEY = bytes(range(32))


def _slow_text(sale: tuple, lines, payments, discounts) -> str:
    as_dicts = fast._as_dicts(sale, sale[3], lines, payments, discounts)
    return journal.canonical_content(*as_dicts)


def _fast_text(sale: tuple, lines, payments, discounts) -> str:
    return fast.document_text(sale, sale[3], lines, fast._in_order(payments), discounts)


# --- made-up rows: every branch of the text ---------------------------------------------------------

SALE = (7, "1", 12, "2026-03-04 05:06:07", "c1", 3390, 10, GENESIS_HASH, "f" * 64, "", "sale", None, "", "", 0)
LINE = (7, 1, "6901234567892", "可口可乐 330ml", "瓶", 350, 1000, 350, 0, None)
PAYMENT = (7, 1, "cash", 3400, "", "ok", "")


def _line(position, **changes):
    names = [c.name for c in fast.LINE_COLUMNS]
    values = dict(zip(names, LINE), position=position, **changes)
    return tuple(values[name] for name in names)


def _sale(**changes):
    names = [c.name for c in fast.SALE_COLUMNS]
    values = dict(zip(names, SALE), **changes)
    return tuple(values[name] for name in names)


ODD = 'quote " backslash \\ newline \n tab \t nul \x00 bell \x07 del \x7f 中文 😀 \u2028'
BIG = 2 ** 62 + 12345
#: What a database column takes of ODD (PostgreSQL refuses NUL; a cashier is 16 characters at most).
STORED = 'q"b\\n\n\t\x07\x7f中😀\u2028'

CASES = {
    "plain sale": (_sale(), [_line(1)], [PAYMENT], []),
    "no lines, no payments": (_sale(), [], [], []),
    "refund": (_sale(kind="refund", original=3, reason="坏了", manager="m1"),
               [_line(1, discount_fen=0, original_line=11)], [PAYMENT], []),
    "void": (_sale(kind="void", original=3, reason="录错"), [_line(1, original_line=11), _line(2, original_line=12)],
             [PAYMENT], []),
    "discounts": (_sale(discount_fen=150),
                  [_line(1, discount_fen=100), _line(2, discount_fen=50, amount_fen=300)], [PAYMENT],
                  [(7, 1, "percent", 1000, 100, "会员", "c1", ""), (7, 0, "amount", 50, 50, "熟客", "c1", "m1"),
                   (7, 0, "round", 10, 0, None, None, None)]),
    "NULLs": (_sale(cashier=None, original=None, reason=None, manager=None, discount_fen=None),
              [_line(1, barcode=None, unit=None, discount_fen=None, original_line=None)],
              [(7, 1, "cash", 3400, None, "ok", None)], []),
    "odd text": (_sale(cashier=ODD, till_id="T\"1", reason=ODD, manager=ODD, kind=ODD),
                 [_line(1, barcode=ODD, name=ODD, unit=ODD)], [(7, 1, ODD, 1, ODD, ODD, ODD)],
                 [(7, 1, ODD, 1, 1, ODD, ODD, ODD)]),
    "big amounts": (_sale(total_fen=BIG, change_fen=-BIG, receipt_no=999_999_999, discount_fen=BIG),
                    [_line(1, unit_price_fen=BIG, qty_milli=2 ** 31 - 1, amount_fen=-BIG, discount_fen=BIG,
                           original_line=2 ** 40)], [(7, 1, "card", BIG, "4200000000000000000000000000", "ok", "")],
                    []),
    "lines out of order": (_sale(), [_line(3), _line(1, name="一"), _line(2, name="二")],
                           [(7, 2, "card", 1, "", "ok", ""), (7, 1, "cash", 2, "", "failed", "余额不足")], []),
    "duplicate positions": (_sale(), [_line(2, name="b"), _line(1), _line(2, name="a")], [PAYMENT, PAYMENT], []),
    "failed payment with a reason": (_sale(), [_line(1)], [(7, 1, "wechat", 3400, "", "failed", "用户取消")], []),
    "times as peewee's": (_sale(sold_at="2026-03-04 05:06:07"), [_line(1)], [PAYMENT], []),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_document_text_is_the_canonical_text(case):
    sale, lines, payments, discounts = CASES[case]
    assert _fast_text(sale, lines, payments, discounts) == _slow_text(sale, lines, payments, discounts)


def test_every_order_of_lines_gives_the_canonical_text():
    lines = [_line(1, name="一"), _line(2, name="二"), _line(3, name="三"), _line(2, name="二'")]
    for order in itertools.permutations(lines):
        assert _fast_text(SALE, list(order), [PAYMENT], []) == _slow_text(SALE, list(order), [PAYMENT], [])


def test_a_value_the_text_does_not_hold_raises_for_the_slow_text():
    """A NULL name (or a number where text goes) is not guessed: verify then asks canonical_content."""
    with pytest.raises(TypeError):
        _fast_text(SALE, [_line(1, name=None)], [PAYMENT], [])
    with pytest.raises(TypeError):
        _fast_text(_sale(till_id=1), [_line(1)], [PAYMENT], [])


@pytest.mark.parametrize("outcome", [
    (7, "printed", "", "", "2026-03-04 05:06:07"),
    (7, "failed", "paper_out", "打印机缺纸 \"x\" \\", "2026-03-04 05:06:07"),
    (7, outcomes.HANDWRITTEN, None, None, "2026-03-04 05:06:07"),
    (7, ODD, ODD, ODD, ODD),
])
def test_the_commit_record_text_is_the_audit_text(outcome):
    payments = [(7, 1, "cash", 1, "", "ok", ""), (7, 2, "wechat", 1, "", "failed", ODD), (7, 3, "card", 1, "", "ok",
                                                                                         None)]
    row = dict(zip(("sale", "state", "reason_code", "reason", "updated_at"), outcome))
    as_audit = audit.commit_content(12, "a" * 64, [dict(position=p[1], reason=p[6]) for p in payments], row)
    text = fast.outcome_text(outcome, outcome[4])
    assert text == audit.row_content(audit.OUTCOME, row)
    assert fast.commit_text(12, "a" * 64, fast.reasons_text(payments), text) == as_audit


def test_the_hashes_are_the_chains():
    check = fast.hash_check()
    digest = chain.chain_hash("p", "内容")
    assert check("p", "内容", digest, "") and check("p", "内容", digest, chain.NOKEY)
    assert not check("p", "内容!", digest, "")
    assert check("p", "内容", "0" * 64, chain.HMAC) is None  # keyed, and no key here
    chain.set_key(KEY)
    try:
        keyed = chain.chain_hash("p", "内容", chain.HMAC)
        check = fast.hash_check()
        assert check("p", "内容", keyed, chain.HMAC) and not check("p", "内容", digest, chain.HMAC)
        assert check("p", "内容", keyed, chain.HMAC)  # the keyed object is copied, not used up
    finally:
        chain.set_key(None)


# --- a shop: every kind of document through the store ------------------------------------------------


def _print(sale, ok=True):
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, ok, "" if ok else "paper_out", "" if ok else "printer out of paper")


def _odd_document(database, till_id="1"):
    """A document written raw with text the till never makes (quotes, control characters), hashed right."""
    counter = database.execute_sql("SELECT last_receipt_no, last_hash FROM till_counter WHERE till_id = "
                                   + database.param, (till_id,)).fetchone()
    no, prev = counter[0] + 1, counter[1]
    at = now()
    sale = dict(till_id=till_id, receipt_no=no, sold_at=at, cashier=STORED, total_fen=BIG, change_fen=0)
    line = dict(position=1, barcode=None, name=STORED, unit=None, unit_price_fen=BIG, qty_milli=1000, amount_fen=BIG)
    payment = dict(position=1, method="cash", amount_fen=BIG, reference=None, status="ok")
    digest = chain.chain_hash(prev, journal.canonical_content(sale, [line], [payment]))
    p = database.param
    stamp = at.isoformat(sep=" ")
    sale_id = database.execute_sql(
        f"INSERT INTO sale (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) "
        f"VALUES ({p}, {p}, {p}, {p}, {p}, 0, {p}, {p}) RETURNING id",
        (till_id, no, stamp, STORED, BIG, prev, digest)).fetchone()[0]
    database.execute_sql(f"INSERT INTO line (sale_id, position, barcode, name, unit, unit_price_fen, qty_milli, "
                         f"amount_fen) VALUES ({p}, 1, '', {p}, '', {p}, 1000, {p})", (sale_id, STORED, BIG, BIG))
    database.execute_sql(f"INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
                         f"VALUES ({p}, 1, 'cash', {p}, '', 'ok', '')", (sale_id, BIG))
    database.execute_sql(f"INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
                         f"VALUES ({p}, 'printed', '', '', {p})", (sale_id, stamp))
    pending = dict(state="printed", reason_code="", reason="", updated_at=at)
    audit.append(database, till_id, audit.COMMIT, sale_id, audit.commit_content(no, digest, [dict(position=1,
                                                                                                  reason="")],
                                                                                 pending))
    database.execute_sql(f"UPDATE till_counter SET last_receipt_no = {p}, last_hash = {p} WHERE till_id = {p}",
                         (no, digest, till_id))


def _shop(database):
    products = catalogue()
    first = ring_up(products, ("6901234567892", 2000), ("42", 1000), ("2001", 1234))
    _print(first)
    failed = ring_up(products, pay=(("cash", 100), ("card", 250)))
    _print(failed, ok=False)
    outcomes.resolve(failed.id, outcomes.HANDWRITTEN)
    basket = sales.Basket()
    basket.add(products["6901234567892"], 3000)
    basket.set_line_discount(0, sales.DiscountSpec("percent", 1000, "会员", "c1"))
    basket.set_discount(sales.DiscountSpec("amount", 50, "熟客", "c1"))
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen + 1000)
    discounted = sales.commit_sale(basket, tender, "1", "c1")
    _print(discounted)
    line = Line.select().where(Line.sale == first.id).order_by(Line.position).first()
    _print(documents.commit_refund(first.id, [(line.id, 1000)], "1", "c1", reason="坏了"))
    _print(documents.commit_void(discounted.id, "1", "c1", reason="录错"))
    ring_up(products, till_id="2")
    with db.atomic():
        _odd_document(database)
    chain.set_key(None, missing=True)  # the key file lost for a while: keyless records, their run announced
    try:
        _print(ring_up(products))
        ring_up(products, till_id="2")
    finally:
        chain.set_key(KEY)  # made at an unknown time: the plain records before it stand
    _print(ring_up(products, ("2001", 999)))
    ring_up(products, till_id="2")


def test_a_shop_verifies_in_the_fast_walk_as_in_the_walk_that_names_breaks(database):
    try:
        _shop(database)
        rows = journal.read_rows(Sale.select().order_by(Sale.id))
        assert {row["kind"] for row in rows} == {"sale", "refund", "void"}
        assert {row["hash_kind"] for row in rows} == {"", chain.NOKEY, chain.HMAC}
        for till_id in ("1", "2"):
            for sale, lines, payments, discounts, _outcome in fast.documents(till_id, 0):
                sold_at = journal._time_text(Sale.sold_at, sale[3])
                slow = journal.canonical_content(*fast._as_dicts(sale, sold_at, lines, payments, discounts))
                assert fast.document_text(sale, sold_at, lines, fast._in_order(payments), discounts) == slow
        quick = journal._verify(True, False, fast=True)  # raises when the fast walk cannot confirm it
        named = journal._verify(True, False, fast=False)
        assert quick == named and quick.ok and quick.keyless == named.keyless > 0, quick
        assert quick.sales_checked == len(rows) and quick.records_checked > len(rows)
    finally:
        chain.set_key(None)


def test_a_break_leaves_the_fast_walk_to_the_walk_that_names_it(database):
    products = catalogue()
    made = [ring_up(products) for _ in range(3)]
    Line.update(name="改").where(Line.sale == made[1].id).execute()
    with pytest.raises(fast.Unconfirmed):
        journal._verify(True, False, fast=True)
    result = journal.verify()
    assert (result.ok, result.bad_receipt_no) == (False, 2) and "1-000002" in result.message
