"""Which printer to use next when a spare printer is configured."""
from __future__ import annotations

from typing import Optional

from printing.config import PrinterConfig


def next_printer(primary: PrinterConfig, spare: Optional[PrinterConfig], last_result) -> PrinterConfig:
    """The printer for the next print attempt.

    No spare, or no previous attempt: the primary. After a success: the printer
    that printed (it is known to work). After a failure: the other printer.
    `last_result` is a PrintResult (or anything with .ok and .printer), or None.
    """
    if spare is None or not spare.port or last_result is None:
        return primary
    on_spare = last_result.printer == spare.name and spare.name != primary.name
    if last_result.ok:
        return spare if on_spare else primary
    return primary if on_spare else spare
