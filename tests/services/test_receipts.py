"""What the reprint rule reads: the outcome state and the printed reprints; a real SQLite file, no screen."""
from __future__ import annotations

from store import print_attempts
from tests.store.helpers import catalogue, ring_up
from tui.services.receipts import ReprintFacts, reprint_facts


def test_a_receipt_counts_only_the_reprints_that_printed(sqlite_database):
    sale = ring_up(catalogue())
    assert reprint_facts(sale.id) == ReprintFacts("pending", 0)
    print_attempts.finish_printing(print_attempts.start_printing(sale.id, "main").id, True)
    assert reprint_facts(sale.id) == ReprintFacts("printed", 0)
    print_attempts.finish_printing(print_attempts.start_printing(sale.id, "main", reprint=True).id, True)
    print_attempts.finish_printing(print_attempts.start_printing(sale.id, "main", reprint=True).id, False, "paper_out", "out")
    assert reprint_facts(sale.id) == ReprintFacts("printed", 1)  # the failed second reprint left no paper
