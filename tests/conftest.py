"""Shared fixtures: a real SQLite file and a real PostgreSQL 15 server.

``sqlite_url``    a fresh SQLite file per test.
``postgres_url``  a fresh database per test on a PostgreSQL server started
                  once per session from /usr/lib/postgresql/15/bin (skipped
                  when the binaries are missing, but FAILS with CI=true).
``db_url``        parametrized over both, for tests that must pass on both.
``database``      ``db_url`` opened with ``store.db.open_database`` (models
                  bound, migrated); the connection is closed afterwards.
``sqlite_database`` the same on SQLite only.

Markers (pyproject.toml) are put on tests here, from what they use, so no
test file names them: ``postgres`` (a PostgreSQL server), ``pty`` (the
virtual printer or another peer on a pty), ``tmux`` (a real terminal) and
``slow`` (runs processes, or takes seconds; see ``SLOW``). The quick loop:
``pytest -m "not slow and not tmux and not postgres"``.
"""
from __future__ import annotations

import os
import types
from typing import Iterator, Set

import pytest

from tests.store.pgserver import PostgresServer, PostgresUnavailable


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def ui_language() -> Iterator[None]:
    """Every test starts in Chinese, the till's default, whatever the test before it chose."""
    from tui import i18n

    i18n.set_language("zh")
    yield
    i18n.set_language("zh")


@pytest.fixture(autouse=True)
def no_journal_key() -> Iterator[None]:
    """Every test starts without a journal key, whatever the command run before it in this process loaded."""
    from store import journal

    journal.set_key(None)
    yield
    journal.set_key(None)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return "sqlite:///" + str(tmp_path / "chaoying.sqlite3")


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        if _ci():
            pytest.fail(f"PostgreSQL is required on CI: {exc}")
        pytest.skip(f"PostgreSQL 15 not available: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    return postgres_server.create_database()


@pytest.fixture
def pg():
    """A PostgreSQL server of the test's own, which the test may stop and start (tests/services/syncnet.py)."""
    from tests.services.syncnet import start_server

    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def _open(url: str):
    from store.db import close_database, db, open_database

    database = open_database(url)
    try:
        yield database
    finally:
        close_database()
        db.initialize(None)


@pytest.fixture
def database(db_url):
    """The store bound to a fresh, migrated database on each backend."""
    yield from _open(db_url)


@pytest.fixture
def sqlite_database(sqlite_url):
    """The store bound to a fresh, migrated SQLite file."""
    yield from _open(sqlite_url)


# ---------------------------------------------------------------- markers

# Names whose use (in a test or any fixture it pulls in) makes a pty: the virtual printer, the demo
# shop around it, a scripted peer.
PTY_NAMES = frozenset({"VirtualPrinter", "PtyPeer", "start_demo", "make_shop", "openpty"})
# ... runs another process: the CLI, a till, a PostgreSQL server.
PROCESS_NAMES = frozenset({"subprocess", "Popen", "check_output", "executable"})
# Measured with --durations (3-6 s each with -n 2 on a busy 2-core machine, where most tests take
# under 1.5 s): in-process tests that are long all the same, e.g. a print waiting out its deadline
# or PIN hashing. By file, or by file::test (all its parameters).
SLOW = frozenset({
    "tests/printing/test_faults.py",  # every fault waits out its deadline
    "tests/tui/test_snapshots_all.py",
    "tests/printing/test_transport.py::test_probe_finds_what_the_printer_answers",
    "tests/printing/test_transport.py::test_paper_running_out_during_the_job_is_not_printed",
    "tests/tui/test_stories.py::test_typing_stays_responsive_while_the_printer_hangs",
    "tests/tui/test_signin.py::test_sign_out_between_sales_and_refused_with_a_basket_open",
    "tests/tui/test_signin.py::test_wrong_pin_refused_right_pin_sells_with_the_cashier_on_every_record",
})


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _names(obj, seen: set) -> Set[str]:
    """Every global and attribute name a function refers to, following the helpers (functions and
    classes of the tests package) it names: ``shop.run(...)`` counts what ``Shop.run`` uses."""
    obj = getattr(obj, "__wrapped__", obj)
    if id(obj) in seen:
        return set()
    seen.add(id(obj))
    if isinstance(obj, type):
        found: Set[str] = set()
        for member in vars(obj).values():
            found |= _names(getattr(member, "__func__", member), seen)
        return found
    code = getattr(obj, "__code__", None)
    if code is None:
        return set()
    found = {name for c in _codes(code) for name in c.co_names}
    module_globals = getattr(obj, "__globals__", {})
    for name in list(found):
        helper = module_globals.get(name)
        if callable(helper) and str(getattr(helper, "__module__", "")).startswith("tests."):
            found |= _names(helper, seen)
    return found


def _used(item) -> Set[str]:
    """Names used by the test function and by every fixture it needs."""
    funcs = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        funcs.extend(d.func for d in defs)
    seen: set = set()
    return set().union(*(_names(f, seen) for f in funcs if f is not None))


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        path = item.nodeid.split("::")[0]
        used = _used(item)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if {"postgres_server", "pg"} & set(item.fixturenames) or params.get("db_url") == "postgres":
            item.add_marker(pytest.mark.postgres)
        if PTY_NAMES & used:
            item.add_marker(pytest.mark.pty)
        if path.endswith("test_tmux.py"):
            item.add_marker(pytest.mark.tmux)
        if PROCESS_NAMES & used or path in SLOW or item.nodeid.split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)
