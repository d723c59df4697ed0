"""The daily backup: made on a thread worker once the till has been idle, said on the sale screen if it fails."""
from __future__ import annotations

import dataclasses
import datetime
import threading

from store import backup
from tests.tui.helpers import COLA, scan, settled, wait_until


async def test_an_idle_till_backs_up_once_a_day_off_the_ui_thread(shop):
    app = shop.app()
    folder = shop.folder / "backups"
    threads = []
    real = app.till.daily_backup

    def watched():
        threads.append(threading.current_thread())
        return real()

    app.till.daily_backup = watched
    async with app.run_test() as pilot:
        app.maybe_backup()  # a till that has just started is not idle
        await settled(pilot)
        assert backup.list_backups(folder) == []
        before = app.last_input
        await scan(pilot, COLA)
        typed = app.last_input
        assert typed > before  # the keys were seen
        app.last_input = typed - app.settings.backup.idle_minutes * 60  # idle for long enough
        app.maybe_backup()
        await wait_until(pilot, lambda: app.backup_day == datetime.date.today())
        [made] = backup.list_backups(folder)
        assert threads and threads[0] is not threading.main_thread()
        app.maybe_backup()  # once a day
        await settled(pilot)
        assert len(backup.list_backups(folder)) == 1 and len(threads) == 1
        assert made.manifest["shop"] == app.settings.shop.name


async def test_a_failed_daily_backup_is_said_on_the_sale_screen(shop):
    blocker = shop.folder / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    shop.settings = dataclasses.replace(
        shop.settings, backup=dataclasses.replace(shop.settings.backup, dir=str(blocker)))
    app = shop.app()
    async with app.run_test() as pilot:
        app.last_input -= app.settings.backup.idle_minutes * 60 + 1
        app.maybe_backup()
        await wait_until(pilot, lambda: app.backup_day is not None)
        message = str(app.sale_screen.query_one("#message").render())
        assert "今天的自动备份没有做成" in message and "not-a-folder" in message
        strip = app.sale_screen.query_one("#backup-strip")
        assert strip.display and "备份失败" in str(strip.render())  # on the status line, and the till sells on


async def test_a_missing_second_place_is_a_warning_on_the_status_line_until_it_works(shop):
    gone = shop.folder / "usb-stick-not-plugged-in" / "backups"
    shop.settings = dataclasses.replace(
        shop.settings, backup=dataclasses.replace(shop.settings.backup, second_dir=str(gone)))
    app = shop.app()
    async with app.run_test() as pilot:
        strip = app.sale_screen.query_one("#backup-strip")
        assert not strip.display  # nothing to say before a backup
        app.last_input -= app.settings.backup.idle_minutes * 60 + 1
        app.maybe_backup()
        await wait_until(pilot, lambda: app.backup_day is not None)
        assert strip.display and "第二位置" in str(strip.render())
        assert len(backup.list_backups(shop.folder / "backups")) == 1  # the first copy stands
        gone.mkdir(parents=True)  # plugged in: the next backup clears the warning
        app.backup_after_z()
        await wait_until(pilot, lambda: not app.backup_running and not strip.display)
        await scan(pilot, COLA)  # never a stop
        assert len(app.sale_screen.basket.lines) == 1
