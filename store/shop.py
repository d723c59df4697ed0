"""Which shop a database holds: the shop name ``chaoying init`` records in it, and its sales count.

A settings file names the shop; the database did not, so an init with a new
settings file adopted whatever database its URL found. Each init now records
the shop name of its settings as an event (kind ``shop``, on the settings'
till, in the till's audit chain like every event), once per name and till.
``look`` reads that back without creating, migrating or writing anything, and
``mixes`` is the rule init refuses by (its ``--force`` aside).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import quote

#: The event kind of an init: detail = the shop name of its settings.
EVENT_SHOP = "shop"


@dataclass(frozen=True)
class HeldShop:
    """What an existing database holds: the shop names recorded in it (oldest first) and its documents."""

    names: Tuple[str, ...]
    sales: int

    @property
    def holds_a_shop(self) -> bool:
        """A recorded shop or sold documents: a database another settings file must not adopt unasked."""
        return bool(self.names) or self.sales > 0


def look(url: str) -> Optional[HeldShop]:
    """The shop the database at ``url`` holds; None when there is no database there yet (or it has no tables).

    Read-only: a SQLite file is opened with ``mode=ro``, a PostgreSQL database
    is only queried; nothing is created or migrated. A database that cannot
    be read raises (the caller's open then says why).
    """
    from store.db import connect_url, is_sqlite

    database = connect_url(url)
    if is_sqlite(database):
        path = database.database
        if not path or path == ":memory:" or str(path).startswith("file:") or not Path(path).is_file():
            return None
        con = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return _held(tables, lambda sql: con.execute(sql).fetchall())
        finally:
            con.close()
    database.connect()
    try:
        return _held(set(database.get_tables()), lambda sql: database.execute_sql(sql).fetchall())
    finally:
        database.close()


def _held(tables: set, query: Callable[[str], List[Any]]) -> Optional[HeldShop]:
    if "sale" not in tables:
        return None
    sales = int(query('SELECT COUNT(*) FROM "sale"')[0][0])
    names: List[str] = []
    if "event" in tables:  # the kind is a constant of this module: no parameter, one SQL for both drivers
        for (name,) in query(f"SELECT detail FROM \"event\" WHERE kind = '{EVENT_SHOP}' ORDER BY id"):
            if name not in names:
                names.append(name)
    return HeldShop(tuple(names), sales)


def mixes(held: Optional[HeldShop], shop: str, new_settings: bool) -> bool:
    """Whether using this database for ``shop`` would mix two shops in it.

    It would when the database records shop names and ``shop`` is none of
    them; and when it records none (made before init recorded names) but has
    sales and the settings are new: nothing then says the sales are this
    shop's. Settings that were already there and a database that records no
    name are the same shop run again (init is run once more for a journal key).
    """
    if held is None or not held.holds_a_shop:
        return False
    if held.names:
        return shop not in held.names
    return new_settings


def record(shop: str, till_id: str) -> bool:
    """Record that the settings of ``till_id`` name ``shop`` (once per name and till); True when written now."""
    from store.events import log_event
    from store.models import Event

    done = (Event.select().where((Event.kind == EVENT_SHOP) & (Event.till_id == str(till_id)) & (Event.detail == shop))
            .exists())
    if done:
        return False
    log_event(EVENT_SHOP, till_id, detail=shop)
    return True
