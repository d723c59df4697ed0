"""A yes/no question over any screen."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.screens.widgets import KeyBar


class ConfirmScreen(ModalScreen[bool]):
    """One question, Y or N."""

    BINDINGS = keymap.bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)  # a product name is shown as named
            yield KeyBar("confirm")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)
