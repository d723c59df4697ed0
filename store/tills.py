"""One running till per till id: the till lock.

A till takes the ``till_lock`` row of its till id when it starts (one short
write transaction), refreshes its heartbeat from a daemon thread every few
seconds and deletes the row at a clean exit. A second till with the same id
on the same database is refused with ``TillLocked``, from any host.

A till that died (kill -9, power cut) leaves its row behind. On the same
host the row of a process that no longer runs is taken over at once; from
another host, once its heartbeat is older than the timeout. Heartbeats are
written and aged on the database's clock (UTC), so hosts whose clocks
disagree still agree on how old a heartbeat is.

Only the till takes the lock: back-office commands and the store's own
writes never look at it.
"""
from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import uuid
from typing import Any, Optional, Tuple

import peewee
from peewee import SQL

from store.db import db, is_sqlite, write_transaction
from store.errors import StoreError
from store.models import TillLock

log = logging.getLogger("chaoying.store.tills")

#: A heartbeat older than this (seconds) marks a till that stopped: another may take over.
STALE_AFTER_S = 30
#: How often a running till refreshes its heartbeat (at most; a third of the timeout when shorter).
HEARTBEAT_S = 5.0

_TAKE_ATTEMPTS = 3  # two tills racing for a free or stale row: the loser reads the winner's row


class TillLocked(StoreError):
    """Another process runs this till id on this database: ``host``, ``pid``, ``started_at``."""

    def __init__(self, till_id: str, host: str, pid: int, started_at: datetime.datetime) -> None:
        is_time = isinstance(started_at, datetime.datetime)
        when = started_at.strftime("%Y-%m-%d %H:%M:%S") if is_time else str(started_at)
        super().__init__(
            f"till {till_id} is already running on host {host}, process {pid}, since {when}",
            "till_locked", till_id=till_id, host=host, pid=pid, started_at=started_at,
        )
        self.till_id = till_id
        self.host = host
        self.pid = pid
        self.started_at = started_at
        self.since = when  # started_at as people read it


class _Raced(Exception):
    """Another till changed the row between our read and our write."""


def _now_sql(database: peewee.Database) -> str:
    """The database's clock as a naive UTC timestamp."""
    if is_sqlite(database):
        return "CURRENT_TIMESTAMP"
    return "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"


def database_now(database: Optional[peewee.Database] = None) -> datetime.datetime:
    """The database's clock (naive UTC), the one heartbeats are written and aged on."""
    database = database or db.obj
    row = database.execute_sql("SELECT " + _now_sql(database)).fetchone()
    return _timestamp(row[0])


def _timestamp(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    text = str(value)
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(f"not a timestamp: {text!r}")


def _alive(pid: int) -> bool:
    """True when process ``pid`` runs on this host (a zombie, killed but not reaped, does not)."""
    if pid <= 0:
        return False
    if os.name != "posix":
        return True  # cannot tell: wait for the heartbeat to go stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _free(row: Any, now: datetime.datetime, host: str, timeout_s: float) -> bool:
    """May a new till take over ``row``? Yes when stale, or when its process is gone from this host."""
    if (now - _timestamp(row.heartbeat_at)).total_seconds() > timeout_s:
        return True
    if row.host != host:
        return False
    # Our own pid: a previous life of this host (a container restarted with the same pid).
    return row.pid == os.getpid() or not _alive(row.pid)


def _read(database: peewee.Database, till_id: str) -> Tuple[Any, Optional[datetime.datetime]]:
    """The lock row of ``till_id`` (or None) and the database's clock, in one query."""
    query = (TillLock.select(TillLock, SQL(_now_sql(database)).alias("db_now"))
             .where(TillLock.till_id == till_id))
    row = query.get_or_none()
    return row, (_timestamp(row.db_now) if row is not None else None)


def acquire(till_id: str, timeout_s: float = STALE_AFTER_S,
            heartbeat_s: Optional[float] = None) -> "LockHandle":
    """Take the lock of ``till_id`` on the bound database and start its heartbeat.

    Raises ``TillLocked`` when another running process holds it.
    """
    database = db.obj
    host = socket.gethostname()
    token = uuid.uuid4().hex
    for _ in range(_TAKE_ATTEMPTS):
        try:
            _take(database, till_id, host, token, timeout_s)
        except (peewee.IntegrityError, _Raced):
            continue  # another till won the race; the next read sees its row
        interval = heartbeat_s if heartbeat_s is not None else min(HEARTBEAT_S, timeout_s / 3)
        handle = LockHandle(database, till_id, token, interval)
        handle.start()
        return handle
    row, _ = _read(database, till_id)
    if row is None:  # taken and released again and again while we tried: give up, say so
        raise StoreError(f"till {till_id}: could not take the till lock", "till_lock_busy", till_id=till_id)
    raise TillLocked(till_id, row.host, row.pid, row.started_at)


def _take(database: peewee.Database, till_id: str, host: str, token: str, timeout_s: float) -> None:
    with write_transaction():
        row, now = _read(database, till_id)
        if row is not None and now is not None and not _free(row, now, host, timeout_s):
            raise TillLocked(till_id, row.host, row.pid, row.started_at)
        values = {
            TillLock.host: host, TillLock.pid: os.getpid(), TillLock.token: token,
            TillLock.started_at: datetime.datetime.now().replace(microsecond=0),
            TillLock.heartbeat_at: SQL(_now_sql(database)),
        }
        if row is None:
            TillLock.insert({TillLock.till_id: till_id, **values}).execute()
            return
        if row.host != host or row.pid != os.getpid():
            log.warning("till %s: taking over the lock of %s, process %s (started %s, last heartbeat %s UTC)",
                        till_id, row.host, row.pid, row.started_at, row.heartbeat_at)
        # Only if nobody changed it since we read it (PostgreSQL re-checks the WHERE after a row lock).
        taken = (TillLock.update(values)
                 .where((TillLock.till_id == till_id) & (TillLock.token == row.token)).execute())
        if taken != 1:
            raise _Raced()


class LockHandle:
    """The lock one running till holds: a heartbeat thread, and ``release()`` at exit."""

    def __init__(self, database: peewee.Database, till_id: str, token: str, heartbeat_s: float) -> None:
        self.database = database
        self.till_id = till_id
        self.token = token
        self.heartbeat_s = heartbeat_s
        #: True once another till took the lock over (this till's heartbeat had stopped for too long).
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"till-lock-{till_id}", daemon=True)

    def _mine(self) -> Any:
        return (TillLock.till_id == self.till_id) & (TillLock.token == self.token)

    def start(self) -> None:
        self._thread.start()

    def beat(self) -> bool:
        """Refresh the heartbeat; False when the row is no longer ours."""
        query = TillLock.update({TillLock.heartbeat_at: SQL(_now_sql(self.database))}).where(self._mine())
        return bool(query.execute(self.database) == 1)

    def _run(self) -> None:
        with self.database.connection_context():
            while not self._stop.wait(self.heartbeat_s):
                try:
                    if not self.beat():
                        self.lost = True
                        log.error("till %s: the lock was taken over by another till", self.till_id)
                        return
                except peewee.PeeweeException:
                    log.warning("till %s: heartbeat failed; retrying", self.till_id, exc_info=True)
                    self._reconnect()

    def _reconnect(self) -> None:
        try:
            self.database.close()  # the next beat connects afresh
        except peewee.PeeweeException:
            pass

    def release(self) -> None:
        """Stop the heartbeat and delete the row (if still ours). Never raises."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self.lost:
            return
        try:
            TillLock.delete().where(self._mine()).execute(self.database)
        except peewee.PeeweeException:
            log.warning("till %s: could not release the lock; it goes stale", self.till_id, exc_info=True)

    def __enter__(self) -> "LockHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
