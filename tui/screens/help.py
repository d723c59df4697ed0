"""F1: the keys of the screen below, then the keys that work anywhere."""
from __future__ import annotations

from typing import List, Tuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar


def screen_keys(screen) -> List[Tuple[str, str]]:
    """(key as written, i18n label) for every binding of one screen, in its own order."""
    rows: List[Tuple[str, str]] = []
    for binding in getattr(screen, "BINDINGS", []):
        if not isinstance(binding, Binding):
            continue
        if screen.check_action(binding.action.split("(")[0], ()) is False:
            continue  # e.g. B (spare printer) on the banner when none is configured
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
