"""Receipt outcome state machine: every legal transition, and every illegal one raises."""
from __future__ import annotations

import pytest

from store import events, outcomes, print_attempts
from store.models import Event, PrintAttempt, ReceiptOutcome
from store.outcomes import DECLINED, E_RECEIPT, FAILED, HANDWRITTEN, PENDING, PRINTED, PRINTING, STATES
from tests.store.helpers import catalogue, ring_up


@pytest.fixture
def sale(database):
    return ring_up(catalogue())


def state(sale):
    return ReceiptOutcome.get(ReceiptOutcome.sale == sale.id).state


def _drive_to(sale, target):
    """Bring a fresh sale's receipt to ``target`` through legal steps."""
    if target == PENDING:
        return None
    attempt = print_attempts.start_printing(sale.id, "main", cashier="c1")
    if target == PRINTING:
        return attempt
    if target == PRINTED:
        print_attempts.finish_printing(attempt.id, True)
        return attempt
    print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
    if target != FAILED:
        outcomes.resolve(sale.id, target, cashier="c1")
    return attempt


def test_printed_on_confirmation(sale):
    attempt = print_attempts.start_printing(sale.id, "main", cashier="c1")
    assert state(sale) == PRINTING
    outcome = print_attempts.finish_printing(attempt.id, True)
    assert outcome.state == PRINTED == state(sale)
    row = PrintAttempt.get_by_id(attempt.id)
    assert (row.printer, row.result, row.reprint_no) == ("main", "printed", 0)
    assert row.started_at is not None and row.finished_at is not None
    assert outcomes.unresolved_sales("1") == []


def test_paper_out_then_reprint_on_spare_printer(sale):
    """paper runs out mid-receipt -> failed -> R on the spare printer -> printed, one reprint recorded."""
    first = print_attempts.start_printing(sale.id, "main", cashier="c1")
    outcome = print_attempts.finish_printing(first.id, False, "paper_out", "printer out of paper")
    assert (outcome.state, outcome.reason_code) == (FAILED, "paper_out")
    assert [s.id for s in outcomes.unresolved_sales("1")] == [sale.id]
    second = print_attempts.start_printing(sale.id, "backup", cashier="c1", reprint=True)
    assert second.reprint_no == 1
    print_attempts.finish_printing(second.id, True)
    assert state(sale) == PRINTED
    reprints = list(Event.select().where(Event.kind == "reprint"))
    assert [(e.cashier, e.printer, e.sale_id) for e in reprints] == [("c1", "backup", sale.id)]
    assert Event.select().where(Event.kind == "print_failed").count() == 1
    changes = [e.detail for e in Event.select().where(Event.kind == "outcome").order_by(Event.id)]
    assert changes == ["pending -> printing", "printing -> failed (paper_out: printer out of paper)",
                       "failed -> printing", "printing -> printed"]


@pytest.mark.parametrize("resolution", [HANDWRITTEN, E_RECEIPT, DECLINED])
def test_failed_resolved_by_cashier(sale, resolution):
    _drive_to(sale, FAILED)
    outcome = outcomes.resolve(sale.id, resolution, cashier="c1")
    assert outcome.state == resolution == state(sale)
    assert outcomes.unresolved_sales("1") == []
    last = Event.select().where(Event.kind == "outcome").order_by(Event.id.desc()).get()
    assert (last.detail, last.cashier) == (f"failed -> {resolution}", "c1")


LEGAL_START = {PENDING, FAILED}
ALL_TARGETS = [PRINTING, PRINTED, FAILED, HANDWRITTEN, E_RECEIPT, DECLINED]


@pytest.mark.parametrize("current", STATES)
@pytest.mark.parametrize("wanted", [HANDWRITTEN, E_RECEIPT, DECLINED, PRINTED, PENDING, PRINTING])
def test_resolve_only_from_failed(sale, current, wanted):
    _drive_to(sale, current)
    if current == FAILED and wanted in (HANDWRITTEN, E_RECEIPT, DECLINED):
        outcomes.resolve(sale.id, wanted)
        assert state(sale) == wanted
    else:
        with pytest.raises(outcomes.IllegalTransition):
            outcomes.resolve(sale.id, wanted)
        assert state(sale) == current


@pytest.mark.parametrize("current", STATES)
def test_start_printing_only_from_pending_or_failed(sale, current):
    _drive_to(sale, current)
    if current in LEGAL_START:
        print_attempts.start_printing(sale.id, "main")
        assert state(sale) == PRINTING
    else:
        with pytest.raises(outcomes.IllegalTransition):
            print_attempts.start_printing(sale.id, "main")
        assert state(sale) == current


@pytest.mark.parametrize("current", [PRINTED, HANDWRITTEN, E_RECEIPT, DECLINED])
def test_reprint_of_resolved_receipt(sale, current):
    _drive_to(sale, current)
    attempt = print_attempts.start_printing(sale.id, "main", cashier="c2", reprint=True)
    assert state(sale) == PRINTING
    # a failed reprint of an old receipt must not block the till
    print_attempts.finish_printing(attempt.id, False, "offline", "printer not answering")
    assert state(sale) == current
    assert outcomes.unresolved_sales("1") == []
    again = print_attempts.start_printing(sale.id, "main", cashier="c2", reprint=True)
    assert again.reprint_no == attempt.reprint_no == 1  # the failed try left no paper: still reprint 1
    print_attempts.finish_printing(again.id, True)
    assert state(sale) == PRINTED
    third = print_attempts.start_printing(sale.id, "main", cashier="c2", reprint=True)
    assert third.reprint_no == 2
    print_attempts.finish_printing(third.id, False, "offline", "printer not answering")
    from store import queries

    assert queries.receipts(False, "1")[0]["reprints"] == 1  # as the paper and the history count them


def test_cannot_print_twice_at_once(sale):
    _drive_to(sale, PRINTING)
    for reprint in (False, True):
        with pytest.raises(outcomes.IllegalTransition):
            print_attempts.start_printing(sale.id, "main", reprint=reprint)


@pytest.mark.parametrize("ok", [True, False])
def test_finish_only_once(sale, ok):
    attempt = _drive_to(sale, PRINTING)
    print_attempts.finish_printing(attempt.id, ok, "" if ok else "no_answer")
    with pytest.raises(outcomes.IllegalTransition):
        print_attempts.finish_printing(attempt.id, True)
    assert state(sale) == (PRINTED if ok else FAILED)


def test_recover_interrupted_on_start_up(database):
    products = catalogue()
    a, b, c = (ring_up(products) for _ in range(3))
    other_till = ring_up(products, till_id="2")
    print_attempts.start_printing(a.id, "main")
    print_attempts.start_printing(c.id, "main")
    print_attempts.start_printing(other_till.id, "main")
    assert print_attempts.recover_interrupted("1") == 2
    assert (state(a), state(b), state(c), state(other_till)) == (FAILED, PENDING, FAILED, PRINTING)
    outcome = ReceiptOutcome.get(ReceiptOutcome.sale == a.id)
    assert outcome.reason_code == "interrupted"
    assert PrintAttempt.select().where(PrintAttempt.finished_at.is_null()).count() == 1
    assert [s.id for s in outcomes.unresolved_sales("1")] == [a.id, b.id, c.id]
    assert print_attempts.recover_interrupted("1") == 0


def test_log_event(database):
    sale = ring_up(catalogue())
    event = events.log_event("drawer_open", "1", cashier="c1", sale=sale, printer="main", detail="no sale")
    row = Event.get_by_id(event.id)
    assert (row.kind, row.till_id, row.cashier, row.sale_id, row.printer, row.detail) == (
        "drawer_open", "1", "c1", sale.id, "main", "no sale")


# ---------------------------------------------------------------- the table and the reprint rule

def test_the_transition_table_is_the_state_machine_of_the_design():
    assert outcomes.UNRESOLVED_STATES == (PENDING, PRINTING, FAILED)
    assert [state for state in STATES if outcomes.is_unresolved(state)] == [PENDING, PRINTING, FAILED]
    allowed = {(a, b) for a in STATES for b in STATES if outcomes.can_change(a, b)}
    assert allowed == {(PENDING, PRINTING), (PRINTING, PRINTED), (PRINTING, FAILED), (FAILED, PRINTING), (FAILED, PRINTED),
                       (FAILED, HANDWRITTEN), (FAILED, E_RECEIPT), (FAILED, DECLINED)}
    reprints = {(a, b) for a in STATES for b in STATES if outcomes.can_change(a, b, reprint=True)} - allowed
    assert reprints == {(state, PRINTING) for state in outcomes.RESOLVED_STATES}


def test_an_illegal_transition_carries_a_code_and_the_states(sale):
    _drive_to(sale, PRINTED)
    with pytest.raises(outcomes.IllegalTransition) as caught:
        print_attempts.start_printing(sale.id, "main")
    assert caught.value.code == "illegal_transition"
    assert caught.value.values == {"sale_id": sale.id, "current": PRINTED, "wanted": PRINTING}
    assert "cannot go from printed to printing" in str(caught.value)


def _refused(*args, **kwargs):
    with pytest.raises(print_attempts.ReprintRefused) as caught:
        print_attempts.check_reprint(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("state", [PENDING, PRINTING, FAILED])
def test_an_unresolved_receipt_is_resolved_on_the_banner_not_reprinted(state):
    refused = _refused(state, 0)
    assert (refused.code, refused.values) == (print_attempts.REPRINT_UNRESOLVED, {"state": state})


def test_the_reprint_cap_refuses_the_reprint_after_the_last_allowed_one():
    print_attempts.check_reprint(PRINTED, 1, max_reprints=2)
    refused = _refused(PRINTED, 2, max_reprints=2, manager_pin=True, approved_by="M1")
    assert refused.code == print_attempts.REPRINT_CAP
    assert refused.values == {"reprints": 2, "max_reprints": 2}
    assert "at most 2 reprints" in str(refused)
    print_attempts.check_reprint(HANDWRITTEN, 50, max_reprints=0)  # 0: no cap


def test_a_manager_pin_rule_needs_who_approved():
    assert _refused(DECLINED, 0, manager_pin=True).code == print_attempts.REPRINT_NEEDS_MANAGER
    print_attempts.check_reprint(DECLINED, 0, manager_pin=True, approved_by="M1")
    print_attempts.check_reprint(DECLINED, 0, manager_pin=False)


def test_a_new_sale_starts_pending_in_the_commit(sale):
    assert state(sale) == PENDING
    assert outcomes.unresolved_sales("1") == [sale]


# ---------------------------------------------------------------- the cashier's word

def test_the_cashier_holds_the_paper_failed_becomes_printed_with_evidence_cashier(sale):
    """interrupted -> banner -> P: printed, a new attempt with evidence cashier, the printer's attempt untouched."""
    from store import queries

    attempt = _drive_to(sale, FAILED)
    outcome = print_attempts.confirm_printed(sale.id, cashier="c1")
    assert outcome.state == PRINTED == state(sale)
    rows = list(PrintAttempt.select().where(PrintAttempt.sale == sale.id).order_by(PrintAttempt.id))
    assert [(row.id == attempt.id, row.result, row.evidence) for row in rows] == [
        (True, FAILED, ""), (False, PRINTED, print_attempts.EVIDENCE_CASHIER)]
    assert rows[1].cashier == "c1" and rows[1].finished_at is not None and rows[1].reprint_no == 0
    assert Event.select().where((Event.sale == sale.id) & Event.detail.contains("evidence: cashier")).count() == 1
    listed = queries.receipts(False, "1")
    assert [(r["outcome"], r["evidence"]) for r in listed] == [(PRINTED, "cashier")]
    detail = queries.sale_detail(sale.id)
    assert [a["evidence"] for a in detail["print_attempts"]] == ["", "cashier"]


def test_a_printer_confirmed_print_has_evidence_printer(sale):
    from store import queries

    _drive_to(sale, PRINTED)
    assert [row.evidence for row in PrintAttempt.select().where(PrintAttempt.sale == sale.id)] == ["printer"]
    assert queries.receipts(False, "1")[0]["evidence"] == "printer"


@pytest.mark.parametrize("start", [PENDING, PRINTING, PRINTED, HANDWRITTEN])
def test_only_a_failed_receipt_can_be_confirmed_by_the_cashier(sale, start):
    _drive_to(sale, start)
    with pytest.raises(outcomes.IllegalTransition):
        print_attempts.confirm_printed(sale.id, cashier="c1")
    assert state(sale) == start


def test_a_failed_print_whose_bytes_went_out_may_be_on_paper_one_that_never_left_is_not(sale):
    """The next print is a 副本 COPY after a try that sent bytes unconfirmed, as after an interrupted one."""
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")  # refused before the job
    assert not print_attempts.may_be_on_paper(sale.id)
    attempt = print_attempts.start_printing(sale.id, "main")
    print_attempts.finish_printing(attempt.id, False, "not_confirmed", "printing not confirmed", sent=True)
    assert PrintAttempt.get_by_id(attempt.id).evidence == print_attempts.EVIDENCE_SENT
    assert print_attempts.may_be_on_paper(sale.id)
