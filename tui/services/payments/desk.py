"""The payment desk: one worker thread that charges payment codes and follows each attempt to its end.

For each charge it stores the attempt (requested, committed) BEFORE the
request leaves, calls ``provider.pay``, and moves the attempt on every
answer (store.payment_attempts). It follows the provider's ``Schedule``:
query while the customer confirms (WAITING) or the answer is unclear
(UNKNOWN, with a growing pause while the provider cannot be reached); after
the wait limit, or when the cashier stops waiting, it cancels, never sooner
than ``cancel_after_seconds`` after the order, and again while the answer
asks for it or none comes. A timeout never decides paid or failed.

At start ``recover(till_id)`` queries every attempt the till left open
before anything else. What happens is reported as typed events through
``report``, handed to ``post`` (the app's call_from_thread). No Textual
here; never called on the UI thread except to hand work in.
"""
from __future__ import annotations

import datetime
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from store import payment_attempts as attempts
from store.db import db
from tui.services.payments import provider as answers
from tui.services.payments.events import (
    PaymentCancelled,
    PaymentCancelling,
    PaymentNotSent,
    PaymentPaid,
    PaymentRefused,
    PaymentUnclear,
    PaymentWaiting,
)
from tui.services.payments.provider import Answer, Schedule
from tui.services.payments.worker import Worker

log = logging.getLogger("chaoying.tui.services.payments.desk")


# ---------------------------------------------------------------- one order being followed

@dataclass
class _Order:
    out_trade_no: str
    provider: str
    amount_fen: int
    started: float  # the desk's clock when the order was made
    due: float  # when to act on it next
    state: str
    basket_id: Optional[int] = None
    auth_code: str = ""  # until the pay request is sent; never stored, never logged
    subject: str = ""
    stop: bool = False  # the cashier stopped waiting
    pause: float = 0.0  # the growing pause while nothing answers
    said: str = ""  # the kind of the last event reported
    schedule: Optional[Schedule] = None


#: The pause while nothing answers grows up to this many polls.
BACKOFF_POLLS = 6


class PaymentDesk(Worker):
    """Charges payment codes and follows their attempts, on its own thread."""

    thread_name = "chaoying-payments"

    def __init__(self, till_id: str, providers: Any, report: Callable[[Any], Any] = lambda event: None,
                 post: Callable[..., Any] = lambda function, *args: function(*args),
                 schedule: Optional[Schedule] = None, clock: Callable[[], float] = time.monotonic,
                 subject: str = "") -> None:
        self.till_id = str(till_id)
        self.providers = providers  # tui.services.payments.clients.Providers
        self._report = report
        self._post = post
        self._schedule = schedule  # tests: a short one for every provider; else each client's own
        self._clock = clock
        self.subject = subject  # what the customer's phone shows: the shop's name
        super().__init__()
        self._orders: Dict[str, _Order] = {}
        self._recover: List[str] = []

    # ------------------------------------------------------------ handed in (any thread)

    def offers(self, provider: str) -> bool:
        """Is ``provider`` set up on this till?"""
        return self.providers.offers(provider)

    def new_out_trade_no(self) -> str:
        return attempts.new_out_trade_no(self.till_id)

    def charge(self, out_trade_no: str, basket_id: Optional[int], provider: str, auth_code: str,
               amount_fen: int) -> None:
        """Charge ``auth_code`` ``amount_fen`` for the stored basket ``basket_id`` (soon, on the desk's thread)."""
        now = self._clock()
        order = _Order(out_trade_no, provider, int(amount_fen), now, now, "", basket_id, auth_code, self.subject)
        with self._changed:
            self._orders[out_trade_no] = order
            self._changed.notify_all()

    def stop_waiting(self, out_trade_no: str) -> None:
        """The cashier stops waiting for the customer: the order is cancelled (when the schedule allows)."""
        with self._changed:
            order = self._orders.get(out_trade_no)
            if order is not None and not order.stop:
                order.stop = True
                order.due = self._clock()
                self._changed.notify_all()

    def recover(self, till_id: Optional[str] = None) -> None:
        """Query every attempt this till left open (a restart, a crash) before anything else, then follow them."""
        with self._changed:
            self._recover.append(str(till_id or self.till_id))
            self._changed.notify_all()

    def following(self) -> List[str]:
        """The orders the desk follows now (their out_trade_no)."""
        with self._changed:
            return list(self._orders)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._recover or self._due(), self._pause())
                if self._stopping:
                    return
                recover, self._recover = self._recover, []
                due = self._due()
            with db.connection_context():
                for till_id in recover:
                    self._recovered(till_id)
                for order in due:
                    self._step(order)

    def _due(self) -> List[_Order]:
        now = self._clock()
        return [order for order in self._orders.values() if order.due <= now]

    def _pause(self) -> Optional[float]:
        if not self._orders:
            return None
        return max(0.0, min(order.due for order in self._orders.values()) - self._clock())

    def _recovered(self, till_id: str) -> None:
        try:
            rows = attempts.open_attempts(till_id)
        except Exception as exc:  # the store is away: try again soon
            log.error("open payment attempts not read: %s", exc, exc_info=exc)
            self._later_recover(till_id)
            return
        now, wall = self._clock(), datetime.datetime.now()
        for row in rows:
            if row.state == attempts.PAID or row.out_trade_no in self._orders:
                continue  # paid: the sale session adds its payment (missing_payments)
            age = max(0.0, (wall - _as_time(row.created_at)).total_seconds())
            order = _Order(row.out_trade_no, row.provider, int(row.amount_fen), now - age, now, row.state,
                           row.basket)
            with self._changed:
                self._orders[row.out_trade_no] = order
            log.info("payment %s left %s at the last stop: asked again", row.out_trade_no, row.state)

    def _later_recover(self, till_id: str) -> None:
        def again() -> None:
            self.recover(till_id)

        timer = threading.Timer(5.0, again)
        timer.daemon = True
        timer.start()

    # ------------------------------------------------------------ one step of one order

    def _step(self, order: _Order) -> None:
        try:
            if order.auth_code:
                self._pay(order)
            elif order.state == attempts.CANCELLING or order.stop or self._waited_out(order):
                self._cancel(order)
            else:
                self._apply(order, self._ask(order, "query"))
        except Exception as exc:  # the store is away, a client's bug: the order stays, asked again later
            log.error("payment %s: %s", order.out_trade_no, exc, exc_info=exc)
            order.due = self._clock() + self._grow_pause(order)

    def _pay(self, order: _Order) -> None:
        try:
            client = self.providers.client(order.provider)
            attempts.create(order.out_trade_no, self.till_id, order.basket_id, order.provider, order.amount_fen,
                            order.auth_code)
        except Exception as exc:  # nothing left: no attempt stored, no request sent
            log.error("payment %s not sent: %s", order.out_trade_no, exc)
            self._forget(order)
            self._say(PaymentNotSent(order.out_trade_no, order.provider, order.amount_fen, str(exc)))
            return
        code, order.auth_code, order.state = order.auth_code, "", attempts.REQUESTED
        log.info("payment %s: %s %d fen asked", order.out_trade_no, order.provider, order.amount_fen)
        try:
            answer = client.pay(order.out_trade_no, code, order.amount_fen, order.subject)
        except Exception as exc:  # a client never raises for the network; a bug must not decide either
            log.error("payment %s: pay raised %r", order.out_trade_no, exc)
            answer = Answer(answers.UNKNOWN, order.out_trade_no, code="CLIENT_ERROR")
        self._apply(order, answer, after_pay=True)

    def _ask(self, order: _Order, call: str) -> Answer:
        client = self.providers.client(order.provider)
        try:
            answer: Answer = getattr(client, call)(order.out_trade_no)
        except Exception as exc:
            log.error("payment %s: %s raised %r", order.out_trade_no, call, exc)
            return Answer(answers.UNKNOWN, order.out_trade_no, code="CLIENT_ERROR")
        if answer.out_trade_no != order.out_trade_no:  # it names another order: it settles nothing here
            log.warning("payment %s: an answer about %s ignored", order.out_trade_no, answer.out_trade_no)
            return Answer(answers.UNKNOWN, order.out_trade_no, code="OTHER_ORDER")
        return answer

    def _cancel(self, order: _Order) -> None:
        if order.state != attempts.CANCELLING:
            self._move(order, attempts.CANCELLING)
            self._tell(order, PaymentCancelling(order.out_trade_no, order.provider, order.amount_fen))
        earliest = order.started + self._schedule_of(order).cancel_after_seconds
        if self._clock() < earliest:
            order.due = earliest
            return
        answer = self._ask(order, "cancel")
        if answer.state == answers.FAILED:  # the provider would not cancel: what is the order now?
            answer = self._ask(order, "query")
        self._apply(order, answer)

    # ------------------------------------------------------------ an answer moves the attempt

    def _apply(self, order: _Order, answer: Answer, after_pay: bool = False) -> None:
        if answer.out_trade_no != order.out_trade_no:
            answer = Answer(answers.UNKNOWN, order.out_trade_no, code="OTHER_ORDER")
        if not amount_agrees(answer, order.amount_fen):  # never paid for another amount: asked again, then reversed
            log.error("payment %s: the provider says %d fen were paid, not %d", order.out_trade_no,
                      answer.amount_fen, order.amount_fen)
            answer = Answer(answers.UNKNOWN, order.out_trade_no, code="AMOUNT_DIFFERS")
        state = answer.state  # an answer's words are the attempt's states (provider.py)
        if order.state == attempts.CANCELLING and state in (attempts.WAITING, attempts.UNKNOWN):
            state = attempts.CANCELLING  # still not cancelled: cancel again
        self._move(order, state, answer)
        if state in (attempts.PAID, attempts.FAILED, attempts.CANCELLED):
            self._forget(order)
        else:
            order.due = self._clock() + self._next_pause(order, answer, after_pay)
        self._tell(order, self._event(order, state, answer))

    def _move(self, order: _Order, state: str, answer: Optional[Answer] = None) -> None:
        if answer is None:
            attempts.move(order.out_trade_no, state)
        else:
            attempts.move(order.out_trade_no, state, answer.transaction_id, answer.code, answer.reason)
        order.state = state

    def _event(self, order: _Order, state: str, answer: Answer) -> Any:
        head = (order.out_trade_no, order.provider, order.amount_fen)
        if answer.state == answers.UNKNOWN:
            return PaymentUnclear(*head, reason=answer.reason, state=state)
        if state == attempts.PAID:
            return PaymentPaid(*head, transaction_id=answer.transaction_id)
        if state == attempts.FAILED:
            return PaymentRefused(*head, reason=answer.reason, code=answer.code)
        if state == attempts.CANCELLED:
            return PaymentCancelled(*head)
        if state == attempts.WAITING:
            return PaymentWaiting(*head)
        return PaymentCancelling(*head)

    def _next_pause(self, order: _Order, answer: Answer, after_pay: bool) -> float:
        schedule = self._schedule_of(order)
        if answer.state != answers.UNKNOWN:
            order.pause = 0.0
            return schedule.poll_seconds
        if after_pay:
            return schedule.retry_seconds
        return self._grow_pause(order)

    def _grow_pause(self, order: _Order) -> float:
        schedule = self._schedule_of(order)
        order.pause = min(max(schedule.poll_seconds, order.pause * 2), schedule.poll_seconds * BACKOFF_POLLS)
        return order.pause

    def _waited_out(self, order: _Order) -> bool:
        return self._clock() - order.started >= self._schedule_of(order).wait_limit_seconds

    def _schedule_of(self, order: _Order) -> Schedule:
        if order.schedule is None:
            order.schedule = self._schedule or self.providers.client(order.provider).schedule
        return order.schedule

    def _forget(self, order: _Order) -> None:
        with self._changed:
            self._orders.pop(order.out_trade_no, None)

    def _tell(self, order: _Order, event: Any) -> None:
        """Report ``event`` unless it says again what the last one said (a poll that is still waiting)."""
        if type(event).__name__ != order.said:
            order.said = type(event).__name__
            self._say(event)

    def _say(self, event: Any) -> None:
        self._post(self._report, event)


def amount_agrees(answer: Answer, amount_fen: int) -> bool:
    """A paid answer counts only for the amount asked (0: the provider did not say, as some answers do not)."""
    return answer.state != answers.PAID or answer.amount_fen in (0, amount_fen)



def _as_time(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


__all__ = ["PaymentDesk", "amount_agrees"]
