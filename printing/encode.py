"""ESC/POS bytes for a receipt, built with python-escpos (imported lazily).

Text is encoded here, never by python-escpos: its text() may send ESC t,
which breaks Chinese under FS &. Sizes use GS ! because ESC ! does not
apply to Kanji (Chinese) characters.
"""
from __future__ import annotations

import codecs
import copy
import logging
import os
from typing import Any, Optional

from printing.config import PrinterConfig
from printing.layout import blocks, text_width
from printing.receipt import Receipt

log = logging.getLogger("chaoying.printing.encode")

ESC_INIT = b"\x1b@"
FS_KANJI_ON = b"\x1c&"
FS_KANJI_OFF = b"\x1c."
GS_SIZE = b"\x1d!"
BOLD = {False: b"\x1bE\x00", True: b"\x1bE\x01"}
ALIGN = {"left": b"\x1ba\x00", "center": b"\x1ba\x01"}

# Double-byte encodings that need Kanji mode (FS &) on the printer.
_CJK_CODECS = {"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp936", "cp950", "hz"}
# Dots across the printable width (203 dpi heads), for image QR codes.
_DOTS = {58: 384, 80: 576}

_escpos_ready = False


def escpos_module() -> Any:
    """Import python-escpos with its capability cache in our cache dir and its log handler removed."""
    global _escpos_ready
    if not _escpos_ready:
        import platformdirs

        cache = os.path.join(platformdirs.user_cache_dir("chaoying"), "escpos")
        os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", cache)
        try:
            os.makedirs(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"], exist_ok=True)
        except OSError:
            os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = _tmp_cache()
        _write_capability_cache(os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"])
        root = logging.getLogger()
        before = list(root.handlers)
        import escpos.printer  # noqa: F401  (escpos calls logging.basicConfig())

        for handler in list(root.handlers):
            if handler not in before and type(handler) is logging.StreamHandler:
                root.removeHandler(handler)
        _escpos_ready = True
    import escpos

    return escpos


def _write_capability_cache(folder: str) -> None:
    """Write python-escpos's capability pickle whole, before python-escpos looks for it.

    python-escpos writes that file in place when it is missing or older than
    its capabilities.json, so a second process starting at the same moment (a
    till and a CLI command, or test workers) can read it half-written and fail
    to import. Written here to a temporary name and renamed, it is never seen
    half-written, and python-escpos finds it fresh and only reads it. A file
    that does not load (left by an older crash) is written again.
    """
    import importlib.util
    import pickle
    import platform

    spec = importlib.util.find_spec("escpos")
    if spec is None or spec.origin is None:
        return
    source = os.environ.get("ESCPOS_CAPABILITIES_FILE") or os.path.join(
        os.path.dirname(spec.origin), "capabilities.json")
    target = os.path.join(folder, "%s.capabilities.pickle" % platform.python_version())
    try:
        if os.path.getmtime(target) >= os.path.getmtime(source):
            with open(target, "rb") as cached:
                pickle.load(cached)
            return
    except (OSError, EOFError, pickle.UnpicklingError, ValueError):
        pass
    try:
        import yaml

        with open(source, encoding="utf-8") as raw:
            capabilities = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        temporary = "%s.%d.tmp" % (target, os.getpid())
        with open(temporary, "wb") as out:
            pickle.dump(capabilities, out, protocol=2)
        os.replace(temporary, target)
    except (OSError, yaml.YAMLError) as error:
        log.warning("could not write the printer capability cache in %s: %s", folder, error)


def _tmp_cache() -> str:
    import tempfile

    path = os.path.join(tempfile.gettempdir(), "chaoying-escpos-%d" % os.getuid())
    os.makedirs(path, exist_ok=True)
    return path


def is_cjk_encoding(encoding: str) -> bool:
    """True when the encoding is a Chinese double-byte one (the printer must be in Kanji mode)."""
    return codecs.lookup(encoding).name in _CJK_CODECS


# C0, DEL and C1: ESC/POS commands start with C0 bytes (ESC p kicks the drawer, GS V cuts).
_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])


def printable(text: str) -> str:
    """``text`` without control characters: what a text field holds is printed, never obeyed.

    The one door every text byte of a receipt, a report and the customer
    display goes through; line breaks are the layout's, added after it.
    """
    return text.translate(_CONTROLS)


def encode_text(text: str, encoding: str) -> bytes:
    """Bytes for the printer, control characters dropped; characters it cannot show become '?' (as wide)."""
    text = printable(text)
    try:
        data = text.encode(encoding)
        if is_cjk_encoding(encoding):
            return data
    except UnicodeEncodeError:
        pass
    cjk = is_cjk_encoding(encoding)
    out = bytearray()
    for ch in text:
        width = text_width(ch)
        try:
            b = ch.encode(encoding)
        except UnicodeEncodeError:
            out += b"?" * max(width, 1)
            continue
        out += b
        if not cjk and width == 2 and len(b) == 1:
            out += b" "  # keep the columns the layout counted
    return bytes(out)


def _dummy(width: int) -> Any:
    escpos_module()
    from escpos.printer import Dummy

    printer = Dummy()
    # The default profile has no paper width: python-escpos would print() a warning to stdout.
    data = copy.deepcopy(printer.profile.profile_data)
    media = data.setdefault("media", {})
    media["width"] = {"mm": width, "pixels": _DOTS[width]}
    media["dpi"] = 203
    printer.profile.profile_data = data
    return printer


def _qr(printer: Any, payload: str, config: PrinterConfig) -> None:
    from escpos.constants import QR_ECLEVEL_M

    size = 5 if config.width == 80 else 4
    payload = printable(payload)
    if config.qr == "native":
        printer._raw(ALIGN["center"])
        printer.qr(payload, ec=QR_ECLEVEL_M, size=size, native=True)
        printer._raw(b"\n" + ALIGN["left"])
    elif config.qr == "image":
        printer._raw(ALIGN["center"])
        printer.qr(payload, ec=QR_ECLEVEL_M, size=size, native=False, center=False)
        printer._raw(ALIGN["left"])


def barcode_data(receipt_no: str, kind: str) -> Optional[str]:
    """What the barcode encodes for this receipt number, or None when it cannot."""
    if kind == "code128":
        if receipt_no and all(32 <= ord(c) < 127 for c in receipt_no) and len(receipt_no) <= 30:
            return receipt_no
        return None
    if kind == "ean13":
        digits = "".join(c for c in receipt_no if c.isdigit())
        if not digits or len(digits) > 12:
            return None
        return digits.rjust(12, "0")  # the printer adds the check digit
    return None


def _barcode(printer: Any, receipt_no: str, config: PrinterConfig) -> None:
    data = barcode_data(receipt_no, config.barcode)
    if data is None:
        if config.barcode != "none":
            log.info("receipt number %r cannot be a %s barcode; skipped", receipt_no, config.barcode)
        return
    # _hw_barcode, not barcode(): barcode() print()s to stdout, which would corrupt the TUI.
    if config.barcode == "code128":
        printer._hw_barcode("{B" + data, "CODE128", height=48, width=2, pos="BELOW", font="A",
                            align_ct=True, function_type="B", check=True)
    else:
        printer._hw_barcode(data, "EAN13", height=48, width=2, pos="BELOW", font="A",
                            align_ct=True, function_type="A", check=True)
    printer._raw(b"\n" + ALIGN["left"])


def encode_receipt(receipt: Receipt, config: PrinterConfig, open_drawer: bool = False) -> bytes:
    """The whole job: init, Kanji mode, styled text, QR, barcode, cut, optional drawer kick."""
    printer = _dummy(config.width)
    cjk = is_cjk_encoding(config.encoding)
    printer._raw(ESC_INIT + (FS_KANJI_ON if cjk else FS_KANJI_OFF))
    if open_drawer and config.drawer:
        printer.cashdraw(2)  # ESC p: first, so the drawer opens while the receipt prints
    style = "normal"
    for block in blocks(receipt, config.columns):
        if block.kind == "qr":
            _qr(printer, block.text, config)
            continue
        if block.kind == "barcode":
            _barcode(printer, block.text, config)
            continue
        if block.style != style:
            printer._raw(_style_bytes(block.style))
            style = block.style
        printer._raw(encode_text(block.text, config.encoding) + b"\n")
    if style != "normal":
        printer._raw(_style_bytes("normal"))
    printer.cut()
    return printer.output


def _style_bytes(style: str) -> bytes:
    if style == "total":
        return BOLD[True] + GS_SIZE + b"\x01"  # double height: columns stay as laid out
    if style == "bold":
        return GS_SIZE + b"\x00" + BOLD[True]
    return GS_SIZE + b"\x00" + BOLD[False]
