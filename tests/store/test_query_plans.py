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

from store import outcomes, print_attempts, queries
from store.db import close_database, db, is_sqlite, open_database
from store.models import Line, ReceiptOutcome, Sale
from tests.store.helpers import catalogue, ring_up

HISTORY_TABLES = {"sale", "line", "payment", "receipt_outcome", "print_attempt", "event"}
OPEN_WORK_INDEX = "receipt_outcome_unresolved"
SALES = 50000
START = datetime.datetime(2026, 1, 1, 8, 0)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db_url(request, tmp_path_factory) -> str:
    """One database per backend for the whole module: seeding it takes seconds."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("plans") / "history.sqlite3")
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture(scope="module")
def history(db_url):
    """SALES printed sales of till 1 (one an hour, totals varying, 3 lines, a payment, a print
    attempt and an event each) plus a few of till 2; ANALYZE; then a failed receipt and one
    left printing by a crash. Yields (database, products)."""
    database = open_database(db_url)
    try:
        products = catalogue()
        with database.atomic():
            for sql in _seed_sql(database, products["6901234567892"]):
                database.execute_sql(sql)
        for _ in range(3):
            ring_up(products, till_id="2")
        database.execute_sql("ANALYZE" if is_sqlite(database) else "VACUUM ANALYZE")
        failed, printing = ring_up(products), ring_up(products)
        attempt = print_attempts.start_printing(failed.id, "main")
        print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
        print_attempts.start_printing(printing.id, "main")
        yield database, products
    finally:
        close_database()
        db.initialize(None)


def _seed_sql(database, cola) -> List[str]:
    sqlite = is_sqlite(database)
    numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SALES}) "
    sold_at = ("datetime('2026-01-01 08:00:00', '+' || i || ' hours')" if sqlite
               else "TIMESTAMP '2026-01-01 08:00:00' + i * INTERVAL '1 hour'")
    start = "'2026-01-01 08:00:00'" if sqlite else "TIMESTAMP '2026-01-01 08:00:00'"
    statements = [
        "INSERT INTO sale (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, prev_hash, hash) "
        + numbers + f"SELECT i, '1', i, {sold_at}, 'seed', 100 + i % 700, 0, '', '' FROM n",
        "INSERT INTO line (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, "
        f"amount_fen) SELECT id, 1, {cola.id}, '{cola.barcode}', '{cola.name}', '', total_fen, 1000, total_fen "
        "FROM sale",
    ]
    for position in (2, 3):
        statements.append(
            "INSERT INTO line (sale_id, position, product_id, barcode, name, unit, unit_price_fen, qty_milli, "
            f"amount_fen) SELECT id, {position}, NULL, CAST(690000 + id % 400 AS VARCHAR(32)), "
            f"'商品' || CAST(id % 400 AS VARCHAR(8)) || '-{position}', '', 0, 1000, 0 FROM sale")
    statements += [
        "INSERT INTO payment (sale_id, position, method, amount_fen, reference, status, reason) "
        "SELECT id, 1, 'cash', total_fen, '', 'ok', '' FROM sale",
        "INSERT INTO receipt_outcome (sale_id, state, reason_code, reason, updated_at) "
        f"SELECT id, 'printed', '', '', {start} FROM sale",
        "INSERT INTO print_attempt (sale_id, printer, cashier, started_at, finished_at, result, reason_code, "
        f"reason, reprint_no, prior_state) SELECT id, 'main', '', {start}, {start}, 'printed', '', '', 0, "
        "'pending' FROM sale",
        'INSERT INTO event (at, till_id, cashier, kind, sale_id, printer, detail) '
        f"SELECT {start}, '1', '', 'outcome', id, 'main', 'printing -> printed' FROM sale",
        f"INSERT INTO till_counter (till_id, last_receipt_no, last_hash) VALUES ('1', {SALES}, '{'0' * 64}')",
    ]
    if not sqlite:
        statements.append(f"SELECT setval(pg_get_serial_sequence('sale', 'id'), {SALES})")
        statements = [sql.replace("%", "%%") for sql in statements]  # psycopg2 formats with %
    return statements


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


#: PostgreSQL: at most this many rows read by any scan of a history table (the history has 50
#: times more sales, 150 times more lines); a bounded query reads its answer and a little more.
ROWS_READ = 1000


def full_scans(database, sql: str, params: tuple) -> List[str]:
    """The reads of a whole history table in one statement: SQLite by the plan's shape (a SCAN, or
    a search by till alone not cut short by LIMIT), PostgreSQL by the plan run on the data (a Seq
    Scan, or more than ROWS_READ rows read)."""
    if is_sqlite(database):
        aliases = {alias: table for table, alias in re.findall(r'"(\w+)" AS "(\w+)"', sql)}
        details = [row[-1] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        # a walk of the till's whole history in index order, cut short by LIMIT: the newest receipts
        limited = " LIMIT " in sql and not any("TEMP B-TREE FOR ORDER BY" in detail for detail in details)
        found = []
        for detail in details:
            read = re.match(r"(SCAN|SEARCH) (\w+)", detail)
            if not read or aliases.get(read.group(2), read.group(2)) not in HISTORY_TABLES:
                continue
            whole = read.group(1) == "SCAN" and f"INDEX {OPEN_WORK_INDEX}" not in detail
            whole_till = detail.endswith("(till_id=?)") and not limited
            if whole or whole_till:
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

def test_start_up_reads_only_open_receipts(history, monkeypatch):
    database = history[0]
    assert_indexed(database, monkeypatch, lambda: print_attempts.recover_interrupted("1"))
    assert_indexed(database, monkeypatch, lambda: outcomes.unresolved_sales("1"))
    assert len(outcomes.unresolved_sales("1")) == 2  # the failed one and the interrupted one


def test_a_sale_and_its_receipt_read_no_history(history, monkeypatch):
    """Commit (the till's last receipt number), print, confirm, the banner's checks, a reprint."""
    database, products = history

    def one_sale():
        sale = ring_up(products)
        assert outcomes.unresolved_sales("1")[-1].id == sale.id
        attempt = print_attempts.start_printing(sale.id, "main")
        print_attempts.finish_printing(attempt.id, True)
        again = print_attempts.start_printing(sale.id, "main", reprint=True)
        print_attempts.finish_printing(again.id, True)
        outcomes.get_outcome(sale.id)
        queries.receipts(unresolved_only=True, till_id="1")

    assert_indexed(database, monkeypatch, one_sale)


def test_open_baskets_refunds_and_voids_read_no_history(history, monkeypatch):
    """The stored open basket (every scan, at start), what is left to refund, a refund and a void."""
    from store import baskets, documents, sales

    database, products = history
    middle = Sale.get((Sale.till_id == "1") & (Sale.receipt_no == SALES // 2)).id

    def corrections():
        basket = sales.Basket()
        basket.add(products["42"])
        stored = baskets.save(None, "1", basket, [])
        baskets.save(stored, "1", basket, [])
        baskets.open_basket("1")
        baskets.cancel(stored, "1")
        line = documents.refundable(middle)[0]
        documents.commit_refund(middle, [(line.line_id, 1000)], "1")
        documents.corrections(middle)
        documents.commit_void(ring_up(products).id, "1", reason="打错了")

    assert_indexed(database, monkeypatch, corrections)


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


def test_history_search_reads_indexes(history, monkeypatch):
    """20 rows of 50,000 sales: the share of the screen's 200 rows in 500,000 (with a larger share
    of a small table PostgreSQL rightly reads the whole table instead of probing an index)."""
    database = history[0]
    for text in SEARCHES:
        assert_indexed(database, monkeypatch, lambda text=text: queries.search_receipts("1", text, limit=20), text)


def test_history_search_by_name_finds_the_newest_of_this_till(history):
    rows = queries.search_receipts("1", "品17")  # 商品17-2, 商品170-3, 商品217-2, ...: one sale in 40
    expected = [sale_id for (sale_id,) in
                Sale.select(Sale.id).where(Sale.till_id == "1")
                .where(Sale.id.in_(Line.select(Line.sale).where(Line.name.contains("品17"))))
                .order_by(Sale.receipt_no.desc()).limit(200).tuples()]
    assert len(expected) == 200
    assert [row["id"] for row in rows] == expected
    cola = queries.search_receipts("1", "可乐", limit=50)  # on every sale: the newest 50
    newest = Sale.select(Sale.receipt_no).where(Sale.till_id == "1").order_by(Sale.receipt_no.desc()).limit(50)
    assert [row["receipt_no"] for row in cola] == [no for (no,) in newest.tuples()]


# --- the check itself -------------------------------------------------------------------

def test_the_plan_check_can_fail(history):
    """The old shapes read whole tables, and the check says so."""
    database = history[0]
    old_name_search = (
        Sale.select().where((Sale.till_id == "1")
                            & Sale.id.in_(Line.select(Line.sale).where(Line.name.contains("无此商品"))))
        .order_by(Sale.receipt_no.desc()).limit(200)
    )
    sql, params = old_name_search.sql()
    assert full_scans(database, sql, tuple(params))
    if is_sqlite(database):
        # the old start-up query: the till's whole history by the index (till_id, receipt_no)
        old_unresolved = (
            Sale.select().join(ReceiptOutcome)
            .where((Sale.till_id == "1") & ReceiptOutcome.state.in_(outcomes.UNRESOLVED_STATES))
            .order_by(Sale.receipt_no)
        )
        sql, params = old_unresolved.sql()
        assert full_scans(database, sql, tuple(params))
        # a bound ? in place of the written-out states: SQLite cannot use the partial index
        bound = ReceiptOutcome.select(ReceiptOutcome.sale).where(
            ReceiptOutcome.state.in_(outcomes.UNRESOLVED_STATES))
        sql, params = bound.sql()
        assert full_scans(database, sql, tuple(params))
