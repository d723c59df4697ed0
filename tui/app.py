"""The till: a Textual app over the store and the printer worker.

The app holds what spans screens: the settings, the printer worker, which
sales are being printed, and the blocking banner. Store calls are small and
run on the UI thread; printing runs on the worker thread and comes back as
PrintStarted / PrintFinished messages.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, List, Optional, Set

from textual.app import App

import themes
from tui import i18n, keymap
from tui.i18n import t
from tui.printer_worker import MAIN, DrawerResult, PrinterHealth, PrintFinished, PrinterWorker, PrintStarted

log = logging.getLogger("chaoying.tui.app")

RETRY_SECONDS = 2.0  # a failed database check of the receipts is tried again after this
WARM_UP_SECONDS = 0.3  # after the first frame: load the modules a scan needs


@dataclass(frozen=True)
class SaleFacts:
    """What the banner says about a sale."""

    number: str
    total: str
    state: str
    reason: str


class ChaoyingApp(App):
    """One till: sale screen, tender, the banner, and one printer worker."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS = keymap.bindings("app") + keymap.bindings("demo") + keymap.bindings("till")

    def __init__(self, settings: Any, demo: Any = None, cashier: str = "",
                 language: Optional[str] = None) -> None:
        self.settings = settings
        self.demo = demo
        self.cashier = cashier  # given here: already signed in (tests, scripts); else the sign-in decides
        self.cashier_name = ""
        self.sign_in_used = False  # the shop has active cashiers: sign-in at start and after a sign-out
        self.language = i18n.resolve_language(language or settings.language)
        i18n.set_language(self.language)
        keymap.configure(getattr(settings, "keys", None) or {})  # checked again here: tests build apps directly
        self.theme_name, self.unknown_theme = themes.choose(settings.theme)
        super().__init__(css_path=themes.css_paths(self.theme_name))
        self.set_keymap(keymap.current())
        # All till themes in one dict; registered before the first CSS parse so it happens once.
        for spec in themes.THEMES.values():
            self.register_theme(spec.theme)
        themes.set_app_theme(self, self.theme_name)  # not `self.theme =`: that parses the CSS twice
        self.ascii_only = themes.THEMES[self.theme_name].ascii
        self.title = t("app.title")
        self.till_id: str = settings.till_id
        self.in_flight: Set[int] = set()
        self.reasons = {}  # sale id -> the reason of its last failed print, in the UI language
        self.worker: Optional[PrinterWorker] = None
        self.sale_screen: Any = None
        self.printer_state = ""  # what the idle printer last said (PrinterHealth); "" = not asked yet
        self.printer_reason = ""

    # ------------------------------------------------------------ start and stop

    def on_mount(self) -> None:
        from tui.screens.sale import SaleScreen

        self.worker = PrinterWorker(self.settings, self.post_message, cashier=self.cashier,
                                    language=lambda: self.language)
        self.worker.start()
        self.sign_in_used = self.cashiers_exist()
        self.set_cashier(self.cashier)
        self.sale_screen = SaleScreen()
        self.push_screen(self.sale_screen)
        if self.sign_in_used and not self.cashier:
            self.ask_sign_in()
        self.warn_unknown_theme()
        self.recover()

    def get_line_filters(self):
        """On the Linux console (linux16) also swap glyphs its fonts lack for ones they have."""
        filters = list(super().get_line_filters())
        if getattr(self, "ascii_only", False):
            from tui.console import ConsoleGlyphs

            if not hasattr(self, "_console_glyphs"):
                self._console_glyphs = ConsoleGlyphs()
            filters.append(self._console_glyphs)
        return filters

    def cashiers_exist(self) -> bool:
        """Does this shop have active cashiers? If the store cannot say, ask who sells anyway."""
        from tui.screens.signin import active_cashiers_exist

        try:
            return active_cashiers_exist()
        except Exception as exc:
            self.store_error(exc)
            return True

    def warn_unknown_theme(self) -> None:
        """An unknown [ui] theme / --theme: the till runs on the fallback and says so, once."""
        if not self.unknown_theme:
            return
        log.warning("unknown theme %r, using %r (themes: %s)", self.unknown_theme, self.theme_name,
                    ", ".join(themes.names()))
        self.notify(t("theme.unknown", name=self.unknown_theme, fallback=self.theme_name,
                      names=", ".join(themes.names())), severity="warning", timeout=8)

    def recover(self) -> None:
        """After a crash: interrupted prints become failed (banner); never-printed sales print now."""
        from store import outcomes

        try:
            recovered = outcomes.recover_interrupted(self.till_id)
            pending = [sale.id for sale in outcomes.unresolved_sales(self.till_id)
                       if self.outcome_of(sale.id).state == "pending"]
        except Exception as exc:  # the database is away: say so, try again shortly
            self.store_error(exc)
            self.set_timer(RETRY_SECONDS, self.recover)
            return
        if recovered:
            log.warning("%d receipts were printing when the till stopped", recovered)
        for sale_id in pending:
            self.print_sale(sale_id)
        self.check_banner()
        self.set_timer(WARM_UP_SECONDS, self.warm_up)

    def warm_up(self) -> None:
        """Import what the first scan and the first sale need while the cashier looks at the screen."""
        import store.catalogue  # noqa: F401
        import store.codes  # noqa: F401
        import store.sales  # noqa: F401

    def store_error(self, exc: Exception) -> None:
        """A database call failed on the UI thread: log it, tell the cashier, keep running."""
        log.error("store error: %s", exc, exc_info=exc)
        self.bell()
        self.notify(t("sale.db_error", error=exc), severity="error", timeout=6)

    def on_unmount(self) -> None:
        self.log_abandoned_payments()
        if self.worker is not None:
            self.worker.stop(timeout=2.0)

    def log_abandoned_payments(self) -> None:
        """Failed payments of a sale that was never finished still go to the event log."""
        from store.money import format_yuan

        tender = getattr(self.sale_screen, "tender", None)
        for payment in getattr(tender, "failed_payments", []):
            self.log_event("payment_failed", detail=f"{payment.method} {format_yuan(payment.amount_fen)} "
                                                    f"{payment.reference} (sale not finished)".strip())

    # ------------------------------------------------------------ store helpers

    def outcome_of(self, sale_id: int) -> Any:
        from store.models import ReceiptOutcome

        return ReceiptOutcome.get(ReceiptOutcome.sale == sale_id)

    def commit_sale(self, basket: Any, tender: Any) -> Any:
        from store.sales import commit_sale

        sale = commit_sale(basket, tender, self.till_id, self.cashier or None)
        log.info("sale %s committed, total %s", sale.receipt_no, sale.total_fen)
        return sale

    def log_event(self, kind: str, detail: str = "", sale: Any = None) -> None:
        from store import outcomes

        try:
            outcomes.log_event(kind, self.till_id, cashier=self.cashier or None, sale=sale, detail=detail)
        except Exception:  # the event log must never stop a sale
            log.exception("could not log event %s", kind)

    def unresolved(self) -> List[Any]:
        from store import outcomes

        return list(outcomes.unresolved_sales(self.till_id))

    def unresolved_count(self) -> int:
        return len(self.unresolved())

    def till_blocked(self) -> bool:
        """True while any sale of this till has no known receipt outcome (or the store cannot say)."""
        if self.in_flight:
            return True
        try:
            return bool(self.unresolved())
        except Exception as exc:
            self.store_error(exc)
            return True

    def sale_facts(self, sale_id: int) -> SaleFacts:
        from store.models import Sale
        from store.money import format_yuan
        from store.sales import format_receipt_no

        sale = Sale.get_by_id(sale_id)
        outcome = self.outcome_of(sale_id)
        reason = self.reasons.get(sale_id) or self.stored_reason(outcome)
        return SaleFacts(format_receipt_no(sale.till_id, sale.receipt_no), format_yuan(sale.total_fen),
                         outcome.state, reason)

    @staticmethod
    def stored_reason(outcome: Any) -> str:
        code = outcome.reason_code or ""
        if code == "interrupted" or outcome.state == "pending":
            return t("reason.interrupted" if code == "interrupted" else "reason.pending")
        from tui.errors import printer_reason

        # stored in the language of the day it failed: say it in today's by its code
        return printer_reason(code, outcome.reason) or t("reason.unknown")

    def receipt(self, sale_id: int) -> Any:
        from store.models import Sale
        from tui.printer_worker import receipt_for_sale

        return receipt_for_sale(Sale.get_by_id(sale_id), self.settings)

    # ------------------------------------------------------------ printing

    def print_sale(self, sale_id: int, printer: str = MAIN, open_drawer: bool = False) -> None:
        """Hand a sale to the printer worker; the answer comes back as messages."""
        self.in_flight.add(sale_id)
        if self.worker is not None:
            self.worker.submit(sale_id, printer, open_drawer)

    def on_print_started(self, message: PrintStarted) -> None:
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(message.sale_id, "printing")
        banner = self.banner_for(message.sale_id)
        if banner is not None:
            banner.show_printing()

    def on_print_finished(self, message: PrintFinished) -> None:
        self.in_flight.discard(message.sale_id)
        state = message.state
        if not state:
            try:
                state = self.outcome_of(message.sale_id).state
            except Exception as exc:
                self.store_error(exc)
                state = "failed"
        reason = "" if message.ok else message.reason(self.language)
        if reason:
            self.reasons[message.sale_id] = reason
        if message.reprint_no:
            from tui.screens.history import reprint_finished

            reprint_finished(self, message, state, reason)
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(message.sale_id, state, reason, message.warning)
        banner = self.banner_for(message.sale_id)
        if banner is not None:
            if state == "failed":
                banner.show_reason(reason or t("reason.unknown"))
            else:
                banner.dismiss(True)
            return
        self.check_banner()

    # ------------------------------------------------------------ the banner

    def banner_for(self, sale_id: int) -> Any:
        from tui.screens.banner import BannerScreen

        for screen in self.screen_stack:
            if isinstance(screen, BannerScreen) and screen.sale_id == sale_id:
                return screen
        return None

    def check_banner(self) -> None:
        """Cover the till with the banner for the oldest failed receipt, if any."""
        from tui.screens.banner import BannerScreen

        if self.signing_in() or any(isinstance(screen, BannerScreen) for screen in self.screen_stack):
            return  # while signing in: the banner comes after, so its choice is recorded with a cashier
        try:
            failed = [sale.id for sale in self.unresolved()
                      if sale.id not in self.in_flight and self.outcome_of(sale.id).state == "failed"]
        except Exception as exc:  # never lose a failed receipt to a database hiccup
            self.store_error(exc)
            self.set_timer(RETRY_SECONDS, self.check_banner)
            return
        if failed:
            self.push_screen(BannerScreen(failed[0]), self.banner_closed)

    def banner_closed(self, _result: Any = None) -> None:
        self.check_banner()

    def resolve_from_banner(self, banner: Any, state: str) -> None:
        """H, Q or D on the banner: record the outcome first, then show what goes with it."""
        from store import outcomes
        from tui.screens.receipt_views import HandwrittenView, QrView

        sale_id = banner.sale_id
        try:
            facts = self.sale_facts(sale_id)
            outcomes.resolve(sale_id, state, cashier=self.cashier or None)
        except outcomes.IllegalTransition as exc:  # resolved elsewhere meanwhile: show what is true now
            log.warning("%s", exc)
            banner.dismiss(True)
            return
        except Exception as exc:
            self.store_error(exc)
            return
        self.reasons.pop(sale_id, None)
        log.info("receipt %s resolved as %s", facts.number, state)
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(sale_id, state)
        if state == "handwritten":
            self.push_screen(HandwrittenView(facts.number, self.receipt_lines(sale_id)),
                             lambda _: banner.dismiss(True))
        elif state == "e_receipt":
            self.push_screen(QrView(facts.number, self.receipt(sale_id)), lambda _: banner.dismiss(True))
        else:
            self.notify(t("decline.recorded", number=facts.number))
            banner.dismiss(True)

    def receipt_lines(self, sale_id: int) -> List[str]:
        """The receipt as the printer would lay it out, for copying by hand."""
        from printing.layout import layout
        from tui.printer_worker import printer_config

        try:
            columns = printer_config(self.settings, MAIN).columns
        except ValueError:
            columns = 48
        return layout(self.receipt(sale_id), columns)

    # ------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        if action in ("paper", "faults"):
            return self.demo is not None
        if action in ("history", "events", "sign_out"):
            return not self.signing_in() and (action != "sign_out" or self.sign_in_used)
        return True

    # ------------------------------------------------------------ cashier sign-in and sign-out

    def hidden_keys(self) -> tuple:
        """Binding ids the key bar and F1 leave out: no sign-out in a shop without cashiers."""
        return () if self.sign_in_used else ("app.sign_out",)

    def signing_in(self) -> bool:
        from tui.screens.signin import SignInScreen

        return any(isinstance(screen, SignInScreen) for screen in self.screen_stack)

    def ask_sign_in(self) -> None:
        from tui.screens.signin import SignInScreen

        self.push_screen(SignInScreen(), self.signed_in)

    def signed_in(self, cashier: Any) -> None:
        """The sign-in screen closed: this cashier sells from now on (None: no cashier left)."""
        self.set_cashier(cashier.code if cashier is not None else "", cashier.name if cashier is not None else "")
        if cashier is not None:
            self.log_event("sign_in", detail=cashier.name)
            log.info("cashier %s signed in", cashier.code)
        else:
            self.sign_in_used = False
        self.check_banner()

    def set_cashier(self, code: str, name: str = "") -> None:
        """Who sells now: the sale, the print attempts, the banner choices and events carry the code."""
        from tui.screens.widgets import TopBar

        self.cashier, self.cashier_name = code, name
        if self.worker is not None:
            self.worker.cashier = code  # only between sales: no print job is in flight
        self.sub_title = t("app.cashier", code=code, name=name).strip() if code else ""
        if self.sale_screen is not None:
            for bar in self.sale_screen.query(TopBar):
                bar.show()

    def action_sign_out(self) -> None:
        """Shift hand-over: back to the sign-in screen, only between sales."""
        from tui.screens.banner import BannerScreen

        screen = self.screen
        sale_screen = self.sale_screen
        basket = getattr(sale_screen, "_basket", None)
        if isinstance(screen, BannerScreen) or self.till_blocked():
            refusal = t("signout.receipt_open")
        elif basket is not None and not basket.is_empty:
            refusal = t("signout.sale_open")
        elif screen is not sale_screen:
            refusal = t("signout.close_first")
        else:
            refusal = ""
        if refusal:
            self.bell()
            self.notify(refusal, severity="warning", timeout=6)
            return
        self.log_abandoned_payments()  # a failed payment of an emptied basket: still this cashier's
        sale_screen.tender = None
        self.log_event("sign_out")
        log.info("cashier %s signed out", self.cashier)
        self.set_cashier("")
        sale_screen.show_basket()  # the next cashier starts on an empty basket, not the last change
        sale_screen.entry.value = ""
        sale_screen.say("")
        self.ask_sign_in()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.push_screen(HelpScreen(self.screen))

    def action_history(self) -> None:
        from tui.screens.browse import open_history

        open_history(self)

    def action_events(self) -> None:
        from tui.screens.browse import open_events

        open_events(self)

    def on_printer_health(self, message: PrinterHealth) -> None:
        """The idle printer's state for the sale screen's status strip."""
        from tui.screens.status import PrinterStrip

        self.printer_state = message.state
        self.printer_reason = message.reason_zh if self.language == "zh" else message.reason_en
        if self.sale_screen is not None:
            for strip in self.sale_screen.query(PrinterStrip):
                strip.show(self.printer_state, self.printer_reason)

    def on_drawer_result(self, message: DrawerResult) -> None:
        """A drawer kicked on its own after a cash receipt failed: if it did not open, say so."""
        if not message.ok:
            self.bell()
            reason = message.reason_zh if self.language == "zh" else message.reason_en
            self.notify(t("drawer.failed", reason=reason), severity="error", timeout=10)

    def action_paper(self) -> None:
        from tui.screens.demo_views import PaperView

        if isinstance(self.screen, PaperView):
            self.screen.dismiss(None)
        elif self.demo is not None:
            self.push_screen(PaperView(self.demo.paper_dir))

    def action_faults(self) -> None:
        from tui.screens.demo_views import FaultMenu

        if isinstance(self.screen, FaultMenu):
            self.screen.dismiss(None)
            return
        if self.demo is None:
            return

        def chosen(name: Optional[str]) -> None:
            if name:
                self.demo.set_fault(name)
                self.notify(t("demo.fault.set", state=t("demo.fault." + name)))

        self.push_screen(FaultMenu(self.demo.fault), chosen)
