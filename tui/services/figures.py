"""The owner's view (老板看账) figures as plain rules: one day of one till, or of every till summed.

Plain Python, no Textual: tui/screens/owner.py reads ``day_figures`` off the
UI thread and draws it. A day's figures are ``store.reports.figures(till,
first=day)``, which is per till; every till that sold that day is summed
here (counts and amounts add; cashiers, hours and products merge by name).
The stock (``stock_figures``: low stock, stock value, the day's margin) is the
shop's, every till's moves together (store.stock).
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List, Tuple

from store.models import Sale
from tui.services.stock import as_of_note

TOP_PRODUCTS = 10  # the products the summed day lists, as one till's figures do


def add_figures(total: Any, more: Any) -> Any:
    """Two figures dicts added: numbers add, dicts add by key, lists merge by their name field."""
    if isinstance(total, bool) or total is None:
        return total if total is not None else more
    if isinstance(total, int) and isinstance(more, int):
        return total + more
    if isinstance(total, dict) and isinstance(more, dict):
        out = dict(total)
        for key, value in more.items():
            out[key] = add_figures(out[key], value) if key in out else value
        return out
    if isinstance(total, list) and isinstance(more, list):
        return merge_rows(total, more)
    return total


def merge_rows(first: List[Dict[str, Any]], second: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rows of two figures lists as one: rows with the same names (their text fields) add up."""
    rows: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    for row in first + second:
        key = tuple((k, v) for k, v in sorted(row.items()) if isinstance(v, str))
        rows[key] = add_figures(rows[key], row) if key in rows else dict(row)
    return list(rows.values())


def tills_that_sold(till_id: str, day: datetime.date) -> List[str]:
    """This till and every till with a document on ``day``, sorted; store work."""
    from store.reports import day_scope
    from store.shop_copies import copy_tills

    scope = day_scope(till_id, day, day)
    sold = Sale.select(Sale.till_id).distinct().where((Sale.sold_at >= scope.since) & (Sale.sold_at < scope.until))
    copies = set(copy_tills())  # another till's receipts copied here for a refund are not this till's day
    return sorted({str(till_id)} | {till for (till,) in sold.tuples() if till not in copies})


def day_figures(till_id: str, day: datetime.date, all_tills: bool, shop_wide: bool = False) -> Dict[str, Any]:
    """The day's figures of this till (or every till, summed) and the day's Z reports; store work."""
    from store.reports import figures, z_list

    if not all_tills:
        result = figures(till_id, first=day)
        tills = [str(till_id)]
    else:
        tills = tills_that_sold(till_id, day)
        result = {}
        for till in tills:
            result = add_figures(result, figures(till, first=day)) if result else figures(till, first=day)
        result["hours"].sort(key=lambda row: row["hour"])
        result["cashiers"].sort(key=lambda row: row["cashier"])
        result["top_products"].sort(key=lambda row: (-row["amount_fen"], row["name"]))
        del result["top_products"][TOP_PRODUCTS:]
    prefix = day.isoformat()
    zs = [z for till in tills for z in z_list(till) if (z["closed_at"] or "").startswith(prefix)]
    return dict(figures=result, zs=zs, day=day, all_tills=all_tills, stock=stock_figures(day, shop_wide))


def stock_figures(day: datetime.date, shop_wide: bool = False) -> Dict[str, Any]:
    """The shop's stock for the owner: what to reorder (at or below its min), what the stock on the shelves cost
    (moving average) and the day's gross margin (sales at price less what the goods cost); store work.

    ``shop_wide`` ([server] url set): low stock and value are the shop's (store.shop_stock: every till's
    moves), ``as_of`` " (as of 10:42)" when the server has not confirmed them for a while; the margin is
    this till's day.
    """
    from store import shop_stock, stock

    held: Any = shop_stock if shop_wide else stock
    return dict(low=held.low_stock(), value_fen=held.stock_value(), margin=stock.day_margin(day),
                as_of=as_of_note(shop_wide))


def taken_off_fen(sales: Dict[str, Any]) -> int:
    """What discounts and 抹零 rounding took off the day's sales (the figures' sales dict), in fen."""
    return sales["discount_fen"] + sales["rounding_fen"]
