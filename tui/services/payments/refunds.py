"""The refund desk: one worker thread that asks the providers for the refunds that refund and void documents
hold, and follows each until the provider says refunded or refused.

A provider refund is stored with its document (store.provider_refunds), so
the desk only ever sends what is durable. ``send(document_id)`` follows a
document just committed (its refund is asked at once); ``recover()`` at
start follows every refund the till left unsettled, asking the provider
first (``next_call``); ``retry(out_refund_no)`` asks a refused refund
again, with the same number. An accepted refund (PENDING) is not refunded:
it is queried, with a growing pause, until it is. An answer the provider
does not give (the shop's internet is down) never decides anything.

What happens is reported as typed events through ``report``, handed to
``post`` (the app's call_from_thread or post_message). No Textual here;
never called on the UI thread except to hand work in.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, List, Optional

from store import provider_refunds
from store.db import db
from store.provider_refunds import FAILED, PENDING, REFUNDED, REQUESTED, UNKNOWN
from tui.services.payments import provider as answers
from tui.services.payments.provider import RefundAnswer
from tui.services.payments.worker import Worker

log = logging.getLogger("chaoying.tui.services.payments.refunds")

QUERY, REFUND = "query", "refund"


# ---------------------------------------------------------------- events (through report)

@dataclass(frozen=True)
class RefundEvent:
    document_id: int
    out_refund_no: str
    provider: str
    amount_fen: int


@dataclass(frozen=True)
class RefundDone(RefundEvent):
    """The provider gave the money back: its refund number."""

    refund_id: str = ""


@dataclass(frozen=True)
class RefundPending(RefundEvent):
    """Accepted, not yet done: the desk queries it until it is."""

    refund_id: str = ""


@dataclass(frozen=True)
class RefundRefused(RefundEvent):
    """The provider refused the refund: the money must go back another way (cash), or be asked again later."""

    reason: str = ""
    code: str = ""


@dataclass(frozen=True)
class RefundUnclear(RefundEvent):
    """No answer that settles it (the provider cannot be reached): the desk keeps asking."""

    reason: str = ""


# ---------------------------------------------------------------- the rules

def next_call(state: str, ask_first: bool) -> str:
    """What to ask the provider of a refund now: QUERY an accepted one (and, after a restart or an unclear
    answer, any one first); REFUND one never answered (the same out_refund_no: the provider refunds once)."""
    return QUERY if state == PENDING or ask_first else REFUND


def state_after(state: str, answer: str) -> str:
    """The refund's state after an answer: a provider that cannot be reached leaves an accepted refund
    accepted; otherwise the answer's own (REFUNDED, PENDING, FAILED, UNKNOWN)."""
    if answer == answers.UNKNOWN and state == PENDING:
        return PENDING
    return _STATE_OF[answer]


_STATE_OF = {answers.REFUNDED: REFUNDED, answers.PENDING: PENDING, answers.FAILED: FAILED,
             answers.UNKNOWN: UNKNOWN}


@dataclass(frozen=True)
class RefundSchedule:
    """Seconds between questions about a refund not settled: the first pause, doubled up to the longest."""

    poll_seconds: float = 5.0
    longest_seconds: float = 300.0


def next_pause(pause: float, schedule: RefundSchedule) -> float:
    """The pause before asking again: the first one, then twice the last, never above the longest."""
    return min(max(schedule.poll_seconds, pause * 2), schedule.longest_seconds)


# ---------------------------------------------------------------- one refund being followed

@dataclass
class _Follow:
    out_refund_no: str
    out_trade_no: str
    document_id: int
    provider: str
    total_fen: int
    amount_fen: int
    state: str
    ask_first: bool
    due: float
    pause: float = 0.0
    said: str = ""


class RefundDesk(Worker):
    """Asks the providers for the refunds of refund and void documents, on its own thread."""

    thread_name = "chaoying-refunds"

    def __init__(self, till_id: str, providers: Any, report: Callable[[Any], Any] = lambda event: None,
                 post: Callable[..., Any] = lambda function, *args: function(*args),
                 schedule: RefundSchedule = RefundSchedule(), clock: Callable[[], float] = time.monotonic) -> None:
        self.till_id = str(till_id)
        self.providers = providers  # tui.services.payments.clients.Providers
        self._report, self._post = report, post
        self.schedule, self._clock = schedule, clock
        super().__init__()
        self._follows: Dict[str, _Follow] = {}
        self._jobs: List[Callable[[], None]] = []
        self._working = False  # the thread runs jobs handed in (they are no longer in _jobs)

    # ------------------------------------------------------------ handed in (any thread)

    def send(self, document_id: int) -> None:
        """Ask the provider for the refunds of a document just committed (soon, on the desk's thread)."""
        self._job(lambda: self._follow_document(int(document_id)))

    def retry(self, out_refund_no: str) -> None:
        """Ask a refused refund again, with the same number (the cashier's retry)."""
        self._job(lambda: self._retried(out_refund_no))

    def recover(self) -> None:
        """Follow every refund this till left unsettled (a restart, a crash), asking the provider first."""
        self._job(self._recovered)

    def following(self) -> List[str]:
        """The refunds the desk follows now (their out_refund_no)."""
        with self._changed:
            return list(self._follows)

    def busy(self) -> bool:
        """Work handed in and not yet done, or refunds still followed."""
        with self._changed:
            return bool(self._jobs or self._follows or self._working)

    def _job(self, job: Callable[[], None]) -> None:
        with self._changed:
            self._jobs.append(job)
            self._changed.notify_all()

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._jobs or self._due(), self._pause())
                if self._stopping:
                    return
                jobs, self._jobs = self._jobs, []
                due = self._due()
                self._working = bool(jobs)
            with db.connection_context():
                for job in jobs:
                    self._safely(job)
                with self._changed:
                    self._working = False
                for follow in due:
                    self._safely(partial(self._step, follow), follow)

    def _safely(self, job: Callable[[], None], follow: Optional[_Follow] = None) -> None:
        try:
            job()
        except Exception as exc:  # the store is away, a client's bug: asked again later
            log.error("refund work failed: %s", exc, exc_info=exc)
            if follow is not None:
                follow.pause = next_pause(follow.pause, self.schedule)
                follow.due = self._clock() + follow.pause

    def _due(self) -> List[_Follow]:
        now = self._clock()
        return [follow for follow in self._follows.values() if follow.due <= now]

    def _pause(self) -> Optional[float]:
        if not self._follows:
            return None
        return max(0.0, min(follow.due for follow in self._follows.values()) - self._clock())

    def _follow_document(self, document_id: int) -> None:
        for row in provider_refunds.of_document(document_id):
            if row.state in provider_refunds.OPEN_STATES:
                self._add(row, ask_first=row.state != REQUESTED)

    def _retried(self, out_refund_no: str) -> None:
        self._add(provider_refunds.ask_again(out_refund_no), ask_first=False)

    def _recovered(self) -> None:
        for row in provider_refunds.open_refunds(self.till_id):
            log.info("refund %s left %s at the last stop: asked again", row.out_refund_no, row.state)
            self._add(row, ask_first=True)

    def _add(self, row: Any, ask_first: bool) -> None:
        with self._changed:
            if row.out_refund_no not in self._follows:
                self._follows[row.out_refund_no] = _Follow(
                    row.out_refund_no, row.out_trade_no, int(row.document), row.provider, int(row.total_fen),
                    int(row.amount_fen), row.state, ask_first, self._clock())

    # ------------------------------------------------------------ one step of one refund

    def _step(self, follow: _Follow) -> None:
        client = self.providers.client(follow.provider)
        call = next_call(follow.state, follow.ask_first)
        answer = self._ask(follow, call, client)
        if call == QUERY and answer.state == answers.UNKNOWN and follow.state != PENDING:
            answer = self._ask(follow, REFUND, client)  # not known there (or not reachable): ask it, same number
        self._apply(follow, answer)

    def _ask(self, follow: _Follow, call: str, client: Any) -> RefundAnswer:
        try:
            if call == QUERY:
                answer: RefundAnswer = client.refund_query(follow.out_trade_no, follow.out_refund_no)
            else:
                answer = client.refund(follow.out_trade_no, follow.out_refund_no, follow.total_fen, follow.amount_fen)
        except Exception as exc:  # a client never raises for the network; a bug must not decide either
            log.error("refund %s: %s raised %r", follow.out_refund_no, call, exc)
            return RefundAnswer(answers.UNKNOWN, follow.out_refund_no, code="CLIENT_ERROR")
        if answer.out_refund_no != follow.out_refund_no:  # about another refund: it settles nothing here
            return RefundAnswer(answers.UNKNOWN, follow.out_refund_no, code="OTHER_REFUND")
        return answer

    def _apply(self, follow: _Follow, answer: RefundAnswer) -> None:
        state = state_after(follow.state, answer.state)
        if state != follow.state or answer.state != answers.UNKNOWN:
            provider_refunds.move(follow.out_refund_no, state, answer.refund_id, answer.code, answer.reason)
        follow.state = state
        follow.ask_first = state == UNKNOWN
        if state in (REFUNDED, FAILED):
            with self._changed:
                self._follows.pop(follow.out_refund_no, None)
        else:
            follow.pause = next_pause(follow.pause, self.schedule)
            follow.due = self._clock() + follow.pause
        self._tell(follow, self._event(follow, state, answer))

    def _event(self, follow: _Follow, state: str, answer: RefundAnswer) -> RefundEvent:
        head = (follow.document_id, follow.out_refund_no, follow.provider, follow.amount_fen)
        if state == REFUNDED:
            return RefundDone(*head, refund_id=answer.refund_id)
        if state == FAILED:
            return RefundRefused(*head, reason=answer.reason or answer.code, code=answer.code)
        if answer.state == answers.UNKNOWN:
            return RefundUnclear(*head, reason=answer.reason or answer.code)
        return RefundPending(*head, refund_id=answer.refund_id)

    def _tell(self, follow: _Follow, event: RefundEvent) -> None:
        """Report ``event`` unless it says again what the last one said (a query that is still processing)."""
        if type(event).__name__ != follow.said:
            follow.said = type(event).__name__
            self._post(self._report, event)


__all__ = ["RefundDesk", "RefundDone", "RefundPending", "RefundRefused", "RefundUnclear", "RefundSchedule",
           "next_call", "state_after", "next_pause"]


# ---------------------------------------------------------------- what the cashier is told

def provider_name(provider: str) -> str:
    """微信支付 / 支付宝 (WeChat Pay / Alipay): the provider as the sentences name it."""
    from tui.i18n import t

    return t("provider_refund.via." + provider) if provider in ("wechat", "alipay") else provider


def event_text(event: RefundEvent) -> str:
    """One sentence for an answer of the refund desk (the till shows it; a refusal says what to do)."""
    from tui.i18n import t, yuan

    values = dict(provider=provider_name(event.provider), amount=yuan(event.amount_fen))
    if isinstance(event, RefundDone):
        return t("provider_refund.done", refund_id=event.refund_id or "-", **values)
    if isinstance(event, RefundRefused):
        return t("provider_refund.refused", reason=event.reason or t("provider_refund.no_reason"),
                 retry=t("provider_refund.retry_key"), **values)
    if isinstance(event, RefundUnclear):
        return t("provider_refund.unclear", reason=event.reason or t("provider_refund.no_reason"), **values)
    return t("provider_refund.pending", **values)


def refused(refund: Dict[str, Any]) -> bool:
    """The provider said no to this refund: the money must go back another way (or be asked again)."""
    return bool(refund["state"] == FAILED)


def refund_note(provider: str, refund: Dict[str, Any], retry: str = "") -> str:
    """A provider refund as the history's detail and the sales list say it: its state, the provider's refund
    number, why it is pending, or (refused) what to do (``retry``: how to ask again; the history's key)."""
    from tui.i18n import t, yuan

    values = dict(provider=provider_name(provider), amount=yuan(int(refund["amount_fen"])),
                  number=refund["out_refund_no"])
    state = refund["state"]
    if state == REFUNDED:
        return t("provider_refund.note.refunded", refund_id=refund["refund_id"] or "-", **values)
    if state == FAILED:
        reason = refund["reason"] or refund["reason_code"] or t("provider_refund.no_reason")
        return t("provider_refund.refused", reason=reason, retry=retry or t("provider_refund.retry_key"), **values)
    if state == PENDING:
        return t("provider_refund.note.pending", why=refund["reason_code"] or "-", **values)
    return t("provider_refund.note." + state, **values)


def english_note(provider: str, refund: Dict[str, Any]) -> str:
    """``refund_note`` in English, naming the command that asks again (the back-office CLI speaks English)."""
    from tui import i18n

    said = i18n.language()
    i18n.set_language("en")
    try:
        return refund_note(provider, refund, retry="chaoying sales refund-again")
    finally:
        i18n.set_language(said)


def unsettled_notes(sales: List[Dict[str, Any]]) -> List[str]:
    """Under ``sales list``: each refund or void whose provider refund is refused or not settled yet."""
    lines = []
    for sale in sales:
        for payment in sale.get("payments", ()):
            refund = payment.get("refund")
            if refund and refund["state"] != REFUNDED:
                lines.append(f"{sale['receipt']}: {english_note(payment['method'], refund)}")
    return lines


def desk_from(providers: Any, till_id: str, report: Callable[[Any], Any],
              post: Callable[..., Any]) -> Optional[RefundDesk]:
    """The till's refund desk over ``providers`` (clients.providers_from(settings)); None when none is set up."""
    if not any(providers.offers(name) for name in ("wechat", "alipay")):
        return None
    return RefundDesk(till_id, providers, report=report, post=post)
