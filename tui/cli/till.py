"""`chaoying` / `chaoying run`: the till; `chaoying demo`: the till on a throw-away shop."""
from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any, Callable, List, Optional


def register(sub) -> None:
    """Add `run` (also what `chaoying` alone does) and `demo`."""
    run = sub.add_parser(
        "run", help="run the till (what `chaoying` alone does)",
        description="Run the till on the shop that chaoying init made: the settings file, its "
                    "database and its receipt printer.",
    )
    _ui_options(run)
    run.set_defaults(handler=run_till)

    demo = sub.add_parser(
        "demo", help="run the till on a throw-away shop with a virtual printer",
        description="Run the till on a demo catalogue, a throw-away database and a virtual "
                    "printer on a pty. F8 throws printer faults, F7 shows the printed paper.",
    )
    demo.add_argument("--dir", metavar="FOLDER",
                      help="keep the demo shop in FOLDER (reused next time) instead of a temp dir")
    _ui_options(demo)
    demo.set_defaults(handler=run_demo)


def _ui_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--language", choices=("auto", "zh", "en"), help="UI language (default: settings)")
    parser.add_argument("--theme", metavar="NAME",
                        help="auto, dark, light, high-contrast or linux16 (default: settings; "
                             "auto = linux16 on the Linux console, else dark)")


def _settings(args: Any, require_file: bool = True):
    """The settings with --language and --theme applied, and [keys] checked against the till's bindings."""
    from tui.cli.common import load_settings

    settings = load_settings(args, require_file).with_ui(getattr(args, "language", None), getattr(args, "theme", None))
    _check_keys(settings)
    return settings


def _check_keys(settings: Any) -> None:
    """[keys] names ids and keys the till knows, with no two ids on one key: else one sentence, exit 2."""
    from tui import keymap
    from tui.cli.common import CliError

    try:
        keymap.check(settings.keys)
    except keymap.KeymapError as exc:
        where = str(settings.path) if settings.path else "the settings"
        line = _keys_line(settings.path, exc.binding_id)
        raise CliError(f"{where}{f' line {line}' if line else ''}: {exc}", 2) from None


def _keys_line(path: Any, binding_id: str) -> Optional[int]:
    """The line of the settings file where [keys] sets binding_id (quoted or dotted)."""
    import re

    if path is None or not binding_id:
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(r"""^\s*(["']?)%s\1\s*=""" % re.escape(binding_id))
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


_DRIVERS = ("psycopg2", "psycopg", "pymysql")


def _skip_drivers(settings: Any) -> None:
    """peewee imports every database driver it can find; the till's peewee only ever opens its own SQLite file
    (the local-first rule: a PostgreSQL URL names the shop's server, which psycopg2 talks to directly), and
    psycopg2 alone costs ~20 ms of start-up. So peewee is imported here with the drivers hidden from it; a till
    with a server then gets psycopg2 back for its sync thread, which imports it after the first frame."""
    url = settings.database.url.strip().lower()
    if not (url.startswith("sqlite") or url.startswith("postgres")):
        return  # another database (MySQL, ...): peewee needs its driver
    hidden = [driver for driver in _DRIVERS if driver not in sys.modules]
    for driver in hidden:
        sys.modules[driver] = None  # type: ignore[assignment]
    try:
        import peewee  # noqa: F401  (imported without the drivers: the till's peewee is SQLite's)
    finally:
        for driver in hidden:
            if sys.modules.get(driver, False) is None:
                del sys.modules[driver]  # importable again: the sync thread's psycopg2, a report's


def _open_database(url: str, create: bool = False) -> None:
    from store.db import open_database, redact
    from tui.cli.common import CliError, require_database

    if not create:
        require_database(url)  # the till never makes an empty shop: init does (or a move to local first)
    try:
        open_database(url)
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(f"cannot open the database {redact(url)}: {first_line}", 1) from None


def _lock_till(settings: Any) -> Any:
    """Take the till lock of settings.till.id, or refuse in one sentence (exit 2): it runs elsewhere."""
    import peewee

    from store.tills import TillLocked, acquire
    from tui.cli.common import CliError

    try:
        return acquire(settings.till.id, settings.till.lock_timeout)
    except TillLocked as exc:
        raise CliError(refusal(exc), 2) from None
    except peewee.PeeweeException as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CliError(f"cannot take the lock of till {settings.till.id}: {first_line}", 1) from None


def refusal(exc: Any) -> str:
    """The one sentence that refuses a second till with a till id already running (a TillLocked)."""
    return (f"till {exc.till_id} is already running on host {exc.host} (process {exc.pid}) "
            f"since {exc.since}; quit it there first or start this till "
            f"with another till id")


def run_till(args: Any) -> int:
    """Run the till with the settings file, always on its own SQLite file ([server] url: synced to the server)."""
    settings = _settings(args)
    _skip_drivers(settings)  # before store.db (imported by local_first) imports peewee
    from tui.services.local_first import sell_locally

    local = sell_locally(settings)  # a [database] url or DATABASE_URL naming PostgreSQL: the server now
    if local.said:
        print(f"chaoying: {local.said}", file=sys.stderr, flush=True)
    settings = local.settings
    _open_database(settings.database.url, create=bool(local.source))
    from tui.cli.common import load_journal_key

    load_journal_key(settings)
    lock = _lock_till(settings)
    try:
        from tui.app import ChaoyingApp

        app = ChaoyingApp(with_shared_settings(settings), file_settings=settings)  # followed while it runs
        app.local_first = local
        app.start_refusal = start_refusal(settings)
        app.run()
    finally:
        lock.release()
    if app.refused:
        from tui.cli.common import CliError

        raise CliError(app.refused, 2)
    return 0


def start_refusal(settings: Any) -> Optional[Callable[[], str]]:
    """With [server] url: the question the till asks the server at start, on a thread after the first frame
    and before it sells. A till new on its SQLite whose id the server holds receipts of, from when tills sold on
    it directly, would repeat their numbers: it refuses to start in one sentence (exit 2). A server out of reach:
    it starts (the sync worker asks again before its first batch). None without a server."""
    if not settings.server.url:
        return None

    def ask() -> str:
        from tui.services.sync import STARTUP_TIMEOUT_S, repeated_numbers

        return repeated_numbers(settings.server.url, settings.till.id, STARTUP_TIMEOUT_S)

    return ask


def with_shared_settings(settings: Any) -> Any:
    """The settings with the shop's shared [selling] and [limits] values (the server's, in this till's copy of
    store.shared_data) over the file's; a value that fails its check is ignored and logged in one sentence."""
    from tui.services.shared_settings import applied

    return applied(settings)


def _refuse_shop_folder(folder: Any, base: Any) -> None:
    """The demo never sells into the shop's own database (demo --dir naming the shop's folder)."""
    from tui.cli.common import CliError, check_output
    from tui.demo import demo_settings
    from tui.logs import sqlite_file

    database = sqlite_file(demo_settings(base, folder).database.url)
    if database is None:
        return
    try:
        check_output(database, True, base)
    except CliError:
        raise CliError(f"{folder} holds the shop's own database; keep the demo shop in another folder", 2) from None


def run_demo(args: Any) -> int:
    """Run the till on a demo shop with a virtual printer."""
    import tempfile
    from pathlib import Path

    from tui.cli.common import CliError
    from tui.logs import setup_logging

    base = _settings(args, require_file=False)
    keep = bool(getattr(args, "dir", None))
    if keep:
        _refuse_shop_folder(Path(args.dir).expanduser(), base)
    folder = Path(args.dir) if keep else Path(tempfile.mkdtemp(prefix="chaoying-demo-"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        setup_logging(path=folder / "chaoying.log")
    except OSError as exc:
        raise CliError(f"cannot keep the demo shop in {folder}: {exc.strerror or exc}", 2) from None
    from tui.demo import start_demo

    locks: List[Any] = []
    try:
        # a virtual customer display: the kind the settings name, else a 2x20 VFD
        display = base.display.kind if base.display.kind != "none" else "vfd2x20"
        settings, demo = start_demo(base, folder, on_open=lambda opened: locks.append(_lock_till(opened)),
                                    display=display, cashier=True, payments=True)
    except CliError:
        raise
    except Exception as exc:
        for lock in locks:
            lock.release()
        raise CliError(f"cannot start the demo in {folder}: {exc}", 1) from None
    try:
        from tui.app import ChaoyingApp

        ChaoyingApp(settings, demo=demo).run()
    finally:
        demo.stop()
        for lock in locks:
            lock.release()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0
