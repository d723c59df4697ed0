"""The drawer counted note by note: pieces per denomination, the running total, or one total typed.

One row per denomination of the yuan (store.shifts.DENOMINATIONS; a coin
counts on the row of the note of its value). Enter or Down moves to the next
row, Up back; Enter on the last row (or F12) answers with a ``Count``. A row
that is not a number of pieces is refused in one sentence and the cursor
stays on it. F2 asks one total instead (the shift's amount dialog, as a shop
that does not count by piece types it); Esc there comes back to the rows.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

from tui import keymap
from tui.i18n import brief, t, yuan
from tui.screens.ask import Refused
from tui.screens.widgets import KeyBar
from tui.services.shifts import Count

_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def pieces(text: str) -> int:
    """A typed number of pieces (full-width digits too; empty is 0); Refused (one sentence) when it is not one."""
    from store.money import typed
    from store.shifts import MAX_PIECES

    cleaned = typed(text).strip()
    if not cleaned:
        return 0
    if _DIGITS.fullmatch(cleaned) is None:
        raise Refused(t("count.bad_pieces", text=brief(text)))
    if len(cleaned.lstrip("0")) > len(str(MAX_PIECES)) or int(cleaned) > MAX_PIECES:  # no int() of huge text
        raise Refused(t("count.too_many", max=MAX_PIECES))
    return int(cleaned)


def denomination_name(fen: int) -> str:
    """How a row names its denomination: 100 元 / 5 角 (zh), ¥100 / ¥0.50 (en)."""
    from store.shifts import denomination

    n, unit = denomination(fen)
    return t(f"count.{unit}", n=n)


class CountScreen(ModalScreen[Optional[Count]]):
    """The float or the Z's count, per denomination; dismisses with a Count, or None (Esc)."""

    BINDINGS = keymap.bindings("count") + keymap.bindings("amount")
    AUTO_FOCUS = "Input"
    DEFAULT_CSS = """
    CountScreen { align: center middle; background: $background 60%; }
    #count-box { width: 60; max-width: 100%; height: auto; border: thick $accent; background: $surface;
                 padding: 0 1; }
    #count-title { text-style: bold; width: 100%; }
    #count-hint { color: $text-muted; }
    .count-row { height: 1; }
    .count-name { width: 10; }
    .count-row Input { width: 10; height: 1; border: none; padding: 0 1; background: $boost; }
    .count-row Input:focus { background: $accent 40%; text-style: bold; }
    .count-amount { width: 1fr; content-align: right middle; }
    #count-total { text-style: bold; content-align: right middle; width: 100%; }
    #count-message { height: auto; }
    #count-message.-error { color: $text-error; text-style: bold; }
    #count-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, note: str, one_total: Callable[[], Screen]) -> None:
        from store.shifts import DENOMINATIONS

        super().__init__()
        self.title_text = title
        self.note = note
        self.one_total = one_total  # the one-amount dialog F2 asks (answers fen, or None)
        self.rows: List[int] = list(DENOMINATIONS)
        self.counted: Dict[int, int] = {fen: 0 for fen in self.rows}  # each row's last good number

    def compose(self) -> ComposeResult:
        with Vertical(id="count-box"):
            yield Static(Text(self.title_text), id="count-title")
            if self.note:
                yield Static(Text(self.note), id="count-note")
            yield Static(Text(t("count.hint")), id="count-hint")
            for fen in self.rows:
                with Horizontal(classes="count-row"):
                    yield Static(denomination_name(fen), classes="count-name")
                    yield Input(placeholder="0", id=f"count-{fen}", select_on_focus=True)
                    yield Static("", id=f"count-amount-{fen}", classes="count-amount")
            yield Static("", id="count-total")
            yield Static("", id="count-message")
            yield KeyBar("count", "amount")

    def on_mount(self) -> None:
        self.show_total()

    def total_fen(self) -> int:
        from store.shifts import counts_fen

        return counts_fen(self.counted)

    def show_total(self) -> None:
        self.query_one("#count-total", Static).update(Text(t("count.total", amount=yuan(self.total_fen()))))

    def say(self, text: str) -> None:
        message = self.query_one("#count-message", Static)
        message.update(Text(text))  # never markup: it quotes what was typed
        message.set_class(True, "-error")
        self.app.bell()

    def row_input(self, fen: int) -> Input:
        return self.query_one(f"#count-{fen}", Input)

    def current(self) -> int:
        """The index of the row being typed (the first when none is focused)."""
        focused = self.focused
        if isinstance(focused, Input) and focused.id and focused.id.startswith("count-"):
            return self.rows.index(int(focused.id[len("count-"):]))
        return 0

    def accept(self, index: int) -> bool:
        """The row's text is a number of pieces (else one sentence, and False)."""
        fen = self.rows[index]
        try:
            self.counted[fen] = pieces(self.row_input(fen).value)
        except Refused as refusal:
            self.say(str(refusal))
            return False
        self.query_one("#count-message", Static).update("")
        return True

    @on(Input.Changed)
    def row_changed(self, event: Input.Changed) -> None:
        """The running total follows each keystroke; a row that is not a number of pieces shows no amount and
        adds nothing (said on Enter)."""
        from store.money import format_yuan
        from store.shifts import counts_fen

        fen = int((event.input.id or "")[len("count-"):])
        try:
            self.counted[fen] = pieces(event.value)
        except Refused:  # the row counts for nothing until it is a number of pieces (no stale amount shown)
            self.counted[fen] = 0
        amount = format_yuan(counts_fen({fen: self.counted[fen]})) if self.counted[fen] else ""
        self.query_one(f"#count-amount-{fen}", Static).update(amount)
        self.show_total()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.current() == len(self.rows) - 1:
            self.action_done()
        else:
            self.action_move(1)

    def action_move(self, step: int) -> None:
        index = self.current()
        if self.accept(index):
            self.row_input(self.rows[max(0, min(len(self.rows) - 1, index + step))]).focus()

    def action_done(self) -> None:
        """Answer with the count, unless a row is not a number of pieces (the cursor goes there)."""
        for index, fen in enumerate(self.rows):
            if not self.accept(index):
                self.row_input(fen).focus()
                return
        self.dismiss(Count(self.total_fen(), {fen: n for fen, n in self.counted.items() if n}))

    def action_one_total(self) -> None:
        self.app.push_screen(self.one_total(), self.total_typed)

    def total_typed(self, amount: Optional[int]) -> None:
        if amount is not None:  # Esc on the total: back to the rows
            self.dismiss(Count(amount))

    def action_cancel(self) -> None:
        self.dismiss(None)
