"""A basket set aside while its payment attempt is unclear, and how its attempt's answer settles it later
(the rules: tui/services/payment_aside.py) (a part of SaleSession)."""
from __future__ import annotations

from typing import Any, List, Tuple

from store import payment_attempts as states
from tui.i18n import t
from tui.services import payment_aside as aside_rules
from tui.services.payment_aside import AsideCommitted, AsideFailed, AsideReleased, BasketSetAside, SetAsideFailed
from tui.services.sale.attempts import AttemptsPart, missing_payments, state_of
from tui.services.sale.core import HOLDING, Refused, stored_id, yuan


class AsidePart(AttemptsPart):
    """The baskets this till set aside, each waiting for its attempt's answer."""

    # ------------------------------------------------------------ set aside while a payment is unclear

    def payment_event(self, event: Any) -> None:
        """The desk's answer about an attempt (on the owner's thread): a set-aside basket's, or the open one's."""
        if event.out_trade_no in self.aside:
            self._aside_event(event)
            return
        super().payment_event(event)

    def may_set_aside(self) -> bool:
        return aside_rules.may_set_aside(list(self.attempts.values()))

    def check_set_aside(self) -> None:
        """Ctrl+G on the tender: only while the basket's attempt is unclear, nothing else taken, not busy."""
        if self.busy:
            raise Refused("held.busy")
        if not self.may_set_aside():
            raise Refused("aside.not_unclear")
        if self.money_taken():
            raise Refused("hold.paid")

    def set_aside(self) -> aside_rules.Aside:
        """Set the basket aside (stored as such); the session has an empty one at once and the desk keeps asking.
        BasketSetAside or SetAsideFailed follows; later AsideCommitted or AsideReleased (payment_event)."""
        from store import baskets

        self.check_set_aside()
        views = self.attempts
        aside = aside_rules.aside_now(aside_rules.awaited(list(views.values())))
        note = t("aside.note", method=t(f"method.{aside.provider}"))
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def failed(exc: Exception) -> None:
            if self._holding is not None:
                self._basket, self.tender = self._holding
            self.attempts, self.busy, self._holding = views, "", None
            self.aside.pop(aside.out_trade_no, None)
            self._report(SetAsideFailed(exc))

        def done(_value: Any) -> None:
            self.busy, self._holding = "", None  # the store logged it (basket_set_aside)
            self._report(BasketSetAside(aside))

        self.busy, self._holding = HOLDING, (self.basket, self.tender)
        self.aside[aside.out_trade_no] = aside
        self._basket, self.tender, self.attempts = None, None, {}
        self.saver.finish(lambda basket_id: baskets.set_aside(stored_id(basket_id), till_id, note, cashier),
                          done, failed)
        return aside

    def recover_aside(self, found: List[Tuple[Any, List[Any]]]) -> None:
        """At start (before the desk's recover): the baskets this till set aside, each settled by its attempt
        as stored now (paid: its sale commits; nothing charged: held), or followed again."""
        for stored, attempts in found:
            attempt = aside_rules.awaited(list(attempts))
            if attempt is None:
                continue
            aside = aside_rules.aside_now(attempt, aside_rules.aside_at(stored.updated_at))
            self.aside[aside.out_trade_no] = aside
            self._settle(aside, attempt.state, None)

    def _aside_event(self, event: Any) -> None:
        """An answer about a set-aside basket's attempt: the open basket is not touched."""
        aside = self.aside[event.out_trade_no]
        self._settle(aside, state_of(event, states.UNKNOWN), event)

    def _settle(self, aside: aside_rules.Aside, state: str, event: Any) -> None:
        what = aside_rules.settlement(state)
        if what == aside_rules.COMMIT:
            self._commit_aside(aside, event)
        elif what == aside_rules.RELEASE:
            self._release_aside(aside, event)

    def _commit_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        """The saver commits THAT basket (not the open one), behind what it still has to store."""
        till = self.till

        def done(result: Any) -> None:
            if self.aside.pop(aside.out_trade_no, None) is None or result is None:
                self._not_aside(aside, event)
                return
            sale, _tender = result
            self.log("basket_aside_paid", f"{aside.provider} {yuan(aside.amount_fen)} {aside.out_trade_no} "
                                          f"sale {sale.receipt_no}")
            self._report(AsideCommitted(aside, sale))

        self.saver.run(lambda _open_id: aside_rules.commit_aside(till, aside.out_trade_no, missing_payments), done,
                       lambda exc: self._report(AsideFailed(aside, exc)))

    def _release_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        note = t("aside.failed_note", method=t(f"method.{aside.provider}"))
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def done(released: bool) -> None:
            if self.aside.pop(aside.out_trade_no, None) is None or not released:
                self._not_aside(aside, event)
                return
            self._report(AsideReleased(aside))  # the store logged it (basket_released)

        self.saver.run(lambda _open_id: aside_rules.release_aside(till_id, aside.out_trade_no, note, cashier),
                       done, lambda exc: self._report(AsideFailed(aside, exc)))

    def _not_aside(self, aside: aside_rules.Aside, event: Any) -> None:
        """The basket was not aside (its set-aside failed: it is the open one again): the answer is its."""
        self.aside.pop(aside.out_trade_no, None)
        if event is not None and event.out_trade_no in self.attempts:
            self.payment_event(event)
