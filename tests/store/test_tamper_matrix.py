"""The tamper matrix: each edit of the SQLite file, on a fresh copy of one shop, is named by `journal verify --full`.

The shop is built once (a keyed shop: the journal key made before its first
sale): printed, failed, handwritten, refunded and voided sales, discounts,
paid out and a hand-over, a Z, an open shift, a checkpoint, and an outcome
changed after the checkpoint. Each case edits a copy through its own sqlite3
connection, as someone with a SQLite browser and no key would, then opens it
as the till does.

Receipts: 1 printed (two lines), 2 failed then handwritten, 3 discounted,
4 refund of 1, 5 void of 3 | Z 1-1 | 6 alipay, 7 failed (handwritten after
the checkpoint), 8 printed, the newest.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Callable, Union

import pytest

from store import audit, documents, journal, outcomes, print_attempts, reports, sales, shifts
from store.db import close_database, db, open_database
from store.models import Line
from tests.store.helpers import catalogue, ring_up

KEY, MADE = bytes(range(32)), "2000-01-01 00:00:00"
NEWEST = "(SELECT id FROM sale WHERE receipt_no = 8)"


def _print(sale, ok: bool = True) -> None:
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, ok, "" if ok else "paper_out", "" if ok else "printer out of paper")


def _discounted(products):
    basket = sales.Basket()
    basket.add(products["6901234567892"], 3000)
    basket.set_line_discount(0, sales.DiscountSpec("percent", 1000, "会员", "c1"))
    basket.set_discount(sales.DiscountSpec("amount", 50, "熟客", "c1"))
    tender = sales.Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    return sales.commit_sale(basket, tender, "1", "c1")


def _build() -> None:
    products = catalogue()
    shifts.open_shift("1", 20000, cashier="c1")
    first = ring_up(products, ("6901234567892", 2000), ("42", 1000))
    _print(first)
    failed = ring_up(products)
    _print(failed, ok=False)
    outcomes.resolve(failed.id, outcomes.HANDWRITTEN)
    discounted = _discounted(products)
    _print(discounted)
    line = Line.select().where(Line.sale == first.id).order_by(Line.position).first()
    _print(documents.commit_refund(first.id, [(line.id, 1000)], "1", "c1", reason="坏了"))
    _print(documents.commit_void(discounted.id, "1", "c1", reason="录错"))
    shifts.cash_out("1", 500, "送货", cashier="c1")
    shifts.record_handover("1", "c1", "c2")
    reports.close_z("1", cashier="c2")
    shifts.open_shift("1", 10000, cashier="c2")
    _print(ring_up(products, pay=(("alipay", 350),)))
    later = ring_up(products)
    _print(later, ok=False)
    _print(ring_up(products))
    assert journal.verify(checkpoint=True).ok
    outcomes.resolve(later.id, outcomes.HANDWRITTEN)  # after the checkpoint


@pytest.fixture(scope="module")
def shop_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("matrix") / "shop.sqlite3"
    journal.set_key(KEY, MADE)
    open_database("sqlite:///" + str(path))
    try:
        _build()
    finally:
        close_database()  # the last connection: the WAL is folded into the file
        db.initialize(None)
        journal.set_key(None)
    return path


@pytest.fixture
def shop_copy(shop_file, tmp_path) -> Path:
    target = tmp_path / "copy.sqlite3"
    shutil.copyfile(shop_file, target)
    return target


def verify_copy(path: Path, full: bool = True) -> journal.VerifyResult:
    journal.set_key(KEY, MADE)
    open_database("sqlite:///" + str(path))
    try:
        return journal.verify(full=full)
    finally:
        close_database()
        db.initialize(None)


# --- tampers that need more than one statement ---------------------------------------------------------


def forge_a_sale(con: sqlite3.Connection) -> None:
    """A ninth sale, chained to the eighth with plain SHA-256 (no key), the counter moved on."""
    prev = con.execute("SELECT hash FROM sale WHERE receipt_no = 8").fetchone()[0]
    sale = dict(till_id="1", receipt_no=9, sold_at="2030-01-01 10:00:00", cashier="c1", total_fen=350, change_fen=0)
    line = dict(position=1, barcode="6901234567892", name="可口可乐 330ml", unit="瓶", unit_price_fen=350,
                qty_milli=1000, amount_fen=350)
    payment = dict(position=1, method="cash", amount_fen=350, reference="", status="ok")
    digest = hashlib.sha256((prev + journal.canonical_content(sale, [line], [payment])).encode()).hexdigest()
    sale_id = con.execute("INSERT INTO sale (till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, "
                          "hash) VALUES ('1', 9, '2030-01-01 10:00:00', 'c1', 350, 0, ?, ?)", (prev, digest)).lastrowid
    con.execute("INSERT INTO line (sale_id, position, barcode, name, unit, unit_price_fen, qty_milli, amount_fen) "
                "VALUES (?, 1, '6901234567892', '可口可乐 330ml', '瓶', 350, 1000, 350)", (sale_id,))
    con.execute("INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
                "VALUES (?, 1, 'cash', 350, '', 'ok', '')", (sale_id,))
    con.execute("UPDATE till_counter SET last_receipt_no = 9, last_hash = ?", (digest,))


def cut_the_newest_sale(con: sqlite3.Connection) -> None:
    """The issue's story: receipt 8 deleted with its rows, its audit records from its commit up, the counter reset.

    Every row a cut record had changed goes back to its last remaining record (or goes), so the rest agrees.
    """
    sale_id, prev = con.execute(f"SELECT id, prev_hash FROM sale WHERE id = {NEWEST}").fetchone()
    seq = con.execute("SELECT seq FROM audit WHERE kind = 'commit' AND ref = ?", (sale_id,)).fetchone()[0]
    cut = con.execute("SELECT kind, ref FROM audit WHERE seq >= ?", (seq,)).fetchall()
    con.execute("DELETE FROM audit WHERE seq >= ?", (seq,))
    for kind, ref in cut:
        if kind == audit.EVENT:
            con.execute("DELETE FROM event WHERE id = ?", (ref,))
        elif kind == audit.OUTCOME and ref != sale_id:
            _restore_outcome(con, ref)
        elif kind == audit.STOCK_MOVE:  # the sale's stock moves (store.stock) go with it
            con.execute("DELETE FROM stock_move WHERE id = ?", (ref,))
    for table in ("line", "payment", "discount", "print_attempt", "receipt_outcome", "event"):
        con.execute(f"DELETE FROM {table} WHERE sale_id = ?", (sale_id,))
    con.execute("DELETE FROM sale WHERE id = ?", (sale_id,))
    head = con.execute("SELECT hash FROM audit WHERE seq = ?", (seq - 1,)).fetchone()[0]
    con.execute("UPDATE till_counter SET last_receipt_no = 7, last_hash = ?, audit_seq = ?, audit_hash = ?",
                (prev, seq - 1, head))


def _restore_outcome(con: sqlite3.Connection, sale_id: int) -> None:
    kind, content = con.execute("SELECT kind, content FROM audit WHERE ref = ? AND kind IN ('commit', 'outcome') "
                                "ORDER BY seq DESC LIMIT 1", (sale_id,)).fetchone()
    value = json.loads(content)
    state, code, reason, at = value["outcome"] if kind == audit.COMMIT else value
    con.execute("UPDATE receipt_outcome SET state = ?, reason_code = ?, reason = ?, updated_at = ? WHERE sale_id = ?",
                (state, code, reason, at, sale_id))


def rebuild_without_the_key(con: sqlite3.Connection) -> None:
    """Receipt 1's line made cheaper, then both chains recomputed with plain SHA-256, as without the key."""
    con.row_factory = sqlite3.Row
    con.execute("UPDATE line SET amount_fen = 1 WHERE sale_id = (SELECT id FROM sale WHERE receipt_no = 1)")
    prev, hashes = "0" * 64, {}
    for sale in con.execute("SELECT * FROM sale ORDER BY receipt_no").fetchall():
        rows = {table: [dict(r) for r in con.execute(f"SELECT * FROM {table} WHERE sale_id = ?", (sale["id"],))]
                for table in ("line", "payment", "discount")}
        content = journal.canonical_content(dict(sale, original=sale["original_id"]),
                                            [dict(r, original_line=r["original_line_id"]) for r in rows["line"]],
                                            rows["payment"], rows["discount"])
        digest = hashlib.sha256((prev + content).encode()).hexdigest()
        con.execute("UPDATE sale SET prev_hash = ?, hash = ?, hash_kind = '' WHERE id = ?", (prev, digest, sale["id"]))
        hashes[sale["id"]], prev = digest, digest
    last, prev = prev, "0" * 64
    for record in con.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        content = record["content"]
        if record["kind"] == audit.COMMIT:
            content = audit.dumps(dict(json.loads(content), hash=hashes[record["ref"]]))
        digest = hashlib.sha256((prev + content).encode()).hexdigest()
        con.execute("UPDATE audit SET content = ?, prev_hash = ?, hash = ?, hash_kind = '' WHERE id = ?",
                    (content, prev, digest, record["id"]))
        prev = digest
    con.execute("UPDATE till_counter SET last_hash = ?, audit_hash = ?", (last, prev))


def mark_a_rewrite_keyless(con: sqlite3.Connection) -> None:
    """Receipt 8's total lowered and its hash recomputed plainly, marked as written while the key was missing."""
    row = con.execute(f"SELECT prev_hash FROM sale WHERE id = {NEWEST}").fetchone()
    con.execute(f"UPDATE sale SET total_fen = 1, hash_kind = 'nokey', hash = ? WHERE id = {NEWEST}",
                (hashlib.sha256((row[0] + "forged").encode()).hexdigest(),))


Tamper = Union[str, Callable[[sqlite3.Connection], None]]


def _tamper(path: Path, tamper: Tamper) -> None:
    con = sqlite3.connect(path)
    try:
        with con:
            if callable(tamper):
                tamper(con)
            else:
                con.executescript(tamper)
    finally:
        con.close()

#: (what was done, the edit, words verify must say): each case on a fresh copy of the shop.
CASES = [
    ("total edited", "UPDATE sale SET total_fen = 1 WHERE receipt_no = 1", "Receipt 1-000001 was changed"),
    ("line amount edited", "UPDATE line SET amount_fen = 1 WHERE sale_id = (SELECT id FROM sale WHERE receipt_no = 6)",
     "Receipt 1-000006 was changed"),
    ("line deleted", "DELETE FROM line WHERE sale_id = (SELECT id FROM sale WHERE receipt_no = 1) AND position = 2",
     "Receipt 1-000001 was changed"),
    ("payment method edited", "UPDATE payment SET method = 'wechat' WHERE sale_id = (SELECT id FROM sale WHERE "
     "receipt_no = 6)", "Receipt 1-000006 was changed"),
    ("payment amount edited", "UPDATE payment SET amount_fen = 1 WHERE sale_id = (SELECT id FROM sale WHERE "
     "receipt_no = 2)", "Receipt 1-000002 was changed"),
    ("payment reason edited", "UPDATE payment SET reason = 'x' WHERE sale_id = (SELECT id FROM sale WHERE "
     "receipt_no = 6)", "Receipt 1-000006: a payment's reason"),
    ("discount edited", "UPDATE discount SET amount_fen = 0 WHERE kind = 'amount'", "Receipt 1-000003 was changed"),
    ("discount deleted", "DELETE FROM discount WHERE kind = 'percent'", "Receipt 1-000003 was changed"),
    ("refund's sale relinked", "UPDATE sale SET original_id = (SELECT id FROM sale WHERE receipt_no = 2) "
     "WHERE receipt_no = 4", "Receipt 1-000004 was changed"),
    ("void turned into a sale", "UPDATE sale SET kind = 'sale' WHERE receipt_no = 5", "Receipt 1-000005 was changed"),
    ("void's reason edited", "UPDATE sale SET reason = '' WHERE receipt_no = 5", "Receipt 1-000005 was changed"),
    ("outcome before the checkpoint", "UPDATE receipt_outcome SET state = 'printed' WHERE sale_id = (SELECT id "
     "FROM sale WHERE receipt_no = 2)", "receipt 1-000002 was changed from handwritten to printed"),
    ("outcome after the checkpoint", "UPDATE receipt_outcome SET state = 'printed' WHERE sale_id = (SELECT id "
     "FROM sale WHERE receipt_no = 7)", "receipt 1-000007 was changed from handwritten to printed"),
    ("outcome deleted", "DELETE FROM receipt_outcome WHERE sale_id = (SELECT id FROM sale WHERE receipt_no = 4)",
     "receipt outcome of receipt 1-000004 (printed) was deleted"),
    ("print attempt edited", "UPDATE print_attempt SET result = 'printed' WHERE result = 'failed' AND sale_id = "
     "(SELECT id FROM sale WHERE receipt_no = 2)", "of receipt 1-000002 was changed outside the till"),
    ("print attempt deleted", "DELETE FROM print_attempt WHERE sale_id = (SELECT id FROM sale WHERE receipt_no = 7)",
     "of receipt 1-000007 was deleted"),
    ("event deleted", "DELETE FROM event WHERE kind = 'print_failed' AND sale_id = (SELECT id FROM sale WHERE "
     "receipt_no = 2)", "(print_failed) of receipt 1-000002 was deleted"),
    ("event written outside the till", "INSERT INTO event (at, till_id, cashier, kind, printer, detail) VALUES "
     "('2030-01-01 00:00:00', '1', '', 'drawer_open', '', '')", "has no audit record"),
    ("a middle sale deleted", "DELETE FROM sale WHERE receipt_no = 3", "receipt 1-000003 is missing"),
    ("a sale forged", forge_a_sale, "Receipt 1-000009 was rewritten without the journal key"),
    ("newest sale, audit and counter cut after the checkpoint", cut_the_newest_sale,
     "Receipt 1-000008 is missing from the journal: journal checkpoint 2 verified"),
    ("counter set back", "UPDATE till_counter SET last_receipt_no = 7", "Receipt 1-000008"),
    ("the newest checkpoint deleted", "DELETE FROM journal_checkpoint WHERE id = (SELECT MAX(id) FROM "
     "journal_checkpoint)", "Journal checkpoint 2 was deleted"),
    ("the newest checkpoint edited", "UPDATE journal_checkpoint SET content = replace(content, '\"sale\":', "
     "'\"sale\": ') WHERE id = (SELECT MAX(id) FROM journal_checkpoint)", "Journal checkpoint 2 was changed"),
    ("the Z deleted", "DROP TRIGGER z_report_no_delete; DELETE FROM z_report", "Z 1-1 was deleted"),
    ("the Z edited", "DROP TRIGGER z_report_no_update; UPDATE z_report SET closed_by = 'c9'", "Z 1-1"),
    ("the float edited", "UPDATE shift SET float_fen = 1 WHERE number = 1", "shift"),
    ("who closed the shift edited", "UPDATE shift SET closed_by = 'c9' WHERE number = 1", "shift"),
    ("paid out edited", "UPDATE cash_move SET amount_fen = 50", "cash move"),
    ("hand-over deleted", "DELETE FROM shift_handover", "hand-over"),
    ("an audit record deleted", "DELETE FROM audit WHERE seq = 5", "audit record 5 of till 1 was deleted"),
    ("an audit record edited", "UPDATE audit SET content = replace(content, 'failed', 'printed') WHERE kind = "
     "'outcome'", "was changed after it was written"),
    ("both chains rebuilt without the key", rebuild_without_the_key, "rewritten"),
    ("a rewrite marked as written without the key", mark_a_rewrite_keyless, "Receipt 1-000008"),
]


@pytest.mark.parametrize("tamper, said", [(case[1], case[2]) for case in CASES], ids=[case[0] for case in CASES])
def test_each_tamper_is_named_by_verify_full(shop_copy, tamper: Tamper, said: str):
    _tamper(shop_copy, tamper)
    result = verify_copy(shop_copy)
    assert not result.ok and said.lower() in result.message.lower(), result.message


def test_the_untouched_shop_is_intact(shop_copy):
    result = verify_copy(shop_copy)
    assert result.ok and result.sales_checked == 8 and not result.keyless, result.message


#: The cases after the checkpoint: plain verify (from the checkpoint, as the till's daily run) names them too.
AFTER_THE_CHECKPOINT = ("outcome after the checkpoint", "a sale forged",
                        "newest sale, audit and counter cut after the checkpoint", "counter set back",
                        "the newest checkpoint deleted", "both chains rebuilt without the key")


@pytest.mark.parametrize("tamper, said", [(case[1], case[2]) for case in CASES if case[0] in AFTER_THE_CHECKPOINT],
                         ids=[case[0] for case in CASES if case[0] in AFTER_THE_CHECKPOINT])
def test_each_tamper_after_the_checkpoint_is_named_by_plain_verify(shop_copy, tamper: Tamper, said: str):
    _tamper(shop_copy, tamper)
    result = verify_copy(shop_copy, full=False)
    assert not result.ok and said.lower() in result.message.lower(), result.message
