"""X and Z reports: a shift's (or any days') figures from the documents; the Z closes the shift.

Figures come from the documents (sale, refund, void: amounts positive, the
kind gives the sign), their lines, payments and discounts (抹零 apart),
receipt outcomes and print attempts, the event log and the shift's cash
moves. The identities they keep (a test checks them):

- net = gross - discounts - 抹零 - refunds - voids
- the tenders' amounts add up to net
- expected cash = float + cash sales - cash refunds - cash voids + paid in - paid out
  - cash sold before the shift (after the last Z while no shift was open: that cash was in the
  drawer when the float was counted, so the float already holds it)

A shift covers the till's documents after the previous Z (so nothing sold
between a Z and the next shift is lost) and its events since then. A Z
report is numbered gaplessly per till and chained: ``hash = sha256(prev_hash
+ canonical JSON)`` over its number, figures and the till's journal head at
close, so the paper Z anchors the sales journal. ``verify_z()`` names the
first Z edited or missing.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from peewee import JOIN, Case, fn

from store import audit, baskets, events, money, outcomes, print_attempts
from store.cashiers import cashier_code
from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import (
    GENESIS_HASH,
    CashMove,
    Discount,
    Event,
    Line,
    Payment,
    PrintAttempt,
    ReceiptOutcome,
    Sale,
    Shift,
    ShiftHandover,
    TillCounter,
    ZReport,
    now,
)
from store.numbering import format_receipt_no
from store.sales import METHODS, PAYMENT_FAILED, PAYMENT_OK
from store.shifts import PAID_IN, PAID_OUT, _counts_json, counts_fen, current_shift
from store.till_filter import Tills, and_tills, restrict

SALE, REFUND, VOID = "sale", "refund", "void"
ROUND = "round"
EVENT_NO_SALE = "no_sale"
EVENT_KINDS = (EVENT_NO_SALE, "basket_cancelled", "payment_handed_back")
TOP_PRODUCTS = 10
BY = ("day", "hour", "product", "tender", "cashier")


class ReportError(StoreError, ValueError):
    """A Z (or report) that cannot be made now: one sentence, a code naming why, and its values."""


@dataclass(frozen=True)
class Scope:
    """Which documents a report covers: a till's receipts after ``after_no`` (a shift), or a time range."""

    till_id: str
    after_no: Optional[int] = None
    upto_no: Optional[int] = None
    since: Optional[datetime.datetime] = None
    until: Optional[datetime.datetime] = None
    shift: Optional[Shift] = None

    def sales(self) -> Any:
        where = Sale.till_id == self.till_id
        if self.after_no is not None:
            where &= Sale.receipt_no > self.after_no
            if self.upto_no is not None:
                where &= Sale.receipt_no <= self.upto_no
            return where
        if self.since is not None:
            where &= Sale.sold_at >= self.since
        if self.until is not None:
            where &= Sale.sold_at < self.until
        return where

    def events(self) -> Any:
        where = Event.till_id == self.till_id
        if self.since is not None:
            where &= Event.at >= self.since
        if self.until is not None:
            where &= Event.at < self.until
        return where


def _last_z(till_id: str) -> Optional[ZReport]:
    return ZReport.select().where(ZReport.till_id == till_id).order_by(ZReport.z_no.desc()).first()


def shift_scope(till_id: str, shift: Optional[Shift] = None) -> Scope:
    """The open shift (or ``shift``): its documents after the previous Z, its events since that Z."""
    till_id = str(till_id)
    shift = shift if shift is not None else current_shift(till_id)
    if shift is not None and shift.z_no is not None:  # a closed shift: what its Z covered
        z = ZReport.get((ZReport.till_id == till_id) & (ZReport.z_no == shift.z_no))
        before = ZReport.get_or_none((ZReport.till_id == till_id) & (ZReport.z_no == shift.z_no - 1))
        return Scope(till_id, before.last_receipt_no if before else 0, z.last_receipt_no,
                     before.closed_at if before else None, z.closed_at + datetime.timedelta(seconds=1), shift)
    last = _last_z(till_id)
    return Scope(till_id, last.last_receipt_no if last else 0, None, last.closed_at if last else None, None, shift)


def day_scope(till_id: str, first: datetime.date, last: datetime.date) -> Scope:
    """Every document of the till from ``first`` to ``last`` (both included)."""
    return Scope(str(till_id), since=datetime.datetime.combine(first, datetime.time()),
                 until=datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time()))


def _fmt(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)[:19]


def _hour_of(field: Any) -> Any:
    if is_sqlite(db.obj):
        return fn.substr(field, 12, 2).coerce(False)
    return fn.to_char(field, "HH24").coerce(False)


def _day_of(field: Any) -> Any:
    if is_sqlite(db.obj):
        return fn.substr(field, 1, 10).coerce(False)
    return fn.to_char(field, "YYYY-MM-DD").coerce(False)


def _sign() -> Any:
    """+1 for a sale, -1 for a refund or void: the way the money went."""
    return Case(None, [(Sale.kind == SALE, 1)], -1)


def _is_sale() -> Any:
    return Case(None, [(Sale.kind == SALE, 1)], 0)


def figures(till_id: str, shift: Optional[Shift] = None, first: Optional[datetime.date] = None,
            last: Optional[datetime.date] = None, counted_fen: Optional[int] = None,
            counts: Optional[Dict[int, int]] = None) -> Dict[str, Any]:
    """The figures of the till's open shift (or ``shift``), or of the days ``first`` to ``last``."""
    till_id = str(till_id)
    if first is not None:
        scope = day_scope(till_id, first, last or first)
    else:
        scope = shift_scope(till_id, shift)
    where = scope.sales()
    docs: Dict[str, Dict[str, int]] = {kind: dict(count=0, amount_fen=0, discount_fen=0, change_fen=0)
                                       for kind in (SALE, REFUND, VOID)}
    numbers: List[int] = []
    for kind, count, total, discount, change, low, high in (
            Sale.select(Sale.kind, fn.COUNT(Sale.id), fn.SUM(Sale.total_fen), fn.SUM(Sale.discount_fen),
                        fn.SUM(Sale.change_fen), fn.MIN(Sale.receipt_no), fn.MAX(Sale.receipt_no))
            .where(where).group_by(Sale.kind).tuples()):
        docs[kind] = dict(count=count, amount_fen=int(total or 0), discount_fen=int(discount or 0),
                          change_fen=int(change or 0))
        numbers += [low, high]
    rounding = int(Discount.select(fn.SUM(Discount.amount_fen)).join(Sale, on=(Discount.sale == Sale.id))
                   .where(where & (Sale.kind == SALE) & (Discount.kind == ROUND)).scalar() or 0)
    sales = docs[SALE]
    gross = sales["amount_fen"] + sales["discount_fen"]
    net = sales["amount_fen"] - docs[REFUND]["amount_fen"] - docs[VOID]["amount_fen"]
    result: Dict[str, Any] = dict(
        till_id=till_id,
        shift=scope.shift.number if scope.shift is not None else None,
        opened_at=_fmt(scope.shift.opened_at) if scope.shift is not None else None,
        since=_fmt(scope.since), until=_fmt(scope.until),
        sales=dict(count=sales["count"], gross_fen=gross, discount_fen=sales["discount_fen"] - rounding,
                   rounding_fen=rounding, amount_fen=sales["amount_fen"]),
        refunds=dict(count=docs[REFUND]["count"], amount_fen=docs[REFUND]["amount_fen"]),
        voids=dict(count=docs[VOID]["count"], amount_fen=docs[VOID]["amount_fen"]),
        net_fen=net,
    )
    result.update(_tenders(where, sales["change_fen"]))
    result["cash"] = _cash(scope, result["tenders"], counted_fen, counts)
    result.update(_breakdowns(where))
    result["receipts"] = _receipts(where, scope)
    result["events"] = {kind: 0 for kind in EVENT_KINDS}
    for kind, count in (Event.select(Event.kind, fn.COUNT(Event.id))
                        .where(scope.events() & Event.kind.in_(EVENT_KINDS)).group_by(Event.kind).tuples()):
        result["events"][kind] = count
    low, high = (min(numbers), max(numbers)) if numbers else (None, None)
    result["first_receipt"] = format_receipt_no(till_id, low) if low is not None else None
    result["last_receipt"] = format_receipt_no(till_id, high) if high is not None else None
    result["last_receipt_no"] = high
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    result["journal_head"] = counter.last_hash if counter else GENESIS_HASH
    result["audit_head"] = counter.audit_hash if counter else GENESIS_HASH  # the paper Z anchors both chains
    if scope.shift is not None:
        result["handovers"] = ShiftHandover.select().where(ShiftHandover.shift == scope.shift.id).count()
    return result


def _tenders(where: Any, change_fen: int) -> Dict[str, Any]:
    """Per tender: payments taken by sales, less change (cash), refunds and voids; failed payments apart."""
    tenders = {method: dict(count=0, amount_fen=0, sales_fen=0, refunds_fen=0, voids_fen=0) for method in METHODS}
    failed = dict(count=0, amount_fen=0)
    for kind, method, status, count, amount in (
            Payment.select(Sale.kind, Payment.method, Payment.status, fn.COUNT(Payment.id), fn.SUM(Payment.amount_fen))
            .join(Sale, on=(Payment.sale == Sale.id)).where(where)
            .group_by(Sale.kind, Payment.method, Payment.status).tuples()):
        amount = int(amount or 0)
        if status == PAYMENT_FAILED:
            failed["count"] += count
            failed["amount_fen"] += amount
            continue
        if status != PAYMENT_OK:
            continue
        row = tenders.setdefault(method, dict(count=0, amount_fen=0, sales_fen=0, refunds_fen=0, voids_fen=0))
        if kind == SALE:
            row["count"] += count
            row["sales_fen"] += amount
        else:
            row[f"{kind}s_fen"] += amount
    tenders["cash"]["sales_fen"] -= change_fen  # the change went back out of the drawer
    for row in tenders.values():
        row["amount_fen"] = row["sales_fen"] - row["refunds_fen"] - row["voids_fen"]
    return dict(tenders=tenders, failed_payments=failed)


def _cash(scope: Scope, tenders: Dict[str, Dict[str, int]], counted_fen: Optional[int],
          counts: Optional[Dict[int, int]]) -> Dict[str, Any]:
    moves = {PAID_IN: 0, PAID_OUT: 0}
    float_fen, float_counts = 0, ""
    before_shift = _cash_before_shift(scope)
    if scope.shift is not None:
        float_fen, float_counts = scope.shift.float_fen, scope.shift.float_counts
        query = CashMove.select(CashMove.kind, fn.SUM(CashMove.amount_fen)).where(CashMove.shift == scope.shift.id)
    else:
        query = (CashMove.select(CashMove.kind, fn.SUM(CashMove.amount_fen)).join(Shift)
                 .where((Shift.till_id == scope.till_id) & (CashMove.at >= scope.since) & (CashMove.at < scope.until)))
    for kind, amount in query.group_by(CashMove.kind).tuples():
        moves[kind] = int(amount or 0)
    cash = tenders["cash"]
    expected = (float_fen + cash["sales_fen"] - cash["refunds_fen"] - cash["voids_fen"]
                + moves[PAID_IN] - moves[PAID_OUT] - before_shift)
    if counts:
        counted_fen = counts_fen(counts)
    return dict(float_fen=float_fen, sales_fen=cash["sales_fen"], refunds_fen=cash["refunds_fen"],
                voids_fen=cash["voids_fen"], paid_in_fen=moves[PAID_IN], paid_out_fen=moves[PAID_OUT],
                before_shift_fen=before_shift, expected_fen=expected, counted_fen=counted_fen,
                over_short_fen=None if counted_fen is None else counted_fen - expected,
                counts=json.loads(_counts_json(counts) or "{}"), float_counts=json.loads(float_counts or "{}"))


def _cash_before_shift(scope: Scope) -> int:
    """The net cash of the scope's documents sold before its shift opened (0 without a shift)."""
    shift = scope.shift
    if shift is None or scope.after_no is None or shift.after_receipt_no <= scope.after_no:
        return 0
    where = scope.sales() & (Sale.receipt_no <= shift.after_receipt_no)
    change = Sale.select(fn.SUM(Sale.change_fen)).where(where & (Sale.kind == SALE)).scalar() or 0
    return int(_tenders(where, int(change))["tenders"]["cash"]["amount_fen"])


def _breakdowns(where: Any) -> Dict[str, Any]:
    """Per cashier, per hour (net and documents) and the top products (net of returns)."""
    signed = Sale.total_fen * _sign()
    cashiers = [dict(cashier=cashier or "", count=int(count), net_fen=int(amount or 0))
                for cashier, count, amount in (
                    Sale.select(Sale.cashier, fn.SUM(_is_sale()),
                                fn.SUM(signed))
                    .where(where).group_by(Sale.cashier).order_by(Sale.cashier).tuples())]
    hour = _hour_of(Sale.sold_at)
    hours = [dict(hour=str(h), count=int(count), net_fen=int(amount or 0))
             for h, count, amount in (
                 Sale.select(hour, fn.SUM(_is_sale()),
                             fn.SUM(signed))
                 .where(where).group_by(hour).order_by(hour).tuples())]
    amount = fn.SUM(Line.amount_fen * _sign())
    top = [dict(barcode=barcode or "", name=name, qty_milli=int(qty or 0), amount_fen=int(total or 0))
           for barcode, name, qty, total in (
               Line.select(Line.barcode, Line.name, fn.SUM(Line.qty_milli * _sign()), amount)
               .join(Sale, on=(Line.sale == Sale.id)).where(where)
               .group_by(Line.barcode, Line.name).order_by(amount.desc(), Line.name).limit(TOP_PRODUCTS).tuples())]
    return dict(cashiers=cashiers, hours=hours, top_products=top)


def _receipts(where: Any, scope: Scope) -> Dict[str, int]:
    """Receipt outcomes: printed (by the printer's word / the cashier's), reprints, handwritten, ..."""
    found = {state: 0 for state in outcomes.STATES}
    for state, count in (ReceiptOutcome.select(ReceiptOutcome.state, fn.COUNT(ReceiptOutcome.id))
                         .join(Sale, on=(ReceiptOutcome.sale == Sale.id)).where(where)
                         .group_by(ReceiptOutcome.state).tuples()):
        found[state] = count
    by_printer = (PrintAttempt.select(fn.COUNT(fn.DISTINCT(PrintAttempt.sale)))
                  .join(Sale, on=(PrintAttempt.sale == Sale.id))
                  .where(where & (PrintAttempt.result == outcomes.PRINTED)
                         & (PrintAttempt.evidence == print_attempts.EVIDENCE_PRINTER)).scalar() or 0)
    attempts = dict(PrintAttempt.select(PrintAttempt.result, fn.COUNT(PrintAttempt.id))
                    .join(Sale, on=(PrintAttempt.sale == Sale.id)).where(where)
                    .group_by(PrintAttempt.result).tuples())
    reprints = (PrintAttempt.select().join(Sale, on=(PrintAttempt.sale == Sale.id))
                .where(where & (PrintAttempt.reprint_no > 0) & (PrintAttempt.result == outcomes.PRINTED)).count())
    # a handwritten receipt printed officially later is "printed" now: the outcome event remembers it
    handwritten = (Event.select(fn.COUNT(fn.DISTINCT(Event.sale))).join(Sale, on=(Event.sale == Sale.id))
                   .where(where & (Event.kind == events.EVENT_OUTCOME)
                          & (Event.detail == f"{outcomes.FAILED} -> {outcomes.HANDWRITTEN}")).scalar() or 0)
    printed = found[outcomes.PRINTED]
    return dict(
        documents=sum(found.values()),
        printed_by_printer=min(by_printer, printed), printed_by_cashier=max(0, printed - by_printer),
        reprints=reprints, handwritten=max(handwritten, found[outcomes.HANDWRITTEN]),
        handwritten_without_print=found[outcomes.HANDWRITTEN], e_receipt=found[outcomes.E_RECEIPT],
        declined=found[outcomes.DECLINED],
        unresolved=sum(found[state] for state in outcomes.UNRESOLVED_STATES),
        print_attempts=sum(attempts.values()), failed_attempts=attempts.get(outcomes.FAILED, 0),
    )


def x_report(till_id: str) -> Dict[str, Any]:
    """The open shift's figures so far (or, without a shift, everything since the last Z); changes nothing."""
    return figures(till_id)


# ---------------------------------------------------------------- the Z report

def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def z_content(row: Dict[str, Any]) -> str:
    """The exact text a Z's hash covers."""
    return canonical(dict(till_id=row["till_id"], z_no=int(row["z_no"]), closed_at=_fmt(row["closed_at"]),
                          closed_by=row["closed_by"] or "", last_receipt_no=int(row["last_receipt_no"]),
                          figures=row["figures"], journal_head=row["journal_head"]))


def z_hash(prev_hash: str, row: Dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + z_content(row)).encode("utf-8")).hexdigest()


def _refuse_open_work(till_id: str) -> None:
    unresolved = outcomes.unresolved_sales(till_id)
    if unresolved:
        names = ", ".join(format_receipt_no(s.till_id, s.receipt_no) for s in unresolved[:5])
        raise ReportError(f"Receipt {names} has no known receipt outcome yet; resolve it before the Z report.",
                          "z_unresolved_receipt", receipts=names, count=len(unresolved))
    open_count, held_count = baskets.counts(till_id)
    if open_count:
        raise ReportError(f"Till {till_id} has an open basket; finish or cancel it before the Z report.",
                          "z_open_basket", till=till_id)
    if held_count:
        waits = "1 held basket waits" if held_count == 1 else f"{held_count} held baskets wait"
        raise ReportError(f"{waits}; resume and finish or cancel them before the Z report.",
                          "z_held_basket", count=held_count)


def z_refusal(till_id: str) -> None:
    """Raise the ReportError a Z would be refused with now (a receipt unresolved, a basket open or held)."""
    _refuse_open_work(str(till_id))


def close_z(till_id: str, counted_fen: Optional[int] = None, counts: Optional[Dict[int, int]] = None,
            cashier=None) -> ZReport:
    """Close the till's shift with a Z: refused while a receipt is unresolved or a basket open or held.

    In one write transaction: the figures, the Z numbered after the till's
    last one, chained to it and to the journal head, and the shift closed.
    """
    till_id = str(till_id)
    _refuse_open_work(till_id)
    with write_transaction():
        _refuse_open_work(till_id)  # again, under the write lock
        counter = TillCounter.select().where(TillCounter.till_id == till_id)
        if not is_sqlite(db.obj):
            counter = counter.for_update()  # no document commits in between (PostgreSQL)
        list(counter)
        shift = current_shift(till_id)
        data = figures(till_id, shift, counted_fen=counted_fen, counts=counts)
        last = _last_z(till_id)
        row: Dict[str, Any] = dict(
            till_id=till_id, z_no=(last.z_no if last else 0) + 1, closed_at=now(), closed_by=cashier_code(cashier),
            last_receipt_no=data["last_receipt_no"] or (last.last_receipt_no if last else 0),
            figures=data, journal_head=data["journal_head"], prev_hash=last.hash if last else GENESIS_HASH)
        row["hash"] = z_hash(row["prev_hash"], row)
        z = ZReport.create(**dict(row, figures=canonical(data), shift=shift.id if shift else None))
        audit.seal_row(audit.Z_REPORT, z.id, till_id)  # a Z deleted or rebuilt is named by journal verify
        if shift is not None:
            Shift.update(closed_at=row["closed_at"], closed_by=row["closed_by"], z_no=row["z_no"]).where(
                Shift.id == shift.id).execute()
            audit.seal_row(audit.SHIFT, shift.id, till_id)
        # after the figures: the Z anchors the audit head as it closed, this event follows it
        events.log_event(events.EVENT_Z_CLOSE, till_id, cashier, detail=z_event_detail(row["z_no"], data["cash"]))
    return z


def z_event_detail(z_no: int, cash: Dict[str, Any]) -> str:
    """What the event log says of a Z: "Z 3: expected 183.00, counted 182.00, short 1.00"."""
    text = f"Z {z_no}: expected {money.format_yuan(cash['expected_fen'])}"
    if cash["counted_fen"] is None:
        return text + ", not counted"
    over = cash["over_short_fen"]
    said = f"{'short' if over < 0 else 'over'} {money.format_yuan(abs(over))}" if over else "even"
    return text + f", counted {money.format_yuan(cash['counted_fen'])}, {said}"


def z_list(till_id: Tills = None) -> List[Dict[str, Any]]:
    """Every Z (of ``till_id``: store.till_filter), oldest first, with its figures."""
    query = restrict(ZReport.select().order_by(ZReport.till_id, ZReport.z_no), ZReport.till_id, till_id)
    return [z_dict(z) for z in query]


def z_dict(z: ZReport) -> Dict[str, Any]:
    return dict(till_id=z.till_id, z_no=z.z_no, closed_at=_fmt(z.closed_at), closed_by=z.closed_by,
                last_receipt_no=z.last_receipt_no, journal_head=z.journal_head, hash=z.hash,
                figures=json.loads(z.figures))


@dataclass(frozen=True)
class ZVerifyResult:
    ok: bool
    bad_till: Optional[str]
    bad_z_no: Optional[int]
    message: str
    checked: int = 0


def verify_z() -> ZVerifyResult:
    """Walk every till's Z reports: gapless, chained, unchanged, each anchored on a receipt of the journal."""
    checked = 0
    tills = [t for (t,) in ZReport.select(ZReport.till_id).distinct().order_by(ZReport.till_id).tuples()]
    for till_id in tills:
        expected, prev = 1, GENESIS_HASH
        for z in ZReport.select().where(ZReport.till_id == till_id).order_by(ZReport.z_no).dicts():
            problem = _check_z(z, expected, prev)
            if problem:
                bad = expected if z["z_no"] != expected else z["z_no"]
                return ZVerifyResult(False, till_id, bad, problem, checked)
            expected, prev, checked = z["z_no"] + 1, z["hash"], checked + 1
    return ZVerifyResult(True, None, None, f"The Z reports are intact: {checked} checked.", checked)


def _archived(till_id: str, receipt_no: int) -> bool:
    """True when the receipt was moved to an archive file that is not joined (store.archive)."""
    from store import archive

    found = archive.cut()
    head = found["tills"].get(till_id) if found else None
    return head is not None and receipt_no <= int(head[0])


def _check_z(z: Dict[str, Any], expected: int, prev: str) -> str:
    name = f"Z {z['till_id']}-{expected}"
    if z["z_no"] != expected:
        return f"{name} is missing from the Z reports of till {z['till_id']}."
    if z["prev_hash"] != prev:
        return f"{name} does not follow the Z report before it."
    try:
        row = dict(z, figures=json.loads(z["figures"]))
    except ValueError:
        return f"{name} was changed after it was recorded: its figures are not readable."
    if z_hash(prev, row) != z["hash"] or canonical(row["figures"]) != z["figures"]:
        return f"{name} was changed after it was recorded: its content no longer matches its hash."
    if z["last_receipt_no"]:
        sale = Sale.get_or_none((Sale.till_id == z["till_id"]) & (Sale.receipt_no == z["last_receipt_no"]))
        if sale is None and _archived(z["till_id"], z["last_receipt_no"]):
            return ""
        if sale is None or (row["figures"].get("last_receipt_no") == z["last_receipt_no"]
                            and sale.hash != z["journal_head"]):
            return f"{name} names a journal head the sales journal does not have."
    return ""


# ---------------------------------------------------------------- sales over days

def sales_by(till_id: Tills, first: datetime.date, last: datetime.date, by: str) -> List[Dict[str, Any]]:
    """Documents from ``first`` to ``last`` grouped ``by`` day, hour, product, tender or cashier; net amounts.

    Each key names its unit: ``net_fen`` in fen, a product's ``qty_milli`` in
    thousandths of its ``unit`` (the CLI prints them as yuan and quantities).
    """
    if by not in BY:
        raise ReportError(f"Group by one of {', '.join(BY)}.", "bad_by", by=by)
    since = datetime.datetime.combine(first, datetime.time())
    until = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time())
    where = and_tills((Sale.sold_at >= since) & (Sale.sold_at < until), Sale.till_id, till_id)
    sale_count = fn.SUM(_is_sale())
    if by in ("day", "hour", "cashier"):
        key = {"day": _day_of(Sale.sold_at), "hour": _hour_of(Sale.sold_at), "cashier": Sale.cashier}[by]
        query = (Sale.select(key, sale_count, fn.SUM(Sale.total_fen * _sign()))
                 .where(where).group_by(key).order_by(key))
        return [{by: k or "", "count": int(c or 0), "net_fen": int(a or 0)} for k, c, a in query.tuples()]
    if by == "tender":
        net = fn.SUM(Payment.amount_fen * _sign())
        rows: Dict[str, Dict[str, Any]] = {}
        query = (Payment.select(Payment.method, sale_count, net).join(Sale, on=(Payment.sale == Sale.id))
                 .where(where & (Payment.status == PAYMENT_OK)).group_by(Payment.method))
        for method, count, amount in query.tuples():
            rows[method] = {"tender": method, "count": int(count or 0), "net_fen": int(amount or 0)}
        change = Sale.select(fn.SUM(Sale.change_fen)).where(where & (Sale.kind == SALE)).scalar() or 0
        if change:
            rows.setdefault("cash", {"tender": "cash", "count": 0, "net_fen": 0})["net_fen"] -= int(change)
        return [rows[m] for m in sorted(rows, key=lambda m: (METHODS + (m,)).index(m))]
    amount = fn.SUM(Line.amount_fen * _sign())
    query = (Line.select(Line.barcode, Line.name, fn.SUM(Line.qty_milli * _sign()), fn.MAX(Line.unit), amount)
             .join(Sale, on=(Line.sale == Sale.id)).where(where)
             .group_by(Line.barcode, Line.name).order_by(amount.desc(), Line.name))
    return [{"product": name, "barcode": barcode or "", "qty_milli": int(q or 0), "unit": unit or "",
             "net_fen": int(a or 0)} for barcode, name, q, unit, a in query.tuples()]


def receipts_of_day(till_id: Tills, day: datetime.date) -> List[Dict[str, Any]]:
    """Every document of the day (of ``till_id``: store.till_filter) with its payments, receipt outcome and print
    attempts; those without a printer-confirmed receipt first."""
    scope = day_scope("", day, day)
    where = and_tills((Sale.sold_at >= scope.since) & (Sale.sold_at < scope.until), Sale.till_id, till_id)
    docs = list(Sale.select(Sale, ReceiptOutcome.state.alias("outcome"))
                .join(ReceiptOutcome, JOIN.LEFT_OUTER, on=(ReceiptOutcome.sale == Sale.id))
                .where(where).order_by(Sale.till_id, Sale.receipt_no).dicts())
    ids = [d["id"] for d in docs]
    payments: Dict[int, List[Dict[str, Any]]] = {i: [] for i in ids}
    attempts: Dict[int, List[Dict[str, Any]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for p in Payment.select().where(Payment.sale.in_(chunk)).order_by(Payment.position).dicts():
            payments[p["sale"]].append(dict(method=p["method"], amount_fen=p["amount_fen"],
                                            reference=p["reference"], status=p["status"]))
        for a in PrintAttempt.select().where(PrintAttempt.sale.in_(chunk)).order_by(PrintAttempt.id).dicts():
            attempts[a["sale"]].append(dict(printer=a["printer"], started_at=_fmt(a["started_at"]),
                                            result=a["result"], evidence=a["evidence"], reason=a["reason"],
                                            reprint_no=a["reprint_no"]))
    out = []
    for d in docs:
        confirmed = d["outcome"] == outcomes.PRINTED and any(
            a["result"] == outcomes.PRINTED and a["evidence"] == print_attempts.EVIDENCE_PRINTER
            for a in attempts[d["id"]])
        out.append(dict(receipt=format_receipt_no(d["till_id"], d["receipt_no"]), kind=d["kind"],
                        sold_at=_fmt(d["sold_at"]), cashier=d["cashier"], total_fen=d["total_fen"],
                        outcome=d["outcome"] or "", printer_confirmed=confirmed,
                        payments=payments[d["id"]], print_attempts=attempts[d["id"]]))
    out.sort(key=lambda r: r["printer_confirmed"])  # stable: receipt order within each group
    return out

