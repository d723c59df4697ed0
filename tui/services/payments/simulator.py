"""The local payment simulator: one HTTP server on this machine that speaks WeChat Pay APIv2 (the five
付款码 paths, ``sim_wechat``) and Alipay (``/gateway.do``, ``sim_alipay``), signatures checked, scenarios
chosen by the code scanned (``scenarios``). For the demo and the tests; never a real provider.

    keys = demo_keys(folder)                                  # the demo's key files (0600)
    with Simulator(wechat_key=keys.wechat_api_key, alipay_keys=keys.alipay) as sim:
        client = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, keys.wechat_api_key)
        ...
        sim.requests           # every request, in order (WeChat's are sim_wechat.SimRequest)
        sim.wechat.orders      # out_trade_no -> sim_wechat.Order (state, charges, refunds)

``Simulator(wechat_key, alipay_keys=None, clock=time.monotonic, port=0, wechat_appid=DEMO_APPID,
wechat_mch_id=DEMO_MCH_ID, hang_seconds=30.0, tls=None)`` starts at once on 127.0.0.1 (port 0: any free one) in a
daemon thread; ``.url`` is ``http://127.0.0.1:PORT`` (the base_url of both clients: WeChat's paths and
Alipay's gateway ``.url + "/gateway.do"``); ``.stop()`` (or leaving the ``with``) ends it. ``clock``
(seconds) drives the scenarios' waits, so a test runs a customer's 12 s in no time; ``tls`` (a server
``ssl.SSLContext``) serves https instead, e.g. asking for the merchant's client certificate. ``alipay_keys`` are
what ``sim_alipay.demo_keys`` gives; without them ``/gateway.do`` answers 501.

Stand-alone: ``python -m tui.services.payments.simulator --port 8765 [--keys FOLDER]``.
"""
from __future__ import annotations

import argparse
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, List, Optional
from urllib.parse import parse_qsl, urlsplit

from tui.services.payments.secrets import write_secret
from tui.services.payments.sim_alipay import AlipaySimulator, demo_keys as alipay_demo_keys
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID, WeChatSimulator

ALIPAY_PATH = "/gateway.do"
WECHAT_KEY_FILE = "wechat_api_key"


class Simulator:
    """Both providers on one local HTTP server (see the module's docstring)."""

    def __init__(self, wechat_key: str, alipay_keys: Any = None, clock: Callable[[], float] = time.monotonic,
                 port: int = 0, wechat_appid: str = DEMO_APPID, wechat_mch_id: str = DEMO_MCH_ID,
                 hang_seconds: float = 30.0, tls: Optional[ssl.SSLContext] = None) -> None:
        self.wechat = WeChatSimulator(wechat_key, wechat_appid, wechat_mch_id, clock, hang_seconds)
        self.alipay = AlipaySimulator.from_key_files(alipay_keys, clock=clock, no_answer_seconds=hang_seconds) \
            if alipay_keys is not None else None
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.simulator = self  # type: ignore[attr-defined]
        if tls is not None:  # https, as the real ones (a test's own certificates)
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="payment-simulator", daemon=True)
        self._thread.start()

    @property
    def requests(self) -> List[Any]:
        """Every request either half got, in the order they came (by their ``at``)."""
        found = list(self.wechat.requests) + list(getattr(self.alipay, "requests", []))
        return sorted(found, key=lambda request: getattr(request, "at", 0.0))

    def stop(self) -> None:
        """Stop serving (a hanging answer is let go first)."""
        self.wechat.stop()
        getattr(self.alipay, "stop", lambda: None)()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server_version = "ChaoyingPaySimulator/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the demo's till owns the terminal."""

    @property
    def _simulator(self) -> Simulator:
        return self.server.simulator  # type: ignore[attr-defined,no-any-return]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        if parts.path == ALIPAY_PATH:
            form = dict(parse_qsl(parts.query, keep_blank_values=True))
            form.update(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
            self._alipay("POST", form)
            return
        answer = self._simulator.wechat.handle(parts.path, body)
        if answer is None:  # the scenario with no answer: close without one
            self.close_connection = True
            return
        self._send(*answer)

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        if parts.path == ALIPAY_PATH:
            self._alipay("GET", dict(parse_qsl(parts.query, keep_blank_values=True)))
            return
        self._send(404, "text/plain; charset=utf-8", b"no such path")

    def _alipay(self, method: str, form: dict) -> None:
        alipay = self._simulator.alipay
        if alipay is None:
            self._send(501, "text/plain; charset=utf-8", b"the Alipay simulator is not running")
            return
        self._send(*alipay.handle(method, form))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------- the demo's keys

@dataclass(frozen=True)
class DemoKeys:
    """The demo's secrets, written into one folder."""

    wechat_api_key_file: Path
    wechat_api_key: str
    alipay: Any                  # what sim_alipay.demo_keys(folder) gave


def demo_keys(folder: Path) -> DemoKeys:
    """Write fresh demo keys into ``folder`` (each file 0600): WeChat's API key and Alipay's key pairs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex  # 32 characters, as a WeChat API key
    write_secret(folder / WECHAT_KEY_FILE, key.encode("ascii"))
    return DemoKeys(folder / WECHAT_KEY_FILE, key, alipay_demo_keys(folder))


def main(argv: Optional[List[str]] = None) -> None:
    """Run the simulator alone until Ctrl+C, for trying a client by hand."""
    parser = argparse.ArgumentParser(description="The local WeChat Pay / Alipay simulator (demo keys).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keys", type=Path, default=None, help="folder for the demo keys (default: a new temp one)")
    args = parser.parse_args(argv)
    keys = demo_keys(args.keys or Path(tempfile.mkdtemp(prefix="chaoying-pay-")))
    with Simulator(wechat_key=keys.wechat_api_key, alipay_keys=keys.alipay, port=args.port) as sim:
        print(f"simulator at {sim.url}")
        print(f"WeChat: appid {DEMO_APPID}, mch_id {DEMO_MCH_ID}, api_key_file {keys.wechat_api_key_file}")
        print(f"Alipay: gateway {sim.url}{ALIPAY_PATH}" if sim.alipay is not None else "Alipay: not available")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
