"""Small widgets shared by the screens: the top bar, the key bar, big amounts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, List, Sequence, Tuple

from rich.text import Text
from textual.widgets import Digits, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost


class TopBar(Static):
    """Title line: app name, till id, the signed-in cashier, demo mark."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        app = self.app
        parts = [t("app.title"), t("app.subtitle", till=app.settings.till.id)]
        if getattr(app, "cashier", ""):
            name = on_screen(app, getattr(app, "cashier_name", ""))
            parts.append(t("app.cashier", code=app.cashier, name=name).strip())
        if getattr(app, "demo", None) is not None:
            parts.append(t("app.demo"))
        self.update("  ".join(parts))


def key_entries(groups: Iterable[str], hidden: Iterable[str] = ()) -> List[Tuple[str, str]]:
    """(key as shown, label) for the keys of some keymap groups, in keymap order."""
    skip = set(hidden)
    return [
        (keymap.display_key(keymap.key_of(key)), t(key.label))
        for group in groups for key in keymap.KEYS[group]
        if key.show and key.id not in skip
    ]


def _joined(entries: Sequence[Tuple[str, str]], gap: str) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for key, label in entries:
        if text:
            text.append(gap)
        text.append(key, style="bold reverse")
        text.append(" " + label)
    return text


def key_text(groups: Iterable[str], hidden: Iterable[str] = (), width: int = 0) -> Text:
    """'F12 付款  F4 删除 ...' for the keys of some keymap groups.

    Given a width, the keys fit it: first with narrower gaps, then the keys
    that do not fit give way to an 'F1 more' hint (F1 lists them all).
    """
    entries = key_entries(groups, hidden)
    if width <= 0:
        return _joined(entries, "  ")
    for gap in ("  ", " "):
        text = _joined(entries, gap)
        if text.cell_len <= width:
            return text
    help_key = keymap.display_key(keymap.key_of(keymap.KEYS["app"][0]))
    more = (help_key, t("key.more"))
    kept = [e for e in entries if e[0] != help_key]
    while kept and _joined(kept + [more], " ").cell_len > width:
        kept.pop()
    return _joined(kept + [more], " ")


class KeyBar(Static):
    """One line naming the keys of the current screen; 'F1 more' when they do not all fit."""

    def __init__(self, *groups: str, hidden: Iterable[str] = (), **kwargs) -> None:
        super().__init__(**kwargs)
        self.groups: List[str] = list(groups)
        self.hidden = list(hidden)

    def _text(self) -> Text:
        groups = [g for g in self.groups if g != "demo" or getattr(self.app, "demo", None) is not None]
        hidden = list(self.hidden) + list(getattr(self.app, "hidden_keys", lambda: ())())
        return key_text(groups, hidden, self.content_size.width)

    def on_mount(self) -> None:
        self.update(self._text())

    def on_resize(self) -> None:
        self.update(self._text())


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
