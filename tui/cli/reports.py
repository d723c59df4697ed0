"""`chaoying report x|z|sales|receipts` and `chaoying shift open|pay-in|pay-out`.

(`chaoying report reconcile` lives in tui/cli/reconcile.py and registers itself here.)
Store modules are imported inside the handlers; bad input is one sentence.
"""
from __future__ import annotations

import argparse
import csv
import sys
from typing import Any, Dict, List, Optional

from tui.cli.backoffice import _add, _choose, _day, _error, _print_json, _print_table, _run, _sentence, _settings, _till
from tui.cli.common import add_pin_options, read_pin, refuse_pin_in_argv
from tui.cli.on_server import add_server_options, cover, refuse_on_server


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="settings file (TOML); same as chaoying --config PATH")
    till = argparse.ArgumentParser(add_help=False)
    till.add_argument("--till", metavar="ID", help="till id (default: [till] id from the settings)")
    # the read reports: also on the shop's server, where they cover every till of the shop
    read = argparse.ArgumentParser(add_help=False)
    read.add_argument("--till", metavar="ID", help="till id (default: [till] id from the settings; on the server: "
                                                   "every till of the shop)")
    add_server_options(read)

    report = _add(sub, "report", None, "X and Z reports, sales figures, the receipts of a day, reconciliation")
    actions = report.add_subparsers(dest="action", metavar="ACTION")
    report.set_defaults(handler=_choose(report, "x, z, sales, receipts or reconcile"))
    p = actions.add_parser("x", parents=[common, read], help="the open shift's figures so far (changes nothing; "
                                                          "on the server: of each till of the shop)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_report_x)
    p = actions.add_parser("z", parents=[common, read], help="close the shift with a Z report (or --list them; "
                                                          "on the server only --list)")
    p.add_argument("--counted", metavar="YUAN", help="the cash counted in the drawer, e.g. 182.50")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--print", action="store_true", help="print the Z on the till's printer")
    p.add_argument("--list", action="store_true", help="list the Z reports instead of closing")
    p.set_defaults(handler=cmd_report_z)
    p = actions.add_parser("sales", parents=[common, read], help="net sales from one day to another, grouped")
    p.add_argument("--from", dest="first", metavar="YYYY-MM-DD", required=True,
                   help="first day: a date, today or yesterday")
    p.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day (default: the first)")
    p.add_argument("--by", choices=("day", "hour", "product", "tender", "cashier"), default="day")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--csv", action="store_true", help="print CSV")
    p.set_defaults(handler=cmd_report_sales)
    p = actions.add_parser("receipts", parents=[common, read], help="every document of a day with its payments, "
                           "receipt outcome and print attempts; those without a printer-confirmed receipt first")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day: a date, today or yesterday (default: today)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_report_receipts)
    from tui.cli import reconcile

    reconcile.register(actions)

    shift = _add(sub, "shift", None, "open a shift with its float; cash paid in and out")
    actions = shift.add_subparsers(dest="action", metavar="ACTION")
    shift.set_defaults(handler=_choose(shift, "open, pay-in or pay-out"))
    p = actions.add_parser("open", parents=[common, till], help="open the till's shift with the counted float")
    p.add_argument("--float", dest="float_yuan", metavar="YUAN", required=True, help="the opening float, e.g. 200")
    p.add_argument("--cashier", metavar="CODE", default="", help="who opens it")
    p.set_defaults(handler=cmd_shift_open)
    for name, help_text in (("pay-in", "cash put into the drawer"), ("pay-out", "cash taken out of the drawer")):
        p = actions.add_parser(name, parents=[common, till], help=help_text)
        p.add_argument("amount", metavar="YUAN", help="the amount, e.g. 20")
        p.add_argument("--reason", required=True, help="why (e.g. 送货 delivery)")
        p.add_argument("--cashier", metavar="CODE", default="", help="who")
        p.add_argument("--manager", metavar="CODE", default="",
                       help="the manager who allows it (above the cashier's paid out limit): their PIN is asked "
                            "for, hidden, or read with --pin-stdin; wrong PINs lock the code as at sign-in")
        add_pin_options(p, "give --manager CODE to be asked for the manager's PIN")
        p.set_defaults(handler=cmd_shift_move, kind=name)


def _yuan(option: str, text: Optional[str]) -> Optional[int]:
    from store.money import parse_yuan

    if text is None:
        return None
    try:
        return parse_yuan(text)
    except ValueError:
        raise _error(f"{option} {text!r} is not an amount in yuan like 182.50") from None


def _yuan_text(fen: Optional[int]) -> str:
    from store.money import format_yuan

    return "-" if fen is None else format_yuan(fen)


def _summary(f: Dict[str, Any], title: str) -> None:
    """The figures a shop owner reads first, as a table."""
    s, cash = f["sales"], f["cash"]
    rows = [["sales", str(s["count"]), _yuan_text(s["gross_fen"])],
            ["discounts", "", _yuan_text(-s["discount_fen"])],
            ["rounded down", "", _yuan_text(-s["rounding_fen"])],  # 抹零: the command line speaks English
            ["refunds", str(f["refunds"]["count"]), _yuan_text(-f["refunds"]["amount_fen"])],
            ["voids", str(f["voids"]["count"]), _yuan_text(-f["voids"]["amount_fen"])],
            ["net", "", _yuan_text(f["net_fen"])]]
    rows += [[f"  {method}", str(t["count"]), _yuan_text(t["amount_fen"])] for method, t in f["tenders"].items()]
    failed = f["failed_payments"]
    rows.append(["failed payments", str(failed["count"]), _yuan_text(failed["amount_fen"])])
    rows += [["float", "", _yuan_text(cash["float_fen"])], ["paid in", "", _yuan_text(cash["paid_in_fen"])],
             ["paid out", "", _yuan_text(-cash["paid_out_fen"])]]
    if cash.get("before_shift_fen"):  # an older Z has none
        rows.append(["sold before the shift (already in the float count)", "", _yuan_text(-cash["before_shift_fen"])])
    rows.append(["expected cash", "", _yuan_text(cash["expected_fen"])])
    if cash["counted_fen"] is not None:
        over = cash["over_short_fen"]
        rows += [["counted", "", _yuan_text(cash["counted_fen"])],
                 ["over" if over >= 0 else "short", "", _yuan_text(abs(over))]]
    from store.outcomes import DECLINED, E_RECEIPT, HANDWRITTEN

    r = f["receipts"]
    rows += [["printed (printer)", str(r["printed_by_printer"]), ""],
             ["printed (cashier's word)", str(r["printed_by_cashier"]), ""], ["reprints", str(r["reprints"]), ""],
             [HANDWRITTEN, str(r[HANDWRITTEN]), ""],
             ["  without official print", str(r["handwritten_without_print"]), ""],
             ["e-receipt", str(r[E_RECEIPT]), ""], [DECLINED, str(r[DECLINED]), ""],
             ["drawer opens (no sale)", str(f["events"]["no_sale"]), ""]]
    print(title)
    _print_table(["", "count", "amount"], rows, right=(1, 2))
    print(f"receipts {f['first_receipt'] or '-'} to {f['last_receipt'] or '-'}; journal head {f['journal_head']}")


def cmd_report_x(args: argparse.Namespace) -> int:
    settings = _settings(args)

    def body(settings) -> int:
        from store import reports
        from store.till_filter import shop_tills

        covered = cover(args, settings)
        if covered.one is not None or not covered.server:  # the till's own X: one, as always
            tills = [covered.one or settings.till.id]
        else:  # on the server: each till of the shop (every till on the server with --shop "")
            tills = list(covered.tills) if covered.tills is not None else shop_tills("")
        done = [reports.x_report(till) for till in tills]
        if args.json:
            _print_json(done[0] if not covered.server else done)  # on the server: one X per till
            return 0
        for number, figures in enumerate(done):
            if number:
                print()
            _summary(figures, f"X report of till {figures['till_id']}"
                     + (f", shift {figures['shift']}" if figures["shift"] else ""))
        if covered.server and not done:
            print("no till" + (f" of shop {covered.shop}" if covered.shop else "") + " has synced to the server yet")
        return 0

    return _run(args, body, settings)


def cmd_report_z(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)
    listed = args.till if args.till is not None else None
    counted = _yuan("--counted", args.counted)
    if args.list and (counted is not None or args.print):
        raise _error("--list lists the Z reports; it takes neither --counted nor --print")

    def body(settings) -> int:
        from store import reports

        if args.list:
            rows = reports.z_list(cover(args, settings, default_till=False).tills if listed is None else listed)
            if args.json:
                _print_json(rows)
            else:
                _print_table(["till", "Z", "closed at", "by", "net", "over/short", "last receipt"], [
                    [z["till_id"], str(z["z_no"]), z["closed_at"] or "", z["closed_by"],
                     _yuan_text(z["figures"]["net_fen"]), _yuan_text(z["figures"]["cash"]["over_short_fen"]),
                     z["figures"]["last_receipt"] or "-"] for z in rows], right=(1, 4, 5))
            return 0
        refuse_on_server(args, "closing a Z")
        try:
            z = reports.close_z(till, counted_fen=counted, cashier=None)
        except reports.ReportError as exc:
            raise _error(_sentence(exc), 1) from None
        data = reports.z_dict(z)
        if args.json:
            _print_json(data)
        else:
            _summary(data["figures"], f"Z report {z.z_no} of till {till}, closed {data['closed_at']}")
        if args.print:
            return _print_z(settings, data)
        return 0

    return _run(args, body, settings)


def _print_z(settings, data: Dict[str, Any]) -> int:
    from printing.report import print_report, report_lines

    config = settings.printer
    lines = report_lines(data["figures"], config.columns, "Z", data["z_no"], data["closed_at"] or "",
                         settings.shop.name, settings.receipt.language)
    result = print_report(lines, config)
    if not result.ok:
        raise _error(f"the Z report is stored, but printing it failed: {result.reason_en}; "
                     f"print it again with: chaoying report z --list", 1)
    print(f"printed Z report {data['z_no']} on {config.port}")
    return 0


def cmd_report_sales(args: argparse.Namespace) -> int:
    settings = _settings(args)
    first = _day(args.first, "--from")
    last = _day(args.last, "--to") if args.last else first
    if last < first:
        raise _error(f"--to {args.last} is before --from {args.first}")

    def body(settings) -> int:
        from store import reports

        covered = cover(args, settings, default_till=False)
        rows = reports.sales_by(covered.tills, first, last, args.by)
        if args.json:  # integers, each key naming its unit (net_fen, qty_milli)
            _print_json(rows)
        elif args.csv:  # for a spreadsheet: yuan and quantities as written, the header naming them
            writer = csv.writer(sys.stdout)
            writer.writerow(SALES_CSV[args.by])
            writer.writerows([_sales_csv(row, args.by) for row in rows])
        else:
            headers = SALES_TABLE[args.by]
            _print_table(headers, [_sales_cells(row, args.by) for row in rows], right=range(len(headers) - 2,
                                                                                            len(headers)))
            total = sum(row["net_fen"] for row in rows)
            print(f"net {_yuan_text(total)} yuan from {first} to {last} on {covered.words}")
        return 0

    return _run(args, body, settings)


#: `report sales` headers: money in yuan, a product's quantity in its unit (the JSON keeps fen and thousandths).
SALES_TABLE = {by: [by, "count", "net (yuan)"] for by in ("day", "hour", "tender", "cashier")}
SALES_TABLE["product"] = ["product", "barcode", "qty", "net (yuan)"]
SALES_CSV = {by: [by, "count", "net_yuan"] for by in ("day", "hour", "tender", "cashier")}
SALES_CSV["product"] = ["product", "barcode", "qty", "unit", "net_yuan"]


def _qty_text(row: Dict[str, Any]) -> str:
    from store.money import format_qty

    return format_qty(row["qty_milli"]) + (row.get("unit") or "")


def _sales_cells(row: Dict[str, Any], by: str) -> List[str]:
    """One row of the `report sales` table: a product's quantity in its unit ("1.5斤"), money in yuan."""
    if by == "product":
        return [row["product"], row["barcode"], _qty_text(row), _yuan_text(row["net_fen"])]
    return [str(row[by]), str(row["count"]), _yuan_text(row["net_fen"])]


def _sales_csv(row: Dict[str, Any], by: str) -> List[str]:
    """One CSV row of `report sales`: the quantity and its unit apart, money in yuan with two decimals, text
    neutralised as the exports do."""
    from store.export import neutralise  # a name a spreadsheet would run as a formula is text
    from store.money import format_qty

    if by == "product":
        return [neutralise(row["product"]), neutralise(row["barcode"]), format_qty(row["qty_milli"]),
                neutralise(row["unit"]), _yuan_text(row["net_fen"])]
    return [neutralise(str(row[by])), str(row["count"]), _yuan_text(row["net_fen"])]


def cmd_report_receipts(args: argparse.Namespace) -> int:
    settings = _settings(args)
    day = _day(args.date)

    def body(settings) -> int:
        from store import reports
        from store.outcomes import PRINTING

        covered = cover(args, settings, default_till=False)
        rows = reports.receipts_of_day(covered.tills, day)
        if args.json:
            _print_json(rows)
            return 0
        _print_table(["receipt", "kind", "time", "total", "paid by", "receipt outcome", "prints"], [
            [r["receipt"], r["kind"], (r["sold_at"] or "")[11:19], _yuan_text(r["total_fen"]),
             ", ".join(f"{p['method']} {_yuan_text(p['amount_fen'])}" + ("" if p["status"] == "ok" else " failed")
                       for p in r["payments"]),
             r["outcome"] + ("" if r["printer_confirmed"] else " (no printer confirmation)"),
             ", ".join(a["result"] or PRINTING for a in r["print_attempts"])] for r in rows], right=(3,))
        unconfirmed = sum(1 for r in rows if not r["printer_confirmed"])
        print(f"{len(rows)} documents on {day} on {covered.words}; {unconfirmed} without a printer-confirmed receipt")
        return 0

    return _run(args, body, settings)


def cmd_shift_open(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)
    float_fen = _yuan("--float", args.float_yuan)

    def body(settings) -> int:
        from store import shifts

        refuse_on_server(args, "opening a shift")
        try:
            shift = shifts.open_shift(till, float_fen, cashier=args.cashier)
        except shifts.ShiftError as exc:
            raise _error(_sentence(exc), 1) from None
        print(f"opened shift {shift.number} on till {till} with a float of {_yuan_text(shift.float_fen)}")
        return 0

    return _run(args, body, settings)


def cmd_shift_move(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till = _till(args, settings)
    amount = _yuan("amount", args.amount) or 0
    refuse_pin_in_argv(args)
    if args.pin_stdin and not args.manager:
        raise _error("--pin-stdin reads the PIN of the manager named with --manager CODE")
    pin = read_pin(args.pin_stdin, confirm=False, prompt="manager's PIN") if args.manager else None

    def body(settings) -> int:
        from store import shifts
        from store.cashiers import LockRule, approve

        refuse_on_server(args, "cash paid in or out")
        manager = None
        if pin is not None:
            rule = LockRule(settings.signin.lock_attempts, settings.signin.lock_minutes)
            manager = approve(args.manager, pin, till, rule, f"{args.kind} {_yuan_text(amount)}").cashier
            if manager is None:
                raise _error("that code and PIN are not an unlocked manager's; nothing was changed")
        try:
            if args.kind == "pay-in":
                shifts.cash_in(till, amount, args.reason, args.cashier, manager)
            else:
                shifts.cash_out(till, amount, args.reason, args.cashier, manager,
                                limit_fen=settings.shift.cashier_max_paid_out)
        except shifts.ShiftError as exc:
            raise _error(_sentence(exc), 1) from None
        word = "paid in" if args.kind == "pay-in" else "paid out"
        print(f"{word} {_yuan_text(amount)} on till {till}: {args.reason}")
        return 0

    return _run(args, body, settings)
