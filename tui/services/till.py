"""The till's application service: its receipts, from the print queue to the banner's choices.

Plain Python, no Textual, so it runs and is tested without a screen. One
``Till`` owns:

- the print queue and the one thread that drains it (two receipts never
  interleave on one serial port; a plain thread, not a Textual exclusive
  worker: cancelling a print half way would only lie about what reached the
  paper), moving each receipt outcome through ``printing`` to ``printed`` or
  ``failed`` in the store, the drawer kick and the idle health polls;
- the in-flight set (sales handed to the printer and not yet settled);
- recovery at start, which failed sale needs the banner, and resolving it.

The printer thread reports through one callback, ``report(event)``, with a
PrintStarted, PrintFinished, PrinterHealth or DrawerResult value; it runs on
the printer thread. The in-flight set belongs to the owner's thread: the
owner hands each PrintFinished back through ``settle()`` there (the app does
it when the message arrives), so "nothing in flight" means "every answer was
seen".
"""
from __future__ import annotations

import datetime
import itertools
import logging
import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Optional, Set, Tuple, Union

from store import events, outcomes
from store.db import db
from store.models import Cashier, PrintAttempt, Sale
from tui.i18n import t

if TYPE_CHECKING:
    from printing.config import PrinterConfig
    from tui.settings import Settings

log = logging.getLogger("chaoying.tui.services.till")

MAIN = "main"
SPARE = "backup"  # the spare printer; "backup" is the name it is stored and configured by

STATUS_POLL_SECONDS = 2.0  # how often an idle printer thread asks the printer how it is: the strip follows
# a fault and its end within a few seconds (a poll is a few bytes each way; a job queued meanwhile waits <= 0.4 s)
AFTER_JOB_POLL_SECONDS = 0.5
FIRST_POLL_SECONDS = 0.5

#: The event of a sale that never reached the printer before the till stopped, printed at the next start.
EVENT_PRINT_AFTER_RESTART = "print_after_restart"


class PrintJob(NamedTuple):
    sale_id: int
    printer: str = MAIN  # MAIN | SPARE
    open_drawer: bool = False
    reprint: bool = False  # 补打 from the history: marked, numbered, allowed on resolved receipts
    approved_by: str = ""  # the manager whose PIN allowed the reprint


class DrawerJob(NamedTuple):
    """Open the cash drawer with no receipt (开钱箱: a no-sale, cash handed back); ``reason`` goes in the log."""

    reason: str
    cashier: str = ""


class ReportJob(NamedTuple):
    """Print an X or Z report (not a sale: no receipt outcome) on the main printer; ``name`` says which."""

    name: str
    lines: Tuple[str, ...]
    done: Optional[Callable[[Any], Any]] = None  # hears the ReportPrinted instead of report() (the owner's view)


class ReportPrinted(NamedTuple):
    """A report print ended: ``ok`` only on the printer's confirmation, else why not."""

    name: str
    ok: bool
    reason_zh: str = ""
    reason_en: str = ""

    def reason(self, language: str) -> str:
        return self.reason_zh if language == "zh" else self.reason_en


#: Print failures DLE EOT cannot see: the printer answers status but never confirmed the job, so its paper may be
#: out (the banner says "not confirmed"). The idle poll sees them only by asking for a confirmation (idle_health).
UNSEEN_BY_STATUS = ("not_confirmed",)


class PrinterHealth(NamedTuple):
    """What the idle printer said when asked: ready, paper_near_end, paper_out, offline, no_answer, ..."""

    state: str
    reason_zh: str = ""
    reason_en: str = ""


def idle_health(status: Any) -> str:
    """The state an idle printer is in, from its printing.printer.read_status(confirm=True) answer.

    Its fault first; then ``not_confirmed`` when it answers DLE EOT but not the confirmation request a
    print waits for (its receipts would end on the banner); then paper near end; else ready. Each poll
    decides afresh: a printer that confirms again is ready again without waiting for a print.
    """
    if status.fault:
        return str(status.fault)
    if status.confirms is False:
        return UNSEEN_BY_STATUS[0]
    return "paper_near_end" if status.paper_near_end else "ready"


class DrawerResult(NamedTuple):
    """A drawer kick sent on its own (the receipt of a cash sale did not print)."""

    sale_id: int
    ok: bool
    reason_zh: str
    reason_en: str


class PrintStarted(NamedTuple):
    """The printer thread sent a receipt to a printer."""

    sale_id: int
    printer: str


class PrintFinished(NamedTuple):
    """A print attempt ended; ``state`` is the receipt outcome it left."""

    sale_id: int
    printer: str
    ok: bool
    code: str
    reason_zh: str
    reason_en: str
    warning: str
    state: str
    reprint_no: int = 0  # > 0: a reprint (补打) from the history
    unresolved: Optional["Unresolved"] = None  # the till's open receipts, read after this attempt

    def reason(self, language: str) -> str:
        return self.reason_zh if language == "zh" else self.reason_en


class Unresolved(NamedTuple):
    """This till's sales with no known receipt outcome, as read at one moment (``stamp`` orders reads)."""

    stamp: int
    states: Tuple[Tuple[int, str], ...]  # (sale id, outcome state), oldest first


class Recovery(NamedTuple):
    """What recover() found at start."""

    interrupted: int = 0  # prints the stop cut short: now failed("interrupted"), the banner asks
    printing: Tuple[str, ...] = ()  # receipt numbers of sales no byte of which reached the printer: printing now


class SaleFacts(NamedTuple):
    """What the banner says about a sale."""

    number: str
    total: str
    state: str
    reason: str
    paid: str = ""  # what the customer handed over
    change: str = ""  # the change due: the cashier hands it over while deciding about the receipt
    tries: int = 0  # print attempts of this receipt (not counting reprints from the history)
    reason_code: str = ""  # why it is not printed, as a code (not_confirmed: it may well be on paper)


def printer_config(settings: Settings, printer: str) -> PrinterConfig:
    """The main or the spare printer of the settings (ValueError when no spare is configured)."""
    config = settings.printer if printer == MAIN else settings.spare_printer
    if config is None:
        raise ValueError("no backup printer is configured")  # shown as is: the UI calls it the backup printer
    return config


def cashier_name(code: str) -> str:
    """The name a receipt shows for a cashier code (the code when no such cashier is stored)."""

    cashier = Cashier.get_or_none(Cashier.code == code) if code else None
    return cashier.name if cashier is not None and cashier.name else code


def receipt_for_sale(sale: Any, settings: Settings, reprint_no: int = 0, reprinted_at=None, copy: bool = False):
    """The printing.receipt.Receipt value for a stored sale (needs a DB connection).

    ``copy``: mark it 副本 COPY (a print after an interrupted or unconfirmed one).
    """
    from printing.receipt import Receipt, ReceiptAdjustment, ReceiptPayment
    from store.numbering import format_receipt_no

    discounts = sorted(sale.discounts, key=lambda row: (row.line_position, row.id or 0))
    if sale.kind in ("refund", "void"):  # no discounts of its own: each line says its share of the original's
        lines = tuple(_correction_line(line) for line in sorted(sale.lines, key=lambda row: row.position))
    else:
        lines = tuple(_receipt_line(line, [d for d in discounts if d.line_position == line.position])
                      for line in sorted(sale.lines, key=lambda row: row.position))
    adjustments = tuple(
        ReceiptAdjustment("rounding" if d.kind == "round" else "discount", d.amount_fen,
                          "" if d.kind == "round" else _discount_note(d))
        for d in discounts if d.line_position == 0 and d.amount_fen)
    payments = tuple(
        ReceiptPayment(method=p.method, amount_fen=p.amount_fen, reference=p.reference or "",
                       transaction=bool(p.out_trade_no))
        for p in sorted(sale.payments, key=lambda row: row.position)
        if p.status == "ok"
    )
    shop = settings.shop
    original = sale.original
    return Receipt(
        shop_name=shop.name,
        receipt_no=format_receipt_no(sale.till_id, sale.receipt_no),
        till_id=sale.till_id,
        cashier=cashier_name(sale.cashier or ""),
        sold_at=sale.sold_at,
        lines=lines,
        total_fen=sale.total_fen,
        payments=payments,
        change_fen=sale.change_fen,
        discount_fen=sum(adjustment.amount_fen for adjustment in adjustments),
        adjustments=adjustments,
        shop_address=shop.address,
        shop_phone=shop.phone,
        shop_tax_id=shop.tax_id,
        header=settings.receipt.header,
        footer=settings.receipt.footer,
        reprint_no=reprint_no,
        reprinted_at=reprinted_at,
        language=settings.receipt.language,
        copy=copy,
        kind=sale.kind or "sale",
        original_no=format_receipt_no(original.till_id, original.receipt_no) if original is not None else "",
        reason=sale.reason or "",
        manager=cashier_name(sale.manager or ""),
    )


def _receipt_line(line: Any, discounts: List[Any]):
    """A stored line for the receipt: its amount before its own discount, the discount and any price change.

    The stored amount is net of the basket's share too; that share is said
    once, below the subtotal, not on each line.
    """
    from printing.receipt import ReceiptLine
    from store.money import line_amount

    own = [d for d in discounts if d.kind in ("percent", "amount")]
    price = next((d for d in discounts if d.kind == "price"), None)
    gross = line.amount_fen + line.discount_fen
    listed = None
    if price is not None:  # the list unit price, when the stored amounts say it unambiguously
        listed_fen = gross + price.amount_fen
        candidate = (listed_fen * 1000 + line.qty_milli // 2) // line.qty_milli if line.qty_milli > 0 else 0
        if line.qty_milli >= 1000 and line_amount(candidate, line.qty_milli) == listed_fen:
            listed = candidate
    return ReceiptLine(name=line.name, qty_milli=line.qty_milli, unit_price_fen=line.unit_price_fen,
                       amount_fen=gross, unit=line.unit or "",
                       discount_fen=sum(d.amount_fen for d in own),
                       discount_note=" ".join(_discount_note(d) for d in own),
                       list_price_fen=listed, price_note=(price.reason or "-") if price is not None else "")


def _correction_line(line: Any):
    """A refund's or void's line: quantity x price, less its share of the original's discounts, so the lines
    add up to what goes back."""
    from printing.receipt import ReceiptLine
    from store.money import line_amount

    discount = max(0, line_amount(line.unit_price_fen, line.qty_milli) - line.amount_fen)
    return ReceiptLine(name=line.name, qty_milli=line.qty_milli, unit_price_fen=line.unit_price_fen,
                       amount_fen=line.amount_fen + discount, unit=line.unit or "", discount_fen=discount)


def _discount_note(discount: Any) -> str:
    """A percent discount says its percent; every discount says why."""
    from store.money import format_percent

    what = format_percent(discount.value) if discount.kind == "percent" else ""
    return " ".join(part for part in (what, discount.reason or "") if part)


class Till:
    """One till's receipts: the print queue and its thread, the in-flight set, the banner's choices.

    ``report(event)`` is called on the printer thread; ``settle()`` and every
    other method on the owner's thread. Store methods raise what the store
    raises: the owner decides how to tell the cashier and when to try again.
    """

    def __init__(self, settings: Any, report: Callable[[Any], Any] = lambda event: None,
                 cashier: str = "", language: Callable[[], str] = lambda: "zh") -> None:
        self.settings = settings
        self.till_id: str = settings.till.id
        self.report = report
        self.cashier = cashier  # changed only between sales: no print job is in flight then
        self.language = language
        self.in_flight: Set[int] = set()
        self.reasons: Dict[int, str] = {}  # sale id -> the reason of its last failed print, in the UI language
        self.poll_seconds = STATUS_POLL_SECONDS  # 0 = never ask the printer while idle
        self.health = ""  # the last state read while idle
        self._jobs: "queue.Queue[Optional[Union[PrintJob, DrawerJob, ReportJob]]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._busy = threading.Event()
        # What the till knows of its open receipts (None: not read yet, so blocked). Read off the
        # UI thread after start, every print and every resolve, so F12 and the banner ask no query.
        self.open_receipts: Optional[Unresolved] = None
        self._stamps = itertools.count(1)
        self._known_lock = threading.Lock()

    # ------------------------------------------------------------ the printer thread

    def start(self) -> None:
        # daemon: a till closed mid-print must not hang; recover() turns the
        # left-over "printing" into failed("interrupted") at the next start.
        self._thread = threading.Thread(target=self._run, name="chaoying-printer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        self._thread = None

    @property
    def idle(self) -> bool:
        """No job queued and none printing."""
        return self._jobs.empty() and not self._busy.is_set()

    def print_sale(self, sale_id: int, printer: str = MAIN, open_drawer: bool = False,
                   reprint: bool = False, approved_by: str = "") -> None:
        """Queue a receipt; the answer comes back through report() and goes to settle()."""
        self.in_flight.add(sale_id)
        self._jobs.put(PrintJob(sale_id, printer, open_drawer, reprint, approved_by))

    def open_drawer(self, reason: str) -> None:
        """Open the cash drawer on the printer thread, in turn with the receipts; logged as drawer_open with
        ``reason``. A DrawerResult (sale id 0) comes back through report()."""
        self._jobs.put(DrawerJob(reason, self.cashier))

    def print_report(self, name: str, lines: List[str], done: Optional[Callable[[Any], Any]] = None) -> None:
        """Queue a report (a Z, an X) for the main printer; a ReportPrinted comes back through report(),
        or to ``done`` (on the printer thread) when given."""
        self._jobs.put(ReportJob(name, tuple(lines), done))

    def settle(self, event: PrintFinished) -> str:
        """The owner saw a PrintFinished: the sale leaves the in-flight set. Returns the reason to show."""
        self.in_flight.discard(event.sale_id)
        self.know(event.unresolved)
        reason = "" if event.ok else event.reason(self.language())
        if reason:
            self.reasons[event.sale_id] = reason
        return reason

    # ------------------------------------------------------------ start, the banner, resolving

    def recover(self) -> Recovery:
        """After a crash: interrupted prints become failed (banner); never-printed sales print now.

        A pending sale has no print attempt: no byte of it reached the printer, so no paper can exist and
        printing it is its next step (pending -> printing), not a copy. Each is logged as
        print_after_restart and named in the answer, for the cashier to be told; if its print fails, the
        banner follows as for any failed print.

        Store work: run it off the UI thread.
        """
        from store import print_attempts
        from store.numbering import format_receipt_no

        recovered = print_attempts.recover_interrupted(self.till_id)
        self.know(self.read_open_receipts())
        assert self.open_receipts is not None
        pending = [sale_id for sale_id, state in self.open_receipts.states if state == outcomes.PENDING]
        if recovered:
            log.warning("%d receipts were printing when the till stopped", recovered)
        numbers = []
        for sale_id in pending:
            sale = Sale.get_by_id(sale_id)
            numbers.append(format_receipt_no(sale.till_id, sale.receipt_no))
            events.log_event(EVENT_PRINT_AFTER_RESTART, self.till_id, cashier=self.cashier or None, sale=sale,
                             printer=MAIN, detail="did not print before the stop: printed at start")
            log.warning("receipt %s did not print before the stop: printing it now", numbers[-1])
            self.print_sale(sale_id)
        return Recovery(recovered, tuple(numbers))

    def unresolved(self) -> List[Any]:
        """This till's sales with no known receipt outcome, oldest first (a store query)."""

        return list(outcomes.unresolved_sales(self.till_id))

    def read_open_receipts(self) -> Unresolved:
        """Read this till's open receipts now (store work, any thread); hand the answer to know()."""
        stamp = next(self._stamps)  # taken before the query: a later read sees a later store
        return Unresolved(stamp, tuple((sale.id, self.outcome_of(sale.id).state) for sale in self.unresolved()))

    def know(self, read: Optional[Unresolved]) -> None:
        """Keep a read of the open receipts unless a later read is already kept."""
        if read is None:
            return
        with self._known_lock:
            if self.open_receipts is None or read.stamp > self.open_receipts.stamp:
                self.open_receipts = read

    def unresolved_count(self) -> int:
        return len(self.open_receipts.states) if self.open_receipts is not None else 0

    def blocked(self) -> bool:
        """True while any sale of this till has no known receipt outcome (or the till has not read them yet)."""
        return bool(self.in_flight) or self.open_receipts is None or bool(self.open_receipts.states)

    def banner_sale(self) -> Optional[int]:
        """The sale whose failed receipt the banner shows now: the oldest failed one not being printed."""

        known = self.open_receipts.states if self.open_receipts is not None else ()
        for sale_id, state in known:
            if sale_id not in self.in_flight and state == outcomes.FAILED:
                return sale_id
        return None

    def resolve(self, sale_id: int, state: str) -> SaleFacts:
        """H, Q, D or P on the banner: record the outcome; raises outcomes.IllegalTransition if it moved on.

        ``printed`` (P) is the cashier's word that the paper came out (evidence cashier).

        Store work: run it off the UI thread.
        """
        from store import outcomes, print_attempts

        facts = self.sale_facts(sale_id)
        if state == outcomes.PRINTED:
            print_attempts.confirm_printed(sale_id, cashier=self.cashier or None)
        else:
            outcomes.resolve(sale_id, state, cashier=self.cashier or None)
        self.reasons.pop(sale_id, None)
        log.info("receipt %s resolved as %s", facts.number, state)
        self.know(self.read_open_receipts())
        return facts

    def sale_facts(self, sale_id: int) -> SaleFacts:
        from store.money import format_yuan
        from store.numbering import format_receipt_no

        sale = Sale.get_by_id(sale_id)
        outcome = self.outcome_of(sale_id)
        reason = self.reasons.get(sale_id) or stored_reason(outcome)
        tries = PrintAttempt.select().where((PrintAttempt.sale == sale_id) & (PrintAttempt.reprint_no == 0)).count()
        return SaleFacts(format_receipt_no(sale.till_id, sale.receipt_no), format_yuan(sale.total_fen),
                         outcome.state, reason, paid=format_yuan(sale.total_fen + sale.change_fen),
                         change=format_yuan(sale.change_fen), tries=tries, reason_code=outcome.reason_code or "")

    # ------------------------------------------------------------ store helpers

    @staticmethod
    def outcome_of(sale_id: int) -> Any:
        return outcomes.get_outcome(sale_id)

    def commit_sale(self, basket: Any, tender: Any, basket_id: Optional[int] = None) -> Any:
        """Store the paid sale; the stored open basket ``basket_id`` ends sold in the same transaction."""
        from store.sales import commit_sale

        sale = commit_sale(basket, tender, self.till_id, self.cashier or None, basket_id=basket_id)
        log.info("sale %s committed, total %s", sale.receipt_no, sale.total_fen)
        return sale

    def log_event(self, kind: str, detail: str = "", sale: Any = None, cashier: Optional[str] = None) -> None:
        """Append to the event log (``cashier``: who did it, else the one selling now); never raises."""

        who = self.cashier if cashier is None else cashier
        try:
            events.log_event(kind, self.till_id, cashier=who or None, sale=sale, detail=detail)
        except Exception:
            log.exception("could not log event %s", kind)

    def daily_backup(self) -> List[str]:
        """The day's backup, unless this till made one today (e.g. before a restart); its warnings.

        Run off the UI thread; BackupError when the first copy could not be made.
        """
        return self.backup(daily=True)

    def backup(self, daily: bool = False) -> List[str]:
        """A backup now (after a Z close), or the day's (``daily``: none if made today); its warnings."""

        from store import backup

        config = self.settings.backup
        shop, folder = self.settings.shop.name, Path(config.dir)
        midnight = datetime.datetime.combine(datetime.date.today(), datetime.time())
        if daily and backup.made_since(folder, shop, self.till_id, midnight):
            return []
        second = Path(config.second_dir) if config.second_dir else None
        made = backup.create_backup(self.settings.database.url, folder, shop, self.till_id,
                                    config.keep_daily, config.keep_monthly, second)
        log.info("daily backup %s (%s sales)", made.path, made.manifest.get("sales"))
        return list(made.warnings)

    def receipt(self, sale_id: int) -> Any:
        """The printing.receipt.Receipt of a stored sale."""

        return receipt_for_sale(Sale.get_by_id(sale_id), self.settings)

    def receipt_lines(self, sale_id: int, adapt: Optional[Callable[[Any], Any]] = None) -> List[str]:
        """The receipt as the printer would lay it out, for copying by hand (``adapt``: the receipt changed first)."""
        from printing.layout import layout

        try:
            columns = printer_config(self.settings, MAIN).columns
        except ValueError:
            columns = 48
        receipt = self.receipt(sale_id)
        return layout(adapt(receipt) if adapt is not None else receipt, columns)

    # ------------------------------------------------------------ on the printer thread

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
            if isinstance(job, DrawerJob):
                self._busy.set()
                try:
                    self._drawer_alone(job)
                finally:
                    self._busy.clear()
                continue
            if isinstance(job, ReportJob):
                self._busy.set()
                try:
                    self._print_report(job)
                finally:
                    self._busy.clear()
                continue
            wait = min(AFTER_JOB_POLL_SECONDS, self.poll_seconds)  # the strip soon shows what the job left
            self._busy.set()
            try:
                self._print(job)
            except Exception as exc:  # the thread must outlive any one receipt
                log.exception("print job %s crashed", job)
                self.report(PrintFinished(job.sale_id, job.printer, False, "error", f"打印出错：{exc}",
                                          f"printing error: {exc}", "", self._state_now(job.sale_id),
                                          unresolved=self._read_quietly()))
            finally:
                self._busy.clear()

    def _state_now(self, sale_id: int) -> str:
        """The stored outcome of a sale whose print crashed; failed when the store cannot say."""

        try:
            with db.connection_context():
                return self.outcome_of(sale_id).state
        except Exception:
            log.exception("could not read the outcome of sale %s", sale_id)
            return outcomes.FAILED

    def _read_quietly(self) -> Optional[Unresolved]:
        """The open receipts after a crashed print; None when the store cannot say."""

        try:
            with db.connection_context():
                return self.read_open_receipts()
        except Exception:
            log.exception("could not read the open receipts")
            return None

    def _drawer_wanted(self, job: PrintJob) -> bool:
        return job.open_drawer and job.printer == MAIN and self.settings.printer.drawer

    def _print(self, job: PrintJob) -> None:
        from store import events, print_attempts

        with db.connection_context():
            sale = Sale.get_by_id(job.sale_id)
            attempt = print_attempts.start_printing(sale.id, job.printer, cashier=self.cashier or None,
                                                    reprint=job.reprint)
            if job.reprint:
                receipt = receipt_for_sale(sale, self.settings, reprint_no=attempt.reprint_no,
                                           reprinted_at=attempt.started_at)
                if job.approved_by:
                    events.log_event("reprint_approved", sale.till_id, cashier=self.cashier or None, sale=sale,
                                     printer=job.printer,
                                     detail=f"reprint {attempt.reprint_no} allowed by manager {job.approved_by}")
            else:  # after an interrupted or unconfirmed print the first paper may exist: this one is a copy
                receipt = receipt_for_sale(sale, self.settings, copy=print_attempts.may_be_on_paper(sale.id))
        self.report(PrintStarted(job.sale_id, job.printer))
        result = self._send(receipt, job)
        reason = result.reason_zh if self.language() == "zh" else result.reason_en
        with db.connection_context():
            outcome = print_attempts.finish_printing(
                attempt.id, result.ok, reason_code="" if result.ok else result.code,
                reason="" if result.ok else reason, sent=result.sent,
            )
            if result.ok and self._drawer_wanted(job):
                events.log_event("drawer_open", sale.till_id, cashier=self.cashier or None,
                                 sale=sale, printer=job.printer)
            if result.warning:
                events.log_event(result.warning, sale.till_id, cashier=self.cashier or None,
                                 sale=sale, printer=job.printer)
            unresolved = self.read_open_receipts()
        log.info("receipt %s on %s: %s", receipt.receipt_no, job.printer, result.code)
        self.report(PrintFinished(job.sale_id, job.printer, result.ok, result.code, result.reason_zh,
                                  result.reason_en, result.warning, outcome.state, reprint_no=attempt.reprint_no,
                                  unresolved=unresolved))
        if job.printer == MAIN:  # the strip says what this print found, not a stale "ready"
            if result.ok:
                self._set_health("paper_near_end" if result.warning == "paper_near_end" else "ready", "", "")
            else:
                self._set_health(result.code, result.reason_zh, result.reason_en)
        if self._drawer_wanted(job) and not result.drawer_kicked:
            self._kick_drawer(sale)

    def _kick_drawer(self, sale: Any) -> None:
        """A cash sale whose receipt never left: open the drawer on its own, the cashier needs change."""
        from printing.printer import PrintResult, open_drawer

        try:
            result = open_drawer(printer_config(self.settings, MAIN))
        except Exception as exc:  # open_drawer should not raise; the cashier must still hear about it
            log.exception("open_drawer raised")
            result = PrintResult(False, "error", f"钱箱出错：{exc}", f"drawer error: {exc}", printer=MAIN)
        with db.connection_context():
            if result.ok:
                events.log_event("drawer_open", sale.till_id, cashier=self.cashier or None, sale=sale,
                                 printer=MAIN, detail="separate kick: the receipt did not print; " + result.evidence)
            else:
                events.log_event("drawer_failed", sale.till_id, cashier=self.cashier or None, sale=sale,
                                 printer=MAIN, detail=f"{result.code}: {result.reason_en}")
        log.info("separate drawer kick for sale %s: %s", sale.id, result.code)
        self.report(DrawerResult(sale.id, result.ok, result.reason_zh, result.reason_en))

    def _drawer_alone(self, job: DrawerJob) -> None:
        """Open the drawer with no sale; log it (drawer_open with the reason, or drawer_failed) and report."""
        from printing.printer import PrintResult, open_drawer

        if not self.settings.printer.drawer:
            result = PrintResult(False, "no_drawer", "没有设置钱箱", "no cash drawer is set up", printer=MAIN)
        else:
            try:
                result = open_drawer(printer_config(self.settings, MAIN))
            except Exception as exc:  # open_drawer should not raise; the cashier must still hear about it
                log.exception("open_drawer raised")
                result = PrintResult(False, "error", f"钱箱出错：{exc}", f"drawer error: {exc}", printer=MAIN)
        try:
            with db.connection_context():
                if result.ok:
                    events.log_event("drawer_open", self.till_id, cashier=job.cashier or None, printer=MAIN,
                                     detail=job.reason)
                else:
                    events.log_event("drawer_failed", self.till_id, cashier=job.cashier or None, printer=MAIN,
                                     detail=f"{job.reason}: {result.code}: {result.reason_en}")
        except Exception:  # the event log must never stop the printer thread
            log.exception("could not log the drawer opening")
        log.info("drawer opened alone (%s): %s", job.reason, result.code)
        self.report(DrawerResult(0, result.ok, result.reason_zh, result.reason_en))

    def _print_report(self, job: ReportJob) -> None:
        """Print a report with the printer's confirmation; log a failure; always report the answer."""
        from printing.printer import PrintResult
        from printing.report import print_report

        try:
            result = print_report(list(job.lines), printer_config(self.settings, MAIN))
        except Exception as exc:  # print_report should not raise; the cashier must still hear about it
            log.exception("print_report raised")
            result = PrintResult(False, "error", f"打印出错：{exc}", f"printing error: {exc}", printer=MAIN)
        if not result.ok:

            try:
                with db.connection_context():
                    events.log_event("report_print_failed", self.till_id, cashier=self.cashier or None,
                                     printer=MAIN, detail=f"{job.name}: {result.code}: {result.reason_en}")
            except Exception:  # the event log must never stop the printer thread
                log.exception("could not log the report print failure")
        log.info("report %s printed: %s", job.name, result.code)
        answer = ReportPrinted(job.name, result.ok, result.reason_zh, result.reason_en)
        try:
            (job.done or self.report)(answer)
        except Exception:  # the printer thread must outlive its listeners
            log.exception("report result listener failed")

    def _poll(self) -> None:
        """Ask the idle main printer how it is (DLE EOT, then the confirmation request); report PrinterHealth
        when the answer changes."""
        from printing.printer import REASONS, PrinterError, read_status

        try:
            status = read_status(printer_config(self.settings, MAIN), confirm=True)
        except PrinterError as exc:
            self._set_health(exc.code, exc.reason_zh, exc.reason_en)
            return
        except Exception as exc:  # bad settings or a pyserial surprise: say so, keep polling
            log.warning("printer status failed: %s", exc)
            self._set_health("error", f"打印机状态读取失败：{exc}", f"printer status failed: {exc}")
            return
        state = idle_health(status)
        zh, en = ("", "") if state in ("ready", "paper_near_end") else REASONS.get(state, REASONS["error"])
        self._set_health(state, zh, en)

    def _set_health(self, state: str, reason_zh: str, reason_en: str) -> None:
        previous, self.health = self.health, state
        if state == previous:
            return
        if previous or state != "ready":  # the first "ready" is not news
            self._log_health(previous or "unknown", state)
        self.report(PrinterHealth(state, reason_zh, reason_en))

    def _log_health(self, previous: str, state: str) -> None:
        try:
            with db.connection_context():
                events.log_event("printer_status", str(self.till_id), cashier=self.cashier or None,
                                 printer=MAIN, detail=f"{previous} -> {state}")
        except Exception:  # the event log must never stop the printer thread
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


def stored_reason(outcome: Any) -> str:
    """Why a stored receipt is not printed, in today's UI language."""
    from store import outcomes, print_attempts
    from tui.errors import printer_reason

    code = outcome.reason_code or ""
    if code == print_attempts.INTERRUPTED or outcome.state == outcomes.PENDING:
        return t("reason.interrupted" if code == print_attempts.INTERRUPTED else "reason.pending")
    # stored in the language of the day it failed: say it in today's by its code
    return printer_reason(code, outcome.reason) or t("reason.unknown")
