"""The printer status strip of the sale screen: ready, paper near end, offline, not answering ...

The till's printer thread asks the idle printer how it is (never during a job, never
on the UI thread) and reports PrinterHealth; the app hands it to this strip.
"""
from __future__ import annotations

import datetime
from typing import Any, Optional

from textual.widgets import Static

from tui.i18n import t

OK_STATES = ("ready",)
WARNING_STATES = ("paper_near_end", "")


def health_text(state: str, reason: str = "") -> str:
    """One short phrase for a printer state, in the UI language."""
    if not state:
        return t("printer.checking")
    if state in ("ready", "paper_near_end"):
        return t("printer." + state)
    if reason:
        return reason[:1].upper() + reason[1:]
    return t("printer.fault", code=state)


class PrinterStrip(Static):
    """One line, right of the title: green when ready, yellow near paper end, red on a fault."""

    SCOPED_CSS = False  # the rules below also place the title line around the strip
    DEFAULT_CSS = """
    #topline { height: 1; }
    #topline #topbar { width: 1fr; }
    PrinterStrip { width: auto; height: 1; padding: 0 1; background: $primary; color: $text; }
    PrinterStrip.-ok { background: $success; color: $text; }
    PrinterStrip.-warning { background: $warning; color: $text; text-style: bold; }
    PrinterStrip.-error { background: $error; color: $text; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.show(getattr(self.app, "printer_state", ""), getattr(self.app, "printer_reason", ""))

    def show(self, state: str, reason: str = "") -> None:
        self.update(health_text(state, reason))
        self.set_class(state in OK_STATES, "-ok")
        self.set_class(state == "paper_near_end", "-warning")
        self.set_class(bool(state) and state not in OK_STATES and state != "paper_near_end", "-error")


class BackupWarningStrip(Static):
    """Beside the printer strip while the last database backup left a warning (a second place missing, a failure).

    A warning, never a stop: the till sells on; the next backup that works clears it.
    """

    DEFAULT_CSS = """
    BackupWarningStrip { width: auto; height: 1; padding: 0 1; background: $warning; color: $text; text-style: bold;
                         display: none; }
    BackupWarningStrip.-shown { display: block; }
    """

    def on_mount(self) -> None:
        self.show(getattr(self.app, "backup_warning", ""))

    def show(self, warning: str) -> None:
        self.update(warning)
        self.set_class(bool(warning), "-shown")


class JournalKeyStrip(Static):
    """Beside the backup warning strip while [journal] key_file names a key the till could not load at start.

    The till sells on and writes plain (unsealed) records; a start with the file back clears it.
    """

    DEFAULT_CSS = """
    JournalKeyStrip { width: auto; height: 1; padding: 0 1; background: $warning; color: $text; text-style: bold;
                      display: none; }
    JournalKeyStrip.-shown { display: block; }
    """

    def on_mount(self) -> None:
        shown = bool(getattr(self.app, "journal_key_missing", ""))
        self.update(t("journal.strip_no_key") if shown else "")
        self.set_class(shown, "-shown")


def sync_text(status: Any, today: Optional[datetime.date] = None) -> str:
    """The sync strip's words for a SyncStatus (tui.services.sync): online, or offline since when, to send."""
    count = status.waiting
    if status.refused:
        return t("sync.refused", count=count)
    if status.online:
        return t("sync.online_waiting", count=count) if count else t("sync.online")
    if status.offline_since is None:
        return t("sync.connecting")
    since = status.offline_since
    today = today or datetime.date.today()
    shown = since.strftime("%H:%M") if since.date() == today else since.strftime("%m-%d %H:%M")
    return t("sync.offline_waiting", since=shown, count=count) if count else t("sync.offline", since=shown)


def sync_problem(status: Any) -> str:
    """The failing sync's one sentence for the message line ("" when it works): a refusal first, in the UI
    language (the status's shown_* words; its English sentence when it has none)."""
    if status.refused:
        reason = getattr(status, "shown_refused", "") or status.refused
    else:
        reason = "" if status.online else getattr(status, "shown_error", "") or status.error
    return t("sync.problem", reason=reason) if reason else ""


class SyncStrip(Static):
    """Beside the printer strip when the till syncs to a server: green online, yellow offline, red refused.

    It renders the SyncStatus the app hands it (the sync worker's, on its own thread); nothing here waits.
    """

    DEFAULT_CSS = """
    SyncStrip { width: auto; height: 1; padding: 0 1; background: $primary; color: $text; display: none; }
    SyncStrip.-shown { display: block; }
    SyncStrip.-ok { background: $success; }
    SyncStrip.-warning { background: $warning; text-style: bold; }
    SyncStrip.-error { background: $error; text-style: bold; }
    """

    def on_mount(self) -> None:
        status = getattr(self.app, "sync_status", None)
        if status is not None:
            self.show(status)

    def show(self, status: Any) -> None:
        self.update(sync_text(status))
        self.add_class("-shown")
        self.set_class(status.online and not status.refused, "-ok")
        self.set_class(not status.online and not status.refused, "-warning")
        self.set_class(bool(status.refused), "-error")
