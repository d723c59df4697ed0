"""Printer settings as a checked value: the one place that knows what a printer setting may be."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, fields
from typing import Any, Optional

BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)

_CHOICES = {
    "baudrate": BAUDRATES,
    "bytesize": (5, 6, 7, 8),
    "parity": ("N", "E", "O", "M", "S"),
    "stopbits": (1, 1.5, 2),
    "width": (58, 80),
    "qr": ("native", "image", "none"),
    "confirm": ("epson", "gs_r", "status"),
    "barcode": ("code128", "ean13", "none"),
}
_FLAGS = ("rtscts", "xonxoff", "drawer")
DEFAULT_ENCODING = "gb18030"


def known_encoding(name: str) -> bool:
    """A text encoding Python knows. The default's codec is not loaded to say so (~1.5 ms of the till's start-up):
    it loads with the first receipt, after the first frame."""
    if name == DEFAULT_ENCODING:
        return True
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


class ConfigError(ValueError):
    """A printer setting with a value it cannot take; ``key`` and ``problem`` ("must be ...") apart."""

    def __init__(self, key: str, problem: str, value: Any):
        super().__init__(f"printer setting {key!r} {problem}, not {value!r}")
        self.key, self.problem, self.value = key, problem, value


def problem(key: str, value: Any) -> Optional[str]:
    """What is wrong with ``value`` for printer setting ``key`` ("must be ..."), or None."""
    if key in ("port", "encoding") and not isinstance(value, str):
        return "must be text in quotes"
    if key in _FLAGS:
        return None if isinstance(value, bool) else "must be true or false"
    if key == "encoding" and not known_encoding(value):
        return "must be a text encoding Python knows, such as \"gb18030\""
    if key == "slack_seconds" and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        return "must be a positive number of seconds"
    choices = _CHOICES.get(key)
    if choices is None:
        return None
    numbers = all(isinstance(c, (int, float)) for c in choices)
    if numbers and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "must be a whole number" if all(isinstance(c, int) for c in choices) else "must be a number"
    if not numbers and not isinstance(value, str):
        return "must be text in quotes"
    # 9600.0 equals 9600 but is not what a settings file should say; compare types too.
    if not any(value == c and type(value) is type(c) for c in choices):
        return "must be one of " + ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in choices)
    return None


@dataclass(frozen=True)
class PrinterConfig:
    """One serial ESC/POS printer. ``slack_seconds`` is the fixed part of the job deadline."""

    port: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    rtscts: bool = False
    xonxoff: bool = False
    width: int = 80
    encoding: str = DEFAULT_ENCODING
    qr: str = "native"
    confirm: str = "epson"
    barcode: str = "code128"
    drawer: bool = True
    name: str = "main"
    slack_seconds: float = 3.0

    def __post_init__(self) -> None:
        for f in fields(self):
            wrong = problem(f.name, getattr(self, f.name))
            if wrong:
                raise ConfigError(f.name, wrong, getattr(self, f.name))

    @property
    def columns(self) -> int:
        """Characters per line of font A: 32 on 58 mm paper, 48 on 80 mm."""
        return 32 if self.width == 58 else 48


def setting_keys() -> tuple:
    """The keys a settings file may give a printer (all fields but the name and the deadline slack)."""
    return tuple(f.name for f in fields(PrinterConfig) if f.name not in ("name", "slack_seconds"))
