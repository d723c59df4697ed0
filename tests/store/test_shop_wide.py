"""Shop-wide features with a real PostgreSQL server and two real local SQLite tills (store.shop_wide).

Each till is its own SQLite file; the test binds store.db.db to one, then the other (``Tills.on``), as two
till processes would each have their own. The server is a real PostgreSQL database migrated as the shop's
server (store.server.migrate_server).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator, List

import pytest

from store import baskets, sales, shop_wide
from store.db import close_database, db, open_database
from store.models import Event, HeldPush, OpenBasket
from tests.store.helpers import catalogue


class Tills:
    """Two tills' local databases, and the server they share."""

    def __init__(self, tmp_path, server_url: str) -> None:
        self.urls = {till: "sqlite:///" + str(tmp_path / f"till{till}.sqlite3") for till in ("1", "2")}
        self.server_url = server_url
        self.products = {}
        for till in self.urls:
            with self.on(till):
                self.products[till] = catalogue()

    @contextmanager
    def on(self, till: str) -> Iterator[None]:
        """The store bound to till ``till``'s local database."""
        open_database(self.urls[till])
        try:
            yield
        finally:
            close_database()
            db.initialize(None)

    def connect(self):
        return shop_wide.connect(self.server_url)


@pytest.fixture
def server_url(postgres_url) -> str:
    from store.server import migrate_server

    migrate_server(postgres_url)
    return postgres_url


@pytest.fixture
def tills(tmp_path, server_url) -> Tills:
    return Tills(tmp_path, server_url)


def hold_one(tills: Tills, till: str, note: str = "Wang") -> int:
    """Ring up a basket on ``till`` and hold it; its local id."""
    basket = sales.Basket()
    basket.add(tills.products[till]["6901234567892"], 2000)
    basket_id = baskets.save(None, till, basket, [])
    baskets.hold(basket_id, till, note)
    return basket_id


def push(tills: Tills, till: str) -> None:
    conn = tills.connect()
    try:
        shop_wide.push(conn, till, "")
    finally:
        conn.close()


def events(kind: str) -> List[str]:
    return [row.detail for row in Event.select().where(Event.kind == kind)]


# ---------------------------------------------------------------- held baskets

def test_held_basket_of_till_1_is_taken_on_till_2_and_closed_on_till_1(tills):
    """held on 1 -> pushed -> listed on 2 -> taken on 2 (a new open basket) -> 1's next push closes its copy,
    with an event, and neither till offers it again."""
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        push(tills, "1")
        push(tills, "1")  # nothing changed: nothing sent again
        assert HeldPush.get_by_id(held_id).state == shop_wide.PUSHED
    with tills.on("2"):
        listed = shop_wide.held_list("2", tills.server_url, "")
        assert listed.note == ""
        others = [row for row in listed.rows if row.server is not None]
        assert [(row.till_id, row.note, row.total_fen, row.items) for row in others] == [("1", "Wang", 700, 1)]
        assert [item.name for item in others[0].basket.items] == ["可口可乐 330ml"]
        stored = shop_wide.take(others[0].choice, "2", None, tills.server_url)
        assert stored.state == baskets.OPEN and stored.till_id == "2" and stored.total_fen == 700
        assert baskets.open_basket("2").id == stored.id
        assert events(shop_wide.EVENT_TAKEN_FROM) == ["1 items 7.00 from till 1 Wang"]
        assert not [row for row in shop_wide.held_list("2", tills.server_url, "").rows if row.server]
    with tills.on("1"):
        assert OpenBasket.get_by_id(held_id).state == baskets.HELD  # it learns at its next push
        push(tills, "1")
        assert OpenBasket.get_by_id(held_id).state == shop_wide.TAKEN
        assert events(shop_wide.EVENT_TAKEN) == ["1 items 7.00 on till 2"]
        assert baskets.held() == [] and baskets.counts("1") == (0, 0)
        with pytest.raises(baskets.BasketError):
            baskets.resume(held_id, "1")
        push(tills, "1")
        assert events(shop_wide.EVENT_TAKEN) == ["1 items 7.00 on till 2"]  # said once


def test_two_claims_race_and_one_wins(tills):
    """Two tills claim one held basket at the same moment: exactly one claim wins, the other is told by whom."""
    with tills.on("1"):
        hold_one(tills, "1")
        push(tills, "1")
    conn = tills.connect()
    try:
        held = shop_wide.other_held(conn, "2")[0]
    finally:
        conn.close()
    start, results = threading.Barrier(2), {}

    def claim(till: str) -> None:
        conn = tills.connect()
        try:
            start.wait(timeout=30)
            results[till] = shop_wide.claim(conn, held, till)
        except shop_wide.ShopWideError as exc:
            results[till] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=claim, args=(till,)) for till in ("2", "3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [till for till, result in results.items() if isinstance(result, shop_wide.ServerHeld)]
    lost = [result for result in results.values() if isinstance(result, shop_wide.ShopWideError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code == "held_taken_on" and lost[0].values["till"] == won[0]


def test_a_basket_taken_back_on_its_own_till_is_withdrawn_from_the_server(tills):
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        push(tills, "1")
        stored = shop_wide.take(held_id, "1", None, tills.server_url)  # online: withdrawn there first
        assert stored.id == held_id and stored.state == baskets.OPEN
        assert HeldPush.get_by_id(held_id).state == shop_wide.WITHDRAWN
    with tills.on("2"):
        assert [row for row in shop_wide.held_list("2", tills.server_url, "").rows if row.server] == []


def test_a_basket_resumed_offline_is_withdrawn_at_the_next_push(tills):
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        push(tills, "1")
        baskets.resume(held_id, "1")  # offline: local first
        push(tills, "1")
        assert HeldPush.get_by_id(held_id).state == shop_wide.WITHDRAWN
    conn = tills.connect()
    try:
        assert shop_wide.other_held(conn, "2") == []
    finally:
        conn.close()


def test_a_claim_of_a_basket_its_till_took_back_is_refused(tills):
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        push(tills, "1")
    conn = tills.connect()
    try:
        held = shop_wide.other_held(conn, "2")[0]
    finally:
        conn.close()
    with tills.on("1"):
        shop_wide.take(held_id, "1", None, tills.server_url)
    with tills.on("2"):
        with pytest.raises(shop_wide.ShopWideError) as refused:
            shop_wide.take(held, "2", None, tills.server_url)
        assert refused.value.code == "held_gone"
        assert baskets.open_basket("2") is None


def test_offline_the_list_has_this_tills_held_baskets_and_says_so(tills, tmp_path):
    dead = "postgresql://nobody@127.0.0.1:1/none"  # nothing listens on port 1
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        listed = shop_wide.held_list("1", dead, "", timeout_s=2)
        assert [row.local_id for row in listed.rows] == [held_id]
        assert listed.note == shop_wide.OFFLINE_HELD
        assert listed.note == "held baskets of other tills wait for the server; this till's are listed"
        with pytest.raises(shop_wide.ShopWideError) as offline:
            shop_wide.take(shop_wide.ServerHeld("2", 1, "", "", 0, 0, "{}", None), "1", None, dead, timeout_s=2)
        assert offline.value.code == "held_offline"


def test_a_set_aside_basket_stays_on_its_till(tills):
    with tills.on("1"):
        basket = sales.Basket()
        basket.add(tills.products["1"]["42"], 1000)
        basket_id = baskets.save(None, "1", basket, [])
        baskets.set_aside(basket_id, "1")
        push(tills, "1")
        assert HeldPush.get_or_none(HeldPush.basket == basket_id) is None
    conn = tills.connect()
    try:
        assert shop_wide.other_held(conn, "2") == []
    finally:
        conn.close()


# ---------------------------------------------------------------- a refund of another till's receipt

def sync(tills: Tills, till: str) -> int:
    """Send till ``till``'s waiting records (bound to it): as the sync worker would; the server's head."""
    from store import server, sync_batch

    conn = tills.connect()
    try:
        head = 0
        while True:
            batch = sync_batch.build_batch(till, "")
            if batch is None:
                return head
            head = server.send_batch(conn, batch)
            sync_batch.mark_sent(till, head, batch["records"][-1]["hash"])
    finally:
        conn.close()


def lines_of(sale_id: int):
    from store.models import Line

    return list(Line.select().where(Line.sale == sale_id).order_by(Line.position))


def left(receipt) -> list:
    return [(line.name, line.remaining_qty) for line in receipt.lines]


def test_till_2_refunds_till_1s_receipt_through_the_server(tills):
    """Sold on 1 (3 colas, a bag), 1 cola refunded on 1, synced -> on 2: 2 colas and the bag are left; 2 colas
    refunded on 2 as its own document -> nothing more of the cola; both tills verify; after 2 syncs, the server
    holds the refund pointing at till 1's sale and line, and its journal hash still checks."""
    from store import documents, journal, server
    from store.chain import chain_hash
    from store.models import Sale
    from tests.store.helpers import ring_up

    with tills.on("1"):
        sold = ring_up(tills.products["1"], ("6901234567892", 3000), ("42", 1000), till_id="1")
        cola, bag = lines_of(sold.id)
        documents.commit_refund(sold.id, [(cola.id, 1000)], "1", "c1", reason="broken")
        sync(tills, "1")
    with tills.on("2"):
        ring_up(tills.products["2"], till_id="2")  # till 2's own receipt 2-000001
        conn = tills.connect()
        try:
            receipt = shop_wide.foreign_receipt(conn, "2", "1-000001")
            assert receipt.number == "1-000001"
            assert left(receipt) == [("可口可乐 330ml", 2000), ("塑料袋", 1000)]
            assert receipt.room == {"cash": 3 * 350 + 20 - 350}
            copy_cola = receipt.lines[0].line_id
            refund = shop_wide.commit_foreign_refund(conn, receipt, [(copy_cola, 2000)], "2", "c2", reason="too many")
            assert (refund.till_id, refund.receipt_no, refund.kind, refund.total_fen) == ("2", 2, "refund", 700)
            assert refund.original_id == receipt.copy_id and shop_wide.is_copy(receipt.copy_id)
            assert [(p.method, p.amount_fen) for p in refund.payments] == [("cash", 700)]
            again = shop_wide.foreign_receipt(conn, "2", "1-000001")  # the copy is made once
            assert again.copy_id == receipt.copy_id
            assert left(again) == [("可口可乐 330ml", 0), ("塑料袋", 1000)]
            with pytest.raises(documents.DocumentError) as too_much:
                shop_wide.commit_foreign_refund(conn, again, [(copy_cola, 1000)], "2", "c2")
            assert too_much.value.code == "refund_too_much"
        finally:
            conn.close()
        assert Sale.select().where(Sale.till_id == "2").count() == 2  # its own numbering: 2-000001, 2-000002
        result = journal.verify()
        assert result.ok, result.message
        assert result.tills_checked == 1  # the copy of till 1's receipt is not walked as a chain of till 1
        journal._verify(True, False, fast=True)  # the fast walk confirms it too (it raises on anything it cannot)
        refund_id = refund.id
        sync(tills, "2")
    with tills.on("1"):
        assert journal.verify().ok
    conn = tills.connect()
    try:
        base1, base2 = server.till_base(conn, "1"), server.till_base(conn, "2")
        with conn.cursor() as cursor:
            cursor.execute("SELECT original_id, kind, prev_hash, hash, till_id, receipt_no, sold_at, cashier, "
                           "total_fen, change_fen, reason, manager, discount_fen FROM sale WHERE id = %s",
                           (base2 + refund_id,))
            row = cursor.fetchone()
            assert row[0] == base1 + sold.id and row[1] == "refund"
            cursor.execute("SELECT original_line_id FROM line WHERE sale_id = %s", (base2 + refund_id,))
            assert [r[0] for r in cursor.fetchall()] == [base1 + cola.id]
            # a server-side verify reads the refund back as till 2 hashed it: through shop_copy
            mapping = shop_wide.copy_ids(cursor, "2")
            assert mapping[("sale", base1 + sold.id)] == receipt.copy_id
            cursor.execute("SELECT position, barcode, name, unit, unit_price_fen, qty_milli, amount_fen, "
                           "discount_fen, original_line_id FROM line WHERE sale_id = %s", (base2 + refund_id,))
            names = [c[0] for c in cursor.description]
            lines = [dict(zip(names, r)) for r in cursor.fetchall()]
            cursor.execute("SELECT position, method, amount_fen, reference, status FROM payment WHERE sale_id = %s",
                           (base2 + refund_id,))
            names = [c[0] for c in cursor.description]
            payments = [dict(zip(names, r)) for r in cursor.fetchall()]
        conn.commit()
    finally:
        conn.close()
    sale = dict(zip(("original", "kind", "prev_hash", "hash", "till_id", "receipt_no", "sold_at", "cashier",
                     "total_fen", "change_fen", "reason", "manager", "discount_fen"), row))
    sale["original"] = mapping[("sale", sale["original"])]
    for line in lines:
        line["original_line"] = mapping[("line", line.pop("original_line_id"))]
    assert chain_hash(sale["prev_hash"], journal.canonical_content(sale, lines, payments)) == sale["hash"]
    from store import server_verify
    from store.db import open_database

    open_database(tills.server_url)  # journal verify --server: both tills' chains, the refund through shop_copy
    checked = server_verify.verify_server()
    assert checked.ok, [t.message for t in checked.broken]
    assert {t.till_id for t in checked.tills} == {"1", "2"}


def test_a_refund_on_till_1_after_till_2s_is_respected_on_till_3(tills, tmp_path):
    """Refunds of one receipt by two other tills add up: what till 2 gave back (synced) is not left on till 3."""
    from tests.store.helpers import catalogue, ring_up

    tills.urls["3"] = "sqlite:///" + str(tmp_path / "till3.sqlite3")
    with tills.on("3"):
        tills.products["3"] = catalogue()
    with tills.on("1"):
        sold = ring_up(tills.products["1"], ("6901234567892", 3000), till_id="1")
        sync(tills, "1")
    for till, expected in (("2", 3000), ("3", 2000)):
        with tills.on(till):
            conn = tills.connect()
            try:
                receipt = shop_wide.foreign_receipt(conn, till, "1-000001")
                assert left(receipt) == [("可口可乐 330ml", expected)]
                shop_wide.commit_foreign_refund(conn, receipt, [(receipt.lines[0].line_id, 1000)], till, "c")
            finally:
                conn.close()
            sync(tills, till)
    assert sold.receipt_no == 1


def test_a_voided_receipt_of_another_till_is_not_refunded(tills):
    from store import documents
    from tests.store.helpers import ring_up

    with tills.on("1"):
        sold = ring_up(tills.products["1"], till_id="1")
        documents.commit_void(sold.id, "1", "c1", manager="M1", reason="mistake")
        sync(tills, "1")
    with tills.on("2"):
        conn = tills.connect()
        try:
            with pytest.raises(documents.DocumentError) as voided:
                shop_wide.foreign_receipt(conn, "2", "1-000001")
            assert voided.value.code == "voided"
            with pytest.raises(documents.DocumentError) as missing:
                shop_wide.foreign_receipt(conn, "2", "1-000099")
            assert missing.value.code == "no_such_receipt"
            with pytest.raises(shop_wide.ShopWideError) as own:
                shop_wide.foreign_receipt(conn, "2", "2-000001")
            assert own.value.code == "receipt_own"
        finally:
            conn.close()


def test_offline_a_refund_of_another_tills_receipt_waits_and_this_tills_own_still_works(tills):
    from store import documents
    from tests.store.helpers import ring_up
    from tui.services import corrections

    dead = "postgresql://nobody@127.0.0.1:1/none"
    with tills.on("2"):
        own = ring_up(tills.products["2"], till_id="2")
        assert corrections.other_till_receipt("1-000001", "2") and not corrections.other_till_receipt("2-000001", "2")
        with pytest.raises(shop_wide.ShopWideError) as offline:
            corrections.foreign_refund_choices(dead, "2", "1-000001")
        assert offline.value.code == "refund_offline"
        assert str(offline.value) == ("A refund of another till's receipt waits for the server; this till's own "
                                      "receipts can be refunded.")
        line = lines_of(own.id)[0]
        refund = documents.commit_refund(own.id, [(line.id, 1000)], "2", "c2")
        assert refund.kind == "refund" and refund.original_id == own.id


# ---------------------------------------------------------------- one id, one till

def test_a_second_database_claiming_till_1_is_told_by_the_servers_claim(tills, tmp_path):
    """Till 1 syncs; another database starting as till 1 reads the server's claim at start and is told; once
    its batch is refused, both databases are told the server's sentence. Offline: nothing is said."""
    from store import server, sync_batch
    from tests.store.helpers import ring_up

    tills.urls["1b"] = "sqlite:///" + str(tmp_path / "till1b.sqlite3")
    with tills.on("1b"):
        tills.products["1b"] = catalogue()
    with tills.on("1"):
        ring_up(tills.products["1"], till_id="1")
        sync(tills, "1")
        assert shop_wide.claim_sentence(tills.server_url, "1") == ""
    with tills.on("1b"):
        said = []
        shop_wide.check_claim_in_background(tills.server_url, "1", said.append).join(timeout=60)
        assert said and "already used by another till's database" in said[0]
        ring_up(tills.products["1b"], till_id="1")
        with pytest.raises(server.BatchRefused):
            sync(tills, "1")
        refused = shop_wide.claim_sentence(tills.server_url, "1")
        assert refused.startswith("Two tills claim id 1")
        assert shop_wide.claim_sentence("postgresql://nobody@127.0.0.1:1/none", "1", timeout_s=2) == ""
        assert sync_batch.waiting("1") > 0  # its sales stay here
    with tills.on("1"):
        assert shop_wide.claim_sentence(tills.server_url, "1") == refused  # said on both


def test_till_1_refunding_its_own_receipt_online_respects_what_till_2_gave_back(tills):
    """Till 2 refunds 2 of till 1's 3 colas (synced); till 1, online, has 1 left of its own receipt; offline, it
    refunds from what it knows."""
    from store import documents
    from tests.store.helpers import ring_up
    from tui.services import corrections

    with tills.on("1"):
        sold = ring_up(tills.products["1"], ("6901234567892", 3000), till_id="1")
        sync(tills, "1")
    with tills.on("2"):
        conn = tills.connect()
        try:
            receipt = shop_wide.foreign_receipt(conn, "2", "1-000001")
            shop_wide.commit_foreign_refund(conn, receipt, [(receipt.lines[0].line_id, 2000)], "2", "c2")
        finally:
            conn.close()
        sync(tills, "2")
    with tills.on("1"):
        lines, room = corrections.refund_choices(sold.id, tills.server_url, "1")
        assert [line.remaining_qty for line in lines] == [1000] and room == {"cash": 350}
        offline_lines, _ = corrections.refund_choices(sold.id, "postgresql://nobody@127.0.0.1:1/none", "1")
        assert [line.remaining_qty for line in offline_lines] == [3000]
        choice = corrections.RefundChoice(((lines[0].line_id, 2000),), None, 700)
        with pytest.raises(documents.DocumentError) as too_much:
            corrections.commit_refund(sold.id, choice, "1", "c1", None, tills.server_url)
        assert too_much.value.code == "refund_too_much"
        done = corrections.commit_refund(sold.id, corrections.RefundChoice(((lines[0].line_id, 1000),), None, 350),
                                         "1", "c1", None, tills.server_url)
        assert done.amount == "3.50"


def test_push_as_the_sync_worker_calls_it_finds_its_till(tills, monkeypatch):
    """push(conn) with no till named: the one configure named, else this database's sync_mark till; none
    known yet, nothing is pushed."""
    from store import sync_batch

    monkeypatch.setattr(shop_wide, "_identity", {})
    with tills.on("1"):
        held_id = hold_one(tills, "1")
        conn = tills.connect()
        try:
            shop_wide.push(conn)  # nothing synced yet: whose baskets these are is not known
            assert HeldPush.get_or_none(HeldPush.basket == held_id) is None
            sync_batch.instance_id("1")
            shop_wide.push(conn)
            assert HeldPush.get_by_id(held_id).state == shop_wide.PUSHED
        finally:
            conn.close()
