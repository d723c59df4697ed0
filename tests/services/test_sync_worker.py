"""The sync worker against a real PostgreSQL server that the tests stop, start, slow down and cut off.

Every story ends the same way: the server holds every record and sale of the till exactly once, the
worker's thread never died, and the till's sales never waited for the server.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from store import server as store_server
from tests.services.syncnet import (
    PASSWORD,
    all_on_server,
    local_till,
    on_server,
    shop_database,
    wait_for,
)
from tests.store.helpers import ring_up
from tests.store.tcpproxy import TcpProxy
from tui.services.sync import SyncWorker, repeated_numbers, server_heads


@pytest.fixture
def shop_url(pg):
    return shop_database(pg)


def worker_for(url: str, till_id: str = "1", **options) -> SyncWorker:
    options.setdefault("backoff_max_s", 30.0)
    options.setdefault("connect_timeout_s", 2.0)
    return SyncWorker(url, till_id, **options).start()


def through(proxy: TcpProxy, url: str) -> str:
    """``url`` through the proxy's port."""
    from urllib.parse import urlsplit

    port = urlsplit(url).port
    return url.replace(f":{port}/", f":{proxy.port}/")


def test_the_till_sells_20_sales_with_the_server_stopped_and_all_arrive_once_when_it_starts_again(tmp_path, pg,
                                                                                                 shop_url):
    with local_till(tmp_path) as products:
        worker = worker_for(shop_url, backoff_max_s=4.0)
        try:
            ring_up(products)
            wait_for(lambda: all_on_server(shop_url, "1"), what="the first sale on the server")
            assert worker.status().online and worker.status().waiting == 0
            first = worker._conn
            pg.stop(mode="immediate")
            numbers = [ring_up(products).receipt_no for _ in range(20)]  # nothing here touches the server
            assert numbers == list(range(2, 22))
            worker.notify()
            wait_for(lambda: not worker.status().online, what="the worker seeing the server gone")
            status = wait_for(lambda: worker.status().waiting >= 20 and worker.status(), what="20 to send")
            assert status.offline_since is not None and status.error and "\n" not in status.error
            assert PASSWORD not in status.error
            pg.start()
            wait_for(lambda: all_on_server(shop_url, "1"), timeout=30, what="all 21 sales on the server")
            assert on_server(shop_url, "1")[2] == 21
            status = wait_for(lambda: worker.status().online and worker.status(), what="online again")
            assert status.waiting == 0 and status.error == "" and status.offline_since is None
            assert worker._conn is not first  # the broken connection was replaced, never reused
            assert worker.alive
        finally:
            assert worker.stop(timeout=10)


def test_the_server_stopped_mid_batch_leaves_nothing_twice_and_nothing_out(tmp_path, pg, shop_url):
    with local_till(tmp_path) as products:
        for _ in range(60):
            ring_up(products)
        proxy = TcpProxy(("127.0.0.1", pg.port), delay=0.02).start()
        worker = worker_for(through(proxy, shop_url), batch_limit=7, backoff_max_s=2.0)
        try:
            wait_for(lambda: worker.sent > 0, what="a first batch sent")
            pg.stop(mode="immediate")  # while the next batches travel through the slow line
            assert worker.status().waiting > 0 or not all_on_server(shop_url, "1")
            ring_up(products)
            pg.start()
            proxy.delay = 0
            wait_for(lambda: all_on_server(shop_url, "1"), timeout=30, what="every record once")
            assert worker.alive
        finally:
            worker.stop(timeout=10)
            proxy.close()


def test_a_cut_cable_and_a_slow_line_never_slow_a_sale_and_everything_arrives_once(tmp_path, pg, shop_url,
                                                                                    monkeypatch):
    entered, returned = threading.Event(), threading.Event()
    real = store_server.send_batch

    def watched(conn, batch):
        entered.set()
        try:
            return real(conn, batch)
        finally:
            returned.set()

    monkeypatch.setattr(store_server, "send_batch", watched)
    with local_till(tmp_path) as products:
        proxy = TcpProxy(("127.0.0.1", pg.port)).start()
        worker = worker_for(through(proxy, shop_url), batch_limit=3, backoff_max_s=2.0)
        try:
            wait_for(lambda: worker.status().online, what="online")
            proxy.delay = 2.0  # seconds per chunk: a batch now takes several round trips of it
            ring_up(products)
            worker.notify()
            wait_for(entered.is_set, what="a batch on its way")
            sold = [ring_up(products).receipt_no for _ in range(5)]  # while the batch is on the line
            assert not returned.is_set(), "the sales waited for the batch"
            assert len(sold) == 5
            assert proxy.cut() > 0  # the cable pulled mid-batch
            proxy.delay = 0
            wait_for(lambda: all_on_server(shop_url, "1"), timeout=30, what="every record once after the cut")
            assert worker.alive
        finally:
            worker.stop(timeout=10)
            proxy.close()


def test_a_wrong_password_is_one_sentence_in_the_status_and_the_thread_lives(tmp_path, pg, shop_url):
    wrong = shop_url.replace(PASSWORD, "not-the-password")
    with local_till(tmp_path) as products:
        ring_up(products)
        worker = worker_for(wrong, backoff_max_s=4.0)
        try:
            status = wait_for(lambda: worker.status().error and worker.status(), what="the refusal said")
            assert not status.online and status.waiting > 0
            assert "password" in status.error and "\n" not in status.error
            assert "not-the-password" not in status.error and PASSWORD not in status.error
            first = status.error
            wait_for(lambda: worker._backoff >= 2.0, what="a second try")
            assert worker.alive and worker.status().error == first
        finally:
            worker.stop(timeout=10)


def test_the_server_ahead_of_the_mark_after_a_crash_is_followed_not_sent_twice(tmp_path, shop_url):
    from store import sync_batch

    with local_till(tmp_path) as products:
        for _ in range(3):
            ring_up(products)
        conn = store_server.connect_server(shop_url)
        try:  # the server commits; the till dies before mark_sent
            head = store_server.send_batch(conn, sync_batch.build_batch("1", ""))
        finally:
            conn.close()
        assert sync_batch.waiting("1") == head
        ring_up(products)
        worker = worker_for(shop_url)
        try:
            wait_for(lambda: all_on_server(shop_url, "1"), what="the rest once")
            assert worker.status().refused == "" and worker.status().waiting == 0
        finally:
            worker.stop(timeout=10)


def test_a_second_till_claiming_the_id_is_refused_in_one_sentence_and_keeps_selling(tmp_path, shop_url):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with local_till(first) as products:
        ring_up(products)
        worker = worker_for(shop_url)
        wait_for(lambda: all_on_server(shop_url, "1"), what="the first till synced")
        worker.stop(timeout=10)
    with local_till(second) as products:
        ring_up(products)
        worker = worker_for(shop_url, refused_retry_s=0.5)
        try:
            status = wait_for(lambda: worker.status().refused and worker.status(), what="the refusal")
            assert "\n" not in status.refused and status.waiting > 0
            ring_up(products)  # it sells on
            heads = server_heads(shop_url)
            assert heads[0]["refusal"]
            wait_for(lambda: worker.rounds > 3, what="rounds go on while refused")
            assert worker.alive and worker.status().refused == status.refused
        finally:
            worker.stop(timeout=10)


def test_a_till_id_the_server_held_before_tills_synced_is_refused_before_any_number_repeats(tmp_path, shop_url):
    import psycopg2

    conn = psycopg2.connect(shop_url)
    with conn, conn.cursor() as cursor:  # the shared-database days: till 1 sold on the server directly
        cursor.execute("INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq) VALUES ('1', 250, repeat('a', 64), 900)")
    conn.close()
    with local_till(tmp_path) as products:
        said = repeated_numbers(shop_url, "1")
        assert "250" in said and "[till] id" in said and "\n" not in said
        assert repeated_numbers(shop_url, "2") == ""
        ring_up(products)  # started offline all the same: the worker refuses to send
        assert repeated_numbers(shop_url, "1") == ""  # no longer new: the worker says it
        worker = worker_for(shop_url)
        try:
            status = wait_for(lambda: worker.status().refused and worker.status(), what="the refusal")
            assert "250" in status.refused
            assert on_server(shop_url, "1")[0] == 0
        finally:
            worker.stop(timeout=10)


def test_hooks_are_called_each_round_and_a_failing_one_never_stops_the_push(tmp_path, shop_url):
    calls = []

    def pull(conn):
        calls.append(conn)

    def broken(conn):
        raise RuntimeError("the hook is broken")

    with local_till(tmp_path) as products:
        ring_up(products)
        worker = worker_for(shop_url, hooks=[("test.pull", pull), ("test.broken", broken)], backoff_max_s=1.0)
        try:
            wait_for(lambda: all_on_server(shop_url, "1"), what="pushed before the hooks")
            status = wait_for(lambda: worker.status().error and worker.status(), what="the hook's failure")
            assert "test.broken" in status.error and not status.online
            assert status.shown_error == "与门店服务器同步失败：test.broken 出错：the hook is broken"
            wait_for(lambda: len(calls) >= 2, what="the hooks called again after the backoff")
            assert worker.alive
        finally:
            worker.stop(timeout=10)


def test_a_round_calls_the_shared_data_pull_and_the_shop_wide_push_directly(tmp_path, shop_url, monkeypatch):
    from store import shared_data, shop_wide

    called = []
    for module, name in ((shared_data, "pull"), (shop_wide, "push")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda conn, _real=real, _name=name: (called.append(_name), _real(conn)))
    with local_till(tmp_path) as products:
        ring_up(products)
        worker = worker_for(shop_url, hooks=None)
        try:
            wait_for(lambda: worker.rounds >= 1, what="a round with the default hooks")
            assert worker.status().error == "" and called[:2] == ["pull", "push"]
        finally:
            worker.stop(timeout=10)


def test_each_batch_says_the_tills_own_head_so_the_server_knows_what_it_still_had_to_send(tmp_path, shop_url):
    import psycopg2

    from store import sync_batch
    from store.models import TillCounter

    def heads():
        return {head["till_id"]: head for head in server_heads(shop_url)}

    conn = psycopg2.connect(shop_url)  # a server migrated before the till's head was sent: no columns for it
    with conn, conn.cursor() as cursor:
        cursor.execute("ALTER TABLE sync_till DROP COLUMN local_seq, DROP COLUMN local_at")
    conn.close()
    store_server._LOCAL_HEAD_READY.clear()
    with local_till(tmp_path) as products:
        for _ in range(4):
            ring_up(products)
        head = TillCounter.get(TillCounter.till_id == "1").audit_seq
        batch = sync_batch.build_batch("1", "", limit=3)
        assert batch["head"]["seq"] == head and batch["head"]["at"]
        assert heads() == {}  # till_heads reads a server without the columns
        conn = store_server.connect_server(shop_url)
        try:  # its first batch adds them, and says the head
            assert store_server.send_batch(conn, batch) == 3
            sync_batch.mark_sent("1", 3, batch["records"][-1]["hash"])
        finally:
            conn.close()
        first = heads()["1"]
        assert first["head_seq"] == 3 and first["local_seq"] == head and first["to_send"] == head - 3
        assert first["local_at"] is not None
        worker = worker_for(shop_url)
        try:
            wait_for(lambda: all_on_server(shop_url, "1"), what="the rest sent")
            wait_for(lambda: heads()["1"]["to_send"] == 0, what="nothing left to send, as the last batch said")
            assert worker.sent == head - 3  # no empty batch was sent to report the head
        finally:
            worker.stop(timeout=10)
    conn = psycopg2.connect(shop_url)
    with conn, conn.cursor() as cursor:
        cursor.execute("ALTER TABLE sync_till DROP COLUMN local_seq, DROP COLUMN local_at")
    conn.close()
    store_server.migrate_server(shop_url)  # the next chaoying init adds them too, once
    assert heads()["1"]["to_send"] is None  # until the till's next batch
    store_server.migrate_server(shop_url)


def test_the_last_error_is_kept_in_the_local_database_when_it_changes_and_cleared_when_a_round_works(
        tmp_path, pg, shop_url, monkeypatch):
    from store import sync_batch

    real, written = sync_batch.keep_error, []

    def counted(till_id, sentence, at):
        done = real(till_id, sentence, at)
        if done:
            written.append(sentence)
        return done

    monkeypatch.setattr(sync_batch, "keep_error", counted)
    wrong = shop_url.replace(PASSWORD, "not-the-password")
    with local_till(tmp_path) as products:
        ring_up(products)
        worker = worker_for(wrong, backoff_max_s=1.0)
        try:
            status = wait_for(lambda: worker.status().error and worker.status(), what="the failure")
            assert status.shown_error.startswith("连不上门店服务器 ") and "not-the-password" not in status.shown_error
            wait_for(lambda: worker.failures >= 3 and worker._kept == status.error, what="three failed rounds")
        finally:
            assert worker.stop(timeout=10)
        assert written == [status.error]  # once, not each round
        error, at = sync_batch.last_error("1")
        assert error == status.error and at is not None
        worker = worker_for(shop_url)
        try:
            wait_for(lambda: worker.status().online and worker._kept == "", what="online, the error cleared")
        finally:
            assert worker.stop(timeout=10)
        assert written == [status.error, ""] and sync_batch.last_error("1")[0] == ""


# ---------------------------------------------------------------- the till process killed mid-batch

TILL = Path(__file__).with_name("sync_till_process.py")


def till_process(local: str, server: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, str(TILL), local, server, "1"], stdout=subprocess.PIPE,
                               stdin=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[2]))
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def test_the_till_killed_mid_batch_and_started_again_leaves_every_record_once(tmp_path, pg, shop_url):
    local = "sqlite:///" + str(tmp_path / "till-1.sqlite3")
    with local_till(tmp_path) as products:
        for _ in range(80):
            ring_up(products)
    proxy = TcpProxy(("127.0.0.1", pg.port), delay=0.01).start()
    try:
        process = till_process(local, through(proxy, shop_url))
        try:
            wait_for(lambda: on_server(shop_url, "1")[0] > 0, what="some batches on the server")
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        records = on_server(shop_url, "1")[0]
        with local_till(tmp_path, new=False):
            from store.db import db
            from store.models import Audit

            with db.connection_context():
                assert 0 < records < Audit.select().count()  # killed with batches still to send
        proxy.delay = 0
        again = till_process(local, through(proxy, shop_url))
        try:
            with local_till(tmp_path, new=False):
                wait_for(lambda: all_on_server(shop_url, "1"), timeout=30, what="every record once after the kill")
        finally:
            again.stdin.close()  # type: ignore[union-attr]
            again.wait(timeout=30)
        assert again.returncode == 0
    finally:
        proxy.close()
