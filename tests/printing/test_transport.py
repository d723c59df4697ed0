"""Serial transport and printer truth on real ptys: garbage, stalls, vanished ports, confirmation."""
from __future__ import annotations

import os
import select
import termios
import threading
import time
import tty
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

import pytest

from printing.config import PrinterConfig
from printing.encode import encode_receipt
from printing.layout import layout
from printing.printer import (
    PrinterError,
    PrintResult,
    job_deadline,
    open_drawer,
    print_deadline,
    print_receipt,
    probe,
    read_status,
    send_job,
)
from printing.sample import sample_receipt
from printing.spare import next_printer
from printing.transport import SerialTransport
from printing.virtual import VirtualPrinter
from tests.hang import assert_not_hung


class PtyPeer:
    """A hand-made device on a real pty: `answer(data) -> reply` for every chunk it reads.

    With stop_reading_after=N it stops reading once N bytes came in (a stuck printer).
    """

    def __init__(self, link: Path, answer: Callable[[bytes], bytes], stop_reading_after: Optional[int] = None):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.slave_name = os.ttyname(slave)
        os.close(slave)
        self.link = link
        link.symlink_to(self.slave_name)
        self.answer = answer
        self.stop_reading_after = stop_reading_after
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.stop_reading_after is not None and len(self.received) >= self.stop_reading_after:
                self._stop.wait(0.05)
                continue
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                limit = 4096
                if self.stop_reading_after is not None:
                    limit = max(1, self.stop_reading_after - len(self.received))
                data = os.read(self.master, limit)
            except OSError:
                self._stop.wait(0.05)  # no slave open right now
                continue
            self.received += data
            reply = self.answer(data)
            if reply:
                os.write(self.master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        try:
            os.close(self.master)
        except OSError:
            pass
        if self.link.is_symlink():
            self.link.unlink()


def status_then(after: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A peer that answers DLE EOT like a healthy printer and hands everything else to `after`."""

    def answer(data: bytes) -> bytes:
        if data.startswith(b"\x10\x04") and len(data) == 3:
            return b"\x12"
        return after(data)

    return answer


@pytest.fixture
def peers(tmp_path):
    made = []

    def make(answer, stop_reading_after=None, name="tty"):
        peer = PtyPeer(tmp_path / name, answer, stop_reading_after)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


@pytest.fixture
def virtual(tmp_path):
    printers = []

    def start(width=80, baud=None, link=None):
        vp = VirtualPrinter(link or tmp_path / "vtty", tmp_path / "paper", tmp_path / "state",
                            width=width, baud=baud).start()
        printers.append(vp)
        return vp

    yield start
    for vp in printers:
        vp.stop()


GS_H_BYTES = 11  # the GS ( H confirmation request after the job


def config_for(link: Path, **kw) -> PrinterConfig:
    kw.setdefault("slack_seconds", 0.5)
    kw.setdefault("baudrate", 115200)
    return PrinterConfig(port=str(link), **kw)


def ceiling(nbytes: int, config: PrinterConfig) -> float:
    """Our own bound on a print's deadline, independent of printer.py: slack + twice the line time + status reads."""
    return config.slack_seconds + 2 * nbytes / (config.baudrate / 10.0) + 3.0


def check_deadline(result: PrintResult, config: PrinterConfig) -> None:
    """The sample receipt's print held itself to a deadline covering the job, and no wait outlasted the job's."""
    job = len(encode_receipt(sample_receipt(), config))
    # every byte sent counts the job, the confirmation request and the status queries around it
    assert print_deadline(job, config) <= result.deadline <= print_deadline(result.bytes_sent, config), result
    assert result.deadline <= ceiling(result.bytes_sent, config), result
    assert 0 < result.longest_wait <= job_deadline(result.bytes_sent, config), result


# -- the transport itself ----------------------------------------------------------


def test_port_settings_reach_the_device_and_write_timeout_is_always_set(peers, tmp_path):
    peer = peers(lambda data: b"")
    config = config_for(peer.link, rtscts=True, xonxoff=True, bytesize=7, parity="E", stopbits=2, baudrate=19200)
    with SerialTransport(config) as t:
        s = t.serial
        assert s.write_timeout is not None and s.write_timeout > 0
        assert (s.rtscts, s.xonxoff, s.bytesize, s.parity, s.stopbits, s.baudrate) == (True, True, 7, "E", 2, 19200)
        iflag, _, cflag, _, ispeed, _, _ = termios.tcgetattr(s.fd)
        assert iflag & termios.IXON and iflag & termios.IXOFF
        assert cflag & termios.CRTSCTS
        assert cflag & termios.CSTOPB  # (a pty forces 8 bits, no parity: those stay pyserial-side)
        assert ispeed == termios.B19200
    with SerialTransport(config_for(peer.link)) as t:
        iflag, _, cflag, *_ = termios.tcgetattr(t.serial.fd)
        assert not iflag & termios.IXON and not cflag & termios.CRTSCTS


def test_a_peer_that_stops_reading_gives_stalled_within_the_write_timeout(peers):
    peer = peers(lambda data: b"", stop_reading_after=0)
    with SerialTransport(config_for(peer.link)) as t:
        start = time.monotonic()
        with pytest.raises(PrinterError) as caught:
            t.write(b"x" * 2_000_000, timeout=0.5)
        assert t.serial.write_timeout == 0.5 and t.longest_wait == 0.5  # what pyserial was told to wait
        assert_not_hung(time.monotonic() - start, 0.5, "a write to a peer that stopped reading")
    assert caught.value.code == "stalled"
    assert caught.value.reason_zh == "打印机停止接收数据" and caught.value.reason_en == "printer stopped taking data"


def test_missing_port_is_port_missing(tmp_path):
    with pytest.raises(PrinterError) as caught:
        SerialTransport(config_for(tmp_path / "nope")).open()
    assert caught.value.code == "port_missing"
    assert (caught.value.reason_zh, caught.value.reason_en) == ("找不到打印机端口", "printer port not found")


# -- printer truth against hand-made peers -----------------------------------------


def test_garbage_answers_are_never_taken_for_a_status(peers):
    peer = peers(lambda data: b"\xff" if data.startswith(b"\x10\x04") else b"")
    config = config_for(peer.link)
    with pytest.raises(PrinterError) as caught:
        read_status(config)
    assert caught.value.code == "garbage"
    result = print_receipt(sample_receipt(), config)
    assert not result.ok and result.code == "garbage"
    assert (result.reason_zh, result.reason_en) == ("打印机回复无法识别", "printer answered garbage")
    assert b"\x1b@" not in peer.received  # refused before sending the job


def test_valid_status_but_wrong_confirmation_id_is_not_confirmed(peers):
    peer = peers(status_then(lambda data: b"\x37\x22" + b"0000\x00" if b"\x1d(H" in data else b""))
    result = print_receipt(sample_receipt(), config_for(peer.link))
    assert not result.ok and result.code == "not_confirmed"
    assert (result.reason_zh, result.reason_en) == ("打印未确认", "printing not confirmed")


def test_printer_that_stops_reading_mid_job_is_stalled_within_its_deadline(peers):
    # answers status, then stops reading after the first 100 bytes of the job
    peer = peers(status_then(lambda data: b""), stop_reading_after=9 + 100)
    config = config_for(peer.link, baudrate=921600)
    job = b"\x1b@" + b"x" * 100_000 + b"\x1dV\x00"  # bigger than the pty buffer (~20 KB)
    start = time.monotonic()
    result = send_job(job, config)
    elapsed = time.monotonic() - start
    assert not result.ok and result.code == "stalled", result
    assert result.bytes_sent == 9  # the status queries: the job write never completed
    assert result.deadline == print_deadline(len(job) + GS_H_BYTES, config) <= ceiling(len(job), config)
    # the write was handed what was left of the job's deadline: it timed out, it did not hang
    assert 0 < result.longest_wait <= job_deadline(len(job) + GS_H_BYTES, config)
    assert elapsed >= job_deadline(len(job), config) * 0.8  # it did wait for the line-rate time
    assert_not_hung(elapsed, result.deadline, "a job to a printer that stopped reading")


def test_small_job_then_silence_is_stalled_not_printed(peers):
    # the job fits in the pty buffer, so the write succeeds; the printer never answers again
    peer = peers(status_then(lambda data: b""), stop_reading_after=9 + 10)
    config = config_for(peer.link)
    start = time.monotonic()
    result = print_receipt(sample_receipt(), config)
    assert not result.ok and result.code == "stalled"
    check_deadline(result, config)
    assert_not_hung(time.monotonic() - start, result.deadline, "silence after a small job")


def test_port_disappearing_mid_job_is_port_missing(peers):
    def vanish(data: bytes) -> bytes:
        peer.link.unlink()
        os.close(peer.master)  # the USB adapter is pulled: the device goes away
        peer._stop.set()
        return b""

    peer = peers(status_then(vanish))
    result = print_receipt(sample_receipt(), config_for(peer.link))
    assert not result.ok and result.code == "port_missing", result


def test_port_that_vanishes_and_comes_back_prints_again(virtual, tmp_path):
    link = tmp_path / "vtty"
    config = config_for(link)
    first = virtual(link=link)
    assert print_receipt(sample_receipt(), config).ok
    first.stop()
    gone = print_receipt(sample_receipt(), config)
    assert not gone.ok and gone.code == "port_missing"
    virtual(link=link)  # plugged back in (a new device behind the same path)
    again = print_receipt(sample_receipt(), config)
    assert again.ok, again


def test_missing_port_result_is_fast_and_explained(tmp_path):
    result = print_receipt(sample_receipt(), config_for(tmp_path / "ttyUSB9"))
    assert result.longest_wait == 0 and result.bytes_sent == 0  # refused before any wait on a port
    assert not result.ok and result.code == "port_missing" and result.reason_zh == "找不到打印机端口"


# -- printer truth against the virtual printer -------------------------------------


@pytest.mark.parametrize("width", [58, 80])
def test_confirmed_print_reads_right_on_the_virtual_paper(virtual, tmp_path, width):
    vp = virtual(width=width)
    receipt = sample_receipt()
    result = print_receipt(receipt, config_for(vp.link, width=width))
    assert result.ok and result.code == "printed" and result.warning == ""
    assert "GS ( H" in result.evidence
    paper = (tmp_path / "paper" / "0001.txt").read_text(encoding="utf-8")
    for line in layout(receipt, 32 if width == 58 else 48):
        assert line in paper
    assert receipt.qr_payload in paper


@pytest.mark.parametrize("confirm,evidence", [("epson", "GS ( H"), ("gs_r", "GS r 1"), ("status", "weakest")])
def test_each_confirmation_mode_says_what_it_proved(virtual, confirm, evidence):
    vp = virtual()
    result = print_receipt(sample_receipt(), config_for(vp.link, confirm=confirm))
    assert result.ok and evidence in result.evidence


@pytest.mark.parametrize("state,code", [
    ("paper-out", "paper_out"), ("cover-open", "cover_open"), ("offline", "offline"),
    ("silent", "no_answer"), ("garbage", "garbage"), ("error", "error"),
])
def test_faults_before_the_job_are_refused_with_their_reason(virtual, state, code):
    vp = virtual()
    vp.set_state(state)
    result = print_receipt(sample_receipt(), config_for(vp.link))
    assert not result.ok and result.code == code and result.reason_zh and result.reason_en
    assert vp.receipts == 0


@pytest.mark.parametrize("confirm", ["epson", "gs_r"])
def test_printer_that_ignores_confirmation_is_not_confirmed_within_deadline(virtual, confirm):
    vp = virtual()
    vp.set_state("no-confirm")
    config = config_for(vp.link, confirm=confirm)
    result = print_receipt(sample_receipt(), config)
    assert not result.ok and result.code == "not_confirmed"
    check_deadline(result, config)


def test_paper_near_end_prints_with_a_warning(virtual):
    vp = virtual()
    vp.set_state("near-end")
    result = print_receipt(sample_receipt(), config_for(vp.link))
    assert result.ok and result.warning == "paper_near_end"
    status = read_status(config_for(vp.link))
    assert status.paper_near_end and not status.paper_end and status.online


def test_paper_running_out_during_the_job_is_not_printed(virtual):
    vp = virtual(baud=9600)
    config = config_for(vp.link, baudrate=9600)
    timer = threading.Timer(0.3, vp.set_state, ("paper-out",))
    timer.start()
    result = print_receipt(sample_receipt(), config)
    timer.join()
    assert not result.ok and result.code == "paper_out", result


def test_drawer_kick(virtual):
    vp = virtual()
    assert open_drawer(config_for(vp.link)).ok
    assert vp.wait_for(lambda p: p.drawer_kicks == 1, 2)
    # Offline (paper out, cover open) drops ESC p; the real-time DLE DC4 pulse still opens the drawer.
    vp.set_state("paper-out")
    assert open_drawer(config_for(vp.link)).ok
    assert vp.wait_for(lambda p: p.drawer_kicks == 2, 2)
    vp.set_state("silent")
    assert open_drawer(config_for(vp.link)).code == "no_answer"
    assert vp.drawer_kicks == 2


def test_probe_finds_what_the_printer_answers(virtual, tmp_path):
    vp = virtual()
    report = probe(str(vp.link), 115200)
    assert report["status_ok"] and report["gs_paren_h"] and report["gs_r"] == "0x00"
    assert report["suggested"]["confirm"] == "epson"
    vp.set_state("no-confirm")
    assert probe(str(vp.link), 115200)["suggested"]["confirm"] == "status"
    vp.set_state("paper-out")
    faulty = probe(str(vp.link), 115200)
    assert faulty["error"] == "paper_out" and faulty["suggested"] == {}  # confirmation cannot be judged now
    vp.set_state("silent")
    silent = probe(str(vp.link), 115200)
    assert not silent["status_ok"] and silent["error"] == "no_answer" and silent["suggested"] == {}
    missing = probe(str(tmp_path / "none"))
    assert missing["error"] == "port_missing"


# -- spare printer ----------------------------------------------------------------


def _result(ok: bool, printer: str) -> PrintResult:
    return PrintResult(ok=ok, code="printed" if ok else "paper_out", reason_zh="", reason_en="", printer=printer)


def test_next_printer_switches_on_failure_and_sticks_with_what_works():
    main = PrinterConfig(port="/dev/ttyUSB0")
    spare = PrinterConfig(port="/dev/ttyUSB1", name="backup")
    assert next_printer(main, None, _result(False, "main")) is main
    assert next_printer(main, spare, None) is main
    assert next_printer(main, spare, _result(True, "main")) is main
    assert next_printer(main, spare, _result(False, "main")) is spare
    assert next_printer(main, spare, _result(True, "backup")) is spare
    assert next_printer(main, spare, _result(False, "backup")) is main
    assert next_printer(main, replace(spare, port=""), _result(False, "main")) is main
