"""tui/services is plain Python: each module and everything it imports (inside functions too) loads no Textual."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p for p in (ROOT / "tui" / "services").glob("*.py") if p.name != "__init__.py")


def imports_of(path: Path) -> list:
    """Every import statement of a file, those inside functions too, as source lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted({ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                   and getattr(node, "module", "") != "__future__"})


def textual_loaded_by(lines: list) -> str:
    code = "\n".join(["import sys", *lines, "print(sorted(m for m in sys.modules if m.startswith('textual')))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("path", SERVICES, ids=[p.stem for p in SERVICES])
def test_a_service_and_what_it_imports_load_no_textual(path):
    module = "tui.services." + path.stem
    assert textual_loaded_by([f"import {module}", *imports_of(path)]) == "[]"


def test_the_probe_can_fail():
    """The probe sees Textual when a module pulls it in (a screen does)."""
    assert "textual" in textual_loaded_by(imports_of(ROOT / "tui" / "screens" / "pin.py"))
    assert any(line.startswith("from store.models import Cashier")
               for line in imports_of(ROOT / "tui" / "services" / "cashiers.py"))
