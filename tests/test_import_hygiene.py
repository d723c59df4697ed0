"""Dependencies point one way: tui -> store, printing.

Importing every module of ``store`` or ``printing`` in a fresh interpreter
must not load Textual; ``store`` must not load ``printing``, ``printing``
must not load ``store``, and neither loads ``escpos`` at import time.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
imported = [package.__name__]
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    importlib.import_module(info.name)
    imported.append(info.name)
top = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps({"imported": imported, "top": top}))
"""

FORBIDDEN = {
    "store": {"textual", "printing", "tui", "escpos"},
    "printing": {"textual", "store", "tui", "escpos"},
}


def _import_everything(package: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, package], cwd=str(ROOT), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_load_forbidden_modules(package):
    found = _import_everything(package)
    assert len(found["imported"]) >= 1
    loaded = FORBIDDEN[package] & set(found["top"])
    assert not loaded, f"importing {package} loaded {sorted(loaded)}"


def test_probe_can_fail():
    """The probe sees what a module drags in (tui does load store when asked)."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys, store.sales, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=str(ROOT), capture_output=True, text=True, timeout=60,
    )
    assert "peewee" in json.loads(result.stdout)
