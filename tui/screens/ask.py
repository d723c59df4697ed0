"""A small question over any screen with a one-line answer: a line's quantity, a held basket's note.

Enter answers with what is typed (``check`` may refuse it with one sentence:
the dialog stays, nothing changes); Esc dismisses with None.
"""
from __future__ import annotations

from typing import Callable, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui import keymap
from tui.screens.widgets import KeyBar


class AskScreen(ModalScreen[Optional[str]]):
    """One question, one line typed; Enter answers, Esc goes back."""

    BINDINGS = keymap.bindings("ask")
    AUTO_FOCUS = "#ask-input"
    DEFAULT_CSS = """
    AskScreen { align: center middle; background: $background 60%; }
    #ask-box { width: 56; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    #ask-title { text-style: bold; width: 100%; content-align: center middle; }
    #ask-message { height: auto; }
    #ask-message.-error { color: $text-error; text-style: bold; }
    #ask-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "", max_length: int = 0,
                 check: Optional[Callable[[str], Optional[str]]] = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.max_length = max_length
        self.check = check  # the answer -> a sentence saying why not, or None when it will do

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-box"):
            yield Static(Text(self.title_text), id="ask-title")
            yield Input(self.value, placeholder=self.placeholder, max_length=self.max_length, id="ask-input",
                        select_on_focus=True)
            yield Static("", id="ask-message")
            yield KeyBar("ask")

    @on(Input.Submitted, "#ask-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_answer()

    def action_answer(self) -> None:
        """Enter: answer with what is typed, unless ``check`` says why not (the dialog stays)."""
        answer = self.query_one("#ask-input", Input).value.strip()
        refusal = self.check(answer) if self.check is not None else None
        if refusal:
            message = self.query_one("#ask-message", Static)
            message.update(Text(refusal))  # never markup: it may quote what was typed
            message.set_class(True, "-error")
            self.app.bell()
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
