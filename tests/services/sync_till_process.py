"""A till-like process for the kill -9 tests: its SQLite file, its sync worker, nothing else.

Usage: python tests/services/sync_till_process.py LOCAL_URL SERVER_URL TILL_ID
Opens the till's database, starts the sync worker (small batches), prints "ready", and runs
until stdin closes (then stops the worker and exits 0) or it is killed.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.getcwd())  # the worktree's code, not an installed copy

from store.db import close_database, open_database  # noqa: E402
from tui.services.sync import SyncWorker  # noqa: E402


def main(local: str, server: str, till_id: str) -> int:
    open_database(local)
    worker = SyncWorker(server, till_id, batch_limit=5, backoff_max_s=2.0, connect_timeout_s=2.0).start()
    print("ready", flush=True)
    sys.stdin.read()
    stopped = worker.stop(timeout=10)
    close_database()
    return 0 if stopped else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3]))
