"""Another till's documents copied to this till, and the server's record of them (store.shop_wide uses them).

A refund of another till's receipt points at a local copy of that receipt (rows of ``sale``, ``line`` and
``payment`` here, each listed in ``foreign_copy`` with its server id). The copy is not this till's: its journal
walk skips a till it holds only copies of. Sync sends the mapping with a batch (``copies_for``, under
``batch["copies"]``); the server stores the refund's ``original`` and ``original_line`` as the other till's
server ids and keeps the mapping in ``shop_copy`` (``record_copies``), so a server-side verify can read the
refund back as the till hashed it (``copy_ids``).

This module imports neither store.server nor store.sync_batch (both import it).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from store.models import ForeignCopy

SERVER_DDL = (
    """CREATE TABLE IF NOT EXISTS shop_held (
        till_id VARCHAR(8) NOT NULL,
        basket_id BIGINT NOT NULL,
        shop VARCHAR(16) NOT NULL DEFAULT '',
        state VARCHAR(10) NOT NULL,
        cashier VARCHAR(16) NOT NULL DEFAULT '',
        note VARCHAR(255) NOT NULL DEFAULT '',
        total_fen BIGINT NOT NULL DEFAULT 0,
        items INTEGER NOT NULL DEFAULT 0,
        content TEXT NOT NULL DEFAULT '',
        held_at TIMESTAMP NOT NULL,
        pushed_at TIMESTAMP NOT NULL DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC'),
        taken_by VARCHAR(8) NOT NULL DEFAULT '',
        taken_at TIMESTAMP NULL,
        PRIMARY KEY (till_id, basket_id))""",
    "CREATE INDEX IF NOT EXISTS shop_held_listed ON shop_held (shop, held_at) WHERE state = 'held'",
    # the ids a till's document points at that are another till's (server) rows: its local copy ids
    """CREATE TABLE IF NOT EXISTS shop_copy (
        till_id VARCHAR(8) NOT NULL,
        kind VARCHAR(8) NOT NULL,
        local_id BIGINT NOT NULL,
        server_id BIGINT NOT NULL,
        PRIMARY KEY (till_id, kind, local_id))""",
)


def install_server(cursor: Any) -> None:
    """The server-only tables of the shop-wide features (idempotent DDL; store.server.server_parts)."""
    for statement in SERVER_DDL:
        cursor.execute(statement)


def record_copies(cursor: Any, till_id: str, copies: Mapping[str, Mapping[Any, Any]]) -> None:
    """Keep a batch's ``copies`` (kind -> {local id: server id}) on the server, in the batch's transaction."""
    for kind, pairs in (copies or {}).items():
        for local_id, server_id in pairs.items():
            cursor.execute("INSERT INTO shop_copy (till_id, kind, local_id, server_id) VALUES (%s, %s, %s, %s) "
                           "ON CONFLICT (till_id, kind, local_id) DO NOTHING",
                           (str(till_id), str(kind), int(local_id), int(server_id)))


def copy_ids(cursor: Any, till_id: str) -> Dict[Tuple[str, int], int]:
    """(kind, server id) -> the till's local copy id: how a server-side verify reads a refund of another till's
    receipt back as the till wrote (and hashed) it."""
    cursor.execute("SELECT kind, server_id, local_id FROM shop_copy WHERE till_id = %s", (str(till_id),))
    return {(kind, int(server_id)): int(local_id) for kind, server_id, local_id in cursor.fetchall()}


def is_copy(sale_id: int) -> bool:
    """True when ``sale_id`` is a local copy of another till's document."""
    return ForeignCopy.select().where((ForeignCopy.kind == "sale") & (ForeignCopy.local_id == int(sale_id))).exists()


def copy_tills() -> List[str]:
    """Till ids of which this database holds only copies (journal verify does not walk them)."""
    return sorted({row.till_id for row in ForeignCopy.select(ForeignCopy.till_id).distinct()})


def copies_for(documents: Mapping[str, Mapping[str, Any]]) -> Dict[str, Dict[str, int]]:
    """What a sync batch sends under ``copies``: for the documents in it (store.sync_batch.documents: rows by
    column) that point at local copies, kind -> {str(local id): server id} (sale: ``original_id``; line:
    ``original_line_id``). Empty when none does."""
    sales: set = set()
    lines: set = set()
    for document in documents.values():
        sale = document.get("sale", {})
        original = sale.get("original_id", sale.get("original"))
        if original:
            sales.add(int(original))
        for line in document.get("lines", ()):
            original_line = line.get("original_line_id", line.get("original_line"))
            if original_line:
                lines.add(int(original_line))
    result: Dict[str, Dict[str, int]] = {}
    for kind, ids in (("sale", sales), ("line", lines)):
        if not ids:
            continue
        rows = ForeignCopy.select().where((ForeignCopy.kind == kind) & ForeignCopy.local_id.in_(sorted(ids)))
        found = {str(row.local_id): int(row.server_id) for row in rows}
        if found:
            result[kind] = found
    return result
