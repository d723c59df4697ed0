"""`chaoying stock list|moves|receive|adjust|min|count`: on hand, deliveries, adjustments, stocktakes (store.stock).

Every file is checked whole first: a bad line is named in one sentence and nothing is written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List

from tui.cli.backoffice import (
    _add,
    _choose,
    _error,
    _print_json,
    _print_table,
    _read_file,
    _run,
    _sentence,
    _settings,
    _till,
    plural,
)
from tui.cli.common import add_pin_options, read_pin, refuse_pin_in_argv


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="settings file (TOML); same as chaoying --config PATH")
    till = argparse.ArgumentParser(add_help=False)
    till.add_argument("--till", metavar="ID", help="till id the moves are written on (default: [till] id)")
    till.add_argument("--cashier", metavar="CODE", default="", help="who")

    stock = _add(sub, "stock", None, "stock (库存): on hand, moves, receiving, adjustments, thresholds, stocktakes")
    actions = stock.add_subparsers(dest="action", metavar="ACTION")
    stock.set_defaults(handler=_choose(stock, "list, moves, receive, adjust, min or count"))
    p = actions.add_parser("list", parents=[common], help="on hand, low threshold and value at cost per product")
    p.add_argument("--low", action="store_true", help="only products at or below their threshold (to reorder)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_stock_list)
    p = actions.add_parser("moves", parents=[common], help="the stock moves, oldest first")
    p.add_argument("--barcode", help="of one product")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day: a date, today or yesterday")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (included)")
    p.add_argument("--limit", type=int, metavar="N", help="only the newest N moves")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_stock_moves)
    p = actions.add_parser("receive", parents=[common, till], help="进货: a delivery from a CSV file "
                           "(barcode,qty,cost[,supplier]; UTF-8, BOM or GBK) or one product")
    p.add_argument("file", metavar="FILE.csv", nargs="?", help="the delivery; every line checked before any is written")
    p.add_argument("--barcode", help="one product instead of a file")
    p.add_argument("--qty", help="how many (pieces, or kg for a weighed product)")
    p.add_argument("--cost", metavar="YUAN", help="unit cost in yuan, e.g. 2.50")
    p.add_argument("--supplier", default="", help="who delivered (one product)")
    p.add_argument("--ref", default="", help="the delivery note's number")
    p.set_defaults(handler=cmd_stock_receive)
    p = actions.add_parser("adjust", parents=[common, till], help="an adjustment with its reason")
    p.add_argument("--barcode", required=True)
    p.add_argument("--qty", required=True, help="signed: -2 takes two off, 3 adds three")
    p.add_argument("--reason", required=True, choices=("damaged", "lost", "own_use", "given", "other"),
                   help="报损 damaged, 丢失 lost, 自用 own_use, 赠送 given, other (with --note)")
    p.add_argument("--note", default="", help="why, in words")
    p.set_defaults(handler=cmd_stock_adjust)
    p = actions.add_parser("min", parents=[common], help="a product's low-stock threshold")
    p.add_argument("--barcode", required=True)
    p.add_argument("--qty", required=True, help="the threshold, or none to take it off")
    p.set_defaults(handler=cmd_stock_min)
    p = actions.add_parser("count", parents=[common, till], help="盘点: apply a count file (barcode,counted) "
                           "with a manager's PIN; each counted product's difference becomes one counted move")
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--whole", action="store_true", help="the count is whole: products with stock it does not "
                                                        "name are counted as 0")
    p.add_argument("--manager", metavar="CODE", required=True,
                   help="the manager who applies it: their PIN is asked for, hidden, or read with --pin-stdin")
    add_pin_options(p, "the manager's PIN is asked for")
    p.set_defaults(handler=cmd_stock_count)


def cmd_stock_list(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import money, shop_stock, stock

        held = shop_stock if settings.server.url else stock  # a shop's server: every till's synced moves
        rows = held.list_stock(low=args.low)
        if args.json:
            _print_json([dict(barcode=r.barcode, name=r.name, unit=r.unit, on_hand=money.format_qty(r.on_hand_milli),
                              min=None if r.min_milli is None else money.format_qty(r.min_milli),
                              avg_cost_fen=r.avg_cost_fen, value_fen=r.value_fen, low=r.low) for r in rows])
            return 0
        _print_table(("barcode", "name", "on hand", "min", "avg cost", "value"),
                     [(r.barcode, r.name, f"{money.format_qty(r.on_hand_milli)}{r.unit}",
                       "" if r.min_milli is None else money.format_qty(r.min_milli),
                       money.format_yuan(r.avg_cost_fen), money.format_yuan(r.value_fen)) for r in rows],
                     right=(2, 3, 4, 5))
        if not args.low:
            print(f"stock value at cost: {money.format_yuan(held.stock_value())}")
        as_of = shop_stock.as_of() if settings.server.url else None
        if as_of is not None:
            print(f"the shop's stock (every till), as the server said it at {as_of:%Y-%m-%d %H:%M}")
        return 0

    return _run(args, body)


def cmd_stock_moves(args: argparse.Namespace) -> int:
    from tui.cli.common import parse_day

    start = parse_day(args.start, "--from") if args.start else None
    end = parse_day(args.end, "--to") if args.end else None
    if start and end and end < start:
        raise _error(f"--to {args.end} is before --from {args.start}")

    def body(settings) -> int:
        from store import money, stock

        rows = _store(lambda: stock.moves(args.barcode, start, end, args.limit))
        if args.json:
            _print_json(rows)
            return 0
        _print_table(("at", "barcode", "name", "kind", "qty", "cost", "why", "document"),
                     [(r["at"], r["barcode"], r["name"], r["kind"], r["qty"], money.format_yuan(r["cost_fen"]),
                       " ".join(x for x in (r["reason"], r["note"]) if x), r["document"] or r["ref"]) for r in rows],
                     right=(4, 5))
        return 0

    return _run(args, body)


def _store(call):
    """Run a store call; its StockError becomes one sentence (exit 2), nothing written."""
    from store.errors import StoreError
    from store.stock import StockFileError

    try:
        return call()
    except StockFileError as exc:
        raise _error("; ".join(f"line {line}: {_sentence(text).rstrip('.')}" for line, text in exc.errors)
                     + "; nothing was written") from None
    except StoreError as exc:  # a stock change refused, a file that is not text (store.catalogue.decode)
        raise _error(f"{_sentence(exc).rstrip('.')}; nothing was written") from None


def cmd_stock_receive(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)
    one = [args.barcode, args.qty, args.cost]
    if args.file and any(one):
        raise _error("give a delivery FILE.csv or --barcode, --qty and --cost, not both")
    if not args.file and not all(one):
        raise _error("give a delivery FILE.csv, or --barcode B --qty N --cost YUAN")
    data = _read_file(Path(args.file).expanduser()) if args.file else b""

    def body(settings) -> int:
        from store import stock, stock_files

        if args.file:
            rows = _store(lambda: stock_files.read_delivery(data))
        else:
            rows = [_store(lambda: stock_files.delivery_row(args.barcode, args.qty, args.cost, args.supplier))]
        count = _store(lambda: stock.receive(rows, till, args.cashier, args.ref))
        print(f"received {plural(count, 'product')} on till {till}")
        return 0

    return _run(args, body, settings)


def cmd_stock_adjust(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)

    def body(settings) -> int:
        from store import money, stock

        qty = _store(lambda: stock.parse_signed_qty(args.qty))
        _store(lambda: stock.adjust(args.barcode, qty, args.reason, till, args.cashier, args.note))
        held = stock.on_hand(stock.find(args.barcode).id)
        print(f"adjusted {args.barcode} by {money.format_qty(qty)} ({args.reason}): {money.format_qty(held)} on hand")
        return 0

    return _run(args, body, settings)


def cmd_stock_min(args: argparse.Namespace) -> int:
    def body(settings) -> int:
        from store import money, stock

        none = args.qty.strip().lower() in ("none", "-", "")
        qty = None if none else _store(lambda: _threshold(args.qty))
        _store(lambda: stock.set_min(args.barcode, qty))
        print(f"{args.barcode}: " + ("no low-stock threshold" if qty is None else
                                     f"low at {money.format_qty(qty)} or below"))
        return 0

    return _run(args, body)


def _threshold(text: str) -> int:
    from store import stock

    qty = stock.parse_signed_qty(text)
    if qty < 0:
        raise stock.StockError(f"A threshold of {text} is negative.", "stock_bad_qty")
    return qty


def cmd_stock_count(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)
    refuse_pin_in_argv(args)
    data = _read_file(Path(args.file).expanduser())

    def body(settings) -> int:
        from store import money, stock, stock_files
        from store.cashiers import LockRule, approve

        rows = _store(lambda: stock_files.read_count(data))  # checked whole before the PIN is asked for
        pin = read_pin(args.pin_stdin, confirm=False, prompt="manager's PIN")
        rule = LockRule(settings.signin.lock_attempts, settings.signin.lock_minutes)
        if approve(args.manager, pin, till, rule, f"stocktake {args.file}").cashier is None:
            raise _error("that code and PIN are not an unlocked manager's; nothing was changed")
        info, results = _store(lambda: stock.count_file(rows, till, args.cashier, args.manager, args.whole))
        moved: List[Dict[str, Any]] = [dict(barcode=r.barcode, name=r.name, difference=r.difference_milli)
                                       for r in results if r.difference_milli]
        print(f"stocktake {info.name} applied: {plural(len(results), 'product')} counted, "
              f"{plural(len(moved), 'difference')}")
        for row in moved:
            sign = "+" if row["difference"] > 0 else ""
            print(f"  {row['barcode']} {row['name']}: {sign}{money.format_qty(row['difference'])}", file=sys.stdout)
        return 0

    return _run(args, body, settings)
