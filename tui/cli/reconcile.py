"""`chaoying report reconcile --date D [--wechat BILL.csv] [--alipay BILL.csv] [--window MIN] [--json]`.

The day's WeChat Pay and Alipay payments on the tills against the merchant
bills the providers' platforms export (store.reconcile reads and matches).
Exit 0 when everything matches, 1 when something does not, 2 for a file that
is not a bill (one sentence; nothing is written either way).
"""
from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import List

from tui.cli.backoffice import _add, _error, _print_json, _print_table, _run, _settings, plural

#: The widest time window accepted: a day.
MAX_WINDOW = 24 * 60


def register(actions) -> None:
    """Add ``reconcile`` to the actions of the ``report`` group."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS,
        help="settings file (TOML); same as chaoying --config PATH",
    )
    p = _add(actions, "reconcile", common, "match the day's WeChat Pay and Alipay payments of every till "
                                           "against the merchant bills; exit 1 when something does not match")
    p.epilog = ("A payment matches a bill row by the reference the cashier typed (the whole 微信订单号, "
                "商户订单号 or 支付宝交易号, or its last 4 or more characters), else by the same amount within "
                "the time window, nearest time first. Listed: bill transactions with no sale, sales whose "
                "payment is not on the bill, amount differences, refunds on one side only.")
    p.add_argument("--date", metavar="YYYY-MM-DD", required=True, help="the day of the bills: a date, today or "
                                                                       "yesterday")
    p.add_argument("--wechat", metavar="BILL.csv", type=Path,
                   help="WeChat Pay 交易账单 (all transactions) as the merchant platform exports it, GBK or UTF-8")
    p.add_argument("--alipay", metavar="BILL.csv", type=Path,
                   help="Alipay 业务明细 CSV as the merchant platform exports it, GBK or UTF-8")
    p.add_argument("--window", metavar="MINUTES", default="10",
                   help="how far apart in time a payment and a bill row may be to match by amount (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--till", metavar="ID", help="only this till's payments (default: every till; on the server: "
                                                "every till of the shop)")
    from tui.cli.on_server import add_server_options

    add_server_options(p)
    p.set_defaults(handler=cmd_reconcile)


def _minutes(text: str) -> datetime.timedelta:
    if not text.strip().isdigit() or not 0 <= int(text) <= MAX_WINDOW:
        raise _error(f"--window {text!r} is not a number of minutes from 0 to {MAX_WINDOW}")
    return datetime.timedelta(minutes=int(text))


def _date(text: str) -> datetime.date:
    from tui.cli.common import parse_day

    return parse_day(text, "--date")


def _read(path: Path, provider: str):
    from store.reconcile import BillError, read_bill

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _error(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return read_bill(data, provider, str(path))
    except BillError as exc:
        raise _error(str(exc).rstrip(".")) from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    settings = _settings(args)
    day, window = _date(args.date), _minutes(args.window)
    files = [(provider, path) for provider, path in (("wechat", args.wechat), ("alipay", args.alipay)) if path]
    if not files:
        raise _error("give at least one bill: --wechat BILL.csv or --alipay BILL.csv")
    bills = [(path, _read(path, provider)) for provider, path in files]  # every file read before the database

    def body(settings) -> int:
        from store.reconcile import reconcile, till_payments
        from tui.cli.on_server import cover

        covered = cover(args, settings, default_till=False)
        payments = till_payments(day, [bill.provider for _, bill in bills], covered.tills)
        result = reconcile([row for _, bill in bills for row in bill.rows], payments, window)
        if args.json:
            _print_json({"date": day.isoformat(), "window_minutes": int(window.total_seconds() // 60),
                         "bills": [{"provider": bill.provider, "file": str(path), "encoding": bill.encoding,
                                    "transactions": len(bill.rows)} for path, bill in bills],
                         "till_payments": len(payments), **result.as_dict()})
        else:
            _say(day, window, bills, payments, result, covered.words)
        return 0 if result.ok else 1

    return _run(args, body, settings)


def _say(day, window, bills, payments, result, words: str = "every till") -> None:
    from store.reconcile import NAMES

    minutes = int(window.total_seconds() // 60)
    read = ", ".join(f"{NAMES[bill.provider]} bill {path.name}: {plural(len(bill.rows), 'transaction')} "
                     f"({bill.encoding})" for path, bill in bills)
    print(f"Reconciliation of {day.isoformat()} (time window ±{minutes} min): {read}; "
          f"{plural(len(payments), 'mobile payment')} on " + ("the tills" if words == "every till" else words))
    sections = (
        ("Bill transactions with no sale", result.bill_only, "bill"),
        ("Sales whose payment is not on the bill", result.till_only, "till"),
        ("Amount differences (reference matched, amounts differ)", result.amount_differences, "match"),
        ("Refunds on the bill only", result.refunds_bill_only, "bill"),
        ("Refunds on the till only", result.refunds_till_only, "till"),
    )
    for title, items, side in sections:
        if not items:
            continue
        print(f"\n{title} ({len(items)}):")
        if side == "bill":
            _print_table(["provider", "time", "kind", "amount", "numbers", "line"],
                         [_bill_cells(row) for row in items], right=(3,))
        elif side == "till":
            _print_table(["receipt", "time", "document", "method", "amount", "reference"],
                         [[p.receipt, p.at.strftime("%H:%M:%S"), p.document, p.provider,
                           _yuan(p.amount_fen), p.reference] for p in items], right=(4,))
        else:
            _print_table(["receipt", "method", "till", "bill", "difference", "numbers"],
                         [[m.till.receipt, m.till.provider, _yuan(m.till.amount_fen), _yuan(m.bill.amount_fen),
                           _yuan(m.bill.amount_fen - m.till.amount_fen), _numbers(m.bill)] for m in items],
                         right=(2, 3, 4))
    left = (len(result.bill_only) + len(result.till_only) + len(result.amount_differences)
            + len(result.refunds_bill_only) + len(result.refunds_till_only))
    verdict = "everything matches" if result.ok else f"{plural(left, 'difference')} to look into"
    print(f"\n{len(result.matched)} matched; {verdict}")


def _yuan(fen: int) -> str:
    from store.money import format_yuan

    return format_yuan(fen)


def _numbers(row) -> str:
    return " ".join(value for value in row.numbers.values() if value)


def _bill_cells(row) -> List[str]:
    return [row.provider, row.at.strftime("%H:%M:%S"), row.kind, _yuan(row.amount_fen), _numbers(row), str(row.line)]
