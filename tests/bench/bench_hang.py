"""Typing while the printer hangs: how fast a scan lands, against the same scan with the printer idle.

Run: python tests/bench/bench_hang.py [--rounds 3] [--scans 8]

The till runs under Pilot (headless, 80x24) on a demo shop whose virtual
printer prints and never confirms ("no_confirm"): each paid sale holds the
printer worker until its deadline (several seconds). A scan is a PLU typed
and Enter (Pilot presses each key and waits for the app to take it), timed
until the basket holds the new line. The floor is the same scan with no
print in flight, measured in the same run, interleaved round by round: idle
scans, pay (the printer hangs), scans while it hangs, then D Y on the banner
(customer declined) and the next round.
tests/tui/test_stories.py checks the behaviour (the keys land while the
print is hung); this script gives the figure.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.5  # a scan during a hung print, against the idle floor (median)
CODE = "7"  # 馒头 by its PLU: two keys with Enter, so many scans fit in one hung print


async def scan_seconds(pilot, app) -> Optional[float]:
    """One scan: the digits and Enter, until the basket holds one more line (None: the banner took the keys)."""
    from tui.screens.sale import SaleScreen

    basket = app.sale_screen.basket
    before = len(basket.lines)
    started = time.perf_counter()
    await pilot.press(*CODE, "enter")
    while len(basket.lines) == before:
        if not isinstance(app.screen, SaleScreen):
            return None
        await pilot.pause(0.001)
    return time.perf_counter() - started


async def wait_until(pilot, predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


def banner_number(app) -> str:
    """The receipt number on the banner; "" until it is composed and its facts came.

    The banner is app.screen as soon as it is pushed, before its widgets are
    mounted: a query_one() then raises NoMatches (seen on a loaded machine).
    """
    found = app.screen.query("#banner-number")
    return str(found.first().render()) if found else ""


async def measure(folder: Path, rounds: int, scans: int) -> dict:
    from tui.app import ChaoyingApp
    from tui.demo import start_demo
    from tui.screens.banner import BannerScreen
    from tui.screens.sale import SaleScreen
    from tui.settings import load_settings

    base = load_settings(None)  # each scan a line of its own: a scan is measured by the basket growing
    settings, demo = start_demo(dataclasses.replace(
        base, selling=dataclasses.replace(base.selling, merge_scans=False)), folder / "shop")
    idle, hung, late = [], [], 0
    try:
        app = ChaoyingApp(settings, demo=demo, language="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.started)  # start-up store work answered (off the UI thread)
            demo.set_fault("no_confirm")
            for _ in range(rounds):
                for _ in range(scans):
                    idle.append(await scan_seconds(pilot, app))  # no print in flight: never the banner
                await pilot.press("f12", "enter")  # pay: the receipt goes to a printer that never confirms
                await wait_until(pilot, lambda: bool(app.in_flight))
                for _ in range(scans):
                    seconds = await scan_seconds(pilot, app)
                    if seconds is not None and app.in_flight:
                        hung.append(seconds)
                    else:
                        late += 1  # the print gave up before this scan landed: not counted
                        break
                await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
                await wait_until(pilot, lambda: banner_number(app))
                await pilot.press("d", "y")  # declined: the banner goes, the next round can pay
                await wait_until(pilot, lambda: isinstance(app.screen, SaleScreen))
    finally:
        demo.stop()
    return {"idle": idle, "hung": hung, "late": late}


def p95(values: list) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="hung prints (each a few seconds)")
    parser.add_argument("--scans", type=int, default=8, help="scans per round, idle and while hung")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
        result = asyncio.run(measure(Path(tmp), args.rounds, args.scans))
    idle, hung = result["idle"], result["hung"]
    if not hung:
        print("no scan landed while a print was hung; try fewer --scans")
        return 1
    ratio = statistics.median(hung) / statistics.median(idle)
    rows = [
        ("scan -> basket, printer idle (ms)", f"{statistics.median(idle) * 1000:.0f}",
         f"{p95(idle) * 1000:.0f}", str(len(idle)), "", "", ""),
        ("scan -> basket, print hung (ms)", f"{statistics.median(hung) * 1000:.0f}",
         f"{p95(hung) * 1000:.0f}", str(len(hung)), f"{ratio:.2f}x", f"<= {TARGET_RATIO}x",
         "ok" if ratio <= TARGET_RATIO else "MISSED"),
    ]
    header = ("measure", "median", "p95", "scans", "ratio", "target", "")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print(f"{args.rounds} hung prints, {args.scans} scans each way per round "
          f"({result['late']} landed after the print gave up, not counted); Python {sys.version.split()[0]}")
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
