"""`chaoying archive --before`, as a shop owner runs it (the round trip itself: tests/store/test_archive.py)."""
from __future__ import annotations

import datetime
import json

from tests.cli.helpers import one_line


def test_archive_refuses_an_open_year_and_a_bad_date_in_one_sentence(shop):
    shop.seed(2)
    this_year = f"{datetime.date.today().year + 1}-01-01"
    refused = shop.run("archive", "--before", this_year)
    assert refused.returncode == 1 and "is not the 1 January of a closed year" in one_line(refused.stderr)
    bad = shop.run("archive", "--before", "2025-13-01")
    assert bad.returncode == 2 and "is not a date like 2025-01-01" in one_line(bad.stderr)
    moved = shop.ok("archive", "--before", "2020-01-01")
    assert "0 documents sold before 2020-01-01 are in" in moved.stdout and "-archive.sqlite3" in moved.stdout
    assert "journal ok: 2 sales" in shop.ok("journal", "verify", "--full").stdout
    assert len(json.loads(shop.ok("sales", "list", "--json").stdout)) == 2
