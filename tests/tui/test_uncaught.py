"""An exception nobody caught (in a message handler, in a worker) is written to the log, never lost."""
from __future__ import annotations

import logging

import pytest

from tests.tui.helpers import wait_until


def logged(caplog, text: str) -> bool:
    return any(r.exc_info and text in str(r.exc_info[1]) for r in caplog.records)


async def test_an_exception_in_a_message_handler_is_logged_before_the_till_stops(shop, caplog):
    caplog.set_level(logging.INFO)
    app = shop.app()

    def done(_value: object) -> None:
        raise RuntimeError("boom in a handler")

    with pytest.raises(RuntimeError, match="boom in a handler"):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.in_background(lambda: 1, done)
            for _ in range(200):
                if app.return_code is not None:
                    break
                await pilot.pause(0.05)
    assert logged(caplog, "boom in a handler")
    assert any(r.levelno == logging.CRITICAL and r.name == "chaoying.tui.app" for r in caplog.records)


async def test_an_exception_in_a_worker_that_does_not_end_the_app_is_logged(shop, caplog):
    caplog.set_level(logging.INFO)
    app = shop.app()

    def work() -> None:
        raise ValueError("boom in a worker")

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.run_worker(work, thread=True, exit_on_error=False, name="odd")
        await wait_until(pilot, lambda: logged(caplog, "boom in a worker"))
        assert app.is_running


async def test_a_search_worker_that_fails_outside_its_try_is_logged(shop, caplog, monkeypatch):
    from tui.screens.search import SearchScreen

    caplog.set_level(logging.INFO)

    def broken(self, asked: int, text: str) -> None:
        raise KeyError("boom in a search worker")

    monkeypatch.setattr(SearchScreen, "_search_work", broken)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = SearchScreen()
        await app.push_screen(screen)
        screen.update_results("cola")
        await wait_until(pilot, lambda: logged(caplog, "boom in a search worker"))
        assert app.is_running
