"""Review finding: a till restored from a backup whose chain is a strict prefix of the server's, with records the
server already holds still unsent, must not resend them in a loop that never ends its round."""
from __future__ import annotations

import shutil

import pytest

from store import server as store_server
from tests.services.syncnet import local_till, shop_database, wait_for
from tests.store.helpers import ring_up
from tui.services.sync import SyncWorker


@pytest.fixture
def shop_url(pg):
    return shop_database(pg)


def _sync(url: str) -> None:
    from store import sync_batch

    conn = store_server.connect_server(url)
    try:
        while True:
            batch = sync_batch.build_batch("1", "")
            if batch is None:
                return
            head = store_server.send_batch(conn, batch)
            sync_batch.mark_sent("1", head, batch["records"][-1]["hash"])
    finally:
        conn.close()


def test_a_till_restored_from_an_older_backup_ends_its_round_instead_of_resending_forever(tmp_path, shop_url):
    from store import sync_batch

    live = tmp_path / "till-1.sqlite3"
    with local_till(tmp_path) as products:
        ring_up(products)
        _sync(shop_url)
        ring_up(products)  # not sent when the backup is taken
        assert sync_batch.waiting("1") > 0
    backup = tmp_path / "backup.sqlite3"
    shutil.copy(live, backup)
    with local_till(tmp_path, new=False) as products:
        _sync(shop_url)
        ring_up(products)
        _sync(shop_url)  # the server is now ahead of everything the backup holds
    for extra in ("-wal", "-shm"):
        (tmp_path / ("till-1.sqlite3" + extra)).unlink(missing_ok=True)
    shutil.copy(backup, live)
    with local_till(tmp_path, new=False):
        worker = SyncWorker(shop_url, "1", hooks=[], connect_timeout_s=2.0).start()
        try:
            wait_for(lambda: worker.rounds >= 2, timeout=20, what="rounds that end")
            assert worker.alive and worker.sent <= 20  # a batch or so per round, not a resend loop
        finally:
            assert worker.stop(timeout=10)
