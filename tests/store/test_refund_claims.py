"""Refund claims (store.refund_claims) with a real PostgreSQL server and real local SQLite tills.

Two tills racing for the last unit of a line run as two processes (each binds store.db.db to its own till
database, as two till machines would); the other stories bind one till at a time (tests/store/test_shop_wide.py).
"""
from __future__ import annotations

import multiprocessing
from typing import Any, Dict, List, Tuple

import pytest

from store import refund_claims
from tests.store.test_shop_wide import Tills, lines_of, server_url, sync, tills  # noqa: F401 - fixtures

COLA = "6901234567892"
DEAD = "postgresql://nobody@127.0.0.1:1/none"


def claims(tills: Tills) -> List[Tuple[str, str, int]]:
    """(till, state, qty) of every claim on the server, in order."""
    conn = tills.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT till_id, state, qty_milli FROM refund_claim ORDER BY id")
            rows = [(str(a), str(b), int(c)) for a, b, c in cursor.fetchall()]
        conn.commit()
    finally:
        conn.close()
    return rows


def server_refunded(tills: Tills, till: str, sale_id: int) -> int:
    """The quantity the server holds as refunded of till ``till``'s sale ``sale_id`` (every till's refunds)."""
    from store.server import till_base

    conn = tills.connect()
    try:
        base = till_base(conn, till)
        with conn.cursor() as cursor:
            cursor.execute("SELECT COALESCE(SUM(l.qty_milli), 0) FROM line l JOIN sale s ON s.id = l.sale_id "
                           "WHERE s.kind = 'refund' AND s.original_id = %s", (base + sale_id,))
            found = int(cursor.fetchone()[0])
        conn.commit()
    finally:
        conn.close()
    return found


def crashed_claim(tills: Tills, till: str, server_sale_id: int, lines: Dict[int, Tuple[int, int]]) -> str:
    """A till that took a claim and died before its local commit: the claim is left open on the server."""
    conn = tills.connect()
    try:
        with conn.cursor() as cursor:
            refund_claims.lock_sale(cursor, server_sale_id)
            claim_no = refund_claims.insert_claim(cursor, till, server_sale_id, lines)
        conn.commit()
    finally:
        conn.close()
    return claim_no


def age_claims(tills: Tills, minutes: int) -> None:
    """Time passes on the server for the claims (their ``at`` moved back): no test waits for minutes."""
    conn = tills.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("UPDATE refund_claim SET at = at - make_interval(mins => %s)", (minutes,))
        conn.commit()
    finally:
        conn.close()


def sold_and_synced(tills: Tills, qty_milli: int = 2000, refund_first: int = 1000):
    """Till 1 sells colas, refunds ``refund_first`` of them itself, syncs: the sale and its cola line."""
    from store import documents
    from tests.store.helpers import ring_up

    with tills.on("1"):
        sold = ring_up(tills.products["1"], (COLA, qty_milli), till_id="1")
        cola = lines_of(sold.id)[0]
        if refund_first:
            documents.commit_refund(sold.id, [(cola.id, refund_first)], "1", "c1")
        sync(tills, "1")
    return sold, cola


# ---------------------------------------------------------------- the race (two processes)

def _race(role: str, till_url: str, url: str, sale_id: int, line_id: int, start: Any, results: Any) -> None:
    """One till of the race: till 1 refunds its own receipt online, till 2 refunds it as another till's."""
    from store.db import open_database
    from store.documents import DocumentError
    from tui.services import corrections

    open_database(till_url)
    try:
        if role == "own":
            lines, _room = corrections.refund_choices(sale_id, url, "1")
            assert [line.remaining_qty for line in lines] == [1000]
            start.wait(timeout=60)
            done = corrections.commit_refund(sale_id, corrections.RefundChoice(((line_id, 1000),), None, 350),
                                             "1", "c1", None, url)
        else:
            receipt = corrections.foreign_refund_choices(url, "2", "1-000001")
            assert [line.remaining_qty for line in receipt.lines] == [1000]
            start.wait(timeout=60)
            choice = corrections.RefundChoice(((receipt.lines[0].line_id, 1000),), None, 350)
            done = corrections.commit_foreign_refund(url, receipt, choice, "2", "c2", None)
        results.put((role, "ok", done.number))
    except DocumentError as exc:
        results.put((role, exc.code, str(exc)))
    except BaseException as exc:  # noqa: BLE001 - told to the test, not lost in the child
        results.put((role, "failed", repr(exc)))
        raise


def test_two_tills_race_for_the_last_cola_and_exactly_one_refunds_it(tills):
    """Till 1 sold 2 colas and refunded 1; at the same moment till 1 (its own receipt, online) and till 2
    (another till's receipt) refund the last one: exactly one refund is made, the other till is told in one
    sentence that nothing of it is left; after both sync the server holds 2 colas refunded of 2, and each
    claim is closed by its refund's arrival."""
    sold, cola = sold_and_synced(tills)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    children = [spawn.Process(target=_race, args=(role, tills.urls[till], tills.server_url, sold.id, cola.id, start,
                                                  results))
                for role, till in (("own", "1"), ("foreign", "2"))]
    for child in children:
        child.start()
    answers = {}
    for _ in children:
        role, code, said = results.get(timeout=120)
        answers[role] = (code, said)
    for child in children:
        child.join(timeout=60)
    assert sorted(code for code, _ in answers.values()) == ["ok", "refund_too_much"], answers
    lost = [said for code, said in answers.values() if code != "ok"][0]
    assert lost == "Only 0 of 可口可乐 330ml can still be refunded."
    for till in ("1", "2"):
        with tills.on(till):
            sync(tills, till)
    assert server_refunded(tills, "1", sold.id) == 2000
    assert [state for _, state, _ in claims(tills)] == [refund_claims.DONE]


# ---------------------------------------------------------------- open claims, crashed claims

def test_own_receipt_online_respects_another_tills_open_claim_until_it_expires(tills):
    """Till 2 claimed the last cola and crashed before committing: till 1 (online) cannot refund it, and is
    told what is left; the claim counts on till 3's look-up too; after CLAIM_MINUTES the claim expires and
    till 1 refunds it."""
    from store.documents import DocumentError
    from store.server import till_base
    from tui.services import corrections

    sold, cola = sold_and_synced(tills)
    conn = tills.connect()
    try:
        base = till_base(conn, "1")
    finally:
        conn.close()
    crashed_claim(tills, "2", base + sold.id, {base + cola.id: (1000, 350)})
    with tills.on("1"):
        lines, _room = corrections.refund_choices(sold.id, tills.server_url, "1")
        assert [line.remaining_qty for line in lines] == [0]  # what till 2 is giving back is not offered
        choice = corrections.RefundChoice(((cola.id, 1000),), None, 350)
        with pytest.raises(DocumentError) as taken:
            corrections.commit_refund(sold.id, choice, "1", "c1", None, tills.server_url)
        assert taken.value.code == "refund_too_much"
        assert str(taken.value) == "Only 0 of 可口可乐 330ml can still be refunded."
        age_claims(tills, refund_claims.CLAIM_MINUTES - 1)
        with pytest.raises(DocumentError):  # not yet expired
            corrections.commit_refund(sold.id, choice, "1", "c1", None, tills.server_url)
        age_claims(tills, 2)
        done = corrections.commit_refund(sold.id, choice, "1", "c1", None, tills.server_url)
        assert done.amount == "3.50" and done.note == ""
    assert [(till, state) for till, state, _ in claims(tills)] == [("2", refund_claims.OPEN), ("1", "committed")]
    with tills.on("1"):
        sync(tills, "1")
    assert [(till, state) for till, state, _ in claims(tills)] == [("2", refund_claims.OPEN), ("1", "done")]
    assert server_refunded(tills, "1", sold.id) == 2000


def test_a_committed_claim_does_not_expire_and_its_refund_closes_it(tills):
    """Till 2 refunds a cola of till 1's receipt and goes quiet before syncing: its claim is committed, and
    however long it waits it still counts on till 1; when till 2's batch arrives the refund counts instead
    and the claim is done."""
    from tui.services import corrections

    sold, cola = sold_and_synced(tills, 2000, 0)
    with tills.on("2"):
        receipt = corrections.foreign_refund_choices(tills.server_url, "2", "1-000001")
        corrections.commit_foreign_refund(tills.server_url, receipt,
                                          corrections.RefundChoice(((receipt.lines[0].line_id, 1000),), None, 350),
                                          "2", "c2", None)
    assert claims(tills) == [("2", refund_claims.COMMITTED, 1000)]
    age_claims(tills, 24 * 60)
    with tills.on("1"):
        lines, _room = corrections.refund_choices(sold.id, tills.server_url, "1")
        assert [line.remaining_qty for line in lines] == [1000]
    with tills.on("2"):
        sync(tills, "2")
    assert claims(tills) == [("2", refund_claims.DONE, 1000)]
    with tills.on("1"):
        lines, _room = corrections.refund_choices(sold.id, tills.server_url, "1")
        assert [line.remaining_qty for line in lines] == [1000]  # counted once: the refund, not the claim too


def test_a_refused_local_commit_gives_its_claim_back(tills):
    """The claim is taken, then the till's own commit refuses (payments that do not add up): the claim is
    released at once and the room is there for the next till."""
    from store.documents import DocumentError
    from tui.services import corrections

    sold_and_synced(tills, 1000, 0)
    with tills.on("2"):
        receipt = corrections.foreign_refund_choices(tills.server_url, "2", "1-000001")
        wrong = corrections.RefundChoice(((receipt.lines[0].line_id, 1000),), (("cash", 1),), 1)
        with pytest.raises(DocumentError) as refused:
            corrections.commit_foreign_refund(tills.server_url, receipt, wrong, "2", "c2", None)
        assert refused.value.code == "refund_payments"
    assert claims(tills) == [("2", refund_claims.RELEASED, 1000)]
    with tills.on("1"):
        lines, _room = corrections.refund_choices(1, tills.server_url, "1")
        assert [line.remaining_qty for line in lines] == [1000]


# ---------------------------------------------------------------- offline

def test_offline_own_refund_works_and_says_other_tills_refunds_may_not_be_known(tills):
    """The server named but not answering: till 1 refunds its own receipt from what it knows, nothing is
    claimed, and the answer carries the one sentence the history shows (zh and en)."""
    from tui import i18n
    from tui.services import corrections

    sold, cola = sold_and_synced(tills, 1000, 0)
    with tills.on("1"):
        lines, _room, note = corrections.noted_refund_choices(sold.id, DEAD, "1")
        assert [line.remaining_qty for line in lines] == [1000] and note == corrections.OFFLINE_OWN_NOTE
        assert corrections.noted_refund_choices(sold.id, tills.server_url, "1")[2] == ""  # online: nothing said
        assert corrections.noted_refund_choices(sold.id, "", "1")[2] == ""  # no server named: a one-till shop
        done = corrections.commit_refund(sold.id, corrections.RefundChoice(((cola.id, 1000),), None, 350), "1",
                                         "c1", None, DEAD)
    assert done.amount == "3.50" and done.note == corrections.OFFLINE_OWN_NOTE
    assert claims(tills) == []
    was = i18n.language()
    i18n.set_language("en")
    try:
        assert i18n.t(f"history.{done.note}") == ("Refunded while the server is not reachable: other tills' "
                                                   "refunds of this receipt may not be known yet")
        assert i18n.t(f"history.{done.note}") == refund_claims.OFFLINE_OWN[0].upper() + refund_claims.OFFLINE_OWN[1:]
        i18n.set_language("zh")
        assert "别的收银台" in i18n.t(f"history.{done.note}")
    finally:
        i18n.set_language(was)


def test_a_till_the_server_has_not_seen_refunds_its_own_receipt_without_a_claim(tills):
    """Till 3 never synced: no other till can know its receipts, so its refund online takes no claim and
    says nothing."""
    from tests.store.helpers import catalogue, ring_up
    from tui.services import corrections

    tills.urls["3"] = tills.urls["1"].replace("till1", "till3")
    with tills.on("3"):
        products = catalogue()
        sold = ring_up(products, (COLA, 1000), till_id="3")
        line = lines_of(sold.id)[0]
        done = corrections.commit_refund(sold.id, corrections.RefundChoice(((line.id, 1000),), None, 350), "3",
                                         "c3", None, tills.server_url)
    assert done.note == "" and claims(tills) == []
