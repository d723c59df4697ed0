"""The receipt for the customer when the printer failed: big to copy by hand (H), or as a QR (Q)."""
from __future__ import annotations

from typing import List

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar


class HandwrittenView(ModalScreen[bool]):
    """The whole receipt, big and plain, to copy onto a handwritten receipt."""

    BINDINGS = [b for b in keymap.bindings("view") if isinstance(b, Binding) and b.action == "close"]
    AUTO_FOCUS = "#hand-scroll"

    def __init__(self, number: str, lines: List[str]) -> None:
        super().__init__()
        self.number = number
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="hand-box", classes="viewer"):
            yield Static(t("hand.title") + "  " + t("hand.recorded", number=self.number), classes="viewer-title")
            yield Static(t("hand.write_number", number=self.number), id="hand-number")
            with VerticalScroll(id="hand-scroll", classes="viewer-body"):
                yield Static(Text("\n".join(self.lines), no_wrap=True), id="hand-receipt")  # laid out to be drawn
            yield KeyBar("view", hidden=("view.prev", "view.next"))

    def action_close(self) -> None:
        self.dismiss(True)


class QrView(ModalScreen[bool]):
    """The receipt as a QR code in half blocks, for the customer's phone."""

    BINDINGS = [b for b in keymap.bindings("view") if isinstance(b, Binding) and b.action == "close"]

    def __init__(self, number: str, receipt) -> None:
        super().__init__()
        self.number = number
        self.receipt = receipt
        self.payload = ""
        self.lines: List[str] = []

    def compose(self) -> ComposeResult:
        from tui.qr import fit_qr, qr_text

        # The code takes the full height (two modules per row); words go beside it.
        self.payload, self.lines, fits = fit_qr(self.receipt, max(1, self.app.size.height))
        with Horizontal(id="qr-box"):
            yield Static(qr_text(self.lines), id="qr-code")
            with Vertical(id="qr-side"):
                yield Static(t("qr.title"), classes="viewer-title")
                yield Static(self.number, id="qr-number")
                yield Static("" if fits else t("qr.too_big"), id="qr-warning")
                yield Static(t("qr.recorded", number=self.number), id="qr-recorded")
                yield KeyBar("view", hidden=("view.prev", "view.next"))

    def action_close(self) -> None:
        self.dismiss(True)
