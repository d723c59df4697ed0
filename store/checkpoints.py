"""Journal checkpoints: a keyed chain of their own, each holding where every chain stood when a verify passed.

A checkpoint (``journal_checkpoint``) holds its number (``seq``, from 1),
the previous checkpoint's hash, and per till the heads it verified: the
last receipt number and journal hash, the last audit record and its hash;
plus the highest row ids then. It is hashed like the other chains
(HMAC-SHA256 with the journal key). Writing one also adds a record of kind
``checkpoint`` (its number and hash) to each till's audit chain, so:

- a cut of a till's newest records below a checkpoint's head is named
  (``check_heads``), by ``--full`` too, which walks from the start;
- a checkpoint deleted while its audit record stands is named
  (``check_records``), and one deleted from the middle breaks the links;
- deleting the newest checkpoint unnoticed means cutting every chain back
  to before it: a cut of the newest records, seen only against what holds
  a later head outside the file (the Z on paper, a backup's keyed manifest
  with ``checkpoint_head``, the server).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from peewee import fn

from store import audit, chain
from store.db import db, write_transaction
from store.models import GENESIS_HASH, Audit, JournalCheckpoint, Sale, now
from store.numbering import format_receipt_no


class Broken(Exception):
    """A break found by verify: one plain sentence, and the receipt it names when it names one."""

    def __init__(self, message: str, till: Optional[str] = None, receipt_no: Optional[int] = None):
        super().__init__(message)
        self.message, self.till, self.receipt_no = message, till, receipt_no


@dataclass(frozen=True)
class Checkpoint:
    number: int  # its place in the chain, from 1
    content: Dict
    hash: str
    trusted: bool  # its hash was checked (plain, or keyed with the key loaded)


def read_chain() -> List[Checkpoint]:
    """Every checkpoint in order, after checking their numbers, links and hashes (Broken on the first break)."""
    points: List[Checkpoint] = []
    prev, keyed = GENESIS_HASH, False
    key = chain.hash_kind() == chain.HMAC
    for row in JournalCheckpoint.select().order_by(JournalCheckpoint.id):
        number = len(points) + 1
        content = _content(row, number)
        if int(content.get("seq", number)) != number:
            raise Broken(f"Journal checkpoint {number} was deleted: checkpoint {content['seq']} follows "
                         f"checkpoint {number - 1}.")
        if row.prev_hash != prev:
            raise Broken(f"Journal checkpoint {number} does not follow the checkpoint before it.")
        if keyed and row.hash_kind not in (chain.HMAC, chain.NOKEY):
            raise Broken(f"Journal checkpoint {number} was written without the journal key.")
        trusted = row.hash_kind != chain.HMAC or key
        if trusted and chain.chain_hash(prev, row.content, row.hash_kind) != row.hash:
            raise Broken(f"Journal checkpoint {number} was changed after it was written.")
        keyed = keyed or row.hash_kind == chain.HMAC
        points.append(Checkpoint(number, content, row.hash, trusted))
        prev = row.hash
    return points


def _content(row: JournalCheckpoint, number: int) -> Dict:
    try:
        content = json.loads(row.content)
    except ValueError:
        content = None
    if not isinstance(content, dict):
        raise Broken(f"Journal checkpoint {number} was changed after it was written.")
    return content


def checkpoint_head() -> Tuple[int, str]:
    """(number, hash) of the newest checkpoint, (0, GENESIS_HASH) before the first.

    What a backup's keyed manifest (and the server) keeps: a database whose
    checkpoints no longer reach it was cut (``check_checkpoint_head``).
    """
    last = JournalCheckpoint.select(JournalCheckpoint.hash).order_by(JournalCheckpoint.id.desc()).first()
    return (JournalCheckpoint.select().count(), last.hash) if last is not None else (0, GENESIS_HASH)


def check_checkpoint_head(number: int, digest: str) -> str:
    """"" when checkpoint ``number`` of this database has hash ``digest``; else one sentence saying what is wrong."""
    if number <= 0:
        return ""
    row = JournalCheckpoint.select(JournalCheckpoint.hash).order_by(JournalCheckpoint.id).offset(number - 1).first()
    if row is None:
        have = JournalCheckpoint.select().count()
        return (f"Journal checkpoint {number} is missing: the database holds checkpoints up to {have}, "
                f"so its newest records were cut.")
    if row.hash != digest:
        return f"Journal checkpoint {number} is not the one recorded: the checkpoints were rewritten."
    return ""


# --- what the checkpoints hold, against what is there --------------------------------------------


Archived = Callable[[str, int, int], bool]  # (till, 0 receipt / 2 audit, number): in an archive file that is away


def check_heads(points: Iterable[Checkpoint], archived: Archived) -> None:
    """Each trusted checkpoint's heads are still in the journal and audit chain, with the same hashes."""
    seen = set()
    for point in points:
        if not point.trusted:
            continue
        for till_id, head in sorted(point.content.get("tills", {}).items()):
            no, digest, seq, audit_hash = int(head[0]), head[1], int(head[2]), head[3]
            if no and ("r", till_id, no, digest) not in seen and not archived(till_id, 0, no):
                _check_receipt_head(point.number, till_id, no, digest)
            if seq and ("a", till_id, seq, audit_hash) not in seen and not archived(till_id, 2, seq):
                _check_audit_head(point.number, till_id, seq, audit_hash)
            seen.update({("r", till_id, no, digest), ("a", till_id, seq, audit_hash)})


def _check_receipt_head(number: int, till_id: str, no: int, digest: str) -> None:
    found = Sale.select(Sale.hash).where((Sale.till_id == till_id) & (Sale.receipt_no == no)).scalar()
    if found == digest:
        return
    name = format_receipt_no(till_id, no)
    if found is not None:
        raise Broken(f"Receipt {name} is not the one journal checkpoint {number} verified: the journal of till "
                     f"{till_id} was rewritten.", till_id, no)
    last = int(Sale.select(fn.MAX(Sale.receipt_no)).where(Sale.till_id == till_id).scalar() or 0)
    if last >= no:
        raise Broken(f"Receipt {name} is missing from the journal: journal checkpoint {number} verified it.",
                     till_id, no)
    what = f"Receipt {name} is" if last + 1 == no else \
        f"Receipts {format_receipt_no(till_id, last + 1)} to {name} are"
    ends = f"ends at receipt {format_receipt_no(till_id, last)}" if last else "holds no receipt"
    raise Broken(f"{what} missing from the journal: journal checkpoint {number} verified till {till_id} up to "
                 f"{name}, and its journal now {ends}.", till_id, last + 1)


def _check_audit_head(number: int, till_id: str, seq: int, digest: str) -> None:
    found = Audit.select(Audit.hash).where((Audit.till_id == till_id) & (Audit.seq == seq)).scalar()
    if found == digest:
        return
    if found is not None:
        raise Broken(f"Audit record {seq} of till {till_id} is not the one journal checkpoint {number} verified: "
                     f"the audit chain was rewritten.", till_id)
    last = int(Audit.select(fn.MAX(Audit.seq)).where(Audit.till_id == till_id).scalar() or 0)
    if last >= seq:
        raise Broken(f"Audit record {seq} of till {till_id} is missing: journal checkpoint {number} verified it.",
                     till_id)
    raise Broken(f"The audit records {last + 1} to {seq} of till {till_id} are missing: journal checkpoint "
                 f"{number} verified them, and the chain now ends at record {last}.", till_id)


def check_records(records: Dict[int, Tuple[str, str, int]], points: List[Checkpoint]) -> None:
    """Each checkpoint an audit record names (number -> (hash, till, seq)) is there, with that hash."""
    for number, (digest, till_id, seq) in sorted(records.items()):
        if number > len(points):
            raise Broken(f"Journal checkpoint {number} was deleted: audit record {seq} of till {till_id} says it "
                         f"was written.", till_id)
        if points[number - 1].hash != digest:
            raise Broken(f"Journal checkpoint {number} is not the one audit record {seq} of till {till_id} names: "
                         f"the checkpoints were rewritten.", till_id)


def write(content: Dict) -> None:
    """Store a checkpoint (numbered after the newest) and its record in each till's audit chain it holds.

    verify calls it only after every checkpoint's heads were found in the
    chains it walked: a checkpoint is never written over a head that went
    backwards.
    """
    with write_transaction():
        last = JournalCheckpoint.select().order_by(JournalCheckpoint.id.desc()).first()
        prev = last.hash if last is not None else GENESIS_HASH
        number = JournalCheckpoint.select().count() + 1
        text = audit.dumps(dict(content, seq=number))
        kind = chain.hash_kind()
        digest = chain.chain_hash(prev, text, kind)
        JournalCheckpoint.create(verified_at=now(), content=text, prev_hash=prev, hash=digest, hash_kind=kind)
        for till_id in sorted(content.get("tills", {})):
            audit.append(db.obj, till_id, audit.CHECKPOINT, number, audit.dumps({"seq": number, "hash": digest}))
