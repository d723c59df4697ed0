"""Is a screen in one language? Data (product names, the shop's name, receipt text) aside.

English is what the Linux console shows: no CJK may come from the till's own
words there. Chinese screens may not show English sentences of the catalogue
(a key missing in Chinese falls back to English) or other English words that
are not data or key names.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, List

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Words that are the same in both languages: key names, codes, the format hints.
SHARED_WORDS = {"enter", "pgup", "pgdn", "plu", "kekou", "kkkl", "down", "left", "right", "demo",
                "chaoying",
                "kele"}  # typed into the search in a test
FIXTURE_DATA = ["超赢小店"]  # the shop name of the tests' fixed receipt


def screen_lines(app) -> List[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def data_strings(app) -> List[str]:
    """Text on screen that comes from the shop, not the till: products, units, shop, receipts."""
    from tui.demo import CATALOGUE

    found = [app.settings.shop.name] + FIXTURE_DATA
    for row in CATALOGUE:
        found += [str(part) for part in row[1:] if isinstance(part, str)]
    return [text for text in found if text]


def _strip_data(text: str, data: Iterable[str]) -> str:
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
        for word in item.split():  # names cut short by a column: drop their words one by one
            if len(word) > 1:
                text = text.replace(word, " ")
    return text


def receipt_line(line: str) -> bool:
    """A line of a laid-out receipt (the handwritten copy, the paper view): the receipt's language, not the UI's."""
    return bool(re.search(r"(单号|收银台|收银员|时间|品名|合计|现金|找零|谢谢惠顾|^\s*-{10,}\s*$)", line))


def assert_one_language(app, language: str, data: Iterable[str] = ()) -> None:
    from tui.i18n import CATALOGUES

    data = list(data) + data_strings(app)
    lines = [line for line in screen_lines(app) if not receipt_line(line)]
    text = _strip_data("\n".join(lines), data)
    if language == "en":
        stray = sorted(set(CJK.findall(text)))
        assert not stray, f"Chinese on an English screen: {stray}\n{text}"
        return
    for key, value in CATALOGUES["en"].items():
        if " " in value.strip() and len(value) > 12 and "{" not in value and value in text:
            assert value == CATALOGUES["zh"][key], f"English catalogue text {value!r} ({key}) on a Chinese screen"
    words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)} - SHARED_WORDS
    assert not words, f"English words on a Chinese screen: {sorted(words)}\n{text}"


def console_drawable(text: str) -> bool:
    return not any(unicodedata.east_asian_width(c) in "WF" for c in text)
