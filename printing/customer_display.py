"""The customer display (客显) on a serial port: byte builders, a transport that never blocks, a virtual one.

Two kinds are common at Chinese counters:

- ``led8``: an 8-digit LED price display with lamps. ``ESC s n`` lights one
  lamp (n = '0' none, '1' price 单价, '2' total 总计, '3' paid 收款,
  '4' change 找零); ``ESC Q A digits CR`` shows the digits ('.' is the
  decimal point and takes no digit).
- ``vfd2x20``: a 2x20 VFD speaking the CD5220 command set: ``ESC @`` init,
  ``0C`` clear, ``ESC Q A text CR`` upper line, ``ESC Q B text CR`` lower
  line. Text in the display's encoding (GB18030, or ASCII only).

The builders are pure (plain values in, bytes out). ``Display`` sends them on
its own daemon thread, newest picture only, with a write timeout: a display
that is missing or stops reading never blocks or slows a sale.
"""
from __future__ import annotations

import logging
import os
import threading
import unicodedata
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

from printing.encode import printable

log = logging.getLogger("chaoying.printing.customer_display")

KINDS = ("none", "led8", "vfd2x20")
ESC = b"\x1b"
CLEAR = b"\x0c"
INIT = ESC + b"@"
LAMPS = {"none": b"0", "price": b"1", "total": b"2", "paid": b"3", "change": b"4"}
LED_DIGITS = 8
VFD_COLUMNS = 20
# What the customer reads on a VFD, in Chinese or English (a display that takes ASCII only gets English).
LABELS = {
    "zh": {"price": "单价", "total": "合计", "paid": "收款", "change": "找零", "welcome": "欢迎光临"},
    "en": {"price": "Price", "total": "Total", "paid": "Paid", "change": "Change", "welcome": "Welcome"},
}
WRITE_TIMEOUT = 0.5  # seconds: a display that stops reading gives up its picture, never the till


@dataclass(frozen=True)
class DisplayConfig:
    """[display]: which customer display, on which serial port."""

    kind: str = "none"
    port: str = ""
    baudrate: int = 9600
    encoding: str = "gb18030"
    language: str = "zh"


def amount(fen: int) -> str:
    """12345 -> '123.45' (no sign, no separators: what a display can show)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


# ---------------------------------------------------------------- LED 8 digits

def led_digits(fen: int) -> str:
    """The amount as the 8 digits can show it: fen dropped when it does not fit."""
    text = amount(fen)
    if sum(ch.isdigit() for ch in text) > LED_DIGITS:
        text = text.split(".")[0][-LED_DIGITS:]
    return text


def led_bytes(lamp: str, fen: int) -> bytes:
    """Light one lamp and show one amount: ESC s n, ESC Q A digits CR."""
    return ESC + b"s" + LAMPS[lamp] + ESC + b"QA" + led_digits(fen).encode("ascii") + b"\r"


# ---------------------------------------------------------------- VFD 2x20

def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WFA" else 1


def fit(text: str, columns: int = VFD_COLUMNS) -> str:
    """Cut or pad text to exactly ``columns`` columns (CJK characters take two)."""
    out, used = "", 0
    for ch in text:
        if used + _width(ch) > columns:
            break
        out += ch
        used += _width(ch)
    return out + " " * (columns - used)


def spread(left: str, right: str, columns: int = VFD_COLUMNS) -> str:
    """left at the start, right at the end of one line."""
    gap = columns - sum(map(_width, left)) - sum(map(_width, right))
    return fit(left + " " * max(1, gap) + right, columns)


def encode_line(text: str, encoding: str) -> bytes:
    """One line in the display's encoding; what it cannot show becomes '?', padded to 20 bytes."""
    data = fit(printable(text)).encode(encoding, errors="replace")
    return data[:VFD_COLUMNS].ljust(VFD_COLUMNS, b" ")


def vfd_bytes(upper: str, lower: str, encoding: str) -> bytes:
    """Both lines of a CD5220 VFD: ESC Q A upper CR, ESC Q B lower CR."""
    return (ESC + b"QA" + encode_line(upper, encoding) + b"\r"
            + ESC + b"QB" + encode_line(lower, encoding) + b"\r")


def labels(config: DisplayConfig) -> dict:
    """Chinese labels when the display can show them, else English."""
    try:
        "单价".encode(config.encoding)
    except (UnicodeEncodeError, LookupError):
        return LABELS["en"]
    return LABELS.get(config.language, LABELS["zh"])


# ---------------------------------------------------------------- what each moment shows

def item_bytes(config: DisplayConfig, name: str, price_fen: int) -> bytes:
    if config.kind == "led8":
        return led_bytes("price", price_fen)
    return vfd_bytes(name, spread(labels(config)["price"], amount(price_fen)), config.encoding)


def total_bytes(config: DisplayConfig, total_fen: int) -> bytes:
    if config.kind == "led8":
        return led_bytes("total", total_fen)
    return vfd_bytes(labels(config)["total"], spread("", amount(total_fen)), config.encoding)


def paid_change_bytes(config: DisplayConfig, paid_fen: int, change_fen: int) -> bytes:
    if config.kind == "led8":
        # one number at a time: the change is what the customer waits for, so it stays lit
        return led_bytes("paid", paid_fen) + led_bytes("change", change_fen)
    words = labels(config)
    return vfd_bytes(spread(words["paid"], amount(paid_fen)), spread(words["change"], amount(change_fen)),
                     config.encoding)


def welcome_bytes(config: DisplayConfig) -> bytes:
    """No basket: no lamp and 0.00 (LED), the welcome (VFD)."""
    if config.kind == "led8":
        return ESC + b"s" + LAMPS["none"] + ESC + b"QA" + b"0.00\r"
    return CLEAR + vfd_bytes(labels(config)["welcome"], "", config.encoding)


def start_bytes(config: DisplayConfig) -> bytes:
    """Sent each time the port is opened: init and a blank (or welcome) picture."""
    return INIT + welcome_bytes(config)


# ---------------------------------------------------------------- the transport

class Display:
    """The till's customer display: show_*() return at once; a daemon thread writes the newest picture.

    ``on_trouble(detail)`` is called (on the display thread) once when the display stops working,
    and again only after it has worked in between. ``shown`` is the last picture the thread handed on.
    """

    def __init__(self, config: DisplayConfig, on_trouble: Optional[Callable[[str], object]] = None) -> None:
        self.config = config
        self.on_trouble = on_trouble
        self.failed = False
        self._next: Optional[bytes] = None
        self._cond = threading.Condition()
        self._stop = False
        self._serial = None  # type: ignore[var-annotated]
        self._thread: Optional[threading.Thread] = None

    @property
    def enabled(self) -> bool:
        return self.config.kind in ("led8", "vfd2x20")

    def start(self) -> "Display":
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="customer-display", daemon=True)
            self._thread.start()
            self._put(b"")  # open the port now: the customer sees the welcome before the first scan
        return self

    def stop(self) -> None:
        """Ask the thread to close the port and end; never waits for it (it may be stuck in a write)."""
        with self._cond:
            self._stop = True
            self._cond.notify()

    def show_item(self, name: str, price_fen: int) -> None:
        """A line was added: its name and price."""
        if self.enabled:
            self._put(item_bytes(self.config, name, price_fen))

    def show_total(self, total_fen: int) -> None:
        """F12: the amount to pay."""
        if self.enabled:
            self._put(total_bytes(self.config, total_fen))

    def show_welcome(self) -> None:
        """No basket (cancelled, held, emptied): no figures of one that is gone."""
        if self.enabled:
            self._put(welcome_bytes(self.config))

    def show_paid_change(self, paid_fen: int, change_fen: int) -> None:
        """The sale is paid: what the customer gave and the change."""
        if self.enabled:
            self._put(paid_change_bytes(self.config, paid_fen, change_fen))

    def _put(self, data: bytes) -> None:
        with self._cond:
            self._next = data  # only the newest picture matters
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._next is not None)
                if self._stop:
                    self._close()
                    return
                data, self._next = self._next, None
            try:
                self._send(data or b"")
            except Exception as exc:  # the display never stops a sale: log, say once, try again next picture
                self._close()
                if not self.failed:
                    self.failed = True
                    log.warning("customer display on %s: %s", self.config.port, exc)
                    if self.on_trouble is not None:
                        self.on_trouble(str(exc))
            else:
                if self.failed:
                    log.info("customer display on %s works again", self.config.port)
                self.failed = False

    def _send(self, data: bytes) -> None:
        if self._serial is None:
            self._open()
            data = start_bytes(self.config) + data
        if data:
            self._serial.write(data)  # type: ignore[attr-defined]

    def _open(self) -> None:
        import serial

        port = self.config.port
        if not port or not os.path.exists(port):
            raise OSError(f"port {port or '(none)'} not found")
        s = serial.Serial()
        s.port = port
        s.baudrate = self.config.baudrate
        s.timeout = 0
        s.write_timeout = WRITE_TIMEOUT  # never None: a stuck port would block the display thread forever
        s.open()
        self._serial = s

    def _close(self) -> None:
        s, self._serial = self._serial, None
        if s is None:
            return
        try:
            s.reset_output_buffer()
            s.close()
        except Exception:  # the port may be gone already
            pass


# ---------------------------------------------------------------- reading the bytes back

@dataclass
class Screen:
    """What the customer sees: the lit lamp and digits (LED) or two lines (VFD)."""

    lamp: str = "none"
    digits: str = ""
    upper: str = ""
    lower: str = ""


def decode(data: bytes, screen: Screen, encoding: str = "gb18030") -> Tuple[Screen, bytes]:
    """Apply every whole command in data to screen; returns it and the unfinished tail."""
    names = {v: k for k, v in LAMPS.items()}
    i = 0
    while i < len(data):
        if data[i:i + 1] == CLEAR:
            screen.upper = screen.lower = screen.digits = ""
            i += 1
        elif data[i:i + 2] == INIT:
            screen.lamp, screen.upper, screen.lower, screen.digits = "none", "", "", ""
            i += 2
        elif data[i:i + 2] == ESC + b"s":
            if i + 3 > len(data):
                break
            screen.lamp = names.get(data[i + 2:i + 3], "none")
            i += 3
        elif data[i:i + 2] == ESC + b"Q":
            end = data.find(b"\r", i)
            if end < 0 or i + 3 > len(data):
                break
            text = data[i + 3:end].decode(encoding, errors="replace")
            row = data[i + 2:i + 3]
            if row == b"A":
                screen.upper = text
                screen.digits = text
            elif row == b"B":
                screen.lower = text
            i = end + 1
        elif data[i:i + 1] == ESC and i + 1 >= len(data):
            break
        else:
            i += 1  # a byte we do not speak: ignore, as a real display does
    return screen, data[i:]


def shown(screen: Screen, kind: str) -> str:
    """One line saying what the display shows (for the demo strip and the tests)."""
    if kind == "led8":
        return f"[{screen.lamp}] {screen.digits}"
    return f"{screen.upper} | {screen.lower}"


class VirtualDisplay:
    """A customer display on a pty (its device linked at ``link``): decodes what it is sent.

    ``stalled = True`` makes it stop reading, like a display whose line hangs.
    """

    def __init__(self, link: str, kind: str = "vfd2x20", encoding: str = "gb18030",
                 on_change: Optional[Callable[[Screen], None]] = None) -> None:
        self.link = link
        self.kind = kind
        self.encoding = encoding
        self.on_change = on_change
        self.screen = Screen()
        self.history: List[str] = []  # every picture shown, oldest first
        self.stalled = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._master = self._slave = -1
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "VirtualDisplay":
        import tty

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self._slave), self.link)
        self._thread = threading.Thread(target=self._loop, name="virtual-display", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            if os.path.islink(self.link):
                os.unlink(self.link)
        except OSError:
            pass

    def text(self) -> str:
        with self._cond:
            return shown(self.screen, self.kind)

    def wait_for(self, predicate: Callable[["VirtualDisplay"], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def _loop(self) -> None:
        import select

        tail = b""
        while not self._stop.is_set():
            if self.stalled:
                self._stop.wait(0.05)
                continue
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                self._stop.wait(0.05)
                continue
            with self._cond:
                self.screen, tail = decode(tail + data, self.screen, self.encoding)
                picture = shown(self.screen, self.kind)
                if not self.history or self.history[-1] != picture:
                    self.history.append(picture)
                self._cond.notify_all()
            if self.on_change is not None:
                self.on_change(self.screen)
