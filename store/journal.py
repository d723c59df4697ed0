"""The sales journal: a SHA-256 hash chain per till.

Each sale stores ``hash = sha256(prev_hash + canonical content)`` where the
canonical content is sorted-key, compact JSON of the sale, its lines and its
payments (failed ones too). ``verify()`` walks every till's chain in receipt
number order and names the first receipt whose content no longer matches its
hash, or whose predecessor is missing.

``verify`` checks more than the sales: in this order, naming the first break:

1. each till's audit chain (store.audit): numbers without gaps, links, hashes
   (HMAC-SHA256 ones with the key), no plain record after a keyed one, and
   the head on ``till_counter``;
2. each till's journal: receipt numbers, links, hashes, and
   for documents after migration 8 their commit record (journal hash and
   payment reasons);
3. each receipt outcome, print attempt and event against its last audit
   record: changed, deleted, or written without one.

Checkpoints (store.checkpoints: numbered, chained and keyed, each with a
record in every till's audit chain) record where each chain stood when a
verify passed and the highest ids then; the next verify starts there and
checks only what came after, plus every row an audit record after the
checkpoint names. Both that and ``--full`` (which walks everything) first
check every checkpoint's heads against the chains: a cut below a
checkpoint's head is named, and a checkpoint is never written over a head
that went backwards. An edit of a row already verified and never touched
since is therefore seen only by ``--full``: ``backup verify`` (and so every
restore) always does, so an edit made before a backup is seen when that
backup is checked; run ``journal verify --full`` now and then too.

Records written while the shop's key file was missing (hash kind "nokey",
each run opened by the event ``journal_key_missing``) verify as plain ones
and are counted apart (``VerifyResult.keyless``, ``keyless_note``); marked
so without the event, they are a rewrite.
"""
from __future__ import annotations

import datetime
import json
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import peewee

from store import archive_view as archive, audit, chain, checkpoints, journal_fast
from store.chain import HMAC, KeyMissing, chain_hash, hash_kind, make_key_file, read_key_file, set_key
from store.checkpoints import Broken, check_checkpoint_head, checkpoint_head
from store.db import db, is_sqlite
from store.models import (
    GENESIS_HASH,
    Audit,
    Discount,
    Event,
    ForeignCopy,
    Line,
    Payment,
    PrintAttempt,
    ReceiptOutcome,
    Sale,
    TillCounter,
    ZReport,
)
from store.numbering import format_receipt_no

__all__ = ["HMAC", "KeyMissing", "VerifyResult", "canonical_content", "chain_hash", "check_checkpoint_head",
           "checkpoint_head", "hash_kind", "make_key_file", "read_key_file", "read_rows", "sale_chunks", "set_key",
           "verify"]

CHUNK = 2000


def canonical_content(sale: Mapping, lines: Sequence[Mapping], payments: Sequence[Mapping],
                      discounts: Sequence[Mapping] = ()) -> str:
    """Canonical JSON of a document: the exact text the journal hash covers.

    What migration 7 added (kind, original, reason, manager, discounts) is
    named only where it differs from a plain sale, so the hashes of sales
    recorded before it stay as they were.
    """
    content = {
        "till_id": sale["till_id"],
        "receipt_no": int(sale["receipt_no"]),
        "sold_at": audit.hashed_value(sale["sold_at"]),
        "cashier": sale["cashier"] or "",
        "total_fen": int(sale["total_fen"]),
        "change_fen": int(sale["change_fen"]),
        "lines": [
            [
                int(line["position"]),
                line["barcode"] or "",
                line["name"],
                line["unit"] or "",
                int(line["unit_price_fen"]),
                int(line["qty_milli"]),
                int(line["amount_fen"]),
            ] + _line_extra(line)
            for line in sorted(lines, key=lambda item: int(item["position"]))
        ],
        "payments": [
            [
                int(payment["position"]),
                payment["method"],
                int(payment["amount_fen"]),
                payment["reference"] or "",
                payment["status"],
            ]
            for payment in sorted(payments, key=lambda item: int(item["position"]))
        ],
    }
    if sale.get("kind", "sale") != "sale":
        content["kind"] = sale["kind"]
    for key in ("original", "reason", "manager", "discount_fen"):
        if sale.get(key):
            content[key] = sale[key]
    if discounts:
        content["discounts"] = sorted(
            [int(row["line_position"]), row["kind"], int(row["value"]), int(row["amount_fen"]),
             row["reason"] or "", row["cashier"] or "", row["manager"] or ""]
            for row in discounts)
    return audit.dumps(content)


def _line_extra(line: Mapping) -> list:
    """A line's discount and its returned line, only when it has either."""
    discount, original = int(line.get("discount_fen") or 0), line.get("original_line")
    return [discount, int(original or 0)] if discount or original else []


def read_rows(query: peewee.Select) -> List[dict]:
    """The rows of ``query`` as dicts keyed by field name, fetched in one go; times as the hashed text holds them.

    The walk reads every row of the journal, so it skips peewee's per-row,
    per-column conversion: the tables it reads hold integers and text, which
    come from the driver as they are (tests/store/test_journal.py checks the
    fields), and date-times, given as the text canonical_content and
    audit.row_content make of peewee's value.
    """
    columns = query.selected_columns
    names = [column.name for column in columns]
    times = [(index, column) for index, column in enumerate(columns) if isinstance(column, peewee.DateTimeField)]
    rows = []
    for row in db.execute(query).fetchall():
        if times:
            row = list(row)
            for index, column in times:
                row[index] = _time_text(column, row[index])
        rows.append(dict(zip(names, row)))
    return rows


#: A time stored as the hashes hold it: peewee would parse it and it would print back the same.
_HASHED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")


def _time_text(column: peewee.DateTimeField, value: object) -> object:
    """A stored time as the hashed text holds it (peewee's value to the second; a text it cannot parse as is)."""
    if isinstance(value, str) and _HASHED_TIME.fullmatch(value):
        return value  # the common case, without parsing and printing it again
    return audit.hashed_value(column.python_value(value))


def sale_chunks(till_id: str, after: int = 0) -> Iterable[List[dict]]:
    """Sales of a till after receipt ``after`` in receipt order, in chunks, with their lines and payments."""
    while True:
        sales = read_rows(Sale.select()
                          .where((Sale.till_id == till_id) & (Sale.receipt_no > after))
                          .order_by(Sale.receipt_no)
                          .limit(CHUNK))
        if not sales:
            return
        ids = [sale["id"] for sale in sales]
        lines: Dict[int, list] = {sale_id: [] for sale_id in ids}
        payments: Dict[int, list] = {sale_id: [] for sale_id in ids}
        discounts: Dict[int, list] = {sale_id: [] for sale_id in ids}
        # One range of sale ids rather than IN (2,000 ids): rows of other tills inside it are skipped.
        low, high = min(ids), max(ids)
        for model, found in ((Line, lines), (Payment, payments), (Discount, discounts)):
            for row in read_rows(model.select().where(model.sale.between(low, high))):
                rows = found.get(row["sale"])
                if rows is not None:
                    rows.append(row)
        for sale in sales:
            sale["_lines"] = lines[sale["id"]]
            sale["_payments"] = payments[sale["id"]]
            sale["_discounts"] = discounts[sale["id"]]
        yield sales
        after = sales[-1]["receipt_no"]


# --- verify ----------------------------------------------------------------------

#: The widest range of ids one query of the outcome and row checks reads.
SPAN = 5000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    bad_till: Optional[str]
    bad_receipt_no: Optional[int]
    message: str
    sales_checked: int = 0
    tills_checked: int = 0
    #: records sealed with the journal key that could not be checked (no key loaded)
    unchecked: int = 0
    records_checked: int = 0
    from_checkpoint: bool = False
    #: records written while the shop's key file was missing (hash kind "nokey"), and the sentence naming them
    keyless: int = 0
    keyless_note: str = ""


@dataclass
class _Start:
    """Where each chain's walk starts and which ids were verified before."""

    tills: Dict[str, Tuple[int, str, int, str]] = field(default_factory=dict)  # receipt_no, hash, seq, audit hash
    sale: int = 0
    attempt: int = 0
    event: int = 0
    day_rows: Dict[str, int] = field(default_factory=dict)  # shift, cash_move, handover: highest id verified
    baseline: Optional[Dict[str, int]] = None
    #: the archive cut (store.archive) when the archive file is not joined: rows before it are not here
    cut: Optional[Dict] = None


@dataclass
class _Walk:
    outcomes: Dict[int, str] = field(default_factory=dict)  # sale id -> last outcome content
    #: sale id -> (journal hash, payment reasons): a tuple of texts, which the garbage collector stops tracking
    #: (with a million sales, lists made its full collections a tenth of the walk)
    commits: Dict[int, Tuple[str, object]] = field(default_factory=dict)
    attempts: Dict[int, str] = field(default_factory=dict)
    events: Dict[int, str] = field(default_factory=dict)
    day_rows: Dict[str, Dict[int, str]] = field(default_factory=lambda: {kind: {} for kind in audit.DAY_ROWS})
    checkpoints: Dict[int, Tuple[str, str, int]] = field(default_factory=dict)  # number -> (hash, till, seq)
    #: written while the key file was missing: receipt numbers and audit records per till, when the till said so
    keyless_receipts: Dict[str, List[int]] = field(default_factory=dict)
    keyless_records: Dict[str, int] = field(default_factory=dict)
    key_missing_at: Dict[str, str] = field(default_factory=dict)
    keyless_commits: set = field(default_factory=set)  # sale ids whose commit record was written keyless
    unchecked: int = 0
    records: int = 0
    sales: int = 0


def _hash_ok(prev: str, content: str, digest: str, kind: str, walk: _Walk) -> bool:
    if kind == chain.HMAC and chain.hash_kind() != chain.HMAC:
        walk.unchecked += 1
        return True
    return chain.chain_hash(prev, content, kind) == digest


def _tills() -> List[str]:
    """The tills whose chains this database holds: not those of which it holds only local copies of another
    till's documents (store.shop_wide: a refund of another till's receipt), which have no counter or audit."""
    sold = {row.till_id for row in Sale.select(Sale.till_id).distinct()}
    tills = {row.till_id for row in TillCounter.select(TillCounter.till_id)}
    tills.update(row.till_id for row in Audit.select(Audit.till_id).distinct())
    copies = {row.till_id for row in ForeignCopy.select(ForeignCopy.till_id).distinct()}
    return sorted(tills | (sold - copies))


def _after_key(at: object) -> bool:
    """True when a record dated ``at`` was written after the loaded key was made: it must be keyed."""
    made = chain.key_made()
    if not made or not at:
        return False
    if isinstance(at, datetime.datetime):
        at = at.isoformat(sep=" ")
    return str(at) >= made


def _archived(start: _Start, till_id: str, index: int, number: int) -> bool:
    """True when the archive file is away and record ``number`` of the till (receipt: index 0, audit: 2) is in it."""
    head = (start.cut or {}).get("tills", {}).get(till_id)
    return head is not None and number <= int(head[index])


def another_key(till_id: str) -> str:
    """Two sealed records in a row that do not check with the loaded key: most likely not the key they were
    sealed with (a change made without the key breaks the record changed, not the next one's own HMAC)."""
    return (f"The audit records of till {till_id} sealed with the journal key do not check with the key file "
            f"given: they were sealed with another key (a till makes its own at chaoying init unless the shop's "
            f"key file is copied to it first) or changed after they were written.")


def _walk_audit(till_id: str, seq: int, prev: str, walk: _Walk, start: _Start) -> Tuple[int, str]:
    keyed, made, last_kind = False, chain.key_made(), ""
    doubted = ""  # a sealed record whose HMAC failed: changed, unless the next sealed one fails too (another key)
    if seq:
        at = Audit.get_or_none((Audit.till_id == till_id) & (Audit.seq == seq))
        if at is None and _archived(start, till_id, 2, seq):
            pass
        elif at is None or at.hash != prev:
            raise Broken(f"Audit record {seq} of till {till_id} was changed or removed after it was verified.",
                         till_id)
        keyed = at is not None and at.hash_kind == chain.HMAC
        last_kind = at.hash_kind if at is not None else ""
    for chunk in audit.records(till_id, seq):
        for number, kind, ref, content, prev_hash, digest, record_kind in chunk:
            where = f"audit record {number} of till {till_id}"
            if number != seq + 1:
                which = f"record {seq + 1} of till {till_id} was" if number == seq + 2 else \
                    f"records {seq + 1} to {number - 1} of till {till_id} were"
                raise Broken(f"The audit {which} deleted.", till_id)
            if prev_hash != prev:
                raise Broken(f"The {where} does not follow the record before it (a record was altered).", till_id)
            # a plain record's time is read only when a loaded key says since when records must be keyed
            if record_kind not in _MARKED and (keyed or (made and _after_key(audit.record_time(kind, content)))):
                raise Broken(f"The {where} was rewritten without the journal key.", till_id)
            if record_kind == chain.NOKEY:
                _keyless_record(till_id, where, kind, content, last_kind, walk)
            ok = _hash_ok(prev, content, digest, record_kind, walk)
            if not ok and record_kind != chain.HMAC:
                raise Broken(f"The {where} was changed after it was written.", till_id)
            if doubted and record_kind == chain.HMAC:  # the sealed record after one that failed tells which
                raise Broken(another_key(till_id) if not ok else
                             f"The {doubted} was changed after it was written.", till_id)
            if not ok:
                doubted = where  # this record changed, or the key is not the one it was sealed with
            keyed = keyed or record_kind == chain.HMAC
            _take(till_id, number, kind, ref, content, record_kind, walk)
            seq, prev, walk.records, last_kind = number, digest, walk.records + 1, record_kind
    if doubted:  # no other sealed record to tell: the record is named
        raise Broken(f"The {doubted} was changed after it was written.", till_id)
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    if counter is not None and (counter.audit_seq != seq or counter.audit_hash != prev):
        raise Broken(f"The audit chain of till {till_id} was cut: it ends at record {seq} "
                     f"but the till wrote up to record {counter.audit_seq}.", till_id)
    return seq, prev


#: Hash kinds that are not plain: keyed, or written while the key was missing (each checked on its own).
_MARKED = (chain.HMAC, chain.NOKEY)


def _keyless_record(till_id: str, where: str, kind: str, content: str, last_kind: str, walk: _Walk) -> None:
    """A record written while the key file was missing: each run of them opens with the event that says so."""
    if last_kind != chain.NOKEY:
        said = kind == audit.EVENT and _event_kind(content) == audit.EVENT_KEY_MISSING
        if not said:
            raise Broken(f"The {where} is marked as written while the journal key was missing, but no event "
                         f"says the key was missing: it was rewritten without the key.", till_id)
        walk.key_missing_at.setdefault(till_id, audit.record_time(kind, content))
    walk.keyless_records[till_id] = walk.keyless_records.get(till_id, 0) + 1


def _event_kind(content: str) -> str:
    try:
        return str(json.loads(content)[audit.FIELDS[audit.EVENT].index("kind")])
    except (ValueError, IndexError, TypeError):
        return ""


def _take(till_id: str, number: int, kind: str, ref: int, content: str, record_kind: str, walk: _Walk) -> None:
    """Keep what a record says, for the checks of the rows after the walk."""
    if kind == audit.COMMIT:
        value = json.loads(content)
        reasons = value["reasons"]  # not a list (a crafted record): kept as it is, it matches no sale
        walk.commits[ref] = (value["hash"], tuple(reasons) if isinstance(reasons, list) else reasons)
        walk.outcomes[ref] = audit.dumps(value["outcome"])
        if record_kind == chain.NOKEY:
            walk.keyless_commits.add(ref)
    elif kind == audit.OUTCOME:
        walk.outcomes[ref] = content
    elif kind == audit.ATTEMPT:
        walk.attempts[ref] = content
    elif kind == audit.EVENT:
        walk.events[ref] = content
    elif kind in walk.day_rows:
        walk.day_rows[kind][ref] = content
    elif kind == audit.CHECKPOINT:
        value = json.loads(content)
        walk.checkpoints[int(ref)] = (str(value.get("hash")) if isinstance(value, dict) else "", till_id, number)


def _walk_journal(till_id: str, start_no: int, prev: str, walk: _Walk, start: _Start,
                  chunks: Optional[Iterable[List[dict]]] = None) -> Tuple[int, str]:
    """The till's journal after receipt ``start_no``; ``chunks``: its documents as sale_chunks gives them (the
    server's verify gives them in the till's own ids, store.server_verify)."""
    expected, keyed, after_sale, made = start_no + 1, False, start.sale, chain.key_made()
    if start_no:
        at = Sale.get_or_none((Sale.till_id == till_id) & (Sale.receipt_no == start_no))
        if at is None and _archived(start, till_id, 0, start_no):
            pass
        elif at is None or at.hash != prev:
            raise Broken(f"Receipt {format_receipt_no(till_id, start_no)} was changed or removed after it was "
                         f"verified.", till_id, start_no)
        keyed = at is not None and at.hash_kind == chain.HMAC
    for chunk in sale_chunks(till_id, start_no) if chunks is None else chunks:
        for sale in chunk:
            no = sale["receipt_no"]
            if no != expected:
                name = format_receipt_no(till_id, no)
                raise Broken(f"Receipt {name} has no predecessor: receipt {format_receipt_no(till_id, expected)} "
                             f"is missing from the journal.", till_id, no)
            if sale["prev_hash"] != prev:
                raise Broken(f"Receipt {format_receipt_no(till_id, no)} does not follow the receipt before it in the "
                             f"journal (its link was changed or the previous receipt was altered).", till_id, no)
            kind = sale["hash_kind"] or ""
            if kind not in _MARKED and (keyed or (made and _after_key(sale["sold_at"]))):
                raise Broken(f"Receipt {format_receipt_no(till_id, no)} was rewritten without the journal key.",
                             till_id, no)
            if kind == chain.NOKEY:
                _keyless_receipt(sale, till_id, after_sale, walk)
            content = canonical_content(sale, sale["_lines"], sale["_payments"], sale["_discounts"])
            if not _hash_ok(prev, content, sale["hash"], kind, walk):
                raise Broken(f"Receipt {format_receipt_no(till_id, no)} was changed after it was recorded: "
                             f"its stored content no longer matches its journal hash.", till_id, no)
            keyed = keyed or kind == chain.HMAC
            if sale["id"] > after_sale:
                _check_commit(sale, walk, till_id)
            prev, expected, walk.sales = sale["hash"], no + 1, walk.sales + 1
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    if counter is not None and counter.last_receipt_no >= expected:
        missing = format_receipt_no(till_id, expected)
        raise Broken(f"Receipt {missing} is missing from the journal: till {till_id} issued receipts up to "
                     f"{format_receipt_no(till_id, counter.last_receipt_no)}.", till_id, expected)
    if counter is not None and counter.last_receipt_no < expected - 1:
        raise Broken(f"Receipt {format_receipt_no(till_id, expected - 1)} is past the counter of till {till_id}, "
                     f"which says it issued receipts up to {format_receipt_no(till_id, counter.last_receipt_no)}.",
                     till_id, expected - 1)
    if counter is not None and counter.last_hash != prev:
        raise Broken(f"Receipt {format_receipt_no(till_id, expected - 1)} does not match the last journal hash "
                     f"of till {till_id}.", till_id, expected - 1)
    return expected - 1, prev


def _keyless_receipt(sale: dict, till_id: str, after_sale: int, walk: _Walk) -> None:
    """A document written while the key file was missing: its commit record was written so too."""
    if sale["id"] > after_sale and sale["id"] not in walk.keyless_commits:
        raise Broken(f"Receipt {format_receipt_no(till_id, sale['receipt_no'])} is marked as written while the "
                     f"journal key was missing, but its audit record is not: it was rewritten without the key.",
                     till_id, sale["receipt_no"])
    walk.keyless_receipts.setdefault(till_id, []).append(sale["receipt_no"])


def _check_commit(sale: dict, walk: _Walk, till_id: str) -> None:
    record = walk.commits.get(sale["id"])
    reasons = tuple([p["reason"] or "" for p in sorted(sale["_payments"], key=lambda p: int(p["position"]))])
    if record == (sale["hash"], reasons):
        return
    name = format_receipt_no(till_id, sale["receipt_no"])
    if record is None:
        raise Broken(f"Receipt {name} has no audit record: it was written outside the till.", till_id,
                     sale["receipt_no"])
    if record[0] != sale["hash"]:
        raise Broken(f"Receipt {name} does not match its audit record: the journal was rebuilt.", till_id,
                     sale["receipt_no"])
    raise Broken(f"Receipt {name}: a payment's reason was changed outside the till.", till_id, sale["receipt_no"])


def _receipt(sale_id: int) -> Tuple[Optional[str], Optional[int], str]:
    sale = Sale.get_or_none(Sale.id == sale_id)
    if sale is None:
        return None, None, f"sale {sale_id}"
    return sale.till_id, sale.receipt_no, f"receipt {format_receipt_no(sale.till_id, sale.receipt_no)}"


def _ranges(ids: Iterable[int]) -> Iterator[List[int]]:
    """The ids in order, in runs less than SPAN apart: one range query reads each run's rows."""
    run: List[int] = []
    for row_id in sorted(ids):
        if run and row_id - run[0] >= SPAN:
            yield run
            run = []
        run.append(row_id)
    if run:
        yield run


def _check_outcomes(walk: _Walk, start: _Start) -> None:
    for ids in _ranges(walk.outcomes):
        rows = {row["sale"]: row for row in read_rows(ReceiptOutcome.select()
                                                      .where(ReceiptOutcome.sale.between(ids[0], ids[-1])))}
        for sale_id in ids:
            row = rows.get(sale_id)
            if row is not None and audit.row_content(audit.OUTCOME, row) == walk.outcomes[sale_id]:
                continue
            recorded = json.loads(walk.outcomes[sale_id])
            if row is None and start.cut and sale_id <= int(start.cut["sale"]):
                continue  # archived, and the archive file is away
            till, no, name = _receipt(sale_id)
            if row is None:
                raise Broken(f"The receipt outcome of {name} ({recorded[0]}) was deleted.", till, no)
            if row["state"] != recorded[0]:
                raise Broken(f"The receipt outcome of {name} was changed from {recorded[0]} to {row['state']} "
                             f"outside the till.", till, no)
            raise Broken(f"The receipt outcome of {name} ({row['state']}) was edited outside the till.", till, no)


def _check_rows(walk: _Walk, start: _Start) -> None:
    kinds = [(audit.ATTEMPT, walk.attempts, start.attempt), (audit.EVENT, walk.events, start.event)]
    kinds += [(kind, walk.day_rows[kind], start.day_rows.get(kind, 0)) for kind in audit.DAY_ROWS]
    for kind, recorded, after in kinds:
        model = audit.MODELS[kind]
        for ids in _ranges(recorded):
            rows = {row["id"]: row for row in read_rows(model.select().where(model.id.between(ids[0], ids[-1])))}
            for row_id in ids:
                row = rows.get(row_id)
                if row is None and start.cut and row_id <= int(start.cut.get(kind, 0)):
                    continue  # archived, and the archive file is away
                if row is None or audit.row_content(kind, row) != recorded[row_id]:
                    _row_broken(kind, row_id, json.loads(recorded[row_id]), row is None)
        while True:
            found = [row["id"] for row in read_rows(model.select(model.id).where(model.id > after)
                                                    .order_by(model.id).limit(SPAN))]
            for row_id in found:
                if row_id not in recorded and not _older_than_its_seal(kind, row_id):
                    raise Broken(f"{_name(kind, row_id)} has no audit record: it was written outside the till.")
            if len(found) < SPAN:
                break
            after = found[-1]


_WHAT = {audit.ATTEMPT: "print attempt", audit.EVENT: "event", audit.SHIFT: "shift",
         audit.CASH_MOVE: "cash move", audit.HANDOVER: "hand-over", audit.Z_REPORT: "Z report",
         audit.PAY_ATTEMPT: "payment attempt",
         audit.PROVIDER_REFUND: "provider refund", audit.STOCK_MOVE: "stock move", audit.STOCK_COUNT: "stock count",
         audit.STOCK_COUNT_LINE: "stock count line"}


def _name(kind: str, row_id: int, recorded: Optional[list] = None) -> str:
    """"The shift 3", "Z 1-2" (a Z by its till and number, from its record or its row, as verify_z names it)."""
    if kind != audit.Z_REPORT:
        return f"The {_WHAT[kind]} {row_id}"
    if recorded is None:
        row = ZReport.get_or_none(ZReport.id == row_id)
        recorded = [row.till_id, row.z_no] if row is not None else None
    return f"Z {recorded[0]}-{recorded[1]}" if recorded else f"The Z report {row_id}"


def _older_than_its_seal(kind: str, row_id: int) -> bool:
    """A Z closed before Z reports were sealed (migration 11: till_counter.z_unsealed) has no audit record."""
    if kind != audit.Z_REPORT:
        return False
    row = ZReport.get_or_none(ZReport.id == row_id)
    counter = TillCounter.get_or_none(TillCounter.till_id == row.till_id) if row is not None else None
    return counter is not None and row is not None and row.z_no <= counter.z_unsealed


def _row_broken(kind: str, row_id: int, recorded: list, deleted: bool) -> None:
    if kind in audit.DAY_ROWS:  # a shift, a cash paid in or out, a hand-over, a Z: the figures of the day
        raise Broken(f"{_name(kind, row_id, recorded)} was {'deleted' if deleted else 'changed outside the till'}.")
    if kind == audit.EVENT:
        what = f"Event {row_id} ({recorded[3]})"
        sale_id = recorded[4]
    else:
        what = f"Print attempt {row_id}"
        sale_id = recorded[0]
    till, no, name = _receipt(sale_id) if sale_id else (None, None, "")
    of = f" of {name}" if sale_id else ""
    raise Broken(f"{what}{of} was {'deleted' if deleted else 'changed outside the till'}.", till, no)


def _check_z_named(walk: _Walk) -> None:
    """Every Z a shift was closed by (as its record says) is still there: a Z older than its seal too."""
    fields = audit.FIELDS[audit.SHIFT]
    till_at, z_at = fields.index("till_id"), fields.index("z_no")
    for shift_id, content in sorted(walk.day_rows[audit.SHIFT].items()):
        value = json.loads(content)
        till_id, z_no = value[till_at], value[z_at]
        if z_no is not None and not ZReport.select().where((ZReport.till_id == till_id)
                                                           & (ZReport.z_no == z_no)).exists():
            raise Broken(f"Z {till_id}-{z_no} was deleted: shift {shift_id} was closed by it.", till_id)


# --- checkpoints ------------------------------------------------------------


def _checkpoints(points: Optional[List[checkpoints.Checkpoint]] = None) -> Tuple[Optional[Dict], Optional[Dict]]:
    """(the first checkpoint's content, the newest this verify can trust), after checking their chain.

    The first checkpoint is migration 9's: its ``baseline`` says which rows
    are older than the audit chain. Without the key, keyed checkpoints are
    not trusted (the walk then starts at the beginning).
    """
    points = checkpoints.read_chain() if points is None else points
    trusted = [point.content for point in points if point.trusted]
    return (points[0].content if points else None), (trusted[-1] if trusted else None)


def _start(full: bool, joined: bool, points: List[checkpoints.Checkpoint]) -> Tuple[_Start, bool]:
    first, trusted = _checkpoints(points)
    baseline = first["baseline"] if first else {"sale": 0, "attempt": 0, "event": 0}
    cut = None if joined else archive.cut()
    if cut is not None and (full or trusted is None or not trusted["tills"]):
        trusted, full = cut, False  # the archive file is away: start where it ends
    if full or trusted is None or not trusted["tills"]:
        return _Start(baseline=baseline), False
    tills = {till: (int(v[0]), v[1], int(v[2]), v[3]) for till, v in trusted["tills"].items()}
    day_rows = {kind: int(trusted.get(kind, 0)) for kind in audit.DAY_ROWS}
    return (_Start(tills, trusted["sale"], trusted["attempt"], trusted["event"], day_rows, baseline, cut),
            trusted is not cut)


def _max_id(model) -> int:
    return int(model.select(model.id).order_by(model.id.desc()).limit(1).scalar() or 0)


def _write_checkpoint(content: Dict) -> None:
    checkpoints.write(content)


# --- the walk -----------------------------------------------------------------


def verify(full: bool = True, checkpoint: bool = False) -> VerifyResult:
    """Check every chain and row; report the first break, or that all is intact.

    ``full``: walk everything (else start at the last checkpoint); both
    check every checkpoint's heads against the chains. ``checkpoint``: when
    all is intact and every record could be checked, store where the chains
    stand now.

    The fast walk (store.journal_fast) goes first; when it cannot confirm
    everything, this module's walk runs and names the first break.
    """
    try:
        return _verify(full, checkpoint, fast=True)
    except Exception:  # noqa: BLE001 - anything the fast walk could not confirm is decided (and named) below
        return _verify(full, checkpoint, fast=False)


def _verify(full: bool, checkpoint: bool, fast: bool) -> VerifyResult:
    """verify with the fast walk (``fast``: every break raises) or this module's (a break is named)."""
    walk, tills = _Walk(), []
    try:
        # the archive file (if any) read as one with this; one snapshot for the whole walk (WAL: from the first read)
        with archive.joined() as joined, db.atomic():
            if not is_sqlite(db.obj):  # PostgreSQL: a sale committed mid-walk must not appear half-seen
                db.obj.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            points = checkpoints.read_chain()
            start, from_checkpoint = _start(full, joined, points)
            checkpoints.check_heads(points, lambda till, index, number: _archived(start, till, index, number))
            tills = _tills()
            new = (_walk_chains_fast if fast else _walk_chains)(tills, start, walk)
            _check_outcomes(walk, start)
            _check_rows(walk, start)
            checkpoints.check_records(walk.checkpoints, points)
            _check_z_named(walk)
    except Broken as broken:
        if fast:
            raise
        return VerifyResult(False, broken.till, broken.receipt_no, broken.message, walk.sales, len(tills),
                            walk.unchecked, walk.records)
    keyless, note = _keyless_note(walk)
    if walk.unchecked:
        return VerifyResult(
            True, None, None,
            f"The journal could not be fully checked: {walk.unchecked} records are sealed with the journal key "
            f"and the key file is not available; the rest is intact.",
            walk.sales, len(tills), walk.unchecked, walk.records, from_checkpoint, keyless, note)
    if checkpoint:
        _write_checkpoint(new)
    plural = "" if len(tills) == 1 else "s"
    since = " since the last checkpoint" if from_checkpoint else ""
    if start.cut:
        since += (f" (the archive file {start.cut['archive']['file']} is not here: the documents before "
                  f"{start.cut['archive']['before']} were not checked)")
    return VerifyResult(
        True, None, None,
        f"The journal is intact: {walk.sales} sales{since} on {len(tills)} till{plural} checked.",
        walk.sales, len(tills), 0, walk.records, from_checkpoint, keyless, note)


def _walk_chains(tills: List[str], start: _Start, walk: _Walk) -> Dict:
    """Walk each till's audit chain, then its journal; return the checkpoint content of where they end."""
    heads: Dict[str, List] = {}
    for till_id in tills:
        no, sale_hash, seq, audit_hash = start.tills.get(till_id, (0, GENESIS_HASH, 0, GENESIS_HASH))
        heads[till_id] = list(_walk_audit(till_id, seq, audit_hash, walk, start))
    baseline = start.baseline or {"sale": 0, "attempt": 0, "event": 0}
    start.sale = max(start.sale, baseline["sale"])
    start.attempt = max(start.attempt, baseline["attempt"])
    start.event = max(start.event, baseline["event"])
    for till_id in tills:
        no, sale_hash, _, _ = start.tills.get(till_id, (0, GENESIS_HASH, 0, GENESIS_HASH))
        last_no, last_hash = _walk_journal(till_id, no, sale_hash, walk, start)
        heads[till_id] = [last_no, last_hash] + heads[till_id]
    new = {"tills": heads, "sale": _max_id(Sale), "attempt": _max_id(PrintAttempt), "event": _max_id(Event),
           "baseline": baseline}
    new.update({kind: _max_id(audit.MODELS[kind]) for kind in audit.DAY_ROWS})
    return new


def _walk_chains_fast(tills: List[str], start: _Start, walk: _Walk) -> Dict:
    """_walk_chains by store.journal_fast: each till's audit chain and journal side by side."""
    heads: Dict[str, List] = {}
    baseline = start.baseline or {"sale": 0, "attempt": 0, "event": 0}
    starts = {till_id: start.tills.get(till_id, (0, GENESIS_HASH, 0, GENESIS_HASH)) for till_id in tills}
    start.sale = max(start.sale, baseline["sale"])
    start.attempt = max(start.attempt, baseline["attempt"])
    start.event = max(start.event, baseline["event"])
    for till_id in tills:
        no, sale_hash, seq, audit_hash = starts[till_id]
        heads[till_id] = list(journal_fast.walk_till(till_id, (seq, audit_hash), (no, sale_hash), walk, start,
                                                          sys.modules[__name__]))
    new = {"tills": heads, "sale": _max_id(Sale), "attempt": _max_id(PrintAttempt), "event": _max_id(Event),
           "baseline": baseline}
    new.update({kind: _max_id(audit.MODELS[kind]) for kind in audit.DAY_ROWS})
    return new


def _keyless_note(walk: _Walk) -> Tuple[int, str]:
    """How many records were written while the key file was missing, and one sentence naming them ("" none)."""
    count = sum(walk.keyless_records.values()) + sum(len(numbers) for numbers in walk.keyless_receipts.values())
    if not count:
        return 0, ""
    parts = []
    for till_id in sorted(set(walk.keyless_records) | set(walk.keyless_receipts)):
        receipts = _numbers_text(till_id, walk.keyless_receipts.get(till_id, []))
        records = walk.keyless_records.get(till_id, 0)
        said = walk.key_missing_at.get(till_id)
        text = f"till {till_id}: " + ", ".join(part for part in (
            f"receipt{'s' if len(walk.keyless_receipts.get(till_id, [])) > 1 else ''} {receipts}" if receipts else "",
            f"{records} audit record{'s' if records != 1 else ''}" if records else "") if part)
        parts.append(text + (f" (the till said the key was missing at {said})" if said else ""))
    return count, (f"{count} records were written while the journal key was missing, and anyone with the database "
                   f"file could have rewritten them until a keyed record or checkpoint followed: "
                   + "; ".join(parts) + ".")


def _numbers_text(till_id: str, numbers: List[int]) -> str:
    """"1-000008 to 1-000010, 1-000014": receipt numbers in runs."""
    runs: List[List[int]] = []
    for no in sorted(numbers):
        if runs and no == runs[-1][1] + 1:
            runs[-1][1] = no
        else:
            runs.append([no, no])
    return ", ".join(format_receipt_no(till_id, a) + (f" to {format_receipt_no(till_id, b)}" if b != a else "")
                     for a, b in runs)
