"""The till's one small dialog: a line typed (a quantity, a note, an amount) and, maybe, why.

``parse`` turns what is typed into the answer or raises ``Refused`` (one
sentence: the dialog stays, nothing changes). With a ``Reason``, a second
line asks why (required; 1-4 pick a quick one) and the dialog answers
(value, reason); a value of None needs no reason (a discount taken off) and
answers (None, "") at once. Esc dismisses with None.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui import keymap
from tui.screens.widgets import KeyBar


class Refused(ValueError):
    """What was typed will not do; str() is the one sentence the dialog says."""


@dataclass(frozen=True)
class Reason:
    """The second line: why, required; a number picks one of the ``quick`` reasons."""

    placeholder: str
    needed: str  # said when no reason is given
    max_length: int = 60
    quick: Tuple[str, ...] = ()
    # what a quick reason records, when not the words shown (the receipt's language: it prints as stored)
    quick_stored: Tuple[str, ...] = ()


class AskScreen(ModalScreen[Any]):
    """One question, one line typed (and with ``reason``, why); Enter answers, Esc goes back."""

    BINDINGS = keymap.bindings("ask")
    KEYS, INPUT, MESSAGE = "ask", "ask-input", "ask-message"  # the key group and the ids the stories know
    AUTO_FOCUS = "Input"
    DEFAULT_CSS = """
    AskScreen { align: center middle; background: $background 60%; }
    #ask-box { width: 56; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 0 1; }
    #ask-title { text-style: bold; width: 100%; content-align: center middle; }
    .ask-message { height: auto; }
    .ask-message.-error { color: $text-error; text-style: bold; }
    #ask-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, value: str = "", placeholder: str = "", max_length: int = 0,
                 parse: Optional[Callable[[str], Any]] = None, note: Optional[str] = None,
                 reason: Optional[Reason] = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.max_length = max_length
        self.parse = parse  # what is typed -> the answer, or Refused; None: the text is the answer
        self.note = note  # a line below the title (None: no line)
        self.reason = reason
        self.answer: Any = None  # the first line's, while the reason is asked

    def compose(self) -> ComposeResult:
        with Vertical(id="ask-box"):
            yield Static(Text(self.title_text), id="ask-title")
            if self.note is not None:
                yield Static(Text(self.note), id="ask-note")
            yield Input(self.value, placeholder=self.placeholder, max_length=self.max_length, id=self.INPUT,
                        select_on_focus=True)
            if self.reason is not None:
                yield Input(placeholder=self.reason.placeholder, max_length=self.reason.max_length,
                            id="ask-reason", disabled=True)
                if self.reason.quick:
                    yield Static(Text("   ".join(f"{n} {why}" for n, why in enumerate(self.reason.quick, 1))),
                                 id="ask-quick")
            yield Static("", id=self.MESSAGE, classes="ask-message")
            yield KeyBar(self.KEYS)

    def say(self, text: str) -> None:
        message = self.query_one("#" + self.MESSAGE, Static)
        message.update(Text(text))  # never markup: it may quote what was typed
        message.set_class(True, "-error")
        self.app.bell()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "ask-reason":
            self.give_reason(event.value)
        else:
            self.action_answer()

    def action_answer(self) -> None:
        """Enter: answer with what is typed, unless ``parse`` refuses it (the dialog stays)."""
        text = self.query_one("#" + self.INPUT, Input).value.strip()
        try:
            answer = self.parse(text) if self.parse is not None else text
        except Refused as refusal:
            self.say(str(refusal))
            return
        if self.reason is None:
            self.dismiss(answer)
        elif answer is None:
            self.dismiss((None, ""))
        else:
            self.answer = answer
            reason = self.query_one("#ask-reason", Input)
            reason.disabled = False
            reason.focus()
            self.query_one("#" + self.MESSAGE, Static).update("")

    def give_reason(self, typed: str) -> None:
        assert self.reason is not None
        reason = " ".join(typed.split())
        stored = self.reason.quick_stored or self.reason.quick
        reason = dict((str(n), why) for n, why in enumerate(stored, 1)).get(reason, reason)
        if not reason:
            self.say(self.reason.needed)
        elif self.answer is not None:
            self.dismiss((self.answer, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AmountScreen(AskScreen):
    """An amount (the shift's cash, a discount) and maybe why: wider, with the amount keys."""

    BINDINGS = keymap.bindings("amount")
    KEYS, INPUT, MESSAGE = "amount", "amount-input", "amount-message"
    DEFAULT_CSS = """
    AmountScreen #ask-box { width: 60; border: thick $accent; }
    AmountScreen #ask-title { content-align: left top; }
    """
