"""Pilot stories for the manager prompt: a manager's code and PIN, and the lock after wrong PINs.

The till runs on a real SQLite file and the virtual printer on a real pty; the owner's view (Ctrl+W) asks
the prompt for a cashier who is no manager.
"""
from __future__ import annotations

from tests.tui.helpers import manager_pin, settled, text_of, wait_until


def with_managers() -> None:
    from store.cashiers import add_cashier

    add_cashier("M1", "王店长", "654321", manager=True)
    add_cashier("M2", "赵店长", "135790", manager=True)
    add_cashier("C1", "小李", "1111")


def events(kind: str):
    from store.models import Event

    return list(Event.select().where(Event.kind == kind).order_by(Event.id))


def prompt_up(app) -> bool:
    from tui.screens.pin import PinScreen

    return isinstance(app.screen, PinScreen)


def said(app) -> str:
    return text_of(app.screen.query_one("#pin-message"))


async def answered(pilot, kind: str, count: int) -> None:
    """Wait until the store has logged ``count`` events of ``kind`` and the prompt has its answer."""
    app = pilot.app
    await wait_until(pilot, lambda: len(events(kind)) >= count and not (prompt_up(app) and app.screen.checking))


async def test_wrong_pins_lock_that_managers_code_the_right_pin_waits_and_another_manager_approves(shop):
    """lock_attempts wrong PINs for M1: locked, said with the minutes left; M1's right PIN is refused while
    locked; M2 opens the owner's view; each refusal, the lock and the approval are events."""
    with_managers()
    attempts = shop.settings.signin.lock_attempts
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: prompt_up(app))
        assert app.screen.query_one("#pin-input").password  # the PIN is masked, the code is not
        for tried in range(1, attempts + 1):
            await manager_pin(pilot, "M1", "000000")
            await answered(pilot, "pin_refused", tried)
            assert prompt_up(app) and app.screen.focused is app.screen.query_one("#pin-code")
        assert [e.cashier for e in events("sign_in_locked")] == ["M1"]
        assert "编号 M1 已锁定" in said(app) and f"{shop.settings.signin.lock_minutes} 分钟" in said(app)
        await manager_pin(pilot, "M1", "654321")  # the right PIN, while locked
        await answered(pilot, "locked_refused", 1)
        assert prompt_up(app) and "编号 M1 已锁定" in said(app)
        await manager_pin(pilot, "M2", "135790")  # another manager is not locked
        await wait_until(pilot, lambda: type(app.screen).__name__ == "OwnerScreen")
        await settled(pilot)
    refused = events("pin_refused")
    assert len(refused) == attempts and {e.cashier for e in refused} == {"M1"}
    assert all("看账需要店长同意" in e.detail and "000000" not in e.detail for e in refused)  # why; never the PIN
    assert [e.cashier for e in events("locked_refused")] == ["M1"]
    assert [e.cashier for e in events("manager_approved")] == ["M2"]


async def test_a_cashiers_code_is_no_managers_and_an_unknown_code_is_not_written_down(shop):
    with_managers()
    app = shop.app(cashier="C1")
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+w")
        await wait_until(pilot, lambda: prompt_up(app))
        await manager_pin(pilot, "C1", "1111")
        await answered(pilot, "pin_refused", 1)
        assert "编号 C1 不是店长" in said(app)
        await manager_pin(pilot, "135790", "135790")  # M2's PIN typed in the code field
        await answered(pilot, "pin_refused", 2)
        assert "店长编号或密码不对" in said(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not prompt_up(app))
    unknown = events("pin_refused")[-1]
    assert unknown.cashier == "" and "135790" not in unknown.detail and "unknown code" in unknown.detail
