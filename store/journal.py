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
import json
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from store.models import GENESIS_HASH, Discount, Line, Payment, Sale, TillCounter
from store.numbering import format_receipt_no

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


def chain_hash(prev_hash: str, content: str) -> str:
    """SHA-256 (hex) of the previous hash followed by the canonical content."""
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    bad_till: Optional[str]
    bad_receipt_no: Optional[int]
    message: str
    sales_checked: int = 0
    tills_checked: int = 0


def _tills() -> List[str]:
    tills = {row.till_id for row in Sale.select(Sale.till_id).distinct()}
    tills.update(row.till_id for row in TillCounter.select(TillCounter.till_id))
    return sorted(tills)


def _sale_chunks(till_id: str) -> Iterable[List[dict]]:
    """Sales of a till in receipt order, in chunks, with their lines and payments."""
    after = 0
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


def _verify_till(till_id: str) -> "tuple[Optional[VerifyResult], int]":
    expected_no, prev_hash, checked = 1, GENESIS_HASH, 0
    for chunk in _sale_chunks(till_id):
        for sale in chunk:
            no = sale["receipt_no"]
            name = format_receipt_no(till_id, no)
            if no != expected_no:
                missing = format_receipt_no(till_id, expected_no)
                return VerifyResult(
                    False, till_id, no,
                    f"Receipt {name} has no predecessor: receipt {missing} is missing from the journal.",
                    checked,
                ), checked
            if sale["prev_hash"] != prev_hash:
                return VerifyResult(
                    False, till_id, no,
                    f"Receipt {name} does not follow the receipt before it in the journal "
                    f"(its link was changed or the previous receipt was altered).",
                    checked,
                ), checked
            content = canonical_content(sale, sale["_lines"], sale["_payments"], sale["_discounts"])
            if chain_hash(prev_hash, content) != sale["hash"]:
                return VerifyResult(
                    False, till_id, no,
                    f"Receipt {name} was changed after it was recorded: "
                    f"its stored content no longer matches its journal hash.",
                    checked,
                ), checked
            prev_hash, expected_no, checked = sale["hash"], no + 1, checked + 1
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    if counter is not None and counter.last_receipt_no >= expected_no:
        missing = format_receipt_no(till_id, expected_no)
        return VerifyResult(
            False, till_id, expected_no,
            f"Receipt {missing} is missing from the journal: "
            f"till {till_id} issued receipts up to {format_receipt_no(till_id, counter.last_receipt_no)}.",
            checked,
        ), checked
    if counter is not None and counter.last_hash != prev_hash:
        last = expected_no - 1
        return VerifyResult(
            False, till_id, last,
            f"Receipt {format_receipt_no(till_id, last)} does not match the last journal hash of till {till_id}.",
            checked,
        ), checked
    return None, checked


def verify() -> VerifyResult:
    """Walk every till's chain; report the first break, or that all is intact."""
    total, tills = 0, _tills()
    for till_id in tills:
        problem, checked = _verify_till(till_id)
        total += checked
        if problem is not None:
            return VerifyResult(
                problem.ok, problem.bad_till, problem.bad_receipt_no, problem.message,
                total, len(tills),
            )
    plural = "" if len(tills) == 1 else "s"
    return VerifyResult(
        True, None, None,
        f"The journal is intact: {total} sales on {len(tills)} till{plural} checked.",
        total, len(tills),
    )
