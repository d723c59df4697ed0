"""The till: a Textual app over the till's service (tui/till.py).

The service decides (what to print, which sale needs the banner, what an
outcome change means); the app draws it: the screens, the banner, the
notices. The till never waits: store work runs on thread workers
(``in_background``) whose answers come back as StoreAnswer messages, printing
on the service's printer thread, whose reports come back as TillReport
messages. The one store call left on the UI thread is the scan's barcode
lookup by unique index (tui/screens/sale.py ``lookup``): it keeps scan order
simple. F12 and the banner read what the service knows (``Till.open_receipts``).
"""
from __future__ import annotations

import datetime
import gc
import logging
import time
from functools import partial
from pathlib import PurePath
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Union

from textual import events
from textual.message import Message
from textual.worker import Worker, get_current_worker

import themes
from store import chain, outcomes
from store.db import db
from store.models import Product
from tui import i18n, keymap
from tui.console import ConsoleGlyphs, romanised_receipt
from tui.i18n import t
from tui.screens.host import TillHost
from tui.screens.sale import SaleScreen
from tui.screens.status import sync_problem
from tui.services import payment_aside
from tui.services.basket_saver import BasketSaver
from tui.services.payments.clients import providers_from
from tui.services.sale_session import SaleSession, failed_detail
from tui.services.till import (
    MAIN,
    DrawerResult,
    PrinterHealth,
    PrintFinished,
    PrintStarted,
    Recovery,
    ReportPrinted,
    Till,
)

log = logging.getLogger("chaoying.tui.app")

RETRY_SECONDS = 2.0  # a failed start-up (the database away) is tried again after this
BACKUP_CHECK_SECONDS = 60.0  # how often the till asks whether the daily backup is due
WARM_UP_SECONDS = 0.3  # after the first frame: load the modules a scan needs


class TillReport(Message):
    """A report of the till's printer thread, brought to the UI thread."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class DisplayReport(Message):
    """The customer display stopped working (``trouble``), or the demo's virtual display shows ``shown``."""

    def __init__(self, trouble: str = "", shown: Optional[str] = None) -> None:
        super().__init__()
        self.trouble = trouble
        self.shown = shown


class SyncReport(Message):
    """A new SyncStatus of the sync worker's thread, brought to the UI thread."""

    def __init__(self, status: Any) -> None:
        super().__init__()
        self.status = status


class SharedSettingsReport(Message):
    """New settings (the shop's shared [selling] and [limits] changed on its server), brought to the UI thread."""

    def __init__(self, settings: Any) -> None:
        super().__init__()
        self.settings = settings


class StoreAnswer(Message):
    """The answer of store work run on a thread worker, brought to the UI thread."""

    def __init__(self, done: Callable[[Any], Any], value: Any = None, error: Optional[Exception] = None) -> None:
        super().__init__()
        self.done = done
        self.value = value
        self.error = error


class ChaoyingApp(TillHost):
    """One till: sale screen, tender, the banner, and the till's service (tui/till.py)."""

    ENABLE_COMMAND_PALETTE = False
    BINDINGS = keymap.bindings("app") + keymap.bindings("demo") + keymap.bindings("till")

    def __init__(self, settings: Any, demo: Any = None, cashier: str = "",
                 language: Optional[str] = None, file_settings: Any = None) -> None:
        self.settings = settings
        # the settings file's own, under the shop's shared values (run_till); the follower lays those on it again
        self.file_settings = file_settings if file_settings is not None else settings
        self.demo = demo
        self.cashier = cashier  # given here: already signed in (tests, scripts); else the sign-in decides
        self.cashier_name = ""
        self.sign_in_used = False  # the shop has active cashiers: sign-in at start and after a sign-out
        self.language = i18n.resolve_language(language or settings.ui.language)
        i18n.set_language(self.language)
        keymap.configure(settings.keys)  # checked again here: tests build apps directly
        self.theme_name, self.unknown_theme = themes.choose(settings.ui.theme)
        css_paths: List[Union[str, PurePath]] = list(themes.css_paths(self.theme_name))
        super().__init__(css_path=css_paths)
        self.set_keymap(keymap.current())
        # All till themes in one dict; registered before the first CSS parse so it happens once.
        for spec in themes.THEMES.values():
            self.register_theme(spec.theme)
        themes.set_app_theme(self, self.theme_name)  # not `self.theme =`: that parses the CSS twice
        self.ascii_only = themes.THEMES[self.theme_name].ascii
        self.title = t("app.title")
        self.till_id: str = settings.till.id
        self.till = Till(settings, report=lambda event: self.post_message(TillReport(event)),
                         cashier=cashier, language=lambda: self.language)
        self.basket_saver = BasketSaver(self.till_id, lambda: self.till.cashier,
                                   post=lambda function, *args: self.post_message(StoreAnswer(function, *args)),
                                   trouble=self.basket_trouble)
        self.providers = providers_from(settings)  # which providers are offered; each client loads on first use
        self._payment_desk: Any = None  # built after the first frame (payment_desk)
        self.session = SaleSession(self.till, self.basket_saver, settings, report=self.session_report,
                                   log_event=self.log_event, sign_in_used=lambda: self.sign_in_used)
        self.session.settings_taken = self.settings_taken
        self.refund_desk = make_refund_desk(self.providers, self.till_id, self.refund_report,
                                            lambda function, *args: self.post_message(StoreAnswer(function, *args)))
        self.sale_screen: Any = None
        self.printer_state = ""  # what the idle printer last said (PrinterHealth); "" = not asked yet
        self.printer_reason = ""
        self.started = False  # the start-up store work answered (cashiers, recovery, open receipts)
        self.customer_display = make_customer_display(
            settings, lambda detail: self.post_message(DisplayReport(trouble=detail)))
        self.display_shown = ""  # what the demo's virtual display shows ("" = no virtual display)
        self.last_input = time.monotonic()  # the last key or click: the daily backup waits for an idle till
        self.backup_running = False
        self.backup_warning = ""  # the last backup's warning, shown on the sale screen's title line
        self.backup_day: Optional[datetime.date] = None  # the day the daily backup was made (or tried)
        # [journal] key_file names a key the start could not load (tui.cli.common.load_journal_key): records
        # are written plain; said on the sale screen until a start finds the file
        self.journal_key_missing = settings.journal.key_file if settings.journal.key_file and chain.key_missing() \
            else ""
        self._sync: Any = None  # [server] url: the sync worker (sync), built after the first frame
        self.sync_status: Any = None  # the sync worker's last status: its strip shows from the first one
        self.sync_problem = ""  # the failing sync's sentence last said on the sale screen
        self.settings_follower: Any = None  # tui.services.shared_settings.SharedSettingsFollower, with the worker
        self.local_first: Any = None  # tui.services.local_first.LocalFirst of the start: said once on the screen
        # run_till, [server] url: does the server refuse this till's start (tui.services.sync.repeated_numbers)?
        # Asked on a thread after the first frame, before the start-up work; keys typed meanwhile wait for it.
        self.start_refusal: Optional[Callable[[], str]] = None
        self.refused = ""  # that refusal's sentence: the till ended before selling, run_till says it (exit 2)
        self.signed_out_by = ""  # who signed out with Ctrl+L: the next sign-in is a hand-over from them
        self.shift_asked = False  # the opening float is asked once, at start (after the first sign-in)
        self._shifts: Any = None

    @property
    def shifts(self) -> Any:
        """The shift dialogs (tui.screens.shift.ShiftFlows), loaded when first asked: after the first frame."""
        if self._shifts is None:
            from tui.screens.shift import ShiftFlows

            self._shifts = ShiftFlows(self)
        return self._shifts

    # ------------------------------------------------------------ start and stop

    def on_mount(self) -> None:
        self.till.start()
        self.basket_saver.start()
        self.customer_display.start()
        if self.refund_desk is not None:  # refunds a stop left unsettled are asked again, off the UI thread
            self.refund_desk.start()
        self.watch_demo_display()
        self.set_cashier(self.cashier)
        self.warn_unknown_theme()
        if self.settings.backup.idle_minutes > 0:
            self.set_interval(BACKUP_CHECK_SECONDS, self.maybe_backup)

    def get_default_screen(self) -> SaleScreen:
        """The sale screen is the bottom of the stack: no empty default screen to build and style first."""
        self.sale_screen = SaleScreen(self.session)
        return self.sale_screen

    @property
    def payment_desk(self) -> Any:
        """The payment desk (tui/services/payments/desk.py), the sale session's, built when first asked: after the
        first frame (start_up_after_frame), before the start-up work that may hand it attempts to ask again."""
        if self._payment_desk is None:
            from tui.services.payments.desk import PaymentDesk

            self._payment_desk = PaymentDesk(
                self.till_id, self.providers, subject=self.settings.shop.name,
                report=lambda event: self.session.payment_event(event),
                post=lambda function, *args: self.post_message(StoreAnswer(function, *args)))
            self.session.desk = self._payment_desk
        return self._payment_desk

    def start_up_after_frame(self) -> None:
        self.payment_desk.start()
        if self.start_refusal is not None:  # asked on a thread first; the start-up work follows its answer
            self.in_background(self.start_refusal, self.refusal_told, self.refusal_not_asked, group="start")
        else:
            self.start_up()
        self.start_sync()
        if self.refund_desk is not None:
            self.refund_desk.recover()

    def refusal_told(self, sentence: str) -> None:
        """The answer of ``start_refusal``: a refusal ends the till before it sells (run_till says it, exit 2)."""
        if sentence:
            self.refused = sentence
            self.exit(return_code=2)
            return
        self.start_up()

    def refusal_not_asked(self, exc: Exception) -> None:
        log.warning("till %s: the start's question to the server failed: %s", self.till_id, exc)
        self.start_up()  # the sync worker asks again before its first batch

    @property
    def sync(self) -> Any:
        """With [server] url, the sync worker that sends this till's records up on its own thread
        (tui/services/sync.py), built when first asked: after the first frame (start_sync). None without a server."""
        if self._sync is None:  # make_sync_worker: None without [server] url
            self._sync = make_sync_worker(self.settings, lambda status: self.post_message(SyncReport(status)))
        return self._sync

    def start_sync(self) -> None:
        """With a server, after the first frame: the sync worker's thread starts (its imports and connects never
        share the CPU with the first frame), and the till id claim is checked in the background."""
        if self.sync is None:
            return
        from store import shop_wide

        shop_wide.configure(self.till_id, self.settings.till.shop)  # whom the sync worker's push is for
        self.follow_shared_settings()  # before the worker: its first pull may bring changes made while off
        self.sync.start()
        self.post_message(SyncReport(self.sync.status()))  # its strip shows it at once: connecting
        self.check_till_claim()

    def check_till_claim(self) -> None:
        """With a server: in the background (never holding start-up up), does the server refuse this till's id
        (another till's database claims it)? Said once, as a warning that stays."""
        url = self.settings.server.url
        if url:
            from store import shop_wide

            self.in_background(partial(shop_wide.claim_sentence, url, self.till_id), self.claim_told,
                               lambda exc: log.info("till id claim not checked: %s", exc), group="claim")

    def claim_told(self, sentence: str) -> None:
        if sentence:
            self.notify(t("till.claim_refused", sentence=sentence), severity="error", timeout=60)

    def start_up(self) -> None:
        """Off the UI thread: does the shop have cashiers; recover after a crash; read the open receipts."""
        self.in_background(self._start_up_work, self.started_up, self.start_up_failed, group="start")

    def _start_up_work(self) -> Tuple[bool, bool, Any, Recovery, List[Any], List[Any]]:
        from store import baskets, payment_attempts
        from tui.services.cashiers import active_cashiers_exist

        cashiers = active_cashiers_exist()
        recovery = self.till.recover()  # interrupted prints become failed (banner); never-printed sales print now
        left_open = baskets.open_basket(self.till_id)
        left_attempts = payment_attempts.of_basket(left_open.id) if left_open is not None else []
        aside = payment_aside.found_aside(self.till_id)  # set aside for a provider's answer: asked again
        return cashiers, Product.select().exists(), left_open, recovery, left_attempts, aside

    def started_up(self, answer: Tuple[bool, bool, Any, Recovery, List[Any], List[Any]]) -> None:
        cashiers, products, left_open, recovery, left_attempts, aside = answer
        if self.journal_key_missing:  # first: what follows (a basket back, no products) is said over it
            self.sale_screen.say(t("journal.no_key", file=self.journal_key_missing), error=True)
        if self.local_first is not None and self.local_first.said:  # a [database] url that named PostgreSQL
            self.sale_screen.say(t("sync.local_first", server=self.local_first.server, file=self.local_first.file))
        # a crash or a close with a basket: it comes back as it was (an emptied one is nothing to bring back)
        if left_open is not None and (left_open.basket.items or left_open.payments):
            self.sale_screen.restore(left_open, left_attempts)
        self.session.recover_aside(aside)  # baskets set aside for a provider's answer: settled or asked again
        self.payment_desk.recover()  # the attempts left open are asked first (their basket knows them now)
        if not products:  # a new shop: say where products come from before the first scan fails
            self.sale_screen.say(t("sale.no_products"))
        else:  # after the first frame, with the warm-up: it loads the catalogue module and reads every key
            self.set_timer(WARM_UP_SECONDS, self.refresh_search_keys)
        if recovery.printing:  # sold before the stop, no byte printed: printing now, so the cashier knows whose paper
            self.sale_screen.say(t("restart.printing", count=len(recovery.printing),
                                   numbers=", ".join(recovery.printing)))
        self.started = True
        self.sign_in_used = cashiers
        if cashiers and not self.cashier:
            self.sale_screen.typed_ahead.clear()  # nobody signed in: scans before the sign-in sell nothing
            self.ask_sign_in()
        else:
            self.sale_screen.replay_typed_ahead()
            self.check_shift()
        self.check_banner()
        self.set_timer(WARM_UP_SECONDS, self.warm_up)

    def check_shift(self) -> None:
        """Once, at start (after the sign-in): no open shift on this till -> the opening float is asked."""
        if not self.shift_asked:
            self.shift_asked = True
            self.shifts.check_at_start()

    def action_cash_menu(self) -> None:
        self.shifts.menu()

    def refresh_search_keys(self) -> None:
        """Off the UI thread, in short batches: new search keys for products an older version saved."""
        self.in_background(self._refresh_search_keys_work, lambda renewed: None, self.search_keys_failed,
                           group="search-keys")

    def _refresh_search_keys_work(self) -> int:
        from store.catalogue import refresh_keys

        worker = get_current_worker()
        return refresh_keys(cancelled=lambda: worker.is_cancelled)

    def search_keys_failed(self, exc: Exception) -> None:
        # the older keys still find every product by the start of its name; the next start tries again
        log.warning("could not renew the search keys: %s", exc, exc_info=exc)

    def start_up_failed(self, exc: Exception) -> None:
        self.store_error(exc)  # the database is away: say so, try again shortly
        self.set_timer(RETRY_SECONDS, self.start_up)

    # ------------------------------------------------------------ store work off the UI thread

    def in_background(self, job: Callable[[], Any], done: Callable[[Any], Any],
                      failed: Optional[Callable[[Exception], Any]] = None, group: str = "store") -> None:
        """Run store work ``job()`` on a thread worker; ``done(value)`` or ``failed(error)`` run on the UI thread.

        Not exclusive: a cancelled writer would still write. Readers that only want the newest
        answer (search as you type) number their requests and drop stale answers.
        """
        self.run_worker(partial(self._background, job, done, failed or self.store_error),
                        thread=True, exit_on_error=False, group=group)

    def _background(self, job: Callable[[], Any], done: Callable[[Any], Any],
                    failed: Callable[[Exception], Any]) -> None:

        try:
            with db.connection_context():
                value = job()
        except Exception as exc:
            self.post_message(StoreAnswer(failed, error=exc))
            return
        self.post_message(StoreAnswer(done, value))

    def on_store_answer(self, message: StoreAnswer) -> None:
        message.done(message.error if message.error is not None else message.value)

    # ------------------------------------------------------------ the daily backup, when the till is idle

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def maybe_backup(self) -> None:
        """Once a day, after [backup] idle_minutes without a key: a backup, on a thread worker."""
        today = datetime.date.today()
        idle = time.monotonic() - self.last_input
        if (not self.started or self.backup_running or self.backup_day == today
                or idle < self.settings.backup.idle_minutes * 60):
            return
        self.backup_running = True
        self.in_background(self.till.daily_backup, self.backup_done, self.backup_failed, group="backup")

    def backup_after_z(self) -> None:
        """A Z closed the shift: back the day up now (on a thread worker), whatever the idle clock says."""
        if self.backup_running:
            return
        self.backup_running = True
        self.in_background(self.till.backup, self.backup_done, self.backup_failed, group="backup")

    def backup_done(self, warnings: List[str]) -> None:
        self.backup_running, self.backup_day = False, datetime.date.today()
        self.show_backup_warning(t("backup.strip_second") if warnings else "")
        if warnings and self.sale_screen is not None:
            self.sale_screen.say(t("backup.second_failed", reason=warnings[0]), error=True)

    def backup_failed(self, exc: Exception) -> None:
        log.warning("the daily backup failed: %s", exc, exc_info=exc)
        self.backup_running, self.backup_day = False, datetime.date.today()  # tried again tomorrow
        self.show_backup_warning(t("backup.strip_failed"))
        if self.sale_screen is not None:
            self.sale_screen.say(t("backup.failed", reason=str(exc)), error=True)

    def show_backup_warning(self, warning: str) -> None:
        """On the status line until a backup works again: a warning, never a stop."""
        self.backup_warning = warning
        if self.sale_screen is not None and self.sale_screen.is_mounted:
            self.sale_screen.show_backup(warning)

    # ------------------------------------------------------------ exceptions nobody caught

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from tui.logs import log_failed_worker

        log_failed_worker(event.worker)

    def _handle_exception(self, error: Exception) -> None:
        # Textual ends the app and prints the traceback on a terminal that is about to be
        # cleared or closed: the log file is where a shop owner's report can be read.
        log.critical("unhandled exception, the till stops: %r", error, exc_info=error)
        super()._handle_exception(error)

    def get_line_filters(self):
        """On the Linux console (linux16) also swap glyphs its fonts lack for ones they have."""
        filters = list(super().get_line_filters())
        if getattr(self, "ascii_only", False):

            if not hasattr(self, "_console_glyphs"):
                self._console_glyphs = ConsoleGlyphs()
            filters.append(self._console_glyphs)
        return filters

    def warn_unknown_theme(self) -> None:
        """An unknown [ui] theme / --theme: the till runs on the fallback and says so, once."""
        if not self.unknown_theme:
            return
        log.warning("unknown theme %r, using %r (themes: %s)", self.unknown_theme, self.theme_name,
                    ", ".join(themes.names()))
        self.notify(t("theme.unknown", name=self.unknown_theme, fallback=self.theme_name,
                      names=", ".join(themes.names())), severity="warning", timeout=8)

    def on_ready(self) -> None:
        if not gc.isenabled():  # chaoying run / demo (tui.cli.main) built the till with collections off:
            gc.freeze()  # what start-up made stays for good, out of every later collection's walk
            gc.enable()
        # The first frame is on screen: the start-up store work begins after it (its imports and queries, on
        # threads, would share the CPU with drawing it). Keys typed before it answers wait for it, as before.
        self.call_after_refresh(self.start_up_after_frame)

    def warm_up(self) -> None:
        """Import what the first scan and the first sale need while the cashier looks at the screen."""
        import store.catalogue  # noqa: F401
        import store.codes  # noqa: F401
        import store.sales  # noqa: F401

    def store_error(self, exc: Exception) -> None:
        """Store work failed: log it, tell the cashier, keep running."""
        log.error("store error: %s", exc, exc_info=exc)
        self.bell()
        self.notify(t("sale.db_error", error=exc), severity="error", timeout=6)

    def on_unmount(self) -> None:
        if not (self.sale_screen is not None and self.sale_screen.sale_open()):  # a kept basket keeps them
            self.log_abandoned_payments(closing=True)
        if self._payment_desk is not None:
            self._payment_desk.stop(timeout=2.0)
        if not self.basket_saver.stop(timeout=2.0):
            log.error("the till closed before the open basket was stored")
        self.till.stop(timeout=2.0)
        self.customer_display.stop()
        if self.refund_desk is not None:
            self.refund_desk.stop(timeout=2.0)
        if self.settings_follower is not None:
            self.settings_follower.stop()
        if self._sync is not None and not self._sync.stop(timeout=3.0):
            log.warning("the sync worker was still in a round when the till closed; what it sent is marked "
                        "at the next start")

    # ------------------------------------------------------------ the shop's server

    def on_sync_report(self, message: SyncReport) -> None:
        """The sync worker's new status: the strip renders it; a new failing sentence is said once."""
        self.sync_status = message.status
        if self.sale_screen is None or not self.sale_screen.is_mounted:
            return
        self.sale_screen.show_sync(message.status)
        problem = sync_problem(message.status)
        if problem and problem != self.sync_problem:
            self.sale_screen.say(problem, error=True)
        self.sync_problem = problem

    def follow_shared_settings(self) -> None:
        """The shop's shared [selling] and [limits] values flow down while the till runs: each pull that changed
        them (on the sync thread) posts the new settings here (``on_shared_settings_report``)."""
        from tui.services.shared_settings import SharedSettingsFollower

        self.settings_follower = SharedSettingsFollower(
            self.file_settings, lambda settings: self.post_message(SharedSettingsReport(settings))).start()

    def on_shared_settings_report(self, message: SharedSettingsReport) -> None:
        """New shared settings: in use at once, or, while a basket is being paid, when that basket ends (never in
        the middle of a tender: SaleSession.follow_settings; ``session_report`` hears the basket end)."""
        if not self.session.follow_settings(message.settings):
            log.info("till %s: the shop's shared settings changed; in use when the basket being paid ends",
                     self.till_id)

    def settings_taken(self, settings: Any) -> None:
        """The session put new settings in use (on the UI thread): the app's and the till's are the same."""
        from tui.services.shared_settings import changes

        before, self.settings = self.settings, settings
        self.till.settings = settings
        log.info("till %s: the shop's shared settings are in use now: %s", self.till_id,
                 ", ".join(changes(before, settings)) or "no value changed")

    # ------------------------------------------------------------ the customer display

    def watch_demo_display(self) -> None:
        """The demo's virtual display: its picture on a strip of the sale screen."""
        virtual = getattr(self.demo, "display", None)
        if virtual is None:
            return
        self.display_shown = virtual.text()
        virtual.on_change = lambda _screen: self.post_message(DisplayReport(shown=virtual.text()))

    def on_display_report(self, message: DisplayReport) -> None:
        if message.shown is not None:
            self.display_shown = message.shown
            if self.sale_screen is not None:
                self.sale_screen.show_display(message.shown)
            return
        log.warning("customer display: %s", message.trouble)
        if self.sale_screen is not None:
            self.sale_screen.say(t("display.failed", detail=message.trouble), error=True)

    def basket_trouble(self, error: Optional[Exception]) -> None:
        """The open basket could not be stored (None: it can again); the cashier sees it on the sale screen."""
        if self.sale_screen is not None:
            self.sale_screen.say(t("sale.basket_not_stored", error=error) if error is not None
                                 else t("sale.basket_stored_again"), error=error is not None)

    def log_abandoned_payments(self, closing: bool = False) -> None:
        """Failed payments of a sale that was never finished still go to the event log."""
        for payment in self.session.failed_payments():
            detail = failed_detail(payment)
            if closing:  # the till is closing: no worker would live to write it, and nobody waits now
                self.till.log_event("payment_failed", detail=detail.strip())
            else:
                self.log_event("payment_failed", detail=detail.strip())

    # ------------------------------------------------------------ what the screens ask of the till

    @property
    def in_flight(self) -> Set[int]:
        """Sales handed to the printer whose answer the UI has not seen yet."""
        return self.till.in_flight

    def log_event(self, kind: str, detail: str = "", sale: Any = None) -> None:
        """Append to the event log off the UI thread; never raises (the event log must never stop a sale)."""
        # the cashier now: a sign-out changes it before the worker writes
        self.in_background(partial(self.till.log_event, kind, detail=detail, sale=sale, cashier=self.till.cashier),
                           _ignore, _ignore, group="events")

    def unresolved_count(self) -> int:
        return self.till.unresolved_count()

    def till_blocked(self) -> bool:
        """True while any sale of this till has no known receipt outcome (what the service knows: no query)."""
        return self.till.blocked()

    # ------------------------------------------------------------ printing

    def print_sale(self, sale_id: int, printer: str = MAIN, open_drawer: bool = False) -> None:
        """Hand a sale to the till's printer thread; the answer comes back as TillReport messages."""
        self.till.print_sale(sale_id, printer, open_drawer)
        if self._sync is not None:
            self._sync.notify()  # committed: the sync worker sends it without waiting for its next poll

    def refund_report(self, event: Any) -> None:
        """The refund desk's answer (on the UI thread): one sentence; a refusal stays longer, and histories read
        again so the receipt's detail says it."""
        from tui.screens.history import refresh_histories
        from tui.services.payments.refunds import RefundRefused, event_text

        refused = isinstance(event, RefundRefused)
        if refused:
            self.bell()
        self.notify(event_text(event), severity="error" if refused else "information", timeout=15 if refused else 6)
        refresh_histories(self)

    def session_report(self, event: Any) -> None:
        """The sale session's answer (on the UI thread: the basket saver posts it here). A basket that ended puts
        settings waiting for it in use."""
        if self.sale_screen is not None:
            self.sale_screen.session_event(event)
        self.session.take_waiting_settings()

    def on_till_report(self, message: TillReport) -> None:
        handlers: Dict[type, Callable[[Any], None]] = {
            PrintStarted: self.print_started, PrintFinished: self.print_finished,
            PrinterHealth: self.printer_health, DrawerResult: self.drawer_result,
            ReportPrinted: self.shifts.printed}
        handlers[type(message.event)](message.event)

    def print_started(self, event: PrintStarted) -> None:
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(event.sale_id, outcomes.PRINTING)
        banner = self.banner_for(event.sale_id)
        if banner is not None:
            banner.show_printing()

    def print_finished(self, event: PrintFinished) -> None:
        from tui.screens.history import refresh_histories, reprint_finished

        reason = self.till.settle(event)
        if event.reprint_no:
            reprint_finished(self, event, event.state, reason)  # says so and refreshes the history
        else:
            refresh_histories(self)  # a refund's or void's receipt (or a sale's) printed or failed: no stale row
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(event.sale_id, event.state, reason, event.warning)
        banner = self.banner_for(event.sale_id)
        if banner is not None:
            if event.state == outcomes.FAILED:
                banner.show_reason(reason or t("reason.unknown"), event.code)
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
        """Cover the till with the banner for the sale the till says needs it, if any."""
        from tui.screens.banner import BannerScreen

        if not self.started or self.signing_in() or any(isinstance(s, BannerScreen) for s in self.screen_stack):
            return  # while starting or signing in: the banner comes after, its choice recorded with a cashier
        sale_id = self.till.banner_sale()  # what the service knows: no query on the UI thread
        if sale_id is not None:
            self.push_screen(BannerScreen(sale_id), self.banner_closed)

    def banner_closed(self, _result: Any = None) -> None:
        self.check_banner()

    def resolve_from_banner(self, banner: Any, state: str) -> None:
        """H, Q, D or P on the banner: record the outcome first (off the UI thread), then show what goes with it."""
        sale_id = banner.sale_id
        banner.resolving = True
        self.in_background(partial(self._resolve_work, sale_id, state),
                           partial(self.resolved, banner, state), partial(self.resolve_failed, banner),
                           group="resolve")

    def _resolve_work(self, sale_id: int, state: str) -> Any:
        facts = self.till.resolve(sale_id, state)
        if state == outcomes.HANDWRITTEN:
            return facts, self.handwritten_lines(sale_id)
        if state == outcomes.E_RECEIPT:
            return facts, self.till.receipt(sale_id)
        return facts, None

    def handwritten_lines(self, sale_id: int) -> List[str]:
        """The receipt laid out to copy by hand. On the Linux console in pinyin with English labels, laid out
        so (romanised after a Chinese layout, its columns would not line up), and ￥ as " ¥" (two columns too)."""
        if not self.ascii_only:
            return self.till.receipt_lines(sale_id)
        from printing.layout import YUAN

        return [line.replace(YUAN, " ¥") for line in self.till.receipt_lines(sale_id, romanised_receipt)]

    def resolved(self, banner: Any, state: str, answer: Any) -> None:
        from tui.screens.history import refresh_histories
        from tui.screens.receipt_views import HandwrittenView, QrView

        facts, shown = answer
        sale_id = banner.sale_id
        refresh_histories(self)  # a history under the banner shows the new outcome
        if self.sale_screen is not None:
            self.sale_screen.receipt_status(sale_id, state)
        if state == outcomes.HANDWRITTEN:
            self.push_screen(HandwrittenView(facts.number, shown), lambda _: banner.dismiss(True))
        elif state == outcomes.E_RECEIPT:
            self.push_screen(QrView(facts.number, shown), lambda _: banner.dismiss(True))
        elif state == outcomes.PRINTED:
            self.notify(t("banner.came_out_recorded", number=facts.number))
            banner.dismiss(True)
        else:
            self.notify(t("decline.recorded", number=facts.number))
            banner.dismiss(True)

    def resolve_failed(self, banner: Any, exc: Exception) -> None:
        banner.resolving = False
        if isinstance(exc, outcomes.IllegalTransition):  # resolved elsewhere meanwhile: show what is true now
            log.warning("%s", exc)

            def known(read: Any) -> None:
                self.till.know(read)
                banner.dismiss(True)

            self.in_background(self.till.read_open_receipts, known, group="open-receipts")
            return
        self.store_error(exc)

    # ------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        if action in ("paper", "faults"):
            return self.demo is not None
        if action == "cash_menu":
            return self.started and self.screen is self.sale_screen
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
            if self.signed_out_by:  # a hand-over inside the shift (Ctrl+L): the store records who to whom
                self.in_background(partial(self._record_handover, self.signed_out_by, cashier.code),
                                   _ignore, self.handover_failed, group="shift")
        else:
            self.sign_in_used = False
        self.signed_out_by = ""
        self.check_shift()
        self.check_banner()

    def _record_handover(self, from_cashier: str, to_cashier: str) -> Any:
        from store.shifts import record_handover

        return record_handover(self.till_id, from_cashier, to_cashier)

    def handover_failed(self, exc: Exception) -> None:
        log.error("could not record the hand-over: %s", exc, exc_info=exc)
        self.store_error(exc)

    def set_cashier(self, code: str, name: str = "") -> None:
        """Who sells now: the sale, the print attempts, the banner choices and events carry the code."""
        self.cashier, self.cashier_name = code, name
        self.till.cashier = code  # only between sales: no print job is in flight
        self.sub_title = t("app.cashier", code=code, name=name).strip() if code else ""
        if self.sale_screen is not None:
            self.sale_screen.show_cashier()

    def action_sign_out(self) -> None:
        """Shift hand-over: back to the sign-in screen, only between sales."""
        from tui.screens.banner import BannerScreen

        screen = self.screen
        sale_screen = self.sale_screen
        if isinstance(screen, BannerScreen) or self.till_blocked():
            refusal = t("signout.receipt_open")
        elif sale_screen.sale_open():
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
        self.log_event("sign_out")
        log.info("cashier %s signed out", self.cashier)
        self.signed_out_by = self.cashier
        self.set_cashier("")
        sale_screen.hand_over()
        self.ask_sign_in()

    async def action_quit(self) -> None:
        """Ctrl+Q: never drops a basket silently; with one open, ask: keep it for the next start, cancel it, back."""
        from tui.screens.abandon import CANCEL, KEEP, QuitScreen

        if isinstance(self.screen, QuitScreen):
            return
        if not self.session.basket_open():
            self.exit()
            return

        def chosen(choice: Optional[str]) -> None:
            if choice == KEEP:
                log.info("closing with the open basket kept for the next start")
                self.exit()  # on_unmount waits for the basket saver to store it
            elif choice == CANCEL:
                self.sale_screen.then_quit = True  # the till closes once the basket has ended
                self.session.cancel()

        self.push_screen(QuitScreen(self.session.taken(), can_cancel=not self.signing_in()), chosen)

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

    def action_owner(self) -> None:
        from tui.screens.owner import open_owner

        open_owner(self)

    def print_report(self, name: str, lines: List[str], done: Optional[Callable[[Any], Any]] = None) -> None:
        """Print a report (a Z's lines) on the till's printer, in turn with the receipts; ``done(ReportPrinted)``
        runs on the UI thread."""
        self.till.print_report(name, lines, lambda answer: self.post_message(StoreAnswer(done or _ignore, answer)))

    def printer_health(self, event: PrinterHealth) -> None:
        """The idle printer's state for the sale screen's status strip."""
        self.printer_state = event.state
        self.printer_reason = event.reason_zh if self.language == "zh" else event.reason_en
        if self.sale_screen is not None:
            self.sale_screen.show_printer(self.printer_state, self.printer_reason)

    def drawer_result(self, event: DrawerResult) -> None:
        """A drawer kicked on its own after a cash receipt failed: if it did not open, say so."""
        if not event.ok:
            self.bell()
            reason = event.reason_zh if self.language == "zh" else event.reason_en
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


def make_sync_worker(settings: Any, on_change: Callable[[Any], Any]) -> Any:
    """The sync worker when [server] url names the shop's server; else None (the module is not even loaded)."""
    if not settings.server.url:
        return None
    from tui.services.sync import SyncWorker

    return SyncWorker(settings.server.url, settings.till.id, settings.till.shop, on_change=on_change)


def make_refund_desk(providers: Any, till_id: str, report: Callable[[Any], Any], post: Callable[..., Any]) -> Any:
    """The refund desk over the payment desk's providers when one is set up ([payments.wechat], [payments.alipay]);
    else None."""
    if not any(providers.offers(name) for name in ("wechat", "alipay")):
        return None  # as desk_from says; a till without providers never loads the refunds module
    from tui.services.payments.refunds import desk_from

    return desk_from(providers, till_id, report, post)


class NoDisplay:
    """[display] kind "none": a Display that shows nothing (what printing.customer_display.Display does then)."""

    enabled = False
    failed = False

    def start(self) -> "NoDisplay":
        return self

    def stop(self) -> None:
        pass

    def show_item(self, name: str, price_fen: int) -> None:
        pass

    def show_total(self, total_fen: int) -> None:
        pass

    def show_welcome(self) -> None:
        pass

    def show_paid_change(self, paid_fen: int, change_fen: int) -> None:
        pass


def make_customer_display(settings: Any, on_trouble: Callable[[str], Any]) -> Any:
    """The till's customer display (printing.customer_display.Display) from the [display] settings."""
    d = settings.display
    if d.kind == "none":  # no display: nothing to drive, and printing's encoder stays unloaded until a print
        return NoDisplay()
    from printing.customer_display import Display, DisplayConfig

    config = DisplayConfig(kind=d.kind, port=d.port, baudrate=d.baudrate, encoding=d.encoding,
                           language=settings.receipt.language)
    return Display(config, on_trouble)


def _ignore(_value: Any) -> None:
    """An answer nobody waits for (the event log logs its own failures)."""
