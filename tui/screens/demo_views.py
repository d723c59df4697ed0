"""Demo only: the virtual printer's paper (F7) and its fault menu (F8)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t
from tui.screens.widgets import KeyBar


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
        body.update(Text(on_screen(self.app, path.read_text(encoding="utf-8", errors="replace")), no_wrap=True))
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


# keys of demo.FAULT_STATES
FAULTS = ("ok", "paper_out", "near_end", "cover_open", "offline", "silent", "no_confirm", "stall")


class FaultMenu(ModalScreen[Optional[str]]):
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
            assert key is not None, name  # every fault has its key in keymap.KEYS
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
