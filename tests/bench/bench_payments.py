"""Scan to pay: from the payment code's Enter to the first frame of the success panel, against its floors.

Run: python tests/bench/bench_payments.py [--pairs 40] [--delay-ms 300]

The till runs in Textual's headless mode (80x24, in this process) on a demo shop (a real SQLite file, the
virtual printer) with its payment simulator and the real WeChat Pay client over HTTP on this machine. Keys
are posted to the app as its terminal driver posts them (no Pilot waits while a figure is timed). A sale is
a cola scanned, F12, then the timed Enter: a mobile sale types the customer's WeChat code first (INSTANT
scenario: paid at once), a cash sale none (cash, what is due). Each is timed from its Enter until the first
frame painted of the sale screen whose success panel holds the new sale: ``app._display`` is wrapped here
(the bench only) and notes perf_counter when the sale screen's rendered update is handed to it (headless, it
is not written to a terminal). The mobile path stores the attempt (a commit), sends micropay from the
payment thread, stores the answer (another commit), commits the sale and paints the panel; the cash path
commits the sale and paints the panel.

Floors in the same run, interleaved per repetition (mobile, cash, raw [, mobile and raw with the delay]):
the raw round trip is a urllib POST of a signed micropay (a fresh code and order) to the same simulator,
its answer read. ``--delay-ms N`` (0: none) makes the simulator answer every micropay N ms late, as a
real provider answers in hundreds of ms; this is done here, by wrapping the running simulator's handler.

The target's reading. The issue asks for "<= 1.2x plus the simulator's delay" against one raw round trip;
a mobile sale is a sale too (its commit and its panel, which cash pays as well) plus one round trip
(which carries the provider's delay), so it is met when the median over repetitions of
mobile / (cash + raw round trip) is <= 1.2, the raw round trip taken at the same delay: the mobile path
adds at most 20% to a cash sale plus the network. The issue's literal ratio (mobile / raw round trip) and
"mobile less cash" (what a mobile payment adds, median of the per-repetition differences) are printed too.

The UI thread never waits on the network: at the end a code of the NO_ANSWER scenario (...403) is paid
with the client's timeout at 2 s, so micropay hangs 2 s. Meanwhile a probe on the UI thread's event loop
notes every gap between its 1 ms sleeps, and six keys are typed into the tender (5, Backspace, ...), each
timed from its posting to the first frame showing it; the same on the idle tender before the code is the
floor. It holds when the longest gap during the hang stays under a tenth of the hang (a UI thread that
waited on the network would show a gap of 2 s). Every wait has a deadline that ends the run with a message.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.2  # mobile / (cash + raw round trip), median of the repetitions
DEADLINE = 30.0  # seconds any one wait may take before the run ends
HANG_TIMEOUT = 2  # seconds: the WeChat client's timeout in this run (the NO_ANSWER scenario hangs this long)
HANG_KEYS = ("5", "backspace") * 3
COLA = "6901234567892"
_serial = itertools.count(1)


class Stuck(Exception):
    """A wait passed its deadline: the run ends with this sentence."""


def code(end: str = "000") -> str:
    """A fresh WeChat payment code (18 digits, 13...); its last three digits pick the scenario (000: INSTANT)."""
    return f"13{int(time.time()) % 10 ** 6:06d}{next(_serial):07d}{end}"


def key_event(key: str) -> Any:
    from textual import events

    chars = {"enter": "\r", "backspace": "\x7f", "ctrl+s": "\x13", "f12": None}
    return events.Key(key, chars[key] if key in chars else key)


def post(app: Any, keys: Sequence[str]) -> None:
    """The keys as the terminal driver hands them over: posted to the app, nothing awaited."""
    for key in keys:
        app.post_message(key_event(key))


async def wait_until(predicate: Callable[[], Any], what: str, step: float = 0.005) -> None:
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise Stuck(f"waited {DEADLINE:.0f} s for {what}")
        await asyncio.sleep(step)


class Frames:
    """The first frame painted while a condition holds: the app's ``_display`` wrapped (this bench only)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._original = app._display
        self._want: Optional[Callable[[Any], bool]] = None
        self._seen = asyncio.Event()
        self.at = 0.0
        app._display = self._display

    def _display(self, screen: Any, renderable: Any) -> None:
        painted = renderable is not None and not self.app._batch_count
        self._original(screen, renderable)
        if painted and self._want is not None and self._want(screen):
            self.at = time.perf_counter()
            self._want = None
            self._seen.set()

    async def after(self, key: str, want: Callable[[Any], bool], what: str) -> float:
        """Post ``key``; seconds from then to the first frame painted with ``want(screen)`` true."""
        self._seen.clear()
        self._want = want
        started = time.perf_counter()
        post(self.app, [key])
        try:
            await asyncio.wait_for(self._seen.wait(), DEADLINE)
        except asyncio.TimeoutError:
            raise Stuck(f"waited {DEADLINE:.0f} s for the frame of {what}") from None
        return self.at - started


class Delay:
    """The running simulator answers micropay ``seconds`` late (its handler wrapped, in the server's thread)."""

    def __init__(self, wechat: Any) -> None:
        self.seconds = 0.0
        original = wechat.handle

        def handle(path: str, body: bytes) -> Any:
            if path == "/pay/micropay" and self.seconds:
                time.sleep(self.seconds)
            return original(path, body)

        wechat.handle = handle


class Bench:
    def __init__(self, app: Any, demo: Any, key: str) -> None:
        self.app, self.demo, self.key = app, demo, key
        self.frames = Frames(app)
        self.delay = Delay(demo.simulator.wechat)

    async def idle(self) -> None:
        """The sale screen, the last receipt printed: nothing of the last sale still runs."""
        from tui.screens.sale import SaleScreen

        app = self.app
        await wait_until(lambda: isinstance(app.screen, SaleScreen) and not app.till_blocked()
                         and not app.in_flight and app.till.idle, "the till to be idle (the last receipt printed)")

    async def to_tender(self) -> Any:
        """An idle till, a cola in the basket, F12: the tender, its amount field focused."""
        from tui.screens.tender import TenderScreen

        app = self.app
        await self.idle()
        lines = len(app.sale_screen.basket.lines)
        post(app, [*COLA, "enter"])
        await wait_until(lambda: len(app.sale_screen.basket.lines) > lines, "the cola in the basket")
        post(app, ["f12"])
        await wait_until(lambda: isinstance(app.screen, TenderScreen) and app.screen.is_mounted
                         and app.focused is app.screen.query_one("#amount"), "the tender")
        return app.screen

    def panel_of_a_new_sale(self) -> Callable[[Any], bool]:
        from textual.widgets import ContentSwitcher

        sale_screen = self.app.sale_screen
        before = sale_screen.last_sale_id

        def shown(screen: Any) -> bool:
            return (screen is sale_screen and self.app.screen is sale_screen
                    and sale_screen.last_sale_id not in (None, before)
                    and sale_screen.query_one("#main", ContentSwitcher).current == "done")
        return shown

    async def sale(self, mobile: bool) -> float:
        """One cola sale: seconds from the Enter (after the customer's code, if mobile) to the panel's frame."""
        tender = await self.to_tender()
        if mobile:
            typed = code()
            post(self.app, list(typed))
            amount = tender.query_one("#amount")
            await wait_until(lambda: amount.value == typed, "the code in the tender")
        return await self.frames.after("enter", self.panel_of_a_new_sale(), "the success panel")

    def round_trip(self) -> float:
        """One signed micropay POSTed with urllib and its answer read: seconds."""
        from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
        from tui.services.payments.wechat import MD5, sign, to_xml

        fields = {"appid": DEMO_APPID, "mch_id": DEMO_MCH_ID, "nonce_str": uuid.uuid4().hex, "sign_type": MD5,
                  "body": "超赢便利店", "out_trade_no": f"B_{uuid.uuid4().hex[:20]}", "total_fee": "350",
                  "spbill_create_ip": "127.0.0.1", "auth_code": code()}
        fields["sign"] = sign(fields, self.key, MD5)
        body = to_xml(fields)
        started = time.perf_counter()
        request = urllib.request.Request(self.demo.simulator.url + "/pay/micropay", data=body,
                                         headers={"Content-Type": "text/xml"})
        with urllib.request.urlopen(request, timeout=DEADLINE) as answer:
            reply = answer.read()
        seconds = time.perf_counter() - started
        if b"SUCCESS" not in reply:
            raise Stuck(f"the simulator did not pay the raw micropay: {reply[:200]!r}")
        return seconds

    async def raw(self) -> float:
        """The round trip from a worker thread, the till idle (as for a sale: the last receipt printed)."""
        await self.idle()
        return await asyncio.get_running_loop().run_in_executor(None, self.round_trip)

    async def repetition(self, delay: float) -> Dict[str, float]:
        timed = {"mobile": await self.sale(True), "cash": await self.sale(False), "raw": await self.raw()}
        if delay:
            self.delay.seconds = delay
            try:
                timed["mobile_d"], timed["raw_d"] = await self.sale(True), await self.raw()
            finally:
                self.delay.seconds = 0.0
        return timed

    async def keys_and_gaps(self, tender: Any, seconds: float, spacing: float) -> Tuple[List[float], float]:
        """For ``seconds``: the UI loop's longest gap, and HANG_KEYS typed ``spacing`` apart, each to its frame."""
        amount = tender.query_one("#amount")
        gaps: List[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        task = asyncio.ensure_future(probe())
        end = time.perf_counter() + seconds
        keys: List[float] = []
        try:
            for key in HANG_KEYS:
                await asyncio.sleep(spacing)
                expected = amount.value[:-1] if key == "backspace" else amount.value + key
                keys.append(await self.frames.after(
                    key, lambda screen, e=expected: screen is tender and amount.value == e, f"the key {key}"))
            await asyncio.sleep(max(0.0, end - time.perf_counter()))
        finally:
            done.set()
            await task
        return keys, max(gaps)

    async def hang(self) -> Dict[str, Any]:
        """The NO_ANSWER scenario: keys and the UI loop while micropay hangs, against the idle tender."""
        from tui.services.payments.provider import Schedule

        app, wechat = self.app, self.demo.simulator.wechat
        app.payment_desk._schedule = Schedule(poll_seconds=0.1, wait_limit_seconds=5.0, cancel_after_seconds=0.2,
                                              retry_seconds=0.1)  # after the hang: cancelled in a moment
        window = HANG_TIMEOUT * 0.9
        spacing = window / (len(HANG_KEYS) + 1)
        tender = await self.to_tender()
        idle_keys, idle_gap = await self.keys_and_gaps(tender, window, spacing)
        typed = code("403")
        post(app, list(typed))
        amount = tender.query_one("#amount")
        await wait_until(lambda: amount.value == typed, "the code in the tender")
        asked = len(wechat.calls("/pay/micropay"))
        post(app, ["enter"])
        started = time.perf_counter()
        await wait_until(lambda: len(wechat.calls("/pay/micropay")) > asked, "the hanging micropay to arrive", 0.001)
        out_trade_no = wechat.calls("/pay/micropay")[-1].out_trade_no
        hung_keys, hung_gap = await self.keys_and_gaps(tender, window - (time.perf_counter() - started), spacing)
        if time.perf_counter() - started >= HANG_TIMEOUT or wechat.calls("/pay/orderquery", out_trade_no):
            raise Stuck("the hang was over before its keys were timed (a loaded machine?); run again")
        await wait_until(lambda: wechat.calls("/pay/orderquery", out_trade_no) or wechat.calls(
            "/secapi/pay/reverse", out_trade_no), "the till to follow the unanswered order")
        post(app, ["ctrl+s"])  # stop waiting: the order is reversed, the basket is paid in cash
        await wait_until(lambda: not app.session.blocked(), "the unanswered order to be cancelled")
        await self.frames.after("enter", self.panel_of_a_new_sale(), "the cash sale after the hang")
        await self.idle()  # its receipt printed before the till stops
        return {"idle_keys": idle_keys, "idle_gap": idle_gap, "hung_keys": hung_keys, "hung_gap": hung_gap}


async def measure(folder: Path, pairs: int, delay: float) -> Tuple[List[Dict[str, float]], Dict[str, Any]]:
    from tui.app import ChaoyingApp
    from tui.demo import start_demo
    from tui.services.payments.secrets import read_secret
    from tui.settings import load_settings

    settings, demo = start_demo(load_settings(None), folder / "shop", payments=True)
    payments = settings.payments
    settings = dataclasses.replace(settings, payments=dataclasses.replace(
        payments, wechat=dataclasses.replace(payments.wechat, timeout_seconds=HANG_TIMEOUT)))
    key = read_secret(Path(settings.payments.wechat.api_key_file))
    timed: List[Dict[str, float]] = []
    try:
        app = ChaoyingApp(settings, demo=demo, language="zh")
        async with app.run_test(size=(80, 24)):
            await wait_until(lambda: app.started, "the till's start-up", 0.02)
            bench = Bench(app, demo, key)
            await bench.repetition(delay)  # warm: the clients built, the modules imported, the panel mounted
            for _ in range(pairs):
                timed.append(await bench.repetition(delay))
            hang = await bench.hang()
    finally:
        demo.stop()
    return timed, hang


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def spread(values: List[float]) -> Tuple[float, float, float]:
    return statistics.median(values), percentile(values, .1), percentile(values, .9)


def report(timed: List[Dict[str, float]], hang: Dict[str, Any], delay: float) -> bool:
    def column(name: str) -> List[float]:
        return [row[name] for row in timed]

    def ms(name: str, values: List[float]) -> Tuple[str, ...]:
        return (name, *(f"{v * 1000:.1f} ms" for v in spread(values)), str(len(values)))

    def ratio(name: str, values: List[float], target: str = "", verdict: str = "") -> Tuple[str, ...]:
        return (name, *(f"{v:.2f}x" for v in spread(values)), str(len(values)), target, verdict)

    def met(values: List[float]) -> str:
        return "met" if statistics.median(values) <= TARGET_RATIO else "MISSED"

    mobile, cash, raw = column("mobile"), column("cash"), column("raw")
    target = [row["mobile"] / (row["cash"] + row["raw"]) for row in timed]
    rows = [ms("mobile: Enter -> panel's first frame", mobile),
            ms("cash: Enter -> panel's first frame", cash),
            ms("raw micropay round trip", raw),
            ms("mobile less cash (per repetition)", [row["mobile"] - row["cash"] for row in timed]),
            ratio("mobile / (cash + raw)", target, f"<= {TARGET_RATIO}x", met(target)),
            ratio("mobile / raw (the issue's words)", [row["mobile"] / row["raw"] for row in timed])]
    verdicts = [met(target)]
    if delay:
        at = f" @{delay * 1000:.0f} ms"
        target_d = [row["mobile_d"] / (row["cash"] + row["raw_d"]) for row in timed]
        rows += [ms(f"mobile{at}: Enter -> panel's first frame", column("mobile_d")),
                 ms(f"raw micropay round trip{at}", column("raw_d")),
                 ratio(f"mobile / (cash + raw){at}", target_d, f"<= {TARGET_RATIO}x", met(target_d)),
                 ratio(f"mobile / raw{at}", [row["mobile_d"] / row["raw_d"] for row in timed])]
        verdicts.append(met(target_d))
    responsive = hang["hung_gap"] < HANG_TIMEOUT / 10
    verdicts.append("met" if responsive else "MISSED")
    rows += [ms("key -> frame, idle tender", hang["idle_keys"]),
             ms(f"key -> frame, micropay hanging ({HANG_TIMEOUT} s)", hang["hung_keys"]),
             ("longest UI-loop gap: idle tender / hanging", f"{hang['idle_gap'] * 1000:.1f} ms",
              f"{hang['hung_gap'] * 1000:.1f} ms", "", "", f"< {HANG_TIMEOUT * 100:.0f} ms",
              "met" if responsive else "MISSED")]
    header = ("figure", "median", "p10", "p90", "n", "target", "")
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows + [header]) for i in range(len(header))]
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{len(timed)} repetitions, interleaved (mobile, cash, raw{', mobile and raw delayed' if delay else ''}); "
          f"WeChat INSTANT scenario; Python {sys.version.split()[0]}; {os.cpu_count()} cores, load {load}")
    for row in [header] + rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return all(verdict == "met" for verdict in verdicts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=40, help="repetitions, each a mobile sale, a cash sale, a raw "
                                                              "round trip (and both delayed)")
    parser.add_argument("--delay-ms", type=int, default=300, help="the simulator answers micropay this late in the "
                                                                  "delayed half (0: no delayed half; under 1500)")
    args = parser.parse_args()
    if args.pairs < 1 or not 0 <= args.delay_ms < 1500:
        parser.error("--pairs at least 1, --delay-ms from 0 to 1499 (the client's timeout here is 2 s)")
    sys.path.insert(0, str(ROOT))
    try:
        with tempfile.TemporaryDirectory(prefix="chaoying-bench-") as tmp:
            timed, hang = asyncio.run(measure(Path(tmp), args.pairs, args.delay_ms / 1000))
    except Stuck as stuck:
        print(f"bench_payments stopped: {stuck}")
        return 2
    return 0 if report(timed, hang, args.delay_ms / 1000) else 1


if __name__ == "__main__":
    sys.exit(main())
