"""Glyphs the Linux console can draw.

The console's fonts (VGA / CP437-like, 256 or 512 glyphs) have single and
double box lines, four block shapes and the shades, but not Textual's heavy
and rounded lines or eighth blocks. The linux16 theme's CSS uses ASCII
borders; this line filter is the safety net for everything else drawn on
screen (scrollbars, built-in widgets), swapping each glyph for one of the
same width the console has. The QR code's half blocks are kept as they are.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Dict, List

from rich.segment import Segment
from textual.filter import LineFilter

KEEP = set("\u2580\u2584\u2588\u258c\u2590\u2591\u2592\u2593")  # half blocks, full block, shades
OTHER: Dict[str, str] = {
    "\u2026": ".",  # ellipsis
    "\u2022": "*", "\u25cf": "*", "\u25cb": "o",
    "\u2191": "^", "\u2193": "v", "\u2190": "<", "\u2192": ">",
    "\u2714": "v", "\u2713": "v", "\u2716": "x", "\u2715": "x",
    "\u23ce": "<",  # return symbol
    "\u00a0": " ",
}


def _box(char: str) -> str:
    name = unicodedata.name(char, "")
    if "DIAGONAL" in name:
        return "X" if "CROSS" in name else ("/" if "UPPER RIGHT TO LOWER LEFT" in name else "\\")
    across = any(word in name for word in ("HORIZONTAL", "LEFT", "RIGHT"))
    down = any(word in name for word in ("VERTICAL", " UP", "DOWN"))
    if across and down:
        return "+"
    return "|" if down else "-"


def _block(char: str) -> str:
    code = ord(char)
    if char in KEEP:
        return char
    if 0x2581 <= code <= 0x2583:  # lower one to three eighths
        return " "
    if 0x2585 <= code <= 0x2587 or 0x2589 <= code <= 0x258B:
        return "\u2588"
    if 0x258D <= code <= 0x258F:
        return "\u258c"
    if code == 0x2594:  # upper one eighth
        return "\u2580"
    if code == 0x2595:  # right one eighth
        return "\u2590"
    return "\u2588"


@lru_cache(4096)
def console_text(text: str) -> str:
    """text with every glyph the console lacks replaced by one of the same width it has."""
    if text.isascii():
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0x2500 <= code <= 0x257F:
            out.append(_box(char))
        elif 0x2580 <= code <= 0x259F:
            out.append(_block(char))
        else:
            out.append(OTHER.get(char, char))
    return "".join(out)


class ConsoleGlyphs(LineFilter):
    """Line filter: box drawing to ASCII, odd blocks to the ones CP437 has."""

    def apply(self, segments: List[Segment], background) -> List[Segment]:
        return [
            Segment(console_text(text), style, control) if not control else Segment(text, style, control)
            for text, style, control in segments
        ]


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _pinyin_run(match: "re.Match[str]") -> str:
    from pypinyin import lazy_pinyin

    text = match.string
    word = "".join(lazy_pinyin(match.group(0)))
    before = " " if match.start() > 0 and text[match.start() - 1].isalnum() else ""
    after = " " if match.end() < len(text) and text[match.end()].isalnum() else ""
    return before + word + after


@lru_cache(4096)
def romanised(text: str) -> str:
    """text with its Chinese written as pinyin ('可口可乐330ml' -> 'Kekoukele 330ml'), full-width signs as ASCII."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", _HAN.sub(_pinyin_run, text))


def on_screen(app: object, text: str) -> str:
    """A product, unit or cashier name as the app's screen can draw it: pinyin where CJK cannot be drawn."""
    return romanised(text) if text and getattr(app, "ascii_only", False) else text


def romanised_receipt(receipt: Any) -> Any:
    """A printing.receipt.Receipt as the Linux console can draw it: English labels, every text in pinyin.

    Laid out after this (not romanised after layout), its columns line up: pinyin is wider than its
    characters' two columns each.
    """
    import dataclasses

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return romanised(value)
        if isinstance(value, tuple):
            return tuple(plain(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: plain(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init})
        return value

    return dataclasses.replace(plain(receipt), language="en")
