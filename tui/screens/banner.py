"""The blocking banner: a receipt was not confirmed; one key resolves it.

Esc does nothing here. The banner stays until the receipt outcome of the sale
is printed, handwritten, e_receipt or declined.
"""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Optional

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store import outcomes
from tui import keymap
from tui.i18n import t
from tui.screens.widgets import KeyBar
from tui.services.till import SPARE, UNSEEN_BY_STATUS, SaleFacts

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost


class BannerScreen(ModalScreen[bool]):
    """Covers the till for one unresolved sale."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("banner")

    def __init__(self, sale_id: int) -> None:
        super().__init__()
        self.sale_id = sale_id
        self.busy = False
        self.resolving = False  # H, Q or D is being recorded (off the UI thread): no second choice
        self.tries = 0  # print attempts of this receipt so far: "still out of paper, try 2"

    def compose(self) -> ComposeResult:
        hidden = () if self.app.settings.spare_printer else ("banner.backup",)
        with Vertical(id="banner-box"):
            yield Static(t("banner.title"), id="banner-title")
            with Grid(id="banner-facts"):
                yield Static(t("banner.receipt_no"), classes="fact-label")
                yield Static("", id="banner-number", classes="fact-value")
                yield Static(t("banner.total"), classes="fact-label")
                yield Static("", id="banner-total", classes="fact-value")
                yield Static(t("banner.paid"), classes="fact-label")
                yield Static("", id="banner-paid", classes="fact-value")
                yield Static(t("banner.change"), classes="fact-label")
                yield Static("", id="banner-change", classes="fact-value")
                yield Static(t("banner.reason"), classes="fact-label")
                yield Static("", id="banner-reason", classes="fact-value")
            yield Static("", id="banner-status")
            yield Static("", id="banner-more")
            yield KeyBar("banner", hidden=hidden, id="banner-keys")

    def on_mount(self) -> None:
        self.refresh_facts()

    def refresh_facts(self) -> None:
        """Read the sale's facts off the UI thread; show them when they come."""
        self.app.in_background(partial(self.app.till.sale_facts, self.sale_id), self.show_facts,
                               self.facts_failed, group="banner")

    def facts_failed(self, exc: Exception) -> None:
        self.app.store_error(exc)  # keep the banner up, say why the facts are missing
        if self in self.app.screen_stack:
            self.set_timer(2.0, self.refresh_facts)

    def show_facts(self, facts: SaleFacts) -> None:
        if self not in self.app.screen_stack:
            return
        self.show_title(facts.reason_code)
        more = self.app.unresolved_count() - 1
        self.tries = max(self.tries, facts.tries)
        self.query_one("#banner-number", Static).update(facts.number)
        self.query_one("#banner-total", Static).update(t("money.amount", amount=facts.total))
        self.query_one("#banner-paid", Static).update(t("money.amount", amount=facts.paid))
        self.query_one("#banner-change", Static).update(t("money.amount", amount=facts.change))
        self.query_one("#banner-reason", Static).update(facts.reason)
        self.query_one("#banner-more", Static).update(t("banner.more", count=more) if more > 0 else "")

    def show_title(self, reason_code: str) -> None:
        """The title says what is known: not printed, or printed without the printer's confirmation."""
        key = "banner.title_not_confirmed" if reason_code in UNSEEN_BY_STATUS else "banner.title"
        self.query_one("#banner-title", Static).update(t(key))

    def show_reason(self, reason: str, reason_code: str = "") -> None:
        """A print of this receipt failed again: the reason, and that it is still so after this many tries."""
        self.busy = False
        self.show_title(reason_code)
        self.tries += 1
        shown = self.query_one("#banner-reason", Static)
        same = str(shown.render()) == reason
        shown.update(reason)
        key = "banner.still" if same else "banner.try_failed"
        self.query_one("#banner-status", Static).update(t(key, reason=reason, count=self.tries))

    def on_key(self, event: events.Key) -> None:
        """A key the banner does not use (a scan, a typed number) goes nowhere: say why, once per line."""
        if event.key in self.active_bindings or not (event.is_printable or event.key == "enter"):
            return
        self.query_one("#banner-status", Static).update(t("banner.keys_dropped"))

    def show_printing(self) -> None:
        self.busy = True
        self.query_one("#banner-status", Static).update(t("banner.printing"))

    def check_action(self, action: str, parameters: tuple) -> bool:
        if action == "spare" and not self.app.settings.spare_printer:
            return False
        return True

    def _blocked(self) -> bool:
        if self.resolving:
            return True
        if self.busy:
            self.query_one("#banner-status", Static).update(t("banner.busy"))
            self.app.bell()
        return self.busy

    def action_reprint(self) -> None:
        if not self._blocked():
            self.show_printing()
            self.app.print_sale(self.sale_id)

    def action_spare(self) -> None:
        if not self._blocked():
            self.show_printing()
            self.app.print_sale(self.sale_id, printer=SPARE)

    def action_handwritten(self) -> None:
        if not self._blocked():
            self.app.resolve_from_banner(self, outcomes.HANDWRITTEN)

    def action_qr(self) -> None:
        if not self._blocked():
            self.app.resolve_from_banner(self, outcomes.E_RECEIPT)

    def action_came_out(self) -> None:
        """The cashier holds the paper though the printer did not confirm it: after Y, printed, evidence cashier."""
        self.ask_then(t("banner.came_out_question", number=self.number()), outcomes.PRINTED)

    def number(self) -> str:
        return str(self.query_one("#banner-number", Static).render())

    def ask_then(self, question: str, state: str) -> None:
        """Y records ``state`` (a cashier's word: never one unconfirmed key), N or Esc changes nothing."""
        from tui.screens.confirm import ConfirmScreen

        if self._blocked():
            return

        def answered(yes: Optional[bool]) -> None:
            if yes:
                self.app.resolve_from_banner(self, state)

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_declined(self) -> None:
        self.ask_then(t("decline.question", number=self.number()), outcomes.DECLINED)
