"""The till's service without a screen: a real SQLite file, the virtual printer on a real pty.

The test plays the app: it collects what the printer thread reports and
settles each finished print on its own thread, as the app does when the
message arrives.
"""
from __future__ import annotations

import queue
from typing import Any, List

import pytest

from store import outcomes, print_attempts
from tests.tui.helpers import COLA, WATER, attempts, outcome
from tui.services.till import DrawerResult, PrinterHealth, PrintFinished, PrintStarted, Till

WAIT = 15.0  # seconds; a print at 9600 baud takes well under one


class Owner:
    """Stands in for the app: the till's reports arrive in a queue, PrintFinished is settled here."""

    def __init__(self, settings: Any, language: str = "zh", poll_seconds: float = 0) -> None:
        self.reports: "queue.Queue[Any]" = queue.Queue()
        self.seen: List[Any] = []
        self.reasons: List[str] = []
        self.till = Till(settings, report=self.reports.put, cashier="c1", language=lambda: language)
        self.till.poll_seconds = poll_seconds
        self.till.start()

    def next(self, kind: type) -> Any:
        """The next report of this kind (earlier ones of other kinds are kept in ``seen``)."""
        while True:
            event = self.reports.get(timeout=WAIT)
            self.seen.append(event)
            if isinstance(event, PrintFinished):
                self.reasons.append(self.till.settle(event))
            if isinstance(event, kind):
                return event

    def finished(self) -> PrintFinished:
        return self.next(PrintFinished)

    def stop(self) -> None:
        self.till.stop()


@pytest.fixture
def owner(shop):
    owner = Owner(shop.settings)
    try:
        yield owner
    finally:
        owner.stop()


def cash_sale(till: Till, code: str = COLA) -> Any:
    from store.sales import Basket, Tender, find_product

    basket = Basket()
    basket.add(find_product(code))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    return till.commit_sale(basket, tender)


def events(kind: str, sale_id: int) -> List[str]:
    from store.models import Event

    return [e.detail for e in Event.select().where((Event.kind == kind) & (Event.sale == sale_id)).order_by(Event.id)]


def test_paper_out_fails_the_print_the_sale_needs_the_banner_and_a_reprint_prints_it(shop, owner):
    till, printer = owner.till, shop.demo.printer
    sale = cash_sale(till)
    shop.demo.set_fault("paper_out")
    till.print_sale(sale.id, open_drawer=True)
    assert till.blocked() and sale.id in till.in_flight
    assert till.banner_sale() is None  # being printed: no banner yet

    finished = owner.finished()
    assert isinstance(owner.seen[0], PrintStarted)
    assert (finished.ok, finished.code, finished.state) == (False, "paper_out", outcomes.FAILED)
    assert owner.reasons == ["打印机缺纸"]  # in the till's language
    assert sale.id not in till.in_flight and till.blocked()
    assert till.banner_sale() == sale.id
    assert till.sale_facts(sale.id).reason == "打印机缺纸"
    # the job never left, so the cashier still gets the drawer for change, on its own
    drawer = owner.next(DrawerResult)
    assert drawer.ok and printer.drawer_kicks == 1
    assert events("drawer_open", sale.id)[0].startswith("separate kick")

    shop.demo.set_fault("ok")
    till.print_sale(sale.id)
    finished = owner.finished()
    assert (finished.ok, finished.state) == (True, outcomes.PRINTED)
    assert not till.blocked() and till.banner_sale() is None
    assert attempts(sale.id) == [outcomes.FAILED, outcomes.PRINTED]
    assert len(shop.paper()) == 1 and printer.drawer_kicks == 1


def test_a_cash_receipt_sent_but_not_confirmed_kicks_the_drawer_once(shop, owner):
    """The drawer kick heads the job: a job that went out needs no second kick."""
    sale = cash_sale(owner.till)
    shop.demo.set_fault("no_confirm")
    owner.till.print_sale(sale.id, open_drawer=True)
    finished = owner.finished()
    assert (finished.ok, finished.code, finished.state) == (False, "not_confirmed", outcomes.FAILED)
    owner.till.stop()  # anything left to report is reported by now
    assert not any(isinstance(event, DrawerResult) for event in owner.seen + list(owner.reports.queue))
    assert shop.demo.printer.drawer_kicks == 1
    assert events("drawer_open", sale.id) == []


def test_a_printed_cash_receipt_opens_the_drawer_with_the_job(shop, owner):
    sale = cash_sale(owner.till)
    owner.till.print_sale(sale.id, open_drawer=True)
    assert owner.finished().state == outcomes.PRINTED
    assert shop.demo.printer.drawer_kicks == 1 and events("drawer_open", sale.id) == [""]


def test_at_start_an_interrupted_print_needs_the_banner_and_a_pending_sale_prints(shop, owner):
    till = owner.till
    interrupted, pending = cash_sale(till), cash_sale(till)
    print_attempts.start_printing(interrupted.id, "main")  # the till stopped while this one printed

    assert till.recover().interrupted == 1
    assert till.in_flight == {pending.id}
    finished = owner.finished()
    assert (finished.sale_id, finished.state) == (pending.id, outcomes.PRINTED)
    assert outcome(interrupted.id).state == outcomes.FAILED
    assert till.banner_sale() == interrupted.id
    assert till.sale_facts(interrupted.id).reason == "打印时收银机被关掉了"


def test_at_start_a_sale_that_never_reached_the_printer_is_named_logged_and_printed(shop, owner):
    """killed after the commit, before any byte went out -> start: recover names it (for the cashier), the event
    log says print_after_restart, and it prints once as the original (no paper could exist: no 副本 COPY)."""
    from store.numbering import format_receipt_no

    till = owner.till
    sale = cash_sale(till)  # ... and the till was killed here
    number = format_receipt_no(sale.till_id, sale.receipt_no)

    recovery = till.recover()
    assert (recovery.interrupted, recovery.printing) == (0, (number,))
    assert events("print_after_restart", sale.id) == ["did not print before the stop: printed at start"]
    assert owner.finished().state == outcomes.PRINTED
    assert not till.blocked()
    paper = shop.paper()
    assert len(paper) == 1 and number in paper[0] and "副本 COPY" not in paper[0]


def test_at_start_a_never_printed_sale_whose_print_fails_gets_the_banner(shop, owner):
    till = owner.till
    sale = cash_sale(till)
    shop.demo.set_fault("paper_out")
    assert till.recover().printing  # the cashier is told it prints ...
    assert owner.finished().state == outcomes.FAILED
    assert till.banner_sale() == sale.id  # ... and when it does not, the banner asks as for any failed print
    assert events("print_after_restart", sale.id)


def test_at_start_with_nothing_left_open_nothing_is_said_or_logged(shop, owner):
    from store.models import Event
    from tui.services.till import Recovery

    sale = cash_sale(owner.till)
    owner.till.print_sale(sale.id)
    assert owner.finished().state == outcomes.PRINTED
    assert owner.till.recover() == Recovery(0, ())
    assert Event.select().where(Event.kind == "print_after_restart").count() == 0


def test_the_print_after_an_interrupted_one_is_marked_copy_with_the_original_time(shop, owner):
    """killed mid-print -> start -> R: the paper says 副本 COPY and the sale time; a plain sale's does not."""
    from store.numbering import format_receipt_no

    till = owner.till
    plain, interrupted = cash_sale(till), cash_sale(till)
    print_attempts.start_printing(interrupted.id, "main")  # the till stopped while this one printed
    assert till.recover().interrupted == 1  # ... and prints the pending one
    assert owner.finished().state == outcomes.PRINTED
    till.print_sale(interrupted.id)
    assert owner.finished().state == outcomes.PRINTED
    paper = shop.paper()
    assert len(paper) == 2
    first, second = paper
    assert format_receipt_no(plain.till_id, plain.receipt_no) in first and "副本 COPY" not in first
    assert format_receipt_no(interrupted.till_id, interrupted.receipt_no) in second
    assert "副本 COPY" in second and interrupted.sold_at.strftime("%Y-%m-%d %H:%M") in second


def test_the_print_after_one_sent_but_not_confirmed_is_marked_copy_with_the_original_time(shop, owner):
    """prints, never confirms -> banner -> R: the paper of the first try may be out, so the second says 副本 COPY."""
    from store.numbering import format_receipt_no

    till = owner.till
    sale = cash_sale(till)
    shop.demo.set_fault("no_confirm")
    till.print_sale(sale.id)
    assert owner.finished().code == "not_confirmed"
    shop.demo.set_fault("ok")
    till.print_sale(sale.id)  # R on the banner
    assert owner.finished().state == outcomes.PRINTED
    first, second = shop.paper()
    number = format_receipt_no(sale.till_id, sale.receipt_no)
    assert number in first and "副本 COPY" not in first
    assert number in second and "副本 COPY" in second and sale.sold_at.strftime("%Y-%m-%d %H:%M") in second


def test_a_print_that_never_left_makes_no_copy(shop, owner):
    """Paper out before the job: no byte went out, so the reprint is the original."""
    sale = cash_sale(owner.till)
    shop.demo.set_fault("paper_out")
    owner.till.print_sale(sale.id)
    assert owner.finished().code == "paper_out"
    shop.demo.set_fault("ok")
    owner.till.print_sale(sale.id)
    assert owner.finished().state == outcomes.PRINTED
    assert len(shop.paper()) == 1 and "副本 COPY" not in shop.paper()[0]


def test_the_strip_shows_an_unconfirmed_print_until_the_printer_confirms_again(shop, owner):
    """A good DLE EOT does not clear "not confirmed": the idle poll asks for a confirmation too, and only an
    answer to it says ready, with no print needed."""
    till = owner.till
    sale = cash_sale(till)
    shop.demo.set_fault("no_confirm")
    till.print_sale(sale.id)
    owner.finished()
    assert owner.next(PrinterHealth).state == "not_confirmed"
    till._poll()  # the idle poll (this till polls only when asked): DLE EOT answered, the confirmation not
    assert till.health == "not_confirmed"
    shop.demo.set_fault("ok")
    till._poll()
    assert owner.next(PrinterHealth).state == "ready"


@pytest.mark.parametrize("fault, state", [
    ("cover_open", "cover_open"),
    ("offline", "offline"),
    ("no_confirm", "not_confirmed"),  # answers DLE EOT, never confirms: only the confirmation request sees it
])
def test_the_idle_poll_sees_a_fault_start_and_end_with_no_print(shop, fault, state):
    """printer ready -> the fault starts -> PrinterHealth says so -> the fault ends -> ready, no sale between."""
    owner = Owner(shop.settings, poll_seconds=0.2)
    try:
        assert owner.next(PrinterHealth).state == "ready"
        shop.demo.set_fault(fault)
        assert owner.next(PrinterHealth).state == state
        shop.demo.set_fault("ok")
        assert owner.next(PrinterHealth).state == "ready"
    finally:
        owner.stop()


@pytest.mark.parametrize("fault, code", [("cover_open", "cover_open"), ("no_confirm", "not_confirmed")])
def test_after_a_failed_print_the_idle_poll_says_ready_once_the_fault_ends(shop, fault, code):
    """cover open (or no confirmation) -> the sale fails -> the fault ends -> ready before any other print."""
    owner = Owner(shop.settings, poll_seconds=0.2)
    try:
        assert owner.next(PrinterHealth).state == "ready"
        sale = cash_sale(owner.till)
        shop.demo.set_fault(fault)
        owner.till.print_sale(sale.id)
        assert owner.finished().code == code
        assert owner.next(PrinterHealth).state == code
        shop.demo.set_fault("ok")
        assert owner.next(PrinterHealth).state == "ready"
        assert attempts(sale.id) == [outcomes.FAILED]  # no print came between
    finally:
        owner.stop()


def test_idle_health_is_the_fault_then_no_confirmation_then_the_paper():
    from printing.printer import PrinterStatus
    from tui.services.till import idle_health

    def status(**changes: Any) -> PrinterStatus:
        values = dict(online=True, cover_open=False, paper_end=False, paper_near_end=False, error=False)
        values.update(changes)
        return PrinterStatus(**values)

    assert idle_health(status()) == "ready"
    assert idle_health(status(confirms=True)) == "ready"
    assert idle_health(status(confirms=None)) == "ready"  # a printer set to confirm by status only
    assert idle_health(status(confirms=False)) == "not_confirmed"
    assert idle_health(status(confirms=False, paper_near_end=True)) == "not_confirmed"
    assert idle_health(status(paper_near_end=True)) == "paper_near_end"
    assert idle_health(status(online=False, cover_open=True)) == "cover_open"


def test_a_refund_of_a_discounted_line_prints_lines_that_add_up_to_its_total(shop):
    """1 of 3 waters sold 5% off: the refund line says -2.00 and its share of the discount, 退款合计 -￥1.90."""
    from printing.layout import layout
    from store import documents
    from store.sales import Basket, DiscountSpec, Tender, commit_sale, find_product
    from tui.services.till import receipt_for_sale

    basket = Basket()
    basket.add(find_product(WATER), 3000)
    basket.set_line_discount(0, DiscountSpec("percent", 500, "临期"))
    tender = Tender(basket.total_fen)
    tender.add_payment("cash", basket.total_fen)
    sale = commit_sale(basket, tender, shop.settings.till.id, "c1")
    line = documents.refundable(sale.id)[0]
    refund = documents.commit_refund(sale.id, [(line.line_id, 1000)], shop.settings.till.id, "c1")
    assert refund.total_fen == 190
    receipt = receipt_for_sale(refund, shop.settings)
    assert sum(item.amount_fen - item.discount_fen for item in receipt.lines) == receipt.total_fen == 190
    paper = "\n".join(layout(receipt, 32))
    assert "-2.00" in paper and "0.10" in paper and "-￥1.90" in paper


def test_a_void_slip_names_the_manager_who_allowed_it(shop):
    """QA (issue 23): the void slip named the cashier, not the manager whose PIN allowed it."""
    from printing.layout import layout
    from store import documents
    from store.cashiers import add_cashier
    from tui.services.till import receipt_for_sale

    add_cashier("M1", "王店长", "4321", manager=True)
    sale = cash_sale(Till(shop.settings, report=lambda event: None, cashier="c1"))
    void = documents.commit_void(sale.id, shop.settings.till.id, "c1", manager="M1", reason="扫错了")
    receipt = receipt_for_sale(void, shop.settings)
    assert receipt.manager == "王店长"
    assert any(text.startswith("授权人") and text.endswith("王店长") for text in layout(receipt, 32))


def test_resolving_from_the_banner_records_the_outcome_once(shop, owner):
    till = owner.till
    sale = cash_sale(till)
    shop.demo.set_fault("cover_open")
    till.print_sale(sale.id)
    assert owner.finished().state == outcomes.FAILED

    facts = till.resolve(sale.id, outcomes.HANDWRITTEN)
    assert facts.number and facts.state == outcomes.FAILED  # what the banner showed
    assert outcome(sale.id).state == outcomes.HANDWRITTEN
    assert not till.blocked() and till.banner_sale() is None
    assert till.receipt_lines(sale.id)  # the receipt to copy by hand
    with pytest.raises(outcomes.IllegalTransition):
        till.resolve(sale.id, outcomes.DECLINED)


def test_the_idle_printer_is_polled_and_a_change_is_reported_and_logged(shop):
    from store.models import Event

    owner = Owner(shop.settings, poll_seconds=0.2)
    try:
        assert owner.next(PrinterHealth).state == "ready"
        shop.demo.set_fault("paper_out")
        health = owner.next(PrinterHealth)
        assert (health.state, health.reason_en) == ("paper_out", "printer out of paper")
    finally:
        owner.stop()
    assert [e.detail for e in Event.select().where(Event.kind == "printer_status")] == ["ready -> paper_out"]


def test_the_service_and_everything_it_imports_load_no_textual():
    """Every module tui/till.py imports, also inside functions, in a fresh interpreter: no Textual."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import tui.services.till

    tree = ast.parse(Path(tui.services.till.__file__).read_text(encoding="utf-8"))
    imports = sorted({ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                      and getattr(node, "module", "") != "__future__"})
    assert any(i.startswith("from store import") and "outcomes" in i for i in imports)  # the probe reads the file
    code = "\n".join(["import sys", *imports, "print(sorted(m for m in sys.modules if m.startswith('textual')))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(Path(tui.services.till.__file__).parents[2]), check=True)  # the tree root
    assert out.stdout.strip() == "[]"


def test_opening_the_drawer_for_a_reason_kicks_it_and_logs_the_reason(shop, owner):
    import time

    from store.models import Event

    owner.till.open_drawer("payment removed: hand back cash 5.00")
    drawer = owner.next(DrawerResult)
    assert (drawer.sale_id, drawer.ok) == (0, True)
    deadline = time.monotonic() + WAIT  # the virtual printer decodes the kick on its own thread
    while shop.demo.printer.drawer_kicks < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert shop.demo.printer.drawer_kicks == 1
    opened = Event.get(Event.kind == "drawer_open")
    assert (opened.detail, opened.sale_id, opened.cashier) == ("payment removed: hand back cash 5.00", None, "c1")
