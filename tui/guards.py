"""Guard rails: an entry so large it is most likely a slip asks the cashier first.

A line quantity over ``[limits] max_qty``, a line amount over ``max_line_fen``
or cash change over ``max_change_fen`` (0 = never asks) opens a yes/no
question (the ConfirmScreen: Y yes, N or Esc no; never Enter, which ends every scan). Yes goes on and
records ``limit_confirmed`` in the event log; no changes nothing.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Tuple

from tui.console import on_screen
from tui.i18n import t

#: What the cashier is asked, and the event log's detail when the answer is yes.
Question = Tuple[str, str]


def line_question(app: Any, name: str, qty_milli: int, amount_fen: int) -> Optional[Question]:
    """The question a new line asks before it is added; None when it is within the limits."""
    from store.money import format_qty, format_yuan

    limits = app.settings.limits
    shown = on_screen(app, name)
    if limits.max_qty and qty_milli > limits.max_qty * 1000:
        qty = format_qty(qty_milli)
        return t("guard.qty", name=shown, qty=qty), f"qty {qty} {name}"
    if limits.max_line_fen and amount_fen > limits.max_line_fen:
        amount = format_yuan(amount_fen)
        return t("guard.line", name=shown, amount=amount), f"line {amount} {name}"
    return None


def change_question(app: Any, cash_fen: int, change_fen: int) -> Optional[Question]:
    """The question a cash payment asks before it is taken; None when its change is within the limit."""
    from store.money import format_yuan

    limit = app.settings.limits.max_change_fen
    if not limit or change_fen <= limit:
        return None
    cash, change = format_yuan(cash_fen), format_yuan(change_fen)
    return t("guard.change", cash=cash, change=change), f"change {change} from cash {cash}"


def ask(app: Any, question: Question, then: Callable[[], None], cancelled: Callable[[], None]) -> None:
    """Ask; yes records limit_confirmed and calls then(), no calls cancelled() (and nothing else)."""
    from tui.screens.confirm import ConfirmScreen

    text, detail = question

    def answered(yes: Optional[bool]) -> None:
        if yes:
            app.log_event("limit_confirmed", detail=detail)
            then()
        else:
            cancelled()

    app.push_screen(ConfirmScreen(text), answered)
