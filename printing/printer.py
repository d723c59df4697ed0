"""Printer truth: did the receipt really print?

Status is read byte by byte with DLE EOT (real-time: answered even while the
printer is busy), never with python-escpos's helpers (they wait the full
timeout and call silence "paper adequate"). A print is `printed` only when
the printer said so after the cut.
"""
from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, Optional, Tuple

from printing.config import PrinterConfig
from printing.receipt import Receipt
from printing.transport import REASONS, PrinterError, SerialTransport, fault

__all__ = [
    "PrinterError", "PrinterStatus", "PrintResult", "read_status", "print_receipt", "open_drawer",
    "probe", "job_deadline", "print_deadline", "REASONS", "gs_r_shape_ok", "status_shape_ok",
]

log = logging.getLogger("chaoying.printing.printer")

DLE_EOT = b"\x10\x04"
GS_R1 = b"\x1dr\x01"
STATUS_TIMEOUT = 0.4   # one DLE EOT round trip; a printer answers within milliseconds
LINE_MARGIN = 1.5      # multiplier on the line-rate time of the job
_job_ids = itertools.count(1)


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    cover_open: bool
    paper_end: bool
    paper_near_end: bool
    error: bool
    raw: Dict[int, int] = field(default_factory=dict)
    # read_status(confirm=True): did the printer answer the confirmation request a print waits for?
    # None when not asked (a fault, or a printer set to confirm by status only).
    confirms: Optional[bool] = None

    @property
    def fault(self) -> str:
        """The reason code that forbids printing now, or ""."""
        if self.cover_open:
            return "cover_open"
        if self.paper_end:
            return "paper_out"
        if self.error:
            return "error"
        if not self.online:
            return "offline"
        return ""

    def describe(self) -> str:
        parts = ["online" if self.online else "offline"]
        parts.append("cover open" if self.cover_open else "cover closed")
        parts.append("paper out" if self.paper_end else "paper near end" if self.paper_near_end else "paper ok")
        if self.error:
            parts.append("error")
        if self.confirms is False:
            parts.append("does not confirm")
        return ", ".join(parts)


@dataclass(frozen=True)
class PrintResult:
    ok: bool
    code: str
    reason_zh: str
    reason_en: str
    warning: str = ""
    printer: str = ""
    bytes_sent: int = 0
    seconds: float = 0.0
    deadline: float = 0.0  # seconds the call allowed itself (print_deadline of its bytes); 0: none computed
    longest_wait: float = 0.0  # the longest timeout one read or write of it was given: finite, within deadline
    evidence: str = ""
    sent: bool = False  # the job went to the port: what it starts with (a drawer kick) may have acted
    drawer_kicked: bool = False  # a drawer kick went to the printer (at the head of the job, or alone)


def status_shape_ok(byte: int) -> bool:
    """DLE EOT replies look like 0xx1xx10."""
    return byte & 0x93 == 0x12


def decode_status(raw: Dict[int, int]) -> PrinterStatus:
    """PrinterStatus from DLE EOT replies keyed by n (1 printer, 2 offline cause, 4 paper)."""
    s1, s2, s4 = raw.get(1, 0x12), raw.get(2, 0x12), raw.get(4, 0x12)
    return PrinterStatus(
        online=not s1 & 0x08,
        cover_open=bool(s2 & 0x04),
        paper_end=bool(s4 & 0x60) or bool(s2 & 0x20),
        paper_near_end=bool(s4 & 0x0C),
        error=bool(s2 & 0x40),
        raw=dict(raw),
    )


def _query(t: SerialTransport, n: int, timeout: float = STATUS_TIMEOUT) -> int:
    """One DLE EOT n round trip; write and reply share one timeout, so 5 queries cost <= 5 timeouts."""
    start = time.monotonic()
    t.reset_input()
    t.write(DLE_EOT + bytes((n,)), timeout)
    byte = t.read_byte(max(0.0, start + timeout - time.monotonic()))
    if byte is None:
        raise fault("no_answer", "no reply to DLE EOT %d within %.1f s" % (n, timeout))
    if not status_shape_ok(byte):
        raise fault("garbage", "DLE EOT %d answered 0x%02x" % (n, byte))
    return byte


def _status(t: SerialTransport, ns: Iterable[int] = (1, 2, 4), first_timeout: float = STATUS_TIMEOUT) -> PrinterStatus:
    """DLE EOT for each n; the first reply may wait first_timeout (behind bytes still on the line)."""
    raw = {}
    for i, n in enumerate(ns):
        raw[n] = _query(t, n, first_timeout if i == 0 else STATUS_TIMEOUT)
    return decode_status(raw)


def read_status(config: PrinterConfig, confirm: bool = False) -> PrinterStatus:
    """Current status via DLE EOT 1, 2, 4; raises PrinterError when the printer cannot tell.

    ``confirm``: with no fault, also send the confirmation request a print ends with (``GS ( H`` or
    ``GS r 1``, by the printer setting) and say in ``confirms`` whether it was answered. An idle printer
    answers it at once, so silence means its prints would not be confirmed: DLE EOT alone cannot see that.
    """
    with SerialTransport(config) as t:
        status = _status(t)
        if confirm and not status.fault and config.confirm in ("epson", "gs_r"):
            status = replace(status, confirms=_confirms(t, config))
        return status


def _confirms(t: SerialTransport, config: PrinterConfig) -> bool:
    """Does the idle printer answer the configured confirmation request within one status timeout?"""
    request, expected = _confirm_request(config)
    t.reset_input()
    deadline = time.monotonic() + STATUS_TIMEOUT
    t.write(request, STATUS_TIMEOUT)
    if config.confirm == "epson":
        return expected in t.read_until(lambda d: expected in d, deadline)
    return _gs_r_ok(t.read_until(bool, deadline))


def job_deadline(nbytes: int, config: PrinterConfig) -> float:
    """Seconds allowed to send nbytes and get the confirmation: slack + line-rate time x margin."""
    return config.slack_seconds + nbytes / (config.baudrate / 10.0) * LINE_MARGIN


def print_deadline(nbytes: int, config: PrinterConfig) -> float:
    """Upper bound on print_receipt's wall time for a job of nbytes."""
    return job_deadline(nbytes, config) + 6 * STATUS_TIMEOUT + 0.5


def _confirm_request(config: PrinterConfig) -> Tuple[bytes, bytes]:
    """(command, expected reply) for the configured confirmation mode."""
    if config.confirm == "epson":
        ident = ("%04d" % (next(_job_ids) % 10000)).encode("ascii")
        return b"\x1d(H\x06\x0000" + ident, b"\x37\x22" + ident + b"\x00"
    if config.confirm == "gs_r":
        return GS_R1, b""
    return b"", b""


def gs_r_shape_ok(byte: int) -> bool:
    """A GS r 1 reply (paper sensor) looks like 0xx0abcd with a == b and c == d.

    Bits 4 and 7 are fixed 0 and each sensor sets both bits of its pair, so a
    random byte passes 1 time in 16, as with DLE EOT's 0xx1xx10. Some printers
    answer in the DLE EOT n=4 shape instead, again with both bits of each pair.
    """
    def pairs_equal(*pairs: Tuple[int, int]) -> bool:
        return all(bool(byte & a) == bool(byte & b) for a, b in pairs)

    if byte & 0x90 == 0:
        return pairs_equal((0x01, 0x02), (0x04, 0x08))
    return status_shape_ok(byte) and pairs_equal((0x04, 0x08), (0x20, 0x40))


def _gs_r_ok(data: bytes) -> bool:
    """GS r 1 answers exactly one byte of its shape; anything else is not a confirmation."""
    return len(data) == 1 and gs_r_shape_ok(data[0])


def _result(code: str, config: PrinterConfig, t0: float, nbytes: int, evidence: str = "",
            warning: str = "", exc: Optional[PrinterError] = None, sent: bool = False,
            drawer_kicked: bool = False) -> PrintResult:
    zh, en = (exc.reason_zh, exc.reason_en) if exc else REASONS.get(code, REASONS["error"])
    result = PrintResult(ok=code == "printed", code=code, reason_zh=zh, reason_en=en, warning=warning,
                         printer=config.name, bytes_sent=nbytes, seconds=round(time.monotonic() - t0, 3),
                         evidence=evidence, sent=sent, drawer_kicked=drawer_kicked)
    log.info("print on %s (%s): %s in %.3f s, %d bytes; %s", config.name, config.port, code,
             result.seconds, nbytes, evidence)
    return result


def print_receipt(receipt: Receipt, config: PrinterConfig, open_drawer: bool = False) -> PrintResult:
    """Print and confirm; never raises for printer faults, returns within print_deadline()."""
    t0 = time.monotonic()
    try:
        from printing.encode import encode_receipt

        job = encode_receipt(receipt, config, open_drawer=open_drawer)
    except Exception as exc:  # a layout/encoding bug must not crash the till
        log.exception("cannot encode receipt %s", getattr(receipt, "receipt_no", "?"))
        return _result("error", config, t0, 0, evidence="encoding failed: %s" % exc)
    result = send_job(job, config, t0=t0)
    return replace(result, drawer_kicked=result.sent and open_drawer and config.drawer)


def send_job(job: bytes, config: PrinterConfig, t0: Optional[float] = None) -> PrintResult:
    """Check status, send job bytes (ending with a cut), confirm, re-check. Never raises for printer faults."""
    t0 = time.monotonic() if t0 is None else t0
    t = SerialTransport(config)
    request, expected = _confirm_request(config)
    result = _send(t, job, request, expected, config, t0)
    return replace(result, deadline=print_deadline(len(job) + len(request), config), longest_wait=t.longest_wait)


def _send(t: SerialTransport, job: bytes, request: bytes, expected: bytes, config: PrinterConfig,
          t0: float) -> PrintResult:
    stage = "open"
    sent = False
    try:
        t.open()
        stage = "status"
        before = _status(t)
        if before.fault:
            return _result(before.fault, config, t0, t.bytes_sent, "before the job: " + before.describe())
        stage = "job"
        t.reset_input()
        job_start = time.monotonic()
        deadline = job_start + job_deadline(len(job) + len(request), config)
        sent = True  # from here on the job (and a drawer kick at its head) may reach the printer
        t.write(job + request, deadline - time.monotonic())
        stage = "confirm"
        evidence = _confirm(t, config, expected, deadline)
        stage = "after"
        try:
            # DLE EOT queues behind the job bytes a slow line has not drained yet: its
            # reply may come as late as the job's deadline (line-rate time plus slack).
            after = _status(t, (1, 2, 4), max(STATUS_TIMEOUT, deadline - time.monotonic()))
        except PrinterError as exc:
            if exc.code == "no_answer":  # it answered before the job, and stopped mid-job
                raise fault("stalled", "no confirmation and no status after the job") from exc
            raise
        if after.fault:
            return _result(after.fault, config, t0, t.bytes_sent, "after the job: " + after.describe(), sent=True)
        if not evidence:
            return _result("not_confirmed", config, t0, t.bytes_sent,
                           "no %s confirmation within the deadline; status after: %s"
                           % (config.confirm, after.describe()), sent=True)
        warning = "paper_near_end" if after.paper_near_end or before.paper_near_end else ""
        return _result("printed", config, t0, t.bytes_sent, evidence + "; status after: " + after.describe(),
                       warning=warning, sent=True)
    except PrinterError as exc:
        t.close(discard=True)
        return _result(exc.code, config, t0, t.bytes_sent, "%s: %s" % (stage, exc.detail or exc), exc=exc,
                       sent=sent)
    except Exception as exc:  # pyserial surprises: report, never raise into the till
        t.close(discard=True)
        log.exception("unexpected error printing on %s", config.port)
        return _result("error", config, t0, t.bytes_sent, "%s: %r" % (stage, exc), sent=sent)
    finally:
        t.close()


def _confirm(t: SerialTransport, config: PrinterConfig, expected: bytes, deadline: float) -> str:
    """Evidence text when the printer confirmed the job, "" when it did not."""
    if config.confirm == "epson":
        data = t.read_until(lambda d: expected in d, deadline)
        if expected in data:
            return "printer reported printing completed (GS ( H process ID %s)" % expected[2:6].decode()
        log.info("no GS ( H reply on %s; got %r", config.port, data[:32])
        return ""
    if config.confirm == "gs_r":
        data = t.read_until(bool, deadline)  # the reply is one byte: judge the first read
        if _gs_r_ok(data):
            return "printer reported data processed (GS r 1)"
        if data:
            raise fault("garbage", "GS r 1 answered %r" % data[:32])
        log.info("no GS r reply on %s", config.port)
        return ""
    t.drain(deadline)
    return "status only: the printer is online with paper after the job, but cannot confirm printing (weakest)"


def open_drawer(config: PrinterConfig) -> PrintResult:
    """Kick the cash drawer if the printer answers: ESC p when online, else DLE DC4 (real time).

    A printer out of paper or with its cover open is offline and drops ESC p,
    but a serial ESC/POS printer executes the real-time pulse DLE DC4 1 m t
    even then, and the cashier still needs the drawer for change.
    """
    t0 = time.monotonic()
    t = SerialTransport(config)
    try:
        t.open()
        status = _status(t, (1,))
        if not status.online:
            t.write(b"\x10\x14\x01\x00\x05", STATUS_TIMEOUT)  # DLE DC4 1: pin 2, 500 ms
            return _result("printed", config, t0, t.bytes_sent,
                           "real-time drawer pulse (DLE DC4) sent; printer offline", sent=True, drawer_kicked=True)
        t.write(b"\x1bp\x00\x32\x32", STATUS_TIMEOUT)
        return _result("printed", config, t0, t.bytes_sent, "drawer kick sent; printer online", sent=True,
                       drawer_kicked=True)
    except PrinterError as exc:
        t.close(discard=True)
        return _result(exc.code, config, t0, t.bytes_sent, exc.detail, exc=exc)
    except Exception as exc:
        log.exception("unexpected error opening the drawer on %s", config.port)
        return _result("error", config, t0, t.bytes_sent, repr(exc))
    finally:
        t.close()


def probe(port: str, baudrate: int = 9600) -> dict:
    """Which status and confirmation commands the printer on port answers, and the settings to use."""
    config = PrinterConfig(port=port, baudrate=baudrate, confirm="status", name="probe")
    report: dict = {"port": port, "baudrate": baudrate, "dle_eot": {}, "gs_r": None, "gs_paren_h": False,
                    "status": None, "suggested": {}, "error": ""}
    try:
        with SerialTransport(config) as t:
            for n in (1, 2, 3, 4):
                t.reset_input()
                t.write(DLE_EOT + bytes((n,)), STATUS_TIMEOUT)
                byte = t.read_byte(STATUS_TIMEOUT)
                report["dle_eot"][n] = None if byte is None else "0x%02x" % byte
            t.reset_input()
            t.write(GS_R1, STATUS_TIMEOUT)
            data = t.read_some(STATUS_TIMEOUT * 2)
            report["gs_r"] = "0x%02x" % data[0] if _gs_r_ok(data) else None
            t.reset_input()
            expected = b"\x37\x22" + b"9876" + b"\x00"
            t.write(b"\x1d(H\x06\x0000" + b"9876", STATUS_TIMEOUT)
            data = t.read_until(lambda d: expected in d, time.monotonic() + STATUS_TIMEOUT * 2)
            report["gs_paren_h"] = expected in data
    except PrinterError as exc:
        report["error"] = exc.code
        report["reason_zh"], report["reason_en"] = exc.reason_zh, exc.reason_en
    answers = {n: int(v, 16) for n, v in report["dle_eot"].items() if v is not None}
    status_ok = all(n in answers and status_shape_ok(answers[n]) for n in (1, 2, 4))
    if status_ok:
        status = decode_status(answers)
        report["status"] = status.describe()
        if status.fault:
            # GS r and GS ( H wait behind the fault, so their silence proves nothing yet.
            report["error"] = status.fault
            report["reason_zh"], report["reason_en"] = REASONS[status.fault]
            report["hint"] = "fix the printer (%s) and probe again" % REASONS[status.fault][1]
            report["status_ok"] = True
            report["suggested"] = {}
            return report
    if report["gs_paren_h"]:
        confirm = "epson"
    elif report["gs_r"]:
        confirm = "gs_r"
    else:
        confirm = "status"
    report["status_ok"] = status_ok
    report["suggested"] = {"port": port, "baudrate": baudrate, "confirm": confirm} if status_ok else {}
    if not status_ok and not report["error"]:
        report["error"] = "no_answer" if not answers else "garbage"
        report["reason_zh"], report["reason_en"] = REASONS[report["error"]]
    return report
