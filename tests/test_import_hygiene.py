"""Dependencies point one way: tui -> store, printing.

Importing every module of ``store`` or ``printing`` in a fresh interpreter
must not load Textual; ``store`` must not load ``printing``, ``printing``
must not load ``store``, and neither loads ``escpos`` at import time.
``tui/services/`` is plain Python too: no Textual, no Rich. No module of
store/, printing/ or tui/ imports itself through others, counting imports
inside functions and under ``if TYPE_CHECKING:``; and no screen imports
tui/app.py, not even for typing.
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


def _import_everything(package: str, cwd: Path = ROOT) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, package], cwd=str(cwd), capture_output=True, text=True, timeout=60,
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


def _imports(name: str, path: Path, modules: dict) -> list:
    """(line, module) for each module of ``modules`` that ``name`` imports anywhere in its file.

    Inside functions and under ``if TYPE_CHECKING:`` too: a name kept for the type checker is still a
    dependency (the screen knows the app), so it closes a circle like any other import.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules else base)
        found.extend((node.lineno, target) for target in targets if target in modules and target != name)
    return sorted(found)


def _imported(name: str, path: Path, modules: dict) -> set:
    """Modules of ``modules`` that ``name`` imports anywhere in its file."""
    return {target for _, target in _imports(name, path, modules)}


def import_graph(root: Path, packages=CYCLE_FREE) -> dict:
    """module -> set of modules it imports, within ``packages``."""
    modules = _modules(root, packages)
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def import_groups(graph: dict) -> list:
    """The modules that import each other through others: each strongly connected group of two or more (Tarjan)."""
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
    return groups


def import_cycles(graph: dict) -> list:
    """Every import circle, one per strongly connected group, as a path "a -> b -> a"."""
    return [_cycle_path(graph, group) for group in import_groups(graph)]


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
    """No module of store/, printing/ or tui/ imports itself through others: not lazily, not for the type checker."""
    graph = import_graph(ROOT)
    groups = import_groups(graph)
    assert not groups, "import circles:\n" + "\n".join(
        f"{_cycle_path(graph, group)}  (all of: {', '.join(sorted(group))})" for group in groups)


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


def test_type_checking_imports_are_circles(tmp_path):
    """An import under ``if TYPE_CHECKING:`` closes a circle too: the screen still knows the app it should not."""
    package = tmp_path / "tiny"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text("def screen():\n    from tiny import screen\n")
    (package / "screen.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tiny import app\n")
    assert import_cycles(import_graph(tmp_path, ("tiny",))) == ["tiny.app -> tiny.screen -> tiny.app"]
    (package / "screen.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from typing import Any\n")
    assert import_cycles(import_graph(tmp_path, ("tiny",))) == []


# ---------------------------------------------------------------- screens know no app, services no Textual


def screens_importing_the_app(root: Path, app: str = "tui.app", screens: str = "tui.screens") -> list:
    """"file:line" of every import of ``app`` in the modules under ``screens`` (``if TYPE_CHECKING:`` included)."""
    modules = _modules(root, (screens.split(".")[0],))
    return [f"{path.relative_to(root).as_posix()}:{line}"
            for name, path in sorted(modules.items()) if name.startswith(screens + ".")
            for line, target in _imports(name, path, modules) if target == app]


def test_screens_do_not_import_the_app():
    """A screen renders and forwards keys; it is handed what it needs and never imports tui/app.py, even for typing."""
    found = screens_importing_the_app(ROOT)
    assert not found, "screens importing tui.app:\n" + "\n".join(found)


def test_the_app_check_can_fail(tmp_path):
    """Each way of naming the app is caught, a type-checking-only one too; a screen importing a sibling is not."""
    screens = tmp_path / "tui" / "screens"
    screens.mkdir(parents=True)
    for path in (tmp_path / "tui" / "__init__.py", screens / "__init__.py", tmp_path / "tui" / "app.py"):
        path.write_text("")
    (screens / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tui.app import App\n")
    (screens / "late.py").write_text("def go():\n    import tui.app\n")
    (screens / "relative.py").write_text("from .. import app\n")
    (screens / "clean.py").write_text("from tui.screens import typed\n")
    assert screens_importing_the_app(tmp_path) == [
        "tui/screens/late.py:2", "tui/screens/relative.py:1", "tui/screens/typed.py:3"]


SERVICES_FORBIDDEN = {"textual", "rich"}
#: What a service must not import even inside a function: Textual, Rich, and the modules that bring them.
SERVICES_NEVER_NAME = ("textual", "rich", "tui.app", "tui.screens")


def test_services_do_not_import_textual():
    """Importing every module of tui.services in a fresh interpreter loads neither Textual nor Rich."""
    found = _import_everything("tui.services")
    assert len(found["imported"]) > 1
    loaded = SERVICES_FORBIDDEN & set(found["top"])
    assert not loaded, f"importing tui.services loaded {sorted(loaded)}"


def test_services_name_no_textual_even_late():
    """No module of tui/services/ imports Textual, Rich, the app or a screen anywhere in its file (functions too)."""
    found = textual_imports(ROOT, "tui/services")
    assert not found, "services importing Textual, Rich or the UI:\n" + "\n".join(found)


def textual_imports(root: Path, folder: str) -> list:
    """"file:line: module" for every import of a ``SERVICES_NEVER_NAME`` module in the files under ``root / folder``."""
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in dict.fromkeys(names):
                if any(name == never or name.startswith(never + ".") for never in SERVICES_NEVER_NAME):
                    found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}: {name}")
                    break
    return found


def test_the_services_checks_can_fail(tmp_path):
    """The probe sees a service that drags Rich in at import time; the file check sees one that imports the UI late."""
    services = tmp_path / "tiny_services"
    services.mkdir()
    (services / "__init__.py").write_text("")
    (services / "quiet.py").write_text("import json\n")
    (services / "loud.py").write_text("import rich.text\n")
    (services / "late.py").write_text("def go():\n    from textual.app import App\n")
    (services / "screen.py").write_text("def go():\n    from tui import screens\n")
    assert "rich" in _import_everything("tiny_services", tmp_path)["top"]
    assert textual_imports(tmp_path, "tiny_services") == [
        "tiny_services/late.py:2: textual.app", "tiny_services/loud.py:1: rich.text",
        "tiny_services/screen.py:2: tui.screens"]
    for path in ("loud.py", "late.py", "screen.py"):
        (services / path).unlink()
    assert not SERVICES_FORBIDDEN & set(_import_everything("tiny_services", tmp_path)["top"])
    assert textual_imports(tmp_path, "tiny_services") == []


# ---------------------------------------------------------------- an import inside a function defers something

#: The till's runtime: where an import inside a function must be for start-up's sake (the CLI's back-office
#: commands load what each command needs, and are not held to it).
RUNTIME = ("tui/app.py", "tui/screens", "tui/services")

STARTUP_PROBE = r"""
import json, sys
import tui.cli, tui.app  # what `chaoying run` has loaded when it draws its first frame
print(json.dumps(sorted(sys.modules)))
"""


def _type_checking_only(tree: ast.AST) -> set:
    """The nodes under ``if TYPE_CHECKING:``: imports for the type checker, which defer nothing at run time."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            found.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return found


def _runtime_files(root: Path) -> list:
    files = []
    for place in RUNTIME:
        path = root / place
        files.extend([path] if path.is_file() else sorted(path.glob("*.py")))
    return files


def needless_lazy_imports(root: Path, files, loaded: set) -> list:
    """"file:line: module" for each import inside a function whose every module is loaded at start anyway."""
    found = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        typing_only = _type_checking_only(tree)
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if id(node) in typing_only:
                    continue
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [f"{node.module}.{alias.name}" if (root / (node.module + "." + alias.name)
                                                                 .replace(".", "/")).with_suffix(".py").exists()
                               else node.module for alias in node.names]
                else:
                    continue
                if all(target in loaded for target in targets):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {', '.join(sorted(set(targets)))}")
    return sorted(set(found))


def test_imports_inside_functions_defer_what_start_up_does_not_load():
    """In the till's runtime an import inside a function is there for start-up: it defers a module the first
    frame does not need (store.sales, the dialogs, printing: tens of ms of a ~0.33 s start, measured with
    ``python -X importtime`` and tests/bench/bench_startup.py). One of a module loaded by then anyway is moved up."""
    result = subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=str(ROOT), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "tui.screens.sale" in loaded and "store.sales" not in loaded  # the probe sees the start, not more
    found = needless_lazy_imports(ROOT, _runtime_files(ROOT), loaded)
    assert not found, "imports inside functions of modules loaded at start anyway:\n" + "\n".join(found)


def test_the_lazy_import_check_can_fail(tmp_path):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "__init__.py").write_text("")
    (tmp_path / "tiny" / "heavy.py").write_text("")
    screen = tmp_path / "screen.py"
    screen.write_text("import os\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import json\n"
                      "def f():\n    import os\n    from tiny import heavy\n"
                      "    from os import path, sep\n    if TYPE_CHECKING:\n        import json\n")
    assert needless_lazy_imports(tmp_path, [screen], {"os", "json", "tiny"}) == ["screen.py:6: os", "screen.py:8: os"]
    assert needless_lazy_imports(tmp_path, [screen], {"os", "json", "tiny", "tiny.heavy"}) == [
        "screen.py:6: os", "screen.py:7: tiny.heavy", "screen.py:8: os"]
