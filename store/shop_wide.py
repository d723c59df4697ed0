"""Shop-wide features through the shop's server: held baskets across tills, refunds of another till's receipt,
and the server's word on this till's id.

Every till sells on its own SQLite; what only the server can join goes through it while it is reachable, and
offline each says in one sentence what waits for it (``OFFLINE_HELD``, ``OFFLINE_REFUND``).

**Held baskets.** ``push(conn)`` (the sync worker calls it about every second) puts this till's held baskets on
the server's ``shop_held`` table and takes back those it no longer holds. A basket set aside for a payment's
answer, or with money taken (a basket with payments cannot be held: store.baskets refuses), stays on its till:
it is never pushed. Another till lists them (``held_list``) and takes one with ``take_other``: a claim on the
server (``UPDATE ... WHERE state = 'held' RETURNING``, the only way two tills cannot both take it), then a new
open basket here. The first till learns at its next push that its basket was taken on till X: its held basket
ends ``taken`` (with the event ``basket_taken``) and is never offered again. A till's own pushed basket is
claimed back on the server too when it is reachable (``take_own``); offline it is taken back here (local
first), and if another till had claimed it before the link went, both have it: the push says so in the event
log (``basket_taken_twice``).

**Refunds of another till's receipt.** ``foreign_receipt(conn, till_id, number)`` looks the receipt up in the
server's mirror tables, keeps a local copy of it (``sale``/``line``/``payment`` rows here, listed in
``foreign_copy``: not this till's, its journal walk skips them) and says what is left of each line: sold less
every refund already on the server by other tills, less this till's own refunds of the copy.
``commit_foreign_refund`` commits the refund as this till's own document (its numbering, chain, drawer),
``original`` pointing at the copy; ``copies_for(documents)`` is what sync sends with a batch so the server
stores the refund pointing at the other till's ids, and keeps the mapping (``shop_copy``) so it can still
verify the refund's hash. Two tills refunding one receipt at once are serialised by a claim on the server
(store.refund_claims: the receipt locked, its lines claimed, then the refund committed here); so is this
till's own receipt while the server answers (``claimed_own_refund``).

**One id, one till.** ``claim_refusal(conn, till_id, instance)`` reads the server's claim of a till id
(store.server.till_heads) and returns the sentence to show when another database holds it;
``check_claim_in_background`` runs it at start without ever holding start-up up.

Server calls raise ``store.server.ServerError`` (one sentence, password redacted). Nothing here imports
Textual; store work and network run off the UI thread.
"""
from __future__ import annotations

import datetime
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from store import shop_copies
from store.errors import StoreError, server_error
from store.models import ForeignCopy, HeldPush, Line, OpenBasket, Payment, Product, Sale, now

log = logging.getLogger("chaoying.store.shop_wide")

#: Held basket states here (store.baskets has the others): taken on another till, through the server.
TAKEN = "taken"
#: held_push states
PUSHED, WITHDRAWN = "pushed", "withdrawn"
#: shop_held states on the server
S_HELD, S_TAKEN, S_WITHDRAWN = "held", "taken", "withdrawn"
EVENT_TAKEN, EVENT_TAKEN_TWICE, EVENT_TAKEN_FROM = "basket_taken", "basket_taken_twice", "basket_taken_from"

#: Offline, in one sentence each: what waits for the server (i18n keys of the same name say them).
OFFLINE_HELD = "held baskets of other tills wait for the server; this till's are listed"
OFFLINE_REFUND = "a refund of another till's receipt waits for the server; this till's own receipts can be refunded"

#: How long a read the cashier waits for (the Ctrl+Y list, a receipt look-up) may take, in seconds.
SHORT_TIMEOUT_S = 3.0
LIST_LIMIT = 50


class ShopWideError(StoreError, ValueError):
    """A shop-wide request the server (or this till) refuses: one sentence, a code and its values."""


# ---------------------------------------------------------------- identity

_identity: Dict[str, str] = {}


def configure(till_id: str, shop: str = "") -> None:
    """Name the till ``push(conn)`` works for (the till calls it at start, before its sync worker runs)."""
    _identity.update(till_id=str(till_id), shop=shop or "")


def _who(till_id: Optional[str], shop: Optional[str]) -> Optional[Tuple[str, str]]:
    """The till (and shop) a push is for: as given, as configured, or this database's one sync_mark till."""
    till = till_id if till_id is not None else _identity.get("till_id")
    if not till:
        from store.models import SyncMark

        marks = [row.till_id for row in SyncMark.select(SyncMark.till_id).limit(2)]
        if len(marks) != 1:
            return None  # not yet known (nothing synced yet): nothing to push
        till = marks[0]
    return str(till), shop if shop is not None else _identity.get("shop", "")


def connect(url: str, timeout_s: float = SHORT_TIMEOUT_S) -> Any:
    """A short-lived server connection for one request the cashier waits for (store.server.connect_server)."""
    from store.server import connect_server

    return connect_server(url, timeout_s=timeout_s)


# ---------------------------------------------------------------- the server's part

#: The server-only tables of the shop-wide features (store.shop_copies keeps their DDL: store.server runs it).
install_server = shop_copies.install_server
copy_ids = shop_copies.copy_ids
copies_for = shop_copies.copies_for
is_copy = shop_copies.is_copy
copy_tills = shop_copies.copy_tills


# ---------------------------------------------------------------- held baskets: the push

def push(conn: Any, till_id: Optional[str] = None, shop: Optional[str] = None) -> None:
    """This till's held baskets onto the server, those it no longer holds off it, and those another till took
    closed here. Bounded by open work (the held baskets and the pushed marks); one server transaction.

    The till is ``till_id`` (and ``shop``), else the one ``configure`` named, else this database's one
    sync_mark till (the sync worker's); none known yet: nothing is pushed."""
    from store.baskets import HELD

    who = _who(till_id, shop)
    if who is None:
        return
    till_id, shop = who
    held = {row.id: row for row in OpenBasket.select().where(
        (OpenBasket.state == HELD) & (OpenBasket.till_id == till_id) & (OpenBasket.paid_fen == 0))}
    marks = {mark.basket: mark for mark in HeldPush.select().where(HeldPush.state == PUSHED)}
    taken: Dict[int, str] = {}
    sent: List[OpenBasket] = []
    gone: List[int] = []
    try:
        with conn.cursor() as cursor:
            if marks:
                cursor.execute("SELECT basket_id, taken_by FROM shop_held WHERE till_id = %s AND state = %s "
                               "AND basket_id = ANY(%s)", (till_id, S_TAKEN, list(marks)))
                taken = {int(basket): str(by) for basket, by in cursor.fetchall()}
            for basket_id, row in held.items():
                mark = marks.get(basket_id)
                if basket_id in taken or (mark is not None and mark.pushed_at == _stamp(row.updated_at)):
                    continue
                cursor.execute(
                    "INSERT INTO shop_held (till_id, basket_id, shop, state, cashier, note, total_fen, items, "
                    "content, held_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (till_id, basket_id) DO UPDATE SET state = EXCLUDED.state, shop = EXCLUDED.shop, "
                    "cashier = EXCLUDED.cashier, note = EXCLUDED.note, total_fen = EXCLUDED.total_fen, "
                    "items = EXCLUDED.items, content = EXCLUDED.content, held_at = EXCLUDED.held_at, "
                    "pushed_at = CURRENT_TIMESTAMP AT TIME ZONE 'UTC', taken_by = '', taken_at = NULL "
                    "WHERE shop_held.state <> %s",
                    (till_id, basket_id, shop, S_HELD, row.cashier, row.note, row.total_fen, row.items, row.content,
                     row.updated_at, S_TAKEN))
                sent.append(row)
            for basket_id in marks:
                if basket_id in held or basket_id in taken:
                    continue
                cursor.execute("UPDATE shop_held SET state = %s WHERE till_id = %s AND basket_id = %s AND state = %s "
                               "RETURNING basket_id", (S_WITHDRAWN, till_id, basket_id, S_HELD))
                if cursor.fetchone() is not None:
                    gone.append(basket_id)
                    continue
                cursor.execute("SELECT state, taken_by FROM shop_held WHERE till_id = %s AND basket_id = %s",
                               (till_id, basket_id))
                found = cursor.fetchone()
                if found is not None and found[0] == S_TAKEN:
                    taken[basket_id] = str(found[1])
                else:
                    gone.append(basket_id)
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    _after_push(till_id, sent, gone, taken)


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - a connection already gone: the sync worker reconnects
        log.debug("rollback failed", exc_info=True)


def _stamp(value: Any) -> str:
    """A basket's updated_at as held_push keeps it (text: equal means not changed since it was pushed)."""
    return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value or "")


def _after_push(till_id: str, sent: List[Any], gone: List[int], taken: Dict[int, str]) -> None:
    """The marks of what the server now holds, and the baskets another till took closed here (after the server
    committed: a push repeated after a crash between the two does the same again)."""
    from store import audit, money
    from store.baskets import HELD, OPEN
    from store.db import write_transaction

    at = now()
    with write_transaction():
        for row in sent:
            values = dict(state=PUSHED, pushed_at=_stamp(row.updated_at), taken_by="", at=at)
            HeldPush.insert(basket=row.id, **values).on_conflict(conflict_target=[HeldPush.basket],
                                                                 update=values).execute()
        if gone:
            HeldPush.update(state=WITHDRAWN, at=at).where(HeldPush.basket.in_(gone)).execute()
        for basket_id, by in taken.items():
            HeldPush.update(state=TAKEN, taken_by=by, at=at).where(HeldPush.basket == basket_id).execute()
            row = OpenBasket.get_or_none(OpenBasket.id == basket_id)
            if row is None:
                continue
            detail = f"{row.items} items {money.format_yuan(row.total_fen)} on till {by}"
            if row.state == HELD:
                OpenBasket.update(state=TAKEN, closed_at=at, updated_at=at).where(
                    (OpenBasket.id == basket_id) & (OpenBasket.state == HELD)).execute()
                audit.add_event(till_id, kind=EVENT_TAKEN, cashier=row.cashier, detail=detail)
            elif row.state == OPEN:  # taken back here offline after another till had claimed it: both have it
                audit.add_event(till_id, kind=EVENT_TAKEN_TWICE, cashier=row.cashier, detail=detail)


# ---------------------------------------------------------------- held baskets: the list and the take

@dataclass(frozen=True)
class ServerHeld:
    """A held basket of another till, as the server lists it."""

    till_id: str
    basket_id: int
    cashier: str
    note: str
    total_fen: int
    items: int
    content: str
    held_at: Any

    @property
    def key(self) -> str:
        return f"{self.till_id}:{self.basket_id}"


@dataclass(frozen=True)
class HeldRow:
    """One line of the Ctrl+Y list: this till's held basket (``local_id``) or another till's (``server``)."""

    key: str
    till_id: str
    updated_at: Any
    items: int
    total_fen: int
    cashier: str
    note: str
    basket: Any  # store.sales.Basket
    local_id: Optional[int] = None
    server: Optional[ServerHeld] = None
    aside: bool = False  # set aside for a payment's answer: listed, never taken

    @property
    def choice(self) -> Any:
        """What taking it hands the sale session: the local id, or the server's basket."""
        return self.local_id if self.server is None else self.server


@dataclass(frozen=True)
class HeldList:
    """The Ctrl+Y list, and ``note``: "" or OFFLINE_HELD (the server could not be reached)."""

    rows: List[HeldRow]
    note: str = ""
    error: str = ""  # why the server could not be reached (for the log)


def other_held(conn: Any, till_id: str, shop: str = "", limit: int = LIST_LIMIT) -> List[ServerHeld]:
    """The held baskets of the shop's other tills on the server, oldest first."""
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT till_id, basket_id, cashier, note, total_fen, items, content, held_at "
                           "FROM shop_held WHERE state = %s AND shop = %s AND till_id <> %s "
                           "ORDER BY held_at, till_id, basket_id LIMIT %s", (S_HELD, shop or "", str(till_id), limit))
            rows = cursor.fetchall()
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    return [ServerHeld(str(r[0]), int(r[1]), r[2], r[3], int(r[4]), int(r[5]), r[6], r[7]) for r in rows]


def held_list(till_id: str, server_url: str = "", shop: str = "", timeout_s: float = SHORT_TIMEOUT_S,
              limit: int = LIST_LIMIT) -> HeldList:
    """Ctrl+Y: this till's held baskets, then the other tills' from the server (when one is named and answers
    within ``timeout_s``; else the note OFFLINE_HELD). Store and network work: off the UI thread."""
    from store import baskets
    from store.sales import Basket

    own = [HeldRow(f"L{s.id}", s.till_id, s.updated_at, s.items, s.total_fen, s.cashier, s.note, s.basket, s.id,
                   aside=s.state == baskets.ASIDE)
           for s in baskets.held(limit)]
    if not server_url:
        return HeldList(own)
    try:
        conn = connect(server_url, timeout_s)
        try:
            others = other_held(conn, till_id, shop, limit)
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - unreachable or refusing: the list says so in one sentence
        log.info("held baskets of other tills not read: %s", exc)
        return HeldList(own, OFFLINE_HELD, str(exc).split("\n")[0])
    rows = [HeldRow(f"S{h.key}", h.till_id, h.held_at, h.items, h.total_fen, h.cashier, h.note,
                    Basket.from_dict(json.loads(h.content or "{}")), server=h) for h in others]
    return HeldList(own + rows)


def claim(conn: Any, held: ServerHeld, till_id: str) -> ServerHeld:
    """Claim another till's held basket on the server, atomically: only one till's claim can win.

    Raises ShopWideError ``held_taken_on`` (another till took it, ``till``) or ``held_gone`` (its own till took
    it back, or it is no longer held)."""
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE shop_held SET state = %s, taken_by = %s, taken_at = CURRENT_TIMESTAMP AT TIME "
                           "ZONE 'UTC' WHERE till_id = %s AND basket_id = %s AND state = %s "
                           "RETURNING cashier, note, total_fen, items, content, held_at",
                           (S_TAKEN, str(till_id), held.till_id, held.basket_id, S_HELD))
            row = cursor.fetchone()
            found = None
            if row is None:
                cursor.execute("SELECT state, taken_by FROM shop_held WHERE till_id = %s AND basket_id = %s",
                               (held.till_id, held.basket_id))
                found = cursor.fetchone()
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    if row is None:
        if found is not None and found[0] == S_TAKEN:
            raise ShopWideError(f"That held basket was already taken on till {found[1]}.", "held_taken_on",
                                till=str(found[1]))
        raise ShopWideError("That held basket is no longer held on its till.", "held_gone", till=held.till_id)
    return ServerHeld(held.till_id, held.basket_id, row[0], row[1], int(row[2]), int(row[3]), row[4], row[5])


def _unclaim(conn: Any, held: ServerHeld, till_id: str) -> None:
    """The claim stands but the basket could not be opened here: give it back to the shop's list."""
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE shop_held SET state = %s, taken_by = '', taken_at = NULL WHERE till_id = %s "
                           "AND basket_id = %s AND state = %s AND taken_by = %s",
                           (S_HELD, held.till_id, held.basket_id, S_TAKEN, str(till_id)))
        conn.commit()
    except Exception:  # noqa: BLE001 - it stays claimed: the owner sees it taken by this till
        _rollback(conn)
        log.warning("held basket %s: claimed but not opened, and not given back", held.key, exc_info=True)


def take_other(conn: Any, held: ServerHeld, till_id: str, cashier: Any = None) -> Any:
    """取单 of another till's held basket: claim it on the server, then open it here as a new open basket.

    Returns the new basket (store.baskets.Stored); raises ShopWideError when another till won the claim."""
    from store import audit, baskets, money
    from store.cashiers import cashier_code
    from store.db import write_transaction

    won = claim(conn, held, till_id)
    at = now()
    try:
        with write_transaction():
            row = OpenBasket.create(till_id=str(till_id), state=baskets.OPEN, cashier=cashier_code(cashier) or
                                    won.cashier, note=won.note[:255], opened_at=at, updated_at=at,
                                    total_fen=won.total_fen, paid_fen=0, items=won.items, content=won.content)
            audit.add_event(str(till_id), cashier=cashier_code(cashier), kind=EVENT_TAKEN_FROM,
                            detail=f"{won.items} items {money.format_yuan(won.total_fen)} from till {won.till_id} "
                                   f"{won.note}".strip())
    except Exception:
        _unclaim(conn, held, till_id)
        raise
    stored = baskets.stored(row.id)
    assert stored is not None
    return stored


def take_own(basket_id: int, till_id: str, cashier: Any = None, server_url: str = "",
             timeout_s: float = SHORT_TIMEOUT_S) -> Any:
    """取单 of this till's held basket: when it was pushed and the server answers, withdrawn there first (so no
    other till can take it too; taken already: it ends taken here, ShopWideError); offline, taken back here."""
    from store import baskets

    mark = HeldPush.get_or_none((HeldPush.basket == basket_id) & (HeldPush.state == PUSHED))
    if mark is not None and server_url:
        try:
            conn = connect(server_url, timeout_s)
        except Exception as exc:  # noqa: BLE001 - offline: local first
            log.info("held basket %s taken back offline: %s", basket_id, exc)
        else:
            try:
                _withdraw(conn, basket_id, till_id)
            finally:
                conn.close()
    return baskets.resume(basket_id, till_id, cashier)


def _withdraw(conn: Any, basket_id: int, till_id: str) -> None:
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE shop_held SET state = %s WHERE till_id = %s AND basket_id = %s AND state = %s "
                           "RETURNING basket_id", (S_WITHDRAWN, str(till_id), basket_id, S_HELD))
            row = cursor.fetchone()
            found = None
            if row is None:
                cursor.execute("SELECT state, taken_by FROM shop_held WHERE till_id = %s AND basket_id = %s",
                               (str(till_id), basket_id))
                found = cursor.fetchone()
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    if found is not None and found[0] == S_TAKEN:
        _after_push(str(till_id), [], [], {basket_id: str(found[1])})
        raise ShopWideError(f"That held basket was already taken on till {found[1]}.", "held_taken_on",
                            till=str(found[1]))
    _after_push(str(till_id), [], [basket_id], {})


def take(choice: Any, till_id: str, cashier: Any = None, server_url: str = "",
         timeout_s: float = SHORT_TIMEOUT_S) -> Any:
    """取单 of what the Ctrl+Y list's row hands over (HeldRow.choice): a local id, or another till's basket."""
    if not isinstance(choice, ServerHeld):
        return take_own(int(choice), till_id, cashier, server_url, timeout_s)
    if not server_url:
        raise ShopWideError(OFFLINE_HELD[0].upper() + OFFLINE_HELD[1:] + ".", "held_offline")
    try:
        conn = connect(server_url, timeout_s)
    except Exception as exc:
        raise ShopWideError(OFFLINE_HELD[0].upper() + OFFLINE_HELD[1:] + ".", "held_offline") from exc
    try:
        return take_other(conn, choice, till_id, cashier)
    finally:
        conn.close()


# ---------------------------------------------------------------- refunds of another till's receipt

def parse_receipt(text: str) -> Optional[Tuple[str, int]]:
    """"2-000123" -> ("2", 123); None when the text is not a receipt number of that form."""
    text = (text or "").strip()
    till, sep, number = text.rpartition("-")
    if not sep or not till or not number.isdigit() or len(till) > 8:
        return None
    return till, int(number)


@dataclass(frozen=True)
class ForeignReceipt:
    """Another till's receipt, copied here: ``copy_id`` (the local copy's sale id), what is left of each line
    (store.documents.Refundable, ids of the copy) and what each tender can still take back."""

    copy_id: int
    number: str
    lines: List[Any]
    room: Dict[str, int]
    server_id: int
    elsewhere: Dict[int, Tuple[int, int]]


def _fetch(cursor: Any, sql: str, args: Sequence[Any]) -> List[Dict[str, Any]]:
    cursor.execute(sql, tuple(args))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


_SALE_COLUMNS = ("id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash, kind, "
                 "original_id, reason, manager, discount_fen, hash_kind")


def server_receipt(conn: Any, receipt_till: str, receipt_no: int) -> Optional[Dict[str, Any]]:
    """A receipt as the server mirrors it (server ids): its sale row with ``lines`` and ``payments``, or None."""
    try:
        with conn.cursor() as cursor:
            found = _fetch(cursor, f"SELECT {_SALE_COLUMNS} FROM sale WHERE till_id = %s AND receipt_no = %s",
                           (receipt_till, int(receipt_no)))
            if not found:
                conn.commit()
                return None
            sale = found[0]
            sale["lines"] = _fetch(cursor, "SELECT id, position, product_id, barcode, name, unit, unit_price_fen, "
                                           "qty_milli, amount_fen, discount_fen FROM line WHERE sale_id = %s "
                                           "ORDER BY position", (sale["id"],))
            sale["payments"] = _fetch(cursor, "SELECT id, position, method, amount_fen, reference, status, reason, "
                                              "out_trade_no FROM payment WHERE sale_id = %s ORDER BY position",
                                      (sale["id"],))
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    return sale


def refunded_elsewhere(conn: Any, server_sale_id: int, line_ids: Iterable[int], till_id: str
                       ) -> Tuple[Dict[int, Tuple[int, int]], Dict[str, int], bool]:
    """What every till but ``till_id`` already took of a sale, as the server says: per server line id (qty,
    fen) their refunds plus their live refund claims (store.refund_claims), per method (fen) their refunds,
    and whether it was voided (by any till)."""
    from store import refund_claims

    try:
        with conn.cursor() as cursor:
            done = refund_claims.taken(cursor, till_id, line_ids)
            given, voided = refund_claims.given_and_voided(cursor, till_id, server_sale_id)
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc) from exc
    return done, given, voided


def _copy_of(server_id: int) -> Optional[int]:
    row = ForeignCopy.get_or_none((ForeignCopy.kind == "sale") & (ForeignCopy.server_id == int(server_id)))
    return int(row.local_id) if row is not None else None


def keep_copy(sale: Mapping[str, Any]) -> int:
    """The local copy of another till's receipt (made once, as the server mirrors it); its local sale id."""
    from store.db import db, is_sqlite, write_transaction

    found = _copy_of(sale["id"])
    if found is not None:
        return found
    at = now()
    with write_transaction():
        found = _copy_of(sale["id"])  # another thread of this till made it meanwhile
        if found is not None:
            return found
        sold_at = sale["sold_at"]
        if is_sqlite(db.obj) and isinstance(sold_at, datetime.datetime):
            sold_at = sold_at.isoformat(sep=" ")
        copy = Sale.insert(till_id=sale["till_id"], receipt_no=sale["receipt_no"], sold_at=sold_at,
                           cashier=sale["cashier"] or "", total_fen=sale["total_fen"], change_fen=sale["change_fen"],
                           prev_hash=sale["prev_hash"], hash=sale["hash"], kind=sale["kind"], original=None,
                           reason=sale["reason"] or "", manager=sale["manager"] or "",
                           discount_fen=sale["discount_fen"] or 0, hash_kind=sale["hash_kind"] or "").execute()
        known = {p.id for p in Product.select(Product.id).where(
            Product.id.in_([line["product_id"] for line in sale["lines"] if line["product_id"] is not None]))}
        copies = [dict(kind="sale", local_id=copy, server_id=sale["id"])]
        for line in sale["lines"]:
            local = Line.insert(sale=copy, position=line["position"],
                                product=line["product_id"] if line["product_id"] in known else None,
                                barcode=line["barcode"] or "", name=line["name"], unit=line["unit"] or "",
                                unit_price_fen=line["unit_price_fen"], qty_milli=line["qty_milli"],
                                amount_fen=line["amount_fen"], discount_fen=line["discount_fen"] or 0).execute()
            copies.append(dict(kind="line", local_id=local, server_id=line["id"]))
        for payment in sale["payments"]:
            local = Payment.insert(sale=copy, position=payment["position"], method=payment["method"],
                                   amount_fen=payment["amount_fen"], reference=payment["reference"] or "",
                                   status=payment["status"], reason=payment["reason"] or "",
                                   out_trade_no=payment["out_trade_no"] or "").execute()
            copies.append(dict(kind="payment", local_id=local, server_id=payment["id"]))
        for row in copies:
            ForeignCopy.create(till_id=sale["till_id"], receipt_no=sale["receipt_no"], copied_at=at, **row)
    return int(copy)


def _line_map(copy_id: int) -> Dict[int, int]:
    """server line id -> the copy's line id."""
    local = [line.id for line in Line.select(Line.id).where(Line.sale == copy_id)]
    return {int(row.server_id): int(row.local_id) for row in ForeignCopy.select().where(
        (ForeignCopy.kind == "line") & ForeignCopy.local_id.in_(local))}


def _elsewhere(conn: Any, copy_id: int, server_id: int, till_id: str
               ) -> Tuple[Dict[int, Tuple[int, int]], Dict[str, int], bool]:
    lines = _line_map(copy_id)
    done, given, voided = refunded_elsewhere(conn, server_id, lines, till_id)
    return {lines[line]: value for line, value in done.items() if line in lines}, given, voided


def own_elsewhere(conn: Any, till_id: str, sale_id: int) -> Tuple[Dict[int, Tuple[int, int]], Dict[str, int], bool]:
    """What other tills gave back of this till's own sale ``sale_id``, as the server says (line id -> (qty, fen),
    method -> fen, voided there); nothing when the server has not seen this till yet."""
    from store.server import ID_BLOCK, till_base

    base = till_base(conn, str(till_id))
    if base is None:
        return {}, {}, False
    lines = [line.id for line in Line.select(Line.id).where(Line.sale == int(sale_id))]
    done, given, voided = refunded_elsewhere(conn, base + int(sale_id), [base + line for line in lines], till_id)
    return ({line - base: value for line, value in done.items() if base <= line < base + ID_BLOCK}, given, voided)


def _voided(number: str) -> Exception:
    from store.documents import DocumentError

    return DocumentError(f"Receipt {number} was voided.", "voided", receipt=number)


def foreign_receipt(conn: Any, till_id: str, text: str) -> ForeignReceipt:
    """Another till's receipt ``text`` (e.g. "1-000123") from the server, copied here, with what is left to
    refund of each line and per tender. DocumentError when it is not one to refund (no such receipt, not a sale,
    voided); ShopWideError when it is this till's own (refund it from the history)."""
    from store import documents
    from store.numbering import format_receipt_no

    parsed = parse_receipt(text)
    if parsed is None:
        raise documents.DocumentError("That receipt does not exist.", "no_such_receipt")
    receipt_till, receipt_no = parsed
    number = format_receipt_no(receipt_till, receipt_no)
    if receipt_till == str(till_id):
        raise ShopWideError(f"Receipt {number} is this till's own: refund it from the history.", "receipt_own",
                            receipt=number)
    sale = server_receipt(conn, receipt_till, receipt_no)
    if sale is None:
        raise documents.DocumentError("That receipt does not exist.", "no_such_receipt")
    if sale["kind"] != documents.SALE:
        raise documents.DocumentError(f"Receipt {number} is a {sale['kind']}, not a sale.", "not_a_sale",
                                      receipt=number, kind=sale["kind"])
    copy_id = keep_copy(sale)
    elsewhere, given, voided = _elsewhere(conn, copy_id, sale["id"], till_id)
    if voided:
        raise _voided(number)
    lines = documents.refundable(copy_id, elsewhere)
    room = {method: amount - given.get(method, 0) for method, amount in documents.refund_room(copy_id).items()}
    return ForeignReceipt(copy_id, number, lines, room, int(sale["id"]), elsewhere)


def commit_foreign_refund(conn: Any, receipt: ForeignReceipt, items: Sequence[Tuple[Any, ...]], till_id: str,
                          cashier: Any = None, manager: Any = None, reason: str = "",
                          payments: Optional[Sequence[Tuple[str, int]]] = None) -> Sale:
    """Refund ``items`` (copy line id, qty[, restock]) of another till's receipt as this till's own document.

    Under a claim on the server (store.refund_claims): what other tills gave back or are giving back now is
    read under the receipt's lock, this refund's lines are claimed, then it is committed here. The money goes
    back by ``payments``, by default to the original tenders within what they can still take back shop-wide."""
    lines = _line_map(receipt.copy_id)
    return claimed_refund(conn, receipt.copy_id, receipt.server_id, {local: server for server, local in lines.items()},
                          receipt.number, items, till_id, cashier, manager, reason, payments)


def claimed_refund(conn: Any, sale_id: int, server_sale_id: int, to_server: Mapping[int, int], number: str,
                   items: Sequence[Tuple[Any, ...]], till_id: str, cashier: Any = None, manager: Any = None,
                   reason: str = "", payments: Optional[Sequence[Tuple[str, int]]] = None) -> Sale:
    """Refund ``items`` (local line id, qty[, restock]) of local sale ``sale_id`` (a copy, or this till's own)
    under a claim of server sale ``server_sale_id`` (``to_server``: local line id -> server line id). Too much
    asked: DocumentError saying what is left (what other tills gave back or claimed counted)."""
    from store import documents, refund_claims

    to_local = {server: local for local, server in to_server.items()}

    def local(taken: Dict[int, Tuple[int, int]]) -> Dict[int, Tuple[int, int]]:
        return {to_local[line]: value for line, value in taken.items() if line in to_local}

    def plan(taken: Dict[int, Tuple[int, int]], given: Dict[str, int], voided: bool) -> Dict[int, Tuple[int, int]]:
        if voided:
            raise _voided(number)
        lines = {line.line_id: line for line in documents.refundable(sale_id, local(taken))}
        wanted: Dict[int, Tuple[int, int]] = {}
        for item in items:
            line = lines.get(int(item[0]))
            if line is None or int(item[1]) <= 0 or int(item[0]) not in to_server:
                continue  # commit_refund says what is wrong with it
            documents.check_refund_qty(line, int(item[1]))
            qty, fen = wanted.get(to_server[line.line_id], (0, 0))
            wanted[to_server[line.line_id]] = (qty + int(item[1]), fen + line.refund_fen(int(item[1])))
        return wanted

    def commit(taken: Dict[int, Tuple[int, int]], given: Dict[str, int]) -> Sale:
        elsewhere = local(taken)
        tenders = payments
        if tenders is None:
            lines = {line.line_id: line for line in documents.refundable(sale_id, elsewhere)}
            total = sum(lines[int(item[0])].refund_fen(int(item[1])) for item in items
                        if int(item[0]) in lines and int(item[1]) > 0)
            room = {method: amount - given.get(method, 0) for method, amount in documents.refund_room(sale_id).items()}
            tenders = documents.plan_refund_payments(room, total)
        return documents.commit_refund(sale_id, items, till_id, cashier, manager, reason, tenders, elsewhere=elsewhere)

    return refund_claims.claimed_refund(conn, till_id, server_sale_id, list(to_server.values()), plan, commit)


def claimed_own_refund(conn: Any, sale_id: int, items: Sequence[Tuple[Any, ...]], till_id: str, cashier: Any = None,
                       manager: Any = None, reason: str = "", payments: Optional[Sequence[Tuple[str, int]]] = None
                       ) -> Optional[Sale]:
    """Refund ``items`` of this till's own sale under a claim on the server; None when the server has not seen
    this till yet (no other till can know its receipts: refund it without a claim)."""
    from store.numbering import format_receipt_no
    from store.server import till_base

    base = till_base(conn, str(till_id))
    if base is None:
        return None
    sale = Sale.get_by_id(int(sale_id))
    to_server = {line.id: base + line.id for line in Line.select(Line.id).where(Line.sale == int(sale_id))}
    return claimed_refund(conn, int(sale_id), base + int(sale_id), to_server,
                          format_receipt_no(sale.till_id, sale.receipt_no), items, till_id, cashier, manager, reason,
                          payments)


def claimed_own_void(conn: Any, sale_id: int, till_id: str, cashier: Any = None, manager: Any = None,
                     reason: str = "") -> Optional[Sale]:
    """Void this till's own sale under a claim of all its lines on the server (store.refund_claims), so a refund
    of it on another till (already on the server, or being made now) is counted: refused then, as a void of a
    refunded sale is here. None when the server has not seen this till yet (void it without a claim)."""
    from store import documents, refund_claims
    from store.numbering import format_receipt_no
    from store.server import till_base

    base = till_base(conn, str(till_id))
    if base is None:
        return None
    sale = Sale.get_by_id(int(sale_id))
    number = format_receipt_no(sale.till_id, sale.receipt_no)
    lines = documents.refundable(int(sale_id), {})

    def plan(taken: Dict[int, Tuple[int, int]], given: Dict[str, int], voided: bool) -> Dict[int, Tuple[int, int]]:
        if voided:
            raise _voided(number)
        if taken or given:
            raise documents.DocumentError(f"Receipt {number} already has a refund; refund the rest instead.",
                                          "void_refunded", receipt=number)
        return {base + line.line_id: (line.remaining_qty, line.refund_fen(line.remaining_qty))
                for line in lines if line.remaining_qty > 0}

    def commit(_taken: Dict[int, Tuple[int, int]], _given: Dict[str, int]) -> Sale:
        return documents.commit_void(int(sale_id), till_id, cashier, manager, reason)

    return refund_claims.claimed_refund(conn, till_id, base + int(sale_id), [base + line.line_id for line in lines],
                                        plan, commit)


# ---------------------------------------------------------------- one id, one till

def claim_refusal(conn: Any, till_id: str, instance: str) -> str:
    """The sentence to show when the server refuses this till's id ("" when it does not): another database
    claims the id, or the server recorded a refusal of this till's batches (store.server.till_heads)."""
    from store.server import till_heads

    for head in till_heads(conn):
        if str(head.get("till_id")) != str(till_id):
            continue
        if head.get("refusal"):
            return str(head["refusal"])
        if head.get("instance") and instance and head["instance"] != instance:
            return (f"Till id {till_id} is already used by another till's database on the server; this till's "
                    f"sales stay here and are not sent: give this till an id of its own.")
    return ""


def claim_sentence(server_url: str, till_id: str, timeout_s: float = 5.0) -> str:
    """The server's refusal of this till's id in one sentence, "" when it has none or cannot be reached (the
    sync status says offline); store and network work, for a thread worker at start."""
    try:
        from store.sync_batch import instance_id

        mine = instance_id(str(till_id))
        conn = connect(server_url, timeout_s)
        try:
            return claim_refusal(conn, till_id, mine)
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - offline or refusing the password: the sync worker says so
        log.info("till id claim not checked: %s", exc)
        return ""


def check_claim_in_background(server_url: str, till_id: str, told: Callable[[str], Any],
                              timeout_s: float = 5.0) -> threading.Thread:
    """At start: read the server's claim of this till's id on a daemon thread (never holding start-up up);
    ``told(sentence)`` when it is refused. Unreachable: nothing is said (the sync status line says offline)."""

    def run() -> None:
        from store.db import db

        with db.connection_context():
            sentence = claim_sentence(server_url, till_id, timeout_s)
        if sentence:
            log.warning("till %s: %s", till_id, sentence)
            told(sentence)

    thread = threading.Thread(target=run, name="chaoying-till-claim", daemon=True)
    thread.start()
    return thread
