"""A second till process that follows the provider refunds a crashed one left (the crash story).

Usage: python -m tests.payments.refund_worker URL TILL_ID SIM_URL KEYS_FOLDER
Opens the database, starts a refund desk, recovers, waits until no refund is open (at most 20 s), prints the
states as JSON and exits.
"""
from __future__ import annotations

import json
import sys
import time

from store.db import close_database, open_database


def main(url: str, till_id: str, sim_url: str, keys: str) -> int:
    from store import provider_refunds
    from store.models import ProviderRefund
    from tests.payments.refund_helpers import providers_for
    from tui.services.payments.refunds import RefundDesk, RefundSchedule

    open_database(url)
    desk = RefundDesk(till_id, providers_for(sim_url, keys), schedule=RefundSchedule(0.05, 0.2))
    desk.start()
    desk.recover()
    end = time.monotonic() + 20
    while provider_refunds.open_refunds(till_id) and time.monotonic() < end:
        time.sleep(0.05)
    desk.stop()
    states = {row.out_refund_no: row.state for row in ProviderRefund.select()}
    close_database()
    print(json.dumps(states), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
