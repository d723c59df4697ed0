"""Pinyin search keys for product names, computed once when a product is saved.

``name_keys("可口可乐330ml")`` gives the full pinyin ``kekoukele330ml``, the
initials ``kkkl3``, for names with polyphonic characters the other
plausible initials (``行`` reads xing or hang), and the pinyin and initials
from each later Han syllable on (``koukele330ml``, ``kele330ml``, ``kkl3``,
``kl3``...), so ``kele`` finds the name as ``keko`` does. Everything is
lowercase ASCII so the search can use plain index range scans.

pypinyin spends most of its time converting each word's readings; product
names share words (brands, 可乐, 矿泉水), so readings are cached per word,
which makes a 100,000-row import several times faster than calling
``lazy_pinyin`` per name, with the same result.
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Dict, List, NamedTuple, Tuple

PINYIN_MAX = 255
INITIALS_MAX = 100
#: At most this many alternative initials per name (polyphones multiply).
ALTERNATIVES_MAX = 4
#: A key from a later syllable is cut to this length (the longest syllable, zhuang): names that go on
#: alike share keys, so a batch of new key rows lands on few index pages (whole suffixes made an import
#: batch hold the write lock 4x as long as before, 10 letters 2.3x, 6 letters 2.2x; 30,000 products,
#: loaded 2-core VM); the search checks a longer typed key against the whole pinyin and initials.
SUFFIX_MAX = 6

_WORD = re.compile(r"[0-9a-z]+")


class NameKeys(NamedTuple):
    pinyin: str
    initials: str
    alternatives: Tuple[str, ...]  # other initials readings, never the default one
    #: pinyin and initials (default and alternatives) from each Han syllable after the first one
    suffixes: Tuple[str, ...] = ()


_word_cache: Dict[str, Tuple[str, ...]] = {}
_char_initials: Dict[str, Tuple[str, ...]] = {}
_CACHE_MAX = 200_000


def _segments(name: str) -> List[str]:
    try:
        from pypinyin.seg.simpleseg import seg
    except ImportError:  # an older or newer pypinyin: one segment, no cache benefit
        return [name]
    return list(seg(name))


def _readings(word: str) -> Tuple[str, ...]:
    """Toneless default readings of a Han word (phrase-aware), cached."""
    cached = _word_cache.get(word)
    if cached is None:
        from pypinyin import lazy_pinyin

        cached = tuple(s.lower() for s in lazy_pinyin(word))
        if len(_word_cache) >= _CACHE_MAX:
            _word_cache.clear()
        _word_cache[word] = cached
    return cached


def _initials_of(char: str) -> Tuple[str, ...]:
    """Every distinct initial letter a Han character can be read with."""
    cached = _char_initials.get(char)
    if cached is None:
        from pypinyin.pinyin_dict import pinyin_dict

        letters = []
        for reading in pinyin_dict.get(ord(char), "").split(","):
            plain = unicodedata.normalize("NFKD", reading)
            first = next((c for c in plain if "a" <= c <= "z"), "")
            if first and first not in letters:
                letters.append(first)
        cached = _char_initials[char] = tuple(letters)
    return cached


def name_keys(name: str) -> NameKeys:
    """Full pinyin, initials, alternative initials and keys from later syllables of a name (lowercase ASCII)."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    syllables: List[str] = []
    choices: List[Tuple[str, ...]] = []  # initials per syllable, default first
    han: List[int] = []  # where a Han syllable starts, in syllables
    for index, part in enumerate(_HAN_RUN.split(text)):
        if index % 2:
            run_syllables, run_choices = _han_run(part)
            han.extend(range(len(syllables), len(syllables) + len(run_syllables)))
            syllables.extend(run_syllables)
            choices.extend(run_choices)
            continue
        for word in _WORD.findall(part):
            syllables.append(word)
            choices.append((word[0],))
    pinyin = "".join(syllables)[:PINYIN_MAX]
    initials = "".join(c[0] for c in choices)[:INITIALS_MAX]
    alternatives = _alternatives(choices, initials)
    return NameKeys(pinyin, initials, alternatives, _suffixes(syllables, han, (initials,) + alternatives))


def _suffixes(syllables: List[str], han: List[int], initials: Tuple[str, ...]) -> Tuple[str, ...]:
    """Pinyin and initials from each Han syllable but the first one (a later word in Latin letters
    or digits is found by the name itself)."""
    found: Dict[str, None] = {}
    for start in han:
        if start == 0:
            continue  # the name's own pinyin and initials
        found["".join(syllables[start:])[:SUFFIX_MAX]] = None
        for key in initials:
            if start < len(key):
                found[key[start:start + SUFFIX_MAX]] = None
    return tuple(found)


_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_run_cache: Dict[str, Tuple[Tuple[str, ...], Tuple[Tuple[str, ...], ...]]] = {}


def _han_run(run: str) -> Tuple[Tuple[str, ...], Tuple[Tuple[str, ...], ...]]:
    """Syllables and initials choices of a run of Han characters, cached (brands and words repeat)."""
    cached = _run_cache.get(run)
    if cached is not None:
        return cached
    syllables: List[str] = []
    choices: List[Tuple[str, ...]] = []
    for segment in _segments(run):
        readings = [r for r in _readings(segment) if r.isascii() and r.isalpha()]
        if len(segment) == 1 and len(readings) == 1:
            # A lone character is where pypinyin guesses; a phrase it found in
            # its dictionary (银行, 重庆) is read right, so only lone ones vary.
            first = readings[0][:1]
            syllables.append(readings[0])
            choices.append((first,) + tuple(i for i in _initials_of(segment) if i != first))
            continue
        for reading in readings:
            syllables.append(reading)
            choices.append((reading[:1],))
    if len(_run_cache) >= _CACHE_MAX:
        _run_cache.clear()
    cached = _run_cache[run] = (tuple(syllables), tuple(choices))
    return cached


def _alternatives(choices: List[Tuple[str, ...]], default: str) -> Tuple[str, ...]:
    if all(len(c) == 1 for c in choices):
        return ()
    found: List[str] = []
    for combo in itertools.product(*choices):
        key = "".join(combo)[:INITIALS_MAX]
        if key != default and key.isascii() and key not in found:
            found.append(key)
            if len(found) >= ALTERNATIVES_MAX:
                break
    return tuple(found)


def search_key(text: str) -> str:
    """What a cashier typed, as a pinyin / initials key: lowercase ASCII letters and digits only."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(_WORD.findall(text))
