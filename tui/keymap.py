"""Every key of the till, in one place, each with an id.

A screen takes its bindings with ``bindings("sale")``; the description of a
binding is an i18n key (the key bar and F1 translate it). The settings
file's ``[keys]`` table remaps binding ids to other keys; ``check`` refuses
unknown ids, key names Textual does not know and collisions on a screen,
``configure`` makes the map current (the app hands it to ``App.set_keymap``)
and ``key_of`` is what the key bar and F1 show.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from textual.binding import Binding, BindingType


class Key(NamedTuple):
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
        # priority so the banner and the tender hear it too: the action itself refuses mid-sale
        Key("app.sign_out", "ctrl+l", "sign_out", "key.sign_out", priority=True),
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
        Key("sale.qty", "f3", "change_qty", "key.qty"),
        Key("sale.hold", "ctrl+g", "hold", "key.hold"),
        Key("sale.held", "ctrl+y", "held", "key.held"),
        Key("sale.line_discount", "f5", "line_discount", "key.line_discount"),
        Key("sale.basket_discount", "f6", "basket_discount", "key.basket_discount"),
        # not on the key bar (80 columns are full): F1 lists it
        Key("sale.price", "ctrl+p", "price_override", "key.price_override", show=False),
        Key("sale.no_sale", "ctrl+o", "no_sale", "key.no_sale", show=False),  # rare: in F1, not the key bar
        Key("sale.refund_no_receipt", "ctrl+t", "refund_without_receipt", "key.refund_no_receipt", show=False),
        # priority: the entry line's Input would take ctrl+x (cut) and ctrl+d (delete right) first; in F1
        Key("sale.cancel", "ctrl+x", "cancel_basket", "key.cancel_basket", show=False, priority=True),
    ),
    "tender": (
        Key("tender.cash", "f2", "method('cash')", "key.cash"),
        Key("tender.card", "f3", "method('card')", "key.card"),
        Key("tender.wechat", "f4", "method('wechat')", "key.wechat"),
        Key("tender.alipay", "f5", "method('alipay')", "key.alipay"),
        Key("tender.failed", "f6", "payment_failed", "key.pay_failed"),
        # the reference field is reached by this key only: Enter never moves there, so a scan stays out of it
        Key("tender.reference", "tab", "reference", "key.reference"),
        Key("tender.back", "escape", "back", "key.back"),
        Key("tender.remove", "ctrl+d", "remove_payment", "key.remove_payment", priority=True),
        Key("tender.cancel", "ctrl+x", "cancel_basket", "key.cancel_basket", priority=True),
        # not on the key bar (Esc must stay visible): the method line says it when 抹零 is on
        Key("tender.round", "ctrl+r", "round", "key.round", show=False),
        # not on the key bar (it is full): the tender says it while the customer confirms
        Key("tender.stop_waiting", "ctrl+s", "stop_waiting", "key.stop_waiting", show=False, priority=True),
        # not on the key bar: the tender says it while a payment code payment gets no answer
        Key("tender.set_aside", "ctrl+g", "set_aside", "key.set_aside", show=False, priority=True),
    ),
    "banner": (
        Key("banner.reprint", "r", "reprint", "key.reprint"),
        Key("banner.handwritten", "h", "handwritten", "key.handwritten"),
        Key("banner.qr", "q", "qr", "key.qr"),
        Key("banner.declined", "d", "declined", "key.declined"),
        Key("banner.came_out", "p", "came_out", "key.came_out"),
        Key("banner.backup", "b", "spare", "key.backup"),
    ),
    "view": (
        Key("view.close", "escape,enter", "close", "key.close"),
        Key("view.prev", "left", "prev", "key.prev"),
        Key("view.next", "right", "next", "key.next"),
    ),
    "confirm": (
        Key("confirm.yes", "y", "yes", "key.yes"),  # not Enter: a scan ends with Enter
        Key("confirm.no", "n,escape", "no", "key.no"),
    ),
    "till": (
        # priority: the history and the event log open over the banner too
        Key("till.history", "f9", "history", "key.history", priority=True),
        Key("till.events", "f10", "events", "key.events", priority=True),
        # priority: an entry line's own ctrl+w (delete a word) must not swallow it
        Key("till.owner", "ctrl+w", "owner", "key.owner", priority=True),
        # not priority: from the sale screen only (check_action), over no dialog
        Key("till.cash", "f11", "cash_menu", "key.cash_menu"),
    ),
    "history": (
        Key("history.reprint", "r", "reprint", "key.reprint_past"),
        Key("history.qr", "q", "qr", "key.qr_again"),
        Key("history.search", "slash", "focus_search", "key.find_receipt"),
        Key("history.up", "up", "cursor(-1)", "key.up", show=False),
        Key("history.down", "down", "cursor(1)", "key.down", show=False),
        Key("history.close", "escape", "close", "key.close"),
        Key("history.refund", "t", "refund", "key.refund"),
        Key("history.void", "v", "void", "key.void_sale"),
        Key("history.refund_again", "p", "refund_again", "key.refund_again"),
    ),
    "events": (
        Key("events.up", "up", "cursor(-1)", "key.up", show=False),
        Key("events.down", "down", "cursor(1)", "key.down", show=False),
        Key("events.detail", "enter", "whole_detail", "key.whole_detail"),
        Key("events.close", "escape", "close", "key.close"),
    ),
    "pin": (
        Key("pin.cancel", "escape", "cancel", "key.back"),
    ),
    "faults": (
        Key("faults.close", "escape", "close", "key.close"),
        Key("faults.ok", "1", "fault('ok')", "demo.fault.ok"),
        Key("faults.paper_out", "2", "fault('paper_out')", "demo.fault.paper_out"),
        Key("faults.near_end", "3", "fault('near_end')", "demo.fault.near_end"),
        Key("faults.cover_open", "4", "fault('cover_open')", "demo.fault.cover_open"),
        Key("faults.offline", "5", "fault('offline')", "demo.fault.offline"),
        Key("faults.silent", "6", "fault('silent')", "demo.fault.silent"),
        Key("faults.no_confirm", "7", "fault('no_confirm')", "demo.fault.no_confirm"),
        Key("faults.stall", "8", "fault('stall')", "demo.fault.stall"),
    ),
    "search": (
        Key("search.close", "escape", "close", "key.close"),
        Key("search.down", "down", "move(1)", "key.down", show=False),
        Key("search.up", "up", "move(-1)", "key.up", show=False),
        Key("search.pagedown", "pagedown", "move(10)", "key.page_down", show=False),
        Key("search.pageup", "pageup", "move(-10)", "key.page_up", show=False),
    ),
    "quit": (
        Key("quit.keep", "k", "keep", "key.keep_basket"),
        Key("quit.cancel", "c", "cancel_basket", "key.cancel_basket"),
        Key("quit.back", "escape", "back", "key.back"),
    ),
    "refund": (
        Key("refund.confirm", "f12", "confirm", "key.refund_confirm"),
        Key("refund.cash", "f3", "all_cash", "key.refund_cash"),
        Key("refund.up", "up", "cursor(-1)", "key.up", show=False),
        Key("refund.down", "down", "cursor(1)", "key.down", show=False),
        Key("refund.cancel", "escape", "cancel", "key.back"),
    ),
    "ask": (
        Key("ask.answer", "enter", "answer", "key.confirm"),
        Key("ask.cancel", "escape", "cancel", "key.back"),
    ),
    "held": (
        Key("held.take", "enter", "take", "key.take_held"),
        Key("held.up", "up", "cursor(-1)", "key.up", show=False),
        Key("held.down", "down", "cursor(1)", "key.down", show=False),
        Key("held.close", "escape", "close", "key.close"),
    ),
    "help": (
        # F1 (app.help) closes the help too
        Key("help.close", "escape,enter", "close", "key.close"),
    ),
    "owner": (
        Key("owner.prev", "left", "day(-1)", "key.prev_day"),
        Key("owner.next", "right", "day(1)", "key.next_day"),
        Key("owner.type_day", "d", "type_day", "key.type_day"),
        Key("owner.all_tills", "a", "all_tills", "key.all_tills"),
        Key("owner.zs", "z", "zs", "key.z_reports"),
        Key("owner.stocktake", "s", "stocktake", "key.stocktake"),
        Key("owner.receive", "g", "receive", "key.receive"),
        Key("owner.close", "escape", "close", "key.close"),
    ),
    "stocktake": (  # 盘点: scan a code, type the count, Enter; F12 applies it with a manager's PIN
        Key("stocktake.whole", "f3", "whole", "key.count_whole"),
        Key("stocktake.finish", "f12", "finish", "key.count_finish"),
        Key("stocktake.close", "escape", "close", "key.close"),
    ),
    "receive": (  # 进货 by scanning: code, quantity, cost, Enter
        Key("receive.close", "escape", "close", "key.close"),
    ),
    "owner_z": (
        Key("owner_z.reprint", "r", "reprint", "key.reprint_z"),
        Key("owner_z.prev", "left", "step(-1)", "key.prev"),
        Key("owner_z.next", "right", "step(1)", "key.next"),
        Key("owner_z.close", "escape", "close", "key.close"),
    ),
    "cash": (  # F11: the shift and the cash drawer
        Key("cash.open", "s", "choose('open')", "key.shift_open"),
        Key("cash.paid_in", "i", "choose('paid_in')", "key.paid_in"),
        Key("cash.paid_out", "o", "choose('paid_out')", "key.paid_out"),
        Key("cash.x", "x", "choose('x')", "key.x_report"),
        Key("cash.z", "z", "choose('z')", "key.z_report"),
        Key("cash.close", "escape", "close", "key.close"),
    ),
    "amount": (  # the amount dialogs: the shift's cash, a discount or a new price
        Key("amount.cancel", "escape", "cancel", "key.back"),
    ),
    "count": (  # the drawer counted per denomination (the float, the Z's count); it hears "amount" keys too
        Key("count.next", "down", "move(1)", "key.next_row", show=False),  # Enter too (the field's own)
        Key("count.prev", "up", "move(-1)", "key.prev_row", show=False),
        Key("count.done", "f12", "done", "key.count_done"),
        Key("count.total", "f2", "one_total", "key.count_total"),
    ),
    "report_failed": (
        Key("report_failed.retry", "r", "retry", "key.retry_print"),
        Key("report_failed.close", "escape", "close", "key.go_on"),
    ),
}


def bindings(screen: str) -> List[BindingType]:
    """Textual bindings for one screen (description = i18n key)."""
    return [
        Binding(k.key, k.action, k.label, show=k.show, priority=k.priority, id=k.id)
        for k in KEYS[screen]
    ]


def display_key(key: str) -> str:
    """How a key is written for people: F12, Esc, Ctrl+Q, Enter."""
    first = key.split(",")[0]
    names = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "up": "Up", "down": "Down",
             "left": "Left", "right": "Right", "pageup": "PgUp", "pagedown": "PgDn", "slash": "/"}
    if first in names:
        return names[first]
    if first.startswith("f") and first[1:].isdigit():
        return first.upper()
    if first.startswith("ctrl+") and len(first) == 6:
        return "^" + first[-1].upper()  # ^Q: the terminal way, and short enough for 80 columns
    if "+" in first:
        return "+".join(part.capitalize() for part in first.split("+"))
    return first.upper() if len(first) == 1 else first


# ---------------------------------------------------------------- remapping ([keys] in the settings)

MODIFIERS = ("ctrl", "shift", "alt", "meta")
# Screens that type text into an input: a plain printable key would be swallowed
# by the input or steal its letters. App (and demo) keys are active on every screen.
TYPING_GROUPS = {"app", "demo", "till", "sale", "tender", "search", "pin", "refund", "ask", "amount", "count",
                 "stocktake", "receive"}
GLOBAL_GROUPS = ("app", "demo", "till")
# A screen that hears another group's keys too (the count dialog goes back on amount.cancel).
SHARED_GROUPS = {"count": ("amount",)}

_overrides: Dict[str, str] = {}


class KeymapError(ValueError):
    """A [keys] table that cannot be used; str() is one sentence naming the id and the key."""

    def __init__(self, message: str, binding_id: str = "") -> None:
        super().__init__(message)
        self.binding_id = binding_id


def by_id(binding_id: str) -> Optional[Key]:
    for group in KEYS.values():
        for key in group:
            if key.id == binding_id:
                return key
    return None


def group_of(binding_id: str) -> Optional[str]:
    for name, group in KEYS.items():
        if any(key.id == binding_id for key in group):
            return name
    return None


def key_of(key: Key) -> str:
    """The key(s) of a binding now: the settings' [keys] override, else the default."""
    return _overrides.get(key.id, key.key)


def current() -> Dict[str, str]:
    """The overrides in force (binding id -> keys), for App.set_keymap."""
    return dict(_overrides)


def configure(overrides: Mapping[str, str]) -> Dict[str, str]:
    """Check the [keys] table and make it the keymap in force; KeymapError if it cannot be used."""
    global _overrides
    _overrides = check(overrides)
    return dict(_overrides)


def _named_keys() -> set:
    from textual.keys import Keys

    return {k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")} - {"ctrl-at", "return"}


def normalise(key: str) -> str:
    """'F11' -> 'f11', 'Ctrl+P' -> 'ctrl+p', '?' -> 'question_mark' (Textual's names)."""
    from textual.keys import _character_to_key

    key = key.strip()
    if len(key) == 1:
        return _character_to_key(key)
    parts = [part.strip() for part in key.split("+")]
    base = parts[-1]
    if len(base) == 1:
        base = _character_to_key(base.lower() if len(parts) > 1 else base)
    else:
        base = base.lower()
    return "+".join([m.lower() for m in parts[:-1]] + [base])


def _character(name: str) -> Optional[str]:
    """The character a key name types ('slash' -> '/'), else None."""
    from textual.keys import REPLACED_KEYS, key_to_character

    return key_to_character(name) or key_to_character(REPLACED_KEYS.get(name, name))


def valid_key(key: str) -> bool:
    """True for a key name Textual can bind: f11, ctrl+p, escape, a, question_mark, shift+tab ..."""

    parts = key.split("+")
    base, mods = parts[-1], parts[:-1]
    if not base or any(m not in MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    return base in _named_keys() or _character(base) is not None


def types_text(key: str) -> bool:
    """True for a key an input would take as typing (a letter, digit, sign, space)."""
    parts = key.split("+")
    if any(m != "shift" for m in parts[:-1]):
        return False
    base = parts[-1]
    return len(base) == 1 or base == "space" or _character(base) is not None


def _keys(value: str) -> List[str]:
    return [normalise(k) for k in value.split(",") if k.strip()]


# Key ids a released till knew by another name: a settings file naming the old id keeps working.
RENAMED = {"discount.cancel": "amount.cancel"}


def check(overrides: Mapping[str, str]) -> Dict[str, str]:
    """Validated overrides (id -> normalised keys); KeymapError (one sentence) on the first problem."""
    import difflib

    result: Dict[str, str] = {}
    ids = [key.id for group in KEYS.values() for key in group]
    for binding_id, value in overrides.items():
        binding_id = RENAMED.get(binding_id, binding_id)  # a settings file written for an older till
        if by_id(binding_id) is None:
            close = difflib.get_close_matches(binding_id, ids, n=1, cutoff=0.6)
            hint = f'; did you mean "{close[0]}"?' if close else " (see the key ids in F1 or tui/keymap.py)."
            raise KeymapError(f'[keys] "{binding_id}" is not a key of the till{hint}', binding_id)
        if not isinstance(value, str) or not _keys(value):
            raise KeymapError(f'[keys] "{binding_id}" must be a key name in quotes, such as "f11".', binding_id)
        keys = _keys(value)
        for key in keys:
            if not valid_key(key):
                raise KeymapError(f'[keys] "{binding_id}" = "{value}": "{key}" is not a key name '
                                  f'(use names such as "f11", "ctrl+p", "escape", "r").', binding_id)
            if types_text(key) and group_of(binding_id) in TYPING_GROUPS:
                raise KeymapError(f'[keys] "{binding_id}" = "{value}": "{key}" would be typed into the entry '
                                  f'line; use a function key or a ctrl+ key.', binding_id)
        if len(set(keys)) != len(keys):
            raise KeymapError(f'[keys] "{binding_id}" = "{value}" names the same key twice.', binding_id)
        result[binding_id] = ",".join(keys)
    _check_collisions(result)
    return result


def _check_collisions(overrides: Mapping[str, str]) -> None:
    """Two ids that would answer the same key on one screen (app keys count on every screen)."""
    screens = [tuple(GLOBAL_GROUPS)] + [(name,) + SHARED_GROUPS.get(name, ()) + GLOBAL_GROUPS
                                        for name in KEYS if name not in GLOBAL_GROUPS]
    for groups in screens:
        owner: Dict[str, Key] = {}
        for group in groups:
            for key in KEYS.get(group, ()):
                for name in _keys(overrides.get(key.id, key.key)):
                    other = owner.get(name)
                    if other is not None and other.id != key.id:
                        mine, theirs = (key, other) if key.id in overrides else (other, key)
                        screen = groups[0] if groups[0] not in GLOBAL_GROUPS else "every"
                        raise KeymapError(
                            f'[keys] "{mine.id}" = "{overrides.get(mine.id, mine.key)}" collides with '
                            f'"{theirs.id}" ({display_key(name)}) on the {screen} screen.', mine.id)
                    owner[name] = key


def help_groups(binding_ids: Iterable[str]) -> List[str]:
    """The keymap groups a screen's bindings come from, in first-seen order."""
    groups: List[str] = []
    for binding_id in binding_ids:
        group = group_of(binding_id)
        if group and group not in groups:
            groups.append(group)
    return groups
