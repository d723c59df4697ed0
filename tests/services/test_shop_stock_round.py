"""The sync worker's round brings the shop's stock down: a real server, till 1 synced before, till 2 running."""
from __future__ import annotations

from store import server, shop_stock, stock
from store.db import db
from tests.services.syncnet import wait_for
from tests.store.helpers import catalogue, ring_up
from tests.store.synctills import Till
from tui.services.sync import SyncWorker, default_hooks

COLA = "6901234567892"


def test_after_a_round_till_2_shows_what_till_1_received_less_its_own_sales(postgres_url, tmp_path):
    assert "store.shop_stock.pull" in [name for name, _ in default_hooks()]
    server.migrate_server(postgres_url)
    conn = server.connect_server(postgres_url)
    one, two = Till(tmp_path, "01"), Till(tmp_path, "02")
    try:
        with one:
            products = catalogue()
            stock.receive([stock.DeliveryRow(1, products[COLA].id, COLA, 24000, 180)], "01", "c1")
            one.push(conn)
    finally:
        conn.close()
    with two:
        products = catalogue()
        pid = products[COLA].id
        ring_up(products, (COLA, 2000), till_id="02")
        assert shop_stock.on_hand(pid) == stock.on_hand(pid) == -2000  # nothing came down yet: its own
        worker = SyncWorker(postgres_url, "02", connect_timeout_s=2.0).start()
        try:
            def shop_figure():
                with db.connection_context():
                    return shop_stock.as_of() is not None and shop_stock.on_hand(pid)
            assert wait_for(lambda: shop_figure() == 22000, what="the shop's figure after a round")
            ring_up(products, (COLA, 1000), till_id="02")
            worker.notify()
            rounds = worker.rounds
            wait_for(lambda: worker.rounds > rounds + 1, what="two more rounds")
            assert shop_figure() == 21000  # the sale counted once, synced or not
            assert worker.status().error == ""
        finally:
            assert worker.stop(timeout=10)
        assert stock.on_hand(pid) == -3000 and stock.check_balances() == []
