"""`chaoying init` sets up the shop's server too; `chaoying sync status` says what each till has sent."""
from __future__ import annotations

import json

from tests.services.syncnet import wait_for


def with_server(shop, url: str) -> None:
    text = shop.config.read_text(encoding="utf-8")
    shop.config.write_text(text.replace('[server]\nurl = ""', f'[server]\nurl = "{url}"', 1), encoding="utf-8")
    assert f'url = "{url}"' in shop.config.read_text(encoding="utf-8")


def test_init_creates_the_servers_schema_and_sync_status_lists_each_till(shop, postgres_url):
    import psycopg2

    with_server(shop, postgres_url)
    done = shop.ok("init")
    assert "server: postgresql://postgres@" in done.stdout
    conn = psycopg2.connect(postgres_url)
    with conn, conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass('sync_till') IS NOT NULL")
        assert cursor.fetchone()[0]
        cursor.execute("INSERT INTO sync_till (till_id, shop, till_index, head_seq, last_at, refusal) "
                       "VALUES ('7', '', 7, 40, now(), 'Two tills claim id 7.')")
    conn.close()
    status = shop.ok("sync", "status")
    lines = status.stdout.strip().splitlines()
    assert lines[0].startswith("till 1 (this till): nothing sent yet; ")
    assert lines[1].startswith("till 7: last sent record 40 at ") and "refused: Two tills claim id 7." in lines[1]
    as_json = json.loads(shop.ok("sync", "status", "--json").stdout)
    assert as_json["reachable"] and [row["till"] for row in as_json["tills"]] == ["1", "7"]
    assert as_json["tills"][0]["waiting"] >= 0 and as_json["tills"][1]["waiting"] is None


def test_a_server_out_of_reach_is_one_sentence_and_this_tills_figures_still_print(shop):
    with_server(shop, "postgresql://till:s3cret@127.0.0.1:1/shop")
    status = shop.run("sync", "status")
    assert status.returncode == 1
    assert status.stdout.startswith("till 1 (this till): ")
    lines = status.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the shop's server" in lines[0] and "s3cret" not in status.stderr
    as_json = shop.run("sync", "status", "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["reachable"] is False


def test_init_with_a_server_out_of_reach_sets_the_till_up_and_says_so_in_one_sentence(shop):
    with_server(shop, "postgresql://till:s3cret@127.0.0.1:1/shop")
    result = shop.run("init")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "the till is set up, but the shop's server could not be" in lines[0]
    assert "s3cret" not in result.stderr
    assert wait_for(lambda: shop.db_path.exists(), timeout=1)


def keep_error(shop, sentence: str, at) -> None:
    """What the running till's sync worker keeps in its SQLite when a round fails (store.sync_batch.keep_error)."""
    from store import sync_batch
    from store.db import close_database, db, open_database

    open_database(shop.url)
    try:
        assert sync_batch.keep_error("1", sentence, at)
        assert not sync_batch.keep_error("1", sentence, at)  # the same sentence: nothing written
    finally:
        close_database()
        db.initialize(None)


def test_sync_status_says_what_another_till_had_to_send_as_of_its_last_batch(shop, postgres_url):
    import psycopg2

    with_server(shop, postgres_url)
    shop.ok("init")
    conn = psycopg2.connect(postgres_url)
    with conn, conn.cursor() as cursor:
        cursor.execute("INSERT INTO sync_till (till_id, shop, till_index, head_seq, last_at, local_seq, local_at) "
                       "VALUES ('7', '', 7, 40, now(), 52, now()), ('8', '', 8, 9, now(), NULL, NULL)")
    conn.close()
    lines = shop.ok("sync", "status").stdout.strip().splitlines()
    assert lines[1].startswith("till 7: last sent record 40 at ") and lines[1].endswith(
        "; 12 to send as of its last batch")
    assert lines[2].endswith("; to send: known on that till (it has not reported)")
    tills = json.loads(shop.ok("sync", "status", "--json").stdout)["tills"]
    assert [row["waiting"] for row in tills[1:]] == [12, None] and tills[1]["waiting_as_of"]


def test_sync_status_prints_the_running_tills_last_sync_error_even_with_the_server_out_of_reach(shop):
    import datetime

    with_server(shop, "postgresql://till:s3cret@127.0.0.1:1/shop")
    at = datetime.datetime.now().replace(hour=14, minute=2, second=31, microsecond=0)
    said = "The shop's server postgresql://till:***@127.0.0.1:1/shop cannot be reached: connection refused."
    keep_error(shop, said, at)
    status = shop.run("sync", "status")
    assert status.returncode == 1
    line = status.stdout.strip().splitlines()[0]
    assert line.startswith("till 1 (this till): nothing sent yet; ") and " to send; last error at " in line
    assert line.endswith(f"; last error at 14:02: {said}")
    mine = json.loads(shop.run("sync", "status", "--json").stdout)["tills"][0]
    assert mine["last_error"] == said and mine["last_error_at"].endswith(" 14:02:31")
    keep_error(shop, "", at + datetime.timedelta(minutes=3))  # a round worked again: cleared
    assert "last error" not in shop.run("sync", "status").stdout
