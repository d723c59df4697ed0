"""Read commands on the shop's server: ``--server [URL]``, ``--shop CODE`` and which tills a command covers.

``sales list``, ``receipts list``, ``report ...``, ``export ...``, ``report
reconcile`` and ``journal verify`` read the shop's server when DATABASE_URL
(or ``[database] url``) names it, or with ``--server URL`` (``--server``
alone: ``[server] url``). There they cover every till of the shop
(``--shop CODE``, default ``[till] shop``; empty: every shop), or the one
``--till`` names. Nothing that writes a till's record runs on the server: a
Z stays its till's and reaches the server when the till syncs.
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from tui.cli.common import CliError

if TYPE_CHECKING:
    from store.till_filter import Tills

#: How long a report waits for the server to answer a connection (seconds).
CONNECT_TIMEOUT_S = 5
_TILL_ID = re.compile(r"[A-Za-z0-9_-]{1,8}")
_SHOP = re.compile(r"[A-Za-z0-9_-]{0,16}")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """--server [URL] and --shop CODE on a read command."""
    parser.add_argument("--server", nargs="?", const="", default=None, metavar="URL",
                        help="read the shop's PostgreSQL server (every till of the shop) instead of this till's "
                             "database; without URL: [server] url from the settings")
    parser.add_argument("--shop", metavar="CODE", default=None,
                        help="on the server: only the tills of this shop (default: [till] shop; \"\" every shop)")


def database_url(args: argparse.Namespace, settings: Any) -> str:
    """The database a command opens: the server --server names, else the settings' (DATABASE_URL first)."""
    named = getattr(args, "server", None)
    if named is None:
        return with_timeout(str(settings.database.url))
    url = named or settings.server.url
    if not url:
        raise CliError("--server without a URL needs [server] url in the settings; give --server postgresql://...", 2)
    if not re.match(r"postgres(ql)?://", url):
        from store.db import redact

        raise CliError(f"--server {redact(url)!r} is not a PostgreSQL URL such as postgresql://user@host/shop", 2)
    return with_timeout(url)


def with_timeout(url: str) -> str:
    """A PostgreSQL URL with connect_timeout (unless it has one): an unreachable server is a sentence, not a hang."""
    if not re.match(r"postgres(ql)?://", url) or "connect_timeout=" in url:
        return url
    return url + ("&" if "?" in url else "?") + f"connect_timeout={CONNECT_TIMEOUT_S}"


def on_server(args: argparse.Namespace) -> bool:
    """True when the bound database is the shop's server (named by --server, or holding the tills that sync)."""
    from store.till_filter import is_server

    return getattr(args, "server", None) is not None or is_server()


def refuse_on_server(args: argparse.Namespace, what: str) -> None:
    """``what`` writes a till's record: one sentence on the server, nothing written."""
    if on_server(args):
        raise CliError(f"{what} is the till's own and is never done on the shop's server (it reaches the server "
                       f"when the till syncs); run it on the till, without --server", 2)


@dataclass(frozen=True)
class Cover:
    """The tills a command reads: ``tills`` for store.till_filter, and the words that name them."""

    server: bool
    tills: Tills
    words: str  # "till 1", "every till of shop A", "every till"
    shop: str = ""  # the shop whose tills these are ("" every shop, or off the server)

    @property
    def one(self) -> Optional[str]:
        """The one till covered, or None."""
        return self.tills if isinstance(self.tills, str) else None


def cover(args: argparse.Namespace, settings: Any, default_till: bool = True) -> Cover:
    """Which tills the command covers (call with the database open).

    On a till's database: --till, else [till] id when ``default_till``, else
    every till. On the server: --till (a till of the shop), else every till
    of the shop (--shop, default [till] shop; "" every shop).
    """
    till = getattr(args, "till", None)
    shop = getattr(args, "shop", None)
    if till is not None and not _TILL_ID.fullmatch(till):
        raise CliError(f"--till {till!r} is not a till id (1 to 8 letters, digits, '-' or '_')", 2)
    if shop is not None and not _SHOP.fullmatch(shop):
        raise CliError(f"--shop {shop!r} is not a shop code (up to 16 letters, digits, '-' or '_')", 2)
    if not on_server(args):
        if shop:
            raise CliError("--shop chooses tills on the shop's server; add --server (or name the server in "
                           "DATABASE_URL)", 2)
        if till is None and default_till:
            till = settings.till.id
        return Cover(False, till, f"till {till}" if till is not None else "every till")
    from store.till_filter import shop_tills

    shop = settings.till.shop if shop is None else shop
    known = shop_tills(shop) if _has_tills() else []
    if till is not None:
        if till not in known:
            where = f"shop {shop}" if shop else "the server"
            raise CliError(f"till {till} is not a till of {where}" + (f" (its tills: {', '.join(known)})"
                                                                       if known else " (no till has synced yet)"), 2)
        return Cover(True, till, f"till {till}", shop)
    if shop:
        return Cover(True, known, f"every till of shop {shop}", shop)
    return Cover(True, None, "every till")


def _has_tills() -> bool:
    from store.db import db
    from store.till_filter import SYNC_TILL

    return bool(db.obj.table_exists(SYNC_TILL))
