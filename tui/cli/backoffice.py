"""Back-office commands: init, products, sales, receipts, journal.

Nothing here imports Textual or escpos, and store modules are imported
inside the handlers, so ``chaoying products list`` starts fast. Every
user mistake becomes one ``CliError`` sentence and exit code 2, with
nothing written.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union


def register(sub) -> None:
    """Add init, products, sales, receipts and journal."""
    from tui.cli.on_server import add_server_options

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS,
        help="settings file (TOML); same as chaoying --config PATH",
    )

    # commands that write shared data (products, prices, cashiers): the shop's server when one is named
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--server", metavar="URL", default=None,
        help="the shop's server (postgresql://...) to write to; default: [server] url from the settings. "
             "Without one, the local database is written",
    )

    p = _add(sub, "init", common, "create the database the settings name (and a commented default settings "
                                "file when there is none)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing settings file with the defaults, and use a database that already "
                        "holds another shop")
    p.set_defaults(handler=cmd_init)

    products = _add(sub, "products", None, "add, import, export, search and list products")
    actions = products.add_subparsers(dest="action", metavar="ACTION")
    products.set_defaults(handler=_choose(
        products, "add, import, export, list, search, price, history, activate or deactivate"))
    p = _add(actions, "add", [common, shared], "add one product")
    p.add_argument("--barcode", required=True, help="barcode or PLU code")
    p.add_argument("--name", required=True, help="product name")
    p.add_argument("--price", required=True, metavar="YUAN", help="price in yuan, e.g. 3.50")
    p.add_argument("--unit", default="", help="unit, e.g. 个, 瓶, kg")
    p.set_defaults(handler=cmd_products_add)
    p = _add(actions, "import", [common, shared], "import products from a CSV file: every row is checked first, "
                                         "nothing is written if one is bad")
    p.epilog = ("Rows are written in short batches, so tills keep selling during a long import. If an import "
                "is interrupted (Ctrl-C, a crash, a full disk), run the same import again to finish it: rows "
                "already written are left as they are and no price change is recorded twice.")
    p.add_argument("file", metavar="FILE.csv",
                   help="CSV (UTF-8, UTF-8 with BOM or GBK) with header barcode,name,price[,unit][,active] "
                        "(or 条码,品名,售价,单位); price in yuan; existing barcodes are updated")
    p.add_argument("--keep-going", action="store_true",
                   help="import the good rows even if some are bad (bad rows are listed, exit 1)")
    p.add_argument("--by", metavar="NAME", help="who changes the prices (default: your login name)")
    p.set_defaults(handler=cmd_products_import)
    p = _add(actions, "export", common, "write every product as CSV that products import reads back")
    p.add_argument("file", metavar="FILE", nargs="?", default="-",
                   help="CSV file to write, - for stdout (default); never an existing file without --force")
    p.add_argument("--force", action="store_true",
                   help="replace FILE if it exists (never the shop's database, its journal key or settings)")
    p.add_argument("--encoding", choices=("utf-8", "gbk"), default="utf-8",
                   help="utf-8 (a file gets a BOM, for Excel) or gbk (GB18030)")
    p.set_defaults(handler=cmd_products_export)
    p = _add(actions, "search", common, "find products as the till's search popup does")
    p.add_argument("text", help="part of the name, pinyin (kekou), initials (kkkl) or the start of a code")
    p.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_products_search)
    p = _add(actions, "price", [common, shared], "change the price of one product (recorded with who and when)")
    p.add_argument("barcode", help="barcode or PLU")
    p.add_argument("price", metavar="YUAN", help="new price in yuan, e.g. 3.50")
    p.add_argument("--by", metavar="NAME", help="who changes the price (default: your login name)")
    p.set_defaults(handler=cmd_products_price)
    for name, help_text in (("deactivate", "stop selling a product (the till no longer finds it)"),
                            ("activate", "sell a deactivated product again")):
        p = _add(actions, name, [common, shared], help_text)
        p.add_argument("barcode", help="barcode or PLU")
        p.set_defaults(handler=cmd_products_active, active=name == "activate")
    p = _add(actions, "history", common, "list the price changes of one product")
    p.add_argument("barcode", help="barcode or PLU")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_products_history)
    p = _add(actions, "list", common, "list products")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_products_list)

    sales = _add(sub, "sales", None, "list sales")
    actions = sales.add_subparsers(dest="action", metavar="ACTION")
    sales.set_defaults(handler=_choose(sales, "list"))
    p = _add(actions, "list", common, "list the sales of one day on this till (or every till of the shop, on the "
                                      "server)")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="day to list: a date, today or yesterday (default: today)")
    p.add_argument("--till", metavar="ID", help="till id (default: [till] id from the settings; on the server: "
                                                "every till of the shop)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_server_options(p)
    p.set_defaults(handler=cmd_sales_list)

    receipts = _add(sub, "receipts", None, "list receipt outcomes")
    actions = receipts.add_subparsers(dest="action", metavar="ACTION")
    receipts.set_defaults(handler=_choose(receipts, "list"))
    p = _add(actions, "list", common, "list receipts of this till (or every till of the shop, on the server) and "
                                      "what the customer got")
    p.add_argument("--unresolved", action="store_true", help="only receipts still pending, printing or failed")
    p.add_argument("--till", metavar="ID", help="till id (default: [till] id from the settings; on the server: "
                                                "every till of the shop)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_server_options(p)
    p.set_defaults(handler=cmd_receipts_list)

    cashiers = _add(sub, "cashiers", None, "add and list cashiers (and managers)")
    actions = cashiers.add_subparsers(dest="action", metavar="ACTION")
    cashiers.set_defaults(handler=_choose(cashiers, "add or list"))
    p = _add(actions, "add", [common, shared], "add a cashier (the PIN is asked for twice, hidden, or read from stdin "
                                      "with --pin-stdin; never given on the command line); --manager lets their "
                                      "PIN allow reprints")
    p.add_argument("--code", required=True, help="cashier code, 1 to 16 characters")
    p.add_argument("--name", required=True, help="cashier name")
    p.add_argument("--manager", action="store_true", help="a manager: their PIN allows reprints when "
                                                          "[reprint] manager_pin = true")
    from tui.cli.common import add_pin_options

    add_pin_options(p, "leave it out to be asked for the PIN")  # twice, hidden; at least 4 characters
    p.set_defaults(handler=cmd_cashiers_add)
    p = _add(actions, "list", common, "list cashiers")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_cashiers_list)

    p = _add(sub, "archive", common, "move the documents of closed years to the archive file next to the database")
    p.epilog = ("Moves every sale, refund and void sold before DATE (a 1 January of a past year) with its lines, "
                "payments, receipt outcome, print attempts, events and audit records to <database>-archive.sqlite3, "
                "in short transactions while tills sell. journal verify and sales list still read it. If a run "
                "stops half way, run it again to finish. SQLite only.")
    p.add_argument("--before", required=True, metavar="YYYY-MM-DD", help="first day kept in the live database")
    p.set_defaults(handler=cmd_archive)

    journal = _add(sub, "journal", None, "check the hash-chained sales journal")
    actions = journal.add_subparsers(dest="action", metavar="ACTION")
    journal.set_defaults(handler=_choose(journal, "verify"))
    p = _add(actions, "verify", common, "check the journal, the audit chain and every receipt outcome, print "
                                        "attempt and event; exit 1 naming the first bad record")
    p.epilog = ("Starts at the last checkpoint (where the previous verify passed) and stores a new one. An edit of a "
                "record verified before and not touched since is seen only by --full, which walks everything "
                "(backup verify always does). Exit 0: intact; 1: broken; 3: records sealed with the journal key "
                "could not be checked because the key file is missing.")
    p.add_argument("--full", action="store_true", help="walk everything, not only what came after the last checkpoint")
    p.add_argument("--key-file", metavar="PATH", help="on the server: the shop's journal key file, to check the "
                                                      "records sealed with it (default: [journal] key_file)")
    add_server_options(p)
    p.set_defaults(handler=cmd_journal_verify)


def _add(sub, name: str, common: Union[None, argparse.ArgumentParser, List[argparse.ArgumentParser]],
         help_text: str) -> argparse.ArgumentParser:
    parents = common if isinstance(common, list) else [common] if common else []
    return sub.add_parser(name, parents=parents, help=help_text, description=help_text)


def _choose(parser: argparse.ArgumentParser, actions: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from tui.cli.common import CliError

        raise CliError(f"{parser.prog} needs an action: {actions} (see {parser.prog} --help)", 2)
    return handler


# ---------------------------------------------------------------- shared steps

def _error(message: str, code: int = 2) -> Exception:
    from tui.cli.common import CliError

    return CliError(message, code)


def _settings(args: argparse.Namespace):
    from tui.cli.common import load_settings

    return load_settings(args, require_file=True)


def _setup_logging(database_url: str) -> None:
    """Log to the user log dir; if that cannot be written, next to the SQLite database."""
    from tui.logs import log_path_for_database, setup_logging

    setup_logging(fallback=log_path_for_database(database_url))


def _open_database(url: str, create: bool = False):
    """Open (and migrate) the database; failures become one sentence, exit 1.

    Only init creates a SQLite file: a command pointed at a file that does not
    exist (a typo in DATABASE_URL, a missing init) stops instead of working on
    a new, empty database.
    """
    from store.db import open_database, redact
    from tui.cli.common import require_database

    if not create:
        require_database(url)
    try:
        return open_database(url)
    except ImportError as exc:
        raise _error(f"cannot open database {redact(url)}: the driver is not installed ({exc})", 1) from None
    except Exception as exc:  # peewee, sqlite3, psycopg2, a bad URL: all one sentence
        import logging

        logging.getLogger("chaoying.cli").exception("cannot open database %s", redact(url))
        reason = _without_password(_one_line(exc), url)
        raise _error(f"cannot open database {redact(url)}: {reason}", _db_error_code(exc)) from None


def _without_password(text: str, url: str) -> str:
    """``text`` with the password of ``url`` replaced by *** (a driver may quote what it was given)."""
    from urllib.parse import unquote, urlsplit

    password = urlsplit(url).password
    for secret in {password, unquote(password)} if password else ():
        text = text.replace(secret, "***")
    return text


def _db_error_code(exc: Exception) -> int:
    # A URL the user typed wrong is bad input (2); a server or file that will not open is 1.
    return 2 if isinstance(exc, (ValueError, RuntimeError)) else 1


def plural(count: int, noun: str) -> str:
    """'1 sale', '2 sales': a count with its noun (every noun here takes an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _one_line(exc: Union[BaseException, str]) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.rstrip(".")


def _close_database() -> None:
    try:
        from store.db import close_database

        close_database()
    except Exception:  # closing must never hide the real result
        pass


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _text_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> None:
    """Columns padded by display width (a Chinese character takes two columns)."""
    widths = [_text_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _text_width(cell))
    out = []
    for row in [list(headers)] + [list(r) for r in rows]:
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _text_width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        out.append("  ".join(cells).rstrip())
    sys.stdout.write("\n".join(out) + "\n")


def _run(args: argparse.Namespace, body: Callable[[Any], int], settings: Any = None) -> int:
    """Load settings (unless given), open the database, run ``body(settings)``, close."""
    if settings is None:
        settings = _settings(args)
    from tui.cli.on_server import database_url

    _open_database(database_url(args, settings))
    from tui.cli.common import load_journal_key

    load_journal_key(settings)
    try:
        return _translate_db_errors(lambda: body(settings))
    finally:
        _close_database()


#: What a command that wrote shared data to the server says last.
ON_SERVER = "written to the shop's server; tills receive it within seconds"


def _server_url(args: argparse.Namespace, settings: Any) -> str:
    """The server a shared-data command writes to: --server, else [server] url; "" for none."""
    url = getattr(args, "server", None)
    if url is None:
        url = settings.server.url
    url = (url or "").strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        from store.db import redact

        raise _error(f"--server {redact(url)!r} is not a PostgreSQL URL such as postgresql://user@host/shop")
    return url


def _run_shared(args: argparse.Namespace, body: Callable[[Any], int], settings: Any = None, note: bool = True) -> int:
    """``_run`` for a command that writes shared data: on the shop's server when one is named (migrated, with
    store.shared_data's part), else on the local database as before. Tills copy the server's within seconds."""
    if settings is None:
        settings = _settings(args)
    url = _server_url(args, settings)
    args.on_server = bool(url)
    if not url:
        return _run(args, body, settings)
    from store import shared_data
    from store.db import db, redact

    def install() -> int:
        shared_data.install_on(db.obj)  # idempotent: the tills' copy sees this command's writes
        return 0

    from tui.cli.on_server import with_timeout

    _open_database(with_timeout(url))
    try:
        _translate_db_errors(install)
    except Exception:
        _close_database()
        raise
    from tui.cli.common import load_journal_key

    load_journal_key(settings)
    try:
        code = _translate_db_errors(lambda: body(settings))
    finally:
        _close_database()
    import logging

    if note:
        logging.getLogger("chaoying.cli").info("shared data written to the server %s", redact(url))
        print(ON_SERVER)
    return code


def _translate_db_errors(call: Callable[[], int]) -> int:
    import peewee

    try:
        return call()
    except (peewee.DatabaseError, peewee.InterfaceError) as exc:
        import logging

        logging.getLogger("chaoying.cli").exception("database error")
        if isinstance(exc, peewee.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
            raise _error("the database stayed busy (a till is writing); nothing was changed, try again", 1) from None
        raise _error(f"database error: {_one_line(exc)}; nothing was changed", 1) from None


# ---------------------------------------------------------------- init

def cmd_init(args: argparse.Namespace) -> int:
    """Create the database the settings name; write the default settings only when there are none (or --force).

    Says which database it uses and which shop that database already holds;
    refuses (exit 2, nothing changed) to mix another shop into it unless --force.
    """
    from store import shop
    from store.db import redact
    from tui.settings import SettingsError, find_config_path, load_settings, write_default

    path = find_config_path(getattr(args, "config", None))
    if path.is_dir():
        raise _error(f"{path} is a folder; give --config the path of a .toml file")
    new_settings = not path.exists()
    keep = not new_settings and not args.force
    try:
        settings = load_settings(path if keep else None)
    except SettingsError as exc:
        raise _error(str(exc).rstrip("."), 2) from None
    url, name = settings.database.url, settings.shop.name
    # The database comes first: if it cannot be created, or holds another shop, no settings file is left behind.
    _setup_logging(url)
    looked, held = _held_shop(url)
    if not args.force and shop.mixes(held, name, new_settings):
        raise _error(_mixed_shops(redact(url), held, name, path, new_settings))
    _open_database(url, create=True)
    _close_database()
    if not keep:
        try:
            write_default(path)
        except OSError as exc:
            raise _error(f"cannot write {path}: {exc.strerror or exc}", 1) from None
    key_file = load_settings(path).journal.key_file  # beside the settings file just written
    made_key = False
    if key_file:
        from store.journal import make_key_file

        try:
            made_key = make_key_file(Path(key_file))
        except OSError as exc:
            raise _error(f"cannot write the journal key {key_file}: {exc.strerror or exc}", 1) from None

    def record(settings) -> int:
        shop.record(name, settings.till.id)  # after the key is loaded: the event is sealed with it
        return 0

    _run(args, record, load_settings(path))

    print(f"settings: {path}" + (" (kept as it is; --force writes the defaults)" if keep else ""))
    print(f"database: {redact(url)}" + (_database_note(held, name) if looked else ""))
    if key_file:
        print(f"journal key: {key_file}" + (" (new: keep a copy of it elsewhere)" if made_key else " (kept)"))
    from tui.files import make_private, shop_paths

    for change in make_private(shop_paths(load_settings(path), path)):  # what an older version left readable
        print(f"made private: {change}")
    _init_server(load_settings(path).server.url)
    return 0


def _init_server(url: str) -> None:
    """[server] url: create or migrate the shop's server's schema as the till's was; one sentence on failure."""
    if not url:
        return
    from store.db import redact
    from store.server import ServerError, migrate_server

    try:
        done = migrate_server(url)
    except ServerError as exc:
        raise _error(f"the till is set up, but the shop's server could not be: {str(exc).rstrip('.')}; "
                     f"run chaoying init again when it can be reached", 1) from None
    print(f"server: {redact(url)} (its schema is up to date: {len(done)} steps checked)")


def _held_shop(url: str) -> Tuple[bool, Any]:
    """(looked, the shop the database holds: store.shop.look, None when there is no database yet)."""
    from store import shop
    from store.db import redact

    try:
        return True, shop.look(url)
    except Exception:  # unreadable or unreachable: opening it next says why, in one sentence
        import logging

        logging.getLogger("chaoying.cli").info("could not look into database %s", redact(url), exc_info=True)
        return False, None


def _held_text(held) -> str:
    """'shop 张记 with 120 sales', or '120 sales of a shop whose name it does not record'."""
    if not held.names:
        return f"{plural(held.sales, 'sale')} of a shop whose name it does not record"
    names = ", ".join(held.names)
    return f"shop{'s' if len(held.names) > 1 else ''} {names} with {plural(held.sales, 'sale')}"


def _database_note(held, name: str) -> str:
    if held is None or not held.holds_a_shop:
        return " (new)" if held is None else ""
    if name in held.names:
        return f", which already holds {_held_text(held)}"
    if not held.names:
        return f", which already holds {plural(held.sales, 'sale')}, now recorded as shop {name}'s"
    return f", which already held {_held_text(held)}, now shop {name} too (--force)"


def _mixed_shops(url: str, held, name: str, path: Path, new_settings: bool) -> str:
    """Why init will not use a database of another shop, and the ways on: one sentence."""
    if new_settings:
        return (f"database {url} already holds {_held_text(held)}, and the new settings file {path} would use it "
                f"for shop {name}: nothing was changed (write {path} with its own [shop] name and [database] url "
                f"first, or run chaoying init --force to use this database anyway)")
    return (f"database {url} already holds {_held_text(held)}, and {path} names shop {name}: nothing was changed "
            f"(set [shop] name to {held.names[-1]} if it is that shop, or give {path} a [database] url of its own)")


# ---------------------------------------------------------------- products

def cmd_products_add(args: argparse.Namespace) -> int:
    from store.money import parse_yuan

    settings = _settings(args)
    try:
        price_fen = parse_yuan(args.price)
    except ValueError:
        raise _error(f"--price {args.price!r} is not an amount in yuan like 3.50") from None

    def body(settings) -> int:
        from store import catalogue

        try:
            product = catalogue.add_product(barcode=args.barcode, name=args.name, price_fen=price_fen, unit=args.unit)
        except catalogue.CatalogueError as exc:
            raise _error(_sentence(exc)) from None
        print(f"added {product['barcode']} {product['name']} {product['price']}")
        return 0

    return _run_shared(args, body, settings)


def _sentence(exc: Union[BaseException, str]) -> str:
    """The store's one-sentence message, shaped for "chaoying: ..." (lower case start, no full stop)."""
    text = _one_line(exc)
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def cmd_products_import(args: argparse.Namespace) -> int:
    """Check every row, then write all of them in short batches (or only the good ones)."""
    settings = _settings(args)
    path = Path(args.file).expanduser()
    data = _read_file(path)

    def body(settings) -> int:
        from store import catalogue

        progress = ImportProgress(sys.stderr)
        try:
            result = catalogue.import_file(data, keep_going=args.keep_going, changed_by=_who(args),
                                           progress=progress, mins=not getattr(args, "on_server", False))
        except catalogue.ImportIncomplete as exc:
            raise _error(_unfinished(path, "stopped", exc.values["reason"], exc.written, exc.total), 1) from None
        except catalogue.CatalogueError as exc:
            raise _error(f"{path}: {_one_line(exc)}") from None
        except KeyboardInterrupt:
            raise _error(_unfinished(path, "interrupted", "", progress.written, progress.total), 130) from None
        finally:
            progress.close()
        for line_no, reason in result.errors:
            print(f"chaoying: {path} line {line_no}: {reason}", file=sys.stderr)
        bad = len(result.errors)
        rows = plural(bad, "bad row")
        if not result.imported:
            raise _error(f"nothing imported: {rows} in {path}")
        imported = result.added + result.updated
        if imported + result.unchanged == 0 and bad == 0:
            raise _error(f"{path} has no product rows; nothing imported")
        skipped = f"; ignored columns: {', '.join(result.ignored_columns)}" if result.ignored_columns else ""
        if imported == 0:
            these = ("the product in {} is already in the catalogue as it is" if result.unchanged == 1 else
                     f"the {result.unchanged} products in {{}} are already in the catalogue as they are")
            print(f"nothing changed: {these.format(f'{path} ({result.encoding})')}{skipped}")
        else:
            note = f", {plural(result.price_changes, 'price change')}" if result.price_changes else ""
            print(f"imported {plural(imported, 'product')} from {path} ({result.encoding}): "
                  f"{result.added} added, {result.updated} updated, {result.unchanged} unchanged{note}{skipped}")
        if result.mins_ignored:
            print(f"min_stock thresholds not written ({plural(result.mins_ignored, 'row')}): they are each till's; "
                  "set them on a till with chaoying stock min")
        if bad:
            if getattr(args, "on_server", False):
                print(ON_SERVER)  # the good rows are written
            raise _error(f"{rows} in {path} not imported (--keep-going)", 1)
        return 0

    return _run_shared(args, body, settings)


def _unfinished(path: Path, what: str, reason: str, written: int, total: int) -> str:
    """An import cut short: how far it got and what to do; rows written stay written."""
    why = f" ({reason})" if reason else ""
    if written == 0:
        return f"import of {path} {what}{why}; nothing was changed, run the same import again"
    return (f"import of {path} {what}{why}: {written} of {plural(total, 'row')} written; "
            f"run the same import again to finish")


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _error(f"{path} does not exist") from None
    except IsADirectoryError:
        raise _error(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise _error(f"cannot read {path}: {exc.strerror or exc}") from None


def _who(args: argparse.Namespace) -> str:
    if getattr(args, "by", None):
        return args.by
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        return ""


class ImportProgress:
    """A progress bar on a terminal, a few percentages otherwise, silence for small files."""

    def __init__(self, stream, min_rows: int = 10_000, interval: float = 0.1) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.min_rows = min_rows
        self.interval = interval
        self.last_time = 0.0
        self.last_step = -1
        self.drawn = False
        self.written = 0  # rows in committed batches, for "n of m rows written"
        self.total = 0

    def __call__(self, done: int, total: int, phase: str) -> None:
        import time

        if phase == "write":
            self.written, self.total = done, total
        if total < self.min_rows:
            return
        percent = done * 100 // total
        if self.tty:
            now = time.monotonic()
            if done < total and now - self.last_time < self.interval:
                return
            self.last_time = now
            filled = percent * 30 // 100
            self.stream.write(f"\rimporting [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%  "
                              f"{done:,}/{total:,} rows")
            self.drawn = True
        else:
            step = percent // 25
            if step == self.last_step:
                return
            self.last_step = step
            self.stream.write(f"importing: {percent}%\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def cmd_products_export(args: argparse.Namespace) -> int:
    """CSV of every product (inactive ones too), as products import reads it."""
    settings = _settings(args)
    to_stdout = args.file == "-"
    encoding = "gb18030" if args.encoding == "gbk" else ("utf-8" if to_stdout else "utf-8-sig")
    from tui.cli.common import check_output

    path = None if to_stdout else check_output(args.file, args.force, settings)

    def body(settings) -> int:
        import io

        from store import catalogue

        if to_stdout:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="", write_through=True)
            try:
                catalogue.export_csv(out)
            finally:
                out.detach()
            return 0
        from tui.files import write_atomically

        assert path is not None
        try:
            count = write_atomically(path, catalogue.export_csv, encoding=encoding, newline="")
        except OSError as exc:
            raise _error(f"cannot write {path}: {exc.strerror or exc}", 1) from None
        print(f"exported {plural(count, 'product')} to {path} ({args.encoding})")
        return 0

    return _run(args, body, settings)


def cmd_products_search(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import catalogue

        found = catalogue.search_products(args.text, limit=max(1, args.limit))
        if args.json:
            _print_json(found)
        elif not found:
            print(f"no products match {args.text!r}")
        else:
            _print_table(["barcode", "name", "price", "unit"],
                         [[p["barcode"], p["name"], p["price"], p["unit"]] for p in found], right=(2,))
        return 0

    return _run(args, body)


def cmd_products_price(args: argparse.Namespace) -> int:
    from store.money import format_yuan, parse_yuan

    settings = _settings(args)
    try:
        price_fen = parse_yuan(args.price)
    except ValueError:
        raise _error(f"price {args.price!r} is not an amount in yuan like 3.50") from None

    def body(settings) -> int:
        from store import catalogue

        try:
            old, new = catalogue.set_price(args.barcode, price_fen, changed_by=_who(args))
        except catalogue.CatalogueError as exc:
            raise _error(_sentence(exc)) from None
        if old == new:
            print(f"{args.barcode} already costs {format_yuan(new)}; nothing changed")
        else:
            print(f"{args.barcode}: {format_yuan(old)} -> {format_yuan(new)}")
        return 0

    return _run_shared(args, body, settings)


def cmd_products_active(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import catalogue

        if not catalogue.set_active(args.barcode, args.active):
            raise _error(f"no product has barcode {args.barcode}")
        print(f"{args.barcode} {'is sold again' if args.active else 'is no longer sold'}")
        return 0

    return _run_shared(args, body)


def cmd_products_history(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import catalogue
        from store.models import Product

        if not Product.select().where(Product.barcode == args.barcode).exists():
            raise _error(f"no product has barcode {args.barcode}")
        changes = catalogue.price_history(args.barcode)
        if args.json:
            _print_json(changes)
        elif not changes:
            print(f"no price changes for {args.barcode}")
        else:
            _print_table(["changed at", "by", "from", "old", "new"],
                         [[c["changed_at"] or "", c["changed_by"], c["source"], c["old_price"], c["new_price"]]
                          for c in changes], right=(3, 4))
        return 0

    return _run(args, body)


def cmd_products_list(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import catalogue

        products = catalogue.list_products()
        if args.json:
            _print_json(products)
        elif not products:
            print("no products yet: add them with chaoying products add or chaoying products import")
        else:
            _print_table(["barcode", "name", "price", "unit"],
                         [[p["barcode"], p["name"], p["price"], p["unit"]] for p in products], right=(2,))
        return 0

    return _run(args, body)


# ---------------------------------------------------------------- sales and receipts

def _day(text: Optional[str], option: str = "--date"):
    """The day of a date option (YYYY-MM-DD, today, yesterday); none given: today."""
    import datetime as dt

    from tui.cli.common import parse_day

    return parse_day(text, option) if text else dt.date.today()


def _till(args: argparse.Namespace, settings) -> str:
    import re

    till = args.till if args.till is not None else settings.till.id
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,8}", till):
        raise _error(f"--till {till!r} is not a till id (1 to 8 letters, digits, '-' or '_')")
    return till


def cmd_sales_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    day = _day(args.date)

    def body(settings) -> int:
        from store import archive, queries
        from store.money import format_yuan
        from tui.cli.on_server import cover

        covered = cover(args, settings)
        with archive.joined():  # a day of an archived year is read from the archive file
            sales = queries.sales_on(day, covered.tills)
        if args.json:
            _print_json(sales)
            return 0
        if sales:
            _print_table(
                ["receipt", "kind", "original", "time", "cashier", "total", "paid by", "receipt outcome"],
                [[s["receipt"], _kind_text(s), s["original"] or "", (s["sold_at"] or "")[11:19], s["cashier"] or "",
                  s["total"] if s["kind"] == "sale" else "-" + s["total"],
                  ", ".join(p["method"] for p in s["payments"] if p["status"] == "ok"), s["outcome"] or ""]
                 for s in sales],
                right=(5,),
            )
        sold = sum(s["total_fen"] for s in sales if s["kind"] == "sale")
        back = sum(s["total_fen"] for s in sales if s["kind"] != "sale")
        count = sum(1 for s in sales if s["kind"] == "sale")
        line = f"{plural(count, 'sale')} on {covered.words} on {day.isoformat()}, total {format_yuan(sold)}"
        if back or count != len(sales):  # refunds and voids gave money back: say it apart, and the net
            corrections = len(sales) - count
            line += (f"; {corrections} refund{'s' if corrections != 1 else ''} or void{'s' if corrections != 1 else ''}"
                     f" gave back {format_yuan(back)}; net {format_yuan(sold - back)}")
        print(line)
        from tui.services.payments.refunds import unsettled_notes

        for note in unsettled_notes(sales):  # a refund the provider refused or has not settled: said, not hidden
            print(note)
        return 0

    return _run(args, body, settings)


def _kind_text(sale: dict) -> str:
    """'sale', 'refund', 'void'; a sale a later document corrects says so ('sale, refunded')."""
    if sale["kind"] != "sale":
        return sale["kind"]
    marks = [word for word, on in (("refunded", sale.get("refunded")), ("voided", sale.get("voided"))) if on]
    return ", ".join(["sale"] + marks)


def cmd_receipts_list(args: argparse.Namespace) -> int:
    settings = _settings(args)

    def body(settings) -> int:
        from store import queries
        from tui.cli.on_server import cover

        covered = cover(args, settings)
        receipts = queries.receipts(args.unresolved, covered.tills)
        if args.json:
            _print_json(receipts)
            return 0
        if receipts:
            _print_table(
                ["receipt", "sold at", "total", "receipt outcome", "reason", "prints"],
                [[r["receipt"], (r["sold_at"] or "")[:19], r["total"],
                  (r["outcome"] or "") + (" (cashier)" if r["evidence"] == "cashier" else ""), r["reason"] or "",
                  str(r["print_attempts"])] for r in receipts],
                right=(2, 5),
            )
        kind = "unresolved receipt" if args.unresolved else "receipt"
        print(f"{plural(len(receipts), kind)} on {covered.words}")
        return 0

    return _run(args, body, settings)


# ---------------------------------------------------------------- journal

def cmd_cashiers_add(args: argparse.Namespace) -> int:
    from tui.cli.common import read_pin, refuse_pin_in_argv

    refuse_pin_in_argv(args)
    pin = read_pin(args.pin_stdin, confirm=True)

    def body(settings) -> int:
        from store.cashiers import CashierError, add_cashier
        from tui.services.cashiers import pin_lengths

        try:
            cashier = add_cashier(args.code, args.name, pin, manager=args.manager, lengths=pin_lengths(settings.signin))
        except CashierError as exc:
            raise _error(_sentence(exc).rstrip("."), 2) from None
        role = "manager" if cashier.manager else "cashier"
        print(f"added {role} {cashier.code} ({cashier.name})")
        return 0

    return _run_shared(args, body)


def cmd_cashiers_list(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store.models import Cashier

        rows = [{"code": c.code, "name": c.name, "manager": bool(c.manager), "active": bool(c.active)}
                for c in Cashier.select().order_by(Cashier.code)]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        for row in rows:
            flags = ", ".join(f for f, on in (("manager", row["manager"]), ("inactive", not row["active"])) if on)
            print(f"{row['code']:<16} {row['name']}" + (f"  ({flags})" if flags else ""))
        return 0

    return _run(args, body)


def cmd_journal_verify(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import journal, reports
        from tui.cli.manifests import findings_text, manifest_findings
        from tui.cli.on_server import cover, on_server

        if on_server(args):
            return _verify_on_server(args, settings)
        cover(args, settings, default_till=False)  # --shop is the server's: one sentence here
        if args.key_file:
            raise _error("--key-file is for the shop's server; the till checks with [journal] key_file")

        cut = manifest_findings(settings)  # first: no checkpoint is written over a head a backup shows went back
        started = time.perf_counter()
        result = journal.verify(full=args.full, checkpoint=not cut)
        seconds = time.perf_counter() - started
        if result.ok and cut:
            raise _error(f"journal broken: {findings_text(cut)}", 1)
        z = reports.verify_z()
        if result.ok and not z.ok:
            raise _error(f"Z reports broken: {_sentence(z.message)}", 1)
        if result.ok and args.full:
            from store import stock

            wrong = stock.check_balances()
            if wrong:
                raise _error(f"stock broken: {_sentence(wrong[0])}" + (f" (and {len(wrong) - 1} more)"
                                                                      if len(wrong) > 1 else ""), 1)
        if result.ok and result.unchecked:
            raise _error(f"journal not fully checked: {_sentence(result.message).rstrip('.')}", 3)
        if result.ok:
            from store.models import Sale

            since = " (checked from the last checkpoint; --full checks everything)" if result.from_checkpoint else ""
            zs = f", {plural(z.checked, 'Z report')}" if z.checked else ""
            # --full walks everything: how fast it read, so a slow disk or a grown journal shows
            rate = f" ({_rate(result.sales_checked + result.records_checked, seconds)})" if args.full else ""
            print(f"journal ok: {plural(Sale.select().count(), 'sale')}{zs}{since}{rate}")
            if result.keyless_note:  # chained, each run opened by its event: not broken, never silent
                print(f"chaoying: warning: {_sentence(result.keyless_note)}", file=sys.stderr)
            return 0
        message = _sentence(result.message) if result.message else ""
        receipt = _bad_receipt_name(result)
        if receipt and receipt not in message:
            message = f"receipt {receipt}: {message}" if message else f"receipt {receipt}"
        raise _error(f"journal broken: {message}", 1)

    return _run(args, body)


def _verify_on_server(args: argparse.Namespace, settings) -> int:
    """Every till (of the shop) on the server: each chain as stored, the server's head, each row; writes nothing."""
    from store import chain
    from store.server_verify import verify_server
    from tui.cli.on_server import cover

    covered = cover(args, settings)
    if args.key_file:
        key, made = chain.read_key_file(Path(args.key_file).expanduser())
        if key is None:
            raise _error(f"cannot read the journal key file {args.key_file}")
        chain.set_key(key, made)
    result = verify_server(covered.tills)
    for till in result.tills:
        print(f"till {till.till_id}" + (f" (shop {till.shop})" if till.shop else "") + ": "
              + ("ok, " if till.ok else "BROKEN: ") + _sentence(till.message))
    rate = _rate(result.records + result.sales, result.seconds)
    if not result.tills:
        print("no till" + (f" of shop {covered.shop}" if covered.shop else "") + " has synced to the server yet")
    if not result.ok:
        first = result.broken[0]
        raise _error(f"journal broken on the server: till {first.till_id}: {_sentence(first.message)}"
                     + (f" (and {len(result.broken) - 1} more till{'s' if len(result.broken) > 2 else ''} broken)"
                        if len(result.broken) > 1 else "") + f" ({rate})", 1)
    words = f" of shop {covered.shop}" if covered.shop else ""
    print(f"journal ok on the server: {plural(len(result.tills), 'till')}{words}, {plural(result.sales, 'sale')} "
          f"({rate}; the whole chains, no checkpoint written)")
    if result.unchecked:
        raise _error(f"journal not fully checked: {plural(result.unchecked, 'record')} sealed with the journal key "
                     f"were checked by their links only; give the shop's key with --key-file", 3)
    return 0


def _rate(records: int, seconds: float) -> str:
    """"N records in S s, R records/s": what a full walk read."""
    per_second = records / seconds if seconds > 0 else 0.0
    return f"{plural(records, 'record')} checked in {seconds:.1f} s, {per_second:,.0f} records/s"


def cmd_archive(args: argparse.Namespace) -> int:
    import datetime as dt

    try:
        before = dt.datetime.strptime(args.before, "%Y-%m-%d").date()
    except ValueError:
        raise _error(f"--before {args.before!r} is not a date like 2025-01-01") from None

    def body(settings) -> int:
        from store import archive

        try:
            result = archive.archive(before, synced=bool(settings.server.url))
        except archive.ArchiveError as exc:
            raise _error(_sentence(exc).rstrip("."), 1) from None
        again = "finished the interrupted archive: " if result.resumed else ""
        print(f"{again}{plural(result.documents, 'document')} sold before {before.isoformat()} are in "
              f"{result.path} ({result.moved} moved now)")
        return 0

    return _run(args, body)


def _bad_receipt_name(result: Any) -> str:
    till = getattr(result, "bad_till", None)
    number = getattr(result, "bad_receipt_no", None)
    if number is None:
        return ""
    try:
        from store.numbering import format_receipt_no

        return format_receipt_no(str(till), number)  # str(): the text an f-string gives, None included
    except Exception:
        return f"{till}-{number}"
