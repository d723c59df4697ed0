"""The rule for text a shop types into its data (product names, cashier names and codes).

One rule, one place: a control character (C0, DEL or C1, so an escape
sequence too) never enters the data, whatever door it comes through.
"""
from __future__ import annotations

from typing import Optional


def control_problem(column: str, text: str) -> Optional[str]:
    """A phrase when ``text`` holds a control character (C0, DEL, C1: an escape sequence too), else None."""
    for index, char in enumerate(text):
        if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            return f"the {column} holds the control character U+{ord(char):04X} at character {index + 1}"
    return None
