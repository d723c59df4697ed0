"""Ask why (a void, a no-sale drawer opening): one line of text, required.

Dismisses with the text, or None on Esc. An empty answer is refused in one
sentence and the prompt stays.
"""
from __future__ import annotations

from typing import Optional

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar


class ReasonScreen(ModalScreen[Optional[str]]):
    """One question whose answer is a reason; Enter gives it, Esc gives up."""

    BINDINGS = keymap.bindings("reason")
    AUTO_FOCUS = "#reason-input"
    DEFAULT_CSS = """
    ReasonScreen { align: center middle; background: $background 60%; }
    #reason-box { width: 60; max-width: 100%; height: auto; border: thick $primary; background: $surface;
                  padding: 0 1; }
    #reason-title { text-style: bold; width: 100%; }
    #reason-message { height: auto; }
    #reason-message.-error { color: $text-error; text-style: bold; }
    #reason-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Static(self.question, id="reason-title")
            yield Input(placeholder=t("reason.placeholder"), id="reason-input", max_length=200)
            yield Static("", id="reason-message")
            yield KeyBar("reason")

    @on(Input.Submitted, "#reason-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(event.value.split())
        if not text:
            message = self.query_one("#reason-message", Static)
            message.update(t("reason.required"))
            message.set_class(True, "-error")
            self.app.bell()
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
