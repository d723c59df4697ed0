"""Pilot stories for corrections: 退货 by receipt, 作废 of a sale of today, the no-sale drawer, 无单退货.

The till runs on a real SQLite file and the virtual printer on a real pty; the
back office is the real `chaoying` CLI run in this process on the same file.
"""
from __future__ import annotations

import dataclasses
import datetime
import json

import pytest

from tests.cli.helpers import Cli
from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import COLA, WATER, last_sale, printed_all, scan, settled, text_of, wait_until
from tui.settings import SellingSettings


@pytest.fixture
def shop_with(tmp_path, monkeypatch):
    """A shop with changed [selling] settings: shop_with(refund_manager_pin=False, ...)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    made = []

    def make(**selling):
        made.append(make_shop(tmp_path / "shop", selling=SellingSettings(**selling)))
        return made[-1]

    yield make
    for shop in made:
        close_shop(shop)


@pytest.fixture
def manager():
    """A manager (PIN 4321) and a cashier (PIN 1111) whose PIN is not a manager's."""
    from store.cashiers import add_cashier

    def make():
        add_cashier("M1", "王店长", "4321", manager=True)
        add_cashier("C1", "小李", "1111")

    return make


def screen_is(app, name: str) -> bool:
    return type(app.screen).__name__ == name


async def sell_cash(pilot, *codes: str):
    for code in codes:
        await scan(pilot, code)
    await pilot.press("f12", "enter")
    await printed_all(pilot, pilot.app)
    return last_sale()


async def open_history_on(pilot, number: str) -> None:
    """F9 and the cursor on receipt ``number``."""
    app = pilot.app
    if not screen_is(app, "HistoryScreen"):
        await pilot.press("f9")
    await wait_until(pilot, lambda: screen_is(app, "HistoryScreen") and app.screen.rows)
    index = [row["receipt"] for row in app.screen.rows].index(number)
    app.screen.table.move_cursor(row=index)
    await pilot.pause()


def message(app) -> str:
    return text_of(app.screen.query_one("#history-message"))


async def pin(pilot, code: str) -> None:
    await wait_until(pilot, lambda: screen_is(pilot.app, "PinScreen"))
    await pilot.press(*code, "enter")


def back_office(shop, capsys, monkeypatch, *args: str):
    """`chaoying ARGS` on the till's database, in this process."""
    config = shop.folder / "shop.toml"
    config.write_text(f'[till]\nid = "{shop.settings.till.id}"\n\n[database]\nurl = "{shop.settings.database.url}"\n',
                      encoding="utf-8")
    result = Cli(capsys, monkeypatch)("--config", str(config), *args)
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


# ---------------------------------------------------------------- refund by receipt


async def test_refund_one_of_three_bottles_on_paper_linked_in_sales_list_and_the_journal_holds(
        shop_with, manager, capsys, monkeypatch):
    from store.models import Line, Sale

    shop = shop_with()  # refund_manager_pin on by default
    manager()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 30)) as pilot:
        bottles = await sell_cash(pilot, "3*" + COLA)
        await sell_cash(pilot, WATER)
        await open_history_on(pilot, "1-000001")
        await pilot.press("t")
        await wait_until(pilot, lambda: screen_is(app, "RefundScreen"))
        table = app.screen.table
        assert [str(cell) for cell in table.get_row_at(0)][1:] == ["3瓶", "0", "3瓶", "0"]  # sold, refunded, left, now
        await pilot.press("1", "enter")
        assert "退款 ￥3.00" in text_of(app.screen.query_one("#refund-total"))
        assert "现金 ￥3.00" in text_of(app.screen.query_one("#refund-total"))  # back to the original tender
        await pilot.press("f12")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "refund").exists())
        await printed_all(pilot, app)
        assert any("1-000003" in n.message and "3.00" in n.message for n in app._notifications)
        assert shop.demo.printer.drawer_kicks == 3  # two cash sales and the cash going back

        refund = Sale.get(Sale.kind == "refund")
        assert (refund.original_id, refund.total_fen, refund.manager, refund.cashier) == (bottles.id, 300, "M1", "C1")
        assert Line.get(Line.sale == refund.id).qty_milli == 1000
        paper = shop.paper()[-1]
        assert "退货 REFUND" in paper and "1-000001" in paper and "1-000003" in paper and "-￥3.00" in paper
        await settled(pilot)
        rows = {row["receipt"]: row for row in app.screen.rows}
        assert "退货" in str(app.screen.table.get_row_at(0)[3])  # the newest row: the refund, marked
        assert rows["1-000001"]["refunded"] and rows["1-000003"]["original"] == "1-000001"

        # the second sale is voided with the manager's PIN and a reason
        await open_history_on(pilot, "1-000002")
        await pilot.press("v")
        await pin(pilot, "4321")
        await wait_until(pilot, lambda: screen_is(app, "ReasonScreen"))
        await pilot.press(*"scanned twice", "enter")
        await wait_until(pilot, lambda: Sale.select().where(Sale.kind == "void").exists())
        await printed_all(pilot, app)
        assert "作废 VOID" in shop.paper()[-1] and "scanned twice" in shop.paper()[-1]

    listed = json.loads(back_office(shop, capsys, monkeypatch, "sales", "list", "--json"))
    assert [(s["receipt"], s["kind"], s["original"]) for s in listed] == [
        ("1-000001", "sale", None), ("1-000002", "sale", None), ("1-000003", "refund", "1-000001"),
        ("1-000004", "void", "1-000002")]
    assert listed[0]["refunded"] and listed[1]["voided"]
    table = back_office(shop, capsys, monkeypatch, "sales", "list")
    assert "sale, refunded" in table and "void" in table and "-3.00" in table
    last = table.splitlines()[-1]  # refunds and voids are not added as sales
    assert "2 sales" in last and "total 11.00" in last and "gave back 5.00" in last and last.endswith("net 6.00")
    assert "journal ok" in back_office(shop, capsys, monkeypatch, "journal", "verify")
