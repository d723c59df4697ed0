"""Tills for the sync tests: each its own SQLite file, bound while used; a day's work; rows compared with the server's."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from store import (
    audit,
    documents,
    models as m,
    outcomes,
    payment_attempts,
    print_attempts,
    reports,
    sales as selling,
    server,
    shifts,
    stock,
    sync_batch,
)
from store.db import close_database, db, open_database
from tests.store.helpers import catalogue, ring_up


@contextlib.contextmanager
def bound(url: str) -> Iterator[Any]:
    """The store bound to ``url`` (a till's SQLite or the server) for the block; unbound after."""
    database = open_database(url)
    try:
        yield database
    finally:
        close_database()
        db.initialize(None)


class Till:
    """One till: its own SQLite file and till id; ``with till:`` binds the store to it."""

    def __init__(self, folder: Path, till_id: str, shop: str = "") -> None:
        self.till_id, self.shop = till_id, shop
        self.url = "sqlite:///" + str(folder / f"till-{till_id}.sqlite3")
        self._bound: Optional[contextlib.AbstractContextManager] = None

    def __enter__(self) -> "Till":
        self._bound = bound(self.url)
        self._bound.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._bound is not None
        self._bound.__exit__(*exc)

    def push(self, conn: Any, limit: int = 500) -> int:
        """Send every waiting batch (bound); the server's head."""
        head = 0
        while True:
            batch = sync_batch.build_batch(self.till_id, self.shop, limit)
            if batch is None:
                return head
            head = server.send_batch(conn, batch)
            sync_batch.mark_sent(self.till_id, head, batch["records"][-1]["hash"])


def a_day(till_id: str, sales: int = 3) -> Dict[str, Any]:
    """A till's day (bound): stock in, a shift, sales printed or failed and resolved, a refund, a void,
    a paid-in, a hand-over, a stocktake, an event, a Z. Returns the products."""
    products = catalogue()
    stock.receive([stock.DeliveryRow(1, products["6901234567892"].id, "6901234567892", 24000, 180, "supplier")],
                  till_id, "c1", "D-1")
    shifts.open_shift(till_id, 20000, cashier="c1")
    sold = [ring_up(products, ("6901234567892", 2000), ("2001", 1500), till_id=till_id) for _ in range(sales)]
    for index, sale in enumerate(sold):
        attempt = print_attempts.start_printing(sale.id, "main", "c1")
        print_attempts.finish_printing(attempt.id, ok=index != 1, reason_code="" if index != 1 else "paper_out",
                                       reason="" if index != 1 else "paper out")
    outcomes.resolve(sold[1].id, "handwritten", "c1")
    line = m.Line.select().where(m.Line.sale == sold[0].id).order_by(m.Line.position).first()
    refund = documents.commit_refund(sold[0].id, [(line.id, 1000)], till_id, "c1", reason="broken")
    void = documents.commit_void(sold[2].id, till_id, "c1", reason="mistake")
    for document in (refund, void):
        attempt = print_attempts.start_printing(document.id, "main", "c1")
        print_attempts.finish_printing(attempt.id, ok=True)
    paid = _mobile_sale(products, till_id)
    refund_line = m.Line.select().where(m.Line.sale == paid.id).first()
    back = documents.commit_refund(paid.id, [(refund_line.id, refund_line.qty_milli)], till_id, "c1",
                                   reason="unwanted")
    for document in (paid, back):
        attempt = print_attempts.start_printing(document.id, "main", "c1")
        print_attempts.finish_printing(attempt.id, ok=True)
    shifts.cash_in(till_id, 5000, "change", "c1")
    shifts.record_handover(till_id, "c1", "c2")
    count = stock.start_count(till_id, "c2")
    stock.count_line(count.id, "6901234567892", 20000, "c2")
    stock.apply_count(count.id, till_id, "M1")
    audit.add_event(till_id, "drawer_open", "c2", detail="no sale")
    reports.close_z(till_id, cashier="c2")
    return products


def _mobile_sale(products: Dict[str, Any], till_id: str) -> Any:
    """A sale paid by WeChat Pay through a payment attempt (requested, then paid), linked to the sale."""
    basket = selling.Basket()
    basket.add(products["42"], 2000)
    number = payment_attempts.new_out_trade_no(till_id)
    payment_attempts.create(number, till_id, None, "wechat", basket.total_fen, "134567890123456789")
    payment_attempts.move(number, payment_attempts.PAID, transaction_id="4200000001")
    tender = selling.Tender(basket.total_fen)
    tender.add_payment("wechat", basket.total_fen, reference="4200000001", out_trade_no=number)
    return selling.commit_sale(basket, tender, till_id, "c1")


#: Per synced model: the fields holding a till's local id (shifted on the server); product ids are not.
ID_FIELDS: Dict[Any, Tuple[str, ...]] = {
    m.Sale: ("id", "original"), m.Line: ("id", "sale", "original_line"), m.Payment: ("id", "sale"),
    m.Discount: ("id", "sale"), m.PrintAttempt: ("id", "sale"), m.Event: ("id", "sale"), m.Shift: ("id",),
    m.CashMove: ("id", "shift"), m.ShiftHandover: ("id", "shift"), m.ZReport: ("id", "shift"),
    m.PaymentAttempt: ("id", "basket", "sale"), m.ProviderRefund: ("id", "document"),
    m.StockMove: ("id", "document", "count"), m.StockCount: ("id",), m.StockCountLine: ("id", "count"),
}


def rows(till_id: str, base: int = 0) -> Dict[str, List[dict]]:
    """Every synced table's rows of ``till_id`` in the bound database, ids mapped back to the till's (``base``)."""
    found: Dict[str, List[dict]] = {}
    for model, fields in ID_FIELDS.items():
        query = model.select().order_by(model.id).dicts()
        table = []
        for row in query:
            if base and not (base <= row["id"] < base + server.ID_BLOCK):
                continue
            for name in fields:
                row[name] = server.local_id(row[name], base) if base else row[name]
            table.append(row)
        found[model._meta.table_name] = table
    found["receipt_outcome"] = sorted(
        ({k: v for k, v in row.items() if k != "id"} | {"sale": server.local_id(row["sale"], base) if base
                                                       else row["sale"]}
         for row in m.ReceiptOutcome.select().dicts() if not base or base <= row["sale"] < base + server.ID_BLOCK),
        key=lambda row: row["sale"])
    found["audit"] = [
        {k: v for k, v in row.items() if k != "id"}
        | {"ref": server.local_id(row["ref"], base) if base and row["kind"] != audit.CHECKPOINT else row["ref"]}
        for row in m.Audit.select().where(m.Audit.till_id == till_id).order_by(m.Audit.seq).dicts()]
    counter = m.TillCounter.select().where(m.TillCounter.till_id == till_id).dicts().get()
    counter.pop("z_unsealed")
    found["till_counter"] = [counter]
    return found
