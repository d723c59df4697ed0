"""Archive: closed years move to the archive file; verify walks across the cut; refusals; a crash is finished."""
from __future__ import annotations

import datetime
import sqlite3

import pytest

from store import archive, documents, events, journal, outcomes, print_attempts, queries, sales
from store.db import db
from store.models import Audit, Event, Line, Sale
from tests.store.helpers import catalogue, ring_up

OLD = datetime.datetime(2025, 3, 1, 10, 0)
NEW = datetime.datetime(2026, 2, 1, 10, 0)
CUT = datetime.date(2026, 1, 1)
TODAY = datetime.date(2026, 6, 1)


def _at(monkeypatch, when):
    monkeypatch.setattr(sales, "now", lambda: when)
    monkeypatch.setattr(outcomes, "now", lambda: when)
    monkeypatch.setattr(print_attempts, "now", lambda: when)


def _sell(monkeypatch, products, when, till_id="1", printed=True):
    _at(monkeypatch, when)
    sale = ring_up(products, till_id=till_id)
    if printed:
        attempt = print_attempts.start_printing(sale.id, "p1")
        print_attempts.finish_printing(attempt.id, True)
    events.log_event("note", till_id, sale=sale.id)
    return sale


@pytest.fixture
def two_years(sqlite_database, monkeypatch):
    products = catalogue()
    old = [_sell(monkeypatch, products, OLD + datetime.timedelta(hours=n), till) for n in range(3)
           for till in ("1", "2")]
    new = [_sell(monkeypatch, products, NEW + datetime.timedelta(hours=n)) for n in range(2)]
    return products, old, new


def _archive_file():
    return archive.archive_path(archive.database_file())


def test_round_trip(two_years, monkeypatch):
    _, old, new = two_years
    result = archive.archive(CUT, today=TODAY, batch=2)
    assert (result.documents, result.moved, result.resumed) == (6, 6, False)
    assert sorted(s.id for s in Sale.select()) == sorted(s.id for s in new)  # live holds the new year only
    assert Event.select().where(Event.sale.in_([s.id for s in old])).count() == 0
    assert Audit.select().count() < 30
    with sqlite3.connect(str(_archive_file())) as copy:
        assert copy.execute("SELECT COUNT(*) FROM sale").fetchone()[0] == 6
        assert copy.execute("SELECT COUNT(*) FROM line").fetchone()[0] == 6
    # the live chain's first document follows the archive's last one
    first_live = Sale.select().where(Sale.till_id == "1").order_by(Sale.receipt_no).first()
    with sqlite3.connect(str(_archive_file())) as copy:
        last = copy.execute("SELECT hash FROM sale WHERE till_id = '1' ORDER BY receipt_no DESC").fetchone()[0]
    assert first_live.prev_hash == last
    checked = journal.verify(full=True)
    assert checked.ok and checked.sales_checked == 8, checked.message
    assert journal.verify(full=False, checkpoint=True).ok
    # the history finds an archived receipt; the live part alone says nothing is missing
    found = queries.search_receipts("1", str(old[0].receipt_no))
    assert [r["id"] for r in found] == [old[0].id]
    # running it again moves nothing
    assert archive.archive(CUT, today=TODAY).moved == 0
    assert journal.verify(full=True).ok


def test_edit_in_archive_is_caught(two_years):
    _, old, _ = two_years
    archive.archive(CUT, today=TODAY)
    with sqlite3.connect(str(_archive_file())) as copy:
        copy.execute("UPDATE line SET amount_fen = 1 WHERE sale_id = ?", (old[2].id,))
    result = journal.verify(full=True)
    assert not result.ok and (result.bad_till, result.bad_receipt_no) == (old[2].till_id, old[2].receipt_no)
    assert "changed" in result.message


def test_without_the_archive_file_the_live_part_verifies(two_years):
    archive.archive(CUT, today=TODAY)
    _archive_file().rename(_archive_file().with_suffix(".away"))
    result = journal.verify(full=True)
    assert result.ok and "not checked" in result.message, result.message
    assert result.sales_checked == 2


def test_unresolved_receipt_refuses(sqlite_database, monkeypatch):
    products = catalogue()
    _sell(monkeypatch, products, OLD, printed=False)
    _sell(monkeypatch, products, NEW)
    with pytest.raises(archive.ArchiveError, match="unresolved"):
        archive.archive(CUT, today=TODAY)
    assert Sale.select().count() == 2


def test_refund_after_the_cut_refuses(sqlite_database, monkeypatch):
    products = catalogue()
    sale = _sell(monkeypatch, products, OLD)
    _at(monkeypatch, NEW)
    line = Line.get(Line.sale == sale.id)
    refund = documents.commit_refund(sale.id, [(line.id, 1000)], "1")
    attempt = print_attempts.start_printing(refund.id, "p1")
    print_attempts.finish_printing(attempt.id, True)
    with pytest.raises(archive.ArchiveError, match="refund or void after it"):
        archive.archive(CUT, today=TODAY)
    assert Sale.select().count() == 2
    with sqlite3.connect(str(_archive_file())) as copy:
        assert copy.execute("SELECT COUNT(*) FROM sale").fetchone()[0] == 0


def test_not_a_closed_year_refuses(two_years):
    for day in (datetime.date(2026, 1, 1), datetime.date(2025, 6, 1)):
        with pytest.raises(archive.ArchiveError, match="closed year"):
            archive.archive(day, today=datetime.date(2025, 12, 31))
    assert Sale.select().count() == 8


def test_interrupted_archive_is_finished(two_years, monkeypatch):
    calls = []

    def crash():
        calls.append(1)
        raise RuntimeError("power cut")

    monkeypatch.setattr(archive, "_fail_after_batch", crash)
    with pytest.raises(RuntimeError):
        archive.archive(CUT, today=TODAY, batch=2)
    assert Sale.select().count() == 6  # one batch of two went
    assert journal.verify(full=True).ok  # half way, the chain still reads across both files
    monkeypatch.setattr(archive, "_fail_after_batch", lambda: None)
    db.obj.close()
    db.obj.connect()
    result = archive.archive(CUT, today=TODAY, batch=2)
    assert result.resumed and result.moved == 4 and result.documents == 6
    assert Sale.select().count() == 2
    with sqlite3.connect(str(_archive_file())) as copy:
        assert copy.execute("SELECT COUNT(*) FROM sale").fetchone()[0] == 6
        assert copy.execute("SELECT COUNT(*) FROM payment").fetchone()[0] == 6
    assert journal.verify(full=True).ok


def test_records_the_server_has_not_acknowledged_stay(two_years):
    """A syncing till never archives what its next batch must still read (store.sync_batch's mark)."""
    from store import sync_batch

    before = Sale.select().count()
    with pytest.raises(archive.ArchiveError, match="not on the shop's server yet"):
        archive.archive(CUT, today=TODAY, synced=True)  # a server is named: no mark yet = nothing sent
    for till in ("1", "2"):
        last = Audit.select().where(Audit.till_id == till).order_by(Audit.seq.desc()).first()
        sync_batch.instance_id(till)
        sync_batch.mark_sent(till, last.seq - 1, last.prev_hash)  # all but the newest record acknowledged
    with pytest.raises(archive.ArchiveError, match="till 2 to archive are not on the shop's server yet"):
        archive.archive(CUT, today=TODAY)  # the marks say these tills sync, named server or not
    assert Sale.select().count() == before
    for till in ("1", "2"):
        last = Audit.select().where(Audit.till_id == till).order_by(Audit.seq.desc()).first()
        sync_batch.mark_sent(till, last.seq, last.hash)
    assert archive.archive(CUT, today=TODAY, synced=True).documents == 6
