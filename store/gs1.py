"""GS1 check digits: EAN-8, UPC-A, EAN-13 and GTIN-14.

The catalogue refuses a mistyped barcode with them (``store.catalogue``) and
the till refuses a misread one (``store.codes``).
"""
from __future__ import annotations

from typing import Optional

#: The GS1 code that ends in a check digit, by length.
KINDS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}
#: Lengths of numeric codes that end in a GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14).
CHECKED_LENGTHS = tuple(KINDS)


def gs1_check_digit(body: str) -> int:
    """The GS1 check digit for ``body`` (the code without its last digit)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        total += digit * 3 if position % 2 == 0 else digit
    return (10 - total % 10) % 10


def has_check_digit(code: str) -> bool:
    """True when ``code`` is all digits and as long as an EAN-8, UPC-A, EAN-13 or GTIN-14."""
    return code.isascii() and code.isdigit() and len(code) in CHECKED_LENGTHS


def check_digit_ok(code: str) -> bool:
    """True when the last digit of an EAN-8 / UPC-A / EAN-13 / GTIN-14 is right."""
    return has_check_digit(code) and gs1_check_digit(code[:-1]) == ord(code[-1]) - 48


def check_digit_problem(code: str) -> Optional[str]:
    """None if ``code`` is fine; else one sentence (no full stop) saying the check digit is wrong.

    Codes that are not EAN/UPC shaped (PLUs, letters, other lengths) have no
    check digit and are fine.
    """
    if not has_check_digit(code) or check_digit_ok(code):
        return None
    kind = KINDS[len(code)]
    return (f"barcode {code} is not a valid {kind}: its last digit should be "
            f"{gs1_check_digit(code[:-1])}, so it was probably mistyped")


def with_check_digit(body: str) -> str:
    """``body`` plus its GS1 check digit (for tests, demos and label printing)."""
    return body + str(gs1_check_digit(body))
