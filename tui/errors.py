"""Errors from store/ and printing/, said in the cashier's language.

store/ raises specific exceptions whose str() is one English sentence (it
knows no catalogue). At the edge the till turns them into i18n keys: by
exception type, and for the sentences that carry facts (a code, a PLU, a
digit) by their shape, so the values land in the translated sentence. An
error that matches nothing is still shown, inside a translated frame.
"""
from __future__ import annotations

import re
from typing import List, Optional, Pattern, Tuple

from tui.i18n import t

# (exception class name, pattern of its English sentence, i18n key); first match wins.
PATTERNS: List[Tuple[str, Pattern, str]] = [
    ("CodeError", re.compile(r"barcode (?P<code>\S+) is not a valid (?P<kind>[\w-]+): its last digit should be "
                             r"(?P<digit>\d)", re.I), "error.check_digit"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+) has a wrong check digit", re.I), "error.scale_check_digit"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+) has a wrong price check digit", re.I),
     "error.scale_price_check"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+): PLU (?P<plu>\S+) is not in the catalogue", re.I),
     "error.scale_unknown_plu"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+) weighs (?P<name>.+?), which is sold by", re.I),
     "error.scale_not_by_weight"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+) shows no weight", re.I), "error.scale_no_weight"),
    ("CodeError", re.compile(r"scale label (?P<code>\d+) shows no price", re.I), "error.scale_no_price"),
    ("SaleError", re.compile(r"already paid in full", re.I), "error.paid_in_full"),
    ("SaleError", re.compile(r"A (?P<method>\w+) payment of (?P<amount>[\d.]+) is more than the "
                             r"(?P<due>[\d.]+) still due", re.I), "error.non_cash_too_much"),
    ("SaleError", re.compile(r"The basket is empty", re.I), "sale.basket_empty"),
    ("SaleError", re.compile(r"(?P<due>[\d.]+) is still due", re.I), "error.still_due"),
]

# exception class name -> i18n key of the frame for sentences no pattern knows
FRAMES = {
    "CodeError": "error.code",
    "SaleError": "error.sale",
    "ProductError": "error.product",
    "CatalogueError": "error.product",
    "CashierError": "error.cashier",
    "IllegalTransition": "error.receipt_state",
    "PrinterError": "error.printer",
}


def _names(exc: BaseException) -> List[str]:
    return [cls.__name__ for cls in type(exc).__mro__]


def key_for(exc: BaseException) -> Tuple[str, dict]:
    """(i18n key, values) for an exception from store/ or printing/."""
    names = _names(exc)
    text = str(exc).strip()
    for name, pattern, key in PATTERNS:
        if name in names:
            found = pattern.search(text)
            if found:
                values = found.groupdict()
                if "method" in values:
                    values["method"] = t("method." + values["method"]) if values["method"] else ""
                return key, values
    frame = next((FRAMES[name] for name in names if name in FRAMES), None)
    if frame is None and _is_database_error(exc):
        return "sale.db_error", {"error": _first_line(text)}
    return frame or "error.other", {"detail": _first_line(text) or type(exc).__name__}


def describe(exc: BaseException) -> str:
    """One sentence in the UI language for an error a cashier can meet."""
    key, values = key_for(exc)
    if key == "error.printer":
        reason = _printer_reason(exc)
        if reason:
            return reason
    return t(key, **values)


def printer_reason(code: str, fallback: str = "") -> str:
    """A print attempt's reason code in the UI language (stored reasons are in the language of the day)."""
    key = "printer." + (code or "")
    text = t(key)
    return fallback if text == key else text


def _printer_reason(exc: BaseException) -> Optional[str]:
    code = getattr(exc, "code", "")
    text = printer_reason(code)
    return text or None


def _is_database_error(exc: BaseException) -> bool:
    return any(cls.__module__.split(".")[0] in ("peewee", "sqlite3", "psycopg2") for cls in type(exc).__mro__)


def _first_line(text: str) -> str:
    return (text.splitlines() or [""])[0].strip()
