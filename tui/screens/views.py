"""Viewers and small dialogs: handwritten copy, QR, confirm, help, paper, faults."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar


class HandwrittenView(ModalScreen):
    """The whole receipt, big and plain, to copy onto a handwritten receipt."""

    BINDINGS = [b for b in keymap.bindings("view") if b.action == "close"]
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
                yield Static(Text("\n".join(self.lines), no_wrap=True), id="hand-receipt")
            yield KeyBar("view", hidden=("view.prev", "view.next"))

    def action_close(self) -> None:
        self.dismiss(True)


class QrView(ModalScreen):
    """The receipt as a QR code in half blocks, for the customer's phone."""

    BINDINGS = [b for b in keymap.bindings("view") if b.action == "close"]

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


class ConfirmScreen(ModalScreen):
    """One question, Y or N."""

    BINDINGS = keymap.bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question")
            yield KeyBar("confirm")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_no(self) -> None:
        self.dismiss(False)


def screen_keys(screen) -> List[Tuple[str, str]]:
    """(key as written, i18n label) for every binding of one screen, in its own order."""
    rows: List[Tuple[str, str]] = []
    for binding in getattr(screen, "BINDINGS", []):
        if not isinstance(binding, Binding):
            continue
        if screen.check_action(binding.action.split("(")[0], ()) is False:
            continue  # e.g. B (backup printer) on the banner when none is configured
        key = keymap.by_id(binding.id) if binding.id else None
        keys = keymap.key_of(key) if key is not None else binding.key
        rows.append((keys, key.label if key is not None else binding.description))
    return rows


def _key_rows(text: Text, rows: List[Tuple[str, str]]) -> None:
    for keys, label in rows:
        shown = " / ".join(keymap.display_key(k) for k in keys.split(","))
        text.append(f"  {shown:<14}", style="bold")
        text.append(t(label) + "\n")


def help_text(screen, demo: bool, hidden=()) -> Text:
    """The keys of the screen F1 was pressed on, then the keys that work anywhere (but ``hidden`` ids)."""
    ids = [b.id for b in getattr(screen, "BINDINGS", []) if isinstance(b, Binding) and b.id]
    groups = keymap.help_groups(ids)
    text = Text()
    if "sale" in groups:
        text.append(t("help.entry") + "\n")
    if groups:
        text.append("\n" + t("help.screen." + groups[0]) + "\n", style="bold underline")
        _key_rows(text, screen_keys(screen))
    text.append("\n" + t("help.screen.app") + "\n", style="bold underline")
    for group in keymap.GLOBAL_GROUPS:
        if group == "demo" and not demo:
            continue
        _key_rows(text, [(keymap.key_of(key), key.label) for key in keymap.KEYS[group] if key.id not in hidden])
    return text


class HelpScreen(ModalScreen):
    """F1: every key of the screen below, and the keys that work anywhere."""

    BINDINGS = keymap.bindings("help")
    AUTO_FOCUS = "#help-scroll"

    def __init__(self, screen=None) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="viewer"):
            yield Static(t("help.title"), classes="viewer-title")
            with VerticalScroll(id="help-scroll", classes="viewer-body"):
                yield Static(help_text(self.for_screen, getattr(self.app, "demo", None) is not None,
                                       getattr(self.app, "hidden_keys", lambda: ())()), id="help-text")
            yield KeyBar("help")

    def action_close(self) -> None:
        self.dismiss(None)


class PaperView(ModalScreen):
    """Demo: the virtual printer's paper, latest receipt first."""

    BINDINGS = keymap.bindings("view")
    AUTO_FOCUS = "#paper-scroll"

    def __init__(self, paper_dir: Path) -> None:
        super().__init__()
        self.paper_dir = Path(paper_dir)
        self.files = sorted(self.paper_dir.glob("*.txt"))
        self.index = len(self.files) - 1

    def compose(self) -> ComposeResult:
        with Vertical(id="paper-box", classes="viewer"):
            yield Static("", id="paper-title", classes="viewer-title")
            with VerticalScroll(id="paper-scroll", classes="viewer-body"):
                yield Static("", id="paper-text")
            yield KeyBar("view")

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        title = self.query_one("#paper-title", Static)
        body = self.query_one("#paper-text", Static)
        if not self.files:
            title.update(t("paper.none"))
            body.update(t("paper.folder", path=str(self.paper_dir)))
            return
        path = self.files[self.index]
        title.update(t("paper.title", name=path.name))
        body.update(Text(path.read_text(encoding="utf-8", errors="replace"), no_wrap=True))
        self.query_one("#paper-scroll", VerticalScroll).scroll_home(animate=False)

    def action_prev(self) -> None:
        if self.files and self.index > 0:
            self.index -= 1
            self.show()

    def action_next(self) -> None:
        if self.files and self.index < len(self.files) - 1:
            self.index += 1
            self.show()

    def action_close(self) -> None:
        self.dismiss(None)


FAULTS = ("ok", "paper_out", "near_end", "cover_open", "offline", "silent", "no_confirm")  # keys of demo.FAULT_STATES


class FaultMenu(ModalScreen):
    """Demo: put the virtual printer into a fault (or back to OK)."""

    BINDINGS = keymap.bindings("faults")

    def __init__(self, current: Optional[str] = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        text = Text()
        for name in FAULTS:
            mark = "*" if name == self.current else " "
            key = keymap.by_id(f"faults.{name}")
            text.append(f" {keymap.display_key(keymap.key_of(key))} ", style="bold reverse")
            text.append(f" {mark} {t('demo.fault.' + name)}\n")
        with Vertical(id="faults-box"):
            yield Static(t("demo.fault.title"), classes="viewer-title")
            yield Static(text, id="faults-list")
            yield KeyBar("faults", hidden=[f"faults.{name}" for name in FAULTS])

    def action_fault(self, name: str) -> None:
        self.dismiss(name)

    def action_close(self) -> None:
        self.dismiss(None)
