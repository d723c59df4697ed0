"""Guard rails: an entry so large it is most likely a slip asks the cashier first.

A line quantity over ``[limits] max_qty``, a line amount over ``max_line_fen``
or cash change over ``max_change_fen`` (0 = never asks) is a LimitQuestion;
the screen asks it (Y yes, N or Esc no; never Enter, which ends every scan).
Yes goes on and records ``limit_confirmed`` in the event log with the
question's ``detail``; no changes nothing. Plain Python: the rule, not the
dialog (tui/screens/confirm.py ``ask_limit`` asks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

QTY, LINE, CHANGE = "qty", "line", "change"


@dataclass(frozen=True)
class LimitQuestion:
    """What is over which limit: ``kind`` qty / line (a product ``name``) or change (cash and its change)."""

    kind: str
    name: str = ""
    qty_milli: int = 0
    amount_fen: int = 0  # the line's amount, or the cash handed over
    change_fen: int = 0

    @property
    def detail(self) -> str:
        """The event log's detail when the cashier says yes."""
        from store.money import format_qty, format_yuan

        if self.kind == QTY:
            return f"qty {format_qty(self.qty_milli)} {self.name}"
        if self.kind == LINE:
            return f"line {format_yuan(self.amount_fen)} {self.name}"
        return f"change {format_yuan(self.change_fen)} from cash {format_yuan(self.amount_fen)}"


def line_question(limits: Any, name: str, qty_milli: int, amount_fen: int) -> Optional[LimitQuestion]:
    """The question a line (new or changed) asks before it stands; None when it is within ``limits``."""
    if limits.max_qty and qty_milli > limits.max_qty * 1000:
        return LimitQuestion(QTY, name, qty_milli=qty_milli)
    if limits.max_line_fen and amount_fen > limits.max_line_fen:
        return LimitQuestion(LINE, name, amount_fen=amount_fen)
    return None


def change_question(limits: Any, cash_fen: int, change_fen: int) -> Optional[LimitQuestion]:
    """The question a cash payment asks before it is taken; None when its change is within the limit."""
    limit = limits.max_change_fen
    if not limit or change_fen <= limit:
        return None
    return LimitQuestion(CHANGE, amount_fen=cash_fen, change_fen=change_fen)
