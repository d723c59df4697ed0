"""The printer worker: one thread that prints the till's receipts, one at a time.

The screen never waits for a printer. The app submits a job (print sale N on
the main or backup printer); the worker moves the receipt outcome through
``printing`` to ``printed`` or ``failed`` in the store and posts a message
back to the app. Jobs run in order on one thread, so two receipts never
interleave on one serial port. A plain thread (not a Textual exclusive worker):
cancelling a print half way would only lie about what reached the paper.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from textual.message import Message

log = logging.getLogger("chaoying.tui.printer_worker")

MAIN = "main"
BACKUP = "backup"


@dataclass(frozen=True)
class PrintJob:
    sale_id: int
    printer: str = MAIN  # main | backup
    open_drawer: bool = False


class PrintStarted(Message):
    """The worker sent a receipt to a printer."""

    def __init__(self, sale_id: int, printer: str) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.printer = printer


class PrintFinished(Message):
    """A print attempt ended; ``state`` is the receipt outcome it left."""

    def __init__(self, sale_id: int, printer: str, ok: bool, code: str,
                 reason_zh: str, reason_en: str, warning: str, state: str) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.printer = printer
        self.ok = ok
        self.code = code
        self.reason_zh = reason_zh
        self.reason_en = reason_en
        self.warning = warning
        self.state = state

    def reason(self, language: str) -> str:
        return self.reason_zh if language == "zh" else self.reason_en


def printer_config(settings: Any, printer: str):
    """The PrinterConfig of the main or backup printer from the settings."""
    from printing.config import PrinterConfig

    table = settings.printer if printer == MAIN else settings.backup_printer
    if table is None:
        raise ValueError("no backup printer is configured")
    return PrinterConfig.from_dict(dict(table), name=printer)


def receipt_for_sale(sale: Any, settings: Any, reprint_no: int = 0, reprinted_at=None):
    """The printing.receipt.Receipt value for a stored sale (needs a DB connection)."""
    from printing.receipt import Receipt, ReceiptLine, ReceiptPayment
    from store.sales import format_receipt_no

    lines = tuple(
        ReceiptLine(name=line.name, qty_milli=line.qty_milli, unit_price_fen=line.unit_price_fen,
                    amount_fen=line.amount_fen, unit=line.unit or "")
        for line in sorted(sale.lines, key=lambda row: row.position)
    )
    payments = tuple(
        ReceiptPayment(method=p.method, amount_fen=p.amount_fen, reference=p.reference or "")
        for p in sorted(sale.payments, key=lambda row: row.position)
        if p.status == "ok"
    )
    shop = settings.shop
    return Receipt(
        shop_name=shop.get("name", ""),
        receipt_no=format_receipt_no(sale.till_id, sale.receipt_no),
        till_id=sale.till_id,
        cashier=sale.cashier or "",
        sold_at=sale.sold_at,
        lines=lines,
        total_fen=sale.total_fen,
        payments=payments,
        change_fen=sale.change_fen,
        shop_address=shop.get("address", ""),
        shop_phone=shop.get("phone", ""),
        shop_tax_id=shop.get("tax_id", ""),
        header=settings.receipt.get("header", ""),
        footer=settings.receipt.get("footer", ""),
        reprint_no=reprint_no,
        reprinted_at=reprinted_at,
        language=settings.receipt.get("language", "zh"),
    )


class PrinterWorker:
    """Drains print jobs for one till on one background thread."""

    def __init__(self, settings: Any, post: Callable[[Message], Any],
                 cashier: str = "", language: Callable[[], str] = lambda: "zh") -> None:
        self.settings = settings
        self.post = post
        self.cashier = cashier
        self.language = language
        self._jobs: "queue.Queue[Optional[PrintJob]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._busy = threading.Event()

    def start(self) -> None:
        # daemon: a till closed mid-print must not hang; the store turns the
        # left-over "printing" into failed("interrupted") at the next start.
        self._thread = threading.Thread(target=self._run, name="chaoying-printer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, sale_id: int, printer: str = MAIN, open_drawer: bool = False) -> None:
        self._jobs.put(PrintJob(sale_id, printer, open_drawer))

    @property
    def idle(self) -> bool:
        return self._jobs.empty() and not self._busy.is_set()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._busy.set()
            try:
                self._print(job)
            except Exception as exc:  # the worker must outlive any one receipt
                log.exception("print job %s crashed", job)
                self.post(PrintFinished(job.sale_id, job.printer, False, "error",
                                        f"打印出错：{exc}", f"printing error: {exc}", "", ""))
            finally:
                self._busy.clear()

    def _print(self, job: PrintJob) -> None:
        from store import outcomes
        from store.db import db
        from store.models import Sale

        with db.connection_context():
            sale = Sale.get_by_id(job.sale_id)
            receipt = receipt_for_sale(sale, self.settings)
            attempt = outcomes.start_printing(sale.id, job.printer, cashier=self.cashier or None)
        self.post(PrintStarted(job.sale_id, job.printer))
        result = self._send(receipt, job)
        reason = result.reason_zh if self.language() == "zh" else result.reason_en
        with db.connection_context():
            outcome = outcomes.finish_printing(
                attempt.id, result.ok, reason_code="" if result.ok else result.code,
                reason="" if result.ok else reason,
            )
            if result.ok and job.open_drawer and job.printer == MAIN and self.settings.printer.get("drawer", True):
                outcomes.log_event("drawer_open", sale.till_id, cashier=self.cashier or None,
                                   sale=sale, printer=job.printer)
            if result.warning:
                outcomes.log_event(result.warning, sale.till_id, cashier=self.cashier or None,
                                   sale=sale, printer=job.printer)
        log.info("receipt %s on %s: %s", receipt.receipt_no, job.printer, result.code)
        self.post(PrintFinished(job.sale_id, job.printer, result.ok, result.code,
                                result.reason_zh, result.reason_en, result.warning, outcome.state))

    def _send(self, receipt: Any, job: PrintJob):
        from printing.printer import PrintResult, print_receipt

        try:
            config = printer_config(self.settings, job.printer)
        except ValueError as exc:
            return PrintResult(False, "error", f"打印机设置有误：{exc}", f"printer settings: {exc}",
                               printer=job.printer)
        try:
            return print_receipt(receipt, config, open_drawer=job.open_drawer and config.drawer)
        except Exception as exc:  # print_receipt should not raise; a bug must still fail the receipt
            log.exception("print_receipt raised")
            return PrintResult(False, "error", f"打印出错：{exc}", f"printing error: {exc}",
                               printer=job.printer)
