"""The product search popup's store work (F2 on the sale screen), as a plain function.

Plain Python, no Textual: tui/screens/search.py runs ``find_products`` on its
own thread worker for every keystroke (and once on opening, for the catalogue
shown before anything is typed) and shows only the newest answer. The search
itself (names, pinyin, initials, codes) is ``store.catalogue``'s; each product
found comes with its on hand (``store.stock.on_hand_many``, the kept balances).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from store.db import db
from tui.services.stock import as_of_note, on_hand_text

Search = Callable[[str, int], List[Dict[str, Any]]]


def find_products(text: str, limit: int, search: Optional[Search] = None,
                  shop_wide: bool = False) -> List[Dict[str, Any]]:
    """The products ``text`` finds (at most ``limit``), on this thread's own database connection; store work.

    Nothing typed yet (F2 on an empty entry): the catalogue, its first ``limit`` products in pinyin order.
    ``shop_wide`` ([server] url set): on hand is the shop's (store.shop_stock), with its time when stale.
    """
    from store.catalogue import browse_products, search_products

    with db.connection_context():
        if search is not None:
            found = search(text, limit)
        elif not text.strip():
            found = browse_products(limit)
        else:
            found = search_products(text, limit=limit)
        return with_on_hand(found, shop_wide)


def with_on_hand(products: List[Dict[str, Any]], shop_wide: bool = False) -> List[Dict[str, Any]]:
    """Each found product with its on hand as the search shows it ("on_hand": "12瓶"): one read of the kept
    balances for them all, never a sum of moves; ``shop_wide``: the shop's, " (as of 10:42)" when stale;
    store work."""
    if shop_wide:
        from store.shop_stock import on_hand_many
    else:
        from store.stock import on_hand_many

    ids = [product["id"] for product in products if product.get("id") is not None]
    held = on_hand_many(ids) if ids else {}
    note = as_of_note(shop_wide) if held else ""
    return [{**product, "on_hand": on_hand_text(held[product["id"]], product.get("unit") or "") + note}
            if product.get("id") in held else product for product in products]
