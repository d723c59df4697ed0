"""What the history's R (补打 reprint) reads before the rule decides, as a plain function.

Plain Python, no Textual: tui/screens/history.py reads ``reprint_facts`` off
the UI thread and applies ``store.outcomes.check_reprint`` ([reprint] max and
manager_pin) to the answer.
"""
from __future__ import annotations

from typing import NamedTuple

from store import outcomes


class ReprintFacts(NamedTuple):
    """A receipt's outcome state now and how many reprints of it were printed."""

    state: str
    reprints: int


def reprint_facts(sale_id: int) -> ReprintFacts:
    """The receipt outcome state of a sale and its printed reprints, as the reprint rule needs them; store work."""
    from store.queries import reprint_counts

    return ReprintFacts(outcomes.get_outcome(sale_id).state, reprint_counts([sale_id]).get(sale_id, 0))
