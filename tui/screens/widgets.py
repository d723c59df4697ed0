"""Small widgets shared by the screens: the top bar and the key bar."""
from __future__ import annotations

from typing import Iterable, List

from rich.text import Text
from textual.widgets import Static

from tui import keymap
from tui.i18n import t


class TopBar(Static):
    """Title line: app name, till id, demo mark."""

    def on_mount(self) -> None:
        app = self.app
        parts = [t("app.title"), t("app.subtitle", till=app.settings.till_id)]
        if getattr(app, "demo", None) is not None:
            parts.append(t("app.demo"))
        self.update("  ".join(parts))


def key_text(groups: Iterable[str], hidden: Iterable[str] = ()) -> Text:
    """'F12 付款  F4 删除 ...' for the keys of some keymap groups."""
    skip = set(hidden)
    text = Text(no_wrap=True, overflow="ellipsis")
    for group in groups:
        for key in keymap.KEYS[group]:
            if not key.show or key.id in skip:
                continue
            if text:
                text.append("  ")
            text.append(keymap.display_key(key.key), style="bold reverse")
            text.append(" " + t(key.label))
    return text


class KeyBar(Static):
    """One line naming the keys of the current screen."""

    def __init__(self, *groups: str, hidden: Iterable[str] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.groups: List[str] = list(groups)
        self.hidden = list(hidden)

    def on_mount(self) -> None:
        groups = [g for g in self.groups if g != "demo" or getattr(self.app, "demo", None) is not None]
        self.update(key_text(groups, self.hidden))
