"""Which tills a report covers: one till, a list (the tills of a shop on the server), or every till.

A till's own database holds its sales (and, after a restore, perhaps older
ones of other till ids); the shop's server holds every till's, each till in
one shop (``sync_till.shop``, store.server). Reports take a ``Tills`` value
and restrict their rows with ``till_term`` where they select them, so the
rule lives here once: None every till, a text one till, a sequence those
tills (empty: none).
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence, Union

from store.db import db, is_sqlite

#: None: every till; "1": till 1; ["1", "2"]: those tills (a shop's, shop_tills).
Tills = Union[None, str, Sequence[str]]

#: The server's table of the tills that sync to it (store.server's; read here, never written).
SYNC_TILL = "sync_till"


def till_term(field: Any, tills: Tills) -> Optional[Any]:
    """The condition ``field`` (a till id column) in ``tills``; None when every till is covered."""
    if tills is None:
        return None
    if isinstance(tills, str):
        return field == tills
    return field.in_([str(till) for till in tills])


def restrict(query: Any, field: Any, tills: Tills) -> Any:
    """``query`` with only the rows of ``tills`` (by ``field``)."""
    term = till_term(field, tills)
    return query if term is None else query.where(term)


def and_tills(where: Any, field: Any, tills: Tills) -> Any:
    """``where & field in tills`` (``where`` alone when every till is covered)."""
    term = till_term(field, tills)
    return where if term is None else where & term


def is_server() -> bool:
    """True when the bound database is the shop's server (PostgreSQL with the tills that sync to it)."""
    database = db.obj
    if database is None or is_sqlite(database):
        return False
    return bool(database.table_exists(SYNC_TILL))


def shop_tills(shop: str) -> List[str]:
    """The till ids of ``shop`` on the bound server, in order ("" = every shop's)."""
    sql = f"SELECT till_id FROM {SYNC_TILL}"
    params: tuple = ()
    if shop:
        sql += f" WHERE shop = {db.obj.param}"
        params = (shop,)
    return sorted(str(row[0]) for row in db.obj.execute_sql(sql + " ORDER BY till_id", params).fetchall())


def shops() -> List[str]:
    """The shop codes on the bound server, in order."""
    return sorted(str(row[0]) for row in db.obj.execute_sql(f"SELECT DISTINCT shop FROM {SYNC_TILL}").fetchall())
