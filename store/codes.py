"""Codes a till reads: catalogue barcodes (check digits in ``store.gs1``), shop PLUs, scale labels.

A label scale prints an EAN-13 starting with 20-29 that carries a PLU (the
shop's short code for a weighed product) and either the weight in grams or
the price in fen. Which digits mean what is a setting (``[scale]``), turned
into ``ScaleLayout`` values by ``scale_layouts``. ``resolve_code`` is what
the till calls for a scanned or typed code: catalogue barcode first, then
the other spelling of a UPC-A, then a scale label.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from store.errors import StoreError
from store.gs1 import KINDS, check_digit_ok, check_digit_problem, gs1_check_digit, with_check_digit
from store.money import GRAMS_TO_MILLI

# A weight label only fits products sold by weight: the units and their grams live with the
# quantity rules (store.money.sold_by_weight).


class CodeError(StoreError, ValueError):
    """A code that cannot be sold as read; ``code`` says why, ``values["barcode"]`` is the code read."""


# ---------------------------------------------------------------- PLUs

def is_plu(code: str) -> bool:
    """A shop PLU: a short numeric code (1 to 6 digits) typed by the cashier."""
    return code.isascii() and code.isdigit() and 1 <= len(code) <= 6


# ---------------------------------------------------------------- scale labels

@dataclass(frozen=True)
class ScaleLayout:
    """Where a label scale puts the PLU and the weight or price inside an EAN-13.

    EAN-13 = prefix (2) + PLU (plu_digits) + [price check digit] + value
    (value_digits) + EAN check digit, so plu_digits + value_digits +
    price_check == 10.
    """

    prefixes: Tuple[str, ...] = tuple(str(n) for n in range(20, 30))
    plu_digits: int = 5
    value: str = "price"        # "price" (fen) or "weight" (grams)
    value_digits: int = 5
    price_check: bool = False

    def __post_init__(self) -> None:
        if self.value not in ("price", "weight"):
            raise ValueError("a scale layout value is 'price' or 'weight'")
        if self.plu_digits + self.value_digits + int(self.price_check) != 10:
            raise ValueError("plu_digits + value_digits (+1 with a price check digit) must be 10")

    def matches(self, code: str) -> bool:
        return len(code) == 13 and code.isascii() and code.isdigit() and code[:2] in self.prefixes


class ScaleLabel(NamedTuple):
    plu: str            # as printed, with leading zeros
    value: str          # "price" or "weight"
    amount: int         # fen for a price label, grams for a weight label


def scale_layouts(scale: Any) -> List[ScaleLayout]:
    """The scale layouts of the ``[scale]`` settings (prefixes, plu_digits, value, value_digits,
    price_check); [] when it names no prefixes."""
    if not scale.prefixes:
        return []
    return [ScaleLayout(tuple(scale.prefixes), scale.plu_digits, scale.value, scale.value_digits,
                        scale.price_check)]


def price_check_digit(price: str) -> int:
    """The GS1 price check digit of a 4- or 5-digit price (weighting factors 2-, 3, 5+, 5-)."""
    if len(price) == 4:
        digits = [ord(c) - 48 for c in price]
        total = _W2M[digits[0]] + _W2M[digits[1]] + _W3[digits[2]] + _W5M[digits[3]]
        return (total * 3) % 10
    if len(price) == 5:
        digits = [ord(c) - 48 for c in price]
        total = (_W5P[digits[0]] + _W2M[digits[1]] + _W5M[digits[2]] + _W5P[digits[3]]
                 + _W2M[digits[4]])
        return _W5M_INVERSE[(10 - total % 10) % 10]
    raise ValueError("a price check digit covers 4 or 5 digits")


# GS1 General Specifications 7.9.5: weighting factor tables for the price check digit.
_W2M = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)          # 2-
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)           # 3
_W5P = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)          # 5+
_W5M = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)          # 5-
_W5M_INVERSE = tuple(_W5M.index(n) for n in range(10))


def parse_scale_label(code: str, layouts: Sequence[ScaleLayout]) -> Optional[ScaleLabel]:
    """Read a scale label: None if no layout matches the code; CodeError if one matches but the code is bad."""
    code = (code or "").strip()
    for layout in layouts:
        if not layout.matches(code):
            continue
        if not check_digit_ok(code):
            raise CodeError(f"Scale label {code} has a wrong check digit; scan it again or type the PLU.",
                            "scale_check_digit", barcode=code)
        start = 2 + layout.plu_digits
        plu = code[2:start]
        if layout.price_check:
            check, start = code[start], start + 1
        value = code[start:start + layout.value_digits]
        if layout.price_check and price_check_digit(value) != ord(check) - 48:
            raise CodeError(f"Scale label {code} has a wrong price check digit; scan it again.",
                            "scale_price_check", barcode=code)
        return ScaleLabel(plu, layout.value, int(value))
    return None


# ---------------------------------------------------------------- the till's lookup

class Resolved(NamedTuple):
    """What a code adds to the basket: the product, a quantity, and a fixed amount from a price label."""

    product: Any
    qty_milli: int
    amount_fen: Optional[int]  # the label's price; None: price x quantity


def resolve_code(code: str, scale_layouts: Sequence[ScaleLayout] = (), find=None,
                 retired=None) -> Optional[Resolved]:
    """The product a scanned or typed code stands for, with quantity and label price.

    Order: the catalogue barcode (or PLU) as typed; the same item in its
    other GS1 spelling (UPC-A 12 digits <-> EAN-13 with a leading 0); a
    scale label (prefix 20-29, per ``scale_layouts``). Returns None for an
    unknown code and raises CodeError (one sentence) for a code that was
    misread or mistyped (bad check digit) or a scale label that does not fit
    its product. A code of a product that is no longer sold (``retired``
    finds it; the catalogue's deactivated products by default) raises
    CodeError ``no_longer_sold``, not None: the cashier hears why.
    """
    if find is None:
        from store.catalogue import find_active as find  # store.sales.find_product, without query building
        if retired is None:
            from store.catalogue import find_retired as retired
    if retired is None:
        retired = _nothing
    code = (code or "").strip()
    if not code:
        return None
    product = find(code)
    if product is not None:
        return Resolved(product, 1000, None)
    problem = check_digit_problem(code)
    if problem:
        raise CodeError(problem[0].upper() + problem[1:] + ".", "check_digit",
                        barcode=code, kind=KINDS[len(code)], digit=gs1_check_digit(code[:-1]))
    for other in _other_spellings(code):
        product = find(other)
        if product is not None:
            return Resolved(product, 1000, None)
    label = parse_scale_label(code, scale_layouts)
    if label is None:
        _refuse_retired(code, [code, *_other_spellings(code)], retired)
        return None
    product = _find_plu(label.plu, find)
    if product is None:
        _refuse_retired(code, _plu_spellings(label.plu), retired)
        raise CodeError(f"Scale label {code}: PLU {label.plu} is not in the catalogue.",
                        "scale_unknown_plu", barcode=code, plu=label.plu)
    return _scale_line(code, product, label)


def _other_spellings(code: str) -> Iterable[str]:
    if code.isdigit():
        if len(code) == 12:
            yield "0" + code
        elif len(code) == 13 and code.startswith("0"):
            yield code[1:]


def _nothing(code: str) -> Any:
    return None


def _refuse_retired(code: str, candidates: Iterable[str], retired) -> None:
    """CodeError no_longer_sold when one of candidates is a product that is no longer sold."""
    for candidate in candidates:
        product = retired(candidate)
        if product is not None:
            raise CodeError(f"{product.name} ({code}) is no longer sold.", "no_longer_sold",
                            barcode=code, name=product.name)


def _plu_spellings(plu: str) -> List[str]:
    return list(dict.fromkeys((plu.lstrip("0") or "0", plu)))


def _find_plu(plu: str, find) -> Any:
    for candidate in _plu_spellings(plu):
        product = find(candidate)
        if product is not None:
            return product
    return None


def _scale_line(code: str, product: Any, label: ScaleLabel) -> Resolved:
    unit = (getattr(product, "unit", "") or "").strip().lower()
    price = int(product.price_fen)
    if label.value == "weight":
        factor = GRAMS_TO_MILLI.get(unit)
        if factor is None:
            raise CodeError(f"Scale label {code} weighs {product.name}, which is sold by "
                            f"{unit or 'the piece'}, not by weight; check its unit in the catalogue.",
                            "scale_not_by_weight", barcode=code, name=product.name, unit=unit)
        if label.amount <= 0:
            raise CodeError(f"Scale label {code} shows no weight; weigh the item again.",
                            "scale_no_weight", barcode=code)
        return Resolved(product, label.amount * factor, None)
    if label.amount <= 0:
        raise CodeError(f"Scale label {code} shows no price; weigh the item again.",
                        "scale_no_price", barcode=code)
    # The label's price is what the customer pays; the quantity is derived for the receipt.
    qty = (label.amount * 1000 + price // 2) // price if price > 0 else 1000
    return Resolved(product, max(1, qty), label.amount)


def make_scale_label(plu: str, amount: int, layout: ScaleLayout, prefix: Optional[str] = None) -> str:
    """An EAN-13 a scale with ``layout`` would print (demo, tests)."""
    prefix = prefix or layout.prefixes[0]
    value = str(int(amount)).zfill(layout.value_digits)
    if len(value) > layout.value_digits:
        raise ValueError(f"{amount} does not fit in {layout.value_digits} digits")
    body = prefix + str(plu).zfill(layout.plu_digits)
    if layout.price_check:
        body += str(price_check_digit(value))
    return with_check_digit(body + value)
