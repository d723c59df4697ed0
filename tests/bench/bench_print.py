"""Benchmark: a confirmed print of a 10-line Chinese receipt with a QR code.

Run: python tests/bench/bench_print.py [--repeat N] [--bauds 9600,115200]

Against the virtual printer on a pty, paced at the configured baud rate, it
compares Chaoying's path (DLE EOT status, native QR, GS ( H confirmation)
with (a) the line-rate floor, bytes / (baud / 10), and (b) python-escpos's
default path (escpos.printer.Serial: is_online() + paper_status() + image
QR), timed until the virtual printer has cut the receipt (python-escpos has
no confirmation of its own). Target: Chaoying within 1.2x of the floor.

Then the fault matrix (tests/printing/test_faults.py checks each fault's
deadline, not the clock): each fault struck before and after the job, the
wall time of print_receipt() as a share of the deadline it held itself to
(PrintResult.deadline). Target: the worst under 1.0x.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from printing.config import PrinterConfig  # noqa: E402
from printing.encode import encode_text, escpos_module  # noqa: E402
from printing.layout import blocks  # noqa: E402
from printing.printer import print_receipt  # noqa: E402
from printing.sample import sample_receipt  # noqa: E402
from printing.virtual import VirtualPrinter  # noqa: E402
from tests.bench import common  # noqa: E402


def chaoying_path(vp: VirtualPrinter, config: PrinterConfig, receipt) -> tuple:
    before = vp.bytes_received
    start = time.monotonic()
    result = print_receipt(receipt, config)
    wall = time.monotonic() - start
    if not result.ok:
        raise SystemExit("chaoying print failed: %s (%s)" % (result.code, result.evidence))
    return vp.bytes_received - before, wall


def escpos_path(vp: VirtualPrinter, config: PrinterConfig, receipt) -> tuple:
    """python-escpos as its documentation suggests: status helpers, text, image QR, cut."""
    escpos_module()
    from escpos.printer import Serial

    text = b"\x1b@\x1c&" + b"".join(
        encode_text(b.text, "gb18030") + b"\n" for b in blocks(receipt, config.columns) if b.kind == "text"
    )
    printer = Serial(devfile=config.port, baudrate=config.baudrate, timeout=1, dsrdtr=False)
    before_bytes, before_receipts = vp.bytes_received, vp.receipts
    start = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos print()s warnings
        printer.open()
        online = printer.is_online()
        paper = printer.paper_status()
        if not online or paper == 0:
            raise SystemExit("python-escpos saw the printer as not ready")
        printer._raw(text)
        printer.qr(receipt.qr_payload, size=5)
        printer.cut()
    if not vp.wait_for(lambda p: p.receipts > before_receipts, 120):
        raise SystemExit("the python-escpos receipt never came out")
    wall = time.monotonic() - start
    printer.close()
    return vp.bytes_received - before_bytes, wall


FAULTS = ("paper-out", "cover-open", "offline", "silent", "stall", "no-confirm")
FAULT_BAUD = 38400  # as in tests/printing/test_faults.py


def fault_matrix(folder: Path, repeat: int) -> list:
    """Wall time / PrintResult.deadline of each fault, struck before and after the job, repeat times."""
    receipt = sample_receipt()
    shares = []
    with VirtualPrinter(folder / "tty", folder / "paper", folder / "state", baud=FAULT_BAUD) as vp:
        config = PrinterConfig(port=str(vp.link), baudrate=FAULT_BAUD, slack_seconds=0.5)
        for _ in range(repeat):
            for state in FAULTS:
                for when in ("before", "after"):
                    if when == "before":
                        vp.set_state(state)
                    else:
                        vp.set_state("ok")
                        vp.switch_state_at(state, at_cut=True)
                    start = time.monotonic()
                    result = print_receipt(receipt, config)
                    shares.append((time.monotonic() - start) / result.deadline)
                    if result.ok:
                        raise SystemExit("%s %s the job was reported printed" % (state, when))
                    vp.set_state("ok")
    return shares


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per path and baud (median is shown)")
    parser.add_argument("--bauds", default="9600,115200")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args(argv)
    receipt = sample_receipt()
    rows = []
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for baud in (int(b) for b in args.bauds.split(",")):
            d = Path(tmp) / str(baud)
            d.mkdir()
            vp = VirtualPrinter(d / "tty", d / "paper", d / "state", width=80, baud=baud).start()
            try:
                config = PrinterConfig(port=str(d / "tty"), baudrate=baud, qr="native", confirm="epson")
                print_receipt(receipt, config)  # warm-up: imports, capability cache
                for name, path in (("chaoying", chaoying_path), ("python-escpos", escpos_path)):
                    runs = [path(vp, config, receipt) for _ in range(args.repeat)]
                    nbytes = runs[-1][0]
                    wall = statistics.median(r[1] for r in runs)
                    rows.append((baud, name, nbytes, nbytes / (baud / 10.0), wall))
                    if name == "chaoying":  # the floor is the line rate of each run's own bytes: a ratio per run
                        stats = common.PairStats.of([r[1] for r in runs], [r[0] / (baud / 10.0) for r in runs])
                        figures.append(common.Figure.pair(f"confirmed print of a QR receipt at {baud} baud", stats,
                                                          1.2, unit="s", scale=1, floor_name="line rate"))
            finally:
                vp.stop()
    print("10-line Chinese receipt with QR, virtual printer paced at the baud rate, median of %d" % args.repeat)
    print("%7s  %-14s %7s %9s %9s %8s %12s" % ("baud", "path", "bytes", "floor s", "wall s", "x floor",
                                               "x chaoying"))
    ours = {r[0]: r for r in rows if r[1] == "chaoying"}
    for baud, name, nbytes, floor, wall in rows:
        print("%7d  %-14s %7d %9.3f %9.3f %8.2f %12.2f" % (baud, name, nbytes, floor, wall, wall / floor,
                                                            wall / ours[baud][4]))
    worst = max(r[4] / r[3] for r in rows if r[1] == "chaoying")
    print("target: chaoying within 1.20x of the line-rate floor -> worst %.2fx: %s"
          % (worst, "met" if worst <= 1.2 else "NOT met"))
    with tempfile.TemporaryDirectory() as tmp:
        shares = sorted(fault_matrix(Path(tmp), args.repeat))
    p99 = shares[min(len(shares) - 1, int(round(0.99 * (len(shares) - 1))))]
    print()
    print("fault matrix at %d baud: %d faults before and after the job, x %d" % (FAULT_BAUD, len(FAULTS),
                                                                               args.repeat))
    print("%-34s %8s %8s %8s" % ("measure", "p50", "p99", "worst"))
    print("%-34s %7.2fx %7.2fx %7.2fx" % ("wall time / result deadline", statistics.median(shares), p99,
                                           shares[-1]))
    print("target: every fault back within 1.00x of its deadline -> %s" % ("met" if shares[-1] < 1.0 else "NOT met"))
    figures.append(common.Figure("print faults: worst wall time / its deadline", f"{shares[-1]:.2f}x",
                                 target="< 1.00x", met=shares[-1] < 1.0))
    common.print_table(f"Printing; {common.machine()}", figures)
    common.write_figures(args.figures, figures)
    return 0 if common.all_met(figures) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
