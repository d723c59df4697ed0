"""Screens render and forward keys: no query, no store write, no money arithmetic in tui/screens/.

Static checks over the source of every ``tui/screens/*.py`` (imports inside
functions and under ``if TYPE_CHECKING:`` count too):

- no peewee query: no import of peewee, playhouse, store.models or store.db,
  and no call of a query method (``.select(``, ``.where(``, ``.atomic(``...)
  on anything, nor any call on a name imported from those modules
  (``Sale.get_by_id(``). Widget calls stay free: ``.update(`` and ``.get(``
  are only flagged on such a name, ``.insert(i, x)`` (a list's) and
  ``.delete(start, end)`` (an Input's) never;
- no store write: from ``store`` a screen takes only values, formatting,
  parsing, pure rules and errors: the modules of ``PURE_MODULES`` or the
  names of ``PURE_NAMES``; a whole module imported (``from store import
  outcomes``) is judged by each name the screen reads off it;
- no money arithmetic: no ``+ - * / // %`` with an operand in fen (a name,
  attribute or string key ending in ``_fen``, or ``fen``), no ``sum(`` over
  fen; comparisons and string formatting are fine. The sale's arithmetic
  lives in store.sales / store.money, the till's in tui.services.

Each check names what it finds as "file:line: what", and proves on a small
synthetic screen in tmp_path that it catches a violation and passes clean code.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
SCREENS = "tui/screens"

# ---------------------------------------------------------------- reading a file


def _screen_files(root: Path, folder: str = SCREENS) -> List[Path]:
    return sorted((root / folder).glob("*.py"))


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _where(path: Path, root: Path, node: ast.AST) -> str:
    return f"{path.relative_to(root).as_posix()}:{node.lineno}"


def _imports(tree: ast.AST) -> Iterator[Tuple[ast.AST, str, Optional[str], str]]:
    """(node, module, name, local) for each import: ``name`` None for a whole module bound to ``local``.

    ``from store import outcomes`` is the whole module ``store.outcomes``; ``import store.db`` binds
    ``store`` but imports ``store.db``, and reads of ``store.db.x`` resolve through ``_dotted``.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, None, alias.asname or alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module in ("store", "printing", "tui"):  # from store import outcomes: a module
                    yield node, f"{node.module}.{alias.name}", None, local
                else:
                    yield node, node.module, alias.name, local


def _dotted(node: ast.AST) -> Optional[List[str]]:
    """``a.b.c`` as ["a", "b", "c"]; None for anything that is not a plain chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _root_name(node: ast.AST) -> Optional[str]:
    """The name a chain of attribute reads and calls starts from: ``Sale`` for ``Sale.select().where``."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


# ---------------------------------------------------------------- no peewee query

DATABASE_MODULES = ("peewee", "playhouse", "store.models", "store.db")

#: Methods of peewee's models, queries and database, flagged on any receiver: no widget has them.
QUERY_METHODS = {"select", "where", "get_or_none", "get_by_id", "get_or_create", "create", "insert_many",
                 "bulk_create", "execute", "execute_sql", "atomic", "transaction", "connection_context",
                 "delete_instance"}


def _database_module(module: str) -> bool:
    return any(module == banned or module.startswith(banned + ".") for banned in DATABASE_MODULES)


def peewee_queries(root: Path, folder: str = SCREENS) -> List[str]:
    """"file:line: what" for each database import and query call in the screens under ``root / folder``."""
    found = []
    for path in _screen_files(root, folder):
        tree = _parse(path)
        models, here = set(), []
        for node, module, name, local in _imports(tree):
            if _database_module(module):
                here.append(f"{_where(path, root, node)}: " + (f"from {module} import {name}" if name else
                                                                 f"import {module}"))
                models.add(local)
        calls: Dict[int, List[str]] = {}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            method, receiver = node.func.attr, _root_name(node.func.value)
            if receiver in models or _query_call(method, node):
                calls.setdefault(node.lineno, []).append(f"{receiver}.{method}()" if receiver in models else
                                                         f".{method}()")
        here.extend(f"{path.relative_to(root).as_posix()}:{line}: " + " ".join(sorted(set(names)))
                    for line, names in sorted(calls.items()))
        found.extend(sorted(here, key=lambda entry: int(entry.split(":")[1])))
    return found


def _query_call(method: str, call: ast.Call) -> bool:
    if method in QUERY_METHODS:
        return True
    if method == "insert":  # Model.insert(**row) / insert(row); a list's insert(index, item) is not a query
        return not (len(call.args) == 2 and not call.keywords)
    if method == "delete":  # Model.delete() / query.delete(); an Input's delete(start, end) is not
        return not call.args and not call.keywords
    return False


def test_screens_run_no_peewee_query():
    """A screen is handed its rows (by the till, tui.services); it never opens the database or builds a query."""
    found = peewee_queries(ROOT)
    assert not found, "peewee in screens:\n" + "\n".join(found)


# ---------------------------------------------------------------- no store write

#: Store modules a screen may use whole: nothing in them touches the database.
PURE_MODULES = {
    "store.money",      # fen and quantity rules: parse, format, round, allocate; plain ints and text
    "store.errors",     # StoreError, the base of every error a screen says in the cashier's language
    "store.discounts",  # who may give a discount: limits as arithmetic on DiscountSpec values, no database
}

#: Single names a screen may take from a store module that also reads or writes the database.
PURE_NAMES = {
    ("store.numbering", "format_receipt_no"),  # formatting: till id and six digits
    ("store.sales", "Basket"),                 # the basket as a value: lines, discounts, totals in memory
    ("store.sales", "Tender"),                 # payments taken for a total, change: in memory
    ("store.sales", "TenderPayment"),          # one payment, a frozen value
    ("store.sales", "DiscountSpec"),           # a discount decision, a frozen value
    ("store.sales", "SaleError"),              # error raised by the basket's own checks
    ("store.sales", "check_line"),             # validation of a product x quantity, raises SaleError
    ("store.sales", "PRICE"),                  # constant: the price override kind
    ("store.sales", "METHODS"),                # constant: the tender methods
    ("store.baskets", "payment_detail"),       # formatting: a payment as the event log writes it
    ("store.baskets", "BasketError"),          # error of a basket no longer open
    ("store.shifts", "DENOMINATIONS"),         # constant: the yuan notes and coins, in fen
    ("store.shifts", "MAX_PIECES"),            # constant: most pieces a count takes
    ("store.shifts", "counts_fen"),            # arithmetic on a count per denomination, no database
    ("store.shifts", "denomination"),          # a denomination as (number, yuan or jiao), no database
    ("store.shifts", "ShiftError"),            # error of a shift action
    ("store.codes", "CodeError"),              # error of a code that cannot be sold as read
    ("store.codes", "scale_layouts"),          # parsing: the [scale] settings as ScaleLayout values
    ("store.documents", "DocumentError"),      # error of a refund or void
    ("store.documents", "Refundable"),         # a sold line and what is left of it, a frozen value
    ("store.documents", "check_refund_qty"),   # validation of a quantity against a Refundable, no database
    ("store.documents", "plan_refund_payments"),  # pure split of an amount over the tenders' room
    ("store.outcomes", "PENDING"),             # constant: receipt outcome state
    ("store.outcomes", "PRINTING"),            # constant: receipt outcome state
    ("store.outcomes", "PRINTED"),             # constant: receipt outcome state
    ("store.outcomes", "FAILED"),              # constant: receipt outcome state
    ("store.outcomes", "HANDWRITTEN"),         # constant: receipt outcome state
    ("store.outcomes", "E_RECEIPT"),           # constant: receipt outcome state
    ("store.outcomes", "DECLINED"),            # constant: receipt outcome state
    ("store.outcomes", "UNRESOLVED_STATES"),   # constant: the states that block the till
    ("store.print_attempts", "EVIDENCE_PRINTER"),  # constant: a print attempt's evidence
    ("store.print_attempts", "EVIDENCE_CASHIER"),    # constant: a print attempt's evidence
    ("store.print_attempts", "REPRINT_CAP"),         # constant: a ReprintRefused code
    ("store.print_attempts", "REPRINT_NEEDS_MANAGER"),  # constant: a ReprintRefused code
    ("store.print_attempts", "REPRINT_UNRESOLVED"),  # constant: a ReprintRefused code
    ("store.print_attempts", "ReprintRefused"),      # error of the reprint rule
    ("store.outcomes", "is_unresolved"),       # pure rule on a state name
    ("store.print_attempts", "check_reprint"),  # pure rule: state, reprint count and settings in, raise or not
    # Named read-only queries a screen runs off the UI thread (app.in_background) to show a list: no write,
    # and the query itself lives in the store, tested there.
    ("store.queries", "events"),               # the event log's page for the events screen
    ("store.queries", "search_receipts"),      # the history's search
    ("store.queries", "sale_detail"),          # one document as the history shows it
    ("store.baskets", "held"),                 # the held baskets' list (取单)
}


def _store_module(parts: List[str]) -> Optional[Tuple[str, Optional[str]]]:
    """(module, name) of a dotted store path: ``store.outcomes.PRINTED`` -> ("store.outcomes", "PRINTED")."""
    if len(parts) < 2 or parts[0] != "store":
        return None
    return ".".join(parts[:2]), (parts[2] if len(parts) > 2 else None)


def _pure(module: str, name: Optional[str]) -> bool:
    return module in PURE_MODULES or (name is not None and (module, name) in PURE_NAMES)


def store_access(root: Path, folder: str = SCREENS) -> List[str]:
    """"file:line: what" for each store module or name a screen takes beyond values, formatting, parsing, errors."""
    found = []
    for path in _screen_files(root, folder):
        tree = _parse(path)
        here = []
        modules: Dict[str, str] = {}  # local name -> store module bound whole (or "store" for import store.x)
        for node, module, name, local in _imports(tree):
            if not (module == "store" or module.startswith("store.")):
                continue
            if name is not None:
                if not _pure(module, name):
                    here.append(f"{_where(path, root, node)}: from {module} import {name}")
            elif isinstance(node, ast.Import) and local == "store":
                modules[local] = "store"
            else:
                modules[local] = module
        here.extend(_module_reads(path, root, tree, modules))
        found.extend(sorted(here, key=lambda entry: int(entry.split(":")[1])))
    return found


def _module_reads(path: Path, root: Path, tree: ast.AST, modules: Dict[str, str]) -> List[str]:
    """Each read off a store module bound whole (``outcomes.commit...``), judged name by name."""
    found = []
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inside:
            parts = _dotted(node)
            if not parts or parts[0] not in modules:
                continue
            for inner in ast.walk(node):
                inside.add(id(inner))
            full = modules[parts[0]].split(".") + parts[1:]
            store = _store_module(full)
            if store is None:
                continue
            module, name = store
            if not _pure(module, name):
                found.append(f"{_where(path, root, node)}: {'.'.join(parts)} ({module})")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in modules and id(node) not in inside \
                and isinstance(node.ctx, ast.Load) and modules[node.id] not in PURE_MODULES:
            found.append(f"{_where(path, root, node)}: {node.id} used whole ({modules[node.id]})")
    return list(dict.fromkeys(found))


def test_screens_take_only_pure_names_from_the_store():
    """A screen writes nothing and reads no table: it shows what the till hands it and forwards the keys."""
    found = store_access(ROOT)
    assert not found, "store beyond values, formatting, parsing and errors in screens:\n" + "\n".join(found)


def test_the_pure_lists_name_what_exists():
    """Every allowed module and name is real: a renamed helper does not leave a stale permission behind."""
    import importlib

    for module in PURE_MODULES:
        importlib.import_module(module)
    for module, name in sorted(PURE_NAMES):
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} is gone"


# ---------------------------------------------------------------- no money arithmetic

ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
NUMBERS = {"int", "abs", "min", "max", "round"}  # a fen amount through these is still fen


def _fen_named(node: ast.AST) -> bool:
    """A name, attribute or string key for an amount in fen: ``total_fen``, ``tender.paid_fen``, ``row["amount_fen"]``."""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        name = node.slice.value
    else:
        return False
    name = name.lower()
    return name == "fen" or name.endswith("_fen")


def _money(node: ast.AST) -> bool:
    """``node`` is, or directly holds, an amount in fen (through a sign, other arithmetic, int(), min()...)."""
    if _fen_named(node):
        return True
    if isinstance(node, ast.UnaryOp):
        return _money(node.operand)
    if isinstance(node, ast.BinOp):
        return _money(node.left) or _money(node.right)
    if isinstance(node, ast.Subscript):
        return _money(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NUMBERS:
        return any(_money(arg) for arg in node.args)
    return False


def _text(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def _money_operation(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ARITHMETIC):
        if isinstance(node.op, (ast.Add, ast.Mod)) and (_text(node.left) or _text(node.right)):
            return False  # "%s" % ..., "text" + ...: string formatting
        return _money(node.left) or _money(node.right)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ARITHMETIC):
        return _money(node.target) or _money(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum":
        return any(_fen_named(inner) for arg in node.args for inner in ast.walk(arg))
    return False


def money_arithmetic(root: Path, folder: str = SCREENS) -> List[str]:
    """"file:line: source" for each operation on fen in the screens (the outermost of a chain once)."""
    found = []
    for path in _screen_files(root, folder):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, str(path))
        inside, here = set(), []
        for node in ast.walk(tree):  # breadth first: an outer operation comes before the ones it holds
            if id(node) in inside or not _money_operation(node):
                continue
            inside.update(id(inner) for inner in ast.walk(node))
            text = " ".join((ast.get_source_segment(source, node) or "").split())
            here.append((node.lineno, node.col_offset, f"{_where(path, root, node)}: {text}"))
        found.extend(entry for _, _, entry in sorted(here))
    return found


def test_screens_do_no_money_arithmetic():
    """Totals, change and splits come from store.sales / store.money or the till; a screen only formats them."""
    found = money_arithmetic(ROOT)
    assert not found, "money arithmetic in screens:\n" + "\n".join(found)


# ---------------------------------------------------------------- each check can fail


def _screen(tmp_path: Path, name: str, source: str) -> None:
    folder = tmp_path / "tui" / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(source, encoding="utf-8")


CLEAN = '''
from typing import TYPE_CHECKING

from textual.widgets import DataTable, Input, Static

from store import outcomes
from store.money import format_yuan
from store.sales import Basket

if TYPE_CHECKING:
    from store.sales import DiscountSpec


class Clean(Static):
    def show(self, tender, rows, spec: "DiscountSpec") -> None:
        self.query_one("#total", Static).update(format_yuan(tender.total_fen))
        self.query_one(DataTable).update_cell("a", "b", "c")
        self.update("%s" % tender.paid_fen)
        self.update(f"{tender.paid_fen:d}" + "fen")
        state = outcomes.PRINTED if tender.remaining_fen <= 0 else outcomes.PENDING
        ready = tender.paid_fen >= tender.total_fen
        rows.insert(0, rows.get("first", Basket()))
        self.query_one(Input).delete(0, 3)
        width = len(rows) * 2 + 1
        return state, ready, width
'''


def test_clean_code_passes_every_check(tmp_path):
    """Widget updates, dict.get, list.insert, Input.delete, pure store names, comparisons and formatting pass."""
    _screen(tmp_path, "clean.py", CLEAN)
    assert peewee_queries(tmp_path) == []
    assert store_access(tmp_path) == []
    assert money_arithmetic(tmp_path) == []


def test_the_query_check_can_fail(tmp_path):
    """Imports of the database at any depth and query calls on anything are each named by line."""
    _screen(tmp_path, "query.py", '''from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from peewee import Model
def rows(thing):
    from store.models import Sale
    from store import db
    import playhouse.db_url
    Sale.update(total_fen=0).execute()
    thing.select().where(1)
    thing.delete()
    with db.atomic():
        return Sale.get_by_id(1)
''')
    assert peewee_queries(tmp_path) == [
        "tui/screens/query.py:3: from peewee import Model",
        "tui/screens/query.py:5: from store.models import Sale",
        "tui/screens/query.py:6: import store.db",
        "tui/screens/query.py:7: import playhouse.db_url",
        "tui/screens/query.py:8: Sale.execute() Sale.update()",
        "tui/screens/query.py:9: .select() .where()",
        "tui/screens/query.py:10: .delete()",
        "tui/screens/query.py:11: db.atomic()",
        "tui/screens/query.py:12: Sale.get_by_id()",
    ]


def test_the_store_check_can_fail(tmp_path):
    """A write taken by name, a read off a whole module, the module handed on whole: each is named."""
    _screen(tmp_path, "store.py", '''from store import baskets, outcomes
from store.money import format_yuan
import store.shifts
def go(app):
    from store.sales import commit_sale, Basket
    from store.queries import receipt_counts
    outcomes.resolve(1, outcomes.PRINTED)
    baskets.hold(1, "1", "")
    app.run(store.shifts.open_shift)
    app.keep(baskets)
    return format_yuan(1), Basket()
''')
    assert store_access(tmp_path) == [
        "tui/screens/store.py:5: from store.sales import commit_sale",
        "tui/screens/store.py:6: from store.queries import receipt_counts",
        "tui/screens/store.py:7: outcomes.resolve (store.outcomes)",
        "tui/screens/store.py:8: baskets.hold (store.baskets)",
        "tui/screens/store.py:9: store.shifts.open_shift (store.shifts)",
        "tui/screens/store.py:10: baskets used whole (store.baskets)",
    ]


def test_the_money_check_can_fail(tmp_path):
    """Sums, differences, shares and running totals of fen are named once per expression."""
    _screen(tmp_path, "money.py", '''def figures(tender, rows, fen):
    left = tender.total_fen - tender.paid_fen - 1
    share = int(rows[0]["amount_fen"]) * 3 // 4
    total = sum(row.amount_fen for row in rows)
    fen += 5
    return left, share, total, -tender.change_fen % 100, fen / 100
''')
    assert money_arithmetic(tmp_path) == [
        "tui/screens/money.py:2: tender.total_fen - tender.paid_fen - 1",
        "tui/screens/money.py:3: int(rows[0][\"amount_fen\"]) * 3 // 4",
        "tui/screens/money.py:4: sum(row.amount_fen for row in rows)",
        "tui/screens/money.py:5: fen += 5",
        "tui/screens/money.py:6: -tender.change_fen % 100",
        "tui/screens/money.py:6: fen / 100",
    ]
