"""The UI names receipt outcome states by store.outcomes' names, never as string literals."""
from __future__ import annotations

import ast
from pathlib import Path

from store.outcomes import STATES

TUI = Path(__file__).resolve().parents[2] / "tui"
# i18n holds the words for each state; keymap's "handwritten"/"declined" are banner action names.
EXEMPT = {"i18n.py", "keymap.py"}


def state_literals(root: Path) -> list:
    """(file, line, text) of every string constant under ``root`` that is an outcome state's name."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name in EXEMPT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in STATES:
                found.append((str(path.relative_to(root.parent)), node.lineno, node.value))
    return found


def test_no_ui_file_names_an_outcome_state_as_a_literal():
    assert state_literals(TUI) == []


def test_the_literal_check_can_fail(tmp_path):
    (tmp_path / "tui").mkdir()
    (tmp_path / "tui" / "screen.py").write_text('if outcome.state == "failed":\n    pass\n')
    assert state_literals(tmp_path / "tui") == [("tui/screen.py", 1, "failed")]
