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
