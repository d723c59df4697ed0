"""Every key of the till, in one place, each with an id.

A screen takes its bindings with ``bindings("sale")``; the description of a
binding is an i18n key (the key bar and F1 translate it). Ids let a settings
file remap keys later through ``App.set_keymap`` (issue 5).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    id: str
    key: str
    action: str
    label: str  # i18n key
    show: bool = True
    priority: bool = False


# screen name -> keys, in the order the key bar and F1 show them
KEYS: Dict[str, Tuple[Key, ...]] = {
    "app": (
        # priority: app keys work on modal screens too (the banner, the tender)
        Key("app.help", "f1", "help", "key.help", priority=True),
        Key("app.quit", "ctrl+q", "quit", "key.quit", priority=True),
    ),
    "demo": (
        Key("demo.paper", "f7", "paper", "key.paper", priority=True),
        Key("demo.faults", "f8", "faults", "key.faults", priority=True),
    ),
    "sale": (
        Key("sale.tender", "f12", "tender", "key.tender"),
        Key("sale.search", "f2", "search", "key.search"),
        Key("sale.void", "f4", "void_line", "key.void"),
        Key("sale.up", "up", "cursor_up", "key.up", show=False),
        Key("sale.down", "down", "cursor_down", "key.down", show=False),
        Key("sale.clear", "escape", "clear_entry", "key.clear"),
    ),
    "tender": (
        Key("tender.cash", "f2", "method('cash')", "key.cash"),
        Key("tender.card", "f3", "method('card')", "key.card"),
        Key("tender.wechat", "f4", "method('wechat')", "key.wechat"),
        Key("tender.alipay", "f5", "method('alipay')", "key.alipay"),
        Key("tender.failed", "f6", "payment_failed", "key.pay_failed"),
        Key("tender.back", "escape", "back", "key.back"),
    ),
    "banner": (
        Key("banner.reprint", "r", "reprint", "key.reprint"),
        Key("banner.handwritten", "h", "handwritten", "key.handwritten"),
        Key("banner.qr", "q", "qr", "key.qr"),
        Key("banner.declined", "d", "declined", "key.declined"),
        Key("banner.backup", "b", "backup", "key.backup"),
    ),
    "view": (
        Key("view.close", "escape,enter", "close", "key.close"),
        Key("view.prev", "left", "prev", "key.prev"),
        Key("view.next", "right", "next", "key.next"),
    ),
    "confirm": (
        Key("confirm.yes", "y,enter", "yes", "key.yes"),
        Key("confirm.no", "n,escape", "no", "key.no"),
    ),
    "faults": (
        Key("faults.close", "escape", "close", "key.close"),
    ),
}


def bindings(screen: str) -> List[Binding]:
    """Textual bindings for one screen (description = i18n key)."""
    return [
        Binding(k.key, k.action, k.label, show=k.show, priority=k.priority, id=k.id)
        for k in KEYS[screen]
    ]


def display_key(key: str) -> str:
    """How a key is written for people: F12, Esc, Ctrl+Q, Enter."""
    first = key.split(",")[0]
    names = {"escape": "Esc", "enter": "Enter", "up": "Up", "down": "Down",
             "left": "Left", "right": "Right", "pageup": "PgUp", "pagedown": "PgDn"}
    if first in names:
        return names[first]
    if first.startswith("f") and first[1:].isdigit():
        return first.upper()
    if first.startswith("ctrl+") and len(first) == 6:
        return "^" + first[-1].upper()  # ^Q: the terminal way, and short enough for 80 columns
    if "+" in first:
        return "+".join(part.capitalize() for part in first.split("+"))
    return first.upper() if len(first) == 1 else first
