"""A text field is printed, never obeyed: no control byte of any receipt field reaches the printer.

Every text field of the receipt value (and of its lines, payments and basket
adjustments) holds ESC p 0 25 (a drawer kick), GS V 0 (a cut), DEL and CSI
behind a marker; the job carries each marker with no control byte after it,
no drawer kick and one cut: its own.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, List, Set

import pytest

from printing.config import PrinterConfig
from printing.customer_display import encode_line
from printing.encode import encode_receipt, printable
from printing.receipt import ReceiptAdjustment
from printing.report import encode_report
from printing.sample import sample_receipt

_numbers = itertools.count()
POISON = "\x1bp\x00\x19\x1dV\x00\x7f\x9b2J"
#: Fields that choose words (from the till, never typed) and never print themselves.
CHOOSERS = {("Receipt", "language"), ("Receipt", "kind"), ("ReceiptAdjustment", "kind")}
#: What a kind of receipt does not print: a sale has no original, reason or manager; a refund's lines no price note.
UNPRINTED = {"sale": {"original_no", "reason", "manager"}, "refund": {"price_note"}}


def poisoned(value: Any, markers: List[bytes], unprinted: Set[str]) -> Any:
    """``value`` with every text field set to a new marker and the poison; nested values too.

    ``markers`` gets the marker of each field the receipt prints (``#n.field#``, n unique).
    """
    changes = {}
    for field in dataclasses.fields(value):
        current = getattr(value, field.name)
        if isinstance(current, str) and (type(value).__name__, field.name) not in CHOOSERS:
            marker = "#%d.%s#" % (next(_numbers), field.name)
            if field.name not in unprinted:
                markers.append(marker.encode("ascii"))
            changes[field.name] = marker + POISON
        elif isinstance(current, tuple) and current and dataclasses.is_dataclass(current[0]):
            changes[field.name] = tuple(poisoned(item, markers, unprinted) for item in current)
    return dataclasses.replace(value, **changes)


def receipt(kind: str, markers: List[bytes]) -> Any:
    sample = sample_receipt()
    lines = tuple(dataclasses.replace(line, discount_fen=10, list_price_fen=999) for line in sample.lines)
    base = dataclasses.replace(sample, kind=kind, lines=lines, adjustments=(ReceiptAdjustment("discount", 100),))
    return poisoned(base, markers, UNPRINTED[kind])


def assert_clean(job: bytes, markers: List[bytes]) -> None:
    assert b"\x1bp" not in job  # no drawer kick (none was asked)
    assert job.count(b"\x1dV") == 1 and job.endswith(b"\x1dV\x00")  # one cut: the job's own
    for marker in markers:
        at = job.find(marker)
        assert at >= 0, marker  # the field was printed ...
        assert job[at + len(marker)] >= 0x20, (marker, job[at:at + 12])  # ... without its control bytes


@pytest.mark.parametrize("kind", ["sale", "refund"])
@pytest.mark.parametrize("encoding", ["gb18030", "cp437"])
def test_no_field_of_a_receipt_sends_a_control_byte_to_the_printer(kind, encoding):
    markers: List[bytes] = []
    value = receipt(kind, markers)
    assert len(markers) >= 20  # shop name, address, phone, tax id, header, footer, cashier, every line's notes ...
    job = encode_receipt(value, PrinterConfig(port="/dev/null", encoding=encoding, drawer=False))
    assert_clean(job, markers)


def test_the_poison_would_kick_the_drawer_without_the_strip():
    """The probe can fail: the same field, encoded raw, holds the drawer kick."""
    assert b"\x1bp\x00\x19" in POISON.encode("gb18030")
    assert "\x1b" not in printable(POISON) and printable("小李\x1bp\x00\x19") == "小李p"


def test_a_report_line_and_the_customer_display_drop_control_bytes_too():
    report = encode_report(["#0#" + POISON, "top 可乐#1#" + POISON])
    assert_clean(report, [b"#0#", b"#1#"])
    shown = encode_line("#0#" + POISON, "gb18030")
    assert b"\x1b" not in shown and shown.startswith(b"#0#p")
