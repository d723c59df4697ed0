"""Ctrl+W: the owner's view (老板看账): one day's figures, its Z reports, with a manager's PIN.

Who may open it follows the rule of discounts over the cashier's limit
(``store.discounts.approver``): a shop without cashiers has nobody to ask
for a PIN (whoever runs the till is the owner), so it opens at once; a
manager signed in opens it at once; anyone else is asked for a manager's
PIN, and a wrong one opens nothing.

The day's figures are ``tui.services.figures.day_figures``: this till, and
``A`` sums every till that sold that day (counts and amounts add; cashiers,
hours and products merge by name). Left and right change the day, ``D``
types one; ``Z`` lists the day's Z reports, shown with
``printing.report.report_lines`` and reprinted with ``R`` on the till's
printer. Below them the shop's stock: its value at moving average cost, the
day's gross margin and the products at or below their minimum
(``tui.services.figures.stock_figures``); ``S`` counts the stock (盘点) and
``G`` receives a delivery by scanning (tui/screens/stocktake.py). Every read
runs off the UI thread; the screen says "loading" until it answers.

With ``[server] url`` set, a last part lists each till that has not synced for longer
than ``[server] warn_minutes``, from the server's heads (``tui.services.sync.server_heads``,
read off the UI thread with a short timeout; a server out of reach is one sentence).
"""
from __future__ import annotations

import datetime
import logging
from functools import partial
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui import keymap
from tui.console import on_screen
from tui.i18n import t
from tui.screens.ask import AskScreen
from tui.screens.sale import SaleScreen
from tui.screens.widgets import KeyBar
from tui.services.figures import day_figures, taken_off_fen
from tui.services.stock import on_hand_text
from tui.services.till import MAIN, printer_config

if TYPE_CHECKING:
    from textual import getters

    from tui.screens.host import TillHost

log = logging.getLogger("chaoying.tui.owner")

BAR_WIDTH = 30
LABEL_WIDTH = 32  # the label column of a figure's row (the demo's names fit): the count starts after it
TENDERS = ("cash", "card", "wechat", "alipay")


# ---------------------------------------------------------------- tills that have not synced

def sync_lines(heads: List[Dict[str, Any]], now: datetime.datetime, warn_minutes: int) -> List[str]:
    """The owner's lines for the server's heads: each till late (oldest first), then the others, each with the
    records it still had to send as of its last batch (store.server.till_heads ``to_send``), then refusals (in
    the UI's language from their ``refusal_code``/``refusal_values``, else the server's stored sentence)."""
    from tui.services.sync import coded, stale_tills

    lines = [t("owner.sync")]
    late = stale_tills(heads, now, warn_minutes)
    if not late:
        lines.append("  " + t("owner.sync_all_fine", minutes=warn_minutes))
    late_ids = {head["till_id"] for head in late}
    for head in late + [head for head in heads if head["till_id"] not in late_ids]:
        if head.get("minutes", 0) is None:
            lines.append("  " + t("owner.sync_never", till=head["till_id"]))
            continue
        last = head["last_at"]
        at = last.strftime("%m-%d %H:%M") if isinstance(last, datetime.datetime) else str(last)[5:16]
        if head["till_id"] in late_ids:
            line = t("owner.sync_stale", till=head["till_id"], minutes=head["minutes"], at=at)
        else:
            line = t("owner.sync_last", till=head["till_id"], at=at)
        if head.get("to_send") is not None:
            line += t("owner.sync_to_send", count=head["to_send"])
        lines.append("  " + line)
    for head in heads:
        if head.get("refusal"):  # in the UI's language from its code, as the till's own strip says it
            values = dict(head.get("refusal_values") or {})
            values.setdefault("till", head["till_id"])
            reason = coded(str(head.get("refusal_code") or ""), values) or head["refusal"]
            lines.append("  " + t("owner.sync_refused", till=head["till_id"], reason=reason))
    return lines


# ---------------------------------------------------------------- typing a day

def parse_day(text: str, today: datetime.date) -> Optional[datetime.date]:
    """A typed day: 2026-01-02, 2026/1/2, 20260102, or 01-02 / 1/2 (this year); None when not a day."""
    from store.money import typed

    text = typed(text).strip().replace("/", "-").replace(".", "-")
    try:
        if text.isdigit() and len(text) == 8:
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        parts = [int(p) for p in text.split("-")]
        if len(parts) == 3:
            return datetime.date(*parts)
        if len(parts) == 2:
            return datetime.date(today.year, parts[0], parts[1])
    except ValueError:
        return None
    return None


# ---------------------------------------------------------------- drawing (plain text, any width)

def _yuan(fen: int) -> str:
    from printing.layout import format_fen

    return format_fen(fen)


def cut(text: str, cells: int, ascii_only: bool = False) -> str:
    """``text`` in at most ``cells`` cells: a longer one cut, with '…' ('~' where only ASCII can be drawn)."""
    if cell_len(text) <= cells:
        return text
    kept = ""
    for char in text:
        if cell_len(kept + char) > cells - 1:
            break
        kept += char
    return kept + ("~" if ascii_only else "…")


def _row(label: str, count: str, amount: str, width: int = 60, ascii_only: bool = False) -> str:
    """'  Label ........ count     amount': the label cut to its column, so the counts start in one column
    whatever the names, and the amount flush right at ``width`` cells."""
    label = cut(label, LABEL_WIDTH - 1, ascii_only)
    left = label + " " * (LABEL_WIDTH - cell_len(label)) + count
    return left + " " * max(1, width - cell_len(left) - cell_len(amount)) + amount


def bar(value: int, biggest: int, ascii_only: bool, width: int = BAR_WIDTH) -> str:
    """A bar of text blocks for ``value`` out of ``biggest`` ('#' where only ASCII can be drawn)."""
    if value <= 0 or biggest <= 0:
        return ""
    return ("#" if ascii_only else "█") * max(1, round(width * value / biggest))


def figure_lines(figures: Dict[str, Any], app: Any) -> List[str]:
    """The day's figures as screen lines: totals, tenders, sales per hour (bars), cashiers, top products."""
    ascii_only = bool(getattr(app, "ascii_only", False))
    sales, refunds, voids = figures["sales"], figures["refunds"], figures["voids"]
    out = [t("owner.totals")]
    out.append(_row("  " + t("owner.sales"), str(sales["count"]), _yuan(sales["gross_fen"])))
    out.append(_row("  " + t("owner.discounts"), "", _yuan(-taken_off_fen(sales))))
    out.append(_row("  " + t("owner.refunds"), str(refunds["count"]), _yuan(-refunds["amount_fen"])))
    out.append(_row("  " + t("owner.voids"), str(voids["count"]), _yuan(-voids["amount_fen"])))
    out.append(_row("  " + t("owner.net"), "", "¥" + _yuan(figures["net_fen"])))
    out.append("")
    out.append(t("owner.tenders"))
    for method, tender in figures["tenders"].items():
        if tender["count"] or tender["amount_fen"] or method in TENDERS:
            out.append(_row("  " + t("method." + method) if method in TENDERS else "  " + method,
                            str(tender["count"]), _yuan(tender["amount_fen"])))
    out.append("")
    out.append(t("owner.hours"))
    hours = [h for h in figures["hours"] if h["count"] or h["net_fen"]]
    biggest = max([h["net_fen"] for h in hours] + [0])
    for hour in hours:
        out.append("  %s:00 %-*s %3d  %s" % (hour["hour"], BAR_WIDTH, bar(hour["net_fen"], biggest, ascii_only),
                                            hour["count"], _yuan(hour["net_fen"])))
    if not hours:
        out.append("  -")
    out.append("")
    out.append(t("owner.cashiers"))
    for cashier in figures["cashiers"]:
        out.append(_row("  " + (on_screen(app, cashier["cashier"]) or t("owner.no_cashier")),
                        str(cashier["count"]), _yuan(cashier["net_fen"]), ascii_only=ascii_only))
    if not figures["cashiers"]:
        out.append("  -")
    out.append("")
    out.append(t("owner.top"))
    from printing.layout import format_qty

    for product in figures["top_products"]:
        out.append(_row("  " + on_screen(app, product["name"]), format_qty(product["qty_milli"]),
                        _yuan(product["amount_fen"]), ascii_only=ascii_only))
    if not figures["top_products"]:
        out.append("  -")
    return out


def stock_lines(stock: Dict[str, Any], app: Any) -> List[str]:
    """The shop's stock as screen lines: its value at cost, the day's gross margin, and what to reorder."""
    ascii_only = bool(getattr(app, "ascii_only", False))
    margin = stock["margin"]
    out = [t("owner.stock") + stock.get("as_of", "")]
    out.append(_row("  " + t("owner.stock_value"), "", _yuan(stock["value_fen"])))
    out.append(_row("  " + t("owner.margin_sales"), "", _yuan(margin.sales_fen)))
    out.append(_row("  " + t("owner.margin_cost"), "", _yuan(margin.cost_fen)))
    out.append(_row("  " + t("owner.margin"), "", "¥" + _yuan(margin.margin_fen)))
    out.append("")
    out.append(t("owner.low"))
    for row in stock["low"]:
        unit = on_screen(app, row.unit or "")
        out.append(_row("  " + on_screen(app, row.name), t("owner.low_row", on_hand=on_hand_text(
            row.on_hand_milli, unit), min=on_hand_text(row.min_milli, unit)), "", ascii_only=ascii_only))
    if not stock["low"]:
        out.append("  " + t("owner.no_low"))
    out.append("  " + t("owner.stock_hint"))
    return out


# ---------------------------------------------------------------- the screens

class OwnerScreen(Screen):
    """One day's figures of this till (or every till), with the day's Z reports."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("owner")
    AUTO_FOCUS = "#owner-body"
    DEFAULT_CSS = """
    OwnerScreen { layout: vertical; }
    #owner-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    #owner-body { height: 1fr; padding: 0 1; }
    #owner-message { height: 1; padding: 0 1; background: $panel; }
    #owner-message.-error { color: $text-error; text-style: bold; }
    OwnerScreen KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, day: Optional[datetime.date] = None) -> None:
        super().__init__()
        self.day = day or datetime.date.today()
        self.all_tills = False
        self.asked = 0  # numbers the reads: only the newest answer is shown
        self.loaded: Optional[Dict[str, Any]] = None  # the answer shown (None: loading)

    def compose(self) -> ComposeResult:
        yield Static("", id="owner-title")
        with VerticalScroll(id="owner-body"):
            yield Static("", id="owner-figures")
            if self.app.settings.server.url:
                yield Static("", id="owner-sync")
        yield Static("", id="owner-message")
        yield KeyBar("owner")

    def on_mount(self) -> None:
        self.reload()
        self.reload_sync()

    def reload_sync(self) -> None:
        """The server's heads, off the UI thread: which till has not synced for [server] warn_minutes."""
        from tui.services.sync import server_heads

        server = self.app.settings.server
        if not server.url:
            return
        self.query_one("#owner-sync", Static).update(t("owner.sync") + "\n  " + t("owner.sync_loading"))
        self.app.in_background(partial(server_heads, server.url, self.app.settings.till.shop),
                               self.show_sync, self.sync_failed, group="owner-sync")

    def show_sync(self, heads: List[Dict[str, Any]]) -> None:
        if self.is_attached:
            lines = sync_lines(heads, datetime.datetime.now(), self.app.settings.server.warn_minutes)
            self.query_one("#owner-sync", Static).update(Text("\n".join([""] + lines), no_wrap=True,
                                                              overflow="ellipsis"))

    def sync_failed(self, exc: Exception) -> None:
        from tui.services.sync import sentence

        log.warning("owner's view: the server's heads could not be read: %s", sentence(exc))
        if self.is_attached:
            self.query_one("#owner-sync", Static).update(
                "\n" + t("owner.sync") + "\n  " + t("owner.sync_unreachable", reason=sentence(exc)))

    def title_text(self) -> str:
        which = t("owner.all_tills") if self.all_tills else t("owner.this_till", till=self.app.till_id)
        today = t("owner.today") if self.day == datetime.date.today() else ""
        return t("owner.title", day=self.day.isoformat(), which=which) + (" " + today if today else "")

    def reload(self) -> None:
        self.asked += 1
        self.loaded = None
        self.query_one("#owner-title", Static).update(self.title_text())
        self.query_one("#owner-figures", Static).update(t("owner.loading"))
        self.say("")
        self.app.in_background(partial(day_figures, self.app.till_id, self.day, self.all_tills,
                                       bool(self.app.settings.server.url)),
                               partial(self.show, self.asked), partial(self.failed, self.asked), group="owner")

    def failed(self, asked: int, exc: Exception) -> None:
        log.error("owner's figures failed: %s", exc, exc_info=exc)
        if asked == self.asked and self.is_attached:
            self.query_one("#owner-figures", Static).update("")
            self.say(t("sale.db_error", error=str(exc).split("\n")[0]), error=True)

    def show(self, asked: int, answer: Dict[str, Any]) -> None:
        if asked != self.asked or not self.is_attached:
            return
        self.loaded = answer
        figures = answer["figures"]
        lines: List[str] = []
        if not figures["sales"]["count"] and not figures["refunds"]["count"] and not figures["voids"]["count"]:
            lines += [t("owner.no_sales"), ""]
        lines += figure_lines(figures, self.app)
        lines += [""] + stock_lines(answer["stock"], self.app)
        lines += ["", t("owner.zs")]
        for z in answer["zs"]:
            lines.append("  " + t("owner.z_row", till=z["till_id"], z_no=z["z_no"], at=(z["closed_at"] or "")[11:16],
                                  by=z["closed_by"] or "-", net=_yuan(z["figures"]["net_fen"])))
        lines.append("  " + (t("owner.z_hint") if answer["zs"] else t("owner.no_zs")))
        self.query_one("#owner-figures", Static).update(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"))

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#owner-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    def action_day(self, step: int) -> None:
        day = self.day + datetime.timedelta(days=step)
        if day > datetime.date.today():
            self.say(t("owner.future"), error=True)
            return
        self.day = day
        self.reload()

    def action_type_day(self) -> None:
        def answered(text: Optional[str]) -> None:
            if text is None:
                return
            day = parse_day(text, datetime.date.today())
            if day is None:
                self.say(t("owner.bad_day", text=text), error=True)
            elif day > datetime.date.today():
                self.say(t("owner.future"), error=True)
            else:
                self.day = day
                self.reload()

        self.app.push_screen(AskScreen(t("owner.day_question"), placeholder=t("owner.day_placeholder")), answered)

    def action_all_tills(self) -> None:
        self.all_tills = not self.all_tills
        self.reload()

    def action_zs(self) -> None:
        if self.loaded is None:
            self.say(t("owner.loading"), error=True)
            return
        if not self.loaded["zs"]:
            self.say(t("owner.no_zs"), error=True)
            return
        self.app.push_screen(ZScreen(self.loaded["zs"], len(self.loaded["zs"]) - 1))

    def action_stocktake(self) -> None:
        """S: a stocktake (盘点) on the till; the figures are read again when it closes."""
        from tui.screens.stocktake import StocktakeScreen

        self.app.push_screen(StocktakeScreen(), lambda _none: self.reload())

    def action_receive(self) -> None:
        """G: receive a delivery (进货) by scanning; the figures are read again when it closes."""
        from tui.screens.stocktake import ReceiveScreen

        self.app.push_screen(ReceiveScreen(), lambda _none: self.reload())

    def action_close(self) -> None:
        self.dismiss(None)


class ZScreen(Screen):
    """A past Z report as printed (report_lines at the screen's width); left/right: the day's other Zs; R reprints."""

    if TYPE_CHECKING:  # self.app is the till's app, for the type checker only
        app = getters.app(TillHost)

    BINDINGS = keymap.bindings("owner_z")
    AUTO_FOCUS = "#z-body"
    DEFAULT_CSS = """
    ZScreen { layout: vertical; }
    #z-title { height: 1; background: $primary; color: $text; padding: 0 1; text-style: bold; }
    #z-body { height: 1fr; padding: 0 1; }
    #z-message { height: 1; padding: 0 1; background: $panel; }
    #z-message.-error { color: $text-error; text-style: bold; }
    ZScreen KeyBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, zs: List[Dict[str, Any]], index: int) -> None:
        super().__init__()
        self.zs = zs
        self.index = index
        self.printing = False

    def compose(self) -> ComposeResult:
        yield Static("", id="z-title")
        with VerticalScroll(id="z-body"):
            yield Static("", id="z-lines")
        yield Static("", id="z-message")
        yield KeyBar("owner_z")

    def on_mount(self) -> None:
        self.show()

    @property
    def z(self) -> Dict[str, Any]:
        return self.zs[self.index]

    def lines(self, columns: int) -> List[str]:
        from printing.report import report_lines

        z = self.z
        language = "en" if self.app.language == "en" else "zh"
        return report_lines(z["figures"], columns, "Z", z["z_no"], printed_at="", language=language,
                            shop_name=self.app.settings.shop.name)

    def show(self) -> None:
        z = self.z
        self.query_one("#z-title", Static).update(t("owner.z_title", till=z["till_id"], z_no=z["z_no"],
                                                    at=z["closed_at"] or "", n=self.index + 1, of=len(self.zs)))
        columns = 48 if self.app.size.width >= 52 else 32
        text = "\n".join(on_screen(self.app, line) for line in self.lines(columns))
        self.query_one("#z-lines", Static).update(Text(text, no_wrap=True))

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#z-message", Static)
        message.update(text)
        message.set_class(error, "-error")
        if error:
            self.app.bell()

    def action_step(self, step: int) -> None:
        index = self.index + step
        if 0 <= index < len(self.zs):
            self.index = index
            self.show()
        else:
            self.app.bell()

    def action_reprint(self) -> None:
        """R: print this Z again on the till's printer, at the printer's width."""

        if self.printing:
            return
        try:
            columns = printer_config(self.app.settings, MAIN).columns
        except ValueError:
            columns = 48
        self.printing = True
        self.say(t("owner.z_printing"))
        z = self.z
        self.app.log_event("z_reprint", detail=f"Z {z['till_id']}-{z['z_no']}")
        self.app.print_report("z", self.lines(columns if columns in (32, 48) else 48), self.printed)

    def printed(self, result: Any) -> None:
        self.printing = False
        if not self.is_attached:
            return
        if result.ok:
            self.say(t("owner.z_printed"))
        else:
            reason = result.reason_zh if self.app.language == "zh" else result.reason_en
            self.say(t("owner.z_print_failed", reason=reason), error=True)

    def action_close(self) -> None:
        self.dismiss(None)


def open_owner(app: Any) -> None:
    """Ctrl+W: over the sale screen only; a manager's PIN unless the shop has no cashiers or a manager sells."""
    from store.discounts import approver

    if isinstance(app.screen, (OwnerScreen, ZScreen)):
        return
    if not isinstance(app.screen, SaleScreen):
        app.bell()  # the banner, a payment or a question first
        return

    def allowed(manager: Optional[str]) -> None:
        if manager is None:  # a cashier who is not a manager: a manager's PIN, a wrong one opens nothing
            from tui.screens.pin import PinScreen

            app.push_screen(PinScreen(t("pin.why_owner")), lambda code: opened(code) if code else None)
        else:  # NO_LIMITS (""): no cashiers at all; else the manager signed in
            opened(manager)

    def opened(manager: str) -> None:
        if isinstance(app.screen, SaleScreen):
            app.log_event("owner_view", detail=f"manager {manager}" if manager else "")
            app.push_screen(OwnerScreen())

    app.in_background(partial(approver, app.till.cashier), allowed, group="owner")
