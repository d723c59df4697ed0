"""`chaoying shared`: [selling] and [limits] values the shop sets for every till, on its server.

A shared value overrides the till's own settings file at the till's start (``tui.cli.till``) and, while it runs,
from the pull that brings it (``tui.services.shared_settings``; a basket being paid keeps the old values until it
ends); it is checked as the file's would be. Written to the shop's server when one is named ([server] url or --server;
tills copy it within seconds, store.shared_data), else to the local database.
"""
from __future__ import annotations

import argparse
import json
from typing import Any, Tuple


def register(sub) -> None:
    from tui.cli.backoffice import _add, _choose

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="settings file (TOML); same as chaoying --config PATH")
    common.add_argument("--server", metavar="URL", default=None,
                        help="the shop's server (postgresql://...); default: [server] url from the settings")
    shared = _add(sub, "shared", None, "settings the shop sets for every till ([selling] and [limits])")
    actions = shared.add_subparsers(dest="action", metavar="ACTION")
    shared.set_defaults(handler=_choose(shared, "list, set or unset"))
    p = _add(actions, "list", common, "list the shared settings")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_shared_list)
    p = _add(actions, "set", common, "set one for every till, e.g. selling.cashier_max_discount 10")
    p.add_argument("name", metavar="SECTION.KEY", help="selling.* or limits.*, as in the settings file")
    p.add_argument("value", metavar="VALUE", help="as in the settings file: 10, true, jiao")
    p.add_argument("--by", metavar="NAME", help="who sets it (default: your login name)")
    p.set_defaults(handler=cmd_shared_set)
    p = _add(actions, "unset", common, "remove one: tills use their own file's value again")
    p.add_argument("name", metavar="SECTION.KEY")
    p.set_defaults(handler=cmd_shared_unset)


def _name(text: str) -> Tuple[str, str]:
    from tui.cli.backoffice import _error

    section, dot, key = text.partition(".")
    if not dot or not section or not key:
        raise _error(f"{text!r} is not SECTION.KEY such as selling.cashier_max_discount")
    return section, key


def _value(text: str) -> Any:
    """A value as a settings file would write it; a bare word (jiao) is text."""
    from tui.settings import tomllib

    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def cmd_shared_set(args: argparse.Namespace) -> int:
    from tui.cli.backoffice import _error, _run_shared, _who
    from tui.settings import shared_problem

    section, key = _name(args.name)
    value = _value(args.value)
    problem = shared_problem(section, key, value)
    if problem:
        raise _error(problem)

    def body(settings: Any) -> int:
        from store.shared_data import set_shared_setting

        set_shared_setting(section, key, value, changed_by=_who(args))
        print(f"shared {section}.{key} = {json.dumps(value, ensure_ascii=False)} for every till "
              "(each till within seconds; a basket being paid keeps the old ones until it ends)")
        return 0

    return _run_shared(args, body)


def cmd_shared_unset(args: argparse.Namespace) -> int:
    from tui.cli.backoffice import _error, _run_shared

    section, key = _name(args.name)

    def body(settings: Any) -> int:
        from store.shared_data import unset_shared_setting

        if not unset_shared_setting(section, key):
            raise _error(f"{section}.{key} is not shared; nothing changed")
        print(f"{section}.{key} is no longer shared: tills use their own settings file's value")
        return 0

    return _run_shared(args, body)


def cmd_shared_list(args: argparse.Namespace) -> int:
    from tui.cli.backoffice import _print_json, _run_shared

    def body(settings: Any) -> int:
        from store.shared_data import shared_settings

        found = shared_settings()
        if args.json:
            _print_json(found)
        elif not found:
            print("no shared settings: every till uses its own settings file")
        for section, table in sorted(found.items()):
            for key, value in sorted(table.items()):
                print(f"{section}.{key} = {json.dumps(value, ensure_ascii=False)}")
        return 0

    return _run_shared(args, body, note=False)
