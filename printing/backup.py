"""Which printer to use next when a backup printer is configured."""
from __future__ import annotations

from typing import Optional

from printing.config import PrinterConfig


def next_printer(primary: PrinterConfig, backup: Optional[PrinterConfig], last_result) -> PrinterConfig:
    """The printer for the next print attempt.

    No backup, or no previous attempt: the primary. After a success: the printer
    that printed (it is known to work). After a failure: the other printer.
    `last_result` is a PrintResult (or anything with .ok and .printer), or None.
    """
    if backup is None or not backup.port or last_result is None:
        return primary
    on_backup = last_result.printer == backup.name and backup.name != primary.name
    if last_result.ok:
        return backup if on_backup else primary
    return primary if on_backup else backup
