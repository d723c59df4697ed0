"""The shift at the till: the opening float, paid in / paid out, the X report and the Z close (F11).

Every store call runs off the UI thread (``app.in_background``) through
tui.services.shifts; the store (store.shifts, store.reports) decides and
refuses, this module asks and says.
The float and the Z's count are counted per denomination (tui.screens.count;
F2 there types one total instead) and stored with their counts. The drawer
opens when the float goes in and for each paid in or out ([printer] drawer);
the store logs the opening, the moves and the Z as events.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from store.errors import StoreError
from tui import keymap
from tui.console import on_screen
from tui.i18n import brief, t, yuan
from tui.screens.ask import AmountScreen, Reason, Refused
from tui.screens.count import CountScreen
from tui.screens.widgets import KeyBar
from tui.services import shifts
from tui.services.shifts import Count

if TYPE_CHECKING:
    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.shift")

Z_REPORT = "z"


def cash_amount(text: str, zero: bool = True) -> int:
    """A typed amount of cash in fen; Refused (one sentence) when it is not one, or 0 and ``zero`` is False."""
    from store.money import parse_yuan

    try:
        amount = parse_yuan(text)
    except ValueError as exc:
        if getattr(exc, "code", "") == "amount_too_large":  # said as the tender says it
            from tui.screens.tender import amount_refused

            raise Refused(amount_refused(exc, text)) from None
        raise Refused(t("shift.bad_amount", text=brief(text))) from None
    if amount < 0 or (amount == 0 and not zero):
        raise Refused(t("shift.amount_above_zero"))
    return amount


def ask_cash(title: str, note: str, reason: bool = False) -> AmountScreen:
    """The float, the count (0 will do) or a cash move (above zero, and why)."""
    why = Reason(t("shift.reason_placeholder"), t("shift.reason_needed")) if reason else None
    return AmountScreen(title, placeholder=t("shift.amount_placeholder"), note=note,
                        parse=partial(cash_amount, zero=not reason), reason=why)


def count_drawer(app: Any, title: str, note: str, total_note: str, done: Callable[[Optional[Count]], None]) -> None:
    """The drawer counted per denomination (F2: one total, with ``total_note``), or at once one total where
    [shift] count_notes is off; ``done`` gets a Count, or None (Esc)."""
    if app.settings.shift.count_notes:
        app.push_screen(CountScreen(title, note, partial(ask_cash, title, total_note)), done)
    else:
        app.push_screen(ask_cash(title, total_note), lambda fen: done(None if fen is None else Count(fen)))


class CashMenu(ModalScreen[Optional[str]]):
    """F11: the shift and the cash drawer, one letter each; dismisses with the chosen action or None."""

    BINDINGS = keymap.bindings("cash")
    DEFAULT_CSS = """
    CashMenu { align: center middle; background: $background 60%; }
    #cash-box { width: 44; max-width: 100%; height: auto; border: thick $accent; background: $surface; padding: 0 1; }
    #cash-title { text-style: bold; width: 100%; }
    #cash-box KeyBar { height: auto; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="cash-box"):
            yield Static(t("cash.title"), id="cash-title")
            yield Static("\n".join(f"{keymap.display_key(keymap.key_of(key))}  {t(key.label)}"
                                   for key in keymap.KEYS["cash"]), id="cash-choices")

    def action_choose(self, what: str) -> None:
        self.dismiss(what)

    def action_close(self) -> None:
        self.dismiss(None)


class ReportView(ModalScreen[bool]):
    """An X or Z report on screen, as it prints, scrollable."""

    BINDINGS = [b for b in keymap.bindings("view") if isinstance(b, Binding) and b.action == "close"]
    AUTO_FOCUS = "#report-scroll"
    DEFAULT_CSS = """
    ReportView { align: center middle; background: $background 60%; }
    #report-box { width: 54; max-width: 100%; height: 100%; border: thick $accent; background: $surface; }
    #report-title { text-style: bold; width: 100%; height: auto; }
    #report-note { height: auto; color: $text-warning; }
    #report-scroll { height: 1fr; }
    #report-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, lines: List[str], note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="report-box"):
            yield Static(self.title_text, id="report-title")
            yield Static(self.note, id="report-note")
            with VerticalScroll(id="report-scroll"):
                yield Static(Text(on_screen(self.app, "\n".join(self.lines)), no_wrap=True), id="report-text")
            yield KeyBar("view", hidden=("view.prev", "view.next"))

    def show_note(self, text: str) -> None:
        self.note = text
        self.query_one("#report-note", Static).update(Text(text))

    def action_close(self) -> None:
        self.dismiss(True)


class ReportPrintFailed(ModalScreen[bool]):
    """The Z did not print: say why; R tries again, Esc goes on without the paper (it is stored)."""

    BINDINGS = keymap.bindings("report_failed")
    DEFAULT_CSS = """
    ReportPrintFailed { align: center middle; background: $background 70%; }
    #report-failed-box { width: 60; max-width: 100%; height: auto; border: thick $error; background: $surface;
                         padding: 0 1; }
    #report-failed-box KeyBar { height: 1; color: $text-muted; }
    """

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="report-failed-box"):
            yield Static(Text(t("z.print_failed", reason=self.reason)), id="report-failed-text")
            yield KeyBar("report_failed")

    def action_retry(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


# ---------------------------------------------------------------- the flows, driven from the app


class ShiftFlows:
    """What F11 and the start-up ask of the store, each step off the UI thread."""

    def __init__(self, app: "TillHost") -> None:
        self.app = app
        self.z_lines: List[str] = []  # the last Z, for R after a failed print
        self.z_view: Optional[ReportView] = None
        self.expected_fen = 0  # the open shift's expected cash as the Z's count was asked

    @property
    def till_id(self) -> str:
        return self.app.till_id

    def columns(self) -> int:
        return 48 if self.app.size.width >= 54 else 32

    def failed(self, exc: Exception) -> None:
        """A refusal of the store in one sentence (tui.errors, by its code); anything else as a store error."""
        from tui.errors import describe

        if isinstance(exc, StoreError):
            self.app.bell()
            self.app.notify(describe(exc), severity="warning", timeout=8)
            return
        self.app.store_error(exc)

    # ------------------------------------------------------------ the opening float

    def check_at_start(self) -> None:
        """Once, at start (after the sign-in): no open shift on this till -> ask the float."""
        if not self.app.settings.shift.ask_float:
            return
        self.app.in_background(partial(shifts.shift_is_open, self.till_id),
                               lambda is_open: None if is_open else self.ask_float(), self.failed,
                               group="shift")

    def ask_float(self) -> None:
        count_drawer(self.app, t("shift.float_title"), t("count.float_note"), t("shift.float_note"), self.float_given)

    def float_given(self, count: Optional[Count]) -> None:
        if count is None:
            self.app.notify(t("shift.no_shift"), timeout=6)
            return
        self.app.in_background(partial(shifts.open_with_float, self.till_id, count, self.app.cashier or None),
                               self.shift_opened, self.failed, group="shift")

    def shift_opened(self, shift: Any) -> None:
        from store.money import format_yuan

        self.open_drawer(shifts.drawer_reason(shifts.OPEN, shift.float_fen, shift_number=shift.number))
        self.app.notify(t("shift.opened", number=shift.number, amount=format_yuan(shift.float_fen)), timeout=6)

    def open_drawer(self, reason: str) -> None:
        """The float goes in, or cash is paid in or out: the drawer opens (logged as drawer_open with why)."""
        if self.app.settings.printer.drawer:
            self.app.till.open_drawer(reason)

    # ------------------------------------------------------------ F11

    def menu(self) -> None:
        self.app.push_screen(CashMenu(), self.chosen)

    def chosen(self, what: Optional[str]) -> None:
        actions: dict = {"open": self.ask_float, "paid_in": partial(self.ask_move, "paid_in"),
                         "paid_out": partial(self.ask_move, "paid_out"), "x": self.x_report, "z": self.z_start}
        if what in actions:
            actions[what]()

    # ------------------------------------------------------------ paid in, paid out

    def ask_move(self, kind: str) -> None:
        from store.money import format_yuan

        note = ""
        if kind == "paid_out":
            note = t("shift.paid_out_limit", limit=format_yuan(self.app.settings.shift.cashier_max_paid_out))
        self.app.push_screen(ask_cash(t("shift." + kind + "_title"), note, reason=True),
                             partial(self.move_given, kind))

    def move_given(self, kind: str, answer: Optional[Tuple[int, str]]) -> None:
        from tui.screens.pin import PinScreen

        if answer is None:
            return
        amount, reason = answer
        if shifts.paid_out_needs_manager(kind, amount, self.app.settings.shift.cashier_max_paid_out):
            from store.money import format_yuan

            why = t("shift.paid_out_pin", amount=format_yuan(amount))
            self.app.push_screen(PinScreen(why), partial(self.manager_given, kind, amount, reason))
            return
        self.record_move(kind, amount, reason, None)

    def manager_given(self, kind: str, amount: int, reason: str, manager: Optional[str]) -> None:
        if manager is None:
            self.app.notify(t("shift.move_dropped"), timeout=6)
            return
        self.record_move(kind, amount, reason, manager)

    def record_move(self, kind: str, amount: int, reason: str, manager: Optional[str]) -> None:
        job = partial(shifts.record_cash_move, self.till_id, kind, amount, reason, self.app.cashier or None, manager,
                      self.app.settings.shift.cashier_max_paid_out)
        self.app.in_background(job, partial(self.moved, kind), self.failed, group="shift")

    def moved(self, kind: str, move: Any) -> None:
        from store.money import format_yuan

        self.open_drawer(shifts.drawer_reason(kind, move.amount_fen, move.reason))
        self.app.notify(t("shift." + kind + "_done", amount=format_yuan(move.amount_fen), reason=move.reason),
                        timeout=6, markup=False)  # the reason is as typed: never markup

    # ------------------------------------------------------------ X and Z

    def lines(self, figures: Any, kind: str, z_no: Optional[int] = None, printed_at: str = "",
              columns: Optional[int] = None) -> List[str]:
        from printing.report import report_lines

        return report_lines(figures, columns or self.columns(), kind=kind, z_no=z_no, printed_at=printed_at,
                            shop_name=self.app.settings.shop.name, language=self.app.language)

    def x_report(self) -> None:
        self.app.in_background(partial(shifts.x_figures, self.till_id), self.x_shown, self.failed, group="report")

    def x_shown(self, figures: Any) -> None:
        self.app.push_screen(ReportView(t("x.title"), self.lines(figures, "X")))

    def z_start(self) -> None:
        """Refused at once when something is open (one sentence); else the count is asked."""
        self.app.in_background(partial(shifts.z_figures, self.till_id), self.ask_count, self.failed, group="report")

    def ask_count(self, figures: Any) -> None:
        self.expected_fen = figures["cash"]["expected_fen"]
        if self.app.settings.shift.blind_close:
            note = t("z.blind_note")
        else:
            note = t("z.expected", amount=yuan(self.expected_fen))
        count_drawer(self.app, t("z.count_title"), note, note, self.counted)

    def counted(self, count: Optional[Count]) -> None:
        """A count far from the expected cash ([shift] ask_difference_fen) asks first: Y closes, N counts again."""
        from tui.screens.confirm import ConfirmScreen

        if count is None:
            return
        difference = shifts.over_short_fen(count.total_fen, self.expected_fen)
        if shifts.difference_needs_asking(difference, self.app.settings.shift.ask_difference_fen):
            # the count is in: the expected cash may be said, even when blind
            said = t("z.short" if difference < 0 else "z.over", amount=yuan(abs(difference)))
            question = t("z.ask_difference", counted=yuan(count.total_fen), expected=yuan(self.expected_fen),
                         difference=said)
            self.app.push_screen(ConfirmScreen(question), partial(self.difference_answered, count))
            return
        self.close_z(count)

    def difference_answered(self, count: Count, close: Optional[bool]) -> None:
        if close:
            self.close_z(count)
        else:
            self.z_start()  # count again, from the figures as they are now

    def close_z(self, count: Count) -> None:
        self.app.in_background(partial(shifts.close_with_z, self.till_id, count, self.app.cashier or None),
                               self.z_closed, self.failed, group="report")

    def z_closed(self, z: Any) -> None:
        from store.money import format_yuan

        self.z_lines = self.lines(z["figures"], "Z", z_no=z["z_no"], printed_at=z["closed_at"] or "",
                                  columns=self.app.settings.printer.columns)  # the paper's width, not the screen's
        shown = self.lines(z["figures"], "Z", z_no=z["z_no"], printed_at=z["closed_at"] or "")
        difference = z["figures"]["cash"]["over_short_fen"]
        if difference:
            summary = t("z.short" if difference < 0 else "z.over", amount=format_yuan(abs(difference)))
        else:
            summary = t("z.even")
        self.z_view = ReportView(t("z.title", number=z["z_no"]) + "  " + summary, shown, note=t("z.printing"))
        self.app.push_screen(self.z_view)
        self.print_z()
        self.app.backup_after_z()  # [backup]: a copy of the day as the Z closed it

    def print_z(self) -> None:
        self.app.till.print_report(Z_REPORT, self.z_lines)

    def printed(self, event: Any) -> None:
        """The printer thread answered the Z's print: say it; a failure blocks until R or Esc."""
        view = self.z_view if self.z_view is not None and self.z_view.is_attached else None
        if event.ok:
            if view is not None:
                view.show_note(t("z.printed"))
            else:
                self.app.notify(t("z.printed"))
            return
        reason = event.reason(self.app.language) or t("reason.unknown")
        if view is not None:
            view.show_note(t("z.not_printed", reason=reason))
        self.app.bell()
        self.app.push_screen(ReportPrintFailed(reason), self.retry_chosen)

    def retry_chosen(self, retry: Optional[bool]) -> None:
        if retry:
            if self.z_view is not None and self.z_view.is_attached:
                self.z_view.show_note(t("z.printing"))
            self.print_z()
        else:
            self.app.notify(t("z.left_unprinted"), severity="warning", timeout=8)
