"""The audit chain: tamper evidence over what tells a sale's story besides the sale itself.

Every receipt outcome change, print attempt start and finish, and event is
copied, as the row now stands, into an append-only ``audit`` record of its
till's chain, in the transaction that writes the row. A record's hash covers
the previous record's hash and its content (HMAC-SHA256 when a journal key is
set: ``store.journal.set_key``). The commit of a document writes one record
(kind ``commit``) holding the document's journal hash, its payments' reasons
and its first outcome: so the two chains are tied, and rebuilding either
needs the key. ``store.journal.verify`` checks that each row still equals its
last record and that no recorded row was deleted.

The till's head (``audit_seq``, ``audit_hash``) lives on its ``till_counter``
row, locked like the receipt number.

A Z report is sealed like a shift (kind ``z_report``); each journal
checkpoint adds a record (kind ``checkpoint``, ref: its number) to every
till's chain it covers, so a checkpoint deleted while its record stands is
named, and deleting it unnoticed means cutting the chain back to before it.
A record written while the shop's key is missing (hash kind "nokey") opens
its run with the event ``journal_key_missing``.
"""
from __future__ import annotations

import datetime
import json
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

import peewee

from store import chain as journal
from store.db import db, is_sqlite, write_transaction
from store.models import (
    Audit,
    CashMove,
    Event,
    PaymentAttempt,
    PrintAttempt,
    ProviderRefund,
    ReceiptOutcome,
    Sale,
    Shift,
    ShiftHandover,
    StockCount,
    StockCountLine,
    StockMove,
    TillCounter,
    ZReport,
    now,
)

COMMIT, OUTCOME, ATTEMPT, EVENT = "commit", "outcome", "attempt", "event"
SHIFT, CASH_MOVE, HANDOVER = "shift", "cash_move", "handover"
PAY_ATTEMPT = "pay_attempt"  # a payment attempt (store.payment_attempts), at each change of its state
PROVIDER_REFUND = "provider_refund"  # a provider refund (store.provider_refunds), at each change of its state
Z_REPORT = "z_report"
#: Stock (store.stock): a move as written; a stocktake at its start and when applied; each counted line.
STOCK_MOVE, STOCK_COUNT, STOCK_COUNT_LINE = "stock_move", "stock_count", "count_line"
#: A journal checkpoint written (ref: its number; content: its number and hash).
CHECKPOINT = "checkpoint"
#: Rows of a till's day besides its documents, sealed as they are written or changed (seal_row).
DAY_ROWS = (SHIFT, CASH_MOVE, HANDOVER, PAY_ATTEMPT, PROVIDER_REFUND,
            Z_REPORT, STOCK_MOVE, STOCK_COUNT, STOCK_COUNT_LINE)
#: The event that opens each run of records written while the shop's key file was missing.
EVENT_KEY_MISSING = "journal_key_missing"

#: The columns each kind of record copies, in this order.
FIELDS: Dict[str, Tuple[str, ...]] = {
    OUTCOME: ("state", "reason_code", "reason", "updated_at"),
    ATTEMPT: ("sale", "printer", "cashier", "started_at", "finished_at", "result", "reason_code", "reason",
              "reprint_no", "prior_state", "evidence"),
    EVENT: ("at", "till_id", "cashier", "kind", "sale", "printer", "detail"),
    SHIFT: ("till_id", "number", "opened_at", "opened_by", "float_fen", "float_counts", "after_receipt_no",
            "closed_at", "closed_by", "z_no"),
    CASH_MOVE: ("shift", "kind", "amount_fen", "reason", "cashier", "manager", "at"),
    HANDOVER: ("shift", "from_cashier", "to_cashier", "at"),
    PAY_ATTEMPT: ("till_id", "basket", "out_trade_no", "provider", "amount_fen", "code_last4", "created_at", "state",
                  "transaction_id", "reason_code", "reason", "updated_at", "sale"),
    PROVIDER_REFUND: ("till_id", "document", "position", "out_refund_no", "out_trade_no", "provider", "total_fen",
                      "amount_fen", "created_at", "state", "refund_id", "reason_code", "reason", "updated_at"),
    Z_REPORT: ("till_id", "z_no", "shift", "closed_at", "closed_by", "last_receipt_no", "figures", "journal_head",
               "prev_hash", "hash"),
    STOCK_MOVE: ("product", "kind", "qty_milli", "cost_fen", "reason", "note", "document", "count", "ref",
                 "till_id", "at", "cashier", "manager"),
    STOCK_COUNT: ("till_id", "number", "started_at", "cashier", "whole", "state", "applied_at", "manager"),
    STOCK_COUNT_LINE: ("count", "product", "counted_milli", "expected_milli", "counted_at", "cashier"),
}
#: The field of each kind that says when its row was written.
_TIME = {OUTCOME: "updated_at", ATTEMPT: "started_at", EVENT: "at", SHIFT: "opened_at", CASH_MOVE: "at",
         HANDOVER: "at", PAY_ATTEMPT: "updated_at", PROVIDER_REFUND: "updated_at",
         Z_REPORT: "closed_at", STOCK_MOVE: "at", STOCK_COUNT: "started_at", STOCK_COUNT_LINE: "counted_at"}


#: The table of each kind of row a record copies (the day's rows and the others that are checked row by row).
MODELS: Dict[str, Any] = {ATTEMPT: PrintAttempt, EVENT: Event, SHIFT: Shift, CASH_MOVE: CashMove,
                          HANDOVER: ShiftHandover, PAY_ATTEMPT: PaymentAttempt,
                          PROVIDER_REFUND: ProviderRefund,
                          Z_REPORT: ZReport, STOCK_MOVE: StockMove, STOCK_COUNT: StockCount,
                          STOCK_COUNT_LINE: StockCountLine}


def hashed_value(value: Any) -> Any:
    """A column's value as the hashed text holds it: a time to the second, the rest as it is."""
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return value


#: Canonical JSON: sorted keys, compact, UTF-8 as is. Built once: json.dumps builds an encoder per call.
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Canonical JSON of ``value``: the text the hashes of the chains cover."""
    return _encoder.encode(value)


def row_content(kind: str, row: Mapping[str, Any]) -> str:
    """The canonical text of a row as an audit record of ``kind`` holds it."""
    return dumps([hashed_value(row[name]) for name in FIELDS[kind]])


def commit_content(receipt_no: int, journal_hash: str, payments: Sequence[Mapping[str, Any]],
                   outcome: Mapping[str, Any]) -> str:
    """The commit record: the document's journal hash, its payments' reasons (by position), its first outcome."""
    reasons = [row["reason"] or "" for row in sorted(payments, key=lambda item: int(item["position"]))]
    return dumps({"receipt_no": int(receipt_no), "hash": journal_hash, "reasons": reasons,
                  "outcome": json.loads(row_content(OUTCOME, outcome))})


def record_time(kind: str, content: str) -> str:
    """When a record was written, from its content ("" when it does not say)."""
    try:
        value = json.loads(content)
        if kind == COMMIT:
            return str(value["outcome"][3])
        return str(value[FIELDS[kind].index(_TIME[kind])] or "")
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


_statements: Dict[tuple, Tuple[str, str, str]] = {}


def _sql(database: peewee.Database) -> Tuple[str, str, str]:
    """(lock head, update head, insert record) for this database's dialect."""
    key = (type(database), database.param, database.quote)
    found = _statements.get(key)
    if found is None:
        def q(identifier: str) -> str:
            return database.quote[0] + identifier + database.quote[1]

        counter, p = q(TillCounter._meta.table_name), database.param
        lock = f"SELECT {q('audit_seq')}, {q('audit_hash')} FROM {counter} WHERE {q('till_id')} = {p}"
        if not is_sqlite(database):
            lock += " FOR UPDATE"
        update = f"UPDATE {counter} SET {q('audit_seq')} = {p}, {q('audit_hash')} = {p} WHERE {q('till_id')} = {p}"
        columns = ("till_id", "seq", "kind", "ref", "content", "prev_hash", "hash", "hash_kind")
        insert = (f"INSERT INTO {q(Audit._meta.table_name)} ({', '.join(q(c) for c in columns)}) "
                  f"VALUES ({', '.join([p] * len(columns))})")
        found = _statements[key] = (lock, update, insert)
    return found


def append(database: peewee.Database, till_id: str, kind: str, ref: int, content: str,
           head: Optional[Tuple[int, str]] = None) -> Tuple[int, str]:
    """Add one record to the till's chain (inside the caller's transaction); return the new head.

    ``head``: the head already locked by the caller (the commit takes it with
    the receipt number and stores the new one itself); otherwise it is
    locked and advanced here.
    """
    lock, update, insert = _sql(database)
    if head is None:
        row = database.execute_sql(lock, (till_id,)).fetchone()
        if row is None:
            TillCounter.insert(till_id=till_id).on_conflict_ignore().execute()
            row = database.execute_sql(lock, (till_id,)).fetchone()
        seq, prev = int(row[0]), row[1]
    else:
        seq, prev = head
    hash_kind = journal.hash_kind()
    if hash_kind == journal.NOKEY and not _in_keyless_run(till_id, seq):
        seq, prev = _announce_missing_key(database, till_id, seq, prev, insert)
    digest = journal.chain_hash(prev, content, hash_kind)
    database.execute_sql(insert, (till_id, seq + 1, kind, int(ref), content, prev, digest, hash_kind))
    if head is None:
        database.execute_sql(update, (seq + 1, digest, till_id))
    return seq + 1, digest


def _in_keyless_run(till_id: str, seq: int) -> bool:
    """True when the till's newest record (``seq``) was itself written while the key was missing."""
    if not seq:
        return False
    kind = Audit.select(Audit.hash_kind).where((Audit.till_id == till_id) & (Audit.seq == seq)).scalar()
    return kind == journal.NOKEY


def _announce_missing_key(database: peewee.Database, till_id: str, seq: int, prev: str,
                          insert: str) -> Tuple[int, str]:
    """The event that opens a run of records written while the shop's key file was missing, and its record."""
    event = Event.create(at=now(), till_id=str(till_id), kind=EVENT_KEY_MISSING, printer="",
                         detail="the journal key file could not be read: records are sealed without it")
    row = Event.select().where(Event.id == event.id).dicts().get()
    content = row_content(EVENT, row)
    digest = journal.chain_hash(prev, content, journal.NOKEY)
    database.execute_sql(insert, (till_id, seq + 1, EVENT, int(event.id), content, prev, digest, journal.NOKEY))
    return seq + 1, digest


def _till_of(sale_id: int) -> str:
    return Sale.select(Sale.till_id).where(Sale.id == sale_id).scalar()


def seal_outcome(sale_id: int, till_id: Optional[str] = None) -> None:
    """Record the receipt outcome of a sale as it now stands (inside the transaction that changed it)."""
    row = ReceiptOutcome.select().where(ReceiptOutcome.sale == sale_id).dicts().get()
    append(db.obj, till_id or _till_of(sale_id), OUTCOME, sale_id, row_content(OUTCOME, row))


def seal_attempt(attempt_id: int, till_id: Optional[str] = None) -> None:
    """Record a print attempt as it now stands (inside the transaction that wrote it)."""
    row = PrintAttempt.select().where(PrintAttempt.id == attempt_id).dicts().get()
    append(db.obj, till_id or _till_of(row["sale"]), ATTEMPT, attempt_id, row_content(ATTEMPT, row))


def seal_row(kind: str, row_id: int, till_id: str) -> None:
    """Record a shift, cash move or hand-over as it now stands (inside the transaction that wrote it)."""
    row = MODELS[kind].select().where(MODELS[kind].id == row_id).dicts().get()
    append(db.obj, str(till_id), kind, row_id, row_content(kind, row))


def add_event(till_id: str, kind: str, cashier: str = "", sale: Any = None, printer: Optional[str] = None,
              detail: str = "", at: Optional[datetime.datetime] = None) -> Event:
    """Append one row to the event log and its audit record, in one transaction.

    Every writer of events goes through here (``store.events.log_event`` for
    most); ``cashier`` is a cashier code.
    """
    with write_transaction():
        event = Event.create(at=at or now(), till_id=str(till_id), cashier=(cashier or "")[:16], kind=kind,
                             sale=getattr(sale, "id", sale), printer=printer or "", detail=detail or "")
        row = Event.select().where(Event.id == event.id).dicts().get()
        append(db.obj, str(till_id), EVENT, event.id, row_content(EVENT, row))
    return event


def records(till_id: str, after_seq: int, chunk: int = 5000) -> Iterable[list]:
    """The till's audit records after ``after_seq`` in order, in chunks of tuples
    (seq, kind, ref, content, prev_hash, hash, hash_kind)."""
    columns = (Audit.seq, Audit.kind, Audit.ref, Audit.content, Audit.prev_hash, Audit.hash, Audit.hash_kind)
    while True:
        # fetched at once, as the driver gives them (text and integers): peewee's per-row conversion is most of the time
        rows = db.execute(Audit.select(*columns).where((Audit.till_id == till_id) & (Audit.seq > after_seq))
                          .order_by(Audit.seq).limit(chunk)).fetchall()
        if not rows:
            return
        yield rows
        after_seq = rows[-1][0]

