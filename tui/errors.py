"""Errors from store/ and printing/, said in the cashier's language.

store/ raises exceptions that carry a ``code`` (what happened) and ``values``
(the facts: a barcode, a PLU, an amount in fen); their str() is an English
sentence for logs. Here the code picks an i18n key (``error.<code>`` unless
KEYS says otherwise) and the values fill it, so nothing reads English text.
A code without words of its own is still shown, inside a translated frame
chosen by the exception's type.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from tui.i18n import EN, t

#: Error codes said by a key other than "error." + code.
KEYS = {"basket_empty": "sale.basket_empty"}

#: Values that are names of things the UI says in its own words: value name -> key prefix.
WORDS = {"method": "method.", "state": "history.outcome.", "current": "history.outcome.",
         "wanted": "history.outcome."}

# exception class name -> i18n key of the frame for codes with no words of their own
FRAMES = {
    "CodeError": "error.code",
    "SaleError": "error.sale",
    "CatalogueError": "error.product",
    "CashierError": "error.cashier",
    "IllegalTransition": "error.receipt_state",
    "ReprintRefused": "error.receipt_state",
    "PrinterError": "error.printer",
    "DocumentError": "error.document",
    "StockError": "error.stock",
}


def _names(exc: BaseException) -> List[str]:
    return [cls.__name__ for cls in type(exc).__mro__]


def key_for(exc: BaseException) -> Tuple[str, dict]:
    """(i18n key, values) for an exception from store/ or printing/."""
    code, values = getattr(exc, "code", None), getattr(exc, "values", None)
    if isinstance(code, str) and isinstance(values, dict):
        key = KEYS.get(code, "error." + code)
        if key in EN:
            return key, words(values)
    text = str(exc).strip()
    frame = next((FRAMES[name] for name in _names(exc) if name in FRAMES), None)
    if frame is None and _is_database_error(exc):
        return "sale.db_error", {"error": _first_line(text)}
    return frame or "error.other", {"detail": _first_line(text) or type(exc).__name__}


def words(values: Dict[str, Any]) -> Dict[str, Any]:
    """An error's values ready for a sentence: fen as yuan (``due_fen`` -> ``due``), names in the UI language."""
    from store.money import format_yuan

    said = dict(values)
    for name, value in values.items():
        if name.endswith("_fen") and isinstance(value, int):
            said[name[:-len("_fen")]] = format_yuan(value)
        elif name in WORDS and value:
            said[name] = t(WORDS[name] + str(value))
    return said


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
