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
sys.path.insert(0, str(ROOT))

from tests.bench import common  # noqa: E402

TARGET_RATIO = 1.5  # a scan during a hung print, against the idle floor (median)
CODE = "7"  # 馒头 by its PLU: two keys with Enter, so many scans fit in one hung print


async def scan_seconds(pilot, app) -> Optional[float]:
    """One scan: the digits and Enter, until the basket holds one more line (None: the banner took the keys)."""
    from tui.screens.sale import SaleScreen

    basket = app.sale_screen.basket
    before = len(basket.lines)
    started = time.perf_counter()
    await pilot.press(*CODE, "enter")
    limit = common.deadline(30, "a scan in the basket")
    while len(basket.lines) == before:
        if not isinstance(app.screen, SaleScreen):
            return None
        limit.check()
        await pilot.pause(0.001)
    return time.perf_counter() - started


async def wait_until(pilot, predicate, what: str, timeout: float = 60.0) -> None:
    await common.wait_until(predicate, pilot, timeout, what, step=0.02)


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
    idle, hung, late = [], [], 0  # idle and hung: one list of scan seconds per round
    try:
        app = ChaoyingApp(settings, demo=demo, language="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.started, "the till ready for a scan")  # start-up store work answered (off the UI thread)
            demo.set_fault("no_confirm")
            for _ in range(rounds):
                idle.append([])
                hung.append([])
                for _ in range(scans):
                    idle[-1].append(await scan_seconds(pilot, app))  # no print in flight: never the banner
                await pilot.press("f12", "enter")  # pay: the receipt goes to a printer that never confirms
                await wait_until(pilot, lambda: bool(app.in_flight), "the receipt at the printer")
                for _ in range(scans):
                    seconds = await scan_seconds(pilot, app)
                    if seconds is not None and app.in_flight:
                        hung[-1].append(seconds)
                    else:
                        late += 1  # the print gave up before this scan landed: not counted
                        break
                await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen), "the banner")
                await wait_until(pilot, lambda: bool(banner_number(app)), "the banner's receipt number")
                await pilot.press("d", "y")  # declined: the banner goes, the next round can pay
                await wait_until(pilot, lambda: isinstance(app.screen, SaleScreen), "the sale screen after D Y")
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
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
        result = asyncio.run(measure(Path(tmp), args.rounds, args.scans))
    pairs = [(statistics.median(h), statistics.median(i)) for i, h in zip(result["idle"], result["hung"]) if h]
    if not pairs:
        print("no scan landed while a print was hung; try fewer --scans")
        return 1
    # paired per round: a round's hung scans against its own idle scans, seconds apart
    stats = common.PairStats.of([h for h, _ in pairs], [i for _, i in pairs])
    rows = [common.Figure.pair("scan -> basket while a print hangs", stats, TARGET_RATIO, floor_name="printer idle")]
    common.print_table(f"{args.rounds} hung prints, {args.scans} scans each way per round, paired by round "
                       f"({result['late']} landed after the print gave up, not counted); {common.machine()}", rows)
    common.write_figures(args.figures, rows)
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
