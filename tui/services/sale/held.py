"""Held baskets (挂单 / 取单): holding the open basket, resuming one (this till's, or another till's through the
shop's server: store/shop_wide.py), the Ctrl+Y list, and restoring a stored basket (a part of SaleSession)."""
from __future__ import annotations

from typing import Any, List, NamedTuple, Optional

from tui.services.sale.attempts import attempt_view, missing_payments
from tui.services.sale.core import HOLDING, RESUMING, Refused, log, stored_id
from tui.services.sale.tender import TenderPart, tender_for


class BasketHeld(NamedTuple):
    pass


class HoldFailed(NamedTuple):
    """Not held: the basket is back as it was."""

    error: Exception


class BasketResumed(NamedTuple):
    stored: Any


class ResumeFailed(NamedTuple):
    error: Exception


class HeldPart(TenderPart):
    """Held baskets, and a stored basket becoming the session's."""

    # ------------------------------------------------------------ held baskets (挂单 / 取单)

    def check_hold(self) -> None:
        """Ctrl+G: refused while busy, on an empty basket, or with money taken."""
        if self.busy:
            raise Refused("held.busy")
        if self.basket.is_empty:
            raise Refused("hold.empty")
        self.check_not_blocked()
        if self.money_taken():
            raise Refused("hold.paid")

    def hold(self, note: str) -> None:
        """Hold the basket as stored; the session has an empty one at once. BasketHeld or HoldFailed follows."""
        from store import baskets

        self.check_hold()
        till_id, cashier = self.till.till_id, self.till.cashier or None

        def hold(basket_id: Optional[int]) -> None:
            baskets.hold(stored_id(basket_id), till_id, note, cashier)

        def failed(exc: Exception) -> None:
            if self._holding is not None:
                self._basket, self.tender = self._holding
            self.busy, self._holding = "", None
            self._report(HoldFailed(exc))

        def done(_value: Any) -> None:
            self.busy, self._holding = "", None
            self._report(BasketHeld())

        self.busy, self._holding = HOLDING, (self.basket, self.tender)
        self._basket, self.tender, self.attempts = None, None, {}
        self.saver.finish(hold, done, failed)

    def check_resume(self) -> None:
        """Ctrl+Y: only onto an empty basket with nothing taken, and not while busy."""
        if self.busy:
            raise Refused("held.busy")
        if self.sale_open() or self.money_taken():
            raise Refused("held.finish_first")

    def resume(self, basket_id: Any) -> None:
        """Take a held basket back (after what the saver still has to store); BasketResumed or ResumeFailed
        follows. ``basket_id``: what the Ctrl+Y row hands over (store.shop_wide.HeldRow.choice): this till's
        basket id, or another till's basket on the shop's server, claimed there first (store.shop_wide.take)."""
        from store import baskets

        self.check_resume()
        till_id, cashier = self.till.till_id, self.till.cashier or None
        server_url = self.server_url()

        def take() -> Any:
            if not server_url and isinstance(basket_id, int):
                return baskets.resume(basket_id, till_id, cashier)
            from store import shop_wide

            return shop_wide.take(basket_id, till_id, cashier, server_url)

        def resume(current_id: Optional[int]) -> Any:
            stored = take()
            if current_id is not None and current_id != stored.id:
                baskets.cancel(current_id, till_id, cashier)  # a basket emptied line by line: it ends here
            return stored

        def done(stored: Any) -> None:
            self.busy = ""
            self.restore(stored)
            self._report(BasketResumed(stored))

        def failed(exc: Exception) -> None:
            self.busy = ""
            self._report(ResumeFailed(exc))

        self.busy = RESUMING
        self.saver.finish(resume, done, failed)

    def server_url(self) -> str:
        """The shop's server ([server] url), "" when this till stands alone."""
        server = getattr(self.settings, "server", None)
        return str(getattr(server, "url", "") or "")

    def shop(self) -> str:
        """The shop code ([till] shop): the server lists the held baskets of this shop's tills."""
        return str(getattr(getattr(self.settings, "till", None), "shop", "") or "")

    def held_list(self) -> Any:
        """Ctrl+Y's list (store.shop_wide.held_list): this till's held baskets and, from the server, the other
        tills'; store and network work, for a thread worker."""
        from store import shop_wide

        return shop_wide.held_list(self.till.till_id, self.server_url(), self.shop())

    def restore(self, stored: Any, attempts: List[Any] = ()) -> bool:  # type: ignore[assignment]
        """A stored basket (left open by a crash or a close, or resumed) is this session's, with its payments
        and its payment attempts (read from the store). A paid attempt whose payment the tender lacks becomes
        its payment, once; a tender covered by it commits now (SaleCommitted follows): True then."""
        self.saver.adopt(stored.id)
        self._basket = stored.basket
        self.tender = stored.tender() if stored.payments else None
        self.attempts = {a.out_trade_no: attempt_view(a) for a in attempts}
        missing = missing_payments(stored.payments, list(attempts))
        if not missing:
            return False
        self.tender = tender_for(self.basket, self.tender)
        self.tender.payments.extend(missing)  # charged by the provider: kept whatever the tender says
        self.save()
        log.info("restored basket %s: %d paid payment attempts added", stored.id, len(missing))
        if self.tender.covered:
            self.commit()
            return True
        return False
