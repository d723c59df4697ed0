"""The markers tests/conftest.py puts on tests (slow, pty, tmux, postgres) land where they should."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SLOW

ROOT = Path(__file__).resolve().parents[1]
FILES = ["tests/printing/test_layout.py", "tests/store/test_migrations.py", "tests/cli/test_cli_store.py",
         "tests/tui/test_stories.py", "tests/tui/test_tmux.py"]


def collected(marker: str) -> set:
    """Node ids of FILES that ``-m marker`` selects."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "-m", marker,
                             *FILES], cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return {line.strip() for line in result.stdout.splitlines() if "::" in line}


@pytest.mark.parametrize("marker, marked, unmarked", [
    pytest.param("postgres", "tests/store/test_migrations.py::test_reopening_is_idempotent[postgres]",
                 "tests/store/test_migrations.py::test_reopening_is_idempotent[sqlite]", id="postgres"),
    pytest.param("pty", "tests/tui/test_stories.py::test_esc_in_tender_keeps_payments_taken",
                 "tests/printing/test_layout.py::test_golden_files_exist_for_both_widths", id="pty-demo-shop"),
    pytest.param("slow", "tests/cli/test_cli_store.py::test_products_add_and_list",
                 "tests/tui/test_stories.py::test_esc_in_tender_keeps_payments_taken", id="slow-cli-via-Shop.run"),
    pytest.param("slow", "tests/tui/test_stories.py::test_typing_stays_responsive_while_the_printer_hangs",
                 "tests/printing/test_layout.py::test_golden_files_exist_for_both_widths", id="slow-listed"),
    pytest.param("tmux", "tests/tui/test_tmux.py::test_whole_cash_sale_in_a_real_terminal_lands_on_the_virtual_paper",
                 "tests/tui/test_stories.py::test_esc_in_tender_keeps_payments_taken", id="tmux"),
])
def test_a_marker_lands_on_what_uses_it(marker, marked, unmarked):
    ids = collected(marker)
    assert marked in ids
    assert unmarked not in ids


@pytest.mark.parametrize("entry", sorted(SLOW))
def test_every_slow_entry_names_a_test_that_exists(entry):
    path, _, name = entry.partition("::")
    assert (ROOT / path).is_file(), entry
    if name:
        module = importlib.import_module(path[:-3].replace("/", "."))
        assert callable(getattr(module, name, None)), entry
