"""Ask why (a void, a no-sale drawer opening): one line of text, required.

An AskScreen whose empty answer is refused in one sentence (the prompt
stays); dismisses with the text, or None on Esc.
"""
from __future__ import annotations

from tui.i18n import t
from tui.screens.ask import AskScreen, Refused


def required(answer: str) -> str:
    """The reason as typed; Refused when there is none."""
    if not answer:
        raise Refused(t("reason.required"))
    return answer


class ReasonScreen(AskScreen):
    """One question whose answer is a reason; Enter gives it, Esc gives up."""

    def __init__(self, question: str) -> None:
        super().__init__(question, placeholder=t("reason.placeholder"), max_length=200, parse=required)
