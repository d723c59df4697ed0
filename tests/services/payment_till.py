"""A till process for the kill story: charges one WeChat code and waits for the customer, until killed.

Usage: python -m tests.services.payment_till DB_PATH SIMULATOR_URL API_KEY CODE
Rings up one cola, scans CODE in the tender and prints "waiting" once the attempt is stored as waiting
(the customer confirming); then it goes on following the attempt until SIGKILL ends it.
"""
from __future__ import annotations

import dataclasses
import queue
import sys
from typing import Any

from store.db import open_database
from store.sales import find_product
from tests.tui.helpers import COLA
from tui.services.basket_saver import BasketSaver
from tui.services.payments.clients import Providers
from tui.services.payments.desk import PaymentDesk
from tui.services.payments.provider import Schedule
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
from tui.services.payments.wechat import WeChatPay
from tui.services.sale_session import SaleSession
from tui.services.till import Till
from tui.settings import load_settings

SCHEDULE = Schedule(poll_seconds=0.1, wait_limit_seconds=60.0, cancel_after_seconds=0.3, retry_seconds=0.1)


def main(path: str, url: str, key: str, code: str) -> int:
    base = load_settings(None)
    settings = dataclasses.replace(base, database=dataclasses.replace(base.database, url="sqlite:///" + path))
    open_database(settings.database.url)
    answers: "queue.Queue[Any]" = queue.Queue()

    def post(function: Any, *args: Any) -> None:
        answers.put((function, args))

    providers = Providers({"wechat": lambda: WeChatPay(url, DEMO_APPID, DEMO_MCH_ID, key, timeout=0.5)})
    till = Till(settings, cashier="01", language=lambda: "en")
    saver = BasketSaver(settings.till.id, lambda: "01", post=post)
    desk = PaymentDesk(settings.till.id, providers, post=post, schedule=SCHEDULE)
    session = SaleSession(till, saver, settings, desk=desk)
    desk._report = session.payment_event
    saver.start()
    desk.start()
    session.add(find_product(COLA), 1000, None)
    session.open_tender()
    session.charge_code(code)
    said = False
    while True:
        function, args = answers.get()
        function(*args)
        if not said and any(a.state == "waiting" for a in session.attempts.values()):
            print("waiting", flush=True)
            said = True


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
