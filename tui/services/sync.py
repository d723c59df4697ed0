"""The sync worker: the till's records go up to the shop's server, on a thread of their own.

One daemon thread ("chaoying-sync"), never the UI thread. Each round it connects when it has no
connection (backoff 1, 2, 4 ... 30 s after a failure, reset by a round that works), aligns the
till's mark with the server's head on a new connection (the server's head is the truth: a crash
between the server's commit and ``mark_sent`` leaves the server ahead), sends batches until none
waits, then calls the other parts' hooks (``default_hooks``: ``store.shared_data.pull``,
``store.shop_wide.push``, ``store.shop_stock.pull``). It polls about every second and wakes at
once on ``notify()``.

Nothing that fails stops it: a round that raises is one sentence (password redacted) in the status
and the log (with its traceback), the connection is closed and replaced, never reused, and the
next round comes after the backoff. A batch the server refuses stops the pushing: the refusal's
sentence stays in the status and the push is tried again a minute later, in case the owner fixed
it. ``status()`` hands out a frozen SyncStatus; the screens only render it. Its sentences are
English (the log's); ``shown_error``/``shown_refused`` say the same in the UI language, from the
server's error codes (``shown``). The last failing sentence is kept in the local database
(``store.sync_batch.keep_error``, written when it changes) for ``chaoying sync status``.
"""
from __future__ import annotations

import datetime
import logging
import re
import string
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from store.db import db
from store.errors import ServerError
from store.models import GENESIS_HASH, Audit, TillCounter
from tui.i18n import EN, t

log = logging.getLogger("chaoying.sync")

THREAD_NAME = "chaoying-sync"
POLL_S = 1.0
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
REFUSED_RETRY_S = 60.0
CONNECT_TIMEOUT_S = 5.0
STARTUP_TIMEOUT_S = 2.0  # the till's start asks the server once, for a till new on its SQLite: never longer
BATCH_LIMIT = 500

Hook = Tuple[str, Callable[[Any], Any]]


@dataclass(frozen=True)
class SyncStatus:
    """What the till shows of its sync: online, or offline since when, records waiting, why it fails."""

    online: bool = False
    offline_since: Optional[datetime.datetime] = None
    waiting: int = 0
    error: str = ""  # why the last round failed, one sentence ("" when it worked)
    refused: str = ""  # the server's refusal of this till's batches, one sentence ("" when none)
    shown_error: str = ""  # ``error`` in the UI language ("" when none)
    shown_refused: str = ""  # ``refused`` in the UI language ("" when none)


class HookFailed(Exception):
    """A hook (default_hooks) raised: the round fails like any other, naming the hook."""

    def __init__(self, name: str, error: BaseException) -> None:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0].strip()
        super().__init__(f"{name} failed: {first}")
        self.name = name
        self.error = error


def next_backoff(current: float, first: float = BACKOFF_FIRST_S, most: float = BACKOFF_MAX_S) -> float:
    """The wait after one more failure: 1, 2, 4 ... up to ``most`` seconds."""
    return first if current <= 0 else min(most, current * 2)


_PASSWORD_IN_URL = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)
_PASSWORD_IN_DSN = re.compile(r"(\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redacted(text: str) -> str:
    """``text`` with any password of a URL or a connection string replaced by ***."""
    return _PASSWORD_IN_DSN.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", text))


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()


def _server_error(exc: BaseException) -> Optional[BaseException]:
    """The ServerError of a failed round (a hook's own included), None when it is another error."""
    inner = exc.error if isinstance(exc, HookFailed) else exc
    return inner if isinstance(inner, ServerError) else None


def sentence(exc: BaseException) -> str:
    """One English sentence for a failed round (the log's): the server's own (ServerError) or the first line."""
    server = _server_error(exc)
    if server is not None:
        return redacted(_first(server))
    return redacted(f"sync with the shop's server failed: {_first(exc)}")


def expected(exc: BaseException) -> bool:
    """True for a failure the network or the server explains (a ServerError, also inside a hook's failure):
    its sentence says it all, the log needs no traceback. Anything else is a bug, logged with its traceback."""
    return _server_error(exc) is not None


def shown(exc: BaseException) -> str:
    """The same failure in the UI language: the words of the server's error code (i18n ``error.<code>``,
    e.g. error.server_unreachable), else a translated frame around its first line; a hook is named."""
    server = _server_error(exc)
    if server is not None:
        said = coded(str(getattr(server, "code", "")), getattr(server, "values", None) or {})
        if said is not None:
            return redacted(said)
        return redacted(t("sync.server_said", detail=_first(server)))
    if isinstance(exc, HookFailed):
        return redacted(t("sync.hook_failed", name=exc.name, detail=_first(exc.error)))
    return redacted(t("sync.failed", detail=_first(exc)))


def coded(code: str, values: Mapping[str, Any]) -> Optional[str]:
    """A server error's code and values in the UI language (i18n ``error.<code>``), None when the code has no
    words or a value its words need is missing (the caller then says the server's own sentence)."""
    from tui.errors import words

    key = "error." + str(code or "")
    shown_values = words(dict(values or {}))
    if key in EN and _fields(EN[key]) <= set(shown_values):
        return t(key, **shown_values)
    return None


def _fields(text: str) -> Set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def default_hooks() -> List[Hook]:
    """What each round calls after the push, with the server connection: shared data down (prices, cashiers,
    settings), then this till's held baskets up, then the shop's stock balances down. A hook that raises fails
    the round, named (HookFailed)."""
    from store import shared_data, shop_stock, shop_wide

    return [("store.shared_data.pull", shared_data.pull), ("store.shop_wide.push", shop_wide.push),
            ("store.shop_stock.pull", shop_stock.pull)]


def stale_tills(heads: Sequence[Dict[str, Any]], now: datetime.datetime, warn_minutes: int) -> List[Dict[str, Any]]:
    """The tills of the server's heads (store.server.till_heads) whose last batch is older than
    ``warn_minutes`` (or that never sent one), oldest first, each with ``minutes`` since then (None: never).

    The age is the server's own (``silent_s``: its clock wrote ``last_at``); ``now`` only stands in for a head
    without it."""
    found: List[Dict[str, Any]] = []
    for head in heads:
        last, silent = head.get("last_at"), head.get("silent_s")
        if isinstance(last, str):
            last = datetime.datetime.fromisoformat(last)
        if last is not None and last.tzinfo is not None and now.tzinfo is None:
            last = last.astimezone().replace(tzinfo=None)
        if last is None:
            minutes = None
        elif silent is not None:
            minutes = int(silent) // 60
        else:
            minutes = int((now - last).total_seconds() // 60)
        if minutes is None or minutes >= warn_minutes:
            found.append({**head, "minutes": minutes})
    found.sort(key=lambda row: (0, 0) if row["minutes"] is None else (1, -row["minutes"]))  # never synced first
    return found


def local_mark(till_id: str) -> Tuple[int, str]:
    """(sent_seq, sent_hash) of this till's mark in the local database; (0, genesis) before the first batch."""
    cursor = db.execute_sql(f"SELECT sent_seq, sent_hash FROM sync_mark WHERE till_id = {db.param}", (till_id,))
    row = cursor.fetchone()
    return (0, _genesis()) if row is None else (int(row[0]), str(row[1]))


def shared_days_refusal(conn: Any, till_id: str) -> str:
    """One sentence when the server holds receipts of ``till_id`` from the shared-database days (its till_counter
    has a row the sync never made, as no sync_till row says); "" otherwise. A local numbering from 1 would
    repeat them, so the owner gives this till a new id (simple and correct: no chain is spliced)."""
    number = shared_days_receipt(conn, till_id)
    return "" if number is None else _repeated(till_id, number)


def _repeated(till_id: str, number: int) -> str:
    return (f"the shop's server already holds receipts up to {number} of till {till_id} from when the tills sold "
            f"on it directly, and this till's own numbering would repeat them: give this till an id the server "
            f"has not seen in [till] id and start it again")


def shared_days_receipt(conn: Any, till_id: str) -> Optional[int]:
    """The last receipt number of ``till_id`` the server holds from the shared-database days; None when none."""
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT to_regclass('till_counter') IS NOT NULL, to_regclass('sync_till') IS NOT NULL")
            has_counter, has_sync = cursor.fetchone()
            if not has_counter:
                return None
            cursor.execute("SELECT last_receipt_no, audit_seq FROM till_counter WHERE till_id = %s", (till_id,))
            row = cursor.fetchone()
            if row is None or not (row[0] or row[1]):
                return None
            if has_sync:
                cursor.execute("SELECT 1 FROM sync_till WHERE till_id = %s", (till_id,))
                if cursor.fetchone() is not None:
                    return None  # the sync made it: the server's chain check speaks for it
    finally:
        _end_transaction(conn)
    return int(row[0] or 0)


def local_till_is_new(till_id: str) -> bool:
    """True when this till has no receipt and no audit record in the local database yet."""
    counter = TillCounter.get_or_none(TillCounter.till_id == till_id)
    return counter is None or not (counter.last_receipt_no or counter.audit_seq)


def repeated_numbers(server_url: str, till_id: str, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
    """At the till's start: the refusal of shared_days_refusal for a till new on its SQLite ("" otherwise, and
    when the server cannot be reached: the sync worker asks again before its first batch)."""
    if not local_till_is_new(till_id):
        return ""
    from store.server import ServerError, connect_server

    try:
        conn = connect_server(server_url, timeout_s=timeout_s)
    except ServerError as exc:
        log.warning("till %s: the shop's server was not asked at start: %s", till_id, sentence(exc))
        return ""
    try:
        return shared_days_refusal(conn, till_id)
    except Exception as exc:  # noqa: BLE001 - asked again by the sync worker
        log.warning("till %s: the shop's server could not be asked at start: %s", till_id, sentence(exc))
        return ""
    finally:
        conn.close()


class SyncWorker:
    """Sends this till's records to the shop's server; ``status()`` says how it goes."""

    def __init__(self, server_url: str, till_id: str, shop: str = "", *,
                 on_change: Optional[Callable[[SyncStatus], Any]] = None,
                 hooks: Optional[Sequence[Hook]] = None,
                 poll_s: float = POLL_S, backoff_max_s: float = BACKOFF_MAX_S,
                 refused_retry_s: float = REFUSED_RETRY_S, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 batch_limit: int = BATCH_LIMIT,
                 clock: Callable[[], datetime.datetime] = datetime.datetime.now) -> None:
        self.server_url = server_url
        self.till_id = till_id
        self.shop = shop
        self.on_change = on_change  # called on the sync thread with each new status
        self._hooks = list(hooks) if hooks is not None else None
        self.poll_s = poll_s
        self.backoff_max_s = backoff_max_s
        self.refused_retry_s = refused_retry_s
        self.connect_timeout_s = connect_timeout_s
        self.batch_limit = batch_limit
        self.clock = clock
        self._status = SyncStatus()
        self._wake = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._conn: Any = None
        self._aligned = False
        self._backoff = 0.0
        self._next_try = 0.0  # time.monotonic() of the next connect
        self._refused_until = 0.0  # while refused: when the push is tried again
        self._last_logged = ""
        self._kept: Optional[str] = None  # the failing sentence kept in the local database (None: not read yet)
        self.rounds = 0  # rounds that worked (tests wait on it)
        self.failures = 0  # rounds that failed
        self.sent = 0  # records this worker sent

    # ------------------------------------------------------------ what the till calls

    def start(self) -> "SyncWorker":
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return self

    def notify(self) -> None:
        """Something was committed: look at once (never blocks the caller)."""
        with self._wake:
            self._woken = True
            self._wake.notify_all()

    def status(self) -> SyncStatus:
        """The latest status (a frozen value: no lock is held)."""
        return self._status

    def stop(self, timeout: float = 3.0) -> bool:
        """End the thread, waiting up to ``timeout`` s for the round it is in; True when it ended."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            while not self._stopping:
                self._step()
                with self._wake:
                    if not self._woken and not self._stopping:
                        self._wake.wait(self.poll_s)
                    self._woken = False
        finally:
            self._close()

    def _step(self) -> None:
        """One tick: a round when a connection may be tried, else only the count of records waiting."""
        try:
            with db.connection_context():
                if time.monotonic() >= self._next_try:
                    self._round()
                else:
                    self._set(waiting=self._waiting())
        except Exception as exc:  # noqa: BLE001 - the thread never dies
            self._failed(exc)
        self._keep_error()

    def _keep_error(self) -> None:
        """The failing sentence (a refusal first, as the message line says it) kept in the local database for
        ``chaoying sync status``: written when it changes or clears, never each round."""
        said = self._status.refused or self._status.error
        if said == self._kept:
            return
        from store import sync_batch

        try:
            with db.connection_context():
                sync_batch.keep_error(self.till_id, said, self.clock())
            self._kept = said
        except Exception as exc:  # noqa: BLE001 - kept at the next tick; the status has it meanwhile
            log.warning("till %s: the sync's last error could not be kept in the local database: %s",
                        self.till_id, _first(exc))

    def _round(self) -> None:
        if self._hooks is None:
            self._hooks = default_hooks()  # here, not at start: an import that fails is a round that fails
        conn = self._connection()
        if not self._status.refused or time.monotonic() >= self._refused_until:
            if self._aligned or self._align(conn):
                self._push(conn)
        for name, hook in self._hooks or ():
            try:
                hook(conn)
            except Exception as exc:
                raise HookFailed(name, exc) from exc
            _end_transaction(conn)
        self._backoff = 0.0
        self.rounds += 1
        self._set(online=True, offline_since=None, error="", shown_error="", waiting=self._waiting())
        self._last_logged = ""

    def _connection(self) -> Any:
        """The open connection, or a new one: one that broke (closed, server restarted) is never reused."""
        if self._conn is not None and not getattr(self._conn, "closed", 0):
            return self._conn
        self._close()
        from store.server import connect_server

        self._conn = connect_server(self.server_url, timeout_s=self.connect_timeout_s)
        self._aligned = False
        return self._conn

    def _align(self, conn: Any) -> bool:
        """Move the local mark to the server's head when the server has this till's records the mark lacks.
        False (and the refusal in the status) when this till must not send: its numbers would repeat."""
        from store import sync_batch
        from store.server import till_heads

        head = next((row for row in till_heads(conn, self.shop or None) if row.get("till_id") == self.till_id),
                    None)
        _end_transaction(conn)
        sent_seq, _sent_hash = local_mark(self.till_id)
        number = shared_days_receipt(conn, self.till_id) if head is None and sent_seq == 0 else None
        self._aligned = number is None
        if number is not None:
            refusal = _repeated(self.till_id, number)
            if refusal != self._status.refused:
                log.error("till %s: %s", self.till_id, refusal)
            self._refused_until = time.monotonic() + self.refused_retry_s
            self._set(refused=refusal, shown_refused=t("sync.repeated_numbers", number=number, till=self.till_id))
            return False
        # no row: the server has none of this till's records (a new server, or one restored from before them)
        seq = int(head.get("head_seq") or 0) if head is not None else 0
        if seq != sent_seq:
            digest = str(head.get("head_hash") or "") if head is not None else ""
            theirs = str(head.get("instance") or "") if head is not None else ""
            ours = theirs and sync_batch.instance_id(self.till_id) == theirs  # the server's records are this till's
            if seq == 0 or (ours and _local_hash(self.till_id, seq) == digest):
                log.info("till %s: the server's head is record %d, the local mark was %d; the mark follows the "
                         "server", self.till_id, seq, sent_seq)
                sync_batch.mark_sent(self.till_id, seq, digest or _genesis())
            # else: the server holds records this till does not: its batches will be refused, and say why
        return True

    def _push(self, conn: Any) -> None:
        from store import sync_batch
        from store.server import BatchRefused, send_batch

        while not self._stopping:
            batch = sync_batch.build_batch(self.till_id, self.shop, self.batch_limit)
            if batch is None or not batch.get("records"):
                break
            try:
                head = send_batch(conn, batch)
            except BatchRefused as exc:
                said = sentence(exc)
                if said != self._status.refused:
                    log.error("till %s: the shop's server refused a batch: %s", self.till_id, said)
                self._refused_until = time.monotonic() + self.refused_retry_s
                self._aligned = False  # the retry reads the server's head again
                _end_transaction(conn)
                self._set(refused=said, shown_refused=shown(exc), waiting=self._waiting())
                return
            last = batch["records"][-1]
            if head == last["seq"]:
                sync_batch.mark_sent(self.till_id, head, last["hash"])
            else:  # the server's head is elsewhere: follow it
                self._aligned = False
                if not self._align(conn):
                    return
                if local_mark(self.till_id)[0] != head:  # the mark could not follow (the server holds records
                    self._aligned = False  # this till does not): the same batch again would loop, never ending
                    return  # the round; the next round aligns again
            self.sent += len(batch["records"])
            self._set(refused="", shown_refused="", online=True, offline_since=None, error="", shown_error="",
                      waiting=self._waiting())

    def _waiting(self) -> int:
        from store import sync_batch

        return int(sync_batch.waiting(self.till_id))

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        said = sentence(exc)
        if said != self._last_logged:  # the server's own failure is its sentence; anything else, a bug: traced
            log.error("till %s: %s", self.till_id, said, exc_info=None if expected(exc) else exc)
            self._last_logged = said
        else:
            log.debug("till %s: %s (again)", self.till_id, said)
        self._close()
        self._backoff = next_backoff(self._backoff, most=self.backoff_max_s)
        self._next_try = time.monotonic() + self._backoff
        waiting = self._status.waiting
        try:
            with db.connection_context():
                waiting = self._waiting()
        except Exception:  # noqa: BLE001 - the local count is only for the status line
            pass
        self._set(online=False, offline_since=self._status.offline_since or self.clock(), error=said,
                  shown_error=shown(exc), waiting=waiting)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        self._aligned = False
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may not even close
                pass

    def _set(self, **changes: Any) -> None:
        new = replace(self._status, **changes)
        if new != self._status:
            self._status = new
            if self.on_change is not None:
                try:
                    self.on_change(new)
                except Exception:  # noqa: BLE001 - the till's screen is not the sync's to break
                    log.exception("the sync status could not be shown")


def _end_transaction(conn: Any) -> None:
    """Leave the connection idle: what a hook or a read left open is rolled back (a commit is kept)."""
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - a broken connection is found by the next round
        pass


def _genesis() -> str:
    return GENESIS_HASH


def _local_hash(till_id: str, seq: int) -> Optional[str]:
    """The hash of this till's local audit record ``seq`` (None when the till has no such record)."""
    row = Audit.get_or_none((Audit.till_id == till_id) & (Audit.seq == seq))
    return None if row is None else row.hash


def server_heads(server_url: str, shop: str = "", timeout_s: float = 3.0) -> List[Dict[str, Any]]:
    """The server's heads of every till (of ``shop`` when given), on a short-lived connection: for the
    owner's view and ``chaoying sync status``, never the UI thread. Raises ServerError."""
    from store.server import connect_server, till_heads

    conn = connect_server(server_url, timeout_s=timeout_s)
    try:
        return list(till_heads(conn, shop or None))
    finally:
        conn.close()
