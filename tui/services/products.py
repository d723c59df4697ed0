"""The product search popup's store work (F2 on the sale screen), as a plain function.

Plain Python, no Textual: tui/screens/search.py runs ``find_products`` on its
own thread worker for every keystroke (and once on opening, for the catalogue
shown before anything is typed) and shows only the newest answer. The search
itself (names, pinyin, initials, codes) is ``store.catalogue``'s.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from store.db import db

Search = Callable[[str, int], List[Dict[str, Any]]]


def find_products(text: str, limit: int, search: Optional[Search] = None) -> List[Dict[str, Any]]:
    """The products ``text`` finds (at most ``limit``), on this thread's own database connection; store work.

    Nothing typed yet (F2 on an empty entry): the catalogue, its first ``limit`` products in pinyin order.
    """
    from store.catalogue import browse_products, search_products

    with db.connection_context():
        if search is not None:
            return search(text, limit)
        if not text.strip():
            return browse_products(limit)
        return search_products(text, limit=limit)
