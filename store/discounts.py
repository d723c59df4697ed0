"""Who may give a discount: a cashier's limits, and when a manager's PIN is needed.

The arithmetic of discounts lives in ``store.sales`` (Basket); this module
only says whether a decision is within what a cashier may do alone
(``[selling]`` in the settings):

- a line or basket discount up to ``cashier_max_discount`` percent of what it
  applies to (an amount is measured as a percent of the line's, or the
  basket's, amount before it);
- a price override only when ``cashier_price_override`` is on, and then a
  lowered price counts as a discount of the list price (the same limit); a
  raised price needs nobody. With it off, every override needs a manager.

A line's quantity can change after its discount (F3): a percent scales with
the line, an amount does not, so ``amount_stands`` says whether it still
stands (never above the line: ``store.sales.fits_line``; a larger share of a
smaller line only within the cashier's limit). ``Basket.set_qty`` takes off
one that does not, and the till says so: a discount no longer allowed is never kept silently.

Above the limits a manager says yes: the signed-in cashier when a manager,
else a manager's PIN. A shop without cashiers (sign-in unused) has nobody to
ask and nobody to limit: there the limits do not apply.
"""
from __future__ import annotations

from typing import Optional

from store.sales import PRICE, DiscountSpec, fits_line

NO_LIMITS = ""  # approver(): the shop has no cashiers, nobody to ask
ROUNDING_REASON = "抹零"  # the reason stored with every 抹零 (a shop's word, whatever the UI language)


def over_limit(spec: DiscountSpec, base_fen: int, max_percent: int, price_override: bool) -> bool:
    """Is ``spec`` beyond what a cashier may give alone? ``base_fen``: what it applies to (a price: the list price)."""
    if spec.kind == PRICE:
        if not price_override:
            return True
        lowered = base_fen - spec.value
        return lowered > 0 and lowered * 100 > max_percent * base_fen
    if spec.kind == "percent":
        return spec.value > max_percent * 100
    return spec.value * 100 > max_percent * max(0, base_fen)


def amount_stands(spec: DiscountSpec, old_base_fen: int, new_base_fen: int, max_percent: Optional[int]) -> bool:
    """Does a line's discount still stand when a new quantity makes its line ``new_base_fen`` (was ``old_base_fen``)?

    A percent scales with the line: always. An amount never above the new line; on a line grown or
    as large it stands (its share did not grow); on a smaller line only within ``max_percent``, the
    cashier's limit (None: a shop without cashiers, no limits), whoever allowed it before.
    """
    if spec.kind != "amount":
        return True
    if not fits_line(spec, old_base_fen, new_base_fen):
        return False
    return max_percent is None or new_base_fen >= old_base_fen or not over_limit(spec, new_base_fen, max_percent,
                                                                                 False)


def approver(cashier: str) -> Optional[str]:
    """Who allows a decision over the limits without a PIN: NO_LIMITS for a shop without cashiers,
    the signed-in cashier's own code when a manager; None when a manager's PIN must be asked."""
    from store.models import Cashier

    active = Cashier.select().where(Cashier.active == True)  # noqa: E712
    if not active.exists():
        return NO_LIMITS
    if cashier and active.where((Cashier.code == cashier) & (Cashier.manager == True)).exists():  # noqa: E712
        return cashier
    return None
