"""Queries about sales, receipts and events for the back office, the CLI (--json) and the TUI.

Products (add, import, search, list) live in ``store.catalogue``.

Everything returned here is a plain dict (JSON-ready: ints, strings, lists),
so callers never hold model instances across threads.
"""
from __future__ import annotations

import datetime
import logging
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

from peewee import JOIN, fn

from store import money
from store.models import Event, Line, LineName, Payment, PrintAttempt, ReceiptOutcome, Sale
from store.numbering import format_receipt_no
from store.outcomes import PRINTED, unresolved_term
from store.till_filter import Tills, restrict

log = logging.getLogger("chaoying.store.queries")


def _time(value: Optional[datetime.datetime]) -> Optional[str]:
    return value.isoformat(sep=" ") if value is not None else None


def _sale_dict(sale: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        "id": sale["id"],
        "till_id": sale["till_id"],
        "receipt_no": sale["receipt_no"],
        "receipt": format_receipt_no(sale["till_id"], sale["receipt_no"]),
        "sold_at": _time(sale["sold_at"]),
        "cashier": sale["cashier"],
        "total_fen": sale["total_fen"],
        "total": money.format_yuan(sale["total_fen"]),
        "change_fen": sale["change_fen"],
        "kind": sale.get("kind") or "sale",
    }


def _link_documents(items: List[Dict[str, Any]]) -> None:
    """Give each document ``original`` (the receipt number a refund or void corrects, else None) and each
    sale ``refunded`` / ``voided`` (whether a later document corrects it)."""
    ids = [item["id"] for item in items]
    originals: Dict[int, int] = {}
    corrected: Dict[int, set] = {}
    for chunk in _chunks(ids):
        linked = Sale.select(Sale.id, Sale.original).where(Sale.id.in_(chunk) & Sale.original.is_null(False))
        for sale_id, original in linked.tuples():
            originals[sale_id] = original
        for original, kind in (Sale.select(Sale.original, Sale.kind).where(Sale.original.in_(chunk)).distinct()
                               .tuples()):
            corrected.setdefault(original, set()).add(kind)
    numbers: Dict[int, str] = {}
    wanted = sorted(set(originals.values()))
    for chunk in _chunks(wanted):
        for sale_id, till, number in (Sale.select(Sale.id, Sale.till_id, Sale.receipt_no)
                                      .where(Sale.id.in_(chunk)).tuples()):
            numbers[sale_id] = format_receipt_no(till, number)
    for item in items:
        original = originals.get(item["id"])
        item["original"] = numbers.get(original) if original is not None else None
        if item["kind"] == "sale":
            kinds = corrected.get(item["id"], set())
            item["refunded"], item["voided"] = "refund" in kinds, "void" in kinds


# --- sales and receipts ----------------------------------------------------

def sales_on(date: datetime.date, till_id: Tills = None) -> List[Dict[str, Any]]:
    """Sales of one calendar day (local time) of ``till_id`` (store.till_filter), oldest first, with payments
    and outcome."""
    start = datetime.datetime.combine(date, datetime.time())
    end = start + datetime.timedelta(days=1)
    query = (
        Sale.select(Sale, ReceiptOutcome.state)
        .join(ReceiptOutcome)
        .where((Sale.sold_at >= start) & (Sale.sold_at < end))
        .order_by(Sale.sold_at, Sale.till_id, Sale.receipt_no)
    )
    rows = list(restrict(query, Sale.till_id, till_id).dicts())
    ids = [row["id"] for row in rows]
    payments: Dict[int, list] = {sale_id: [] for sale_id in ids}
    line_counts: Dict[int, int] = {}
    for chunk in _chunks(ids):
        for payment in Payment.select().where(Payment.sale.in_(chunk)).order_by(Payment.position).dicts():
            payments[payment["sale"]].append(_payment_dict(payment))
        for sale_id, count in (
            Line.select(Line.sale, fn.COUNT(Line.id)).where(Line.sale.in_(chunk)).group_by(Line.sale).tuples()
        ):
            line_counts[sale_id] = count
    result = []
    for row in rows:
        item = _sale_dict(row)
        item["outcome"] = row["state"]
        item["lines"] = line_counts.get(row["id"], 0)
        item["payments"] = payments[row["id"]]
        result.append(item)
    _link_documents(result)
    attach_provider_refunds(result)
    return result


def receipts(unresolved_only: bool = False, till_id: Tills = None,
             limit: Optional[int] = None) -> List[Dict[str, Any]]:
    """Receipt outcome per sale of ``till_id`` (store.till_filter), oldest first; ``limit`` keeps only the newest N."""
    query = (
        Sale.select(
            Sale, ReceiptOutcome.state, ReceiptOutcome.reason_code,
            ReceiptOutcome.reason.alias("outcome_reason"),  # sale.reason is a refund's or void's
            ReceiptOutcome.updated_at,
        )
        .join(ReceiptOutcome)
        .order_by(Sale.id.desc())
    )
    if unresolved_only:
        query = query.where(unresolved_term())
    query = restrict(query, Sale.till_id, till_id)
    if limit is not None:
        query = query.limit(int(limit))
    rows = list(query.dicts())
    rows.reverse()
    ids = [row["id"] for row in rows]
    reprinted = reprint_counts(ids)
    attempts: Dict[int, Dict[str, Any]] = {}
    for chunk in _chunks(ids):
        for sale_id, count in (
            PrintAttempt.select(PrintAttempt.sale, fn.COUNT(PrintAttempt.id))
            .where(PrintAttempt.sale.in_(chunk))
            .group_by(PrintAttempt.sale)
            .tuples()
        ):
            attempts[sale_id] = {"print_attempts": count}
        # how the receipt came to be printed: the printer confirmed it, or the cashier's word
        for sale_id, evidence in (
            PrintAttempt.select(PrintAttempt.sale, PrintAttempt.evidence)
            .where(PrintAttempt.sale.in_(chunk) & (PrintAttempt.reprint_no == 0) & (PrintAttempt.result == PRINTED))
            .tuples()
        ):
            attempts.setdefault(sale_id, {})["evidence"] = evidence
    result = []
    for row in rows:
        item = _sale_dict(row)
        item.update(
            outcome=row["state"], reason_code=row["reason_code"], reason=row["outcome_reason"],
            outcome_updated_at=_time(row["updated_at"]),
        )
        item.update({"print_attempts": 0, "evidence": ""})
        item.update(attempts.get(row["id"], {}))
        item["reprints"] = reprinted.get(row["id"], 0)  # the reprints that printed, as the history counts them
        result.append(item)
    return result


def find_sale(till_id: str, receipt_no: int) -> Optional[int]:
    """Id of the sale with this till and receipt number, or None."""
    sale = Sale.get_or_none((Sale.till_id == str(till_id)) & (Sale.receipt_no == int(receipt_no)))
    return sale.id if sale is not None else None


def sale_detail(sale_id: int) -> Optional[Dict[str, Any]]:
    """Everything about one sale (lines, payments, outcome, print attempts, events); None if unknown."""
    sale = Sale.select().where(Sale.id == int(sale_id)).dicts().first()
    if sale is None:
        return None
    detail = _sale_dict(sale)
    detail["prev_hash"], detail["hash"] = sale["prev_hash"], sale["hash"]
    detail["document_reason"], detail["manager"] = sale["reason"], sale["manager"]  # why a refund or void
    _link_documents([detail])
    detail["lines"] = [
        {
            "position": line["position"], "product_id": line["product"], "barcode": line["barcode"],
            "name": line["name"], "unit": line["unit"], "unit_price_fen": line["unit_price_fen"],
            "qty_milli": line["qty_milli"], "amount_fen": line["amount_fen"],
        }
        for line in Line.select().where(Line.sale == sale["id"]).order_by(Line.position).dicts()
    ]
    detail["payments"] = [
        _payment_dict(payment)
        for payment in Payment.select().where(Payment.sale == sale["id"]).order_by(Payment.position).dicts()
    ]
    attach_provider_refunds([detail])
    outcome = ReceiptOutcome.select().where(ReceiptOutcome.sale == sale["id"]).dicts().first() or {}
    detail["outcome"] = outcome.get("state")
    detail["reason_code"] = outcome.get("reason_code", "")
    detail["reason"] = outcome.get("reason", "")
    detail["print_attempts"] = [
        {
            "id": attempt["id"], "printer": attempt["printer"], "cashier": attempt["cashier"],
            "started_at": _time(attempt["started_at"]), "finished_at": _time(attempt["finished_at"]),
            "result": attempt["result"], "reason_code": attempt["reason_code"],
            "reason": attempt["reason"], "reprint_no": attempt["reprint_no"],
            "evidence": attempt["evidence"],
        }
        for attempt in PrintAttempt.select().where(PrintAttempt.sale == sale["id"]).order_by(PrintAttempt.id).dicts()
    ]
    detail["events"] = [
        {
            "at": _time(event["at"]), "kind": event["kind"], "cashier": event["cashier"],
            "printer": event["printer"], "detail": event["detail"],
        }
        for event in Event.select().where(Event.sale == sale["id"]).order_by(Event.id).dicts()
    ]
    return detail


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_AMOUNT = re.compile(r"[￥¥]?\s*(\d+\.\d{1,2}|\d+)")
_RECEIPT = re.compile(r"(?:([A-Za-z0-9_]{1,8})-)?(\d{1,9})")  # longer digit runs are barcodes


def receipt_filter(text: str, till_id: str, limit: int = 200):
    """The peewee condition on Sale for what a cashier typed in the history search box.

    ``2026-11-22`` a day; ``12.50`` or ``￥12`` an amount; ``1-000012``, ``000012`` or ``12`` a
    receipt number; anything else part of a product name (or a barcode, or pinyin) on a line.
    A day or a name gives the ids of the ``limit`` newest such sales of the till (see
    _newest_on, _newest_sales_with): the plan then cannot wander through the history.
    """
    text = (text or "").strip()
    if not text:
        return None
    if _DATE.fullmatch(text):
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            day = None
        if day is not None:
            return Sale.id.in_(_newest_on(day, str(till_id), limit))
    if "." in text or text[:1] in "￥¥":
        found = _AMOUNT.fullmatch(text)
        if found:
            try:
                return Sale.total_fen == money.parse_yuan(found.group(1))
            except ValueError:  # an absurd amount (too many digits): no sale has that total
                return Sale.id.in_([])
    found = _RECEIPT.fullmatch(text)
    if found and (found.group(1) is None or found.group(1) == str(till_id)):
        return Sale.receipt_no == int(found.group(2))
    return Sale.id.in_(_newest_sales_with(text, str(till_id), limit))


def _newest_on(day: datetime.date, till_id: str, limit: int) -> List[int]:
    """Ids of the till's ``limit`` sales of ``day`` with the highest receipt numbers.

    The day's sales come from the index sale (till_id, sold_at) and are sorted here. Asked in
    one statement with ORDER BY receipt_no DESC LIMIT, PostgreSQL walks the receipt numbers
    down from the newest, expecting the day anywhere: half a million rows for a day long ago.
    """
    start = datetime.datetime.combine(day, datetime.time())
    rows = (Sale.select(Sale.id, Sale.receipt_no)
            .where((Sale.till_id == till_id) & (Sale.sold_at >= start)
                   & (Sale.sold_at < start + datetime.timedelta(days=1)))
            .tuples())
    return [sale_id for sale_id, _ in sorted(rows, key=lambda row: row[1], reverse=True)[:limit]]


def _newest_sales_with(text: str, till_id: str, limit: int) -> List[int]:
    """Ids of the till's ``limit`` newest sales with a line whose name contains ``text``, whose
    barcode is ``text``, or whose product the catalogue finds for ``text`` (pinyin).

    Each key (a matching name from line_name, the barcode, a product) is one walk down an index
    line (key, sale_id), newest first, that stops after ``limit`` sales of the till or at the
    oldest sale already kept: the work follows the answer (and other tills' sales of the same
    products), not the history. Within a till sale ids grow with receipt numbers (both are
    taken under the till's counter lock), so these are the sales the search by receipt number,
    newest first, would list.
    """
    keys: List[Any] = [Line.name == name for (name,) in
                       LineName.select(LineName.name).where(LineName.name.contains(text)).tuples()]
    keys.append(Line.barcode == text)
    try:
        from store.catalogue import search_products as catalogue_search

        keys += [Line.product == p["id"] for p in catalogue_search(text, limit=50)]
    except Exception:  # pinyin search is a bonus; the name match above still works
        log.debug("catalogue search failed in the history search", exc_info=True)
    found: List[int] = []
    for key in keys:
        above = found[limit - 1] if len(found) >= limit else 0
        found = sorted(set(found).union(_walk(key, till_id, limit, above)), reverse=True)[:limit]
    return found


def _walk(key: Any, till_id: str, limit: int, above: int) -> List[int]:
    """Ids of the till's ``limit`` newest sales above id ``above`` with a line meeting ``key``.

    Pages down the index line (key, sale_id), then keeps the till's sales of each page (by
    primary key): two one-table statements whose plans cannot turn into a walk of history.
    """
    found: List[int] = []
    below: Optional[int] = None
    while len(found) < limit:
        query = (Line.select(Line.sale).distinct().where(key & (Line.sale > above))
                 .order_by(Line.sale.desc()).limit(limit))
        if below is not None:
            query = query.where(Line.sale < below)
        page = [sale_id for (sale_id,) in query.tuples()]
        if not page:
            break
        found += [sale_id for (sale_id,) in
                  Sale.select(Sale.id).where(Sale.id.in_(page) & (Sale.till_id == till_id)).tuples()]
        if len(page) < limit:
            break
        below = page[-1]
    return found


def search_receipts(till_id: str, text: str = "", limit: int = 200) -> List[Dict[str, Any]]:
    """This till's receipts matching the history search box (see receipt_filter), newest first.

    Each has the sale, its receipt outcome, and ``reprints`` (reprints that printed). When the live
    database has no match, the archive (store.archive) is searched too.
    """
    result = _search_receipts(till_id, text, limit)
    if not result and text:
        from store import archive

        with archive.joined() as joined:
            if joined:
                result = _search_receipts(till_id, text, limit)
    return result


def _search_receipts(till_id: str, text: str, limit: int) -> List[Dict[str, Any]]:
    query = (
        Sale.select(Sale, ReceiptOutcome.state, ReceiptOutcome.reason.alias("outcome_reason"))
        .join(ReceiptOutcome)
        .where(Sale.till_id == str(till_id))
        .order_by(Sale.receipt_no.desc())
        .limit(int(limit))
    )
    condition = receipt_filter(text, till_id, limit)
    if condition is not None:
        query = query.where(condition)
    rows = list(query.dicts())
    reprinted = reprint_counts([row["id"] for row in rows])
    result = []
    for row in rows:
        item = _sale_dict(row)
        item.update(outcome=row["state"], reason=row["outcome_reason"], reprints=reprinted.get(row["id"], 0))
        result.append(item)
    _link_documents(result)
    return result


def reprint_counts(sale_ids: List[int]) -> Dict[int, int]:
    """sale id -> how many reprints (补打) of it printed."""
    counts: Dict[int, int] = {}
    for chunk in _chunks(list(sale_ids)):
        for sale_id, count in (
            PrintAttempt.select(PrintAttempt.sale, fn.COUNT(PrintAttempt.id))
            .where(PrintAttempt.sale.in_(chunk) & (PrintAttempt.reprint_no > 0) & (PrintAttempt.result == PRINTED))
            .group_by(PrintAttempt.sale)
            .tuples()
        ):
            counts[sale_id] = count
    return counts


def events(till_id: Optional[str] = None, limit: int = 500,
           kinds: Optional[Iterable[str]] = None) -> List[Dict[str, Any]]:
    """The event log, newest first: time, kind, receipt number, cashier, printer, detail."""
    query = (
        Event.select(Event, Sale.till_id.alias("sale_till"), Sale.receipt_no)
        .join(Sale, join_type=JOIN.LEFT_OUTER)
        .order_by(Event.at.desc(), Event.id.desc())
        .limit(int(limit))
    )
    if till_id is not None:
        query = query.where(Event.till_id == str(till_id))
    if kinds is not None:
        query = query.where(Event.kind.in_(list(kinds)))
    return [
        {
            "id": row["id"], "at": _time(row["at"]), "till_id": row["till_id"], "kind": row["kind"],
            "sale_id": row["sale"],
            "receipt": format_receipt_no(row["sale_till"], row["receipt_no"]) if row["sale"] else "",
            "cashier": row["cashier"], "printer": row["printer"], "detail": row["detail"],
        }
        for row in query.dicts()
    ]


def _payment_dict(payment: Mapping[str, Any]) -> Dict[str, Any]:
    """A payment as the history, ``sales list --json`` and reports read it: a till-charged one (its
    ``out_trade_no`` set) names its provider and the provider's transaction number (the reference)."""
    charged = bool(payment.get("out_trade_no"))
    return {
        "position": payment["position"], "method": payment["method"], "amount_fen": payment["amount_fen"],
        "reference": payment["reference"], "status": payment["status"], "reason": payment["reason"],
        "provider": payment["method"] if charged else "", "out_trade_no": payment.get("out_trade_no") or "",
        "transaction_id": payment["reference"] if charged else "",
    }


def _refund_dict(row: Any) -> Dict[str, Any]:
    return {"out_refund_no": row.out_refund_no, "state": row.state, "refund_id": row.refund_id,
            "reason_code": row.reason_code, "reason": row.reason, "amount_fen": row.amount_fen}


def attach_provider_refunds(documents: Iterable[Mapping[str, Any]]) -> None:
    """Give each refund's or void's till-charged payment ``refund``: its provider refund (number, state, the
    provider's refund number or why it is pending or refused); other payments get None."""
    from store.provider_refunds import of_documents

    wanted = [item["id"] for item in documents if (item.get("kind") or "sale") != "sale"
              and any(p.get("out_trade_no") for p in item.get("payments", ()))]
    found = of_documents(wanted) if wanted else {}
    for item in documents:
        for payment in item.get("payments", ()):
            row = found.get((item["id"], payment["position"]))
            payment["refund"] = _refund_dict(row) if row is not None else None


def _chunks(ids: List[int], size: int = 500) -> Iterable[List[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
