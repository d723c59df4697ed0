"""The till's side of sync up, on its own SQLite: what waits, one batch of it, and the mark."""
from __future__ import annotations

import json

from store import sync_batch
from store.models import GENESIS_HASH, Audit
from tests.store.helpers import catalogue, ring_up


def test_nothing_waits_on_a_new_till(sqlite_database):
    assert sync_batch.waiting("1") == 0
    assert sync_batch.build_batch("1", "north") is None


def test_a_batch_holds_the_records_in_order_and_their_documents_as_json(sqlite_database):
    products = catalogue()
    sales = [ring_up(products, ("6901234567892", 2000), ("42", 1000)) for _ in range(3)]
    waiting = sync_batch.waiting("1")
    assert waiting == Audit.select().count() == 3 * 3  # a commit and two stock moves each
    batch = sync_batch.build_batch("1", "north", limit=4)
    assert json.loads(json.dumps(batch)) == batch
    assert (batch["shop"], batch["till"], batch["instance"]) == ("north", "1", sync_batch.instance_id("1"))
    assert [r["seq"] for r in batch["records"]] == [1, 2, 3, 4]
    assert [r["kind"] for r in batch["records"]] == ["commit", "stock_move", "stock_move", "commit"]
    assert batch["records"][0]["prev_hash"] == GENESIS_HASH
    assert sorted(batch["documents"]) == [str(sales[0].id), str(sales[1].id)]
    document = batch["documents"][str(sales[0].id)]
    assert document["sale"]["hash"] == sales[0].hash
    assert document["sale"]["sold_at"] == sales[0].sold_at.isoformat(sep=" ", timespec="microseconds")
    assert [line["position"] for line in document["lines"]] == [1, 2]
    assert document["lines"][0]["sale_id"] == sales[0].id and document["payments"][0]["method"] == "cash"
    assert document["discounts"] == []


def test_the_mark_moves_the_next_batch_on_and_waiting_down(sqlite_database):
    products = catalogue()
    for _ in range(2):
        ring_up(products)
    first = sync_batch.build_batch("1", "", limit=3)
    last = first["records"][-1]
    sync_batch.mark_sent("1", last["seq"], last["hash"])
    assert sync_batch.waiting("1") == 1
    rest = sync_batch.build_batch("1", "")
    assert [r["seq"] for r in rest["records"]] == [4]
    assert rest["records"][0]["prev_hash"] == last["hash"]
    sync_batch.mark_sent("1", 4, rest["records"][0]["hash"])
    assert sync_batch.waiting("1") == 0 and sync_batch.build_batch("1", "") is None
    sync_batch.mark_sent("1", 0, GENESIS_HASH)  # a server restored from an older backup: sent again from its head
    assert sync_batch.waiting("1") == 4


def test_the_instance_is_made_once_per_database(sqlite_database):
    made = sync_batch.instance_id("1")
    assert len(made) == 32 and sync_batch.instance_id("1") == made
    assert sync_batch.instance_id("2") != made
