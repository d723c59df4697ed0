"""Receipt numbers: gapless per till, from the till's ``TillCounter`` row.

``lock_counter`` reads the till's last receipt number and journal hash and
holds the row until the transaction ends (SQLite: BEGIN IMMEDIATE already
does); ``advance`` stores the new ones. Both run inside the caller's
transaction (``store.sales.commit_sale``), so two processes selling on one
database never take the same number. The statements are written once per
database dialect: they run on every sale while the customer waits.
"""
from __future__ import annotations

from typing import Dict, Tuple

import peewee

from store.db import is_sqlite
from store.models import GENESIS_HASH, TillCounter


def format_receipt_no(till_id: str, receipt_no: int) -> str:
    """Printed form of a receipt number: till and six digits, e.g. "1-000042"."""
    return f"{till_id}-{int(receipt_no):06d}"


_statements: Dict[tuple, Tuple[str, str]] = {}


def _sql(database: peewee.Database) -> Tuple[str, str]:
    """(lock statement, update statement) for this database's dialect."""
    key = (type(database), database.param, database.quote)
    found = _statements.get(key)
    if found is None:
        def q(identifier: str) -> str:
            return database.quote[0] + identifier + database.quote[1]

        table, p = q(TillCounter._meta.table_name), database.param
        lock = (f"SELECT {q('last_receipt_no')}, {q('last_hash')}, {q('audit_seq')}, {q('audit_hash')} "
                f"FROM {table} WHERE {q('till_id')} = {p}")
        if not is_sqlite(database):
            lock += " FOR UPDATE"
        update = (f"UPDATE {table} SET {q('last_receipt_no')} = {p}, {q('last_hash')} = {p}, {q('audit_seq')} = {p}, "
                  f"{q('audit_hash')} = {p} WHERE {q('till_id')} = {p}")
        found = _statements[key] = (lock, update)
    return found


def lock_counter(database: peewee.Database, till_id: str) -> Tuple[int, str, int, str]:
    """(last receipt number, last journal hash, audit head seq, audit head hash) of the till.

    The row is held until the transaction ends; it also serialises the till's audit chain (store.audit).
    """
    lock = _sql(database)[0]
    row = database.execute_sql(lock, (till_id,)).fetchone()
    if row is None:
        TillCounter.insert(till_id=till_id, last_receipt_no=0, last_hash=GENESIS_HASH).on_conflict_ignore().execute()
        row = database.execute_sql(lock, (till_id,)).fetchone()
    return int(row[0]), row[1], int(row[2]), row[3]


def advance(database: peewee.Database, till_id: str, receipt_no: int, journal_hash: str,
            audit_seq: int, audit_hash: str) -> None:
    """Record the till's newest receipt number, journal hash and audit head (inside the lock_counter transaction)."""
    database.execute_sql(_sql(database)[1], (receipt_no, journal_hash, audit_seq, audit_hash, till_id))
