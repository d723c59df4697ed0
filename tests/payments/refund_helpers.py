"""What the provider-refund tests share: the real simulator's clients and a sale paid through them."""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any, Callable, Dict, Sequence, Tuple

from tui.services.payments.clients import Providers

_serial = itertools.count(1)
DEADLINE = 20.0  # seconds a test waits for the desk before it fails with a message


def wechat_code(end: str = "000") -> str:
    """A fresh WeChat payment code (18 digits, 13...) ending in the simulator's scenario digits."""
    return f"13{next(_serial) + int(time.time() * 1000) % 10 ** 9:013d}{end}"


def alipay_code(end: str = "000") -> str:
    """A fresh Alipay payment code (18 digits, 28...)."""
    return f"28{next(_serial) + int(time.time() * 1000) % 10 ** 9:013d}{end}"


def providers_for(url: str, keys_folder: Path) -> Providers:
    """The real WeChat Pay and Alipay clients pointed at the simulator at ``url`` (demo keys in the folder)."""
    from tui.services.payments import sim_alipay
    from tui.services.payments.alipay import AlipayClient
    from tui.services.payments.secrets import read_secret
    from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
    from tui.services.payments.simulator import WECHAT_KEY_FILE
    from tui.services.payments.wechat import WeChatPay

    folder = Path(keys_folder)
    paths = {name: folder / f"alipay_{name}.pem" for name in sim_alipay.KEY_NAMES}
    return Providers({
        "wechat": lambda: WeChatPay(url, DEMO_APPID, DEMO_MCH_ID, read_secret(folder / WECHAT_KEY_FILE)),
        "alipay": lambda: AlipayClient(url + "/gateway.do", sim_alipay.DEMO_APP_ID, paths["app_private_key"],
                                       paths["alipay_public_key"]),
    })


def pay_sale(providers: Providers, products: Dict[str, Any], items: Sequence[Tuple[str, int]],
             pay: Sequence[Tuple[str, str, int]], till_id: str = "1") -> Any:
    """Commit a sale of ``items`` paid by (method, payment code or "" for cash, fen), each mobile payment charged
    through the real client first, as the desk does: the attempt stored, the order paid, its transaction number."""
    from store import payment_attempts as attempts, sales

    basket = sales.Basket()
    for code, qty in items:
        basket.add(products[code], qty)
    tender = sales.Tender(basket.total_fen)
    for method, code, amount in pay:
        if method not in ("wechat", "alipay"):
            tender.add_payment(method, amount)
            continue
        out_trade_no = attempts.new_out_trade_no(till_id)
        attempts.create(out_trade_no, till_id, None, method, amount, code)
        answer = providers.client(method).pay(out_trade_no, code, amount, "超赢测试")
        assert answer.state == "paid", answer
        attempts.move(out_trade_no, attempts.PAID, answer.transaction_id)
        tender.add_payment(method, amount, answer.transaction_id, out_trade_no=out_trade_no)
    return sales.commit_sale(basket, tender, till_id, "c1")


def wait_for(condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Wait until ``condition()`` is true (polled); fail naming ``what`` when the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"waited {deadline:.0f} s for {what}")
        time.sleep(0.02)
