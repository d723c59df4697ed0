"""`chaoying export sales|lines|payments|moves --from D --to D` and `export stock` [--format csv|xlsx] [-o FILE]."""
from __future__ import annotations

import argparse
import sys

from tui.cli.backoffice import _add, _error, _run, _settings, plural
from tui.cli.common import check_output
from tui.cli.on_server import add_server_options, cover


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS,
        help="settings file (TOML); same as chaoying --config PATH",
    )
    p = _add(sub, "export", common, "export sales, lines or payments of a date range as CSV or XLSX "
                                    "for an accountant (formula-looking text neutralised)")
    p.add_argument("kind", choices=("sales", "lines", "payments", "stock", "moves"),
                   help="what to export (stock: every product's balance now, no dates)")
    p.add_argument("-o", "--output", dest="file", metavar="FILE", default="-",
                   help="file to write, - for stdout (default; CSV only); never an existing file without --force")
    p.add_argument("--force", action="store_true",
                   help="replace FILE if it exists (never the shop's database, its journal key or settings)")
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD",
                   help="first day: a date, today or yesterday (needed, except for stock)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (included; needed, except for stock)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="csv (default) or xlsx")
    p.add_argument("--encoding", choices=("utf-8-sig", "gbk"), default="utf-8-sig",
                   help="CSV text: utf-8-sig (default, UTF-8 with a BOM for Excel) or gbk (GB18030)")
    p.add_argument("--till", metavar="ID", help="only this till's documents (default: every till; on the server: "
                                                "every till of the shop)")
    add_server_options(p)
    p.set_defaults(handler=cmd_export)


def _date(text: str, option: str):
    from tui.cli.common import parse_day

    return parse_day(text, option)


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.kind == "stock":
        args.start = args.start or "today"
        args.end = args.end or "today"
    for option, value in (("--from", args.start), ("--to", args.end)):
        if value is None:
            raise _error(f"export {args.kind} needs {option} YYYY-MM-DD")
    start, end = _date(args.start, "--from"), _date(args.end, "--to")
    if end < start:
        raise _error(f"--to {args.end} is before --from {args.start}")
    to_stdout = args.file == "-"
    if args.format == "xlsx" and to_stdout:
        raise _error("an XLSX export needs a file name, e.g. chaoying export sales --format xlsx -o sales.xlsx")
    encoding = "gb18030" if args.encoding == "gbk" else "utf-8-sig"
    path = None if to_stdout else check_output(args.file, args.force, settings)

    def body(settings) -> int:
        import io

        from store import export

        tills = cover(args, settings, default_till=False).tills
        if to_stdout:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="", write_through=True)
            try:
                export.write_csv(out, args.kind, start, end, tills)
            finally:
                out.detach()
            return 0
        assert path is not None
        from tui.files import write_atomically

        try:
            if args.format == "xlsx":
                count = write_atomically(path, lambda out: export.write_xlsx(out, args.kind, start, end, tills),
                                         binary=True)
            else:
                count = write_atomically(path, lambda handle: export.write_csv(handle, args.kind, start, end, tills),
                                         encoding=encoding, newline="")
        except OSError as exc:
            raise _error(f"cannot write {path}: {exc.strerror or exc}", 1) from None
        noun = {"sales": "sale", "lines": "line", "payments": "payment", "stock": "product", "moves": "stock move"}[
            args.kind]
        when = "" if args.kind == "stock" else f" from {start} to {end}"
        print(f"exported {plural(count, noun)}{when} to {path} ({args.format})")
        return 0

    return _run(args, body, settings)

