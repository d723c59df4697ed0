"""Tender: one key per method, typed amount, split until covered, then commit."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, List, Optional

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Digits, Input, Static

from tui import keymap
from tui.i18n import brief, t
from tui.screens.widgets import Amount, KeyBar
from tui.services import sale_session as modes
from tui.services.sale_session import Refused, SaleSession

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.tender")


def amount_refused(exc: ValueError, text: str) -> str:
    """One sentence saying why typed text is not an amount (store.money.AmountError's code)."""
    from store.money import MAX_FEN, format_yuan

    shown = brief(text)
    if getattr(exc, "code", "") == "amount_too_large":
        return t("tender.amount_too_large", text=shown, max=format_yuan(MAX_FEN))
    return t("tender.bad_amount", text=shown)


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)


class SavingNote(Static, can_focus=True):
    """'Saving…' while the sale is committed; holds the focus and keeps what is typed meanwhile."""

    DEFAULT_CSS = "SavingNote { height: 1; text-style: bold; color: $warning; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(t("tender.saving"), **kwargs)
        self.typed: List[str] = []

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if event.key == "enter":
            self.typed.append("\n")
        elif event.is_printable and event.character:
            self.typed.append(event.character)


class TenderScreen(ModalScreen):
    """Take payments for a basket; dismiss with the committed Sale, or None (Esc)."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("tender")
    AUTO_FOCUS = "#amount"

    def __init__(self, session: SaleSession, tender: Any) -> None:
        super().__init__()
        self.session = session  # payments, 抹零 and the commit: the sale session (tui/services/sale_session.py)
        self.basket = session.basket
        self.tender = tender
        self.method = "cash"  # "" after a method the rules refused: Enter takes nothing until one is chosen
        self.refused = ""  # that refused method, taken up again when Ctrl+R takes the rounding off
        self.saving = False  # the sale is being committed (off the UI thread): keys wait, nothing doubles

    def compose(self) -> ComposeResult:
        with Vertical(id="tender-dialog"):
            yield Static(t("tender.title"), id="tender-title")
            with Grid(id="tender-sums"):
                yield Static(t("tender.total"), classes="sum-label")
                yield Static("", id="sum-total", classes="sum-value")
                yield Static(t("tender.paid"), classes="sum-label")
                yield Static("", id="sum-paid", classes="sum-value")
            with Vertical(id="tender-remaining-box"):
                yield Static(t("tender.remaining"), id="remaining-label")
                yield Amount("0.00", id="remaining")
            yield Static("", id="tender-payments")
            yield Static("", id="tender-method")
            yield Input(placeholder=t("tender.amount_placeholder"), id="amount")
            yield Input(placeholder=t("tender.reference_placeholder"), id="reference")
            yield Static("", id="tender-message")
            yield SavingNote(id="tender-saving")
        yield KeyBar("tender", "app", id="tender-keys")  # docked at the bottom, over the sale screen's keys

    def on_mount(self) -> None:
        self.query_one(SavingNote).display = False
        self.set_method("cash")
        self.refresh_sums()

    # ------------------------------------------------------------ display

    def refresh_sums(self) -> None:
        from store.money import format_yuan

        tender = self.tender
        self.query_one("#sum-total", Static).update(t("money.amount", amount=format_yuan(tender.total_fen)))
        self.query_one("#sum-paid", Static).update(t("money.amount", amount=format_yuan(tender.paid_fen)))
        self.query_one("#remaining", Digits).update(format_yuan(tender.remaining_fen))
        rows = []
        for payment in tender.payments:
            key = "tender.payment_ok" if payment.ok else "tender.payment_failed"
            rows.append(t(key, method=t(f"method.{payment.method}"), amount=format_yuan(payment.amount_fen),
                          reference=payment.reference or ""))
        self.query_one("#tender-payments", Static).update("\n".join(rows[-4:]) if rows else t("tender.none_yet"))

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#tender-message", Static)
        message.update(Text(text))  # never markup: what the cashier typed ("[/]") is shown as typed
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    def set_method(self, method: str) -> None:
        self.method = method
        if method:
            said = t("tender.method", method=t(f"method.{method}"))
        else:
            said = t("tender.no_method", method=t(f"method.{self.refused}"), cash=self.cash_key())
        if self.app.settings.selling.rounding != "off":  # 抹零 is on: say its key (the key bar is full)
            round_key = next(key for key in keymap.KEYS["tender"] if key.id == "tender.round")
            said += "    " + t("tender.round_hint", keys=keymap.display_key(keymap.key_of(round_key)))
        self.query_one("#tender-method", Static).update(said)
        reference = self.query_one("#reference", Input)
        reference.value = ""
        reference.display = method != "cash"
        reference.placeholder = t("tender.card_reference_placeholder" if method == "card"
                                  else "tender.reference_placeholder")
        amount = self.query_one("#amount", Input)
        amount.value = ""
        amount.focus()

    # ------------------------------------------------------------ keys

    def check_action(self, action: str, parameters: tuple) -> Optional[bool]:
        return not self.saving  # while saving no key may change or leave the tender

    def cash_key(self) -> str:
        cash = keymap.by_id("tender.cash")
        return keymap.display_key(keymap.key_of(cash)) if cash is not None else "F2"

    def action_method(self, method: str) -> None:
        """F2-F5: the method the next Enter takes. One the rules refuse leaves the tender with none: asking."""
        if not self.session.method_allowed(method):
            self.refused = method
            self.set_method("")
            self.say(t("tender.rounded_cash_only", method=t(f"method.{method}")), error=True)
            return
        self.refused = ""
        self.set_method(method)
        self.say("")

    def say_nothing_taken(self) -> None:
        self.say(t("tender.nothing_taken", method=t(f"method.{self.refused}"), cash=self.cash_key()), error=True)

    def action_round(self) -> None:
        """Ctrl+R: 抹零, the total rounded down to 角 or 元 as the settings say; again: taken off.

        With ``rounding_tenders = "cash"`` it is for cash only: refused once a
        non-cash payment is taken, and after it only cash is taken (the session's rules).
        """
        from store.money import format_yuan

        basket = self.basket
        try:
            spec = self.session.toggle_rounding()
        except Refused as exc:
            total = format_yuan(exc.values.get("total_fen", basket.total_fen))
            self.say(t(exc.code, total=total), error=True)
            return
        self.app.customer_display.show_total(basket.total_fen)
        if spec is None and self.refused:  # the rounding is off: the method refused for it is asked again
            method, self.refused = self.refused, ""
            self.set_method(method)
        elif self.method != "cash" and not self.session.method_allowed(self.method):
            self.set_method("cash")
        self.refresh_sums()
        total = format_yuan(basket.total_fen)
        self.say(t("tender.rounded", amount=format_yuan(basket.rounding_fen), total=total) if spec
                 else t("tender.rounding_removed", total=total))
        sale_screen = self.app.sale_screen
        if sale_screen is not None:
            sale_screen.refresh_basket()

    def action_back(self) -> None:
        if self.session.blocked() and not self.saving:  # the attempt is followed here: stay until it is known
            self.show_attempt()
            return
        self.dismiss(None)

    def action_reference(self) -> None:
        """Tab: to the reference field and back; the only way in (a scan never lands there by itself)."""
        reference = self.query_one("#reference", Input)
        if reference.has_focus or not reference.display:
            self.query_one("#amount", Input).focus()
        else:
            reference.focus()

    def _reference(self) -> str:
        from store.money import typed

        return typed(self.query_one("#reference", Input).value).strip()

    def _amount(self) -> Optional[int]:
        """The typed amount in fen (empty = what is still to pay); None after saying why not."""
        from store.money import parse_yuan

        text = self.query_one("#amount", Input).value.strip()
        if not text:
            return self.tender.remaining_fen
        try:
            return parse_yuan(text)
        except ValueError as exc:
            self.say(amount_refused(exc, text), error=True)
            return None

    @on(Input.Submitted, "#amount")
    @on(Input.Submitted, "#reference")
    def submitted(self, event: Input.Submitted) -> None:
        self.take_payment()

    def take_payment(self) -> None:
        """Enter: a scanned payment code (付款码) charges its provider; else the typed amount (empty = what is
        still to pay) by the method chosen."""
        from store.money import format_yuan

        if self.tender.covered:  # an earlier commit failed: try again, add nothing
            self.commit()
            return
        if self.scanned_code():
            return
        if not self.method:  # a refused method: nothing is taken until the cashier chooses one
            self.say_nothing_taken()
            return
        amount = self._amount()
        if amount is None:
            return
        if amount <= 0:
            self.say(t("tender.amount_zero"), error=True)
            return
        if self.method == "cash":
            self.pay_cash(amount)
            return
        if amount > self.tender.remaining_fen:
            self.say(t("tender.too_much", method=t(f"method.{self.method}"),
                       amount=format_yuan(self.tender.remaining_fen)), error=True)
            return
        self.pay_with_reference(amount)

    # ------------------------------------------------------------ payment codes (付款码)

    def scanned_code(self) -> bool:
        """The amount field holds a scanned code: a payment code is charged (no key picks the method), any
        other code is refused in one sentence. False when it is no code at all (an amount)."""
        from tui.services.payments.codes import NotAPaymentCode, provider_of

        field = self.query_one("#amount", Input)
        text = field.value.strip()
        try:
            if provider_of(text) is None:
                return False
        except NotAPaymentCode:
            pass  # the session says why, in one sentence
        field.value = ""
        try:
            self.session.charge_code(text)
        except Refused as exc:
            self.say(t(exc.code, method=t(f"method.{exc.values.get('method', 'wechat')}")), error=True)
            return True
        self.show_attempt()
        return True

    def show_attempt(self) -> None:
        """What the open payment attempt is doing now (customer confirming, unclear, stopping), or nothing."""
        mode = self.session.tender_mode()
        attempt = next(reversed(list(self.session.attempts.values())), None)
        if attempt is None or mode in (modes.TAKE, modes.PAID_NOW):
            return
        values = dict(method=t(f"method.{attempt.provider}"), amount=_yuan(attempt.amount_fen), keys=self.stop_key())
        key = {modes.CONFIRMING: "pay.confirming", modes.UNCLEAR: "pay.unclear", modes.STOPPING: "pay.stopping"}[mode]
        self.say(t(key, **values), error=mode == modes.UNCLEAR)

    def stop_key(self) -> str:
        found = keymap.by_id("tender.stop_waiting")
        return keymap.display_key(keymap.key_of(found)) if found is not None else "Ctrl+S"

    def action_stop_waiting(self) -> None:
        """Ctrl+S: the cashier stops waiting for the customer; the order is cancelled (the tender says when)."""
        if not self.session.stop_waiting():
            self.say(t("pay.nothing_waiting"), error=True)
            return
        self.show_attempt()

    def payment_event(self, event: Any) -> None:
        """The desk's answer about this basket's attempt (the session has taken it in)."""
        name = type(event).__name__
        method = t(f"method.{event.provider}")
        if name == "PaymentPaid":
            self.refresh_sums()
            self.say(t("pay.paid", method=method, amount=_yuan(event.amount_fen), number=event.transaction_id))
            if self.tender.covered:
                self.show_saving()  # the session commits the sale now
            return
        if name == "PaymentRefused":
            self.refresh_sums()
            self.say(t("pay.refused", method=method, reason=event.reason or t("pay.no_reason")), error=True)
        elif name == "PaymentCancelled":
            self.refresh_sums()
            self.say(t("pay.cancelled", method=method), error=True)
        elif name == "PaymentNotSent":
            self.say(t("pay.not_sent", method=method, reason=event.reason), error=True)
        else:
            self.show_attempt()

    def pay_with_reference(self, amount: int) -> None:
        """A card, WeChat or Alipay payment, with what the cashier typed in the reference field (after Tab).

        Enter never moves to the reference field: a scan meant for the next customer stays out of it.
        """
        reference = self._reference()
        if self.method == "card" and not reference:
            tab = keymap.by_id("tender.reference")
            shown = keymap.display_key(keymap.key_of(tab)) if tab is not None else "Tab"
            self.say(t("tender.reference_needed", tab=shown), error=True)
            return
        self.pay(amount, reference)

    def pay_cash(self, amount: int) -> None:
        """Cash; change above [limits] max_change_fen asks first (a price typed twice, a code in the amount)."""
        from tui.screens.confirm import ask_limit
        from tui.services import guards

        question = guards.change_question(self.app.settings.limits, amount, self.session.change_due(amount))
        if question is None:
            self.pay(amount, "")
            return
        ask_limit(self.app, question, lambda: self.pay(amount, ""), lambda: self.say(t("guard.not_paid")))

    def pay(self, amount: int, reference: str) -> None:
        try:
            self.session.pay(self.method, amount, reference)  # stored as it is taken
        except Refused as exc:
            self.say(t(exc.code, method=t(f"method.{self.method}")), error=True)
            return
        except ValueError as exc:  # SaleError: said in the cashier's language
            from tui.errors import describe

            self.say(describe(exc), error=True)
            return
        if self.tender.covered:
            self.commit()
            return
        self.set_method("cash")
        self.refresh_sums()
        self.say("")

    def action_payment_failed(self) -> None:
        """The terminal or the phone said no: record it, then another method."""
        from store.money import format_yuan

        if not self.method:
            self.say_nothing_taken()
            return
        if self.method == "cash":  # a refused card or phone payment is recorded, never cash (a slip of F6)
            failed_key = keymap.by_id("tender.failed")
            key = keymap.display_key(keymap.key_of(failed_key)) if failed_key is not None else "F6"
            self.say(t("tender.cash_cannot_fail", shortcut=key), error=True)
            return
        amount = self._amount()
        if amount is None:
            return
        reference = self._reference()
        method = self.method
        # Kept with the tender: commit_sale stores it with the sale and logs the event.
        self.session.record_failed(method, amount, reference)
        self.set_method("cash")
        self.refresh_sums()
        self.say(t("tender.failed_recorded", method=t(f"method.{method}"), amount=format_yuan(amount)), error=True)

    def action_remove_payment(self) -> None:
        """Ctrl+D: take back the last payment (a typo, a change of mind) after one question; cash opens the drawer."""
        from tui.screens.abandon import hand_back_text
        from tui.screens.confirm import ConfirmScreen

        last = self.session.last_payment()
        if last is None:
            self.say(t("tender.nothing_to_remove"), error=True)
            return

        def answered(yes: Optional[bool]) -> None:
            if not yes or self.saving:
                return
            removed = self.session.remove_last_payment()  # cash: the drawer opens to hand it back
            if removed is None:
                return
            self.set_method("cash")
            self.refresh_sums()
            self.say(t("tender.payment_removed", payments=hand_back_text([removed])))

        self.app.push_screen(ConfirmScreen(t("tender.remove_question", payments=hand_back_text([last]))), answered)

    def action_cancel_basket(self) -> None:
        """Ctrl+X: give the basket up (money taken is handed back); the tender closes first."""
        from tui.screens.abandon import ask_cancel

        ask_cancel(self.app, before=lambda: self.dismiss(None))

    def commit(self) -> None:
        """Payments cover the total: the sale becomes durable now, before any printing.

        The one place the cashier waits: the commit runs on a worker and the screen says "Saving…";
        what is typed meanwhile goes to the sale screen afterwards, in order.
        """
        if self.saving:
            return
        self.show_saving()
        self.query_one("#tender-message", Static).update("")
        self.session.commit()  # the sale screen hears SaleCommitted or CommitFailed and hands it here

    def show_saving(self) -> None:
        """"Saving…" while the session commits the sale; keys typed meanwhile are kept for the sale screen."""
        self.saving = True
        note = self.query_one(SavingNote)
        note.typed.clear()
        note.display = True
        note.focus()

    def committed(self, sale: Any) -> None:
        note = self.query_one(SavingNote)
        sale_screen = self.app.sale_screen
        if sale_screen is not None:
            sale_screen.typed_while_saving = list(note.typed)
        self.dismiss(sale)

    def commit_failed(self, exc: Exception) -> None:
        """The database said no: keep everything, let the cashier retry."""
        log.error("commit failed: %s", exc, exc_info=exc)
        self.saving = False
        note = self.query_one(SavingNote)
        note.display = False
        self.query_one("#amount", Input).focus()
        self.refresh_sums()
        self.say(t("tender.commit_failed", error=exc), error=True)
