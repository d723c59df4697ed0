"""The till's side of sync up: what waits to be sent, as one batch, and what the server has acknowledged.

A batch is the till's audit records after the last acknowledged one, in
sequence order, with the documents (sale, lines, payments, discounts) of its
``commit`` records, as a JSON-able dict (the contract in store.server):

    {"shop", "till", "instance",
     "records": [{"seq", "kind", "ref", "content", "prev_hash", "hash", "hash_kind"}],
     "documents": {str(local sale id): {"sale": {...}, "lines": [...], "payments": [...], "discounts": [...]}},
     "head": {"seq": the till's own audit head, "at": when the batch was built, by the till's clock}}

The head lets the server say how many records each till still had to send as of its last batch
(store.server.till_heads: ``local_seq``, ``local_at``); no batch is ever sent only to carry it.

Document rows are keyed by column name (``sale_id``, ``original_id``,
``product_id``, ``original_line_id``), with their local ids; times are text
with microseconds. Everything is read on the calling thread (the sync
worker's) through ``store.db.db``, which is bound to the till's database:
peewee keeps one connection per thread.

``sync_mark`` (migration 14) holds, per till, the last record the server
acknowledged and this database's instance id (random, made once); since
migration 17 also the sync worker's last error sentence and when
(``keep_error``, ``last_error``), for ``chaoying sync status``.
"""
from __future__ import annotations

import datetime
import uuid
from typing import Any, Dict, List, Optional, Sequence, Tuple

from store.db import db, write_transaction
from store.models import GENESIS_HASH, now

#: The audit record kind whose document rows travel with it (store.audit.COMMIT).
_COMMIT = "commit"
_RECORD_COLUMNS = ("seq", "kind", "ref", "content", "prev_hash", "hash", "hash_kind")
#: Document tables and the column naming their sale.
_DOCUMENT_TABLES = (("lines", "line"), ("payments", "payment"), ("discounts", "discount"))


def _param() -> str:
    return db.obj.param


def instance_id(till_id: str) -> str:
    """This local database's instance id for ``till_id`` (made, with the till's sync_mark row, on first call)."""
    p = _param()
    row = db.execute_sql(f"SELECT instance FROM sync_mark WHERE till_id = {p}", (str(till_id),)).fetchone()
    if row is not None:
        return str(row[0])
    with write_transaction():
        db.execute_sql(f"INSERT INTO sync_mark (till_id, sent_seq, sent_hash, instance) VALUES ({p}, 0, {p}, {p}) "
                       "ON CONFLICT DO NOTHING", (str(till_id), GENESIS_HASH, uuid.uuid4().hex))
        row = db.execute_sql(f"SELECT instance FROM sync_mark WHERE till_id = {p}", (str(till_id),)).fetchone()
    return str(row[0])


def _sent(till_id: str) -> int:
    p = _param()
    row = db.execute_sql(f"SELECT sent_seq FROM sync_mark WHERE till_id = {p}", (str(till_id),)).fetchone()
    return int(row[0]) if row else 0


def _head(till_id: str) -> int:
    p = _param()
    head = db.execute_sql(f"SELECT audit_seq FROM till_counter WHERE till_id = {p}", (str(till_id),)).fetchone()
    return int(head[0]) if head else 0


def waiting(till_id: str) -> int:
    """How many of the till's records the server has not acknowledged: two primary-key reads."""
    return max(0, _head(till_id) - _sent(till_id))


def last_error(till_id: str) -> Tuple[str, Optional[datetime.datetime]]:
    """(the sync's last failing sentence, when it was said) as the worker kept it; ("", None) when none."""
    cursor = db.execute_sql(f"SELECT * FROM sync_mark WHERE till_id = {_param()}", (str(till_id),))
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    values = dict(zip(names, row)) if row is not None else {}
    at = values.get("error_at")
    if isinstance(at, str) and at:
        at = datetime.datetime.fromisoformat(at)
    return str(values.get("error") or ""), at or None


def keep_error(till_id: str, sentence: str, at: datetime.datetime) -> bool:
    """Keep ``sentence`` ("" once the sync works again) as the till's last sync error, said at ``at``; nothing is
    written when it is the one kept already. True when it was written."""
    if last_error(till_id)[0] == sentence:
        return False
    instance_id(till_id)  # the row exists
    p = _param()
    with write_transaction():
        db.execute_sql(f"UPDATE sync_mark SET error = {p}, error_at = {p} WHERE till_id = {p}",
                       (sentence, at.isoformat(sep=" ") if _sqlite() else at, str(till_id)))
    return True


def mark_sent(till_id: str, seq: int, hash: str) -> None:  # noqa: A002 (the contract's name)
    """The server holds the till's records up to ``seq`` (its head hash ``hash``): the next batch starts after it.

    Set as the server says, not only forward: a server restored from an older backup is caught up again from
    its own head (the worker reads it with store.server.till_heads).
    """
    instance_id(till_id)  # the row exists
    p = _param()
    with write_transaction():
        db.execute_sql(f"UPDATE sync_mark SET sent_seq = {p}, sent_hash = {p}, sent_at = {p} WHERE till_id = {p}",
                       (int(seq), str(hash), now().isoformat(sep=" ") if _sqlite() else now(), str(till_id)))


def _sqlite() -> bool:
    from store.db import is_sqlite

    return is_sqlite(db.obj)


def time_text(value: Any) -> Any:
    """A stored time as text with microseconds ("2024-05-01 09:30:00.000000"); None stays None."""
    if value is None or value == "":
        return value
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time peewee wrote: as it is
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def build_batch(till_id: str, shop: str, limit: int = 500) -> Optional[dict]:
    """The next batch of the till's records (at most ``limit``) after the acknowledged one; None when none waits.

    Reads the records in one query (the (till_id, seq) index) and each document table in one query over the
    range of the batch's sale ids.
    """
    till_id = str(till_id)
    instance = instance_id(till_id)
    head, at = _head(till_id), now()
    p = _param()
    rows = db.execute_sql(
        f"SELECT {', '.join(_RECORD_COLUMNS)} FROM audit WHERE till_id = {p} AND seq > {p} ORDER BY seq LIMIT {p}",
        (till_id, _sent(till_id), int(limit))).fetchall()
    if not rows:
        return None
    records = [dict(zip(_RECORD_COLUMNS, row)) for row in rows]
    for record in records:
        record["seq"], record["ref"] = int(record["seq"]), int(record["ref"])
        record["hash_kind"] = record["hash_kind"] or ""
    sale_ids = [record["ref"] for record in records if record["kind"] == _COMMIT]
    batch: Dict[str, Any] = {"shop": shop or "", "till": till_id, "instance": instance, "records": records,
                             "documents": documents(sale_ids),
                             "head": {"seq": max(head, records[-1]["seq"]), "at": time_text(at)}}
    if batch["documents"]:
        from store.shop_copies import copies_for

        copies = copies_for(batch["documents"])  # a refund of another till's receipt: its server ids
        if copies:
            batch["copies"] = copies
    return batch


def _select(sql: str, params: Sequence[Any]) -> List[Dict[str, Any]]:
    cursor = db.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def documents(sale_ids: Sequence[int]) -> Dict[str, Dict[str, Any]]:
    """The documents of ``sale_ids`` (sale, lines, payments, discounts as dicts by column), keyed by str(id).

    One query per table over the range of ids (rows of other sales inside it are skipped), not one per sale.
    """
    wanted = set(int(sale_id) for sale_id in sale_ids)
    if not wanted:
        return {}
    p = _param()
    low, high = min(wanted), max(wanted)
    found: Dict[int, Dict[str, Any]] = {}
    for sale in _select(f"SELECT * FROM sale WHERE id BETWEEN {p} AND {p} ORDER BY id", (low, high)):
        if sale["id"] in wanted:
            sale["sold_at"] = time_text(sale["sold_at"])
            found[sale["id"]] = {"sale": sale, "lines": [], "payments": [], "discounts": []}
    for key, table in _DOCUMENT_TABLES:
        for row in _select(f"SELECT * FROM {table} WHERE sale_id BETWEEN {p} AND {p} ORDER BY id", (low, high)):
            document = found.get(row["sale_id"])
            if document is not None:
                document[key].append(row)
    return {str(sale_id): document for sale_id, document in found.items()}
