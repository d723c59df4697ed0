"""Sync up against a real PostgreSQL server: every record of every till exactly once, in order, chain checked."""
from __future__ import annotations

import datetime
import json

import pytest

from store import audit, models as m, queries, reports, server, sync_batch
from tests.store.helpers import catalogue, ring_up
from tests.store.synctills import Till, a_day, bound, rows


@pytest.fixture
def shop_server(postgres_url):
    """The shop's server, migrated by migrate_server, and a psycopg2 connection to it."""
    done = server.migrate_server(postgres_url)
    assert any(step.startswith("migration 14") for step in done)
    conn = server.connect_server(postgres_url)
    try:
        yield postgres_url, conn
    finally:
        conn.close()


def _count(conn, sql, *params):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        value = cursor.fetchone()[0]
    conn.rollback()
    return value


def test_migrate_server_leaves_the_store_bound_as_it_was_and_runs_again(postgres_url, tmp_path):
    till = Till(tmp_path, "01")
    with till:
        from store.db import db

        bound_before = db.obj
        server.migrate_server(postgres_url)
        again = server.migrate_server(postgres_url)
        assert db.obj is bound_before  # still the till's SQLite
        assert not any(step.startswith("migration") for step in again)
    conn = server.connect_server(postgres_url)
    try:
        kinds = dict(_rows(conn, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'line' AND column_name IN ('id', 'sale_id', 'original_line_id')"))
        assert set(kinds.values()) == {"bigint"}
        assert _count(conn, "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                            "WHERE c.contype = 'f' AND t.relname = ANY(%s)", list(server.TILL_TABLES)) == 0
    finally:
        conn.close()


def _rows(conn, sql, *params):
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    conn.rollback()
    return found


def test_a_days_records_arrive_once_and_the_servers_rows_equal_the_tills(shop_server, tmp_path):
    url, conn = shop_server
    till = Till(tmp_path, "01")
    with till:
        a_day("01")
        waiting = sync_batch.waiting("01")
        assert waiting > 20
        head = till.push(conn, limit=7)  # many batches
        assert sync_batch.waiting("01") == 0
        assert sync_batch.build_batch("01", "") is None
        mine = rows("01")
        balances = list(m.StockBalance.select().order_by(m.StockBalance.product).dicts())
    assert head == waiting
    [row] = server.till_heads(conn)
    assert (row["till_id"], row["till_index"], row["head_seq"], row["records"], row["refusal"]) == \
        ("01", 1, head, head, "")
    assert 0 <= row["silent_s"] < 600  # by the server's clock: it wrote last_at moments ago
    base = server.till_base(conn, "01")
    assert base == server.ID_BLOCK
    with bound(url):
        theirs = rows("01", base)
        server_balances = list(m.StockBalance.select().order_by(m.StockBalance.product).dicts())
    for table in mine:
        assert theirs[table] == mine[table], table
    assert [(b["product"], b["on_hand_milli"], b["avg_cost_fen"]) for b in server_balances] == \
        [(b["product"], b["on_hand_milli"], b["avg_cost_fen"]) for b in balances]
    for table in ("z_report", "stock_count_line", "shift_handover", "cash_move", "payment_attempt", "provider_refund",
                  "discount" if mine["discount"] else "sale", "event", "print_attempt"):
        assert mine[table], table


def test_a_batch_resent_after_a_crash_before_the_mark_is_stored_once(shop_server, tmp_path):
    url, conn = shop_server
    till = Till(tmp_path, "01")
    with till:
        products = catalogue()
        for _ in range(3):
            ring_up(products, till_id="01")
        batch = sync_batch.build_batch("01", "")
        head = server.send_batch(conn, batch)  # the server committed; the till died before mark_sent
        assert sync_batch.waiting("01") == len(batch["records"])
        ring_up(products, till_id="01")
        again = sync_batch.build_batch("01", "")  # the same records, and the new one
        assert [r["seq"] for r in again["records"]][:len(batch["records"])] == [r["seq"] for r in batch["records"]]
        last = again["records"][-1]["seq"]
        assert last > head
        assert server.send_batch(conn, again) == last
        assert server.send_batch(conn, again) == last  # and once more: nothing new
        sync_batch.mark_sent("01", last, again["records"][-1]["hash"])
        assert sync_batch.waiting("01") == 0
    assert _count(conn, "SELECT count(*) FROM sale") == 4
    assert _count(conn, "SELECT count(*) FROM audit") == last
    assert _count(conn, "SELECT count(*) FROM line") == 4
    assert _count(conn, "SELECT count(*) FROM stock_move") == 4
    assert _count(conn, "SELECT last_receipt_no FROM till_counter WHERE till_id = '01'") == 4
    assert server.till_heads(conn)[0]["records"] == last


def _batch(tmp_path, till_id="01", sales=3):
    till = Till(tmp_path, till_id)
    with till:
        products = catalogue()
        for _ in range(sales):
            ring_up(products, till_id=till_id)
        return till, sync_batch.build_batch(till_id, "")


def test_a_gap_or_disorder_is_refused_and_recorded(shop_server, tmp_path):
    url, conn = shop_server
    _, batch = _batch(tmp_path)
    gap = dict(batch, records=batch["records"][1:])
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, gap)
    assert refused.value.code == "sync_gap"
    assert "missing" in str(refused.value)
    [row] = server.till_heads(conn)
    assert row["head_seq"] == 0 and "missing" in row["refusal"] and row["refused_at"] is not None
    disorder = dict(batch, records=list(reversed(batch["records"])))
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, disorder)
    assert refused.value.code == "sync_out_of_order"
    assert _count(conn, "SELECT count(*) FROM audit") == 0
    assert server.send_batch(conn, batch) == len(batch["records"])  # in order: taken, the refusal cleared
    assert server.till_heads(conn)[0]["refusal"] == ""


def test_a_record_changed_after_sealing_is_refused(shop_server, tmp_path):
    url, conn = shop_server
    _, batch = _batch(tmp_path)
    records = [dict(r) for r in batch["records"]]
    content = json.loads(records[0]["content"])
    content["receipt_no"] = 9
    records[0]["content"] = audit.dumps(content)
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, dict(batch, records=records))
    assert refused.value.code == "sync_bad_hash"
    documents = json.loads(json.dumps(batch["documents"]))
    first = documents[str(batch["records"][0]["ref"])]
    first["lines"][0]["qty_milli"] = 5000  # the sale's line edited, its record intact
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, dict(batch, documents=documents))
    assert refused.value.code == "sync_bad_document"
    assert _count(conn, "SELECT count(*) FROM sale") == 0


def test_a_chain_cut_back_and_rewritten_is_refused_and_recorded(shop_server, tmp_path):
    url, conn = shop_server
    till, batch = _batch(tmp_path, sales=3)
    with till:
        till.push(conn)
        products = {p.barcode: p for p in m.Product.select()}
        # the till's chain cut back to its first sale, and written again
        from store.db import db

        first = batch["documents"][str(batch["records"][0]["ref"])]["sale"]
        db.execute_sql("DELETE FROM stock_move")
        for table in ("line", "payment", "receipt_outcome"):
            db.execute_sql(f"DELETE FROM {table} WHERE sale_id > ?", (first["id"],))
        db.execute_sql("DELETE FROM sale WHERE id > ?", (first["id"],))
        db.execute_sql("DELETE FROM audit WHERE seq > 1")
        db.execute_sql("UPDATE till_counter SET last_receipt_no = 1, last_hash = ?, audit_seq = 1, audit_hash = ?",
                       (first["hash"], batch["records"][0]["hash"]))
        sync_batch.mark_sent("01", 1, batch["records"][0]["hash"])
        ring_up(products, ("42", 3000), till_id="01")
        rewritten = sync_batch.build_batch("01", "")
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, rewritten)
    assert refused.value.code == "sync_rewritten"
    [row] = server.till_heads(conn)
    assert "rewritten" in row["refusal"] and row["head_seq"] == len(batch["records"])
    assert _count(conn, "SELECT count(*) FROM sale") == 3


def test_two_tills_claiming_one_id_the_second_is_refused_and_both_can_see_it(shop_server, tmp_path):
    url, conn = shop_server
    first = Till(tmp_path / "a", "01")
    second = Till(tmp_path / "b", "01")
    with first:
        products = catalogue()
        ring_up(products, till_id="01")
        first.push(conn)
    with second:
        products = catalogue()
        ring_up(products, till_id="01")
        with pytest.raises(server.BatchRefused) as refused:
            second.push(conn)
        assert sync_batch.waiting("01") > 0  # it keeps every sale
    assert refused.value.code == "sync_two_tills"
    assert "Two tills claim id 01" in str(refused.value)
    with first:
        ring_up(products, till_id="01")
        first.push(conn)  # the owner keeps syncing
        mine = sync_batch.instance_id("01")
    [row] = server.till_heads(conn)
    assert row["instance"] == mine and "Two tills claim id 01" in row["refusal"]
    assert row["refused_instance"] != mine
    assert _count(conn, "SELECT count(*) FROM sale") == 2


def test_two_tills_claiming_one_id_the_owners_view_says_the_refusal_in_chinese(shop_server, tmp_path):
    """The server keeps the refusal's code and values beside its English sentence: the owner's view (a Chinese
    screen) says it with the words the till's own strip uses; migrate_server adds the columns once."""
    from tui.screens.owner import sync_lines

    url, conn = shop_server
    first, second = Till(tmp_path / "a", "01"), Till(tmp_path / "b", "01")
    with first:
        ring_up(catalogue(), till_id="01")
        first.push(conn)  # the first claims the id
    with second:
        ring_up(catalogue(), till_id="01")
        with pytest.raises(server.BatchRefused) as raised:
            second.push(conn)
    refused = raised.value
    [head] = server.till_heads(conn)
    assert head["refusal_code"] == "sync_two_tills"
    assert head["refusal_values"]["till"] == "01" and head["refusal_values"]["instance"]
    assert "Two tills claim id 01" in head["refusal"]  # the log's sentence is still stored
    now = datetime.datetime.now()
    last = sync_lines([head], now, 15)[-1]
    assert last.startswith("  收银台 01 被服务器拒收：两台收银机都用编号 01："), last
    assert "Two tills" not in last
    from tui.services.sync import shown
    assert last.endswith(shown(refused)), (last, shown(refused))  # the till's strip says the same
    assert not any(step.startswith("migration") for step in server.migrate_server(url))  # idempotent


def test_two_tills_rows_coexist_with_shifted_ids_and_reports_see_both(shop_server, tmp_path):
    url, conn = shop_server
    tills = [Till(tmp_path, "01"), Till(tmp_path, "02")]
    mine = {}
    for index, till in enumerate(tills):
        with till:
            a_day(till.till_id, sales=3 + index)
            till.push(conn)
            mine[till.till_id] = rows(till.till_id)
    today = datetime.date.today()
    heads = server.till_heads(conn)
    assert [(h["till_id"], h["till_index"]) for h in heads] == [("01", 1), ("02", 2)]
    with bound(url):
        for till in tills:
            theirs = rows(till.till_id, server.till_base(conn, till.till_id))
            for table in mine[till.till_id]:
                assert theirs[table] == mine[till.till_id][table], (till.till_id, table)
        # both tills' sale 1 are there, apart
        assert m.Sale.select().where(m.Sale.id.in_([server.ID_BLOCK + 1, 2 * server.ID_BLOCK + 1])).count() == 2
        listed = queries.sales_on(today)
        assert {row["till_id"] for row in listed} == {"01", "02"}
        on_server = {by: reports.sales_by(None, today, today, by) for by in ("day", "product", "tender")}
    on_tills = []
    for till in tills:
        with till:
            on_tills.append({by: reports.sales_by(None, today, today, by) for by in ("day", "product", "tender")})
    assert on_server["day"][0]["net_fen"] == sum(t["day"][0]["net_fen"] for t in on_tills) != 0
    assert on_server["day"][0]["count"] == sum(t["day"][0]["count"] for t in on_tills) == 4 + 5
    for by, key in (("product", "barcode"), ("tender", "tender")):
        summed: dict = {}
        for found in on_tills:
            for row in found[by]:
                summed[row[key]] = summed.get(row[key], 0) + row["net_fen"]
        assert {row[key]: row["net_fen"] for row in on_server[by]} == summed
    with bound(url):
        on_hand = m.StockBalance.get(m.StockBalance.product == 1).on_hand_milli
    held = 0
    for till in tills:
        with till:
            held += m.StockBalance.get(m.StockBalance.product == 1).on_hand_milli
    assert on_hand == held


def test_a_till_of_another_shop_is_refused(shop_server, tmp_path):
    url, conn = shop_server
    till = Till(tmp_path, "01", shop="north")
    with till:
        ring_up(catalogue(), till_id="01")
        till.push(conn)
        till.shop = "south"
        ring_up({p.barcode: p for p in m.Product.select()}, till_id="01")
        with pytest.raises(server.BatchRefused) as refused:
            till.push(conn)
    assert refused.value.code == "sync_other_shop"
    assert [h["shop"] for h in server.till_heads(conn, shop="north")] == ["north"]
    assert server.till_heads(conn, shop="south") == []


def test_an_unreachable_server_is_one_sentence_without_the_password(tmp_path):
    url = f"postgresql://u:secret@/nowhere?host={tmp_path}&port=1"
    with pytest.raises(server.ServerError) as failed:
        server.connect_server(url, timeout_s=1)
    assert "secret" not in str(failed.value) and "***" in str(failed.value)
    assert "\n" not in str(failed.value)


def test_keyed_records_are_hashed_again_only_where_the_key_is_loaded(shop_server, tmp_path):
    from store import chain

    url, conn = shop_server
    chain.set_key(b"k" * 32, made="2000-01-01 00:00:00")
    _, batch = _batch(tmp_path)
    assert {r["hash_kind"] for r in batch["records"]} == {chain.HMAC}
    forged = [dict(r) for r in batch["records"]]
    forged[-1]["content"] = forged[-1]["content"].replace("0", "1", 1)  # its link intact, its hash now wrong
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, dict(batch, records=forged))  # this process has the key: hashed again
    assert refused.value.code == "sync_bad_hash"
    chain.set_key(None)
    unlinked = [dict(r) for r in batch["records"]]
    unlinked[1]["prev_hash"] = "f" * 64
    with pytest.raises(server.BatchRefused) as refused:
        server.send_batch(conn, dict(batch, records=unlinked))  # without the key the links are still checked
    assert refused.value.code == "sync_rewritten"
    assert server.send_batch(conn, batch) == batch["records"][-1]["seq"]


def test_two_tills_first_batches_at_once_get_two_indexes(shop_server, tmp_path):
    import threading

    url, conn = shop_server
    batches = [_batch(tmp_path / till_id, till_id)[1] for till_id in ("01", "02", "03")]
    start = threading.Barrier(len(batches))
    heads, errors = [], []

    def send(batch):
        own = server.connect_server(url)
        try:
            start.wait(timeout=30)
            heads.append(server.send_batch(own, batch))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=send, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(heads) == 3
    assert sorted(h["till_index"] for h in server.till_heads(conn)) == [1, 2, 3]
    assert _count(conn, "SELECT count(DISTINCT id / %s) FROM sale", server.ID_BLOCK) == 3


def test_a_batch_the_server_cannot_store_leaves_nothing_and_the_connection_usable(shop_server, tmp_path):
    url, conn = shop_server
    _, batch = _batch(tmp_path)
    documents = json.loads(json.dumps(batch["documents"]))
    for document in documents.values():
        document["sale"]["colour"] = "red"  # a column this server does not have (a newer till)
    with pytest.raises(server.ServerError) as failed:
        server.send_batch(conn, dict(batch, documents=documents))
    assert not isinstance(failed.value, server.BatchRefused)
    assert "colour" in str(failed.value) and "\n" not in str(failed.value)
    assert _count(conn, "SELECT count(*) FROM audit") == 0
    assert server.till_heads(conn) == []  # not even the till row: one transaction
    assert server.send_batch(conn, batch) == batch["records"][-1]["seq"]
