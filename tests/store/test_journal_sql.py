"""On SQLite the fast walk has the database build each document's text (store.journal_fast.DOCUMENTS_SQL).

Documents of every kind (tests/store/test_journal_fast.py's made-up rows:
refunds, voids, discounts, odd text, NULLs, big amounts) are stored raw in a
real SQLite file; the text SQLite builds must be the one
store.journal.canonical_content makes of the rows as the walk that names
breaks reads them, and the reasons and outcome the texts of store.audit.
Lines stored out of position order give another text, and verify then
passes them by that walk.
"""
from __future__ import annotations

import pytest

from store import audit, journal, journal_fast as fast
from store.models import GENESIS_HASH
from tests.store.test_journal_fast import CASES

#: NOT NULL columns of the schema: a NULL there cannot be stored, so the case stores what it reads back as
NOT_NULL = {"cashier": "", "reason": "", "manager": "", "discount_fen": 0, "barcode": "", "unit": "",
            "reference": "", "kind": "", "value": 0}


def _store(database, sale, lines, payments, discounts, outcome=("printed", "", "", "2026-03-04 05:06:07")):
    """The document's rows as they are (ids in the order given; the lines and sales they name need not be here)."""
    database.execute_sql("PRAGMA foreign_keys = OFF")
    names = [c.name for c in fast.SALE_COLUMNS]
    row = {name: value for name, value in zip(names, sale)}
    row = {name: (NOT_NULL.get(name, value) if value is None else value) for name, value in row.items()}
    sale_id = database.execute_sql(
        "INSERT INTO sale (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash, kind, "
        "original_id, reason, manager, discount_fen, hash_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (row["till_id"], row["receipt_no"], row["sold_at"], row["cashier"], row["total_fen"], row["change_fen"],
         GENESIS_HASH, "f" * 64, row["kind"] if sale[10] is not None else "sale", row["original"], row["reason"],
         row["manager"], row["discount_fen"], "")).fetchone()[0]
    for line in lines:
        _, position, barcode, name, unit, price, qty, amount, discount, original = line
        database.execute_sql(
            "INSERT INTO line (sale_id, position, barcode, name, unit, unit_price_fen, qty_milli, amount_fen, "
            "discount_fen, original_line_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sale_id, position, barcode or "", name, unit or "", price, qty, amount, discount or 0, original))
    for payment in payments:
        _, position, method, amount, reference, status, reason = payment
        database.execute_sql("INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (sale_id, position, method, amount, reference or "", status, reason or ""))
    for discount in discounts:
        _, position, kind, value, amount, reason, cashier, manager = discount
        database.execute_sql("INSERT INTO discount (sale_id, line_position, kind, value, amount_fen, reason, cashier, "
                             "manager) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (sale_id, position, kind, value, amount, reason or "", cashier or "", manager or ""))
    database.execute_sql("INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
                         "VALUES (?, ?, ?, ?, ?)", (sale_id,) + tuple(outcome))
    return sale_id


def _built(till_id):
    """(text, reasons, outcome) of each document SQLite builds, by sale id."""
    found = {}
    for row in fast.documents_sql(till_id, 0):
        head, paid, tail, outcome = row[6:]
        payments, _, reasons = (paid or "").partition(fast._APART)
        found[row[0]] = (None if head is None else head + payments + tail, f"[{reasons}]", outcome)
    return found


def _in_position_order(rows):
    positions = [row[1] for row in rows]
    return positions == sorted(positions)


@pytest.mark.parametrize("case", sorted(CASES))
def test_sqlite_builds_the_canonical_text_of_the_rows_as_read(sqlite_database, case):
    sale, lines, payments, discounts = CASES[case]
    sale_id = _store(sqlite_database, sale, lines, payments, discounts)
    till_id = sale[1]
    text, reasons, outcome = _built(till_id)[sale_id]
    [read] = [row for chunk in journal.sale_chunks(till_id) for row in chunk]
    canonical = journal.canonical_content(read, read["_lines"], read["_payments"], read["_discounts"])
    if _in_position_order(lines) and _in_position_order(payments):
        assert text == canonical
    else:  # not the till's order: another text, which no document's hash covers
        assert text != canonical
    ordered = sorted(read["_payments"], key=lambda row: int(row["position"]))
    if _in_position_order(payments):
        assert reasons == audit.dumps([row["reason"] or "" for row in ordered])
    row = {"state": "printed", "reason_code": "", "reason": "", "updated_at": "2026-03-04 05:06:07"}
    assert outcome == audit.row_content(audit.OUTCOME, row)


def test_a_time_not_as_hashed_is_left_to_the_rows(sqlite_database):
    sale, lines, payments, discounts = CASES["plain sale"]
    odd = [c.name for c in fast.SALE_COLUMNS].index("sold_at")
    later = _store(sqlite_database, sale[:odd] + ("2026-03-04 05:06:07.250000",) + sale[odd + 1:], lines, payments,
                   discounts, outcome=("printed", "", "", "2026-03-04T05:06:07"))
    text, _, outcome = _built(sale[1])[later]
    assert text is None and outcome is None


def test_a_batch_with_a_discount_in_its_range_builds_the_discounts(sqlite_database, monkeypatch):
    """Batches without a discount row in their range leave the discounts out; one with reads them."""
    monkeypatch.setattr(fast, "BATCH", 2)
    sale, lines, payments, _ = CASES["plain sale"]
    discounted = CASES["discounts"]
    ids = [_store(sqlite_database, sale[:2] + (no,) + sale[3:], lines, payments, []) for no in (1, 2, 3)]
    ids.append(_store(sqlite_database, discounted[0][:2] + (4,) + discounted[0][3:], *discounted[1:]))
    built = _built(sale[1])
    assert list(built) == ids
    assert '"discounts":' in built[ids[3]][0] and all('"discounts":' not in built[i][0] for i in ids[:3])
