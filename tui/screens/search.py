"""The product search popup (F2 on the sale screen).

Type part of a name, pinyin (``kekou``), pinyin initials (``kkkl``) or the
start of a code; results follow every keystroke. Up / Down move, Enter
returns the chosen product's barcode, Esc closes with None. The search is
a few index range scans (``store.catalogue.search_products``), well under
a frame, so it runs on the UI thread.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui import i18n

log = logging.getLogger("chaoying.tui.search")

LIMIT = 30

# Own strings until they move into tui/i18n.py (same keys, both languages).
TEXT: Dict[str, Dict[str, str]] = {
    "zh": {
        "search.title": "查找商品",
        "search.placeholder": "商品名、拼音（kekou）、首字母（kkkl）或条码开头",
        "search.hint": "↑↓ 选择  Enter 加入  Esc 关闭",
        "search.none": "没有找到：{text}",
        "search.count": "{count} 个结果",
        "search.more": "{count}+ 个结果，继续输入可缩小范围",
        "search.error": "查找出错：{error}",
    },
    "en": {
        "search.title": "Find a product",
        "search.placeholder": "Name, pinyin (kekou), initials (kkkl) or the start of a code",
        "search.hint": "Up/Down choose  Enter add  Esc close",
        "search.none": "Nothing found for {text}",
        "search.count": "{count} found",
        "search.more": "{count}+ found, type more to narrow",
        "search.error": "Search failed: {error}",
    },
}


def tr(key: str, **values: object) -> str:
    """The till's catalogue when it has the key, else this screen's own."""
    language = i18n.language()
    text = i18n.CATALOGUES.get(language, {}).get(key)
    if text is None:
        text = TEXT.get(language, TEXT["en"]).get(key, key)
    return text.format(**values) if values else text


class SearchScreen(ModalScreen[Optional[str]]):
    """Search as you type; dismisses with the chosen barcode, or None on Esc."""

    BINDINGS = [
        Binding("escape", "close", "Esc", id="search.close"),
        Binding("down", "move(1)", "Down", show=False, id="search.down"),
        Binding("up", "move(-1)", "Up", show=False, id="search.up"),
        Binding("pagedown", "move(10)", "PgDn", show=False, id="search.pagedown"),
        Binding("pageup", "move(-10)", "PgUp", show=False, id="search.pageup"),
    ]
    AUTO_FOCUS = "#search-input"
    DEFAULT_CSS = """
    SearchScreen { align: center top; background: $background 60%; }
    #search-box { width: 76; max-width: 100%; height: auto; max-height: 90%; margin-top: 2;
                  border: thick $accent; background: $surface; padding: 0 1; }
    #search-title { text-style: bold; width: 100%; content-align: center middle; }
    #search-results { height: auto; max-height: 20; border: none; }
    #search-status { color: $text-muted; }
    #search-hint { color: $text-muted; }
    """

    def __init__(self, text: str = "", search=None) -> None:
        super().__init__()
        self.initial = text
        self._search = search
        self.results: List[Dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(tr("search.title"), id="search-title")
            yield Input(value=self.initial, placeholder=tr("search.placeholder"), id="search-input")
            yield OptionList(id="search-results")
            yield Static("", id="search-status")
            yield Static(tr("search.hint"), id="search-hint")

    def on_mount(self) -> None:
        self.query_one("#search-results", OptionList).can_focus = False  # typing never leaves the input
        if self.initial:
            self.update_results(self.initial)

    # ------------------------------------------------------------ searching

    def search(self, text: str) -> List[Dict[str, Any]]:
        if self._search is not None:
            return self._search(text, LIMIT)
        from store.catalogue import search_products

        return search_products(text, limit=LIMIT)

    @on(Input.Changed, "#search-input")
    def input_changed(self, event: Input.Changed) -> None:
        self.update_results(event.value)

    def update_results(self, text: str) -> None:
        status = self.query_one("#search-status", Static)
        options = self.query_one("#search-results", OptionList)
        try:
            self.results = self.search(text) if text.strip() else []
        except Exception as exc:  # a database hiccup must not close the till
            log.exception("search for %r failed", text)
            self.results = []
            status.update(tr("search.error", error=str(exc).split("\n")[0]))
            options.clear_options()
            return
        options.clear_options()
        options.add_options([self._option(product) for product in self.results])
        if self.results:
            options.highlighted = 0
        if not text.strip():
            status.update("")
        elif not self.results:
            status.update(tr("search.none", text=text.strip()))
        elif len(self.results) >= LIMIT:
            status.update(tr("search.more", count=len(self.results)))
        else:
            status.update(tr("search.count", count=len(self.results)))

    @staticmethod
    def _option(product: Dict[str, Any]) -> Option:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(product["name"], style="bold")
        line.append(f"  ￥{product['price']}")
        if product.get("unit"):
            line.append(f"/{product['unit']}")
        line.append(f"  {product['barcode']}", style="dim")
        return Option(line, id=f"p{product['id']}")

    # ------------------------------------------------------------ keys

    def action_move(self, step: int) -> None:
        options = self.query_one("#search-results", OptionList)
        if not options.option_count:
            return
        current = options.highlighted if options.highlighted is not None else -1
        options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#search-input")
    def choose(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#search-results", OptionList)
        index = options.highlighted
        if index is None or not self.results:
            self.app.bell()
            return
        self.dismiss(self.results[index]["barcode"])

    @on(OptionList.OptionSelected, "#search-results")
    def clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.results[event.option_index]["barcode"])

    def action_close(self) -> None:
        self.dismiss(None)
