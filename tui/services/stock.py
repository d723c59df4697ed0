"""Stock (库存) on the till, as plain rules: the mark of a line sold with none on hand, on hand as the screens
say it, a stocktake (盘点) and a delivery (进货) typed or scanned on the till.

Plain Python, no Textual. The stock itself (moves, balances, costs, counts)
is ``store.stock``'s; these only decide what the cashier sees and hand the
store what was typed. ``[stock] negative`` says what selling more than is on
hand does: ``allow`` says nothing, ``warn`` marks the line (and says so once),
``refuse`` refuses the line in one sentence.
"""
from __future__ import annotations

import datetime
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from tui.i18n import t

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


def read_on_hand(product_id: int, shop_wide: bool = False) -> Optional[int]:
    """A product's on hand in thousandths: one indexed row (its kept balance, never a sum of moves); store work.

    ``shop_wide`` ([server] url is set): the shop's figure (store.shop_stock: the server's balance of every
    till's moves plus this till's not yet in it, an index range of the moves not yet synced).
    """
    if shop_wide:
        from store import shop_stock

        return shop_stock.on_hand(product_id)
    from store import stock as store_stock

    return store_stock.on_hand(product_id)


#: The shop's figure not confirmed by the server for this long (minutes: offline) is said with its time.
STALE_MINUTES = 5


def stale_time(as_of: Optional[datetime.datetime], now: datetime.datetime,
               minutes: int = STALE_MINUTES) -> Optional[str]:
    """"HH:MM" of the shop's figure when the server last confirmed it over ``minutes`` ago; None when it is
    recent, or when nothing came down (the figure is the till's own)."""
    if as_of is None or (now - as_of).total_seconds() < minutes * 60:
        return None
    return as_of.strftime("%H:%M")


def as_of_note(shop_wide: bool, now: Optional[datetime.datetime] = None) -> str:
    """" (as of 10:42)" after a shop-wide on hand the server has not confirmed for a while, else ""; store work."""
    if not shop_wide:
        return ""
    from store import shop_stock

    time = stale_time(shop_stock.as_of(), now or datetime.datetime.now())
    return t("stock.as_of", time=time) if time else ""


def parse_count(text: str) -> int:
    """A typed count in thousandths: "12", "1.5", "0" (none left); ValueError when it is not a quantity."""
    from store.money import parse_qty, typed

    text = typed(text).strip()
    if text and set(text) <= {"0", "."} and text.strip(".") and text.count(".") <= 1:
        return 0
    return parse_qty(text)


# ---------------------------------------------------------------- stocktake (盘点) on the till: store work


def open_count(till_id: str) -> Tuple[Optional[Any], List[Any]]:
    """The till's stocktake still open (a count left by Esc or a crash goes on) and its counted lines, or
    (None, []): a new count starts with its first product; store work."""
    from store import stock as store_stock

    info = store_stock.open_count(till_id)
    return info, (store_stock.count_lines(info.id) if info is not None else [])


def count_product(count: Optional[Any], whole: bool, till_id: str, cashier: str, barcode: str,
                  counted_milli: int) -> Tuple[Any, Any]:
    """One product counted, stored at once (as of now): (the count, started here if ``count`` is None, and its
    line); StockError for an unknown barcode or a count that is not one; store work."""
    from store import stock as store_stock

    store_stock.find(barcode)  # unknown: refused before a count is started for it
    if count is None:
        count = store_stock.start_count(till_id, cashier, whole)
    return count, store_stock.count_line(count.id, barcode, counted_milli, cashier)


def product_name(barcode: str) -> Tuple[str, str, str]:
    """(barcode, name, unit) of the product a stocktake or a delivery scans; StockError when unknown; store work."""
    from store import stock as store_stock

    product = store_stock.find(barcode)
    return product.barcode, product.name, product.unit or ""


def apply_count(count: Any, till_id: str, manager: str) -> List[Any]:
    """Apply the stocktake a manager allowed: each counted difference one move; store work."""
    from store import stock as store_stock

    return store_stock.apply_count(count.id, till_id, manager)


def standing_lines(lines: Sequence[Any], line: Any) -> List[Any]:
    """The count's lines with ``line`` in: a product counted again replaces its line (the store keeps the
    newest), in the order first counted."""
    out = [old for old in lines if old.product_id != line.product_id]
    at = next((i for i, old in enumerate(lines) if old.product_id == line.product_id), len(out))
    return out[:at] + [line] + out[at:]


def changed(results: Sequence[Any]) -> int:
    """How many products a stocktake changed (a difference, one move each)."""
    return sum(1 for result in results if result.difference_milli)


def count_paper(name: str, whole: bool, manager: str, lines: Sequence[Any], results: Sequence[Any],
                columns: int) -> List[str]:
    """The stocktake as printed lines (a report the printer takes like a Z's): its number, whole or partial,
    the manager, and per product on hand, counted and the difference."""
    from store.money import format_qty

    before = {line.product_id: line.expected_milli for line in lines}
    out = [t("stocktake.paper_title", number=name),
           t("stocktake.paper_whole") if whole else t("stocktake.paper_partial"),
           t("stocktake.paper_by", manager=manager), "-" * columns]
    for result in results:
        expected = before.get(result.product_id, result.counted_milli - result.difference_milli)
        out.append(f"{result.barcode} {result.name}")
        out.append("  " + t("stocktake.paper_row", before=format_qty(expected), counted=format_qty(
            result.counted_milli), diff=("+" if result.difference_milli > 0 else "") + format_qty(
            result.difference_milli)))
    out.append("-" * columns)
    return out


# ---------------------------------------------------------------- receiving (进货) by scanning: store work


def receive_one(barcode: str, qty_text: str, cost_text: str, till_id: str, cashier: str) -> Tuple[str, int]:
    """One delivery line received as typed (qty, cost in yuan per unit): (its name, on hand now); StockError
    with one sentence when the code, the quantity or the cost is bad, nothing written; store work."""
    from store import stock as store_stock
    from store.stock_files import delivery_row

    row = delivery_row(barcode, qty_text, cost_text)
    store_stock.receive([row], till_id, cashier)
    return store_stock.find(barcode).name, store_stock.on_hand(row.product_id)  # what this till received into
