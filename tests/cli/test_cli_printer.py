"""`chaoying printer ...` as a shop owner runs it, against a real pty.

`printer simulate` runs as its own process (it lives until SIGTERM);
`printer test|status|probe` run in this process (``tests.cli.helpers.Cli``)
and talk to it through its link. No run may show a traceback.
"""
from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

import pytest

from printing.config import PrinterConfig
from printing.encode import encode_receipt
from printing.printer import REASONS
from printing.sample import sample_receipt
from tests.cli.helpers import Cli, Result, command, enter_home, process_env
from tests.hang import assert_not_hung

BAUD = "115200"


def _env(home: Path) -> dict:
    return {}  # no settings file in the XDG config folder of this home: all defaults


class Simulator:
    """`chaoying printer simulate` running in the background."""

    def __init__(self, home: Path, *extra: str):
        self.home = home
        self.link = home / "printer"
        self.paper = home / "paper"
        self.state = home / "printer-state"  # not "state": that is XDG_STATE_HOME
        argv = command() + ["printer", "simulate", "--link", str(self.link), "--paper", str(self.paper),
                            "--state-file", str(self.state), "--baud", BAUD, *extra]
        self.proc = subprocess.Popen(argv, cwd=str(home), env=process_env(home, _env(home)), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.banner = self._first_line(15)

    def _first_line(self, timeout: float) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                raise AssertionError("printer simulate printed nothing within %.0f s" % timeout)
        finally:
            sel.close()
        return self.proc.stdout.readline().strip()

    def set_state(self, word: str) -> None:
        self.state.write_text(word + "\n", encoding="utf-8")

    def terminate(self, timeout: float = 10) -> subprocess.CompletedProcess:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("printer simulate did not stop on SIGTERM") from None
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


@pytest.fixture
def sim(tmp_path):
    simulator = Simulator(tmp_path)
    yield simulator
    done = simulator.terminate()
    assert "Traceback" not in done.stderr, done.stderr


@pytest.fixture
def chaoying(tmp_path, capsys, monkeypatch) -> Cli:
    """`chaoying ARGS` in this process, at home in tmp_path (where the simulator lives)."""
    enter_home(monkeypatch, tmp_path, **_env(tmp_path))
    return Cli(capsys, monkeypatch)


def printer_test(chaoying: Cli, sim: Simulator, *extra: str) -> Result:
    return chaoying("printer", "test", "--port", str(sim.link), "--baud", BAUD, *extra)


# ------------------------------------------------------------------ simulate + test


def test_simulate_says_where_the_device_is(sim):
    assert sim.banner.startswith("virtual printer on /dev/pts/"), sim.banner
    assert str(sim.link) in sim.banner
    assert os.readlink(sim.link) in sim.banner
    assert sim.state.read_text().strip() == "ok"


def test_printer_test_prints_the_chinese_sample_receipt(sim, chaoying):
    result = printer_test(chaoying, sim)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.startswith("printed: sample receipt confirmed by the printer")
    text = (sim.paper / "0001.txt").read_text(encoding="utf-8")
    sample = sample_receipt()
    assert "超赢便利店（建国路店）" in text
    for line in sample.lines:
        assert line.name[:8] in text, line.name
    assert "合计" in text and "￥" in text
    assert f"[QR] {sample.qr_payload}" in text
    assert "\ufffd" not in text and "?" not in text  # nothing lost in GB18030
    assert (sim.paper / "0001.bin").read_bytes().startswith(b"\x1b@\x1c&")


# state -> (exit code, reason code of the sentence printed)
FAULTS = {
    "paper-out": (1, "paper_out"),
    "cover-open": (1, "cover_open"),
    "offline": (1, "offline"),
    "silent": (1, "no_answer"),
    "stall": (1, "no_answer"),
    "no-confirm": (1, "not_confirmed"),
}


@pytest.mark.parametrize("state", sorted(FAULTS))
def test_printer_test_fails_with_the_reason_within_its_deadline(sim, state, chaoying):
    sim.set_state(state)
    start = time.monotonic()
    result = printer_test(chaoying, sim)
    elapsed = time.monotonic() - start
    code, reason = FAULTS[state]
    zh, en = REASONS[reason]
    assert result.returncode == code, (result.stdout, result.stderr)
    assert f"not printed: {zh} / {en} ({reason})" in result.stdout
    # A hang guard, not a speed check: the deadline itself is checked in tests/printing/test_faults.py.
    # Our own bound on that deadline: the default 3 s slack, twice the line time, 3 s of status reads.
    job = len(encode_receipt(sample_receipt(), PrinterConfig(port=str(sim.link), baudrate=int(BAUD))))
    assert_not_hung(elapsed, 3.0 + 2 * job / (int(BAUD) / 10.0) + 3.0, state)
    if state != "no-confirm":  # a printer that cannot confirm still prints
        assert not list(sim.paper.glob("*.txt"))


def test_printer_test_with_paper_near_end_prints_and_warns(sim, chaoying):
    sim.set_state("near-end")
    result = printer_test(chaoying, sim)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "warning: 纸将用完 / paper near end" in result.stdout
    assert (sim.paper / "0001.txt").exists()


def test_printer_test_uses_the_settings_without_port(sim, chaoying):
    config = sim.home / "shop.toml"
    config.write_text(f'[printer]\nport = "{sim.link}"\nbaudrate = {BAUD}\nwidth = 58\n', encoding="utf-8")
    result = chaoying("--config", str(config), "printer", "test")
    assert result.returncode == 0, (result.stdout, result.stderr)
    lines = (sim.paper / "0001.txt").read_text(encoding="utf-8").splitlines()
    assert max(len(line) for line in lines if not line.startswith("[")) <= 32


def test_printer_test_with_gs_r_confirmation(sim, chaoying):
    result = printer_test(chaoying, sim, "--confirm", "gs_r")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "confirm gs_r" in result.stdout


# ------------------------------------------------------------------ status


def test_status_of_a_ready_printer(sim, chaoying):
    result = chaoying("printer", "status", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stdout.splitlines()[:5] == [
        f"printer {sim.link}: ready (就绪)",
        "  online: yes",
        "  cover open: no",
        "  paper: ok",
        "  error: no",
    ]


@pytest.mark.parametrize("state,code,line", [
    ("paper-out", 1, "  paper: out"),
    ("cover-open", 1, "  cover open: yes"),
    ("offline", 1, "  online: no"),
    ("near-end", 0, "  paper: near end"),
])
def test_status_decodes_each_state(sim, state, code, line, chaoying):
    sim.set_state(state)
    result = chaoying("printer", "status", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert line in result.stdout.splitlines()


def test_status_of_a_silent_printer(sim, chaoying):
    sim.set_state("silent")
    result = chaoying("printer", "status", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == 1
    assert "打印机没有响应 / printer not answering (no_answer)" in result.stdout


def test_status_of_a_missing_port(tmp_path, chaoying):
    result = chaoying("printer", "status", "--port", str(tmp_path / "nothing-here"))
    assert result.returncode == 1
    assert "printer port not found" in result.stdout


# ------------------------------------------------------------------ probe


def test_probe_an_epson_like_printer(sim, chaoying):
    result = chaoying("printer", "probe", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == 0, (result.stdout, result.stderr)
    out = result.stdout
    assert "DLE EOT 1 (printer status)" in out and "answered 0x12" in out
    assert "GS ( H (printing completed)  answered" in out
    assert out.splitlines()[-4:] == ["[printer]", f'port = "{sim.link}"', f"baudrate = {BAUD}",
                                     'confirm = "epson"']


def test_probe_a_cheap_printer_that_cannot_confirm(sim, chaoying):
    sim.set_state("no-confirm")
    result = chaoying("printer", "probe", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "GS ( H (printing completed)  no answer" in result.stdout
    assert 'confirm = "status"' in result.stdout
    assert "weakest evidence" in result.stdout


def test_probe_a_silent_printer(sim, chaoying):
    sim.set_state("silent")
    result = chaoying("printer", "probe", "--port", str(sim.link), "--baud", BAUD)
    assert result.returncode == 1
    assert "no settings to suggest: 打印机没有响应 / printer not answering" in result.stdout


# ------------------------------------------------------------------ life cycle and bad input


def test_sigterm_ends_simulate_cleanly(tmp_path):
    sim = Simulator(tmp_path)
    assert os.path.islink(sim.link)
    done = sim.terminate()
    assert done.returncode == 0, done.stderr
    assert not os.path.lexists(sim.link)
    assert done.stderr == ""


def test_simulate_refuses_a_link_path_that_is_a_file(tmp_path, chaoying):
    (tmp_path / "printer").write_text("keep me")
    result = chaoying("printer", "simulate", "--link", str(tmp_path / "printer"),
                      "--paper", str(tmp_path / "paper"))
    assert result.returncode == 1
    assert result.stderr.startswith("chaoying: cannot start the virtual printer:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "printer").read_text() == "keep me"


@pytest.mark.parametrize("args,message", [
    (["printer"], "printer needs an action"),
    (["printer", "simulate", "--paper", "p"], "needs --link"),
    (["printer", "simulate", "--link", "l", "--paper", "p", "--width", "76"], "--width must be 58 or 80"),
    (["printer", "simulate", "--link", "l", "--paper", "p", "--baud", "fast"], "--baud must be a positive"),
    (["printer", "test", "--port", "/dev/null", "--confirm", "maybe"], "--confirm must be"),
    (["printer", "status", "--port", "/dev/null", "--baud", "-5"], "--baud must be a positive"),
])
def test_bad_input_is_one_sentence(tmp_path, args, message, chaoying):
    result = chaoying(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chaoying: ") and message in lines[0], result.stderr
    assert not (tmp_path / "l").exists() and not (tmp_path / "p").exists()
