"""One running till per till id: a second process is refused, a dead one is taken over."""
from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from store import tills
from store.models import TillLock
from store.tills import TillLocked, acquire

ROOT = Path(__file__).resolve().parents[2]


class Holder:
    """Another till process (tests.store.lock_holder) on the same database."""

    def __init__(self, url: str, till_id: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.store.lock_holder", url, till_id],
            cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.pid = self.proc.pid
        assert self.readline() == "ready", self.proc.stderr.read()

    def readline(self) -> str:
        return self.proc.stdout.readline().strip()

    def say(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def take(self) -> str:
        self.say()
        return self.readline()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)


@pytest.fixture
def holders(db_url):
    started: List[Holder] = []

    def start(till_id: str = "1") -> Holder:
        started.append(Holder(db_url, till_id))
        return started[-1]

    yield start
    for holder in started:
        holder.stop()


def lock_row(till_id: str = "1") -> TillLock:
    return TillLock.get_by_id(till_id)


def test_a_second_process_with_the_same_till_id_is_refused_naming_where_it_runs(database, holders):
    first = holders()
    assert first.take() == "locked"
    with pytest.raises(TillLocked) as refused:
        acquire("1")
    assert (refused.value.host, refused.value.pid) == (socket.gethostname(), first.pid)
    assert refused.value.started_at == lock_row().started_at
    assert f"process {first.pid}" in str(refused.value)

    other_till = acquire("2")  # another till id on the same database is not refused
    other_till.release()

    first.say()  # a clean exit releases the lock
    assert first.proc.wait(timeout=30) == 0
    assert TillLock.select().count() == 0
    acquire("1").release()


def test_a_holder_killed_with_kill_9_is_taken_over_at_once(database, holders):
    first = holders()
    assert first.take() == "locked"
    first.proc.kill()
    first.proc.wait(timeout=30)
    assert lock_row().pid == first.pid  # the dead till left its row behind

    lock = acquire("1")  # same host, the process is gone: no waiting for the heartbeat to go stale
    try:
        assert (lock_row().pid, lock_row().token) == (os.getpid(), lock.token)
    finally:
        lock.release()


def test_tills_starting_at_once_with_one_till_id_one_wins(database, holders):
    racers = [holders() for _ in range(4)]
    for racer in racers:
        racer.say()
    answers = sorted(racer.readline().split()[0] for racer in racers)
    assert answers == ["locked", "refused", "refused", "refused"]


def write_lock_row(host: str, pid: int, heartbeat_age_s: int) -> None:
    now = tills.database_now()
    TillLock.create(till_id="1", host=host, pid=pid, token="f" * 32,
                    started_at=datetime.datetime(2026, 11, 29, 6, 0, 0),
                    heartbeat_at=now - datetime.timedelta(seconds=heartbeat_age_s))


def test_a_stale_heartbeat_from_another_host_is_taken_over_after_the_timeout(database):
    write_lock_row("till-pc-2", 4242, heartbeat_age_s=20)
    with pytest.raises(TillLocked) as refused:
        acquire("1", timeout_s=30)  # 20 s without a heartbeat: it may still be running
    assert (refused.value.host, refused.value.pid) == ("till-pc-2", 4242)
    assert str(refused.value) == ("till 1 is already running on host till-pc-2, process 4242, "
                                  "since 2026-11-29 06:00:00")

    lock = acquire("1", timeout_s=10)  # older than the timeout: stale, taken over
    try:
        assert (lock_row().host, lock_row().pid) == (socket.gethostname(), os.getpid())
    finally:
        lock.release()


def test_a_fresh_row_of_another_host_is_refused_whatever_its_pid(database):
    write_lock_row("till-pc-2", 2 ** 22 + 17, heartbeat_age_s=0)  # no such pid here: irrelevant there
    with pytest.raises(TillLocked):
        acquire("1", timeout_s=5)


def wait_until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")
        time.sleep(0.05)


def test_the_heartbeat_keeps_the_row_fresh_and_release_deletes_it(database):
    lock = acquire("1", timeout_s=30, heartbeat_s=0.05)
    try:
        long_ago = tills.database_now() - datetime.timedelta(hours=1)
        TillLock.update(heartbeat_at=long_ago).where(TillLock.till_id == "1").execute()
        cutoff = long_ago + datetime.timedelta(minutes=30)
        wait_until(lambda: lock_row().heartbeat_at > cutoff, "a heartbeat")
        assert not lock.lost
    finally:
        lock.release()
    assert TillLock.select().count() == 0


def test_a_till_whose_lock_was_taken_over_notices_and_leaves_the_new_row(database):
    lock = acquire("1", heartbeat_s=0.05)
    TillLock.update(host="till-pc-2", pid=4242, token="e" * 32).where(TillLock.till_id == "1").execute()
    wait_until(lambda: lock.lost, "noticing the takeover")
    lock.release()
    assert lock_row().host == "till-pc-2"

