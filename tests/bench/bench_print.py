"""Benchmark: a confirmed print of a 10-line Chinese receipt with a QR code.

Run: python tests/bench/bench_print.py [--repeat N] [--bauds 9600,115200]

Against the virtual printer on a pty, paced at the configured baud rate, it
compares Chaoying's path (DLE EOT status, native QR, GS ( H confirmation)
with (a) the line-rate floor, bytes / (baud / 10), and (b) python-escpos's
default path (escpos.printer.Serial: is_online() + paper_status() + image
QR), timed until the virtual printer has cut the receipt (python-escpos has
no confirmation of its own). Target: Chaoying within 1.2x of the floor.
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per path and baud (median is shown)")
    parser.add_argument("--bauds", default="9600,115200")
    args = parser.parse_args(argv)
    receipt = sample_receipt()
    rows = []
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
