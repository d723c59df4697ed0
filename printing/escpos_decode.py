"""Decode the ESC/POS subset Chaoying sends, for the virtual printer.

Two parts: `next_command()` cuts one command off a byte buffer (or says it
needs more bytes), and `Paper` renders commands into plain text lines the
way a thermal printer would lay them out on the roll. Unknown commands are
skipped without losing sync where their length is known; anything else is
skipped one byte at a time, like a real printer ignoring junk.
"""
from __future__ import annotations

import codecs
import unicodedata
from typing import Any, List, NamedTuple, Optional, Tuple

ESC = 0x1B
GS = 0x1D
FS = 0x1C
DLE = 0x10

# A declared length above this is garbage, not an image: skip the header only.
MAX_BLOCK = 4 * 1024 * 1024


class Command(NamedTuple):
    """One decoded command: `kind` names it, `arg` carries its parameters."""

    kind: str
    arg: Any  # shape depends on kind: bytes, an int, a tuple of parameters
    raw: bytes


# Fixed parameter counts for ESC x / GS x / FS x commands that we only skip
# (or read one or two numbers from).
_ESC_FIXED = {
    0x0C: 0, 0x20: 1, 0x21: 1, 0x24: 2, 0x25: 1, 0x2B: 1, 0x2D: 1, 0x32: 0,
    0x33: 1, 0x3D: 1, 0x3F: 1, 0x40: 0, 0x41: 1, 0x42: 2, 0x45: 1, 0x47: 1,
    0x4A: 1, 0x4B: 1, 0x4C: 0, 0x4D: 1, 0x52: 1, 0x53: 0, 0x54: 1, 0x55: 1,
    0x56: 1, 0x57: 8, 0x5C: 2, 0x61: 1, 0x63: 2, 0x64: 1, 0x65: 1, 0x69: 0,
    0x6D: 0, 0x70: 3, 0x72: 1, 0x74: 1, 0x75: 1, 0x76: 0, 0x7B: 1,
}
_GS_FIXED = {
    0x21: 1, 0x24: 2, 0x2F: 1, 0x3A: 0, 0x42: 1, 0x48: 1, 0x49: 1, 0x4C: 2,
    0x50: 2, 0x54: 1, 0x57: 2, 0x5C: 2, 0x5E: 3, 0x61: 1, 0x62: 1, 0x66: 1,
    0x68: 1, 0x72: 1, 0x77: 1, 0x7C: 1,
}
_FS_FIXED = {
    0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2,
}

BARCODE_NAMES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF",
    6: "CODABAR", 65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8",
    69: "CODE39", 70: "ITF", 71: "CODABAR", 72: "CODE93", 73: "CODE128",
    74: "GS1-128", 75: "GS1 DATABAR", 76: "GS1 DATABAR", 77: "GS1 DATABAR",
    78: "GS1 DATABAR",
}

DRAWER_NOTE = "[DRAWER]"

CODEPAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
             16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858"}


def _u16(buf: bytes, i: int) -> int:
    return buf[i] | (buf[i + 1] << 8)


def next_command(buf: bytes, i: int) -> Optional[Tuple[Command, int]]:
    """Decode the command starting at buf[i]; None when more bytes are needed.

    Returns (command, end) with end > i.
    """
    n = len(buf)
    b = buf[i]
    if b >= 0x20 or b == 0x7F:
        j = i + 1
        while j < n and buf[j] >= 0x20:
            j += 1
        return Command("text", buf[i:j], buf[i:j]), j
    if b == 0x0A:
        return Command("lf", None, buf[i:i + 1]), i + 1
    if b == 0x09:
        return Command("ht", None, buf[i:i + 1]), i + 1
    if b in (ESC, GS, FS, DLE):
        if i + 1 >= n:
            return None
        return _prefixed(buf, i)
    # CR, FF, BEL, NUL, CAN and other lone controls: nothing to print.
    return Command("skip", None, buf[i:i + 1]), i + 1


def _fixed(buf: bytes, i: int, count: int, kind: str) -> Optional[Tuple[Command, int]]:
    end = i + 2 + count
    if end > len(buf):
        return None
    params = tuple(buf[i + 2:end])
    return Command(kind, params, buf[i:end]), end


def _block(buf: bytes, i: int, header: int, length: int, kind: str, arg=None):
    """A command of `header` bytes followed by `length` data bytes."""
    if length > MAX_BLOCK:
        return Command("skip", None, buf[i:i + header]), i + header
    end = i + header + length
    if end > len(buf):
        return None
    return Command(kind, arg, buf[i:end]), end


def _prefixed(buf: bytes, i: int) -> Optional[Tuple[Command, int]]:
    lead, op = buf[i], buf[i + 1]
    if lead == DLE:
        return _dle(buf, i, op)
    if lead == ESC:
        return _esc(buf, i, op)
    if lead == GS:
        return _gs(buf, i, op)
    return _fs(buf, i, op)


def _dle(buf: bytes, i: int, op: int):
    if op in (0x04, 0x05):
        got = _fixed(buf, i, 1, "status" if op == 0x04 else "skip")
        if got is None:
            return None
        cmd, end = got
        return Command(cmd.kind, cmd.arg[0], cmd.raw), end
    if op == 0x14:  # DLE DC4 fn ...
        if i + 2 >= len(buf):
            return None
        fn = buf[i + 2]
        extra = {1: 2, 2: 2, 7: 1, 8: 7}.get(fn, 0)
        got = _fixed(buf, i, 1 + extra, "skip")
        if got is None:
            return None
        cmd, end = got
        if fn == 1:  # real-time pulse: a drawer kick
            return Command("drawer", cmd.arg[1] if len(cmd.arg) > 1 else 0, cmd.raw), end
        return cmd, end
    return Command("skip", None, buf[i:i + 1]), i + 1


def _esc(buf: bytes, i: int, op: int):
    n = len(buf)
    if op == 0x40:
        return Command("init", None, buf[i:i + 2]), i + 2
    if op in (0x69, 0x6D):
        return Command("cut", None, buf[i:i + 2]), i + 2
    if op == 0x2A:  # ESC * m nL nH d1..dk: column bit image
        if i + 5 > n:
            return None
        m, cols = buf[i + 2], _u16(buf, i + 3)
        per_col = 3 if m in (32, 33) else 1
        return _block(buf, i, 5, cols * per_col, "column_image", (cols, per_col * 8))
    if op == 0x44:  # ESC D n1..nk NUL: tab positions
        j = i + 2
        while j < n and buf[j] != 0 and j - i < 40:
            j += 1
        if j >= n:
            return None
        return Command("skip", None, buf[i:j + 1]), j + 1
    if op == 0x26:  # ESC & y c1 c2 [x d1..d(y*x)]...: user-defined characters
        return _user_chars(buf, i)
    if op == 0x28:  # ESC ( fn pL pH data
        if i + 5 > n:
            return None
        return _block(buf, i, 5, _u16(buf, i + 3), "skip")
    if op in _ESC_FIXED:
        got = _fixed(buf, i, _ESC_FIXED[op], "skip")
        if got is None:
            return None
        cmd, end = got
        kind = {0x45: "bold", 0x47: "bold", 0x21: "mode", 0x61: "align", 0x4D: "font",
                0x74: "codepage", 0x64: "feed", 0x70: "drawer"}.get(op, "skip")
        arg = cmd.arg[0] if cmd.arg else None
        return Command(kind, arg, cmd.raw), end
    return Command("skip", None, buf[i:i + 2]), i + 2


def _user_chars(buf: bytes, i: int):
    n = len(buf)
    if i + 5 > n:
        return None
    y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
    j = i + 5
    for _ in range(max(0, c2 - c1 + 1)):
        if j >= n:
            return None
        j += 1 + y * buf[j]
    if j > n:
        return None
    return Command("skip", None, buf[i:j]), j


def _gs(buf: bytes, i: int, op: int):
    n = len(buf)
    if op == 0x28:  # GS ( fn pL pH ...
        if i + 5 > n:
            return None
        fn, length = buf[i + 2], _u16(buf, i + 3)
        got = _block(buf, i, 5, length, "skip")
        if got is None:
            return None
        cmd, end = got
        body = cmd.raw[5:]
        if fn == 0x6B and len(body) >= 2:
            return Command("2d", (body[0], body[1], body[2:]), cmd.raw), end
        if fn == 0x48 and len(body) >= 2:
            return Command("gs_h", (body[0], body[1], body[2:]), cmd.raw), end
        if fn == 0x4C and len(body) >= 2:
            return Command("graphics", (body[1], body[2:]), cmd.raw), end
        return cmd, end
    if op == 0x38:  # GS 8 L p1 p2 p3 p4 m fn ...: graphics, 4-byte length
        if i + 7 > n:
            return None
        length = buf[i + 3] | buf[i + 4] << 8 | buf[i + 5] << 16 | buf[i + 6] << 24
        got = _block(buf, i, 7, length, "skip")
        if got is None:
            return None
        cmd, end = got
        body = cmd.raw[7:]
        if buf[i + 2] == 0x4C and len(body) >= 2:
            return Command("graphics", (body[1], body[2:]), cmd.raw), end
        return cmd, end
    if op == 0x56:  # GS V m [n]: cut
        if i + 3 > n:
            return None
        m = buf[i + 2]
        size = 4 if m in (65, 66, 97, 98, 103, 104) else 3
        if i + size > n:
            return None
        return Command("cut", m, buf[i:i + size]), i + size
    if op == 0x6B:  # GS k: barcode
        return _barcode(buf, i)
    if op == 0x76:  # GS v 0 m xL xH yL yH d1..dk: raster image
        if i + 8 > n:
            return None
        if buf[i + 2] != 0x30:
            return Command("skip", None, buf[i:i + 3]), i + 3
        xbytes, rows = _u16(buf, i + 4), _u16(buf, i + 6)
        return _block(buf, i, 8, xbytes * rows, "raster", (xbytes * 8, rows))
    if op == 0x2A:  # GS * x y d1..d(x*y*8): downloaded bit image
        if i + 4 > n:
            return None
        return _block(buf, i, 4, buf[i + 2] * buf[i + 3] * 8, "skip")
    if op == 0x67:  # GS g 0 / GS g 2: maintenance counters
        got = _fixed(buf, i, 4, "skip")
        return got
    if op in _GS_FIXED:
        got = _fixed(buf, i, _GS_FIXED[op], "skip")
        if got is None:
            return None
        cmd, end = got
        kind = {0x21: "size", 0x72: "gs_r", 0x49: "gs_i"}.get(op, "skip")
        arg = cmd.arg[0] if cmd.arg else None
        return Command(kind, arg, cmd.raw), end
    return Command("skip", None, buf[i:i + 2]), i + 2


def _barcode(buf: bytes, i: int):
    n = len(buf)
    if i + 3 > n:
        return None
    m = buf[i + 2]
    if m <= 6:  # function A: data ends with NUL
        j = i + 3
        while j < n and buf[j] != 0 and j - i < 300:
            j += 1
        if j >= n:
            return None
        return Command("barcode", (m, buf[i + 3:j]), buf[i:j + 1]), j + 1
    if i + 4 > n:
        return None
    end = i + 4 + buf[i + 3]
    if end > n:
        return None
    return Command("barcode", (m, buf[i + 4:end]), buf[i:end]), end


def _fs(buf: bytes, i: int, op: int):
    n = len(buf)
    if op == 0x26:
        return Command("cn_on", None, buf[i:i + 2]), i + 2
    if op == 0x2E:
        return Command("cn_off", None, buf[i:i + 2]), i + 2
    if op == 0x32:  # FS 2 c1 c2 d1..d72: user-defined Kanji
        return _block(buf, i, 4, 72, "skip")
    if op == 0x28:  # FS ( fn pL pH data
        if i + 5 > n:
            return None
        return _block(buf, i, 5, _u16(buf, i + 3), "skip")
    if op in _FS_FIXED:
        got = _fixed(buf, i, _FS_FIXED[op], "skip")
        if got is None:
            return None
        cmd, end = got
        kind = {0x21: "cn_mode", 0x57: "cn_quad"}.get(op, "skip")
        arg = cmd.arg[0] if cmd.arg else None
        return Command(kind, arg, cmd.raw), end
    return Command("skip", None, buf[i:i + 2]), i + 2


def code128_text(data: bytes) -> str:
    """Human-readable CODE128 data: drop code-set selectors ({A {B {C)."""
    out = []
    j = 0
    while j < len(data):
        if data[j] == 0x7B and j + 1 < len(data):  # "{"
            nxt = data[j + 1]
            if nxt == 0x7B:
                out.append("{")
            elif nxt == 0x43:  # code set C: pairs of digits, one byte each
                j += 2
                while j < len(data) and data[j] != 0x7B:
                    out.append("%02d" % data[j])
                    j += 1
                continue
            j += 2
            continue
        out.append(chr(data[j]))
        j += 1
    return "".join(out)


class Paper:
    """The roll: renders text and commands into lines, like the print head would.

    `columns` is the Font A width in characters (48 for 80 mm, 32 for 58 mm);
    one CJK character takes two columns, GS ! / ESC ! widths multiply.
    """

    def __init__(self, columns: int = 48):
        self.columns = columns
        self.lines: List[str] = []
        self._line: List[Tuple[str, int]] = []
        self.reset()

    def reset(self) -> None:
        """ESC @: back to power-on modes (printed lines stay on the roll)."""
        if not self.has_content():
            self.lines = []  # only feeds or drawer notes: nothing visible on the roll
        self.chinese = False
        self.codepage = "cp437"
        self.align = 0
        self.font_b = False
        self.ascii_mult = 1
        self.cjk_mult = 1
        self.bold = False
        self._decoder = codecs.getincrementaldecoder(self.codepage)("replace")
        self._line = []  # (character, width in columns) of the line being printed
        self._used = 0

    # -- state changes -------------------------------------------------
    def set_chinese(self, on: bool) -> None:
        self._flush_decoder()
        self.chinese = on
        self._decoder = codecs.getincrementaldecoder(self._encoding())("replace")

    def set_codepage(self, n: int) -> None:
        self._flush_decoder()
        self.codepage = CODEPAGES.get(n, "cp437")
        self._decoder = codecs.getincrementaldecoder(self._encoding())("replace")

    def _encoding(self) -> str:
        return "gb18030" if self.chinese else self.codepage

    def set_size(self, n: int) -> None:  # GS ! n: applies to CJK too
        self.ascii_mult = self.cjk_mult = ((n >> 4) & 7) + 1

    def set_mode(self, n: int) -> None:  # ESC ! n: ASCII only
        self.font_b = bool(n & 0x01)
        self.bold = bool(n & 0x08)
        self.ascii_mult = 2 if n & 0x20 else 1

    def set_cjk_mode(self, n: int) -> None:  # FS ! n
        self.cjk_mult = 2 if n & 0x04 else 1

    # -- printing --------------------------------------------------------
    def text(self, data: bytes) -> None:
        self._put(self._decoder.decode(data))

    def _flush_decoder(self) -> None:
        self._put(self._decoder.decode(b"", True))

    def _char_width(self, ch: str) -> int:
        if self.chinese and ord(ch) > 0x7F:
            return 2 * self.cjk_mult
        if unicodedata.combining(ch):
            return 0
        return self.ascii_mult

    def _put(self, s: str) -> None:
        limit = self._limit()
        for ch in s:
            if ch in "\r\x00":
                continue
            w = self._char_width(ch)
            if self._used + w > limit and self._line:
                self._end_line()  # the print head wraps a full line
            self._line.append((ch, w))
            self._used += w

    def _limit(self) -> int:
        # Font B fits 4/3 as many ASCII characters; count in Font A units.
        return self.columns * 4 // 3 if self.font_b else self.columns

    def tab(self) -> None:
        self._flush_decoder()
        pad = 8 - (self._used % 8)
        self._put(" " * pad)

    def lf(self) -> None:
        self._flush_decoder()
        self._end_line()

    def feed(self, n: int) -> None:
        """ESC d n: print the buffer and feed n lines."""
        self._flush_decoder()
        if self._line:
            self._end_line()
            n -= 1
        for _ in range(max(0, n)):
            self.lines.append("")

    def _end_line(self) -> None:
        cells = list(self._line)
        while cells and cells[-1][0] == " ":
            cells.pop()
        text = "".join(ch for ch, _ in cells)
        free = max(0, self._limit() - sum(w for _, w in cells))
        if self.align == 1 and text:
            text = " " * (free // 2) + text
        elif self.align == 2 and text:
            text = " " * free + text
        self.lines.append(text)
        self._line = []
        self._used = 0

    def note(self, tag: str) -> None:
        """A non-text element (QR, barcode, image): one readable line."""
        self._flush_decoder()
        if self._line:
            self._end_line()
        self.lines.append(tag)

    def has_content(self) -> bool:
        """True once something visible is on the roll (a drawer note is not)."""
        return bool(getattr(self, "_line", None)) or any(
            line.strip() and line != DRAWER_NOTE for line in self.lines
        )

    def tear_off(self) -> str:
        """The cut: return the receipt's text and start a fresh one."""
        self._flush_decoder()
        if self._line:
            self._end_line()
        lines = [line.rstrip() for line in self.lines]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        visible = self.has_content()
        self.lines = []
        return "\n".join(lines) + "\n" if visible else ""
