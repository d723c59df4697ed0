"""The fast walk of ``journal verify``: plain rows, the hashed text built directly, and one pass over each chain.

``store.journal.verify`` runs this first. It checks everything the walk of
store.journal checks, but it does not name what it finds: anything it cannot
confirm (a break, a row of an unexpected type, a chain in an order the till
never writes) raises, and verify then runs the walk of store.journal, which
names the first break in its order with its own sentence. So a journal that
passes here passes there, with the same counts; a broken one gets the same
message as before. What makes it fast:

- rows come as the driver's tuples, the columns in the order the text takes
  them (no dict per row, no model object), in batches in the order the
  chains are walked: each till's audit chain and its journal side by side,
  each commit record met with its document, so memory stays flat however
  long the journal (no map of every commit record kept until the end);
- the document's canonical text (store.journal.canonical_content) and its
  commit record's (store.audit.commit_content) are built by string
  formatting with json's own string encoder, and the commit record is
  compared as text with the one its document and outcome row make, instead
  of parsed and its outcome encoded again (the record's outcome is parsed
  only when it differs: the outcome row changed since, by later records);
- hashes: one ``hashlib.sha256`` per record, HMAC as a copy of one keyed
  object.

``document_text`` must give exactly canonical_content's text
(tests/store/test_journal_fast.py compares them over many kinds of document).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from itertools import groupby
from json.encoder import encode_basestring as _quote  # what the canonical encoder uses for text (ensure_ascii off)
from operator import itemgetter
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from store import audit, chain
from store.db import db, is_sqlite
from store.models import Discount, Line, Payment, ReceiptOutcome, Sale, TillCounter

#: Sales per batch (with their lines, payments, discounts and outcomes): about 2 MB of rows.
BATCH = 5000


#: Hash kinds that are not plain (store.journal._MARKED).
_MARKED = (chain.HMAC, chain.NOKEY)


class Unconfirmed(Exception):
    """The fast walk could not confirm something: store.journal's walk decides and names it."""


# --- the hashed texts -------------------------------------------------------------------

SALE_COLUMNS = (Sale.id, Sale.till_id, Sale.receipt_no, Sale.sold_at, Sale.cashier, Sale.total_fen, Sale.change_fen,
                Sale.prev_hash, Sale.hash, Sale.hash_kind, Sale.kind, Sale.original, Sale.reason, Sale.manager,
                Sale.discount_fen)
LINE_COLUMNS = (Line.sale, Line.position, Line.barcode, Line.name, Line.unit, Line.unit_price_fen, Line.qty_milli,
                Line.amount_fen, Line.discount_fen, Line.original_line)
PAYMENT_COLUMNS = (Payment.sale, Payment.position, Payment.method, Payment.amount_fen, Payment.reference,
                   Payment.status, Payment.reason)
DISCOUNT_COLUMNS = (Discount.sale, Discount.line_position, Discount.kind, Discount.value, Discount.amount_fen,
                    Discount.reason, Discount.cashier, Discount.manager)
OUTCOME_COLUMNS = (ReceiptOutcome.sale, ReceiptOutcome.state, ReceiptOutcome.reason_code, ReceiptOutcome.reason,
                   ReceiptOutcome.updated_at)
_dumps = audit.dumps


def _position(row: Sequence) -> int:
    return int(row[1])


def _in_order(rows: List[tuple]) -> List[tuple]:
    """Rows (sale, position, ...) as canonical_content sorts them: by position, stably in the order read."""
    last = None
    for row in rows:
        position = int(row[1])
        if last is not None and position <= last:
            return sorted(rows, key=_position)
        last = position
    return rows


def _lines_text(lines: List[tuple], ordered: bool = False) -> str:
    """The lines' part of the text; ``ordered``: already sorted by position (else they must come in order)."""
    parts: List[str] = []
    last = None
    for _, position, barcode, name, unit, price, qty, amount, discount, original in lines:
        position = int(position)
        if not ordered:
            if last is not None and position <= last:  # not in position order as read: canonical_content's sort
                return _lines_text(sorted(lines, key=_position), True)
            last = position
        if discount or original:
            discount = int(discount or 0)
            extra = f",{discount},{int(original or 0)}" if discount or original else ""
        else:
            extra = ""
        parts.append(f"[{position},{_quote(barcode or '')},{_quote(name)},{_quote(unit or '')},"
                     f"{int(price)},{int(qty)},{int(amount)}{extra}]")
    return ",".join(parts)


def _payments_text(payments: List[tuple]) -> str:
    return ",".join([f"[{int(position)},{_quote(method)},{int(amount)},{_quote(reference or '')},{_quote(status)}]"
                     for _, position, method, amount, reference, status, _reason in payments])


def document_text(sale: Sequence, sold_at: Any, lines: List[tuple], payments: List[tuple],
                  discounts: Sequence[tuple]) -> str:
    """canonical_content of a document from plain rows (SALE_COLUMNS, LINE_COLUMNS, ... in that order).

    ``sold_at`` as the hashed text holds it (store.journal._time_text);
    ``payments`` in position order (``_in_order``). A value of a type the
    text never holds there raises TypeError (the caller then asks
    canonical_content).
    """
    (_, till_id, receipt_no, _, cashier, total, change, _, _, _, kind, original, reason, manager, discount) = sale
    head = f'{{"cashier":{_quote(cashier or "")},"change_fen":{int(change)}'
    if discount:
        head += f',"discount_fen":{_dumps(discount)}'
    if discounts:
        head += ',"discounts":' + _dumps(sorted(
            [int(row[1]), row[2], int(row[3]), int(row[4]), row[5] or "", row[6] or "", row[7] or ""]
            for row in discounts))
    if kind != "sale":
        head += f',"kind":{_dumps(kind)}'
    head += f',"lines":[{_lines_text(lines)}]'
    if manager:
        head += f',"manager":{_dumps(manager)}'
    if original:
        head += f',"original":{_dumps(original)}'
    head += f',"payments":[{_payments_text(payments)}]'
    if reason:
        head += f',"reason":{_dumps(reason)}'
    return (f'{head},"receipt_no":{int(receipt_no)},"sold_at":{_quote(sold_at)},"till_id":{_quote(till_id)},'
            f'"total_fen":{int(total)}}}')


def outcome_text(outcome: Sequence, updated_at: Any) -> str:
    """audit.row_content(OUTCOME, row) from a plain row (OUTCOME_COLUMNS), ``updated_at`` as hashed."""
    _, state, reason_code, reason, _ = outcome
    if type(state) is str and type(reason_code) is str and type(reason) is str and type(updated_at) is str:
        return f"[{_quote(state)},{_quote(reason_code)},{_quote(reason)},{_quote(updated_at)}]"
    return _dumps([audit.hashed_value(value) for value in (state, reason_code, reason, updated_at)])


def reasons_text(payments: List[tuple]) -> str:
    """The commit record's reasons (audit.commit_content) from payments in position order."""
    return "[" + ",".join([_quote(row[6] or "") for row in payments]) + "]"


def commit_text(receipt_no: Any, journal_hash: str, reasons: str, outcome: str) -> str:
    """audit.commit_content from its parts as texts."""
    return f'{{"hash":{_quote(journal_hash)},"outcome":{outcome},"reasons":{reasons},"receipt_no":{int(receipt_no)}}}'


# --- hashing ------------------------------------------------------------------------------


def hash_check() -> Callable[[str, str, str, str], Optional[bool]]:
    """A function (prev, content, digest, kind) -> True when it matches, False when not, None: keyed, no key."""
    key = chain._key
    keyed = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
    sha256, keyed_kind = hashlib.sha256, chain.HMAC

    def check(prev: str, content: str, digest: str, kind: str) -> Optional[bool]:
        if kind != keyed_kind:  # the plain hash first: most records of most shops
            return sha256((prev + content).encode("utf-8")).hexdigest() == digest
        if keyed is None:
            return None
        mac = keyed.copy()
        mac.update((prev + content).encode("utf-8"))
        return mac.hexdigest() == digest

    return check


# --- the walk --------------------------------------------------------------------------------


def _grouped(query) -> Dict[Any, List[tuple]]:
    """Rows of ``query`` (the sale id first, ordered by it) by sale id."""
    return {sale_id: list(rows) for sale_id, rows in groupby(db.execute(query).fetchall(), itemgetter(0))}


def documents(till_id: str, after: int) -> Iterator[Tuple[tuple, List[tuple], List[tuple], List[tuple],
                                                          Optional[tuple]]]:
    """The till's documents after receipt ``after`` in receipt order: (sale, lines, payments, discounts, outcome)."""
    while True:
        sales = db.execute(Sale.select(*SALE_COLUMNS)
                           .where((Sale.till_id == till_id) & (Sale.receipt_no > after))
                           .order_by(Sale.receipt_no).limit(BATCH)).fetchall()
        if not sales:
            return
        low, high = min(row[0] for row in sales), max(row[0] for row in sales)
        # one range of ids per table (rows of other tills inside it are not asked for), in the order stored
        lines = _grouped(Line.select(*LINE_COLUMNS).where(Line.sale.between(low, high)).order_by(Line.sale, Line.id))
        payments = _grouped(Payment.select(*PAYMENT_COLUMNS).where(Payment.sale.between(low, high))
                            .order_by(Payment.sale, Payment.id))
        discounts = _grouped(Discount.select(*DISCOUNT_COLUMNS).where(Discount.sale.between(low, high))
                             .order_by(Discount.sale, Discount.id))
        outcomes = {row[0]: row for row in db.execute(ReceiptOutcome.select(*OUTCOME_COLUMNS)
                                                      .where(ReceiptOutcome.sale.between(low, high))).fetchall()}
        none: List[tuple] = []
        for sale in sales:
            sale_id = sale[0]
            yield (sale, lines.get(sale_id, none), payments.get(sale_id, none), discounts.get(sale_id, none),
                   outcomes.get(sale_id))
        after = sales[-1][2]
        del sales, lines, payments, discounts, outcomes


# --- SQLite: the texts built by the database ------------------------------------------------------

#: A time as the hashed text holds it (store.journal._HASHED_TIME), as a condition on a column.
_TIME_GLOB = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'"


def _as_hashed(column: str) -> str:
    return f"(typeof({column}) = 'text' AND {column} GLOB {_TIME_GLOB})"


#: Between a document's payments and their reasons in one column (json_quote escapes it: no text holds it raw).
_APART = "\x01"


def _documents_sql(discounts: bool) -> str:
    """Each document of a till after a receipt, in receipt order, its texts built by SQLite.

    A row: (id, receipt_no, prev_hash, hash, hash_kind, sold_at, the
    canonical text up to its payments, its payments' part and (after
    _APART) their reasons as the commit record holds them, the rest of the
    canonical text, its outcome row's text). SQLite's json_quote and
    json_array escape text as json's encoder (ensure_ascii off) does and
    write integers as Python does; lines and payments come in the order
    stored (by id), which is position order as the till writes them (in
    another, the text is not the sorted canonical one and the walk that
    names breaks decides, passing it); a value of another type than the
    canonical text holds there gives a text no canonical text is, so its
    hash does not match and the walk that names breaks decides. A time not
    as hashed gives NULL: that document is done from its rows
    (document_text); no outcome row, or one not as hashed, NULL too.
    ``discounts``: the batch has discount rows (without: checked to have
    none in the batch's range of ids).
    """
    discount = """|| coalesce(',"discounts":[' || (SELECT group_concat(j, ',') FROM (
      SELECT json_array(d.line_position, d.kind, d.value, d.amount_fen, coalesce(d.reason, ''),
                        coalesce(d.cashier, ''), coalesce(d.manager, '')) AS j
      FROM discount d WHERE d.sale_id = s.id
      ORDER BY d.line_position, d.kind, d.value, d.amount_fen, coalesce(d.reason, ''), coalesce(d.cashier, ''),
               coalesce(d.manager, ''))) || ']', '')""" if discounts else ""
    return f"""
SELECT s.id, s.receipt_no, s.prev_hash, s.hash, s.hash_kind, s.sold_at,
 CASE WHEN {_as_hashed("s.sold_at")} THEN
 '{{"cashier":' || json_quote(coalesce(s.cashier, '')) || ',"change_fen":' || json_quote(s.change_fen)
 || CASE WHEN coalesce(s.discount_fen, 0) != 0 THEN ',"discount_fen":' || json_quote(s.discount_fen) ELSE '' END
 {discount}
 || CASE WHEN s.kind IS 'sale' THEN '' ELSE ',"kind":' || json_quote(s.kind) END
 || ',"lines":[' || coalesce((SELECT group_concat(j, ',') FROM (
      SELECT CASE WHEN coalesce(l.discount_fen, 0) != 0 OR coalesce(l.original_line_id, 0) != 0
        THEN json_array(l.position, coalesce(l.barcode, ''), l.name, coalesce(l.unit, ''), l.unit_price_fen,
                        l.qty_milli, l.amount_fen, coalesce(l.discount_fen, 0), coalesce(l.original_line_id, 0))
        ELSE json_array(l.position, coalesce(l.barcode, ''), l.name, coalesce(l.unit, ''), l.unit_price_fen,
                        l.qty_milli, l.amount_fen) END AS j
      FROM line l WHERE l.sale_id = s.id ORDER BY l.id)), '') || ']'
 || CASE WHEN coalesce(s.manager, '') != '' THEN ',"manager":' || json_quote(s.manager) ELSE '' END
 || CASE WHEN coalesce(s.original_id, 0) != 0 THEN ',"original":' || json_quote(s.original_id) ELSE '' END
 || ',"payments":[' END,
 (SELECT coalesce(group_concat(j, ','), '') || char(1) || coalesce(group_concat(r, ','), '') FROM (
      SELECT json_array(p.position, p.method, p.amount_fen, coalesce(p.reference, ''), p.status) AS j,
             json_quote(coalesce(p.reason, '')) AS r
      FROM payment p WHERE p.sale_id = s.id ORDER BY p.id)),
 ']' || CASE WHEN coalesce(s.reason, '') != '' THEN ',"reason":' || json_quote(s.reason) ELSE '' END
 || ',"receipt_no":' || json_quote(s.receipt_no) || ',"sold_at":' || json_quote(s.sold_at)
 || ',"till_id":' || json_quote(s.till_id) || ',"total_fen":' || json_quote(s.total_fen) || '}}',
 (SELECT CASE WHEN {_as_hashed("o.updated_at")} THEN json_array(o.state, o.reason_code, o.reason, o.updated_at) END
  FROM receipt_outcome o WHERE o.sale_id = s.id)
FROM sale s WHERE s.till_id = ? AND s.receipt_no > ? AND +s.id BETWEEN ? AND ? ORDER BY s.receipt_no LIMIT ?
"""


DOCUMENTS_SQL = {True: _documents_sql(True), False: _documents_sql(False)}
_BATCH_SQL = ("SELECT min(id), max(id), count(*) FROM (SELECT s.id FROM sale s WHERE s.till_id = ? "
              "AND s.receipt_no > ? ORDER BY s.receipt_no LIMIT ?)")
_DISCOUNTED_SQL = "SELECT 1 FROM discount WHERE sale_id BETWEEN ? AND ? LIMIT 1"


def documents_sql(till_id: str, after: int) -> Iterator[tuple]:
    """The till's documents after receipt ``after`` in receipt order, each as one row of DOCUMENTS_SQL (SQLite).

    Each batch: its range of sale ids first, then (whether any discount row
    is in that range) its documents inside that range: in the walk's one
    snapshot those are the same rows, and a row missing would be a gap in
    the receipt numbers.
    """
    while True:
        low, high, count = db.execute_sql(_BATCH_SQL, (till_id, after, BATCH)).fetchone()
        if not count:
            return
        discounted = db.execute_sql(_DISCOUNTED_SQL, (low, high)).fetchone() is not None
        rows = db.execute_sql(DOCUMENTS_SQL[discounted], (till_id, after, low, high, BATCH)).fetchall()
        if len(rows) != count:
            raise Unconfirmed("a batch of documents read twice differently")
        yield from rows
        after = rows[-1][1]
        del rows


def document_rows(sale_id: int) -> Tuple[tuple, List[tuple], List[tuple], List[tuple], Optional[tuple]]:
    """One document as ``documents`` gives it: (sale, lines, payments, discounts, outcome)."""
    sale = db.execute(Sale.select(*SALE_COLUMNS).where(Sale.id == sale_id)).fetchone()
    if sale is None:
        raise Unconfirmed("a document gone while read")
    found = [list(db.execute(model.select(*columns).where(model.sale == sale_id).order_by(model.id)).fetchall())
             for model, columns in ((Line, LINE_COLUMNS), (Payment, PAYMENT_COLUMNS), (Discount, DISCOUNT_COLUMNS))]
    outcome = db.execute(ReceiptOutcome.select(*OUTCOME_COLUMNS).where(ReceiptOutcome.sale == sale_id)).fetchone()
    return sale, found[0], found[1], found[2], outcome


class _Journal:
    """One till's journal, walked as its audit chain meets each commit record (store.journal._walk_journal)."""

    def __init__(self, till_id: str, start_no: int, prev: str, walk: Any, start: Any, check: Callable,
                 journal: Any) -> None:
        self.j, self.till_id, self.walk, self.check = journal, till_id, walk, check
        self.expected, self.prev, self.after_sale, self.made = start_no + 1, prev, start.sale, chain.key_made()
        self.keyed = False
        if start_no:
            at = Sale.get_or_none((Sale.till_id == till_id) & (Sale.receipt_no == start_no))
            if at is None and journal._archived(start, till_id, 0, start_no):
                pass
            elif at is None or at.hash != prev:
                raise Unconfirmed("the receipt a checkpoint names")
            self.keyed = at is not None and at.hash_kind == chain.HMAC
        # SQLite builds each document's text itself (DOCUMENTS_SQL): one row per document; elsewhere its rows
        self.rows: Iterator[Any] = documents_sql(till_id, start_no) if is_sqlite(db.obj) else documents(till_id,
                                                                                                         start_no)
        self.take: Callable[..., None] = self._built if is_sqlite(db.obj) else self._rows
        self.time = Sale.sold_at
        self.outcome_time = ReceiptOutcome.updated_at

    def next_commit(self, ref: int, content: str, record_kind: str) -> None:
        """Walk the documents up to the next one with a commit record: it must be ``ref``, recorded as ``content``."""
        take, after_sale = self.take, self.after_sale
        for row in self.rows:
            sale_id = row[0] if type(row[0]) is not tuple else row[0][0]
            if sale_id > after_sale:
                if sale_id != ref:
                    raise Unconfirmed("a commit record out of the journal's order")
                if record_kind == chain.NOKEY:
                    self.walk.keyless_commits.add(ref)
                take(row, content)
                return
            take(row)
        raise Unconfirmed("a commit record without its document in this till")

    def finish(self) -> Tuple[int, str]:
        """The documents after the last commit record (none may need one) and the till's counter."""
        for row in self.rows:
            if (row[0] if type(row[0]) is not tuple else row[0][0]) > self.after_sale:
                raise Unconfirmed("a document without a commit record in its till's chain")
            self.take(row)
        counter = TillCounter.get_or_none(TillCounter.till_id == self.till_id)
        if counter is not None and (counter.last_receipt_no != self.expected - 1 or counter.last_hash != self.prev):
            raise Unconfirmed("the till's counter")
        return self.expected - 1, self.prev

    def _rows(self, row: tuple, commit: Optional[str] = None) -> None:
        """A document as ``documents`` gives it: (sale, lines, payments, discounts, outcome)."""
        self._document(row[0], row[1], row[2], row[3], row[4], commit)

    def _built(self, row: tuple, commit: Optional[str] = None) -> None:
        """A document as DOCUMENTS_SQL gives it: its text built by SQLite (NULL: done from its rows)."""
        sale_id, no, prev_hash, digest, kind, sold_at, head, paid, tail, outcome = row
        if head is None:
            rows = document_rows(sale_id)
            self._document(rows[0], rows[1], rows[2], rows[3], rows[4], commit)
            return
        payments, _, reasons = paid.partition(_APART)
        content, reasons = f"{head}{payments}{tail}", f"[{reasons}]"
        walk = self.walk
        if no != self.expected or prev_hash != self.prev:
            raise Unconfirmed("a receipt number or link")
        kind = kind or ""
        if kind not in _MARKED and (self.keyed or (self.made and self.j._after_key(sold_at))):
            raise Unconfirmed("a plain record after a keyed one")
        if kind == chain.NOKEY:
            self.j._keyless_receipt(dict(id=sale_id, receipt_no=no), self.till_id, self.after_sale, walk)
        matched = self.check(self.prev, content, digest, kind)
        if matched is None:
            walk.unchecked += 1
        elif not matched:
            raise Unconfirmed("a document's hash")
        self.keyed = self.keyed or kind == chain.HMAC
        if commit is not None:
            if outcome is not None and commit == commit_text(no, digest, reasons, outcome):
                walk.outcomes.pop(sale_id, None)  # this record is the sale's outcome now, and the row holds it
            else:
                self._recorded(sale_id, digest, tuple(json.loads(reasons)), commit)
        self.prev, self.expected, walk.sales = digest, no + 1, walk.sales + 1

    def _recorded(self, sale_id: int, digest: str, reasons: tuple, content: str) -> None:
        """A commit record whose outcome is not the row's now: its hash and reasons, its outcome kept for the check."""
        value = json.loads(content)
        recorded = value["reasons"]
        recorded = tuple(recorded) if isinstance(recorded, list) else recorded
        if (value["hash"], recorded) != (digest, reasons):
            raise Unconfirmed("a commit record")
        self.walk.outcomes[sale_id] = audit.dumps(value["outcome"])

    def _document(self, sale: tuple, lines: List[tuple], payments: List[tuple], discounts: List[tuple],
                  outcome: Optional[tuple], commit: Optional[str] = None) -> None:
        j, walk = self.j, self.walk
        sale_id, no, sold_at, digest, kind = sale[0], sale[2], sale[3], sale[8], sale[9] or ""
        if no != self.expected or sale[7] != self.prev:
            raise Unconfirmed("a receipt number or link")
        if type(sold_at) is not str or not j._HASHED_TIME.fullmatch(sold_at):
            sold_at = j._time_text(self.time, sold_at)
        if kind not in j._MARKED and (self.keyed or (self.made and j._after_key(sold_at))):
            raise Unconfirmed("a plain record after a keyed one")
        if kind == chain.NOKEY:
            j._keyless_receipt(dict(id=sale_id, receipt_no=no), self.till_id, self.after_sale, walk)
        payments = _in_order(payments)
        try:
            content = document_text(sale, sold_at, lines, payments, discounts)
        except TypeError:  # a value of a type the text does not hold as text: as canonical_content makes it
            content = j.canonical_content(*_as_dicts(sale, sold_at, lines, payments, discounts))
        matched = self.check(self.prev, content, digest, kind)
        if matched is None:
            walk.unchecked += 1
        elif not matched:
            raise Unconfirmed("a document's hash")
        self.keyed = self.keyed or kind == chain.HMAC
        if commit is not None:
            self._commit(sale, payments, outcome, commit)
        self.prev, self.expected, walk.sales = digest, no + 1, walk.sales + 1

    def _commit(self, sale: tuple, payments: List[tuple], outcome: Optional[tuple], content: str) -> None:
        """The commit record against its document; its outcome against the row (unless a later record changed it).

        As store.journal._take and _check_commit: the record's hash and
        reasons must be the document's; its outcome is what the row must
        hold unless a later record of the sale's outcome says otherwise.
        """
        walk, sale_id = self.walk, sale[0]
        try:
            reasons = reasons_text(payments)
            if outcome is not None:
                updated_at = outcome[4]
                if type(updated_at) is not str or not self.j._HASHED_TIME.fullmatch(updated_at):
                    updated_at = self.j._time_text(self.outcome_time, updated_at)
                if content == commit_text(sale[2], sale[8], reasons, outcome_text(outcome, updated_at)):
                    walk.outcomes.pop(sale_id, None)  # this record is the sale's outcome now, and the row holds it
                    return
        except TypeError:
            pass
        self._recorded(sale_id, sale[8], tuple([row[6] or "" for row in payments]), content)


def _as_dicts(sale: tuple, sold_at: Any, lines: List[tuple], payments: List[tuple],
              discounts: Sequence[tuple]) -> Tuple[dict, List[dict], List[dict], List[dict]]:
    """The rows as canonical_content takes them (store.journal.read_rows' dicts)."""
    names = [column.name for column in SALE_COLUMNS]
    document = dict(zip(names, sale), sold_at=sold_at)
    return (document, [dict(zip([c.name for c in LINE_COLUMNS], row)) for row in lines],
            [dict(zip([c.name for c in PAYMENT_COLUMNS], row)) for row in payments],
            [dict(zip([c.name for c in DISCOUNT_COLUMNS], row)) for row in discounts])


def walk_till(till_id: str, start_audit: Tuple[int, str], start_journal: Tuple[int, str], walk: Any,
              start: Any, journal: Any) -> Tuple[int, str, int, str]:
    """One till's audit chain and journal, side by side; (receipt no, journal hash, audit seq, audit hash) at the end.

    The audit chain's checks are store.journal._walk_audit's; each commit
    record takes its document from the journal (_Journal), every other
    record is kept as store.journal._take keeps it. ``journal`` is store.journal itself (its rules, passed
    in: it imports this module).
    """
    check = hash_check()
    seq, prev = start_audit
    keyed, made, last_kind = False, chain.key_made(), ""
    if seq:
        at = audit.Audit.get_or_none((audit.Audit.till_id == till_id) & (audit.Audit.seq == seq))
        if at is None and journal._archived(start, till_id, 2, seq):
            pass
        elif at is None or at.hash != prev:
            raise Unconfirmed("the audit record a checkpoint names")
        keyed = at is not None and at.hash_kind == chain.HMAC
        last_kind = at.hash_kind if at is not None else ""
    documents_walk = _Journal(till_id, start_journal[0], start_journal[1], walk, start, check, journal)
    marked, commit, take, records = journal._MARKED, audit.COMMIT, journal._take, 0
    for chunk in audit.records(till_id, seq):
        for number, kind, ref, content, prev_hash, digest, record_kind in chunk:
            if number != seq + 1 or prev_hash != prev:
                raise Unconfirmed("an audit record's number or link")
            if record_kind not in marked and (keyed or (made and journal._after_key(audit.record_time(kind, content)))):
                raise Unconfirmed("a plain audit record after a keyed one")
            if record_kind == chain.NOKEY:
                journal._keyless_record(till_id, f"audit record {number} of till {till_id}", kind, content,
                                        last_kind, walk)
            matched = check(prev, content, digest, record_kind)
            if matched is None:
                walk.unchecked += 1
            elif not matched:
                raise Unconfirmed("an audit record's hash")
            keyed = keyed or record_kind == chain.HMAC
            if kind == commit:
                documents_walk.next_commit(ref, content, record_kind)
            else:
                take(till_id, number, kind, ref, content, record_kind, walk)
            seq, prev, last_kind = number, digest, record_kind
            records += 1
    walk.records += records
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    if counter is not None and (counter.audit_seq != seq or counter.audit_hash != prev):
        raise Unconfirmed("the till's audit head")
    last_no, last_hash = documents_walk.finish()
    return last_no, last_hash, seq, prev
