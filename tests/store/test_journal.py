"""Journal: the hash chain catches an edited amount, a deleted sale and a broken link."""
from __future__ import annotations

import datetime

import peewee
import pytest

from store import audit, journal
from store.models import Discount, Line, Payment, ReceiptOutcome, Sale, TillCounter
from tests.store.helpers import catalogue, ring_up


@pytest.fixture
def five_sales(database):
    products = catalogue()
    made = [ring_up(products, ("6901234567892", 1000 * (n + 1))) for n in range(5)]
    ring_up(products, till_id="2")
    return made


def _delete_sale(sale_id):
    for model in (Line, Payment, ReceiptOutcome):
        model.delete().where(model.sale == sale_id).execute()
    Sale.delete().where(Sale.id == sale_id).execute()


def test_intact_journal(five_sales):
    result = journal.verify()
    assert result.ok and result.bad_receipt_no is None
    assert result.sales_checked == 6 and result.tills_checked == 2
    assert "intact" in result.message


def test_empty_journal(database):
    assert journal.verify().ok


def test_edited_line_amount_is_caught(five_sales):
    Line.update(amount_fen=1).where(Line.sale == five_sales[2].id).execute()
    result = journal.verify()
    assert (result.ok, result.bad_till, result.bad_receipt_no) == (False, "1", 3)
    assert "1-000003" in result.message and "changed" in result.message


def test_edited_sale_total_is_caught(five_sales):
    Sale.update(total_fen=Sale.total_fen - 100).where(Sale.id == five_sales[1].id).execute()
    result = journal.verify()
    assert (result.ok, result.bad_receipt_no) == (False, 2)


def test_edited_payment_is_caught(five_sales):
    Payment.update(method="card").where(Payment.sale == five_sales[4].id).execute()
    assert journal.verify().bad_receipt_no == 5


def test_recomputed_hash_is_caught_by_the_audit_record(five_sales):
    """Someone edits a sale and recomputes its hash: its commit's audit record still holds the old hash."""
    sale = five_sales[1]
    Sale.update(total_fen=1).where(Sale.id == sale.id).execute()
    row = Sale.select().where(Sale.id == sale.id).dicts().get()
    content = journal.canonical_content(
        row, list(Line.select().where(Line.sale == sale.id).dicts()),
        list(Payment.select().where(Payment.sale == sale.id).dicts()))
    Sale.update(hash=journal.chain_hash(row["prev_hash"], content)).where(Sale.id == sale.id).execute()
    result = journal.verify()
    assert (result.ok, result.bad_receipt_no) == (False, 2)
    assert "1-000002" in result.message and "audit record" in result.message


def test_deleted_sale_is_caught(five_sales):
    _delete_sale(five_sales[2].id)
    result = journal.verify()
    assert (result.ok, result.bad_till, result.bad_receipt_no) == (False, "1", 4)
    assert "1-000003 is missing" in result.message


def test_deleted_first_sale_is_caught(five_sales):
    _delete_sale(five_sales[0].id)
    result = journal.verify()
    assert (result.ok, result.bad_receipt_no) == (False, 2)
    assert "1-000001 is missing" in result.message


def test_deleted_last_sale_is_caught(five_sales):
    _delete_sale(five_sales[4].id)
    result = journal.verify()
    assert (result.ok, result.bad_till, result.bad_receipt_no) == (False, "1", 5)
    assert "1-000005 is missing" in result.message


def test_renumbered_tail_is_caught(five_sales):
    """Delete the last sale and wind the counter back: the counter's hash gives it away."""
    _delete_sale(five_sales[4].id)
    TillCounter.update(last_receipt_no=4).where(TillCounter.till_id == "1").execute()
    result = journal.verify()
    assert (result.ok, result.bad_receipt_no) == (False, 4)


def test_other_till_checked_too(five_sales):
    Line.update(qty_milli=5000).where(Line.sale.in_(Sale.select(Sale.id).where(Sale.till_id == "2"))).execute()
    result = journal.verify()
    assert (result.ok, result.bad_till, result.bad_receipt_no) == (False, "2", 1)


def test_canonical_content_is_stable():
    sale = {"till_id": "1", "receipt_no": 1, "sold_at": "2026-01-01 10:00:00", "cashier": "c1",
            "total_fen": 350, "change_fen": 0}
    line = {"position": 1, "barcode": "1", "name": "可乐", "unit": "", "unit_price_fen": 350,
            "qty_milli": 1000, "amount_fen": 350}
    payment = {"position": 1, "method": "cash", "amount_fen": 350, "reference": "", "status": "ok"}
    text = journal.canonical_content(sale, [line], [payment])
    assert text == ('{"cashier":"c1","change_fen":0,"lines":[[1,"1","可乐","",350,1000,350]],'
                    '"payments":[[1,"cash",350,"","ok"]],"receipt_no":1,"sold_at":"2026-01-01 10:00:00",'
                    '"till_id":"1","total_fen":350}')
    assert journal.chain_hash("0" * 64, text) == journal.chain_hash("0" * 64, text)
    assert journal.chain_hash("0" * 64, text) != journal.chain_hash("1" * 64, text)


#: Every table the full walk reads through journal.read_rows.
READ_BY_THE_WALK = (Sale, Line, Payment, Discount, ReceiptOutcome) + tuple(audit.MODELS.values())


def _not_plain(model) -> list:
    """Fields read_rows would hand over unconverted although peewee converts them (not integer, text or time)."""
    plain = (peewee.IntegerField, peewee.BigIntegerField, peewee.AutoField, peewee.ForeignKeyField,
             peewee.CharField, peewee.TextField, peewee.DateTimeField)
    return [name for name, field in model._meta.fields.items() if not isinstance(field, plain)]


def test_the_walk_reads_only_integers_text_and_times():
    """read_rows converts only date-times: a new boolean or decimal column would reach the hashes as stored."""
    assert {model.__name__: _not_plain(model) for model in READ_BY_THE_WALK if _not_plain(model)} == {}

    class Flagged(Sale):
        printed = peewee.BooleanField(default=False)

    assert _not_plain(Flagged) == ["printed"]  # the check can fail


def test_read_rows_reads_what_peewee_reads(database):
    """The walk's reader gives the rows peewee's dicts give, times as the hashes hold them, on every table."""
    from store import events, print_attempts, shifts
    from store.db import is_sqlite

    products = catalogue()
    shifts.open_shift("1", 20000, cashier="c1")
    shifts.cash_out("1", 2000, "送货", cashier="c1")
    shifts.record_handover("1", "c1", "c2")
    sales = [ring_up(products, ("6901234567892", 1000), ("2001", 1500)) for _ in range(4)]
    attempt = print_attempts.start_printing(sales[0].id, "p1")
    print_attempts.finish_printing(attempt.id, True)
    events.log_event("note", "1", sale=sales[0].id)
    odd = datetime.datetime(2026, 3, 4, 5, 6, 7, 890123)
    Sale.update(sold_at=odd).where(Sale.id == sales[1].id).execute()
    ReceiptOutcome.update(updated_at=odd).where(ReceiptOutcome.sale == sales[1].id).execute()
    if is_sqlite(database):  # times as other writers may have stored them; peewee reads some of them as times
        for sale, text in zip(sales[2:], ("2026-03-04", "2026-3-4 5:06:07")):
            database.execute_sql("UPDATE receipt_outcome SET updated_at = ? WHERE sale_id = ?", (text, sale.id))
    for model in READ_BY_THE_WALK:
        query = model.select().order_by(model.id)
        hashed = [{name: audit.hashed_value(value) for name, value in row.items()} for row in query.dicts()]
        assert journal.read_rows(query) == hashed, model.__name__
    assert journal.read_rows(Sale.select().where(Sale.id == sales[1].id))[0]["sold_at"] == "2026-03-04 05:06:07"


def test_checks_read_ids_far_apart_in_separate_ranges():
    """An outcome of a sale from years ago sealed again after a checkpoint: no range across all the history."""
    runs = list(journal._ranges([12_000_000, 3, 1, 12_000_001, 4_999, 5_001]))
    assert runs == [[1, 3, 4_999], [5_001], [12_000_000, 12_000_001]]
