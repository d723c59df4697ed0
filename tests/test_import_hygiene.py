"""Dependencies point one way: tui -> store, printing.

Importing every module of ``store`` or ``printing`` in a fresh interpreter
must not load Textual; ``store`` must not load ``printing``, ``printing``
must not load ``store``, and neither loads ``escpos`` at import time.
"""
from __future__ import annotations

import ast
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


# ---------------------------------------------------------------- no import circles

CYCLE_FREE = ("store", "printing", "tui")


def _modules(root: Path, packages) -> dict:
    """Dotted module name -> file, for every module of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set:
    """The import nodes under ``if TYPE_CHECKING:``: names for the type checker, never run."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            found.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return found


def _imported(name: str, path: Path, modules: dict) -> set:
    """Modules of ``modules`` that ``name`` imports anywhere in its file (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph(root: Path, packages=CYCLE_FREE) -> dict:
    """module -> set of modules it imports, within ``packages``."""
    modules = _modules(root, packages)
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def import_cycles(graph: dict) -> list:
    """Every import circle, one per strongly connected group, as a path "a -> b -> a" (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(start):
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [_cycle_path(graph, group) for group in groups]


def _cycle_path(graph: dict, group: set) -> str:
    """One concrete circle through the smallest member of ``group`` (breadth first: a shortest one)."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return " -> ".join(paths[node] + [start])
            if child not in paths:
                paths[child] = paths[node] + [child]
                queue.append(child)
    return " -> ".join(sorted(group))  # not reached: a strongly connected group has a circle


def test_no_import_circles():
    """No module of store/ or printing/ imports itself through others, even lazily."""
    cycles = import_cycles(import_graph(ROOT))
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_the_circle_check_can_fail(tmp_path):
    """A tiny package with a circle made only of an import inside a function is caught and named."""
    package = tmp_path / "tiny"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from tiny import b\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text("def late():\n    import tiny.a\n")
    (package / "d.py").write_text("from tiny.a import something\n")
    graph = import_graph(tmp_path, ("tiny",))
    assert graph["tiny.d"] == {"tiny.a"}
    assert import_cycles(graph) == ["tiny.a -> tiny.b -> tiny.c -> tiny.a"]


def test_type_checking_imports_are_not_circles(tmp_path):
    """An import under ``if TYPE_CHECKING:`` never runs, so it closes no circle; the same import at run time does."""
    package = tmp_path / "tiny"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("def screen():\n    from tiny import screen\n")
    (package / "screen.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tiny import app\n")
    assert import_cycles(import_graph(tmp_path, ("tiny",))) == []
    (package / "screen.py").write_text("from tiny import app\n")
    assert import_cycles(import_graph(tmp_path, ("tiny",))) == ["tiny.app -> tiny.screen -> tiny.app"]
