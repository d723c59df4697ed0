"""Refund claims on the shop's server: two tills refunding one receipt at the same moment are serialised.

Every till commits a refund on its own SQLite, so no local lock can span two tills. Before a refund of a
receipt other tills might refund too (another till's receipt, or this till's own while the server answers),
the till takes a claim on the server in one short transaction (``claimed_refund``):

1. the receipt's lock row (``refund_claim_sale``, one per server sale id) is taken ``FOR UPDATE``, so a
   second till claiming the same receipt waits for the first one's claim to be committed or rolled back;
2. one statement reads what the other tills took of each line: their refunds the server holds plus their
   live claims (``taken``); the till adds what it knows itself (its own refunds) and checks the quantity;
3. the claim's rows are written (state ``open``) and the transaction commits.

Then the till commits its refund locally and marks the claim ``committed`` (a short update on the same
connection). A refused local commit releases the claim at once (``released``). One rule closes a claim:
its refund document arriving in a batch (``close_for_refunds``, called by store.server.send_batch in the
batch's transaction): the refund and the end of its claim reach the server together, so the room is never
counted twice nor missed.

A claim whose till crashed before its local commit expires: ``open`` claims older than ``CLAIM_MINUTES``
(server time) no longer count. Expiry rather than release at restart, because a crashed till may come
back late or never (a broken machine), and expiry needs no till to act; a ``committed`` claim never
expires (its refund exists, it only waits for the batch), so the window can stay short.

Offline nothing is claimed: a refund of another till's receipt waits for the server (store.shop_wide), a
refund of this till's own receipt is made from what this till knows (``OFFLINE_OWN``).

Nothing here imports Textual, store.server or store.shop_wide (both import this module).
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, Sequence, Tuple

from store.errors import server_error

log = logging.getLogger("chaoying.store.refund_claims")

#: claim states on the server: taken (the till's local commit pending), committed there, its refund arrived
#: in a batch, or given up (the local commit was refused).
OPEN, COMMITTED, DONE, RELEASED = "open", "committed", "done", "released"
#: An open claim older than this (server time) is a till that never committed (it crashed): it no longer counts.
CLAIM_MINUTES = 3

#: One sentence for a refund of this till's own receipt made while the server does not answer.
OFFLINE_OWN = "refunded while the server is not reachable: other tills' refunds of this receipt may not be known yet"

SERVER_DDL = (
    # one row per receipt being claimed: its lock (SELECT ... FOR UPDATE through the upsert)
    """CREATE TABLE IF NOT EXISTS refund_claim_sale (
        server_sale_id BIGINT PRIMARY KEY,
        claims BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS refund_claim (
        id BIGSERIAL PRIMARY KEY,
        server_sale_id BIGINT NOT NULL,
        server_line_id BIGINT NOT NULL,
        qty_milli BIGINT NOT NULL,
        amount_fen BIGINT NOT NULL DEFAULT 0,
        till_id VARCHAR(8) NOT NULL,
        claim_no VARCHAR(32) NOT NULL,
        state VARCHAR(10) NOT NULL,
        at TIMESTAMPTZ NOT NULL DEFAULT now(),
        document_id BIGINT NULL)""",
    "CREATE INDEX IF NOT EXISTS refund_claim_live ON refund_claim (server_line_id) "
    "WHERE state IN ('open', 'committed')",
    "CREATE INDEX IF NOT EXISTS refund_claim_no ON refund_claim (claim_no)",
    "CREATE INDEX IF NOT EXISTS refund_claim_till ON refund_claim (till_id, server_sale_id) "
    "WHERE state IN ('open', 'committed')",
)

#: A claim that counts: committed, or open and younger than CLAIM_MINUTES (server time).
_LIVE = (f"(c.state = '{COMMITTED}' OR (c.state = '{OPEN}' "
         f"AND c.at > now() - make_interval(mins => %(minutes)s)))")


def install_server(cursor: Any) -> None:
    """The server-only refund claim tables (idempotent DDL; store.server.server_parts)."""
    for statement in SERVER_DDL:
        cursor.execute(statement)


def taken(cursor: Any, till_id: str, server_line_ids: Iterable[int]) -> Dict[int, Tuple[int, int]]:
    """What every till but ``till_id`` took of each server line: refunds the server holds plus live claims,
    server line id -> (qty, fen). One statement, so one snapshot: a batch that lands meanwhile (its refund in,
    its claim done, in one transaction) is counted once."""
    lines = sorted({int(line) for line in server_line_ids})
    if not lines:
        return {}
    cursor.execute(
        "SELECT w.id, "
        "COALESCE((SELECT SUM(l.qty_milli) FROM line l JOIN sale s ON s.id = l.sale_id WHERE s.kind = 'refund' "
        "AND s.till_id <> %(till)s AND l.original_line_id = w.id), 0) "
        f"+ COALESCE((SELECT SUM(c.qty_milli) FROM refund_claim c WHERE c.server_line_id = w.id "
        f"AND c.till_id <> %(till)s AND {_LIVE}), 0), "
        "COALESCE((SELECT SUM(l.amount_fen) FROM line l JOIN sale s ON s.id = l.sale_id WHERE s.kind = 'refund' "
        "AND s.till_id <> %(till)s AND l.original_line_id = w.id), 0) "
        f"+ COALESCE((SELECT SUM(c.amount_fen) FROM refund_claim c WHERE c.server_line_id = w.id "
        f"AND c.till_id <> %(till)s AND {_LIVE}), 0) "
        "FROM unnest(%(lines)s::bigint[]) AS w(id)",
        {"till": str(till_id), "lines": lines, "minutes": CLAIM_MINUTES})
    return {int(line): (int(qty), int(fen)) for line, qty, fen in cursor.fetchall() if qty or fen}


def given_and_voided(cursor: Any, till_id: str, server_sale_id: int) -> Tuple[Dict[str, int], bool]:
    """What other tills' refunds the server holds gave back of a sale per method (fen), and whether any till
    voided it."""
    cursor.execute("SELECT p.method, SUM(p.amount_fen) FROM payment p JOIN sale s ON s.id = p.sale_id "
                   "WHERE s.original_id = %s AND s.kind = 'refund' AND s.till_id <> %s AND p.status = 'ok' "
                   "GROUP BY p.method", (int(server_sale_id), str(till_id)))
    given = {str(method): int(fen) for method, fen in cursor.fetchall()}
    cursor.execute("SELECT 1 FROM sale WHERE original_id = %s AND kind = 'void' LIMIT 1", (int(server_sale_id),))
    return given, cursor.fetchone() is not None


def lock_sale(cursor: Any, server_sale_id: int) -> None:
    """Take the receipt's claim lock until the transaction ends (a second claimer waits here)."""
    cursor.execute("INSERT INTO refund_claim_sale (server_sale_id, claims) VALUES (%s, 1) "
                   "ON CONFLICT (server_sale_id) DO UPDATE SET claims = refund_claim_sale.claims + 1",
                   (int(server_sale_id),))


def insert_claim(cursor: Any, till_id: str, server_sale_id: int, lines: Mapping[int, Tuple[int, int]]) -> str:
    """Write a claim of ``lines`` (server line id -> (qty, fen)) in state open; its claim number."""
    claim_no = uuid.uuid4().hex
    for line_id, (qty, fen) in sorted(lines.items()):
        cursor.execute("INSERT INTO refund_claim (server_sale_id, server_line_id, qty_milli, amount_fen, till_id, "
                       "claim_no, state) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                       (int(server_sale_id), int(line_id), int(qty), int(fen), str(till_id), claim_no, OPEN))
    return claim_no


def _settle(conn: Any, claim_no: str, state: str) -> None:
    """Move an open claim to ``state`` in its own short transaction; a failure is logged (the claim then
    expires, or closes when its refund arrives)."""
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE refund_claim SET state = %s WHERE claim_no = %s AND state = %s",
                           (state, claim_no, OPEN))
        conn.commit()
    except Exception as exc:  # noqa: BLE001 - the server went away: expiry or the batch settles it
        log.warning("refund claim %s not marked %s: %s", claim_no, state, exc)
        try:
            conn.rollback()
        except Exception:  # noqa: BLE001
            pass


def mark_committed(conn: Any, claim_no: str) -> None:
    """The till committed the claim's refund locally: the claim no longer expires."""
    _settle(conn, claim_no, COMMITTED)


def release(conn: Any, claim_no: str) -> None:
    """The till's local commit was refused: the claim gives its room back now."""
    _settle(conn, claim_no, RELEASED)


#: plan(elsewhere, given, voided) -> what the refund takes: server line id -> (qty, fen); it raises
#: (store.documents.DocumentError) when the refund cannot be made with what is left.
Plan = Callable[[Dict[int, Tuple[int, int]], Dict[str, int], bool], Dict[int, Tuple[int, int]]]


def claimed_refund(conn: Any, till_id: str, server_sale_id: int, server_lines: Sequence[int], plan: Plan,
                   commit: Callable[[Dict[int, Tuple[int, int]], Dict[str, int]], Any]) -> Any:
    """A refund under a claim: lock the receipt, read what other tills took (``taken``), ``plan`` checks and
    says what this refund takes, claim it and commit the server transaction; then ``commit(elsewhere, given)``
    commits the refund locally (its answer is returned) and the claim is marked committed; a refused local
    commit releases the claim. A server failure raises store.errors.ServerError before anything is committed."""
    try:
        with conn.cursor() as cursor:
            lock_sale(cursor, server_sale_id)
            elsewhere = taken(cursor, till_id, server_lines)
            given, voided = given_and_voided(cursor, till_id, server_sale_id)
            wanted = plan(elsewhere, given, voided)
            claim_no = insert_claim(cursor, till_id, server_sale_id, wanted)
        conn.commit()
    except Exception as exc:
        _rollback(conn)
        raise server_error(exc, "the refund claim") from exc
    try:
        answer = commit(elsewhere, given)
    except BaseException:
        release(conn, claim_no)
        raise
    mark_committed(conn, claim_no)
    return answer


def close_for_refunds(cursor: Any, till_id: str, refunds: Sequence[Tuple[int, int, Mapping[int, int]]]) -> int:
    """In a batch's transaction: each arriving refund (server document id, server original sale id, server line
    id -> qty) closes the oldest live claim of its till on that sale with the same lines; the number closed."""
    closed = 0
    for document_id, sale_id, lines in refunds:
        cursor.execute("SELECT claim_no, server_line_id, qty_milli FROM refund_claim WHERE till_id = %s "
                       "AND server_sale_id = %s AND state IN (%s, %s) ORDER BY id", (str(till_id), int(sale_id),
                                                                                     OPEN, COMMITTED))
        claims: Dict[str, Dict[int, int]] = {}
        for claim_no, line_id, qty in cursor.fetchall():
            claims.setdefault(claim_no, {})[int(line_id)] = int(qty)
        wanted = {int(line): int(qty) for line, qty in lines.items()}
        for claim_no, claimed in claims.items():  # oldest first (dicts keep the order they were filled in)
            if claimed == wanted:
                cursor.execute("UPDATE refund_claim SET state = %s, document_id = %s WHERE claim_no = %s",
                               (DONE, int(document_id), claim_no))
                closed += 1
                break
    return closed


def refunds_of(documents: Iterable[Mapping[str, Any]], shift: Callable[[str, Any], Any]
               ) -> List[Tuple[int, int, Dict[int, int]]]:
    """The refunds with an original among a batch's documents, as close_for_refunds takes them: ids on the
    server through ``shift(column, value)`` (store.server's shift_document_id)."""
    found = []
    for document in documents:
        sale = document["sale"]
        original = sale.get("original_id")
        if sale.get("kind") not in ("refund", "void") or original is None:  # a void closes its claim too
            continue
        lines: Dict[int, int] = {}
        for line in document.get("lines", ()):
            if line.get("original_line_id") is not None:
                key = int(shift("original_line_id", line["original_line_id"]))
                lines[key] = lines.get(key, 0) + int(line["qty_milli"])
        found.append((int(shift("id", sale["id"])), int(shift("original_id", original)), lines))
    return found


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - a connection already gone
        log.debug("rollback failed", exc_info=True)
