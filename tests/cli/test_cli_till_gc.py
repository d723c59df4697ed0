"""`chaoying run` turns the garbage collector off while it builds the till (tui.cli.main): a till that ends
before its first frame turns it back on (the first frame does otherwise: tests/tui/test_startup_gc.py)."""
from __future__ import annotations

import gc


def test_a_till_command_that_ends_before_its_first_frame_turns_collections_back_on(home, cli):
    result = cli("--config", str(home / "missing.toml"), "run")
    assert result.returncode == 2 and "missing.toml" in result.stderr  # refused before any frame
    assert gc.isenabled()
