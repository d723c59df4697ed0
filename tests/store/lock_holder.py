"""A till process holding the till lock, for the lock tests (the path `chaoying` takes: store.tills).

Usage: python -m tests.store.lock_holder URL TILL_ID
Opens the database and prints "ready"; on a line from stdin tries to take
the lock of TILL_ID and prints "locked" or "refused HOST PID"; when locked,
holds it until the next line, then releases it and exits.
"""
from __future__ import annotations

import sys

from store.db import close_database, open_database
from store.tills import TillLocked, acquire


def main(url: str, till_id: str) -> int:
    open_database(url)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        lock = acquire(till_id)
    except TillLocked as exc:
        print(f"refused {exc.host} {exc.pid}", flush=True)
        return 2
    print("locked", flush=True)
    sys.stdin.readline()
    lock.release()
    close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
