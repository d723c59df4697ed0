"""The till's queries and the history search read indexes, never a whole table of history.

A few thousand sales with real planner statistics (ANALYZE), on SQLite and
PostgreSQL; every statement the store runs is caught and EXPLAINed. A full
scan of a history table (sale, line, payment, receipt_outcome,
print_attempt, event) fails the test. The only whole-index read allowed is
of the partial index of unresolved receipts: it holds open work only.
``test_the_plan_check_can_fail`` shows the check catching the old shapes.
"""
from __future__ import annotations

import datetime
import json
import re
from typing import Callable, List, Tuple

import pytest

from store import outcomes, queries
from store.db import is_sqlite
from store.models import Event, Line, Payment, PrintAttempt, ReceiptOutcome, Sale, TillCounter
from tests.store.helpers import catalogue, ring_up

HISTORY_TABLES = {"sale", "line", "payment", "receipt_outcome", "print_attempt", "event"}
OPEN_WORK_INDEX = "receipt_outcome_unresolved"
SALES = 20000
START = datetime.datetime(2026, 1, 1, 8, 0)


@pytest.fixture
def history(database):
    """SALES printed sales of till 1 (one an hour, totals varying; a print attempt and an event each)
    plus a few of till 2, then ANALYZE; then a failed receipt and an interrupted one."""
    products = catalogue()
    cola = products["6901234567892"]
    sales, lines, payments, results, attempts, events = [], [], [], [], [], []
    for i in range(1, SALES + 1):
        total = 100 + i % 700
        sales.append((i, "1", i, START + datetime.timedelta(hours=i), "seed", total, 0, "0" * 64, "0" * 64))
        for position in range(1, 4):
            name = cola.name if position == 1 else f"商品{i % 400}-{position}"
            lines.append((i, position, cola.id if position == 1 else None, str(690000 + i % 400), name, "",
                          total, 1000, total if position == 1 else 0))
        payments.append((i, 1, "cash", total, "", "ok", ""))
        results.append((i, outcomes.PRINTED, "", "", START))
        attempts.append((i, "main", START, START, outcomes.PRINTED, outcomes.PENDING))
        events.append((START, "1", outcomes.EVENT_OUTCOME, i, "printing -> printed"))
    with database.atomic():
        _seed(sales, lines, payments, results, attempts, events)
    if not is_sqlite(database):
        database.execute_sql("SELECT setval(pg_get_serial_sequence('sale', 'id'), %s)", (SALES,))
    for _ in range(3):
        ring_up(products, till_id="2")
    database.execute_sql("ANALYZE" if is_sqlite(database) else "VACUUM ANALYZE")
    # open work: a failed receipt and one left printing by a crash
    failed, printing = ring_up(products), ring_up(products)
    attempt = outcomes.start_printing(failed.id, "main")
    outcomes.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
    outcomes.start_printing(printing.id, "main")
    return products


def _seed(sales, lines, payments, results, attempts, events) -> None:
    _insert(Sale, (Sale.id, Sale.till_id, Sale.receipt_no, Sale.sold_at, Sale.cashier, Sale.total_fen,
                   Sale.change_fen, Sale.prev_hash, Sale.hash), sales)
    _insert(Line, (Line.sale, Line.position, Line.product, Line.barcode, Line.name, Line.unit,
                   Line.unit_price_fen, Line.qty_milli, Line.amount_fen), lines)
    _insert(Payment, (Payment.sale, Payment.position, Payment.method, Payment.amount_fen, Payment.reference,
                      Payment.status, Payment.reason), payments)
    _insert(ReceiptOutcome, (ReceiptOutcome.sale, ReceiptOutcome.state, ReceiptOutcome.reason_code,
                             ReceiptOutcome.reason, ReceiptOutcome.updated_at), results)
    _insert(PrintAttempt, (PrintAttempt.sale, PrintAttempt.printer, PrintAttempt.started_at,
                           PrintAttempt.finished_at, PrintAttempt.result, PrintAttempt.prior_state), attempts)
    _insert(Event, (Event.at, Event.till_id, Event.kind, Event.sale, Event.detail), events)
    TillCounter.insert(till_id="1", last_receipt_no=SALES, last_hash="0" * 64).execute()


def _insert(model, fields, rows) -> None:
    for start in range(0, len(rows), 300):
        model.insert_many(rows[start:start + 300], fields=list(fields)).execute()


# --- catching and explaining statements ------------------------------------------------

def _statements(database, monkeypatch, action: Callable[[], object]) -> List[Tuple[str, tuple]]:
    """Every SELECT, UPDATE and DELETE the store runs during ``action``."""
    caught: List[Tuple[str, tuple]] = []
    execute = database.execute_sql

    def spy(sql, params=None, *args, **kwargs):
        if sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "UPDATE", "DELETE"):
            caught.append((sql, tuple(params or ())))
        return execute(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", spy)
    try:
        action()
    finally:
        monkeypatch.undo()
    return caught


#: PostgreSQL: at most this many rows read by any scan of a history table (the SALES history has
#: 20 times more sales, 60 times more lines); a bounded query reads its answer and a little more.
ROWS_READ = 1000


def full_scans(database, sql: str, params: tuple) -> List[str]:
    """The reads of a whole history table in one statement: SQLite by the plan's shape (a SCAN),
    PostgreSQL by the plan run on the data (a Seq Scan, or more than ROWS_READ rows read)."""
    if is_sqlite(database):
        aliases = {alias: table for table, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql)}
        found = []
        for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall():
            detail = row[-1]
            scan = re.match(r"SCAN (\w+)", detail)
            if scan and aliases.get(scan.group(1), scan.group(1)) in HISTORY_TABLES \
                    and f"INDEX {OPEN_WORK_INDEX}" not in detail:
                found.append(detail)
        return found
    select = sql.lstrip().upper().startswith("SELECT")  # EXPLAIN ANALYZE runs it: reads only
    explain = "EXPLAIN (ANALYZE, FORMAT JSON) " if select else "EXPLAIN (FORMAT JSON) "
    plan = database.execute_sql(explain + sql, params).fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node):
        table = node.get("Relation Name")
        read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
        if table in HISTORY_TABLES and (node["Node Type"] == "Seq Scan" or read > ROWS_READ):
            found.append(f"{node['Node Type']} on {table} ({node.get('Index Name', '')}): {read} rows")
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan[0]["Plan"])
    return found


def assert_indexed(database, monkeypatch, action: Callable[[], object], what: str = "") -> None:
    statements = _statements(database, monkeypatch, action)
    assert statements, "nothing was run"
    for sql, params in statements:
        assert full_scans(database, sql, params) == [], (what, sql)


# --- what the till runs at start and per sale ------------------------------------------

def test_start_up_reads_only_open_receipts(history, database, monkeypatch):
    assert_indexed(database, monkeypatch, lambda: outcomes.recover_interrupted("1"))
    assert_indexed(database, monkeypatch, lambda: outcomes.unresolved_sales("1"))
    assert len(outcomes.unresolved_sales("1")) == 2  # the failed one and the interrupted one


def test_a_sale_and_its_receipt_read_no_history(history, database, monkeypatch):
    """Commit (the till's last receipt number), print, confirm, the banner's checks, a reprint."""
    def one_sale():
        sale = ring_up(history)
        assert outcomes.unresolved_sales("1")[-1].id == sale.id
        attempt = outcomes.start_printing(sale.id, "main")
        outcomes.finish_printing(attempt.id, True)
        again = outcomes.start_printing(sale.id, "main", reprint=True)
        outcomes.finish_printing(again.id, True)
        outcomes.get_outcome(sale.id)
        queries.receipts(unresolved_only=True, till_id="1")

    assert_indexed(database, monkeypatch, one_sale)


# --- the history search ------------------------------------------------------------------

SEARCHES = [
    "",                 # the newest receipts
    "1-000123", "123",  # a receipt number
    "2026-02-01",       # a day
    "3.50", "￥1.23",    # an amount
    "可乐", "可口可乐 330ml", "商品17-2", "品1",  # part of a product name
    "690017",           # a barcode
    "kkkl",             # pinyin, through the catalogue
    "无此商品",           # nothing
]


def test_history_search_reads_indexes(history, database, monkeypatch):
    for text in SEARCHES:
        assert_indexed(database, monkeypatch, lambda: queries.search_receipts("1", text), text)


def test_history_search_by_name_finds_the_newest_of_this_till(history):
    rows = queries.search_receipts("1", "品17")  # 商品17-2, 商品170-3, 商品217-2, ...: one sale in 40
    expected = [sale_id for (sale_id,) in
                Sale.select(Sale.id).where(Sale.till_id == "1")
                .where(Sale.id.in_(Line.select(Line.sale).where(Line.name.contains("品17"))))
                .order_by(Sale.receipt_no.desc()).limit(200).tuples()]
    assert len(expected) == 200
    assert [row["id"] for row in rows] == expected
    cola = queries.search_receipts("1", "可乐", limit=50)  # on every sale: the newest 50
    assert [row["receipt_no"] for row in cola] == list(range(SALES + 2, SALES + 2 - 50, -1))


# --- the check itself -------------------------------------------------------------------

def test_the_plan_check_can_fail(history, database):
    """The old shapes read whole tables, and the check says so."""
    old_name_search = (
        Sale.select().where((Sale.till_id == "1")
                            & Sale.id.in_(Line.select(Line.sale).where(Line.name.contains("无此商品"))))
        .order_by(Sale.receipt_no.desc()).limit(200)
    )
    sql, params = old_name_search.sql()
    assert full_scans(database, sql, tuple(params))
    if is_sqlite(database):
        # a bound ? in place of the written-out states: SQLite cannot use the partial index
        bound = ReceiptOutcome.select(ReceiptOutcome.sale).where(
            ReceiptOutcome.state.in_(outcomes.UNRESOLVED_STATES))
        sql, params = bound.sql()
        assert full_scans(database, sql, tuple(params))
