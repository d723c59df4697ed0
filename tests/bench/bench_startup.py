"""Start-up, memory and keystroke latency of the till, against a bare Textual app.

Run: python tests/bench/bench_startup.py [--runs 7]

Start-up is measured from launching the process to the first frame being
on screen and the app taking keys (App Ready + one refresh), in a real pty at
80x24. The floor is a bare Textual app with Header, Input and Footer, run
the same way in the same run. Peak memory is ru_maxrss at that moment. The
till is run through the real CLI (`chaoying --config ... run`) on a SQLite
shop with a catalogue. Keystroke latency is measured with Pilot: Enter after
a scanned code until the basket holds the new row.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_STARTUP = 1.5
TARGET_MEMORY = 1.5


# ---------------------------------------------------------------- children


def _report(result_file: str) -> None:
    import resource

    with open(result_file, "w") as handle:
        json.dump({"ready": time.time(), "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, handle)


def child_bare(result_file: str) -> None:
    from textual.app import App
    from textual.widgets import Footer, Header, Input

    class Bare(App):
        def compose(self):
            yield Header()
            yield Input()
            yield Footer()

        def on_ready(self) -> None:
            self.call_after_refresh(self.done)

        def done(self) -> None:
            _report(result_file)
            self.exit()

    Bare().run()


def child_till(result_file: str, config: str) -> None:
    import tui.cli.till as till_cli
    from tui.cli import main

    opened = till_cli._open_database

    def open_then_measure(url: str) -> None:
        # tui.app is imported here, where run_till itself first imports it (after the
        # database is open): importing it earlier would load what a SQLite till never
        # loads (peewee's PostgreSQL driver) and measure another start-up than the real one.
        opened(url)
        import tui.app

        class Measured(tui.app.ChaoyingApp):
            def on_ready(self) -> None:
                self.call_after_refresh(self.done)

            def done(self) -> None:
                _report(result_file)
                self.exit()

        tui.app.ChaoyingApp = Measured  # run_till imports it at call time

    till_cli._open_database = open_then_measure
    sys.exit(main(["--config", config, "run"]))


# ---------------------------------------------------------------- parent


def make_shop(folder: Path) -> Path:
    """A settings file and a migrated SQLite shop with the demo catalogue."""
    config = folder / "chaoying.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///{}"\n[printer]\nport = "{}"\n[ui]\nlanguage = "zh"\n'.format(
            folder / "shop.sqlite3", folder / "no-printer"),
        encoding="utf-8",
    )
    code = (
        "from store.db import open_database; from tui.demo import seed_catalogue;"
        f"open_database('sqlite:///{folder / 'shop.sqlite3'}'); seed_catalogue()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT))
    return config


def run_in_pty(args: list, folder: Path) -> dict:
    """Start a child on a fresh 80x24 pty; return seconds to ready and peak memory."""
    import fcntl
    import termios

    result_file = folder / "result.json"
    if result_file.exists():
        result_file.unlink()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", CHAOYING_LOG_DIR=str(folder / "logs"))
    env.pop("DATABASE_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed till runs from .pyc files: measure that
    stop = threading.Event()

    def drain() -> None:  # a terminal that reads what the app draws
        while not stop.is_set():
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.time()
    process = subprocess.Popen([sys.executable, __file__, *args, str(result_file)], stdin=slave,
                               stdout=slave, stderr=slave, cwd=str(ROOT), env=env, start_new_session=True)
    try:
        process.wait(timeout=60)
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
    data = json.loads(result_file.read_text())
    return {"seconds": data["ready"] - started, "maxrss_mb": data["maxrss_kb"] / 1024}


async def keystroke_latency(folder: Path, scans: int) -> dict:
    """Enter after a scanned code -> the basket table holds the new row (Pilot, headless).

    ``enter_ms``: from pressing Enter to the end of the basket update (the app's own work:
    key dispatch, product lookup, table refresh). ``round_ms``: Pilot's whole round trip
    for the Enter key, which also waits for the screen to settle.
    """

    from textual.widgets import DataTable

    from tui.app import ChaoyingApp
    from tui.demo import start_demo
    from tui.screens.sale import SaleScreen
    from tui.settings import load_settings

    base = load_settings(None).with_ui(language="zh")  # each scan a line of its own: the table grows
    settings, demo = start_demo(dataclasses.replace(
        base, selling=dataclasses.replace(base.selling, merge_scans=False)), folder / "pilot")
    updated = []
    original = SaleScreen.refresh_basket

    def timed(self, *args, **kwargs):
        original(self, *args, **kwargs)
        updated.append(time.perf_counter())

    SaleScreen.refresh_basket = timed
    enter, round_trip = [], []
    try:
        app = ChaoyingApp(settings, demo=demo)
        async with app.run_test(size=(80, 24)) as pilot:
            while not app.started:  # start-up store work answered (off the UI thread); scans before it wait
                await pilot.pause(0.01)
            table = app.sale_screen.query_one("#basket", DataTable)
            for number in range(scans):
                await pilot.press(*"6901234567892")
                updated.clear()
                t0 = time.perf_counter()
                await pilot.press("enter")
                t1 = time.perf_counter()
                assert table.row_count == number + 1 and updated
                enter.append(updated[0] - t0)
                round_trip.append(t1 - t0)
    finally:
        SaleScreen.refresh_basket = original
        demo.stop()
    return {"enter_ms": [s * 1000 for s in enter], "round_ms": [s * 1000 for s in round_trip]}


def p95(values: list) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="start-ups of each app (median is reported)")
    parser.add_argument("--scans", type=int, default=30, help="scans for the keystroke latency")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
        folder = Path(tmp)
        config = make_shop(folder)
        run_in_pty(["--child", "bare"], folder)  # warm the disk cache and .pyc files
        run_in_pty(["--child", "till", str(config)], folder)
        bare, till = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            bare.append(run_in_pty(["--child", "bare"], folder))
            till.append(run_in_pty(["--child", "till", str(config)], folder))
        latency = asyncio.run(keystroke_latency(folder, args.scans))

    def median(rows: list, key: str) -> float:
        return statistics.median(row[key] for row in rows)

    start_bare, start_till = median(bare, "seconds"), median(till, "seconds")
    mem_bare, mem_till = median(bare, "maxrss_mb"), median(till, "maxrss_mb")
    start_ratio, mem_ratio = start_till / start_bare, mem_till / mem_bare
    rows = [
        ("start-up to first frame (s)", f"{start_bare:.3f}", f"{start_till:.3f}", f"{start_ratio:.2f}x",
         f"<= {TARGET_STARTUP}x", "ok" if start_ratio <= TARGET_STARTUP else "MISSED"),
        ("peak memory (MB)", f"{mem_bare:.1f}", f"{mem_till:.1f}", f"{mem_ratio:.2f}x",
         f"<= {TARGET_MEMORY}x", "ok" if mem_ratio <= TARGET_MEMORY else "MISSED"),
        ("Enter -> basket updated (ms)", "", f"{statistics.median(latency['enter_ms']):.1f} "
         f"(p95 {p95(latency['enter_ms']):.1f})", "", "", ""),
        ("Enter, Pilot round trip (ms)", "", f"{statistics.median(latency['round_ms']):.1f} "
         f"(p95 {p95(latency['round_ms']):.1f})", "", "", ""),
    ]
    header = ("measure", "bare Textual", "Chaoying till", "ratio", "target", "")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print(f"runs: {args.runs} start-ups each (median), {args.scans} scans; Python {sys.version.split()[0]}")
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0 if start_ratio <= TARGET_STARTUP and mem_ratio <= TARGET_MEMORY else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        if sys.argv[2] == "bare":
            child_bare(sys.argv[3])
        else:
            child_till(sys.argv[-1], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
