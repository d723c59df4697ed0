"""`chaoying printer simulate|status|test|probe`: the virtual printer and printer checks.

Printing modules are imported inside the handlers, so other commands start fast.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from typing import Any, Optional

from tui.cli.common import CliError

WIDTHS = ("58", "80")
CONFIRMS = ("epson", "gs_r", "status")


def register(sub) -> None:
    """Add `printer` and its actions."""
    printer = sub.add_parser(
        "printer",
        help="virtual printer, printer status, test print, probe",
        description="Check a receipt printer, or run the virtual one.",
    )
    printer.set_defaults(handler=_no_action)
    actions = printer.add_subparsers(dest="printer_action", metavar="ACTION")

    sim = actions.add_parser(
        "simulate",
        help="run a virtual ESC/POS printer on a pty until killed",
        description="Run a virtual ESC/POS printer on a pty. Receipts are written to "
        "the paper folder as NNNN.txt and NNNN.bin. The state file holds one word: "
        "ok, near-end, paper-out, cover-open, offline, silent, stall, no-confirm.",
    )
    sim.add_argument("--link", metavar="PATH", help="symbolic link to create, pointing at the device")
    sim.add_argument("--paper", metavar="DIR", help="folder for the printed receipts")
    sim.add_argument("--state-file", metavar="F", help="file holding the printer state, read on every command")
    sim.add_argument("--width", metavar="58|80", default="80", help="paper width in mm (default 80)")
    sim.add_argument("--baud", metavar="N", help="process bytes no faster than N/10 per second")
    sim.add_argument("-v", "--verbose", action="store_true", help="log every receipt and state change")
    sim.set_defaults(handler=cmd_simulate)

    status = actions.add_parser("status", help="read and decode the printer status")
    _port_args(status)
    status.set_defaults(handler=cmd_status)

    test = actions.add_parser(
        "test", help="print a sample Chinese receipt; exit 0 only when the printer confirmed it"
    )
    _port_args(test)
    test.add_argument("--width", metavar="58|80", help="paper width in mm (default: settings)")
    test.add_argument("--confirm", metavar="MODE", help="epson, gs_r or status (default: settings)")
    test.set_defaults(handler=cmd_test)

    probe = actions.add_parser(
        "probe", help="find which status and confirmation commands a printer answers"
    )
    _port_args(probe)
    probe.set_defaults(handler=cmd_probe)


def _port_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", metavar="P", help="serial device (default: [printer] port in the settings)")
    parser.add_argument("--baud", metavar="N", help="baud rate (default: [printer] baudrate in the settings)")


def _no_action(args: argparse.Namespace) -> int:
    raise CliError("printer needs an action: simulate, status, test or probe", 2)


# ------------------------------------------------------------------ helpers

def _positive_int(value: Optional[str], option: str) -> Optional[int]:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise CliError(f"{option} must be a positive whole number, not {value!r}", 2)
    return number


def _width(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    if value not in WIDTHS:
        raise CliError(f"--width must be 58 or 80 (mm), not {value!r}", 2)
    return int(value)


def _config(args: argparse.Namespace) -> Any:
    """The [printer] settings with --port, --baud, --width and --confirm applied."""
    from tui.cli.common import load_settings

    values = dataclasses.asdict(load_settings(args).printer)
    if args.port is not None:
        if not args.port.strip():
            raise CliError("--port must name a serial device such as /dev/ttyUSB0", 2)
        values["port"] = args.port
    baud = _positive_int(args.baud, "--baud")
    if baud is not None:
        values["baudrate"] = baud
    width = _width(getattr(args, "width", None))
    if width is not None:
        values["width"] = width
    confirm = getattr(args, "confirm", None)
    if confirm is not None:
        if confirm not in CONFIRMS:
            raise CliError(f"--confirm must be epson, gs_r or status, not {confirm!r}", 2)
        values["confirm"] = confirm
    if not str(values.get("port", "")).strip():
        raise CliError("no printer port: give --port or set [printer] port in the settings", 2)

    from printing.config import PrinterConfig

    try:
        return PrinterConfig(**values)
    except ValueError as exc:
        raise CliError(str(exc), 2) from None


def _log_to_stderr(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("chaoying: %(message)s"))
    logger = logging.getLogger("chaoying")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# ------------------------------------------------------------------ handlers

def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the virtual printer in the foreground until SIGTERM / SIGINT."""
    if not args.link:
        raise CliError("printer simulate needs --link PATH (the device link to create)", 2)
    if not args.paper:
        raise CliError("printer simulate needs --paper DIR (where receipts are written)", 2)
    _check_simulator_files(args)
    width = _width(args.width)
    assert width is not None  # simulate's --width defaults to "80"
    baud = _positive_int(args.baud, "--baud")
    _log_to_stderr(args.verbose)

    from printing.virtual import VirtualPrinter, VirtualPrinterError

    def ready(printer: VirtualPrinter) -> None:
        state = f", state file {printer.state_file}" if printer.state_file else ""
        print(
            f"virtual printer on {printer.device}, link {printer.link}, "
            f"{width} mm paper, receipts in {printer.paper_dir}{state}",
            flush=True,
        )

    printer = VirtualPrinter(args.link, args.paper, state_file=args.state_file, width=width, baud=baud)
    try:
        printer.run(on_ready=ready)
    except (VirtualPrinterError, OSError) as exc:
        raise CliError(f"cannot start the virtual printer: {exc}", 1) from None
    return 0


def _check_simulator_files(args: argparse.Namespace) -> None:
    """The link and the state file the simulator writes are never one of the shop's files.

    Both may exist (a stale link, the state file of an earlier run); the
    simulator needs no settings, so settings that do not load protect nothing.
    """
    from tui.cli.common import check_output
    from tui.settings import SettingsError, load

    try:
        settings = load(getattr(args, "config", None))
    except SettingsError:
        return
    for path in (args.link, args.state_file):
        if path:
            check_output(path, True, settings)


def cmd_status(args: argparse.Namespace) -> int:
    """Print the decoded status; 0 when ready to print, 1 otherwise."""
    config = _config(args)
    from printing.printer import read_status
    from printing.transport import PrinterError

    try:
        status = read_status(config)
    except PrinterError as exc:
        print(f"printer {config.port}: {exc.reason_zh} / {exc.reason_en} ({exc.code})")
        return 1
    ready = status.online and not status.cover_open and not status.paper_end and not status.error
    if ready:
        verdict = "ready (就绪)"
    else:
        verdict = "not ready (未就绪)"
    print(f"printer {config.port}: {verdict}")
    paper = "out" if status.paper_end else "near end" if status.paper_near_end else "ok"
    print(f"  online: {_yes(status.online)}")
    print(f"  cover open: {_yes(status.cover_open)}")
    print(f"  paper: {paper}")
    print(f"  error: {_yes(status.error)}")
    if status.raw:
        print("  raw: " + ", ".join(f"{k}={_show(v)}" for k, v in status.raw.items()))
    if ready and status.paper_near_end:
        print("warning: paper near end (纸将用完)")
    return 0 if ready else 1


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"0x{value:02X}"
    if isinstance(value, (bytes, bytearray)):
        return value.hex() or "-"
    return str(value)


def cmd_test(args: argparse.Namespace) -> int:
    """Print the sample receipt; 0 only when the printer confirmed it."""
    config = _config(args)
    from printing.printer import print_receipt
    from printing.sample import sample_receipt

    result = print_receipt(sample_receipt(), config)
    if result.ok:
        if config.confirm == "status":
            print(
                f"printed: sample receipt sent to {config.port}; status only: the printer is online "
                f"with paper after the job but cannot confirm printing (weakest evidence, 仅凭状态确认) "
                f"({result.bytes_sent} bytes, {result.seconds:.2f} s)"
            )
        else:
            print(
                f"printed: sample receipt confirmed by the printer on {config.port} "
                f"(confirm {config.confirm}, {result.bytes_sent} bytes, {result.seconds:.2f} s)"
            )
        if result.warning:
            print(f"warning: {_warning_text(result.warning)}")
        return 0
    print(f"not printed: {result.reason_zh} / {result.reason_en} ({result.code})")
    if result.evidence:
        print(f"  evidence: {result.evidence}")
    return 1


def _warning_text(code: str) -> str:
    if code == "paper_near_end":
        return "纸将用完 / paper near end"
    return code


def cmd_probe(args: argparse.Namespace) -> int:
    """Print which commands answered and the settings to use; 0 when the status answers."""
    config = _config(args)
    from printing.printer import probe

    report = probe(config.port, config.baudrate)
    _print_probe(config.port, config.baudrate, report)
    return 0 if report.get("suggested") else 1


_DLE_EOT_NAMES = {1: "printer status", 2: "offline cause", 3: "error cause", 4: "paper sensor"}


def _print_probe(port: str, baudrate: int, report: dict) -> None:
    print(f"probe {port} at {baudrate} baud:")
    rows = []
    for n, reply in sorted((report.get("dle_eot") or {}).items()):
        rows.append((f"DLE EOT {n} ({_DLE_EOT_NAMES.get(n, 'status')})", _answer_text(reply)))
    if "gs_r" in report:
        rows.append(("GS r 1 (data processed)", _answer_text(report.get("gs_r"))))
    if "gs_paren_h" in report:
        rows.append(("GS ( H (printing completed)", _answer_text(report.get("gs_paren_h"))))
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"  {name.ljust(width)}  {text}")
    if report.get("status"):
        print(f"  status: {report['status']}")
    suggested = report.get("suggested") or {}
    if not suggested:
        zh, en = report.get("reason_zh", ""), report.get("reason_en", "")
        code = report.get("error") or "no_answer"
        print(f"no settings to suggest: {zh} / {en} ({code})" if zh else f"no settings to suggest ({code})")
        return
    print("settings to use:")
    print("[printer]")
    for key, value in suggested.items():
        print(f"{key} = {_toml(value)}")
    if suggested.get("confirm") == "status":
        print("note: this printer cannot confirm printing; status only is the weakest evidence (仅凭状态确认)")


def _answer_text(answer: Any) -> str:
    if answer is None or answer is False or answer == b"" or answer == "":
        return "no answer"
    if answer is True:
        return "answered"
    return f"answered {_show(answer)}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
