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


STATUS_POLL_SECONDS = 6.0  # how often an idle worker asks the printer how it is
AFTER_JOB_POLL_SECONDS = 0.5
FIRST_POLL_SECONDS = 0.5

# Stages of a failed print at which the job (whose first command is the drawer kick) never left.
_NOT_SENT = ("before the job", "open:", "status:", "encoding failed")


@dataclass(frozen=True)
class PrintJob:
    sale_id: int
    printer: str = MAIN  # main | backup
    open_drawer: bool = False
    reprint: bool = False  # 补打 from the history: marked, numbered, allowed on resolved receipts
    approved_by: str = ""  # the manager whose PIN allowed the reprint


class PrinterHealth(Message):
    """What the idle printer said when asked: ready, paper_near_end, paper_out, offline, no_answer, ..."""

    def __init__(self, state: str, reason_zh: str = "", reason_en: str = "") -> None:
        super().__init__()
        self.state = state
        self.reason_zh = reason_zh
        self.reason_en = reason_en


class DrawerResult(Message):
    """A drawer kick sent on its own (the receipt of a cash sale did not print)."""

    def __init__(self, sale_id: int, ok: bool, reason_zh: str, reason_en: str) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.ok = ok
        self.reason_zh = reason_zh
        self.reason_en = reason_en


class PrintStarted(Message):
    """The worker sent a receipt to a printer."""

    def __init__(self, sale_id: int, printer: str) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.printer = printer


class PrintFinished(Message):
    """A print attempt ended; ``state`` is the receipt outcome it left."""

    def __init__(self, sale_id: int, printer: str, ok: bool, code: str,
                 reason_zh: str, reason_en: str, warning: str, state: str, reprint_no: int = 0) -> None:
        super().__init__()
        self.reprint_no = reprint_no  # > 0: a reprint (补打) from the history
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
    from store.numbering import format_receipt_no

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
        self.poll_seconds = STATUS_POLL_SECONDS  # 0 = never ask the printer while idle
        self.health = ""  # the last state read while idle

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

    def submit(self, sale_id: int, printer: str = MAIN, open_drawer: bool = False,
               reprint: bool = False, approved_by: str = "") -> None:
        self._jobs.put(PrintJob(sale_id, printer, open_drawer, reprint, approved_by))

    @property
    def idle(self) -> bool:
        return self._jobs.empty() and not self._busy.is_set()

    def _run(self) -> None:
        # First ask shortly after start (the first frame and the warm-up imports come first),
        # then every poll_seconds while idle.
        wait = min(FIRST_POLL_SECONDS, self.poll_seconds)
        while True:
            try:
                job = self._jobs.get(timeout=wait) if self.poll_seconds > 0 else self._jobs.get()
            except queue.Empty:
                self._poll()
                wait = self.poll_seconds
                continue
            if job is None:
                return
            wait = min(AFTER_JOB_POLL_SECONDS, self.poll_seconds)  # the strip soon shows what the job left
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
            attempt = outcomes.start_printing(sale.id, job.printer, cashier=self.cashier or None,
                                              reprint=job.reprint)
            if job.reprint:
                receipt = receipt_for_sale(sale, self.settings, reprint_no=attempt.reprint_no,
                                           reprinted_at=attempt.started_at)
                if job.approved_by:
                    outcomes.log_event("reprint_approved", sale.till_id, cashier=self.cashier or None, sale=sale,
                                       printer=job.printer,
                                       detail=f"reprint {attempt.reprint_no} allowed by manager {job.approved_by}")
            else:
                receipt = receipt_for_sale(sale, self.settings)
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
                                result.reason_zh, result.reason_en, result.warning, outcome.state,
                                reprint_no=attempt.reprint_no))
        if result.ok and result.warning == "paper_near_end":
            self._set_health("paper_near_end", "", "")
        if (not result.ok and job.open_drawer and job.printer == MAIN and self.settings.printer.get("drawer", True)
                and result.evidence.startswith(_NOT_SENT)):
            self._kick_drawer(sale)

    def _kick_drawer(self, sale: Any) -> None:
        """A cash sale whose receipt never left: open the drawer on its own, the cashier needs change."""
        from printing.printer import PrintResult, open_drawer
        from store import outcomes
        from store.db import db

        try:
            result = open_drawer(printer_config(self.settings, MAIN))
        except Exception as exc:  # open_drawer should not raise; the cashier must still hear about it
            log.exception("open_drawer raised")
            result = PrintResult(False, "error", f"钱箱出错：{exc}", f"drawer error: {exc}", printer=MAIN)
        with db.connection_context():
            if result.ok:
                outcomes.log_event("drawer_open", sale.till_id, cashier=self.cashier or None, sale=sale,
                                   printer=MAIN, detail="separate kick: the receipt did not print; " + result.evidence)
            else:
                outcomes.log_event("drawer_failed", sale.till_id, cashier=self.cashier or None, sale=sale,
                                   printer=MAIN, detail=f"{result.code}: {result.reason_en}")
        log.info("separate drawer kick for sale %s: %s", sale.id, result.code)
        self.post(DrawerResult(sale.id, result.ok, result.reason_zh, result.reason_en))

    # ------------------------------------------------------------ printer health while idle

    def _poll(self) -> None:
        """Ask the idle main printer how it is (DLE EOT); post PrinterHealth when the answer changes."""
        from printing.printer import PrinterError, read_status

        try:
            status = read_status(printer_config(self.settings, MAIN))
        except PrinterError as exc:
            self._set_health(exc.code, exc.reason_zh, exc.reason_en)
            return
        except Exception as exc:  # bad settings or a pyserial surprise: say so, keep polling
            log.warning("printer status failed: %s", exc)
            self._set_health("error", f"打印机状态读取失败：{exc}", f"printer status failed: {exc}")
            return
        if status.fault:
            from printing.printer import REASONS

            zh, en = REASONS.get(status.fault, REASONS["error"])
            self._set_health(status.fault, zh, en)
        else:
            self._set_health("paper_near_end" if status.paper_near_end else "ready", "", "")

    def _set_health(self, state: str, reason_zh: str, reason_en: str) -> None:
        previous, self.health = self.health, state
        if state == previous:
            return
        if previous or state != "ready":  # the first "ready" is not news
            self._log_health(previous or "unknown", state)
        self.post(PrinterHealth(state, reason_zh, reason_en))

    def _log_health(self, previous: str, state: str) -> None:
        from store import outcomes
        from store.db import db

        try:
            with db.connection_context():
                outcomes.log_event("printer_status", str(self.settings.till_id), cashier=self.cashier or None,
                                   printer=MAIN, detail=f"{previous} -> {state}")
        except Exception:  # the event log must never stop the printer worker
            log.exception("could not log the printer status")

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
