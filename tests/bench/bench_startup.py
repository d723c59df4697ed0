"""Start-up, memory and keystroke latency of the till, against a bare Textual app.

Run: python tests/bench/bench_startup.py [--runs 9] [--scans 30]

Start-up is measured from launching the process to the first frame being
on screen and the app taking keys (App Ready + one refresh), in a real pty at
80x24. The floor is a bare Textual app with Header, Input and Footer, run
the same way in the same run, alternately (bare-till, till-bare, ...): each
pair gives a ratio, and the figure is the median of the ratios with their
spread (tests/bench/common.py). Every child has a deadline. Peak memory is ru_maxrss at that moment. The
till is run through the real CLI (`chaoying --config ... run`) on a SQLite
shop with a catalogue; a second row runs it with ``[server] url`` naming a
server out of reach (``--no-server`` leaves it out): nothing of the network
may delay the first frame. Keystroke latency is measured with Pilot: Enter after
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
if __name__ == "__main__" and (len(sys.argv) < 2 or sys.argv[1] != "--child"):
    sys.path.insert(0, str(ROOT))
    from tests.bench import common  # noqa: E402  (not in the children: they measure their own imports)
TARGET_STARTUP = 1.3
CHILD_SECONDS = 60  # a start-up that takes longer than this ends the run
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

    def open_then_measure(url: str, *args, **kwargs) -> None:
        # tui.app is imported here, where run_till itself first imports it (after the
        # database is open): importing it earlier would load what a SQLite till never
        # loads (peewee's PostgreSQL driver) and measure another start-up than the real one.
        opened(url, *args, **kwargs)
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


UNREACHABLE_SERVER = "postgresql://till@127.0.0.1:1/shop"  # nothing listens on port 1: every connect is refused


def server_config(config: Path) -> Path:
    """The same shop with [server] url naming a server out of reach: its connects run on threads after the
    first frame, so the start-up should be the plain till's."""
    with_server = config.with_name("chaoying-server.toml")
    with_server.write_text(config.read_text(encoding="utf-8") + '[server]\nurl = "{}"\n'.format(UNREACHABLE_SERVER),
                           encoding="utf-8")
    return with_server


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
        try:
            process.wait(timeout=CHILD_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # its own session: the child and anything it started
            process.wait()
            raise common.DeadlineMissed(f"{args[1]} start-up to the first frame: not done within {CHILD_SECONDS} s") from None
    finally:
        stop.set()
        os.close(slave)
        os.close(master)
    if not result_file.exists():
        raise common.DeadlineMissed(f"{args[1]} start-up ended (exit {process.returncode}) before its first frame")
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
            # start-up store work answered (off the UI thread); scans before it wait
            await common.wait_until(lambda: app.started, pilot, 60, "the till ready for a scan", step=0.01)
            table = app.sale_screen.query_one("#basket", DataTable)
            for number in range(scans):
                await pilot.press(*"6901234567892")
                updated.clear()
                t0 = time.perf_counter()
                await pilot.press("enter")
                t1 = time.perf_counter()
                await common.wait_until(lambda n=number: table.row_count == n + 1 and bool(updated), pilot, 30,
                                        f"scan {number + 1} in the basket")
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
    parser.add_argument("--runs", type=int, default=9, help="start-up pairs (bare Textual and the till)")
    parser.add_argument("--scans", type=int, default=30, help="scans for the keystroke latency")
    parser.add_argument("--no-server", action="store_true",
                        help="leave out the row of a till whose [server] url names a server out of reach")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
        folder = Path(tmp)
        config = make_shop(folder)
        runs = {"bare": ["--child", "bare"], "till": ["--child", "till", str(config)]}
        if not args.no_server:
            runs["server"] = ["--child", "till", str(server_config(config))]
        found = {side: [] for side in runs}  # type: dict
        order = list(runs)
        for pair in range(args.runs + 1):  # the first round warms the disk cache and .pyc files: not counted
            for side in (order[::-1] if pair % 2 else order):  # bare-till-server, server-till-bare, ...
                result = run_in_pty(runs[side], folder)
                if pair:
                    found[side].append(result)
        latency = asyncio.run(keystroke_latency(folder, args.scans))

    start = common.PairStats.of([r["seconds"] for r in found["till"]], [r["seconds"] for r in found["bare"]])
    memory = common.PairStats.of([r["maxrss_mb"] for r in found["till"]], [r["maxrss_mb"] for r in found["bare"]])
    rows = [
        common.Figure.pair("till start-up to first frame", start, TARGET_STARTUP, unit="s", scale=1,
                           floor_name="bare Textual"),
    ]
    if "server" in found:
        served = common.PairStats.of([r["seconds"] for r in found["server"]], [r["seconds"] for r in found["bare"]])
        rows.append(common.Figure.pair("till start-up, [server] url out of reach", served, TARGET_STARTUP, unit="s",
                                       scale=1, floor_name="bare Textual"))
    rows += [
        common.Figure.pair("peak memory at first frame", memory, TARGET_MEMORY, unit="MB", scale=1,
                           floor_name="bare Textual"),
        common.Figure("Enter -> basket updated", f"{statistics.median(latency['enter_ms']):.1f} ms "
                      f"(p95 {p95(latency['enter_ms']):.1f})"),
        common.Figure("Enter, Pilot round trip", f"{statistics.median(latency['round_ms']):.1f} ms "
                      f"(p95 {p95(latency['round_ms']):.1f})"),
    ]
    common.print_table(f"Start-up: {args.runs} pairs, {args.scans} scans; {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.path.insert(0, str(ROOT))
        if sys.argv[2] == "bare":
            child_bare(sys.argv[3])
        else:
            child_till(sys.argv[-1], sys.argv[3])
        sys.exit(0)
    sys.exit(common.run_main(main))
