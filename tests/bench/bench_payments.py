"""Scan to pay: from the payment code's Enter to the success panel, against one raw HTTP round trip.

Run: python tests/bench/bench_payments.py [--pairs 30]

The till runs under Pilot (headless, 80x24) on a demo shop (a real SQLite
file, the virtual printer) with its payment simulator and the real WeChat Pay
client over HTTP on this machine. One sale: a cola scanned, F12, the
customer's WeChat code typed (INSTANT scenario: paid at once, the simulator
adds no delay), then Enter; timed from Enter until the sale screen shows the
success panel of the new sale. That path stores the attempt (a commit),
sends micropay, stores the answer (a commit), commits the sale and draws the
panel: the UI thread never waits on the network.

The floor is one raw round trip to the same simulator in the same run: a
urllib POST of a signed micropay (a fresh code and order), its answer read.
Interleaved ABAB (a sale, a round trip, a sale, ...); the figure is the
median of the per-pair ratios, with its spread (the 10th to 90th
percentile). Every wait has a deadline that ends the run with a message.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.2  # our Enter -> panel against the raw round trip (median of pairs), plus the simulator's delay
SIMULATOR_DELAY = 0.0  # the INSTANT scenario answers at once
DEADLINE = 30.0  # seconds any one wait may take before the run ends
COLA = "6901234567892"
_serial = itertools.count(1)


class Stuck(Exception):
    """A wait passed its deadline: the run ends with this sentence."""


def code() -> str:
    """A fresh WeChat payment code (18 digits, 13...) of the INSTANT scenario (its last three digits 000)."""
    return f"13{int(time.time()) % 10 ** 6:06d}{next(_serial):07d}000"


async def wait_until(pilot: Any, predicate: Callable[[], Any], what: str, step: float = 0.001) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise Stuck(f"waited {DEADLINE:.0f} s for {what}")
        await pilot.pause(step)


async def one_sale(pilot: Any, app: Any) -> float:
    """A cola paid by a scanned WeChat code: seconds from the code's Enter to the new sale's success panel."""
    from tui.screens.sale import SaleScreen
    from tui.screens.tender import TenderScreen

    await wait_until(pilot, lambda: isinstance(app.screen, SaleScreen) and not app.till_blocked()
                     and not app.in_flight and app.till.idle, "the till to be idle (the last receipt printed)", 0.01)
    before = app.sale_screen.last_sale_id
    await pilot.press(*COLA, "enter")
    await wait_until(pilot, lambda: app.sale_screen.basket.lines, "the cola in the basket", 0.005)
    await pilot.press("f12")
    await wait_until(pilot, lambda: isinstance(app.screen, TenderScreen), "the tender", 0.005)
    await pilot.press(*code())
    started = time.perf_counter()
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.sale_screen.last_sale_id not in (None, before)
                     and isinstance(app.screen, SaleScreen), "the success panel")
    return time.perf_counter() - started


def round_trip(url: str, key: str) -> float:
    """One signed micropay POSTed with urllib and its answer read: seconds."""
    from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
    from tui.services.payments.wechat import MD5, sign, to_xml

    fields = {"appid": DEMO_APPID, "mch_id": DEMO_MCH_ID, "nonce_str": uuid.uuid4().hex, "sign_type": MD5,
              "body": "超赢便利店", "out_trade_no": f"B_{uuid.uuid4().hex[:20]}", "total_fee": "350",
              "spbill_create_ip": "127.0.0.1", "auth_code": code()}
    fields["sign"] = sign(fields, key, MD5)
    body = to_xml(fields)
    started = time.perf_counter()
    request = urllib.request.Request(url + "/pay/micropay", data=body, headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=DEADLINE) as answer:
        reply = answer.read()
    seconds = time.perf_counter() - started
    if b"SUCCESS" not in reply:
        raise Stuck(f"the simulator did not pay the raw micropay: {reply[:200]!r}")
    return seconds


async def measure(folder: Path, pairs: int) -> List[Tuple[float, float]]:
    from tui.app import ChaoyingApp
    from tui.demo import start_demo
    from tui.services.payments.secrets import read_secret
    from tui.settings import load_settings

    settings, demo = start_demo(load_settings(None), folder / "shop", payments=True)
    key = read_secret(Path(settings.payments.wechat.api_key_file))
    url = demo.simulator.url
    timed: List[Tuple[float, float]] = []
    try:
        app = ChaoyingApp(settings, demo=demo, language="zh")
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.started, "the till's start-up", 0.02)
            await one_sale(pilot, app)  # warm: the client built, the modules imported
            round_trip(url, key)
            for _ in range(pairs):
                ours = await one_sale(pilot, app)
                floor = await asyncio.get_running_loop().run_in_executor(None, round_trip, url, key)
                timed.append((ours, floor))
    finally:
        demo.stop()
    return timed


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=30, help="sales, each followed by one raw round trip")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    try:
        with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
            timed = asyncio.run(measure(Path(tmp), args.pairs))
    except Stuck as stuck:
        print(f"bench_payments stopped: {stuck}")
        return 2
    ours, floor = [o for o, _ in timed], [f for _, f in timed]
    ratios = [o / f for o, f in timed]
    ratio = statistics.median(ratios)
    target = TARGET_RATIO + SIMULATOR_DELAY / statistics.median(floor)
    header = ("measure", "median ms", "p10 ms", "p90 ms", "n")
    rows = [
        ("Enter -> success panel (ours)", *(f"{v * 1000:.1f}" for v in (statistics.median(ours), percentile(ours, .1),
                                                                         percentile(ours, .9))), str(len(ours))),
        ("raw micropay round trip (floor)", *(f"{v * 1000:.1f}" for v in (statistics.median(floor),
                                                                           percentile(floor, .1),
                                                                           percentile(floor, .9))), str(len(floor))),
    ]
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    print(f"{len(timed)} pairs, interleaved (a sale, a round trip); WeChat INSTANT scenario; "
          f"Python {sys.version.split()[0]}")
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    verdict = "ok" if ratio <= target else "MISSED"
    print(f"ratio (median of pairs) {ratio:.1f}x, spread p10-p90 {percentile(ratios, .1):.1f}x-"
          f"{percentile(ratios, .9):.1f}x; target <= {target:.1f}x: {verdict}; "
          f"ours less the floor: {(statistics.median(ours) - statistics.median(floor)) * 1000:.1f} ms")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
