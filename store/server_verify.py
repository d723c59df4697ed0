"""``journal verify`` on the shop's server: every till's chains as the server stores them.

The server (store.server) keeps each till's audit records as the till wrote
them (their ref, when it is an id, shifted), and its rows with their ids
shifted into the till's block (``till_index * ID_BLOCK + local id``). For
each till (of a shop) this walks, naming the first break as
store.journal.verify does:

1. the audit chain as stored: numbers without gaps, links, plain SHA-256
   hashes recomputed, HMAC ones with the journal key when it is loaded (else
   their links only, counted in ``unchecked``) - store.journal's own walk;
2. the server's head of the till (``sync_till``) against the last record;
3. the journal of the till's documents: store.journal.canonical_content of
   the server's rows, their ids mapped back to the till's view
   (``local_id``), against the hashes and the commit records;
4. each receipt outcome, print attempt, event and day row against its last
   audit record (same mapping): changed, deleted, or there with no record.

It reads only: no checkpoint is written, and nothing goes into a till's chain.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from store import audit, journal
from store.checkpoints import Broken
from store.db import db
from store.models import GENESIS_HASH, ReceiptOutcome
from store.till_filter import SYNC_TILL

#: The fields of a till's rows that hold the till's own ids (shifted on the server; products never are).
ID_FIELDS = ("sale", "shift", "original", "original_line", "count", "document", "basket")


@dataclass(frozen=True)
class TillVerified:
    """One till's verdict: ``message`` names its first break, or says what was checked."""

    till_id: str
    shop: str
    ok: bool
    message: str
    records: int = 0
    sales: int = 0
    unchecked: int = 0
    bad_receipt_no: Optional[int] = None


@dataclass(frozen=True)
class ServerVerifyResult:
    tills: List[TillVerified] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(till.ok for till in self.tills)

    @property
    def broken(self) -> List[TillVerified]:
        return [till for till in self.tills if not till.ok]

    @property
    def records(self) -> int:
        return sum(till.records for till in self.tills)

    @property
    def sales(self) -> int:
        return sum(till.sales for till in self.tills)

    @property
    def unchecked(self) -> int:
        return sum(till.unchecked for till in self.tills)


#: The id fields a refund of another till's receipt points with, and the kind of copy (store.shop_copies) each names.
COPIED = {"original": "sale", "original_line": "line"}


def local_row(row: Dict[str, Any], base: int, copies: Optional[Dict[Any, int]] = None) -> Dict[str, Any]:
    """``row`` with every id field (ID_FIELDS) as the till knows it (store.server.local_id); its own id kept.

    ``copies`` (store.shop_copies.copy_ids): another till's server id a refund points at, back to the local
    copy's id the till hashed.
    """
    from store.server import local_id

    out = {}
    for name, value in row.items():
        if name in ID_FIELDS:
            mapped = copies.get((COPIED[name], value)) if copies and name in COPIED else None
            value = local_id(value, base) if mapped is None else mapped
        out[name] = value
    return out


def verify_server(tills: Optional[Sequence[str]] = None) -> ServerVerifyResult:
    """Verify every till on the bound server (or those of ``tills``); changes nothing."""
    started = time.perf_counter()
    heads = _heads(tills)
    done = []
    with db.atomic():  # one snapshot: a batch arriving mid-walk is not half seen
        db.obj.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        db.obj.execute_sql("SET TRANSACTION READ ONLY")
        for head in heads:
            done.append(verify_till(head))
    return ServerVerifyResult(done, time.perf_counter() - started)


def _heads(tills: Optional[Sequence[str]]) -> List[Dict[str, Any]]:
    if not db.obj.table_exists(SYNC_TILL):
        return []
    cursor = db.obj.execute_sql(f"SELECT till_id, shop, till_index, head_seq, head_hash FROM {SYNC_TILL} "
                                f"ORDER BY till_id")
    names = ("till_id", "shop", "till_index", "head_seq", "head_hash")
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    if tills is not None:
        wanted = {tills} if isinstance(tills, str) else set(tills)
        rows = [row for row in rows if row["till_id"] in wanted]
    return rows


def verify_till(head: Dict[str, Any]) -> TillVerified:
    """One till's chains on the server (``head``: its sync_till row as a dict)."""
    from store.server import ID_BLOCK

    till_id, shop = str(head["till_id"]), str(head["shop"] or "")
    base, block = int(head["till_index"]) * ID_BLOCK, ID_BLOCK
    walk, start = journal._Walk(), journal._Start()
    try:
        seq, last = journal._walk_audit(till_id, 0, GENESIS_HASH, walk, start)
        _check_head(till_id, head, seq, last)
        journal._walk_journal(till_id, 0, GENESIS_HASH, walk, start, _local_chunks(till_id, base, _copies(till_id)))
        _check_outcomes(walk)
        _check_rows(till_id, walk, base, block)
        journal._check_z_named(walk)
    except Broken as broken:
        return TillVerified(till_id, shop, False, broken.message, walk.records, walk.sales, walk.unchecked,
                            broken.receipt_no)
    said = (f"{walk.records} audit records and {walk.sales} documents of till {till_id} are intact on the "
            f"server")
    if walk.unchecked:
        said += (f"; {walk.unchecked} records sealed with the journal key were checked by their links only "
                 f"(no key file)")
    return TillVerified(till_id, shop, True, said + ".", walk.records, walk.sales, walk.unchecked)


def _check_head(till_id: str, head: Dict[str, Any], seq: int, last: str) -> None:
    """The server's head of the till is the last record it stores."""
    head_seq, head_hash = int(head["head_seq"] or 0), head["head_hash"] or GENESIS_HASH
    if head_seq > seq:
        raise Broken(f"The server's head of till {till_id} is record {head_seq}, but its records stop at {seq}: "
                     f"records were deleted on the server.", till_id)
    if head_seq < seq:
        raise Broken(f"The server stores records of till {till_id} up to {seq}, past its head {head_seq}: "
                     f"records were added outside the sync.", till_id)
    if head_hash != last:
        raise Broken(f"The server's head of till {till_id} does not match its record {seq} (a record was "
                     f"rewritten).", till_id)


def _copies(till_id: str) -> Dict[Any, int]:
    """The till's copies of other tills' documents its refunds point at (store.shop_copies), by server id."""
    from store.shop_copies import copy_ids

    return copy_ids(db.cursor(), till_id)


def _local_chunks(till_id: str, base: int, copies: Dict[Any, int]) -> Iterator[List[dict]]:
    """The till's documents in receipt order (journal.sale_chunks), the ids they hash as the till knows them
    (each keeps its server id: its commit record's ref is shifted too)."""
    for chunk in journal.sale_chunks(till_id):
        out = []
        for sale in chunk:
            row = local_row({k: v for k, v in sale.items() if not k.startswith("_")}, base, copies)
            for part in ("_lines", "_payments", "_discounts"):
                row[part] = [local_row(item, base, copies) for item in sale[part]]
            out.append(row)
        yield out


def _ranges(ids: Iterable[int]) -> Iterator[List[int]]:
    return journal._ranges(ids)


def _receipt_of(sale_local: int, base: int) -> tuple:
    """(till, receipt number, "receipt 1-000003") of a till's own sale id, read on the server."""
    return journal._receipt(base + int(sale_local))


def _check_outcomes(walk: Any) -> None:
    """Each receipt outcome as its last record says (keys: server sale ids, as the records' refs)."""
    for ids in _ranges(walk.outcomes):
        rows = {row["sale"]: row for row in journal.read_rows(
            ReceiptOutcome.select().where(ReceiptOutcome.sale.between(ids[0], ids[-1])))}
        for sale_id in ids:
            row = rows.get(sale_id)
            if row is not None and audit.row_content(audit.OUTCOME, row) == walk.outcomes[sale_id]:
                continue
            state = audit.FIELDS[audit.OUTCOME].index("state")
            recorded = _loads(walk.outcomes[sale_id])
            till, no, name = journal._receipt(sale_id)
            if row is None:
                raise Broken(f"The receipt outcome of {name} ({recorded[state]}) was deleted on the server.", till, no)
            raise Broken(f"The receipt outcome of {name} ({row['state']}) was edited on the server.", till, no)


def _check_rows(till_id: str, walk: Any, base: int, block: int) -> None:
    """Each row as its last record says (keys: server ids, as the records' refs), and none without a record."""
    kinds = [(audit.ATTEMPT, walk.attempts), (audit.EVENT, walk.events)]
    kinds += [(kind, walk.day_rows[kind]) for kind in audit.DAY_ROWS]
    for kind, recorded in kinds:
        model = audit.MODELS[kind]
        for ids in _ranges(recorded):
            rows = {row["id"]: row for row in journal.read_rows(model.select().where(model.id.between(ids[0],
                                                                                                   ids[-1])))}
            for row_id in ids:
                row = rows.get(row_id)
                if row is None or audit.row_content(kind, local_row(row, base)) != recorded[row_id]:
                    _row_broken(kind, row_id - base, _loads(recorded[row_id]), row is None, till_id, base)
        _no_row_without_record(till_id, kind, model, recorded, base, block)


def _no_row_without_record(till_id: str, kind: str, model: Any, recorded: Dict[int, str], base: int,
                           block: int) -> None:
    """Every row in the till's block came with an audit record of the till."""
    after = base
    while True:
        found = [row["id"] for row in journal.read_rows(
            model.select(model.id).where((model.id > after) & (model.id < base + block))
            .order_by(model.id).limit(journal.SPAN))]
        for row_id in found:
            if row_id not in recorded:
                raise Broken(f"{_name(kind, row_id - base)} of till {till_id} is on the server with no audit "
                             f"record of the till: it was written on the server.", till_id)
        if len(found) < journal.SPAN:
            return
        after = found[-1]


def _name(kind: str, row_id: int, recorded: Optional[list] = None) -> str:
    if kind == audit.Z_REPORT and recorded:
        return f"Z {recorded[0]}-{recorded[1]}"
    return f"The {journal._WHAT[kind]} {row_id}"


def _row_broken(kind: str, row_id: int, recorded: Any, deleted: bool, till_id: str, base: int) -> None:
    how = "deleted" if deleted else "changed"
    fields = audit.FIELDS[kind]
    if not isinstance(recorded, list):
        recorded = None
    if kind == audit.EVENT and recorded:
        what = f"Event {row_id} ({recorded[fields.index('kind')]})"
    elif kind == audit.ATTEMPT:
        what = f"Print attempt {row_id}"
    else:
        what = _name(kind, row_id, recorded)
    sale_id = recorded[fields.index("sale")] if recorded and "sale" in fields else None
    if sale_id:
        till, no, name = _receipt_of(sale_id, base)
        raise Broken(f"{what} of {name} was {how} on the server.", till or till_id, no)
    raise Broken(f"{what} of till {till_id} was {how} on the server.", till_id)


def _loads(content: str) -> Any:
    import json

    try:
        return json.loads(content)
    except ValueError:
        return None
