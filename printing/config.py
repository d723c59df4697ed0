"""Printer settings as a checked value."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, fields
from typing import Any, Mapping

_CHOICES = {
    "bytesize": (5, 6, 7, 8),
    "parity": ("N", "E", "O", "M", "S"),
    "stopbits": (1, 1.5, 2),
    "width": (58, 80),
    "qr": ("native", "image", "none"),
    "confirm": ("epson", "gs_r", "status"),
    "barcode": ("code128", "ean13", "none"),
}


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
    encoding: str = "gb18030"
    qr: str = "native"
    confirm: str = "epson"
    barcode: str = "code128"
    drawer: bool = True
    name: str = "main"
    slack_seconds: float = 3.0

    def __post_init__(self) -> None:
        _check(self)

    @property
    def columns(self) -> int:
        """Characters per line of font A: 32 on 58 mm paper, 48 on 80 mm."""
        return 32 if self.width == 58 else 48

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], name: str = "main") -> "PrinterConfig":
        """Build from a settings table; ValueError with one clear sentence on bad values."""
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(
                "unknown printer setting %r (known: %s)" % (unknown[0], ", ".join(sorted(known)))
            )
        if "port" not in d:
            raise ValueError("printer setting 'port' is missing")
        values = dict(d)
        if isinstance(values.get("parity"), str):
            values["parity"] = values["parity"].upper()
        return cls(name=name, **values)


def _check(c: PrinterConfig) -> None:
    if not isinstance(c.port, str):
        raise ValueError("printer setting 'port' must be a text such as \"/dev/ttyUSB0\"")
    if isinstance(c.baudrate, bool) or not isinstance(c.baudrate, int) or not 300 <= c.baudrate <= 4000000:
        raise ValueError("printer setting 'baudrate' must be a whole number such as 9600 or 115200, not %r" % (c.baudrate,))
    for key, allowed in _CHOICES.items():
        value = getattr(c, key)
        if isinstance(value, bool) or value not in allowed:
            raise ValueError(
                "printer setting %r must be one of %s, not %r" % (key, ", ".join(str(a) for a in allowed), value)
            )
    for key in ("rtscts", "xonxoff", "drawer"):
        if not isinstance(getattr(c, key), bool):
            raise ValueError("printer setting %r must be true or false, not %r" % (key, getattr(c, key)))
    if not isinstance(c.encoding, str):
        raise ValueError("printer setting 'encoding' must be a text such as \"gb18030\"")
    try:
        codecs.lookup(c.encoding)
    except LookupError:
        raise ValueError("printer setting 'encoding' names an unknown encoding %r" % c.encoding) from None
    if isinstance(c.slack_seconds, bool) or not isinstance(c.slack_seconds, (int, float)) or c.slack_seconds <= 0:
        raise ValueError("printer setting 'slack_seconds' must be a positive number of seconds")
