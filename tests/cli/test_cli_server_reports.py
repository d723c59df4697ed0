"""Reports on the shop's server: two tills sell on their own SQLite files, sync up, and the owner reads them all.

Each till sells as a till does (tests.cli.seed: store.sales), its records go
up with the sync's own code (store.sync_batch.build_batch, store.server.send_batch),
and `chaoying ... --server URL` reads the server: sales list, receipts list,
a day's report, an export, reconcile and journal verify see both tills; --shop
sees one shop's; verify names an edited row, a deleted record and a changed
hash on the server, and an unreachable server is one sentence.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Dict

import pytest

from tests.cli.helpers import Shop, one_line, process_state


def sync(local_url: str, till: str, shop_code: str, server_url: str) -> int:
    """Send every record of the till's SQLite file to the server, as the sync worker does; the batches sent."""
    from store import server, sync_batch
    from store.db import close_database, open_database

    sent = 0
    with process_state():
        open_database(local_url)
        conn = server.connect_server(server_url)
        try:
            while True:
                batch = sync_batch.build_batch(till, shop_code)
                if batch is None:
                    return sent
                head = server.send_batch(conn, batch)
                last = batch["records"][-1]
                assert head == last["seq"]
                sync_batch.mark_sent(till, last["seq"], last["hash"])
                sent += 1
        finally:
            conn.close()
            close_database()


def two_tills(shop: Shop, server_url: str, shops: Dict[str, str]) -> None:
    """Till 1 sells 3, till 2 sells 2 (each on its own SQLite file, sealed with the shop's key), both synced."""
    from store.server import migrate_server

    with process_state():
        migrate_server(server_url)
    for till, count in (("1", 3), ("2", 2)):
        url = "sqlite:///" + str(shop.home / f"till{till}.sqlite3")
        shop.seed(count, till=till, url=url)
        assert sync(url, till, shops[till], server_url) >= 1


def sql(server_url: str, statement: str, *params) -> None:
    """An edit made on the server behind the sync's back."""
    from store.server import connect_server

    conn = connect_server(server_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def server(shop, postgres_url) -> str:
    """The shop's server holding till 1 (3 sales) and till 2 (2 sales) of shop A."""
    two_tills(shop, postgres_url, {"1": "A", "2": "A"})
    return postgres_url


def test_sales_list_on_the_server_sees_both_tills(shop, server):
    sales = json.loads(shop.ok("sales", "list", "--server", server, "--shop", "", "--json").stdout)
    assert sorted((s["till_id"], s["receipt_no"]) for s in sales) == [("1", 1), ("1", 2), ("1", 3), ("2", 1), ("2", 2)]
    table = shop.ok("sales", "list", "--server", server, "--shop", "A").stdout.splitlines()
    assert table[-1].startswith("5 sales on every till of shop A on ")
    one = shop.ok("sales", "list", "--server", server, "--shop", "A", "--till", "2").stdout.splitlines()
    assert one[-1].startswith("2 sales on till 2 ")


def test_receipts_and_the_day_report_on_the_server_cover_every_till(shop, server):
    receipts = json.loads(shop.ok("receipts", "list", "--server", server, "--shop", "", "--json").stdout)
    assert sorted(r["receipt"] for r in receipts) == ["1-000001", "1-000002", "1-000003", "2-000001", "2-000002"]
    assert shop.ok("receipts", "list", "--server", server, "--shop", "").stdout.splitlines()[-1] == \
        "5 receipts on every till"
    day = json.loads(shop.ok("report", "receipts", "--server", server, "--shop", "", "--json").stdout)
    assert len(day) == 5
    by_till = json.loads(shop.ok("report", "sales", "--from", "today", "--by", "cashier", "--server", server,
                                 "--shop", "", "--json").stdout)
    assert sum(row["count"] for row in by_till) == 5
    x = json.loads(shop.ok("report", "x", "--server", server, "--shop", "", "--json").stdout)
    assert [figures["till_id"] for figures in x] == ["1", "2"]
    assert [figures["sales"]["count"] for figures in x] == [3, 2]


def test_export_on_the_server_has_both_tills(shop, server):
    out = shop.ok("export", "sales", "--from", "today", "--to", "today", "--server", server, "--shop", "").stdout
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][:2] == ["receipt", "till"]
    assert sorted(row[1] for row in rows[1:]) == ["1", "1", "1", "2", "2"]


def test_reconcile_on_the_server_sees_every_till_payments(shop, server):
    import datetime

    from tests.cli.test_cli_reconcile import alipay_bill

    day = datetime.date.today()
    bill = alipay_bill(shop, day, [])
    result = shop.run("report", "reconcile", "--date", "today", "--alipay", str(bill), "--server", server,
                      "--shop", "", "--json")
    found = json.loads(result.stdout)
    # receipts 1 and 3 of till 1 and receipt 1 of till 2 were paid by Alipay (tests.cli.seed): all on the server
    assert found["till_payments"] == 3, (result.stderr, day)
    assert result.returncode == 1  # none of them is on the (empty) bill


def test_shop_option_sees_one_shop(shop, postgres_url):
    two_tills(shop, postgres_url, {"1": "A", "2": "B"})
    sales = json.loads(shop.ok("sales", "list", "--server", postgres_url, "--shop", "B", "--json").stdout)
    assert {s["till_id"] for s in sales} == {"2"}
    out = shop.ok("export", "sales", "--from", "today", "--to", "today", "--server", postgres_url,
                  "--shop", "A").stdout
    assert sorted(row[1] for row in list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))[1:]) == ["1", "1", "1"]
    verify = shop.ok("journal", "verify", "--full", "--server", postgres_url, "--shop", "B").stdout
    assert "till 2 (shop B): ok" in verify and "till 1" not in verify
    refused = shop.run("sales", "list", "--server", postgres_url, "--shop", "B", "--till", "1")
    assert refused.returncode == 2 and "till 1 is not a till of shop B" in one_line(refused.stderr)


def test_default_shop_is_the_settings_till_shop(shop, postgres_url):
    two_tills(shop, postgres_url, {"1": "A", "2": "B"})
    text = shop.config.read_text(encoding="utf-8")
    shop.config.write_text(re.sub(r'(?m)^#? ?shop = "".*$', 'shop = "A"', text, count=1), encoding="utf-8")
    sales = json.loads(shop.ok("sales", "list", "--server", postgres_url, "--json").stdout)
    assert {s["till_id"] for s in sales} == {"1"}


def test_database_url_naming_the_server_reads_it(shop, server):
    sales = json.loads(shop.ok("sales", "list", "--shop", "", "--json", env={"DATABASE_URL": server}).stdout)
    assert len(sales) == 5


def test_no_z_on_the_server(shop, server):
    result = shop.run("report", "z", "--server", server, "--till", "1")
    assert result.returncode == 2
    assert "closing a Z is the till's own and is never done on the shop's server" in one_line(result.stderr)
    listed = shop.ok("report", "z", "--list", "--server", server, "--shop", "")
    assert listed.stdout.startswith("till")


def test_server_verify_passes_and_writes_nothing(shop, server):
    before = _count(server, "SELECT count(*) FROM audit")
    result = shop.ok("journal", "verify", "--server", server, "--shop", "")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("till 1 (shop A): ok") and lines[1].startswith("till 2 (shop A): ok")
    assert lines[-1].startswith("journal ok on the server: 2 tills, 5 sales (")
    assert "records/s" in lines[-1]
    assert _count(server, "SELECT count(*) FROM audit") == before


def _count(server_url: str, statement: str) -> int:
    from store.server import connect_server

    conn = connect_server(server_url)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
            return int(cursor.fetchone()[0])
    finally:
        conn.close()


def _broken(shop: Shop, server_url: str) -> str:
    result = shop.run("journal", "verify", "--full", "--server", server_url, "--shop", "")
    assert result.returncode == 1, (result.stdout, result.stderr)
    return one_line(result.stderr)


def test_server_verify_names_an_edited_row(shop, server):
    sql(server, "UPDATE sale SET total_fen = total_fen + 100 WHERE till_id = '2' AND receipt_no = 2")
    said = _broken(shop, server)
    assert said.startswith("chaoying: journal broken on the server: till 2: receipt 2-000002 was changed after it was "
                           "recorded"), said


def test_server_verify_names_an_edited_outcome(shop, server):
    sql(server, "UPDATE receipt_outcome SET state = 'printed' WHERE sale_id IN "
                "(SELECT id FROM sale WHERE till_id = '1' AND receipt_no = 2)")
    said = _broken(shop, server)
    assert "till 1: the receipt outcome of receipt 1-000002 (printed) was edited" in said and "on the server" in said, said


def test_server_verify_names_a_deleted_record(shop, server):
    sql(server, "DELETE FROM audit WHERE till_id = '1' AND seq = 3")
    said = _broken(shop, server)
    assert "till 1: the audit record 3 of till 1 was deleted" in said, said


def test_server_verify_names_a_changed_hash(shop, server):
    sql(server, "UPDATE audit SET hash = repeat('0', 64) WHERE till_id = '2' AND seq = 2")
    said = _broken(shop, server)
    assert "till 2: " in said and "audit record" in said, said


def test_server_verify_names_a_head_the_records_do_not_reach(shop, server):
    sql(server, "UPDATE sync_till SET head_seq = head_seq + 1 WHERE till_id = '1'")
    said = _broken(shop, server)
    assert "till 1: the server's head of till 1 is record" in said and "records were deleted" in said, said


def test_x_on_the_server_of_a_shop_without_tills(shop, server):
    result = shop.ok("report", "x", "--server", server, "--shop", "Z")
    assert result.stdout.strip() == "no till of shop Z has synced to the server yet"


def test_server_verify_without_the_key_checks_links_and_says_so(shop, server):
    away = shop.home / "elsewhere.key"
    shop.key_file.rename(away)  # the settings name a key file this machine does not have
    unchecked = shop.run("journal", "verify", "--full", "--server", server, "--shop", "")
    assert unchecked.returncode == 3, (unchecked.stdout, unchecked.stderr)
    assert "checked by their links only" in one_line(unchecked.stderr)
    keyed = shop.ok("journal", "verify", "--full", "--server", server, "--shop", "", "--key-file", str(away))
    assert keyed.stdout.splitlines()[-1].startswith("journal ok on the server: 2 tills, 5 sales")


def test_unreachable_server_is_one_sentence_without_its_password(shop):
    url = "postgresql://owner:s3cret@127.0.0.1:1/shop"
    for args in (("sales", "list"), ("journal", "verify", "--full"), ("export", "sales", "--from", "today", "--to", "today")):
        result = shop.run(*args, "--server", url)
        assert result.returncode == 1, (args, result.stderr)
        said = one_line(result.stderr)
        assert "owner:***@127.0.0.1:1" in said and "s3cret" not in said, said


def test_server_flag_alone_needs_the_settings_url(shop):
    result = shop.run("sales", "list", "--server")
    assert result.returncode == 2
    assert "--server without a URL needs [server] url in the settings" in one_line(result.stderr)


def test_shop_off_the_server_is_one_sentence(shop):
    result = shop.run("sales", "list", "--shop", "A")
    assert result.returncode == 2 and "--shop chooses tills on the shop's server" in one_line(result.stderr)


def test_server_verify_names_a_deleted_print_attempt(shop, server):
    sql(server, "DELETE FROM print_attempt WHERE sale_id IN (SELECT id FROM sale WHERE till_id = '2' AND receipt_no = 1)")
    said = _broken(shop, server)
    assert "till 2: print attempt 1 of receipt 2-000001 was deleted on the server" in said, said
