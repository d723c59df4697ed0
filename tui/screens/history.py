"""F9: this till's receipts, newest first, searchable; R reprints (补打), Q shows the QR again.

One search box takes a receipt number (``1-000012``, ``12``), a day
(``2026-11-22``), an amount (``12.50``, ``￥12``) or part of a product name
(``store.queries.receipt_filter``). The detail pane shows the lines, the
payments, the receipt outcome and every print attempt with its reason.

A reprint goes through the printer worker like any receipt: the store gives
it the next reprint number and the paper says ``补打 REPRINT n`` with the
original time and the reprint time. ``[reprint] max`` caps reprints per
receipt; ``[reprint] manager_pin`` asks a manager's PIN for each one (the
rule itself is ``store.print_attempts.check_reprint``).
"""
from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t
from tui.screens.events import printer_name, reason_text
from tui.screens.receipt_views import QrView
from tui.screens.widgets import KeyBar
from tui.services import corrections
from tui.services.payments.refunds import refund_note, refused
from tui.services.till import MAIN

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.history")

LIMIT = 200
OUTCOME_WIDTH = 14  # the list's outcome column; a longer mark + outcome takes two lines
VOIDED = "voided"  # what the sale screen's success panel says of its sale once it is voided ("status.voided")


def outcome_label(state: str, reprints: int = 0) -> str:
    """'已打印', '补打2次', '手写小票' ...: what the customer got, in a few characters."""
    if reprints:
        return t("history.reprinted", count=reprints)
    return t("history.outcome." + state) if state else ""


def kind_mark(row: Dict[str, Any]) -> str:
    """'退货', '作废' for a correction; '已作废', '有退货' for a sale a later document corrects; else ''."""
    kind = row.get("kind") or "sale"
    if kind != "sale":
        return t("history.kind." + kind)
    if row.get("voided"):
        return t("history.voided")
    return t("history.refunded") if row.get("refunded") else ""


def shown_total(row: Dict[str, Any], symbol: bool = False) -> str:
    """A document's total as the list ("-3.00") and the detail ("-￥3.00", with ``symbol``) show it: a refund's
    or a void's with a minus, money that went back."""
    total = t("money.amount", amount=row["total"]) if symbol else row["total"]
    return total if (row.get("kind") or "sale") == "sale" else "-" + total


def outcome_cell(row: Dict[str, Any]) -> Tuple[Text, int]:
    """The list's outcome cell and its row height: '有退货 已打印' on one line; two lines (the mark over the
    outcome) when they would not fit the column together: never cut."""

    mark, outcome = kind_mark(row), outcome_label(row["outcome"], row["reprints"])
    text = " ".join(filter(None, (mark, outcome)))
    if cell_len(text) <= OUTCOME_WIDTH:
        return Text(text, no_wrap=True, overflow="ellipsis"), 1
    return Text(f"{mark}\n{outcome}", no_wrap=True, overflow="ellipsis"), 2


def refresh_histories(app: Any) -> None:
    """A receipt's outcome or its corrections changed: every open history reads its list again (keeping the
    selected receipt), so no row shows an outcome older than its print answer."""
    for screen in app.screen_stack:
        if isinstance(screen, HistoryScreen):
            screen.reload()


def reprint_finished(app: Any, message: Any, state: str, reason: str) -> None:
    """The worker answered a reprint: tell the cashier (the number read off the UI thread), refresh a history."""
    app.in_background(partial(app.till.sale_facts, message.sale_id),
                      lambda facts: reprint_told(app, message, reason, facts.number),
                      lambda _exc: reprint_told(app, message, reason, str(message.sale_id)), group="history")


def reprint_told(app: Any, message: Any, reason: str, number: str) -> None:
    if message.ok:
        app.notify(t("history.reprinted_ok", number=number, n=message.reprint_no))
    else:
        app.bell()
        app.notify(t("history.reprint_failed", number=number, reason=reason or t("reason.unknown")),
                   severity="error", timeout=8)
    refresh_histories(app)


class QrAgainView(QrView):
    """The banner's QR view, for a receipt that is shown again from the history."""

    def on_mount(self) -> None:
        self.query_one("#qr-recorded", Static).update(t("history.qr_again", number=self.number))


class HistoryScreen(Screen):
    """Receipts of this till, newest first, with a search box and a detail pane.

    It opens in the search box: everything typed there is search text, never a
    command (a product name such as "rice" starts with R). The letter keys (R,
    Q, T, V, P) are commands on the list only; Enter, Down or Tab move there, and
    BSpace or a key that is not a command goes back to the box.
    """

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("history")
    AUTO_FOCUS = "#history-search"
    DEFAULT_CSS = """
    HistoryScreen { layout: vertical; }
    #history-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    #history-search { height: 3; }
    #history-main { height: 1fr; }
    #history-table { width: 49; height: 1fr; }
    #history-detail-scroll { width: 1fr; height: 1fr; padding: 0 1; border-left: vkey $primary; }
    #history-message { height: 1; padding: 0 1; }
    #history-message.-error { color: $text-error; text-style: bold; }
    HistoryScreen KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.initial = text
        self.rows: List[Dict[str, Any]] = []
        self.asked = self.answered = 0  # searches sent off the UI thread / the one shown
        self.detail_asked = 0

    def compose(self) -> ComposeResult:
        yield Static(t("history.title", till=self.app.till_id), id="history-title")
        yield Input(value=self.initial, placeholder=t("history.placeholder"), id="history-search",
                    select_on_focus=False)
        with Horizontal(id="history-main"):
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="history-detail-scroll"):
                yield Static("", id="history-detail")
        yield Static("", id="history-message")
        yield KeyBar("history")

    def on_mount(self) -> None:
        table = self.table
        table.add_column(t("history.col.number"), width=8, key="number")
        table.add_column(t("history.col.time"), width=11, key="time")
        table.add_column(Text(t("history.col.total"), justify="right"), width=8, key="total")
        table.add_column(t("history.col.outcome"), width=OUTCOME_WIDTH, key="outcome")
        self.reload()

    @property
    def table(self) -> DataTable:
        return self.query_one("#history-table", DataTable)

    @property
    def search(self) -> Input:
        return self.query_one("#history-search", Input)

    # ------------------------------------------------------------ rows and detail

    def reload(self, keep: bool = True) -> None:
        """Search again (off the UI thread) with what the box says; keep the selected receipt if still listed."""
        from store.money import typed
        from store.queries import search_receipts

        self.asked += 1
        asked, text = self.asked, typed(self.search.value)  # full-width digits from a Chinese input method
        self.app.in_background(partial(search_receipts, self.app.till_id, text, limit=LIMIT),
                               partial(self.found, asked, text, keep), partial(self.search_failed, asked, text),
                               group="history")

    def search_failed(self, asked: int, text: str, exc: Exception) -> None:
        if asked != self.asked or self not in self.app.screen_stack:
            return  # a newer search is on its way
        log.error("history search for %r failed: %s", text, exc, exc_info=exc)
        self.say(t("sale.db_error", error=str(exc).split("\n")[0]), error=True)

    def found(self, asked: int, text: str, keep: bool, rows: List[Dict[str, Any]]) -> None:
        if asked != self.asked or self not in self.app.screen_stack:
            return  # typed on meanwhile: only the newest search is shown
        self.answered = asked
        selected = self.selected()
        self.rows = rows
        table = self.table
        table.clear()
        for row in self.rows:
            outcome, height = outcome_cell(row)
            table.add_row(
                row["receipt"],
                (row["sold_at"] or "")[5:16],
                Text(shown_total(row), justify="right"),
                outcome,
                key=str(row["id"]),
                height=height,
            )
        if keep and selected is not None:
            for index, row in enumerate(self.rows):
                if row["id"] == selected["id"]:
                    table.move_cursor(row=index)
                    break
        if not self.rows:
            self.say(t("history.none", text=text.strip()) if text.strip() else t("history.empty"))
        else:
            self.say(t("history.count", count=len(self.rows)) if text.strip() else "")
        self.show_detail()

    def selected(self) -> Optional[Dict[str, Any]]:
        if not self.rows or not self.is_mounted:
            return None
        index = self.table.cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    @on(DataTable.RowHighlighted, "#history-table")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """Read the selected receipt's detail off the UI thread; the pane fills when it comes."""
        from store.queries import sale_detail

        detail = self.query_one("#history-detail", Static)
        row = self.selected()
        self.detail_asked += 1
        if row is None:
            detail.update("")
            return
        self.app.in_background(partial(sale_detail, row["id"]), partial(self.show_sale, self.detail_asked, row),
                               partial(self.detail_failed, self.detail_asked), group="history")

    def show_sale(self, asked: int, row: Dict[str, Any], sale: Optional[Dict[str, Any]]) -> None:
        if asked == self.detail_asked and self in self.app.screen_stack:
            text = detail_text(sale, row["reprints"], partial(on_screen, self.app)) if sale else ""
            self.query_one("#history-detail", Static).update(text)

    def detail_failed(self, asked: int, exc: Exception) -> None:
        if asked == self.detail_asked and self in self.app.screen_stack:
            self.query_one("#history-detail", Static).update(t("sale.db_error", error=exc))

    # ------------------------------------------------------------ searching

    @on(Input.Changed, "#history-search")
    def search_changed(self, event: Input.Changed) -> None:
        self.reload(keep=False)

    @on(Input.Submitted, "#history-search")
    def search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def on_key(self, event: events.Key) -> None:
        """Typing on the list goes to the search box (R, Q, T, V, P are keys of their own there); so does BSpace."""
        search = self.search
        if search.has_focus:
            return  # the box's own keys: it takes every printable key before the screen's letter bindings
        if event.key == "backspace":
            event.stop()
            event.prevent_default()
            search.focus()
            search.value = search.value[:-1]
            search.cursor_position = len(search.value)
            return
        if not event.is_printable or not event.character:
            return
        if any(event.key in keymap.key_of(k).split(",") for k in keymap.KEYS["history"]):
            return
        event.stop()
        event.prevent_default()
        search.focus()
        search.value += event.character
        search.cursor_position = len(search.value)

    def action_focus_search(self) -> None:
        self.search.focus()

    def action_cursor(self, step: int) -> None:
        table = self.table
        if self.search.has_focus:  # Down (or Up) from the box: to the list, on the receipt already selected
            table.focus()
            return
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_close(self) -> None:
        if self.search.has_focus and self.search.value:
            self.search.value = ""  # Esc in the box: clear it first (and stay), then Esc again closes
            return
        self.dismiss(None)

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#history-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    # ------------------------------------------------------------ R and Q

    def action_reprint(self) -> None:
        """R: reprint (补打) the selected receipt, after the cap and the manager's PIN allow it."""
        from tui.services.receipts import reprint_facts

        row = self.selected()
        if row is None:
            self.say(t("history.nothing_selected"), error=True)
            return
        app = self.app
        sale_id, number = row["id"], row["receipt"]
        if sale_id in app.in_flight:
            self.say(t("history.busy", number=number), error=True)
            return
        app.in_background(partial(reprint_facts, sale_id), partial(self.reprint_checked, sale_id, number),
                          group="history")

    def reprint_checked(self, sale_id: int, number: str, answer: Any) -> None:
        """The receipt's state and reprint count came: apply the rule (cap, manager's PIN)."""
        from store import print_attempts

        state, reprints = answer
        rules = self.app.settings.reprint
        try:
            print_attempts.check_reprint(state, reprints, rules.max, rules.manager_pin)
        except print_attempts.ReprintRefused as refused:
            if refused.code == print_attempts.REPRINT_NEEDS_MANAGER:
                self.ask_manager(sale_id, number)  # the rest of the rule already holds
            else:
                self.refuse(refused, sale_id, number)
            return
        self.submit_reprint(sale_id, number)

    def ask_manager(self, sale_id: int, number: str) -> None:
        from tui.screens.pin import PinScreen

        def answered(manager: Optional[str]) -> None:
            if manager:
                self.submit_reprint(sale_id, number, approved_by=manager)
            else:
                self.say(t("history.reprint_cancelled", number=number))

        self.app.push_screen(PinScreen(t("pin.why_reprint", number=number)), answered)

    def refuse(self, refused: Any, sale_id: int, number: str) -> None:
        """Say why the rule refused a reprint; a reached cap is an event."""
        from store import print_attempts

        if refused.code == print_attempts.REPRINT_CAP:
            cap = refused.values["max_reprints"]
            self.app.log_event("reprint_refused", sale=sale_id,
                               detail=f"cap reached: {refused.values['reprints']} of {cap} reprints already printed")
            self.say(t("history.cap", number=number, max=cap), error=True)
        else:
            self.say(t("history.unresolved", number=number), error=True)

    def submit_reprint(self, sale_id: int, number: str, approved_by: str = "") -> None:
        app = self.app
        app.till.print_sale(sale_id, MAIN, reprint=True, approved_by=approved_by)
        self.say(t("history.reprinting", number=number))

    def action_refund(self) -> None:
        """T: refund (退货) lines of the selected receipt."""
        Corrections(self).refund()

    def action_void(self) -> None:
        """V: void (作废) the selected sale of today, with a manager's PIN and a reason."""
        Corrections(self).void()

    def action_refund_again(self) -> None:
        """P: ask the provider again for a refund it refused (the same refund number: never twice)."""
        row = self.selected()
        if row is None:
            self.say(t("history.nothing_selected"), error=True)
            return
        desk = getattr(self.app, "refund_desk", None)
        if desk is None:
            self.say(t("history.refund_again_off"), error=True)
            return
        self.app.in_background(partial(corrections.refused_refunds, row["id"]),
                               partial(self.refund_asked_again, row, desk), group="history")

    def refund_asked_again(self, row: Dict[str, Any], desk: Any, numbers: List[str]) -> None:
        if not numbers:
            self.say(t("history.refund_again_none", number=row["receipt"]), error=True)
            return
        for number in numbers:
            desk.retry(number)
        self.say(t("history.refund_again_sent", number=row["receipt"]))

    def action_qr(self) -> None:
        """Q: the receipt as a QR code again (the banner's QR view)."""
        row = self.selected()
        if row is None:
            self.say(t("history.nothing_selected"), error=True)
            return
        self.app.in_background(partial(self.app.till.receipt, row["id"]), partial(self.show_qr, row), group="history")

    def show_qr(self, row: Dict[str, Any], receipt: Any) -> None:
        self.app.log_event("qr_shown", sale=row["id"], detail="receipt shown again as a QR code from the history")
        self.app.push_screen(QrAgainView(row["receipt"], receipt))


# ---------------------------------------------------------------- T refund (退货) and V void (作废)

class Corrections:
    """The history's T and V: read off the UI thread, ask (lines, PIN, reason), commit off it, print like a sale."""

    def __init__(self, screen: "HistoryScreen") -> None:
        self.screen = screen
        self.app = screen.app

    def chosen(self) -> Optional[Dict[str, Any]]:
        """The selected receipt when a correction may start now; else None after saying why not."""
        screen, app = self.screen, self.app
        row = screen.selected()
        if row is None:
            screen.say(t("history.nothing_selected"), error=True)
            return None
        if app.till_blocked():  # the banner comes first: a correction is a receipt too
            screen.say(t("sale.waiting_receipt"), error=True)
            return None
        return row

    def refused(self, exc: Exception) -> None:
        from store.documents import DocumentError
        from tui.errors import describe

        if not isinstance(exc, DocumentError):
            log.error("correction failed: %s", exc, exc_info=exc)
        self.screen.say(on_screen(self.app, describe(exc)), error=True)

    # ------------------------------------------------------------ refund

    def refund(self) -> None:
        text = self.screen.search.value
        if self.screen.selected() is None and corrections.other_till_receipt(text, self.app.till_id):
            self.refund_foreign(text)
            return
        row = self.chosen()
        if row is None:
            return
        self.app.in_background(partial(corrections.noted_refund_choices, row["id"], self.app.settings.server.url,
                                       self.app.till_id), partial(self.choose_lines, row), self.refused,
                               group="history")

    def refund_foreign(self, text: str) -> None:
        """T on another till's receipt number (not in this till's history): looked up on the server, off the UI
        thread; offline, one sentence says it waits for the server."""
        if self.app.till_blocked():
            self.screen.say(t("sale.waiting_receipt"), error=True)
            return
        url = self.app.settings.server.url
        self.screen.say(t("history.foreign_looking", number=text.strip()))

        def found(receipt: Any) -> None:
            row = {"id": receipt.copy_id, "receipt": receipt.number}
            self.choose_lines(row, (receipt.lines, receipt.room), receipt)

        self.app.in_background(partial(corrections.foreign_refund_choices, url, self.app.till_id, text), found,
                               self.refused, group="history")

    def choose_lines(self, row: Dict[str, Any], answer: Any, foreign: Any = None) -> None:
        from tui.screens.refund import RefundScreen

        lines, room, *noted = answer  # noted: the note of a refund read offline (other tills' may be unknown)
        note = t(f"history.{noted[0]}") if noted and noted[0] else ""
        if corrections.all_refunded(lines):
            self.screen.say(t("history.all_refunded", number=row["receipt"]), error=True)
            return

        def chosen(choice: Any) -> None:
            if choice is None:
                self.screen.say(t("history.refund_cancelled", number=row["receipt"]))
            elif self.app.settings.selling.refund_manager_pin:
                self.with_manager(t("pin.why_refund", number=row["receipt"]),
                                  partial(self.commit_refund, row, choice, foreign=foreign),
                                  t("history.refund_cancelled", number=row["receipt"]))
            else:
                self.commit_refund(row, choice, "", foreign)

        self.app.push_screen(RefundScreen(row["receipt"], lines, room, note), chosen)

    def with_manager(self, why: str, then: Callable[[str], Any], cancelled: str) -> None:
        from tui.screens.pin import PinScreen

        def answered(manager: Optional[str]) -> None:
            if manager:
                then(manager)
            else:
                self.screen.say(cancelled)

        self.app.push_screen(PinScreen(why), answered)

    def commit_refund(self, row: Dict[str, Any], choice: Any, manager: str, foreign: Any = None) -> None:
        app = self.app
        if foreign is not None:  # another till's receipt: what other tills gave back is read again, then committed
            job = partial(corrections.commit_foreign_refund, app.settings.server.url, foreign, choice, app.till_id,
                          app.till.cashier or None, manager)
        else:
            job = partial(corrections.commit_refund, row["id"], choice, app.till_id, app.till.cashier or None,
                          manager, app.settings.server.url)
        app.in_background(job, partial(self.committed, "history.refunded_ok"), self.refused, group="correction")

    # ------------------------------------------------------------ void

    def void(self) -> None:
        row = self.chosen()
        if row is None:
            return
        self.app.in_background(partial(corrections.check_voidable, row["id"]),
                               lambda _ok: self.with_manager(t("pin.why_void", number=row["receipt"]),
                                                             partial(self.ask_reason, row),
                                                             t("history.void_cancelled", number=row["receipt"])),
                               self.refused, group="history")

    def ask_reason(self, row: Dict[str, Any], manager: str) -> None:
        from tui.screens.reason import ReasonScreen

        def answered(reason: Optional[str]) -> None:
            if reason:
                self.commit_void(row, manager, reason)
            else:
                self.screen.say(t("history.void_cancelled", number=row["receipt"]))

        self.app.push_screen(ReasonScreen(t("history.void_reason", number=row["receipt"])), answered)

    def commit_void(self, row: Dict[str, Any], manager: str, reason: str) -> None:
        app = self.app
        job = partial(corrections.commit_void, row["id"], app.till_id, app.till.cashier or None, manager, reason,
                      app.settings.server.url)
        app.in_background(job, partial(self.voided, row), self.refused, group="correction")

    def voided(self, row: Dict[str, Any], answer: corrections.Committed) -> None:
        self.committed("history.voided_ok", answer)
        if self.app.sale_screen is not None:  # its success panel, if it shows this sale, says it is voided
            self.app.sale_screen.receipt_status(row["id"], VOIDED)

    # ------------------------------------------------------------ after the commit

    def committed(self, key: str, answer: corrections.Committed) -> None:
        document_id, number, amount, cash, note = answer
        self.app.print_sale(document_id, open_drawer=cash)  # the same receipt outcome and banner as a sale
        self.app.notify(t(key, number=number, amount=amount))  # the list reloads: its message line is redrawn
        if note:  # refunded offline: other tills' refunds of the receipt may not be known yet
            self.app.notify(t(f"history.{note}"), severity="warning")
        desk = getattr(self.app, "refund_desk", None)
        if desk is not None:  # mobile payments go back through the provider, once the document is stored
            desk.send(document_id)
        if self.screen in self.app.screen_stack:
            self.screen.reload()


def detail_text(sale: Dict[str, Any], reprints: int = 0, shown: Callable[[str], str] = str) -> Text:
    """The detail pane: number, time, cashier, lines, payments, outcome, print attempts (names through shown)."""
    from store import outcomes, print_attempts
    from store.money import format_qty, format_yuan

    text = Text()
    text.append(f"{sale['receipt']}", style="bold")
    mark = kind_mark(sale)
    text.append(f"  {mark}\n" if mark else "\n", style="bold")
    if sale.get("kind", "sale") != "sale":
        text.append(t("history.original", number=sale.get("original") or t("history.no_original")) + "\n")
        if sale.get("document_reason"):
            text.append(t("history.why", reason=shown(sale["document_reason"])) + "\n")
        if sale.get("manager"):
            text.append(t("history.manager", manager=shown(sale["manager"])) + "\n")
    text.append(f"{sale['sold_at'] or ''}\n")
    if sale.get("cashier"):
        text.append(t("history.cashier", cashier=shown(sale["cashier"])) + "\n")
    for line in sale["lines"]:
        text.append(shown(line["name"]) + "\n")
        qty = format_qty(line["qty_milli"]) + shown(line["unit"] or "")
        left = f"  {qty} × {format_yuan(line['unit_price_fen'])}"
        text.append(f"{left:<15}{format_yuan(line['amount_fen']):>9}\n")
    text.append(t("history.total", total=shown_total(sale, symbol=True)) + "\n", style="bold")
    for payment in sale["payments"]:
        method = t("method." + payment["method"])
        amount = t("money.amount", amount=format_yuan(payment["amount_fen"]))
        reference = t("history.txn", number=payment["transaction_id"]) if payment.get("transaction_id") \
            else payment["reference"]
        line = f"{method} {amount} {reference}".rstrip()
        if payment["status"] != "ok":
            text.append(t("history.payment_failed", payment=line) + "\n", style="dim")
        else:
            text.append(line + "\n")
        if payment.get("refund"):
            text.append("  " + refund_note(payment["method"], payment["refund"]) + "\n",
                        style="bold" if refused(payment["refund"]) else "")
    if sale.get("change_fen"):
        text.append(t("history.change", change=format_yuan(sale["change_fen"])) + "\n")
    text.append("\n" + t("history.outcome", outcome=outcome_label(sale["outcome"] or "", 0)), style="bold")
    if reprints:
        text.append("  " + t("history.reprinted", count=reprints), style="bold")
    text.append("\n")
    text.append(t("history.attempts") + "\n", style="underline")
    if not sale["print_attempts"]:
        text.append("  " + t("history.no_attempts") + "\n")
    for attempt in sale["print_attempts"]:
        when = (attempt["started_at"] or "")[5:16]
        mark = t("history.reprint_mark", n=attempt["reprint_no"]) + " " if attempt["reprint_no"] else ""
        printer = "" if attempt["printer"] == "main" else printer_name(attempt["printer"]) + " "
        result = attempt["result"] or outcomes.PRINTING
        text.append(f"  {when} {printer}{mark}", style="dim")
        known = result in (outcomes.PRINTED, outcomes.FAILED, outcomes.PRINTING)
        text.append(t("history.attempt." + result) if known else result,
                    style="bold" if result == outcomes.FAILED else "")
        if attempt.get("evidence") == print_attempts.EVIDENCE_CASHIER:  # not the printer's confirmation: say so
            text.append(t("history.evidence.cashier"), style="bold")
        if attempt["cashier"]:
            text.append(f" ({attempt['cashier']})", style="dim")
        text.append("\n")
        if attempt["reason"]:  # stored in English; shown by its code in the UI language when known
            text.append(f"    {reason_text(attempt.get('reason_code') or '', attempt['reason'])}\n")
    return text
