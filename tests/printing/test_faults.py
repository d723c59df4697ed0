"""The fault matrix: every printer fault, striking before, during or after the job.

Real pty, real virtual printer, the real print_receipt(). The story each case
checks: a fault is never reported as printed (paper near end prints, with a
warning), every failure carries a reason code and a sentence in Chinese and
English, and the call holds itself to a deadline: a finite one, within our own
ceiling, that no read or write on the port outlasts. Wall time is only a hang
guard here (tests/hang.py); how close to its deadline a fault returns is a
figure of tests/bench/bench_print.py.
"""
from __future__ import annotations

import threading
import time

import pytest

from printing.config import PrinterConfig
from printing.encode import encode_receipt
from printing.printer import PrintResult, job_deadline, print_deadline, print_receipt, send_job
from printing.sample import sample_receipt
from printing.virtual import VirtualPrinter
from tests.hang import assert_not_hung

BAUD = 38400  # fast enough for a quick matrix, slow enough that "during" lands mid-job
SLACK = 0.5   # the fixed part of the job deadline
STATUS_BYTES = 9  # DLE EOT 1, 2, 4 before the job
GS_H_BYTES = 11  # GS ( H pL pH fn m d1..d4: the confirmation request after the job

CODES = {"printed", "paper_out", "cover_open", "offline", "no_answer", "garbage", "port_missing",
         "stalled", "not_confirmed", "error"}

# (state, when) -> reason codes that tell the truth. "silent" after the printer
# already answered is reported as a printer that stopped taking data.
RIGHT_CODES = {
    "paper-out": {"paper_out"},
    "cover-open": {"cover_open"},
    "offline": {"offline"},
    "silent": {"no_answer", "stalled"},
    "stall": {"no_answer", "stalled"},
    "no-confirm": {"not_confirmed"},
}
BEFORE_CODES = {"silent": {"no_answer"}, "stall": {"no_answer"}}
STOPS_PRINTING = {"paper-out", "cover-open", "offline", "silent", "stall"}
STATES = ["paper-out", "cover-open", "offline", "silent", "stall", "no-confirm", "near-end"]


@pytest.fixture
def printer(tmp_path):
    vp = VirtualPrinter(tmp_path / "printer", tmp_path / "paper", state_file=tmp_path / "state", baud=BAUD)
    vp.start()
    yield vp
    vp.stop()


def config_for(vp: VirtualPrinter, confirm: str = "epson") -> PrinterConfig:
    return PrinterConfig(port=str(vp.link), baudrate=BAUD, confirm=confirm, slack_seconds=SLACK)


def bound(nbytes: int, baud: int = BAUD) -> float:
    """Our own ceiling, independent of printer.py: slack + twice the line time + room for status reads."""
    return SLACK + 2 * nbytes / (baud / 10.0) + 3.0


def check_deadline(result: PrintResult, elapsed: float, nbytes: int, config: PrinterConfig, story: str) -> None:
    """The deadline the call computed covers the job and stays under our ceiling; no wait on the port outlasts it."""
    assert print_deadline(nbytes, config) <= result.deadline <= bound(nbytes), \
        f"{story}: deadline {result.deadline} s, ceiling {bound(nbytes):.2f} s"
    assert 0 < result.longest_wait <= result.deadline, f"{story}: a wait of {result.longest_wait} s"
    assert_not_hung(elapsed, bound(nbytes), story)


def check_truth(result: PrintResult, state: str, when: str, elapsed: float, nbytes: int,
                config: PrinterConfig) -> None:
    story = f"{state} {when} the job -> {result.code} ({result.evidence})"
    assert result.code in CODES, story
    if state == "near-end":
        assert result.ok and result.code == "printed", story
        assert result.warning == "paper_near_end", story
    else:
        assert not result.ok, "a fault was reported as printed: " + story
        assert result.code != "printed", story
        right = BEFORE_CODES.get(state, RIGHT_CODES[state]) if when == "before" else RIGHT_CODES[state]
        assert result.code in right, story
        assert result.reason_zh.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in result.reason_zh), story
        assert result.reason_en.strip() and result.reason_en.isascii(), story
    check_deadline(result, elapsed, nbytes, config, story)


def strike_during(vp: VirtualPrinter, state: str, job_len: int) -> threading.Thread:
    """Switch the state from another thread once a third of the job has arrived."""
    mark = vp.bytes_received + STATUS_BYTES + job_len // 3

    def switch() -> None:
        if vp.wait_for(lambda v: v.bytes_received >= mark, 10):
            vp.set_state(state)

    thread = threading.Thread(target=switch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("when", ["before", "during", "after"])
@pytest.mark.parametrize("state", STATES)
def test_fault_matrix(printer, state, when):
    config = config_for(printer)
    receipt = sample_receipt()
    job_len = len(encode_receipt(receipt, config))
    thread = None
    if when == "before":
        printer.set_state(state)
    elif when == "during":
        thread = strike_during(printer, state, job_len)
    else:
        printer.switch_state_at(state, at_cut=True)

    start = time.monotonic()
    result = print_receipt(receipt, config)
    elapsed = time.monotonic() - start
    if thread is not None:
        thread.join(5)

    check_truth(result, state, when, elapsed, job_len, config)
    # the result says whether the job went out: not when the fault was seen before it
    assert result.sent == (when != "before" or state not in STOPS_PRINTING), result.evidence
    if when == "during":
        # The fault really struck mid-job: a printer that stopped never cut the receipt.
        cut = 0 if state in STOPS_PRINTING else 1
        assert printer.receipts == cut, f"{state} struck too late (receipts {printer.receipts})"
    if when == "before" and state in STOPS_PRINTING:
        assert printer.receipts == 0


@pytest.mark.parametrize("state, kicked", [("ok", True), ("no-confirm", True), ("paper-out", False)])
def test_the_result_says_whether_the_drawer_kick_went_out(printer, state, kicked):
    """A kick heads the job: it went out with the job, or not at all; open_drawer() kicks even offline."""
    from printing.printer import open_drawer

    config = config_for(printer)
    printer.set_state(state)
    result = print_receipt(sample_receipt(), config, open_drawer=True)
    assert (result.sent, result.drawer_kicked) == (kicked, kicked), result.evidence
    assert printer.drawer_kicks == int(kicked)
    if not kicked:
        alone = open_drawer(config)
        assert alone.ok and alone.drawer_kicked
        assert printer.wait_for(lambda v: v.drawer_kicks == 1, 5)


@pytest.mark.parametrize("state", STATES)
def test_fault_after_the_job_with_gs_r_confirmation(printer, state):
    config = config_for(printer, confirm="gs_r")
    receipt = sample_receipt()
    job_len = len(encode_receipt(receipt, config))
    printer.switch_state_at(state, at_cut=True)
    start = time.monotonic()
    result = print_receipt(receipt, config)
    check_truth(result, state, "after", time.monotonic() - start, job_len, config)


@pytest.mark.parametrize("state,code", [("garbage", "garbage"), ("error", "error")])
def test_garbage_and_error_printers(printer, state, code):
    printer.set_state(state)
    config = config_for(printer)
    start = time.monotonic()
    result = print_receipt(sample_receipt(), config)
    elapsed = time.monotonic() - start
    assert not result.ok and result.code == code
    assert result.reason_zh and result.reason_en
    check_deadline(result, elapsed, len(encode_receipt(sample_receipt(), config)), config, state)


def test_stuck_port_with_a_big_job_returns_within_its_deadline(tmp_path):
    """The printer stops reading mid-job and the line fills up: the write times out."""
    baud = 921600  # keeps the deadline of a 64 KB job short
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", baud=baud) as vp:
        config = PrinterConfig(port=str(vp.link), baudrate=baud, slack_seconds=SLACK)
        line = b"x" * 47 + b"\n"
        job = b"\x1b@" + line * (64 * 1024 // len(line)) + b"\x1dV\x00"  # far more than a pty holds
        vp.switch_state_at("stall", after_bytes=STATUS_BYTES + 4096)
        start = time.monotonic()
        result = send_job(job, config)
        elapsed = time.monotonic() - start
    assert not result.ok and result.code == "stalled", result.evidence
    assert result.bytes_sent < len(job)
    ceiling = SLACK + 2 * len(job) / (baud / 10.0) + 3.0
    assert print_deadline(len(job), config) <= result.deadline <= ceiling
    # the write that stalled was handed the job's deadline, never more: it timed out, it did not hang
    assert 0 < result.longest_wait <= job_deadline(len(job) + GS_H_BYTES, config)
    assert_not_hung(elapsed, ceiling, "a stuck port")


def test_printer_vanishes_mid_job(printer):
    config = config_for(printer)
    receipt = sample_receipt()
    job_len = len(encode_receipt(receipt, config))
    mark = printer.bytes_received + STATUS_BYTES + job_len // 3
    unplug = threading.Thread(
        target=lambda: printer.wait_for(lambda v: v.bytes_received >= mark, 10) and printer.stop(),
        daemon=True,
    )
    unplug.start()
    start = time.monotonic()
    result = print_receipt(receipt, config)
    elapsed = time.monotonic() - start
    unplug.join(5)
    assert not result.ok and result.code in {"port_missing", "stalled", "no_answer"}, result.evidence
    assert result.reason_zh and result.reason_en
    check_deadline(result, elapsed, job_len, config, "printer vanished")


def test_port_missing_before_the_job(printer):
    config = config_for(printer)
    printer.stop()  # the link is gone
    result = print_receipt(sample_receipt(), config)
    assert not result.ok and result.code == "port_missing"
    assert result.reason_zh and result.reason_en


def test_the_till_prints_again_once_the_fault_is_cleared(printer):
    config = config_for(printer)
    printer.set_state("paper-out")
    assert print_receipt(sample_receipt(), config).code == "paper_out"
    printer.set_state("ok")
    result = print_receipt(sample_receipt(reprint_no=1), config)
    assert result.ok and result.code == "printed" and not result.warning
    assert printer.receipts == 1
    assert "补打" in printer.receipt_path(1).read_text(encoding="utf-8")


class GarbageGsRPrinter(VirtualPrinter):
    """Answers DLE EOT like a healthy printer, and GS r 1 with random bytes of the wrong shape."""

    def _answer(self, query: str, reply: bytes, state: str) -> None:
        super()._answer(query, reply, "garbage" if query == "GS r" else state)


def test_a_gs_r_reply_is_checked_as_strictly_as_dle_eot():
    from printing.printer import _gs_r_ok, status_shape_ok

    accepted = [b for b in range(256) if _gs_r_ok(bytes((b,)))]
    assert len(accepted) <= sum(status_shape_ok(b) for b in range(256)) + 4, [hex(b) for b in accepted]
    assert {0x00, 0x03, 0x0C, 0x0F} <= set(accepted)  # paper present, near end, paper end
    assert not _gs_r_ok(b"") and not _gs_r_ok(b"\x00\x00") and not _gs_r_ok(b"\x00\x12")


def test_a_printer_answering_gs_r_with_random_bytes_is_never_taken_as_printed(tmp_path):
    """12 receipts in a row: random bytes to GS r 1 are garbage, never "data processed"."""
    with GarbageGsRPrinter(tmp_path / "lp", tmp_path / "paper", baud=BAUD) as vp:
        config = config_for(vp, confirm="gs_r")
        codes = [send_job(b"\x1b@hello\n\x1dV\x00", config).code for _ in range(12)]
    assert codes == ["garbage"] * 12


SLOW_BAUD = 9600  # the sample receipt takes ~2 s on the line: longer than any status timeout


@pytest.mark.parametrize("state, when, code", [
    ("ok", "", "printed"),
    ("near-end", "after", "printed"),
    ("offline", "after", "offline"),
    ("offline", "during", "offline"),
    ("paper-out", "after", "paper_out"),
    ("silent", "after", "stalled"),
])
def test_status_confirmation_on_a_slow_line_waits_for_the_bytes_still_draining(tmp_path, state, when, code):
    """confirm = "status" at 9600 baud: a receipt that printed is printed, offline is offline, never "stalled"."""
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", baud=SLOW_BAUD) as vp:
        config = PrinterConfig(port=str(vp.link), baudrate=SLOW_BAUD, confirm="status", slack_seconds=SLACK)
        receipt = sample_receipt()
        job_len = len(encode_receipt(receipt, config))
        assert job_len / (SLOW_BAUD / 10.0) > 1.0  # really slow: the bytes drain long after the write returns
        if when == "after":
            vp.switch_state_at(state, at_cut=True)
        elif when == "during":
            strike_during(vp, state, job_len)
        start = time.monotonic()
        result = print_receipt(receipt, config)
        elapsed = time.monotonic() - start
        story = f"{state} {when} -> {result.code} ({result.evidence})"
        assert result.code == code, story
        assert result.ok == (code == "printed"), story
        if code == "printed":
            assert vp.wait_for(lambda v: v.receipts == 1, 5), story
        # the status after the job may wait for the bytes still draining, but not past the job's deadline
        assert print_deadline(job_len, config) <= result.deadline <= bound(job_len, SLOW_BAUD), story
        assert 0 < result.longest_wait <= job_deadline(job_len, config), story  # confirm "status": no request
        assert_not_hung(elapsed, bound(job_len, SLOW_BAUD), story)
