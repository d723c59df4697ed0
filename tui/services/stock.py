"""Stock (库存) on the till, as plain rules: the mark of a line sold with none on hand, on hand as the screens
say it, a stocktake (盘点) and a delivery (进货) typed or scanned on the till.

Plain Python, no Textual. The stock itself (moves, balances, costs, counts)
is ``store.stock``'s; these only decide what the cashier sees and hand the
store what was typed. ``[stock] negative`` says what selling more than is on
hand does: ``allow`` says nothing, ``warn`` marks the line (and says so once),
``refuse`` refuses the line in one sentence.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

#: [stock] negative
ALLOW, WARN, REFUSE = "allow", "warn", "refuse"

#: What stock_mark says of a line: fine, sold with none on hand (marked), refused.
FINE, SHORT, REFUSED = "", "short", "refused"


def stock_mark(on_hand_milli: Optional[int], qty_milli: int, setting: str) -> str:
    """FINE, SHORT or REFUSED for selling ``qty_milli`` (the basket's quantity of the product, this line included)
    of a product with ``on_hand_milli`` on hand (None: not known, nothing is said).

    Short means on hand after the basket would be below 0; ``setting`` is ``[stock] negative``.
    """
    if on_hand_milli is None or setting == ALLOW or on_hand_milli - qty_milli >= 0:
        return FINE
    return REFUSED if setting == REFUSE else SHORT


def on_hand_text(on_hand_milli: Optional[int], unit: str = "") -> str:
    """On hand as a screen shows it: '12', '1.5kg', '-3'; '-' when not known."""
    from store.money import format_qty

    if on_hand_milli is None:
        return "-"
    return format_qty(on_hand_milli) + (unit or "")


def basket_qty(items: Iterable[Any], product_id: int) -> int:
    """The basket's quantity of one product, in thousandths, over all its lines."""
    return sum(item.qty_milli for item in items if item.product_id == product_id)


def read_on_hand(product_id: int) -> Optional[int]:
    """A product's on hand in thousandths: one indexed row (its kept balance, never a sum of moves); store work."""
    from store import stock as store_stock

    return store_stock.on_hand(product_id)
