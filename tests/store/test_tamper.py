"""Tamper evidence over a sale's whole story: each edit made in the database file is caught and named.

The edits go through a separate sqlite3 connection to the file, as someone
with a SQLite browser would make them.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from store import audit, events, journal, outcomes, print_attempts
from store.db import db
from tests.store.helpers import catalogue, ring_up

KEY = bytes(range(32))


@pytest.fixture
def shop(sqlite_database, sqlite_url):
    """Four sales on till 1: 1 printed, 2 failed (paper out), 3 paid after a failed WeChat payment, 4 pending."""
    products = catalogue()
    made = [ring_up(products) for _ in range(2)]
    made.append(ring_up(products, pay=(("cash", 350),)))
    attempt = print_attempts.start_printing(made[0].id, "main")
    print_attempts.finish_printing(attempt.id, True)
    attempt = print_attempts.start_printing(made[1].id, "main")
    print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
    made.append(ring_up(products))
    return made


@pytest.fixture
def keyed():
    """The key of a shop made (``chaoying init``) before its first sale."""
    journal.set_key(KEY, "2000-01-01 00:00:00")
    yield KEY
    journal.set_key(None)


def edit(sql: str, *params) -> None:
    """One statement on the database file through its own connection: an edit outside the till."""
    path = db.obj.database
    con = sqlite3.connect(path, timeout=10)
    try:
        with con:
            con.execute(sql, params)
    finally:
        con.close()


def broken(full: bool = True) -> journal.VerifyResult:
    result = journal.verify(full=full)
    assert not result.ok, result.message
    return result


def test_the_untouched_story_is_intact(shop):
    result = journal.verify()
    assert result.ok and result.sales_checked == 4, result.message
    assert result.records_checked > 4  # commits, outcomes, attempts, events


def test_outcome_flipped_from_failed_to_printed_names_the_receipt(shop):
    """The issue's done-when: flip failed to printed in the file, journal verify names receipt 1-000002."""
    assert journal.verify().ok
    edit("UPDATE receipt_outcome SET state = 'printed', reason_code = '', reason = '' WHERE sale_id = ?", shop[1].id)
    result = broken()
    assert result.bad_receipt_no == 2
    assert "receipt 1-000002" in result.message and "changed from failed to printed" in result.message


def test_outcome_row_deleted(shop):
    edit("DELETE FROM receipt_outcome WHERE sale_id = ?", shop[0].id)
    result = broken()
    assert "receipt outcome of receipt 1-000001 (printed) was deleted" in result.message


def test_print_attempt_edited(shop):
    edit("UPDATE print_attempt SET result = 'printed', reason_code = '' WHERE sale_id = ?", shop[1].id)
    assert "of receipt 1-000002 was changed outside the till" in broken().message


def test_print_attempt_deleted(shop):
    edit("DELETE FROM print_attempt WHERE sale_id = ?", shop[1].id)
    message = broken().message
    assert message.startswith("Print attempt") and "of receipt 1-000002 was deleted" in message


def test_event_deleted_is_named_with_its_kind(shop):
    event_id = db.obj.execute_sql("SELECT id FROM event WHERE kind = 'print_failed'").fetchone()[0]
    edit("DELETE FROM event WHERE id = ?", event_id)
    assert f"Event {event_id} (print_failed) of receipt 1-000002 was deleted" in broken().message


def test_event_written_outside_the_till(shop):
    edit("INSERT INTO event (at, till_id, cashier, kind, printer, detail) "
         "VALUES ('2026-01-01 00:00:00', '1', '', 'drawer_open', '', '')")
    assert "has no audit record" in broken().message


def test_an_event_of_the_log_alone_is_sealed_too(database):
    event = events.log_event("sign_in", "1", detail="Ann")
    assert journal.verify().ok
    database.execute_sql("UPDATE event SET detail = 'Bob' WHERE id = " + str(event.id))
    assert f"Event {event.id} (sign_in) was changed" in journal.verify().message


def test_payment_reason_edited(shop):
    edit("UPDATE payment SET reason = 'network down' WHERE sale_id = ?", shop[2].id)
    result = broken()
    assert result.bad_receipt_no == 3 and "payment's reason was changed" in result.message


def test_failed_payment_event_is_sealed_with_the_commit(sqlite_database):
    from store import sales

    products = catalogue()
    basket = sales.Basket()
    basket.add(products["42"], 1000)
    tender = sales.Tender(basket.total_fen)
    tender.record_failed("wechat", basket.total_fen, "wx1", "customer cancelled")
    tender.add_payment("cash", basket.total_fen)
    sales.commit_sale(basket, tender, "1", None)
    assert journal.verify().ok
    edit("DELETE FROM event WHERE kind = 'payment_failed'")
    assert "(payment_failed) of receipt 1-000001 was deleted" in broken().message


def test_audit_record_edited_and_cut(shop):
    edit("UPDATE audit SET content = replace(content, 'failed', 'printed') WHERE kind = 'outcome'")
    assert "was changed after it was written" in broken().message


def test_audit_chain_cut_at_its_end(shop):
    edit("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit WHERE till_id = '1') AND till_id = '1'")
    assert "audit chain of till 1 was cut" in broken().message


# --- the key ------------------------------------------------------------------------


def _rebuild_plain_chains(till_id: str = "1") -> None:
    """What someone with write access but no key does after an edit: recompute both chains with SHA-256."""
    con = sqlite3.connect(db.obj.database, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        with con:
            prev, hashes = "0" * 64, {}
            for sale in con.execute("SELECT * FROM sale WHERE till_id = ? ORDER BY receipt_no", (till_id,)).fetchall():
                lines = [dict(r) for r in con.execute("SELECT * FROM line WHERE sale_id = ?", (sale["id"],))]
                payments = [dict(r) for r in con.execute("SELECT * FROM payment WHERE sale_id = ?", (sale["id"],))]
                digest = journal.chain_hash(prev, journal.canonical_content(dict(sale), lines, payments))
                con.execute("UPDATE sale SET prev_hash = ?, hash = ?, hash_kind = '' WHERE id = ?",
                            (prev, digest, sale["id"]))
                hashes[sale["id"]], prev = digest, digest
            last_sale = prev
            prev = "0" * 64
            for record in con.execute("SELECT * FROM audit WHERE till_id = ? ORDER BY seq", (till_id,)).fetchall():
                content = record["content"]
                if record["kind"] == audit.COMMIT:
                    value = json.loads(content)
                    value["hash"] = hashes[record["ref"]]
                    content = audit.dumps(value)
                digest = journal.chain_hash(prev, content)
                con.execute("UPDATE audit SET content = ?, prev_hash = ?, hash = ?, hash_kind = '' WHERE id = ?",
                            (content, prev, digest, record["id"]))
                prev = digest
            con.execute("UPDATE till_counter SET last_hash = ?, audit_hash = ? WHERE till_id = ?",
                        (last_sale, prev, till_id))
    finally:
        con.close()


def test_without_a_key_a_rebuilt_chain_goes_unseen(shop):
    """The limit the key lifts: with plain SHA-256 anyone can recompute everything."""
    edit("UPDATE line SET amount_fen = 1 WHERE sale_id = ?", shop[0].id)
    _rebuild_plain_chains()
    assert journal.verify().ok


def test_with_the_key_a_rebuilt_chain_is_caught(sqlite_database, keyed):
    products = catalogue()
    made = [ring_up(products) for _ in range(3)]
    assert journal.verify().ok
    assert {row[0] for row in sqlite_database.execute_sql("SELECT hash_kind FROM sale")} == {"hmac"}
    edit("UPDATE line SET amount_fen = 1 WHERE sale_id = ?", made[1].id)
    _rebuild_plain_chains()
    result = broken()
    assert "rewritten without the journal key" in result.message


def test_with_the_key_a_chain_rebuilt_from_the_start_is_caught_by_the_checkpoint(sqlite_database, keyed):
    products = catalogue()
    made = [ring_up(products) for _ in range(3)]
    assert journal.verify(full=False, checkpoint=True).ok
    edit("UPDATE line SET amount_fen = 1 WHERE sale_id = ?", made[0].id)
    _rebuild_plain_chains()
    assert "is not the one journal checkpoint 2 verified" in broken(full=False).message


def test_keyed_records_without_the_key_are_unchecked_not_broken(database, keyed):
    products = catalogue()
    ring_up(products)
    journal.set_key(None)
    result = journal.verify()
    assert result.ok and result.unchecked > 0
    assert "could not be fully checked" in result.message
    journal.set_key(KEY, "2000-01-01 00:00:00")
    assert journal.verify().unchecked == 0


def test_old_plain_sales_still_verify_once_a_key_is_set(database):
    products = catalogue()
    ring_up(products)
    journal.set_key(KEY)
    try:
        ring_up(products)
        kinds = [row[0] for row in database.execute_sql("SELECT hash_kind FROM sale ORDER BY receipt_no")]
        assert kinds == ["", "hmac"]
        assert journal.verify().ok
    finally:
        journal.set_key(None)


# --- checkpoints --------------------------------------------------------------------


def test_checkpoint_verify_checks_only_what_came_after(shop):
    first = journal.verify(full=False, checkpoint=True)
    assert first.ok and not first.from_checkpoint and first.sales_checked == 4
    from store.sales import Basket, Tender, commit_sale, find_product

    basket = Basket()
    basket.add(find_product("42"), 1000)
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    commit_sale(basket, tender, "1", None)
    second = journal.verify(full=False, checkpoint=True)
    assert second.ok and second.from_checkpoint and second.sales_checked == 1, second.message


def test_an_edit_before_the_checkpoint_is_caught_by_full(shop):
    """A checkpoint trusts what it verified: an outcome edited afterwards (and not touched since) needs --full."""
    assert journal.verify(full=False, checkpoint=True).ok
    edit("UPDATE receipt_outcome SET state = 'printed' WHERE sale_id = ?", shop[1].id)
    assert journal.verify(full=False).ok  # the documented limit of a checkpoint
    result = broken(full=True)
    assert "receipt 1-000002" in result.message


def test_an_outcome_changed_after_the_checkpoint_is_checked_from_it(shop):
    assert journal.verify(full=False, checkpoint=True).ok
    outcomes.resolve(shop[1].id, outcomes.HANDWRITTEN)
    edit("UPDATE receipt_outcome SET state = 'printed' WHERE sale_id = ?", shop[1].id)
    assert "changed from handwritten to printed" in broken(full=False).message


def test_an_edited_checkpoint_is_caught(shop):
    assert journal.verify(full=False, checkpoint=True).ok
    edit("UPDATE journal_checkpoint SET content = replace(content, '\"sale\":', '\"sale\": ') "
         "WHERE id = (SELECT MAX(id) FROM journal_checkpoint)")
    assert "checkpoint" in broken(full=False).message


def test_a_sale_edited_before_the_checkpoint_is_caught_at_the_checkpoint_link(shop):
    assert journal.verify(full=False, checkpoint=True).ok
    edit("UPDATE line SET amount_fen = 1 WHERE sale_id = ?", shop[3].id)
    _rebuild_plain_chains()
    assert "is not the one journal checkpoint 2 verified" in broken(full=False).message


def test_backup_manifest_figures_hold_the_audit_head(shop):
    from pathlib import Path

    from store.backup import read_figures
    from store.models import TillCounter

    counter = TillCounter.get_by_id("1")
    head = read_figures(Path(db.obj.database))["tills"]["1"]
    assert (head["audit_seq"], head["audit_hash"]) == (counter.audit_seq, counter.audit_hash)
    assert head["last_hash"] == counter.last_hash and counter.audit_seq > 4


def test_a_shift_its_cash_moves_and_hand_overs_are_sealed(shop):
    """The figures a Z adds up besides the documents: the float, paid out, who handed over to whom."""
    from store import shifts

    shift = shifts.open_shift("1", 20000, cashier="c1")
    paid_out = shifts.cash_out("1", 2000, "送货", cashier="c1")
    shifts.record_handover("1", "c1", "c2")
    assert journal.verify(checkpoint=True).ok  # a checkpoint: the rows above are verified
    edit("UPDATE cash_move SET amount_fen = 200 WHERE id = ?", paid_out.id)  # ¥20 paid out becomes ¥2
    assert "cash move" in broken().message  # --full walks everything
    edit("UPDATE cash_move SET amount_fen = 2000 WHERE id = ?", paid_out.id)
    assert journal.verify(full=True).ok
    edit("UPDATE shift SET float_fen = 10000 WHERE id = ?", shift.id)
    assert f"shift {shift.id}" in broken().message
    edit("UPDATE shift SET float_fen = 20000 WHERE id = ?", shift.id)
    edit("DELETE FROM shift_handover")
    assert "hand-over" in broken().message and "deleted" in broken().message


def test_a_shift_closed_by_a_z_is_sealed_as_closed(sqlite_database):
    from store import reports, shifts

    shift = shifts.open_shift("1", 20000, cashier="c1")
    sale = ring_up(catalogue())
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, True)
    reports.close_z("1", counted_fen=20350, cashier="c1")
    assert journal.verify().ok
    edit("UPDATE shift SET closed_by = 'c9' WHERE id = ?", shift.id)  # who closed the day, rewritten
    assert f"shift {shift.id} was changed" in broken().message


def test_a_key_file_of_another_till_is_named_as_such_a_record_changed_with_the_right_key_as_changed(
        sqlite_database, keyed):
    """Each till's `chaoying init` makes its own key unless the shop's is copied first: the server's verify with
    the office's key then met till 1's record 1 "changed after it was written" (the real tills under tmux). Two
    sealed records in a row that do not check say it is the key; with the right key an edit names its record."""
    products = catalogue()
    for _ in range(2):
        ring_up(products)
    journal.set_key(bytes(reversed(range(32))), "2000-01-01 00:00:00")  # another till's key
    result = journal.verify()
    assert not result.ok and "were sealed with another key" in result.message
    assert "do not check with the key file given" in result.message
    journal.set_key(KEY, "2000-01-01 00:00:00")
    assert journal.verify().ok
    edit("UPDATE audit SET content = content || ' ' WHERE seq = 2")
    result = journal.verify()
    assert not result.ok and result.message == "The audit record 2 of till 1 was changed after it was written."
