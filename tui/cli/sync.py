"""`chaoying sync status [--json]`: each till's last record on the shop's server, records waiting, refusals.

This till's figures are its own (its SQLite file): the records it still has to send and the sync's last error
(kept by the running till's sync worker). Another till's records to send are as its last batch said them
(store.server.till_heads ``to_send``): a till that is offline cannot report a newer figure.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import Any, Dict, List, Optional

SERVER_TIMEOUT_S = 3.0


def register(sub) -> None:
    sync = sub.add_parser("sync", help="the shop's server: what each till has sent",
                          description="What this till and every till of the shop have sent to the shop's server.")
    actions = sync.add_subparsers(dest="action", metavar="ACTION")
    status = actions.add_parser(
        "status", help="each till's last sent record, records waiting and the last refusal",
        description="Each till's last record on the shop's server (seq, time), the records each till still has "
                    "to send (this till's from its own mark, another's as of its last batch), any refusal, and "
                    "this till's last sync error. The server is asked with a short timeout; when it cannot be "
                    "reached, this till's own figures are still printed (exit 1).")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=cmd_sync_status)
    sync.set_defaults(handler=lambda args: _choose(sync))


def _choose(parser: argparse.ArgumentParser) -> int:
    from tui.cli.common import CliError

    raise CliError(f"{parser.prog}: say which: status", 2)


def _local(settings: Any) -> Dict[str, Any]:
    """This till's own figures from its SQLite file: its mark and the records waiting."""
    from store import sync_batch
    from store.db import close_database, open_database
    from store.models import TillCounter
    from tui.cli.common import require_database

    require_database(settings.database.url)
    open_database(settings.database.url)
    try:
        till = settings.till.id
        counter = TillCounter.get_or_none(TillCounter.till_id == till)
        from store.db import db

        row = db.execute_sql(f"SELECT sent_seq, sent_at FROM sync_mark WHERE till_id = {db.param}",
                             (till,)).fetchone()
        error, error_at = sync_batch.last_error(till)
        return {"till": till, "this_till": True, "head_seq": counter.audit_seq if counter else 0,
                "sent_seq": int(row[0]) if row else 0, "sent_at": _time(row[1]) if row else None,
                "waiting": int(sync_batch.waiting(till)), "refusal": "", "refusal_code": "",
                "last_error": error, "last_error_at": _time(error_at) if error else None}
    finally:
        close_database()


def _time(value: Any) -> Optional[str]:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat(sep=" ")
    return str(value)[:19]


def cmd_sync_status(args: argparse.Namespace) -> int:
    from store.db import redact
    from tui.cli.common import CliError, load_settings
    from tui.services.local_first import sell_locally

    settings = sell_locally(load_settings(args, require_file=True), migrate=False).settings
    mine = _local(settings)
    tills: List[Dict[str, Any]] = [mine]
    problem = ""
    url = settings.server.url
    if not url:
        problem = "no shop's server is named ([server] url is empty): this till stands alone"
    else:
        from store.server import ServerError
        from tui.services.sync import sentence, server_heads

        try:
            heads = server_heads(url, settings.till.shop, SERVER_TIMEOUT_S)
        except ServerError as exc:
            problem = f"cannot reach the shop's server {redact(url)}: {sentence(exc).rstrip('.')}; " \
                      f"this till's own figures follow"
            heads = []
        for head in heads:
            row = {"till": head["till_id"], "this_till": head["till_id"] == mine["till"],
                   "sent_seq": int(head.get("head_seq") or 0), "sent_at": _time(head.get("last_at")),
                   "waiting": head.get("to_send"), "waiting_as_of": _time(head.get("local_at")),
                   "refusal": head.get("refusal") or "", "refusal_code": head.get("refusal_code") or ""}
            if row["this_till"]:
                mine.update(server_seq=row["sent_seq"], sent_at=row["sent_at"] or mine["sent_at"],
                            refusal=row["refusal"], refusal_code=row["refusal_code"])
            else:
                tills.append(row)
    if args.json:
        print(json.dumps({"server": redact(url) if url else "", "reachable": bool(url) and not problem,
                          "problem": problem, "tills": tills}, ensure_ascii=False, indent=2))
    else:
        for row in tills:
            print(_line(row))
    if problem and not url:  # a till alone: nothing is wrong
        print(problem, file=sys.stderr)
    elif problem:
        raise CliError(problem, 1)
    return 0


def _line(row: Dict[str, Any], today: Optional[datetime.date] = None) -> str:
    who = f"till {row['till']}" + (" (this till)" if row["this_till"] else "")
    sent = f"last sent record {row['sent_seq']}" + (f" at {row['sent_at']}" if row["sent_at"] else "") \
        if row["sent_seq"] else "nothing sent yet"
    if row["this_till"]:
        waiting = f"{row['waiting']} to send"
    elif row["waiting"] is not None:
        waiting = f"{row['waiting']} to send as of its last batch"
    else:
        waiting = "to send: known on that till (it has not reported)"
    refusal = f"; refused: {row['refusal']}" if row["refusal"] else ""
    error = ""
    if row.get("last_error"):
        error = f"; last error at {_clock(row.get('last_error_at'), today)}: {row['last_error']}"
    return f"{who}: {sent}; {waiting}{refusal}{error}"


def _clock(text: Optional[str], today: Optional[datetime.date] = None) -> str:
    """A time of _time as the line says it: 14:02 today, else 2026-03-04 14:02."""
    if not text:
        return "an unknown time"
    today = today or datetime.date.today()
    return text[11:16] if text[:10] == today.isoformat() else text[:16]
