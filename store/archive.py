"""Archive: closed years of documents moved to a second SQLite file that verify and the history still read.

``archive(before)`` moves every document (sale, refund, void) sold before
``before`` (a 1 January of a past year) with its lines, payments,
discounts, receipt outcome, print attempts and events, and each till's
audit records up to the first one about a row that stays, to ONE archive
file next to the database that grows year by year:
``<db stem>-archive.sqlite3`` (same schema: the migrations run on it). It
works in short transactions of ``BATCH`` documents (ATTACH, INSERT INTO
archive.x SELECT ... FROM main.x, DELETE FROM main.x), so a selling till
waits a moment at most; a run that stopped half way is finished by
running it again (every batch moves only what is still in the live file).

Nothing is moved while a document before the cut has an unresolved
receipt outcome or a correction on the other side of the cut (a document
and its refunds and voids stay together), or while the journal is broken.
Z reports stay in the live file (triggers refuse deleting them).

``joined()`` attaches the archive and shadows each moved table with a
temporary view of both files (``UNION ALL``): ``journal verify`` then walks
one chain across the cut exactly as before (links, hashes, audit records),
and ``sales list --archive`` reads both. At the end a journal checkpoint
(chained and keyed like the others) records the cut: each till's last
archived receipt and audit record. Without the archive file (a backup
copy), verify starts at that cut and checks the live part only.
PostgreSQL is not supported (SQLite only).
"""
from __future__ import annotations

import datetime
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from store import outcomes
from store.archive_view import TABLES, _columns, archive_path, cut, database_file, joined  # noqa: F401
from store.db import db

BATCH = 200


class ArchiveError(Exception):
    """One sentence: why nothing (more) was archived."""


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    documents: int
    moved: int
    resumed: bool


def _create(path: Path) -> None:
    """The archive file with the live schema (the migrations run on it)."""
    from store import migrations
    from store.db import connect_url

    database = connect_url("sqlite:///" + str(path))
    try:
        database.connect()
        migrations.migrate(database)
    finally:
        database.close()


def _plan(cursor, since: str, synced: bool = False
          ) -> Tuple[Dict[str, Tuple[int, str, int, str]], List[int], List[int], Dict[str, int]]:
    """Read through the joined view: (each till's cut head, document ids, sale-less event ids, audit cut per till).

    Raises ArchiveError for anything that forbids the cut.
    """
    rows = cursor.execute("SELECT id, till_id, receipt_no, hash, original_id FROM sale WHERE sold_at < ? "
                          "ORDER BY till_id, receipt_no", (since,)).fetchall()
    ids = {row[0] for row in rows}
    heads: Dict[str, Tuple[int, str, int, str]] = {}
    for sale_id, till, no, digest, original in rows:
        heads[till] = (no, digest, 0, "")
        if original is not None and original not in ids:
            raise ArchiveError(f"Sale {original} corrected by document {sale_id} before {since[:10]} was sold after "
                               f"it: a document and its corrections stay together; nothing was archived.")
    for till, (no, _, _, _) in heads.items():
        later = cursor.execute("SELECT receipt_no FROM sale WHERE till_id = ? AND receipt_no < ? AND sold_at >= ? "
                               "LIMIT 1", (till, no, since)).fetchone()
        if later:
            raise ArchiveError(f"Receipt {later[0]} of till {till} is dated after {since[:10]} but numbered before "
                               f"archived ones (the clock was set back); nothing was archived.")
    for chunk in _chunks(sorted(ids)):
        marks = ",".join("?" * len(chunk))
        found = cursor.execute(f"SELECT id, original_id FROM sale WHERE original_id IN ({marks}) AND sold_at >= ? "
                               f"LIMIT 1", (*chunk, since)).fetchone()
        if found:
            raise ArchiveError(f"Sale {found[1]} sold before {since[:10]} has a refund or void after it "
                               f"(document {found[0]}): a document and its corrections stay together; "
                               f"nothing was archived.")
        for sale_id, state in cursor.execute(f"SELECT sale_id, state FROM receipt_outcome WHERE sale_id IN ({marks})",
                                             chunk).fetchall():
            if outcomes.is_unresolved(state):
                raise ArchiveError(f"Document {sale_id} has an unresolved receipt outcome ({state}): resolve it "
                                   f"first; nothing was archived.")
    events = [r[0] for r in cursor.execute("SELECT id FROM event WHERE sale_id IS NULL AND at < ? ORDER BY id",
                                           (since,)).fetchall()]
    archived = {"commit": ids, "outcome": ids, "event": set(events)}
    attempts: Set[int] = set()
    for chunk in _chunks(sorted(ids)):
        marks = ",".join("?" * len(chunk))
        attempts.update(r[0] for r in cursor.execute(f"SELECT id FROM print_attempt WHERE sale_id IN ({marks})",
                                                     chunk).fetchall())
        archived["event"].update(r[0] for r in cursor.execute(f"SELECT id FROM event WHERE sale_id IN ({marks})",
                                                              chunk).fetchall())
    archived["attempt"] = attempts
    # the records of the documents' stock moves go with them; the moves stay (a balance is their sum)
    archived["stock_move"] = set()
    for chunk in _chunks(sorted(ids)):
        archived["stock_move"].update(r[0] for r in cursor.execute(
            f"SELECT id FROM stock_move WHERE document IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    audit_cut: Dict[str, int] = {}
    tills = [r[0] for r in cursor.execute("SELECT DISTINCT till_id FROM audit").fetchall()]
    for till in tills:
        seq, prev = 0, ""
        for number, kind, ref, digest in cursor.execute(
                "SELECT seq, kind, ref, hash FROM audit WHERE till_id = ? ORDER BY seq", (till,)):
            if ref not in archived.get(kind, ()):
                break
            seq, prev = number, digest
        if seq:
            audit_cut[till] = seq
            no, digest, _, _ = heads.get(till, (0, "", 0, ""))
            heads[till] = (no, digest, seq, prev)
    _refuse_unsynced(cursor, audit_cut, synced)
    maxima = {kind: max(archived[kind], default=0) for kind in ("commit", "attempt", "event")}
    heads["_max"] = (maxima["commit"], "", maxima["attempt"], str(maxima["event"]))  # read by _record_cut
    return heads, sorted(ids), sorted(events), audit_cut


def _refuse_unsynced(cursor, audit_cut: Dict[str, int], synced: bool) -> None:
    """Records the shop's server has not acknowledged (store.sync_batch's mark) never leave the till's file.

    A till that syncs (a ``sync_mark`` row, or ``synced``: a server is named) keeps every record after its
    mark: the next batch reads them from here.
    """
    for till, seq in audit_cut.items():
        row = cursor.execute("SELECT sent_seq FROM sync_mark WHERE till_id = ?", (till,)).fetchone()
        if row is None and not synced:
            continue
        sent = row[0] if row else 0
        if seq > sent:
            raise ArchiveError(f"{seq - sent} records of till {till} to archive are not on the shop's server yet: "
                               f"archive once they are synced (chaoying sync status); nothing was archived.")


def _chunks(ids: List[int], size: int = 500) -> List[List[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _move(connection: sqlite3.Connection, table: str, where: str, params: tuple) -> int:
    names = ", ".join(f'"{c}"' for c in _columns(connection, "main", table))
    connection.execute(f'INSERT INTO archive."{table}" ({names}) SELECT {names} FROM main."{table}" WHERE {where}',
                       params)
    return connection.execute(f'DELETE FROM main."{table}" WHERE {where}', params).rowcount


def _fail_after_batch() -> None:
    """A hook for tests: raise here to stop after a committed batch."""


def archive(before: datetime.date, today: Optional[datetime.date] = None, batch: int = BATCH,
            synced: bool = False) -> ArchiveResult:
    """Move the documents sold before ``before`` (1 January of a past year) to the archive file; see the module."""
    from store import journal

    today = today or datetime.date.today()
    if (before.month, before.day) != (1, 1) or before.year > today.year:
        raise ArchiveError(f"{before.isoformat()} is not the 1 January of a closed year: only whole years up to "
                           f"{today.year}-01-01 can be archived; nothing was archived.")
    main = database_file()
    if main is None:
        raise ArchiveError("Archiving needs a SQLite database file (PostgreSQL is not supported); "
                           "nothing was archived.")
    path = archive_path(main)
    since = datetime.datetime.combine(before, datetime.time()).isoformat(sep=" ")
    if not path.exists():
        _create(path)
    with joined():
        result = journal.verify(full=True)
        if not result.ok:
            raise ArchiveError(f"The journal is broken, nothing was archived: {result.message}")
        connection = db.obj.connection()
        with db.atomic():
            heads, ids, events, audit_cut = _plan(connection.cursor(), since, synced)
            in_archive = connection.execute("SELECT COUNT(*) FROM archive.sale").fetchone()[0]
            in_main = connection.execute("SELECT COUNT(*) FROM main.sale WHERE sold_at < ?", (since,)).fetchone()[0]
            resumed = bool(cut_missing(since) and in_archive and (in_main or audit_cut or events))
    moved = 0
    foreign = connection.execute("PRAGMA foreign_keys").fetchone()[0]
    connection.execute("PRAGMA foreign_keys = OFF")  # archive.line names products the archive does not hold
    connection.execute("ATTACH DATABASE ? AS archive", (str(path),))
    try:
        for chunk in _chunks(ids, batch):
            marks, params = ",".join("?" * len(chunk)), tuple(chunk)
            with db.atomic(lock_type="IMMEDIATE"):
                for table in reversed(TABLES[1:-1]):
                    _move(connection, table, f"sale_id IN ({marks})", params)
                moved += _move(connection, "sale", f"id IN ({marks})", params)
            _fail_after_batch()
        for chunk in _chunks(events, batch):
            with db.atomic(lock_type="IMMEDIATE"):
                _move(connection, "event", f"id IN ({','.join('?' * len(chunk))})", tuple(chunk))
        for till, seq in audit_cut.items():
            with db.atomic(lock_type="IMMEDIATE"):
                _move(connection, "audit", "till_id = ? AND seq <= ?", (till, seq))
    finally:
        connection.execute("DETACH DATABASE archive")
        connection.execute(f"PRAGMA foreign_keys = {int(foreign)}")
    if cut_missing(since):
        _record_cut(heads, since, path)
    return ArchiveResult(path, len(ids), moved, resumed)


def cut_missing(since: str) -> bool:
    found = cut()
    return found is None or found["archive"]["before"] < since[:10]


def _record_cut(heads: Dict[str, Tuple[int, str, int, str]], since: str, path: Path) -> None:
    from store import audit, journal
    from store.models import GENESIS_HASH

    heads = dict(heads)
    sale, _, attempt, event = heads.pop("_max")
    first = journal._checkpoints()[0]
    baseline = first["baseline"] if first else {"sale": 0, "attempt": 0, "event": 0}
    tills = {till: [no or 0, digest or GENESIS_HASH, seq or 0, audit_hash or GENESIS_HASH]
             for till, (no, digest, seq, audit_hash) in heads.items()}
    content = {"tills": tills, "sale": sale, "attempt": attempt, "event": int(event), "baseline": baseline,
               "archive": {"file": path.name, "before": since[:10]}}
    content.update({kind: journal._max_id(audit.MODELS[kind]) for kind in audit.DAY_ROWS})  # never archived
    journal._write_checkpoint(content)
