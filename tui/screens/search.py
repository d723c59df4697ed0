"""The product search popup (F2 on the sale screen).

Type part of a name, pinyin (``kekou``), pinyin initials (``kkkl``) or the
start of a code; results follow every keystroke. Opened with nothing typed,
it lists the catalogue (the first products in pinyin order) to browse. Up / Down move, Enter
returns the chosen product's barcode, Esc closes with None. The search is
a few index range scans (``store.catalogue.search_products``, asked through
``tui.services.products.find_products``); it runs off the UI thread all the
same, so typing never waits. Only the newest search is shown; Enter pressed
before it came chooses when it comes.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import Any, Dict, List, Optional

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker

from tui import keymap
from tui.console import on_screen
from tui.i18n import t

log = logging.getLogger("chaoying.tui.search")

LIMIT = 30


def search_hint() -> str:
    """'Up/Down choose  Enter add  Esc close', with the keys as remapped."""
    def shown(binding_id: str) -> str:
        key = keymap.by_id(binding_id)
        assert key is not None, binding_id  # ids of the search group, defined in keymap.KEYS
        return keymap.display_key(keymap.key_of(key))

    return t("search.hint", updown=f"{shown('search.up')}/{shown('search.down')}",
             enter=keymap.display_key("enter"), close=shown("search.close"))


class SearchAnswer(Message):
    """What a search off the UI thread found (or why it failed)."""

    def __init__(self, asked: int, text: str, results: Optional[List[Dict[str, Any]]] = None,
                 error: Optional[Exception] = None) -> None:
        super().__init__()
        self.asked, self.text, self.results, self.error = asked, text, results or [], error


class SearchScreen(ModalScreen[Optional[str]]):
    """Search as you type; dismisses with the chosen barcode, or None on Esc."""

    BINDINGS = keymap.bindings("search")
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
        self.asked = self.answered = 0  # searches sent off the UI thread / the one shown
        self.choose_when_ready = False

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Static(t("search.title"), id="search-title")
            yield Input(value=self.initial, placeholder=t("search.placeholder"), id="search-input")
            yield OptionList(id="search-results")
            yield Static("", id="search-status")
            yield Static(search_hint(), id="search-hint")

    def on_mount(self) -> None:
        self.query_one("#search-results", OptionList).can_focus = False  # typing never leaves the input
        self.update_results(self.initial)  # nothing typed: the catalogue, to browse with Up and Down

    # ------------------------------------------------------------ searching

    @on(Input.Changed, "#search-input")
    def input_changed(self, event: Input.Changed) -> None:
        from store.money import typed

        self.update_results(typed(event.value))  # ｋｅｋｏｕ and ６９０１ from a Chinese input method

    def update_results(self, text: str) -> None:
        """Search off the UI thread; only the newest answer is shown."""
        self.asked += 1
        self.run_worker(partial(self._search_work, self.asked, text), thread=True, exit_on_error=False,
                        group="search")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from tui.logs import log_failed_worker

        log_failed_worker(event.worker)

    def _search_work(self, asked: int, text: str) -> None:
        from tui.services.products import find_products

        try:
            server = getattr(getattr(self.app, "settings", None), "server", None)  # a shop's server: its stock
            results = find_products(text, LIMIT, self._search, bool(getattr(server, "url", "")))
        except Exception as exc:
            self.post_message(SearchAnswer(asked, text, error=exc))
            return
        self.post_message(SearchAnswer(asked, text, results))

    def on_search_answer(self, message: "SearchAnswer") -> None:
        if message.error is not None:
            self.search_failed(message.asked, message.text, message.error)
        else:
            self.show_results(message.asked, message.text, message.results)

    def search_failed(self, asked: int, text: str, exc: Exception) -> None:
        if asked != self.asked or not self.is_mounted:
            return
        log.error("search for %r failed: %s", text, exc, exc_info=exc)  # a database hiccup must not close the till
        self.results = []
        self.answered = asked
        self.query_one("#search-status", Static).update(t("search.error", error=str(exc).split("\n")[0]))
        self.query_one("#search-results", OptionList).clear_options()

    def show_results(self, asked: int, text: str, results: List[Dict[str, Any]]) -> None:
        if asked != self.asked or not self.is_mounted:
            return  # typed on meanwhile
        self.results = results
        self.answered = asked
        status = self.query_one("#search-status", Static)
        options = self.query_one("#search-results", OptionList)
        options.clear_options()
        options.add_options([self._option(product) for product in self.results])
        if self.results:
            options.highlighted = 0
        if not text.strip():
            status.update(t("search.browse") if self.results else "")
        elif not self.results:
            status.update(t("search.none", text=text.strip()))
        elif len(self.results) >= LIMIT:
            status.update(t("search.more", count=len(self.results)))
        else:
            status.update(t("search.count", count=len(self.results)))
        if self.choose_when_ready:
            self.choose_when_ready = False
            self.choose_highlighted()

    def _option(self, product: Dict[str, Any]) -> Option:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(on_screen(self.app, product["name"]), style="bold")
        line.append("  " + t("money.amount", amount=product["price"]))
        if product.get("unit"):
            line.append("/" + on_screen(self.app, product["unit"]))
        if product.get("on_hand"):
            line.append("  " + t("search.on_hand", qty=on_screen(self.app, product["on_hand"])))
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
        if self.answered != self.asked:  # Enter before the answer: choose when it comes
            self.choose_when_ready = True
            return
        self.choose_highlighted()

    def choose_highlighted(self) -> None:
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
