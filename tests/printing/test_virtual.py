"""The virtual printer on a real pty: what it prints, how it answers, how it fails.

A pyserial client talks to it through the link, exactly as the till does.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial
from hypothesis import given, settings, strategies as st

from printing.escpos_decode import next_command
from printing.virtual import STATES, VirtualPrinter, VirtualPrinterError
from tests.hang import assert_not_hung, hang_limit

ESC_INIT = b"\x1b@"
CN_ON = b"\x1c&"
CUT = b"\x1dV\x00"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def qr_commands(payload: str) -> bytes:
    """GS ( k: model, size, error level, store, print (as python-escpos sends them)."""

    def k(fn: int, data: bytes, m: bytes = b"") -> bytes:
        body = bytes((49, fn)) + m + data
        return b"\x1d(k" + bytes((len(body) & 0xFF, len(body) >> 8)) + body

    return k(65, b"\x32\x00") + k(67, b"\x05") + k(69, b"\x31") + k(80, payload.encode("utf-8"), b"0") + k(81, b"", b"0")


def gs_h(ident: bytes) -> bytes:
    return b"\x1d(H\x06\x00\x30\x30" + ident


@pytest.fixture
def vp(tmp_path):
    printer = VirtualPrinter(tmp_path / "printer", tmp_path / "paper", state_file=tmp_path / "state")
    printer.start()
    yield printer
    printer.stop()


@pytest.fixture
def port(vp):
    s = serial.Serial(str(vp.link), 115200, timeout=0.5, write_timeout=2)
    yield s
    s.close()


def receipt_text(vp: VirtualPrinter, number: int = 1, timeout: float = 5.0) -> str:
    assert vp.wait_for(lambda v: v.receipts >= number, timeout), f"receipt {number} never cut"
    return vp.receipt_path(number).read_text(encoding="utf-8")


def ask(port: serial.Serial, command: bytes, size: int = 1, timeout: float = 0.5) -> bytes:
    port.reset_input_buffer()
    port.timeout = timeout
    port.write(command)
    return port.read(size)


# ------------------------------------------------------------------ printing


def test_link_points_at_the_pty_and_is_removed_on_stop(tmp_path):
    printer = VirtualPrinter(tmp_path / "lp", tmp_path / "paper").start()
    try:
        assert os.path.islink(tmp_path / "lp")
        assert os.readlink(tmp_path / "lp") == printer.device
        assert printer.device.startswith("/dev/pts/")
    finally:
        printer.stop()
    assert not os.path.lexists(tmp_path / "lp")


def test_chinese_text_reads_right_in_the_receipt_file(vp, port):
    job = (ESC_INIT + CN_ON + b"\x1ba\x01" + gb("超赢便利店（建国路店）") + b"\n\x1ba\x00"
           + gb("农夫山泉饮用天然水 550ml") + b"\n" + b"\x1bE\x01\x1d!\x01" + gb("合计 ￥206.55")
           + b"\x1d!\x00\x1bE\x00\n" + gb("谢谢惠顾，欢迎再次光临") + b"\n\x1bd\x06" + CUT)
    port.write(job)
    text = receipt_text(vp)
    lines = text.splitlines()
    # 80 mm = 48 columns; the shop name is 22 columns wide, so centred it starts at column 13.
    assert lines[0] == " " * 13 + "超赢便利店（建国路店）"
    assert lines[1:] == ["农夫山泉饮用天然水 550ml", "合计 ￥206.55", "谢谢惠顾，欢迎再次光临"]
    assert vp.receipt_path(1, ".bin").read_bytes() == job


def test_sample_receipt_matches_the_layout_at_58_and_80_mm(tmp_path):
    from printing.config import PrinterConfig
    from printing.encode import encode_receipt
    from printing.layout import layout
    from printing.sample import sample_receipt

    for width in (58, 80):
        printer = VirtualPrinter(tmp_path / f"lp{width}", tmp_path / f"paper{width}", width=width).start()
        try:
            config = PrinterConfig(port=str(printer.link), width=width)
            job = encode_receipt(sample_receipt(), config, open_drawer=True)
            with serial.Serial(str(printer.link), 115200, write_timeout=2) as s:
                s.write(job)
            printed = receipt_text(printer).splitlines()
        finally:
            printer.stop()
        assert printer.receipt_path(1, ".bin").read_bytes() == job
        assert "[QR] https://chaoying.example/r/1-000042" in printed
        assert "[BARCODE CODE128] 1-000042" in printed
        assert printed[0] == "[DRAWER]"
        text_only = [line for line in printed if line and not line.startswith("[")]
        expected = [line.rstrip() for line in layout(sample_receipt(), config.columns) if line.strip()]
        assert text_only == expected, f"{width} mm receipt differs from the layout"


def test_qr_payload_barcode_and_image_are_shown(vp, port):
    raster = b"\x1dv0\x00" + bytes((2, 0, 3, 0)) + b"\xff" * 6  # 16 x 3 dots
    barcode = b"\x1dk\x49\x0a{B1-000123"
    job = ESC_INIT + CN_ON + qr_commands("https://chaoying.example/r/1-000123") + barcode + raster + CUT
    port.write(job)
    assert receipt_text(vp).splitlines() == [
        "[QR] https://chaoying.example/r/1-000123",
        "[BARCODE CODE128] 1-000123",
        "[IMAGE 16x3]",
    ]


def test_each_cut_is_a_new_numbered_receipt(vp, port):
    for n in range(1, 4):
        port.write(ESC_INIT + CN_ON + gb(f"第{n}张小票") + b"\n" + CUT)
    assert receipt_text(vp, 3) == "第3张小票\n"
    assert receipt_text(vp, 1) == "第1张小票\n"
    assert sorted(p.name for p in vp.paper_dir.iterdir()) == [
        "0001.bin", "0001.txt", "0002.bin", "0002.txt", "0003.bin", "0003.txt",
    ]


def test_numbering_continues_after_receipts_already_in_the_folder(tmp_path):
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "0007.txt").write_text("old\n", encoding="utf-8")
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper") as printer:
        with serial.Serial(str(printer.link), 115200, write_timeout=2) as s:
            s.write(ESC_INIT + b"new\n" + CUT)
        assert printer.wait_for(lambda v: v.receipts == 1, 5)
    assert (tmp_path / "paper" / "0008.txt").read_text(encoding="utf-8") == "new\n"
    assert (tmp_path / "paper" / "0007.txt").read_text(encoding="utf-8") == "old\n"


def test_drawer_kick_is_counted_and_noted(vp, port):
    port.write(ESC_INIT + CN_ON + b"\x1bp\x00\x32\x32" + gb("现金") + b"\n" + CUT)
    assert receipt_text(vp).splitlines() == ["[DRAWER]", "现金"]
    # A kick on its own (open_drawer) prints nothing and does not leak into the next receipt.
    port.write(b"\x1bp\x00\x32\x32")
    assert vp.wait_for(lambda v: v.drawer_kicks == 2, 5)
    port.write(ESC_INIT + CN_ON + gb("下一张") + b"\n" + CUT)
    assert receipt_text(vp, 2) == "下一张\n"
    assert vp.drawer_kicks == 2


def test_unknown_and_unused_commands_are_skipped_without_losing_text(vp, port):
    job = (ESC_INIT + CN_ON
           + b"\x1b(A\x04\x00\x30\x37\x01\x02"   # ESC ( A beeper, length-prefixed
           + b"\x1dL\x10\x00"                    # GS L left margin
           + b"\x1b\x99"                         # an ESC command no printer knows
           + b"\x1d(E\x03\x00\x01\x49\x4e"       # GS ( E user setup
           + b"\x1c!\x04\x1bM\x00\x1d\x7c\x04\r"  # FS !, font A, density, CR
           + gb("仍然可读") + b"\n" + CUT)
    port.write(job)
    assert receipt_text(vp) == "仍然可读\n"


def test_without_chinese_mode_text_is_a_code_page(vp, port):
    port.write(ESC_INIT + b"\x1c.Caf\x82 ? \x9c1.50\n" + CUT)  # cp437: e-acute, pound sign
    assert receipt_text(vp) == "Café ? £1.50\n"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.binary(max_size=40))
def test_any_bytes_decode_without_error_or_getting_stuck(junk, tail):
    data = junk + b"\x1b@" + tail
    i = 0
    while i < len(data):
        got = next_command(data, i)
        if got is None:  # only an incomplete command at the end may wait for more bytes
            break
        assert got[1] > i
        i = got[1]


def test_long_lines_wrap_at_the_paper_width(tmp_path):
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", width=58) as printer:
        with serial.Serial(str(printer.link), 115200, write_timeout=2) as s:
            s.write(ESC_INIT + CN_ON + gb("一二三四五六七八九十" * 2) + b"\n" + CUT)
        lines = receipt_text(printer).splitlines()
    assert lines == ["一二三四五六七八九十一二三四五六", "七八九十"]  # 32 columns, 2 per character


def test_chinese_split_across_reads_at_line_rate(tmp_path):
    """At 19200 baud the printer reads ~38 bytes at a time: characters straddle reads."""
    body = gb("超赢收银台，中文小票逐字节到达也不乱码。") * 8
    job = ESC_INIT + CN_ON + body + b"\n" + CUT
    floor = len(job) / 1920.0
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", baud=19200) as printer:
        with serial.Serial(str(printer.link), 19200, write_timeout=2) as s:
            start = time.monotonic()
            s.write(job + gs_h(b"0001"))
            s.timeout = hang_limit(floor)  # a hang guard, not a speed check: the answer must come at all
            answer = s.read(7)
            elapsed = time.monotonic() - start
        text = receipt_text(printer)
    assert answer == b"\x37\x22" + b"0001" + b"\x00"
    # paced at the line rate: it can only come later under load, never sooner
    assert floor * 0.9 <= elapsed, f"{elapsed:.3f} s for a {floor:.3f} s line-rate floor"
    assert text.replace("\n", "") == body.decode("gb18030")
    assert "\ufffd" not in text


# ------------------------------------------------------------------ answers

# state -> DLE EOT 1, 2, 3, 4 replies, GS r 1 reply (None: no answer), GS ( H answered
EXPECTED = {
    "ok": (0x12, 0x12, 0x12, 0x12, 0x00, True),
    "near-end": (0x12, 0x12, 0x12, 0x1E, 0x03, True),
    "paper-out": (0x1A, 0x32, 0x12, 0x7E, None, False),
    "cover-open": (0x1A, 0x16, 0x12, 0x12, None, False),
    "offline": (0x1A, 0x12, 0x12, 0x12, None, False),
    "error": (0x1A, 0x52, 0x1A, 0x12, None, False),
    "no-confirm": (0x12, 0x12, 0x12, 0x12, None, False),
}


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_status_answers_per_state(vp, port, state):
    vp.set_state(state)
    *eot, gs_r, confirms = EXPECTED[state]
    for n, want in zip((1, 2, 3, 4), eot):
        got = ask(port, b"\x10\x04" + bytes((n,)))
        assert got == bytes((want,)), f"{state}: DLE EOT {n} answered {got.hex()}, want {want:02x}"
        assert got[0] & 0x93 == 0x12  # the Epson shape 0xx1xx10
    timeout = 0.5 if gs_r is not None else 0.25
    assert ask(port, b"\x1dr\x01", timeout=timeout) == (b"" if gs_r is None else bytes((gs_r,)))
    reply = ask(port, gs_h(b"4711"), 7, timeout=0.5 if confirms else 0.25)
    assert reply == (b"\x37\x22" + b"4711" + b"\x00" if confirms else b"")


def test_gs_h_is_answered_only_after_the_job_before_it(tmp_path):
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", baud=38400) as printer:
        with serial.Serial(str(printer.link), 38400, timeout=3, write_timeout=2) as s:
            job = ESC_INIT + CN_ON + gb("一行中文\n") * 60 + CUT
            s.write(job + gs_h(b"0042"))
            reply = s.read(7)
            # The answer comes once the cut was processed: the receipt exists by then.
            assert printer.receipts == 1
    assert reply == b"7\"0042\x00"


def test_silent_answers_nothing_and_prints_nothing(vp, port):
    vp.set_state("silent")
    assert ask(port, b"\x10\x04\x01", timeout=0.3) == b""
    port.write(ESC_INIT + b"lost\n" + CUT)
    assert ask(port, gs_h(b"0001"), 7, timeout=0.3) == b""
    assert vp.wait_for(lambda v: v.bytes_received >= 20, 2)
    assert vp.receipts == 0 and not list(vp.paper_dir.glob("*.txt"))


def test_paper_out_discards_the_job_and_prints_again_once_refilled(vp, port):
    vp.set_state("paper-out")
    port.write(ESC_INIT + b"discarded\n" + CUT)
    assert ask(port, b"\x10\x04\x04") == b"\x7e"
    vp.set_state("ok")
    port.write(ESC_INIT + b"printed\n" + CUT)
    assert receipt_text(vp) == "printed\n"


def test_stall_stops_reading_and_resumes(vp, port):
    vp.set_state("stall")
    port.write(ESC_INIT + b"held\n" + CUT)
    assert ask(port, b"\x10\x04\x01", timeout=0.3) == b""
    seen = vp.rounds  # both writes have returned: their bytes wait on the line
    assert vp.wait_for(lambda v: v.rounds >= seen + 2, 5), "the reading loop stopped going round"
    assert vp.bytes_received == 0  # a whole round since: it looked at its state and read nothing from the line
    vp.set_state("ok")
    assert receipt_text(vp) == "held\n"


def test_drained_once_every_byte_sent_has_been_read_and_run(vp, port):
    vp.set_state("stall")
    port.write(b"\x1bp\x00\x32\x32")  # a drawer kick: no answer, no receipt, only the count says it was run
    seen = vp.rounds
    assert vp.wait_for(lambda v: v.rounds >= seen + 2, 5), "the reading loop stopped going round"
    assert not vp.drained()  # stalled: the kick waits on the line
    vp.set_state("ok")
    assert vp.wait_for(lambda v: v.drained(), 5), "the printer never read the line empty"
    assert vp.drawer_kicks == 1  # drained means run, not only read


def test_stall_fills_the_line_until_the_writer_times_out(vp):
    vp.set_state("stall")
    with serial.Serial(str(vp.link), 115200, write_timeout=0.5) as s:
        start = time.monotonic()
        with pytest.raises(serial.SerialTimeoutException):  # the write timed out: it did not block
            s.write(b"x" * 256 * 1024)
        assert_not_hung(time.monotonic() - start, 0.5, "a write to a stalled printer")
        s.reset_output_buffer()
    assert vp.bytes_received == 0  # the stalled printer read nothing: the line filled up


def test_garbage_state_answers_the_wrong_shape(vp, port):
    vp.set_state("garbage")
    reply = ask(port, b"\x10\x04\x01", 2)
    assert reply and reply[0] & 0x93 != 0x12


def test_state_file_is_read_on_every_command(vp, port, tmp_path):
    assert (tmp_path / "state").read_text().strip() == "ok"
    (tmp_path / "state").write_text("cover-open\n")  # as a shop owner would, with an editor
    assert ask(port, b"\x10\x04\x02") == b"\x16"
    (tmp_path / "state").write_text("paper-jam\n")  # unknown word: ignored, last state kept
    assert ask(port, b"\x10\x04\x02") == b"\x16"
    (tmp_path / "state").write_text("OK\n")
    assert ask(port, b"\x10\x04\x02") == b"\x12"


def test_switch_state_at_the_cut_strikes_before_the_confirmation(vp, port):
    vp.switch_state_at("paper-out", at_cut=True)
    port.write(ESC_INIT + b"last receipt\n" + CUT + gs_h(b"0009"))
    assert receipt_text(vp) == "last receipt\n"
    port.timeout = 0.3
    assert port.read(7) == b""  # no "printing completed"
    assert vp.state == "paper-out"


def test_set_state_rejects_unknown_words(vp):
    with pytest.raises(ValueError):
        vp.set_state("jammed")
    assert set(EXPECTED) | {"silent", "stall", "garbage"} == set(STATES)


def test_link_path_taken_by_a_file_is_refused(tmp_path):
    (tmp_path / "lp").write_text("not a link")
    with pytest.raises(VirtualPrinterError):
        VirtualPrinter(tmp_path / "lp", tmp_path / "paper").start()
    assert (tmp_path / "lp").read_text() == "not a link"


def test_stale_link_is_replaced(tmp_path):
    os.symlink("/dev/pts/does-not-exist", tmp_path / "lp")
    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper") as printer:
        assert os.readlink(tmp_path / "lp") == printer.device


def test_bad_width_is_refused(tmp_path):
    with pytest.raises(ValueError):
        VirtualPrinter(tmp_path / "lp", tmp_path / "paper", width=76)


def test_run_blocks_until_sigterm_and_cleans_up(tmp_path):
    code = (
        "import sys; from printing.virtual import VirtualPrinter\n"
        "p = VirtualPrinter(sys.argv[1], sys.argv[2]); p.run(lambda p: print('up', flush=True))\n"
        "print('stopped', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "lp"), str(tmp_path / "paper")],
                            stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).resolve().parents[2]))
    try:
        assert proc.stdout.readline().strip() == "up"
        assert os.path.islink(tmp_path / "lp")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert out.strip() == "stopped"
    assert not os.path.lexists(tmp_path / "lp")
