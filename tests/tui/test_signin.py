"""Pilot stories for cashier sign-in and the shift hand-over (sign-out, Ctrl+L).

The till runs on a real SQLite file and the virtual printer on a real pty.
"""
from __future__ import annotations

from tests.tui.helpers import COLA, WATER, last_sale, printed_all, scan, screen_text, settled, text_of, wait_until


def signing_in(app) -> bool:
    from tui.screens.signin import SignInScreen

    return isinstance(app.screen, SignInScreen)


def on_sale_screen(app) -> bool:
    return app.screen is app.sale_screen


def events(kind: str):
    from store.models import Event

    return list(Event.select().where(Event.kind == kind).order_by(Event.id))


async def logged(pilot, kind: str):
    """The event log's rows of ``kind`` once the till's workers are done (events are written off the UI thread)."""
    await settled(pilot)
    return events(kind)


def notified(app) -> str:
    return "\n".join(n.message for n in app._notifications)


async def sign_in(pilot, code: str, pin: str) -> None:
    """Type the code (over whatever the field held), Enter, the PIN, Enter."""
    from textual.widgets import Input

    field = pilot.app.screen.query_one("#signin-code", Input)
    field.value = ""
    field.focus()
    await pilot.press(*code, "enter", *pin, "enter")
    await settled(pilot)  # the PIN is checked off the UI thread


async def test_a_shop_without_cashiers_sells_without_sign_in(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert on_sale_screen(app) and not app.sign_in_used
        await pilot.press("ctrl+l")  # no sign-out either: there is nobody to sign in
        await pilot.pause()
        assert on_sale_screen(app) and not await logged(pilot, "sign_out")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert last_sale().cashier == "" and len(shop.paper()) == 1


async def test_wrong_pin_refused_right_pin_sells_with_the_cashier_on_every_record(shop):
    from textual.widgets import Input

    from store.cashiers import add_cashier
    from store.models import Event, PrintAttempt

    add_cashier("C1", "小李", "1111")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert signing_in(app)
        assert app.screen.query_one("#signin-pin", Input).password  # the PIN is masked
        await scan(pilot, COLA)  # a scan before sign-in sells nothing
        await pilot.press("f9")  # nor does the history open
        await pilot.pause()
        assert signing_in(app)

        await sign_in(pilot, "C1", "2222")
        assert signing_in(app) and app.cashier == ""
        assert "编号或密码不对" in text_of(app.screen.query_one("#signin-message"))
        refused = await logged(pilot, "sign_in_refused")
        assert len(refused) == 1 and "C1" in refused[0].detail and "2222" not in refused[0].detail
        await sign_in(pilot, "C9", "1111")  # no such cashier: the same sentence, and "C9" is not written down
        refused = await logged(pilot, "sign_in_refused")
        assert signing_in(app) and len(refused) == 2 and "C9" not in refused[1].detail + refused[1].cashier

        assert app.screen.focused is app.screen.query_one("#signin-code")  # a refusal: correct the code
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: on_sale_screen(app))
        assert app.cashier == "C1" and "收银员 C1 小李" in screen_text(app)
        assert [e.cashier for e in await logged(pilot, "sign_in")] == ["C1"]
        assert app.sale_screen.basket.is_empty  # the scan typed before sign-in went nowhere

        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        sale = last_sale()
        assert sale.cashier == "C1" and len(shop.paper()) == 1
        attempt = PrintAttempt.get(PrintAttempt.sale == sale.id)
        assert (attempt.cashier, attempt.result) == ("C1", "printed")
        sale_events = Event.select().where(Event.sale == sale.id)
        assert sale_events.count() >= 2 and {e.cashier for e in sale_events} == {"C1"}


async def test_a_pin_typed_in_the_code_field_is_never_written_to_the_event_log(shop):
    """QA: a wrong PIN, the focus back on the code (selected), the PIN retyped there: the log kept the PIN."""
    from textual.widgets import Input

    from store.cashiers import add_cashier
    from store.models import Event

    add_cashier("01", "小李", "1234")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"01", "enter", *"9999", "enter")  # a wrong PIN for a known code: the code is kept
        await wait_until(pilot, lambda: len(events("sign_in_refused")) == 1 and not app.screen.checking)
        refused = events("sign_in_refused")[0]
        assert (refused.cashier, refused.detail) == ("01", "wrong PIN for code '01'")
        code = app.screen.query_one("#signin-code", Input)
        assert app.screen.focused is code  # issue 14's rule: a refusal puts the focus back on the code
        await pilot.press(*"1234", "enter", "enter")  # the cashier retypes the PIN: it lands in the code field
        await wait_until(pilot, lambda: len(events("sign_in_refused")) == 2 and not app.screen.checking)
        assert code.value == "1234" and signing_in(app)
        refused = events("sign_in_refused")[1]
        assert (refused.cashier, refused.detail) == ("", "wrong code or PIN for an unknown code")
        assert not Event.select().where(Event.detail.contains("1234") | Event.cashier.contains("1234")).exists()
        await sign_in(pilot, "01", "1234")
        await wait_until(pilot, lambda: on_sale_screen(app))


async def test_sign_out_between_sales_and_refused_with_a_basket_open(shop):
    from store.cashiers import add_cashier

    add_cashier("C1", "小李", "1111")
    add_cashier("C2", "小王", "2222")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: on_sale_screen(app))
        await scan(pilot, COLA)
        await pilot.press("ctrl+l")  # a basket is open: one sentence, still C1
        await pilot.pause()
        assert on_sale_screen(app) and app.cashier == "C1" and not await logged(pilot, "sign_out")
        assert "这一单还没结束" in notified(app)
        await pilot.press("f12")
        await pilot.press("ctrl+l")  # on the payment screen too
        await pilot.pause()
        assert not signing_in(app) and app.cashier == "C1"
        await pilot.press("enter")
        await printed_all(pilot, app)
        first = last_sale()

        await pilot.press("ctrl+l")  # between sales: back to the sign-in screen
        await wait_until(pilot, lambda: signing_in(app))
        assert app.cashier == "" and [e.cashier for e in await logged(pilot, "sign_out")] == ["C1"]
        await sign_in(pilot, "C2", "2222")
        await wait_until(pilot, lambda: on_sale_screen(app))
        assert app.cashier == "C2" and "收银员 C2 小王" in screen_text(app)
        await scan(pilot, WATER)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert (first.cashier, last_sale().cashier) == ("C1", "C2")
        assert [e.cashier for e in await logged(pilot, "sign_in")] == ["C1", "C2"]


async def test_sign_out_is_refused_while_the_banner_is_up(shop):
    from store.cashiers import add_cashier
    from tui.screens.banner import BannerScreen

    add_cashier("C1", "小李", "1111")
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: on_sale_screen(app))
        shop.demo.set_fault("paper_out")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, BannerScreen) and app.cashier == "C1" and not await logged(pilot, "sign_out")
        assert "还有小票没有处理完" in notified(app)
        await pilot.press("d", "y")  # customer declined (confirmed): recorded with the cashier
        await pilot.pause()
        assert [e.cashier for e in await logged(pilot, "outcome") if "declined" in e.detail] == ["C1"]


async def test_the_sign_in_speaks_english(shop_en):
    from store.cashiers import add_cashier
    from tui.screens.help import HelpScreen

    add_cashier("C1", "Li", "1111")
    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await sign_in(pilot, "C1", "0000")
        assert "Wrong cashier code or PIN" in text_of(app.screen.query_one("#signin-message"))
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and "Sign out" in str(app.screen.query_one("#help-text").render())


async def test_a_failed_receipt_from_before_waits_for_the_sign_in_then_blocks(shop):
    """Paper ran out, the till was closed; at the next start the sign-in comes first, then the banner."""
    from store.cashiers import add_cashier
    from store.models import PrintAttempt
    from tui.screens.banner import BannerScreen

    add_cashier("C1", "小李", "1111")
    shop.demo.set_fault("paper_out")
    first = shop.app(cashier="C1")  # signed in already
    async with first.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, first)
        await wait_until(pilot, lambda: isinstance(first.screen, BannerScreen))
    shop.demo.set_fault("ok")

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, printer=True)  # the open receipts are read: a banner put first would be up by now
        assert signing_in(app)
        await pilot.press("ctrl+l", "f10")  # neither sign-out nor the event log while nobody is signed in
        await pilot.pause()
        assert signing_in(app)
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        await pilot.press("r")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: on_sale_screen(app))
        assert len(shop.paper()) == 1
        retry = PrintAttempt.select().order_by(PrintAttempt.id.desc()).first()
        assert (retry.result, retry.cashier) == ("printed", "C1")


async def test_five_wrong_pins_lock_the_code_across_a_restart_until_the_lock_ends(shop):
    """3 wrong PINs, restart, 2 more: locked (an event), even the right PIN; 5 minutes later it signs in."""
    import datetime

    from textual.widgets import Input

    from store.cashiers import add_cashier
    from store.models import Event

    add_cashier("C1", "小李", "1111")
    assert (shop.settings.signin.lock_attempts, shop.settings.signin.lock_minutes) == (5, 5)

    async def wrong(pilot, app, times: int) -> None:
        for _ in range(times):
            before = len(events("sign_in_refused"))
            await sign_in(pilot, "C1", "2222")
            await wait_until(pilot, lambda b=before: len(events("sign_in_refused")) > b and not app.screen.checking)
            assert app.screen.focused is app.screen.query_one("#signin-code", Input)  # correct the code first

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wrong(pilot, app, 3)
        assert not events("sign_in_locked")
    app = shop.app()  # the till restarts: the count goes on
    async with app.run_test(size=(80, 24)) as pilot:
        await wrong(pilot, app, 2)
        assert [e.cashier for e in events("sign_in_locked")] == ["C1"]
        assert "已锁定" in text_of(app.screen.query_one("#signin-message"))
        await sign_in(pilot, "C1", "1111")  # the right PIN is refused while locked (sign_in waits for the check)
        assert signing_in(app) and app.cashier == "" and not app.screen.checking
        assert "已锁定" in text_of(app.screen.query_one("#signin-message"))
        later = datetime.timedelta(minutes=5, seconds=1)  # the lock's five minutes pass
        for event in Event.select():
            Event.update(at=event.at - later).where(Event.id == event.id).execute()
        await sign_in(pilot, "C1", "1111")
        await wait_until(pilot, lambda: on_sale_screen(app))
        assert app.cashier == "C1"


async def test_chaoying_demo_has_a_cashier_and_the_receipt_names_the_cashier(tmp_path, monkeypatch):
    """`chaoying demo`'s shop: the sign-in says 01 / 1234 and the manager 09 / 999999; the paper says 收银员 小王."""
    from tests.tui.conftest import Shop, close_shop
    from tui.demo import start_demo
    from tui.settings import load_settings

    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = load_settings(None).with_ui("zh", "dark")
    settings, demo = start_demo(base, tmp_path / "demo", cashier=True)
    shop = Shop(settings, demo, tmp_path / "demo")
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: signing_in(app))
            hint = text_of(app.screen.query_one("#signin-message"))
            assert "01" in hint and "1234" in hint
            assert "演示店长：编号 09（店长），密码 999999" in hint  # a manager, for refunds, voids, Ctrl+W ...
            from store.cashiers import check_cashier
            from tui.demo import MANAGER

            assert check_cashier("09", "999999").manager and check_cashier("09", "1234") is None
            assert len(MANAGER[2]) >= settings.signin.manager_min_pin_length  # the demo follows its own rule
            await sign_in(pilot, "01", "1234")
            await wait_until(pilot, lambda: on_sale_screen(app))
            await scan(pilot, COLA)
            await pilot.press("f12", "enter")
            await printed_all(pilot, app)
            assert last_sale().cashier == "01"
            paper = shop.paper()[-1]
            assert "收银员 小王" in paper and "收银员 01" not in paper
    finally:
        close_shop(shop)
