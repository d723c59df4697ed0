"""Two processes selling on one till's database at once: receipt numbers stay gapless."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from store import journal
from store.models import Sale, TillCounter
from tests.store.helpers import catalogue

ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 50


def _run_workers(url, tills):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store.commit_worker", url, till, str(PER_PROCESS)],
            cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for till in tills
    ]
    try:
        for proc in procs:  # all connected and migrated before anyone sells
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


def test_two_processes_one_till_gapless(database, db_url):
    catalogue()
    first, second = _run_workers(db_url, ["1", "1"])
    assert first == sorted(first) and second == sorted(second)
    assert sorted(first + second) == list(range(1, 2 * PER_PROCESS + 1))
    stored = [row.receipt_no for row in Sale.select(Sale.receipt_no).where(Sale.till_id == "1").order_by(Sale.receipt_no)]
    assert stored == list(range(1, 2 * PER_PROCESS + 1))
    assert TillCounter.get_by_id("1").last_receipt_no == 2 * PER_PROCESS
    result = journal.verify()
    assert result.ok, result.message
    assert result.sales_checked == 2 * PER_PROCESS


def test_two_tills_one_database(database, db_url):
    catalogue()
    first, second = _run_workers(db_url, ["1", "2"])
    assert first == second == list(range(1, PER_PROCESS + 1))
    assert journal.verify().ok
