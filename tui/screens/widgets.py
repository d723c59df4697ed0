"""Small widgets shared by the screens: the top bar, the key bar, big amounts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, List

from rich.text import Text
from textual.widgets import Digits, Static

from tui import keymap
from tui.i18n import t

if TYPE_CHECKING:
    from textual import getters

    from tui.app import ChaoyingApp


class TopBar(Static):
    """Title line: app name, till id, the signed-in cashier, demo mark."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(ChaoyingApp)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        app = self.app
        parts = [t("app.title"), t("app.subtitle", till=app.settings.till.id)]
        if getattr(app, "cashier", ""):
            parts.append(t("app.cashier", code=app.cashier, name=getattr(app, "cashier_name", "")).strip())
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
            text.append(keymap.display_key(keymap.key_of(key)), style="bold reverse")
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
        hidden = list(self.hidden) + list(getattr(self.app, "hidden_keys", lambda: ())())
        self.update(key_text(groups, hidden))


# Seven-segment digits in plain ASCII, 3 rows x 3 columns: what the Linux console can draw.
_ASCII_ROWS = {
    "0": (" _ ", "| |", "|_|"), "1": ("   ", "  |", "  |"), "2": (" _ ", " _|", "|_ "),
    "3": (" _ ", " _|", " _|"), "4": ("   ", "|_|", "  |"), "5": (" _ ", "|_ ", " _|"),
    "6": (" _ ", "|_ ", "|_|"), "7": (" _ ", "  |", "  |"), "8": (" _ ", "|_|", "|_|"),
    "9": (" _ ", "|_|", " _|"), ".": ("  ", "  ", "o "), "-": ("   ", " _ ", "   "),
    " ": ("   ", "   ", "   "),
}


def ascii_digits(value: str) -> List[str]:
    """Three lines drawing value ('12.50') in ASCII seven-segment digits."""
    rows = ["", "", ""]
    for char in value:
        glyph = _ASCII_ROWS.get(char, (" ", char, " "))
        for i in range(3):
            rows[i] += glyph[i]
    return rows


class Amount(Digits):
    """A big amount: Textual's box-drawing digits, or ASCII ones when the theme asks (Linux console)."""

    def _ascii(self) -> bool:
        return bool(getattr(self.app, "ascii_only", False))

    def render(self):
        if not self._ascii():
            return super().render()
        return Text("\n".join(ascii_digits(self.value)), style=self.rich_style, no_wrap=True)

    def get_content_width(self, container, viewport) -> int:
        if not self._ascii():
            return super().get_content_width(container, viewport)
        return len(ascii_digits(self.value)[0])
