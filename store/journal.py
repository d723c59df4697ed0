"""The sales journal: a SHA-256 hash chain per till.

Each sale stores ``hash = sha256(prev_hash + canonical content)`` where the
canonical content is sorted-key, compact JSON of the sale, its lines and its
payments (failed ones too). ``verify()`` walks every till's chain in receipt
number order and names the first receipt whose content no longer matches its
hash, or whose predecessor is missing.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Sequence

from store.models import Discount, Line, Payment, Sale

CHUNK = 2000


def canonical_content(sale: Mapping, lines: Sequence[Mapping], payments: Sequence[Mapping],
                      discounts: Sequence[Mapping] = ()) -> str:
    """Canonical JSON of a document: the exact text the journal hash covers.

    What migration 7 added (kind, original, reason, manager, discounts) is
    named only where it differs from a plain sale, so the hashes of sales
    recorded before it stay as they were.
    """
    sold_at = sale["sold_at"]
    if isinstance(sold_at, datetime.datetime):
        sold_at = sold_at.replace(microsecond=0).isoformat(sep=" ")
    content = {
        "till_id": sale["till_id"],
        "receipt_no": int(sale["receipt_no"]),
        "sold_at": sold_at,
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
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _line_extra(line: Mapping) -> list:
    """A line's discount and its returned line, only when it has either."""
    discount, original = int(line.get("discount_fen") or 0), line.get("original_line")
    return [discount, int(original or 0)] if discount or original else []


def chain_hash(prev_hash: str, content: str, kind: str = "") -> str:
    """SHA-256 (hex) of the previous hash followed by the canonical content; HMAC-SHA256 with the key for "hmac"."""
    data = (prev_hash + content).encode("utf-8")
    if kind == HMAC:
        if _key is None:
            raise KeyMissing("the journal key is not loaded")
        return hmac.new(_key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


# --- the journal key (optional) -------------------------------------------------
#
# With a key, new documents, audit records and checkpoints are hashed with
# HMAC-SHA256 and say so (hash_kind "hmac"): rebuilding the chain after an
# edit then needs the key, which lives in a file outside the database
# ([journal] key_file, written by `chaoying init`). Older records keep
# their plain SHA-256 and verify as such.

HMAC = "hmac"
_key: Optional[bytes] = None


class KeyMissing(Exception):
    """A record is sealed with the journal key and the key is not loaded."""


def set_key(key: Optional[bytes]) -> None:
    """Use ``key`` for new records and for verifying keyed ones (None: no key)."""
    global _key
    _key = key


def hash_kind() -> str:
    """The hash kind new records get: "hmac" with a key, "" (SHA-256) without."""
    return HMAC if _key is not None else ""


def make_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 0600) unless it exists; True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return True


def read_key_file(path: Path) -> Optional[bytes]:
    """The key in ``path``, or None when the file is missing or unreadable."""
    try:
        text = path.read_text(encoding="ascii").strip()
        return bytes.fromhex(text) if text else None
    except (OSError, ValueError):
        return None




def sale_chunks(till_id: str, after: int = 0) -> Iterable[List[dict]]:
    """Sales of a till after receipt ``after`` in receipt order, in chunks, with their lines and payments."""
    while True:
        sales = list(
            Sale.select()
            .where((Sale.till_id == till_id) & (Sale.receipt_no > after))
            .order_by(Sale.receipt_no)
            .limit(CHUNK)
            .dicts()
        )
        if not sales:
            return
        ids = [sale["id"] for sale in sales]
        lines: Dict[int, list] = {sale_id: [] for sale_id in ids}
        payments: Dict[int, list] = {sale_id: [] for sale_id in ids}
        discounts: Dict[int, list] = {sale_id: [] for sale_id in ids}
        for line in Line.select().where(Line.sale.in_(ids)).dicts():
            lines[line["sale"]].append(line)
        for payment in Payment.select().where(Payment.sale.in_(ids)).dicts():
            payments[payment["sale"]].append(payment)
        for discount in Discount.select().where(Discount.sale.in_(ids)).dicts():
            discounts[discount["sale"]].append(discount)
        for sale in sales:
            sale["_lines"] = lines[sale["id"]]
            sale["_payments"] = payments[sale["id"]]
            sale["_discounts"] = discounts[sale["id"]]
        yield sales
        after = sales[-1]["receipt_no"]


def verify(full: bool = True, checkpoint: bool = False) -> "VerifyResult":
    """Check the journal, the audit chain and every row they vouch for (store.verify)."""
    from store import verify as verifier

    return verifier.verify(full, checkpoint)


if TYPE_CHECKING:
    from store.verify import VerifyResult
