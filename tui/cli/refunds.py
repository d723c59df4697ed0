"""`chaoying sales refund-again RECEIPT`: ask the provider again for the refunds a refund or void document holds
that it refused (or that are not settled), with the same refund numbers: the provider refunds at most once.

Also what `sales list` says under its table of a refund the provider refused or has not settled.
"""
from __future__ import annotations

import argparse
import re
import time
from typing import Any, Dict, List

from tui.cli.backoffice import _add, _error, _print_json, _run, _settings

#: How long the command waits for the provider's answer before it says the till follows the rest.
WAIT_SECONDS = 30.0
_RECEIPT = re.compile(r"(?:([A-Za-z0-9_-]{1,8})-)?(\d{1,9})")


def register(sub: Any) -> None:
    """Add ``refund-again`` to the actions of the ``sales`` group (backoffice.register made it)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS,
        help="settings file (TOML); same as chaoying --config PATH",
    )
    sales = sub.choices["sales"]
    actions = next(a for a in sales._actions if isinstance(a, argparse._SubParsersAction))
    p = _add(actions, "refund-again", common, "ask WeChat Pay or Alipay again for the refund of a refund or void "
                                              "document that it refused (same refund number: never refunded twice)")
    p.add_argument("receipt", help="the refund's or void's receipt number (1-000012, or 12 on this till)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_refund_again)


def _receipt(text: str, till_id: str) -> "tuple[str, int]":
    found = _RECEIPT.fullmatch(text.strip())
    if found is None:
        raise _error(f"{text!r} is not a receipt number like 1-000012")
    return found.group(1) or till_id, int(found.group(2))


def cmd_refund_again(args: argparse.Namespace) -> int:
    settings = _settings(args)
    till, number = _receipt(args.receipt, settings.till.id)

    def body(settings: Any) -> int:
        from store import provider_refunds as refunds
        from store.numbering import format_receipt_no
        from tui.services.payments.clients import providers_from
        from tui.services.payments.refunds import desk_from

        receipt = format_receipt_no(till, number)
        rows = refunds.of_receipt(till, number)
        if not rows:
            raise _error(f"receipt {receipt} has no refund through WeChat Pay or Alipay")
        again = [row.out_refund_no for row in rows if row.state in (refunds.FAILED,) + refunds.OPEN_STATES]
        if not again:
            raise _error(f"the refunds of receipt {receipt} are all refunded already", 1)
        desk = desk_from(providers_from(settings), till, lambda event: None,
                         lambda function, *values: function(*values))
        if desk is None:
            raise _error("WeChat Pay and Alipay are not set up in the settings ([payments.wechat], [payments.alipay])")
        _ask(desk, rows, again)
        return _said([refunds.get(row.out_refund_no) for row in rows], receipt, args.json)

    return _run(args, body, settings)


def _ask(desk: Any, rows: List[Any], again: List[str]) -> None:
    """Ask each refund of ``again`` once more and wait (with a deadline) for the provider to settle it."""
    from store import provider_refunds as refunds

    desk.start()
    try:
        for row in rows:
            if row.out_refund_no in again:
                if row.state == refunds.FAILED:
                    desk.retry(row.out_refund_no)
                else:
                    desk.send(row.document)
        end = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < end and desk.busy():
            time.sleep(0.05)
    finally:
        desk.stop()


def _said(rows: List[Any], receipt: str, as_json: bool) -> int:
    from store.provider_refunds import REFUNDED, as_dict
    from tui.services.payments.refunds import english_note

    if as_json:
        _print_json([{k: str(v) if k.endswith("_at") else v for k, v in as_dict(row).items()} for row in rows])
    else:
        for row in rows:
            print(f"{receipt}: {english_note(row.provider, _values(row))}")
    return 0 if all(row.state == REFUNDED for row in rows) else 1


def _values(row: Any) -> Dict[str, Any]:
    return {"out_refund_no": row.out_refund_no, "state": row.state, "refund_id": row.refund_id,
            "reason_code": row.reason_code, "reason": row.reason, "amount_fen": row.amount_fen}
