"""Money and quantity rules: integer fen, integer thousandths, one rounding rule.

Every amount in Chaoying is an ``int`` of fen (1 yuan = 100 fen) and every
quantity an ``int`` of thousandths (1 piece = 1000). Floats never appear;
text is converted here and nowhere else.
"""
from __future__ import annotations

import re
import unicodedata

_YUAN = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]{0,2}))?", re.ASCII)
_QTY = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]{0,3}))?", re.ASCII)
_CURRENCY_SIGNS = "¥￥"

#: Largest amount accepted from text: 100 million yuan. Anything above is a typo.
MAX_FEN = 100_000_000 * 100
#: Largest quantity accepted from text: one million units.
MAX_QTY_MILLI = 1_000_000 * 1000


#: Digits of the largest whole yuan accepted: longer input is refused before int() (slow on huge text).
_MAX_WHOLE_DIGITS = len(str(MAX_FEN // 100))


class AmountError(ValueError):
    """Text that is not an amount: ``code`` "amount_not_yuan" or "amount_too_large", with ``values``."""

    def __init__(self, code: str, text: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.values = {"text": text, "max_fen": MAX_FEN}


#: What a Chinese input method types for a point that NFKC leaves alone: the ideographic full stop.
_POINTS = str.maketrans({"\u3002": "."})


def typed(text: str) -> str:
    """Text as a cashier typed it, with what a Chinese input method makes ASCII: full-width digits,
    letters, ＊ and ．(NFKC) and 。 -> "3*6901234567892". Every number or code typed in the till goes
    through here (amounts, quantities, codes, searches, PINs); CJK names are left as they are."""
    return unicodedata.normalize("NFKC", str(text)).translate(_POINTS)


def _normalise(text: str) -> str:
    return typed(text).strip()


def parse_yuan(text: str) -> int:
    """Parse a yuan amount ("3.5", "3.50", "12", "￥12") into fen.

    Raises AmountError (a ValueError) for empty, negative, malformed input,
    more than two decimals, NaN, infinities, exponents, or more than MAX_FEN.
    """
    cleaned = _normalise(text).lstrip(_CURRENCY_SIGNS).strip()
    match = _YUAN.fullmatch(cleaned)
    if match is None:
        raise AmountError("amount_not_yuan", str(text), f"{str(text)[:40]!r} is not an amount in yuan (like 3.50)")
    whole = match.group("whole").lstrip("0")
    if len(whole) > _MAX_WHOLE_DIGITS:
        raise AmountError("amount_too_large", str(text), f"{str(text)[:40]!r}... is too large an amount")
    fen = int(whole or "0") * 100 + int((match.group("frac") or "").ljust(2, "0"))
    if fen > MAX_FEN:
        raise AmountError("amount_too_large", str(text), f"{str(text)[:40]!r} is too large an amount")
    return fen


def format_yuan(fen: int) -> str:
    """Format fen as yuan with two decimals: 350 -> "3.50", -5 -> "-0.05"."""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    whole, frac = divmod(abs(fen), 100)
    return f"{sign}{whole}.{frac:02d}"


def line_amount(unit_price_fen: int, qty_milli: int) -> int:
    """Amount of a line in fen: unit price x quantity, rounded half up.

    Negative products round symmetrically (half away from zero), so a
    returned line is exactly the negative of the sold one.
    """
    product = int(unit_price_fen) * int(qty_milli)
    sign = -1 if product < 0 else 1
    return sign * ((abs(product) + 500) // 1000)


def parse_qty(text: str) -> int:
    """Parse a quantity ("2", "1.5", "0.255") into thousandths; ValueError if bad."""
    cleaned = _normalise(text)
    match = _QTY.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"{text!r} is not a quantity (like 2 or 1.5)")
    whole = match.group("whole").lstrip("0")
    if len(whole) > len(str(MAX_QTY_MILLI // 1000)):  # refused before int(), slow on huge text
        raise ValueError(f"{text[:40]!r}... is too large a quantity")
    qty = int(whole or "0") * 1000 + int((match.group("frac") or "").ljust(3, "0"))
    if qty <= 0:
        raise ValueError(f"{text!r}: quantity must be more than zero")
    if qty > MAX_QTY_MILLI:
        raise ValueError(f"{text!r} is too large a quantity")
    return qty


#: Thousandths of its unit that one gram is, by unit name (lower case): the units a product is weighed in.
GRAMS_TO_MILLI = {
    "kg": 1, "公斤": 1, "千克": 1,
    "斤": 2,          # 500 g
    "两": 20,         # 50 g
    "g": 1000, "克": 1000,
}


def sold_by_weight(unit: str) -> bool:
    """The one rule for "by the piece": a product whose unit is a weight (a GRAMS_TO_MILLI key:
    kg, 公斤, 千克, 斤, 两, g, 克) is weighed and may be sold in fractions (1.5 斤); any other unit
    (瓶, 个, 盒, none at all) is sold by the piece, in whole numbers. A scale label carries its own
    quantity (store.codes), so only a typed quantity is held to this."""
    return (unit or "").strip().lower() in GRAMS_TO_MILLI


def whole_pieces(unit: str, qty_milli: int) -> bool:
    """False for a fractional quantity of a product sold by the piece (see sold_by_weight)."""
    return int(qty_milli) % 1000 == 0 or sold_by_weight(unit)


def format_qty(qty_milli: int) -> str:
    """Format thousandths without trailing zeros: 1000 -> "1", 1500 -> "1.5"."""
    qty_milli = int(qty_milli)
    sign = "-" if qty_milli < 0 else ""
    whole, frac = divmod(abs(qty_milli), 1000)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:03d}".rstrip("0")


_PERCENT = re.compile(r"(?P<whole>[0-9]{1,3})(?:\.(?P<frac>[0-9]{0,2}))?%", re.ASCII)


def parse_percent(text: str) -> int:
    """Parse a percent ("10%", "12.5%", full-width "１０％") into hundredths of a percent (1000 = 10%).

    Raises AmountError ("percent_not_valid") for anything else or more than 100%.
    """
    match = _PERCENT.fullmatch(_normalise(text).replace(" ", ""))
    value = (int(match.group("whole")) * 100 + int((match.group("frac") or "").ljust(2, "0"))) if match else -1
    if not 0 <= value <= 10000:
        raise AmountError("percent_not_valid", str(text), f"{str(text)[:40]!r} is not a percent from 0% to 100%")
    return value


def format_percent(basis_points: int) -> str:
    """Hundredths of a percent as text: 1000 -> "10%", 1250 -> "12.5%"."""
    whole, frac = divmod(int(basis_points), 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def percent_of(amount_fen: int, basis_points: int) -> int:
    """``basis_points`` hundredths of a percent of an amount, rounded down (a discount never rounds up)."""
    return int(amount_fen) * int(basis_points) // 10000


def round_down(amount_fen: int, step_fen: int) -> int:
    """抹零: the amount rounded down to a multiple of ``step_fen`` (10: to 角, 100: to 元)."""
    amount_fen, step_fen = int(amount_fen), int(step_fen)
    return amount_fen if step_fen <= 1 else amount_fen - amount_fen % step_fen


def allocate(amount_fen: int, weights: "list[int]") -> "list[int]":
    """Split ``amount_fen`` over ``weights`` in proportion, in whole fen that sum to it exactly.

    Each share is rounded down, then the fen left over go one each to the
    largest remainders (the first of equals first). With ``0 <= amount_fen <=
    sum(weights)`` no share is above its weight.
    """
    total = sum(weights)
    if total <= 0 or amount_fen == 0:
        return [0] * len(weights)
    shares = [amount_fen * weight // total for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount_fen * weights[i] % total), i))
    for index in remainders[:amount_fen - sum(shares)]:
        shares[index] += 1
    return shares
