"""Serial transport (pyserial) with deadlines on every read and write.

A port is opened per job and closed after it: a USB adapter that was pulled
and plugged back in (or a virtual printer that was restarted) works again on
the next job with no reconnect logic to get wrong.
"""
from __future__ import annotations

import errno
import logging
import os
import time
from typing import Callable, Optional

from printing.config import PrinterConfig

log = logging.getLogger("chaoying.printing.transport")

REASONS = {
    "printed": ("已打印", "printed"),
    "paper_out": ("打印机缺纸", "printer out of paper"),
    "cover_open": ("打印机盖未合上", "printer cover is open"),
    "offline": ("打印机离线", "printer is offline"),
    "no_answer": ("打印机没有响应", "printer not answering"),
    "garbage": ("打印机回复无法识别", "printer answered garbage"),
    "port_missing": ("找不到打印机端口", "printer port not found"),
    "stalled": ("打印机停止接收数据", "printer stopped taking data"),
    "not_confirmed": ("打印未确认", "printing not confirmed"),
    "error": ("打印机故障", "printer reports an error"),
    "no_permission": ("没有权限打开打印机端口", "no permission to open the printer port"),
}


class PrinterError(Exception):
    """A printer fault: a reason ``code`` (a key of REASONS), ``values`` and one sentence in Chinese and English."""

    def __init__(self, code: str, reason_zh: str = "", reason_en: str = "", detail: str = "") -> None:
        zh, en = REASONS.get(code, REASONS["error"])
        self.code = code
        self.values = {"detail": detail}
        self.reason_zh = reason_zh or zh
        self.reason_en = reason_en or en
        self.detail = detail
        super().__init__("%s: %s%s" % (self.code, self.reason_en, " (%s)" % detail if detail else ""))


def fault(code: str, detail: str = "") -> PrinterError:
    """PrinterError with the standard sentences for code."""
    zh, en = REASONS[code]
    return PrinterError(code, zh, en, detail)


_GONE = {errno.ENOENT, errno.ENXIO, errno.ENODEV, errno.EIO, errno.EBADF, errno.ENOTTY}


def _errno_of(exc: BaseException) -> Optional[int]:
    for e in (exc, getattr(exc, "__cause__", None), getattr(exc, "__context__", None)):
        if isinstance(e, OSError) and e.errno:
            return e.errno
    text = str(exc)
    if "[Errno " in text:
        try:
            return int(text.split("[Errno ", 1)[1].split("]", 1)[0])
        except ValueError:
            return None
    return None


class SerialTransport:
    """One open serial port; raises PrinterError (port_missing, stalled, ...) instead of hanging."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config
        self.serial = None  # type: ignore[var-annotated]
        self.bytes_sent = 0
        self.longest_wait = 0.0  # the longest timeout handed to pyserial: what a test checks, not the clock

    def _allow(self, seconds: float) -> float:
        """Seconds one read, write or drain may wait, remembered in longest_wait."""
        self.longest_wait = max(self.longest_wait, seconds)
        return seconds

    def open(self) -> "SerialTransport":
        import serial

        c = self.config
        if not c.port:
            raise fault("port_missing", "no port configured")
        if not os.path.exists(c.port):
            raise fault("port_missing", c.port)
        s = serial.Serial()
        s.port = c.port
        s.baudrate = c.baudrate
        s.bytesize = c.bytesize
        s.parity = c.parity
        s.stopbits = c.stopbits
        s.rtscts = c.rtscts
        s.xonxoff = c.xonxoff
        s.dsrdtr = False
        s.timeout = 0.5
        s.write_timeout = 1.0  # never None: a stuck port would block forever
        try:
            s.open()
        except (serial.SerialException, OSError, ValueError) as exc:
            code = _errno_of(exc)
            if code in (errno.EACCES, errno.EPERM):
                raise PrinterError("error", *REASONS["no_permission"], detail=str(exc)) from exc
            if code in _GONE or not os.path.exists(c.port):
                raise fault("port_missing", str(exc)) from exc
            raise fault("error", str(exc)) from exc
        self.serial = s
        return self

    def __enter__(self) -> "SerialTransport":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(discard=exc_type is not None)

    def close(self, discard: bool = False) -> None:
        """Close; with discard, drop unsent output first so close() cannot wait on a stuck port."""
        s, self.serial = self.serial, None
        if s is None:
            return
        try:
            if discard:
                s.reset_output_buffer()
        except Exception:  # the port may be gone already
            pass
        try:
            s.close()
        except Exception as exc:
            log.debug("closing %s: %s", self.config.port, exc)

    def _lost(self, exc: BaseException) -> PrinterError:
        if not os.path.exists(self.config.port) or _errno_of(exc) in _GONE or "returned no data" in str(exc):
            return fault("port_missing", "%s: %s" % (self.config.port, exc))
        return fault("error", str(exc))

    def write(self, data: bytes, timeout: float) -> None:
        """Write all of data within timeout seconds, or raise PrinterError("stalled")."""
        import serial

        s = self._port()
        s.write_timeout = self._allow(max(0.05, timeout))
        try:
            s.write(data)
        except serial.SerialTimeoutException as exc:
            raise fault("stalled", "%d bytes not taken within %.1f s" % (len(data), timeout)) from exc
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc
        self.bytes_sent += len(data)

    def reset_input(self) -> None:
        import serial

        try:
            self._port().reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc

    def read_byte(self, timeout: float) -> Optional[int]:
        """One byte, or None when nothing arrives within timeout seconds."""
        data = self.read_some(timeout, 1)
        return data[0] if data else None

    def read_some(self, timeout: float, limit: int = 4096) -> bytes:
        """Whatever arrives first (at most limit bytes), waiting up to timeout seconds."""
        import serial

        s = self._port()
        try:
            s.timeout = self._allow(max(0.0, timeout))
            first = s.read(1)
            if not first or limit == 1:
                return first
            waiting = min(s.in_waiting, limit - 1)
            return first + (s.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from exc

    def read_until(self, found: Callable[[bytes], bool], deadline: float) -> bytes:
        """Read until found(everything read) is true or the monotonic deadline passes."""
        data = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return data
            data += self.read_some(remaining)
            if found(data):
                return data

    def drain(self, deadline: float) -> bool:
        """Wait until the driver's output queue is empty (real UARTs), at most until deadline."""
        s = self._port()
        self._allow(max(0.0, deadline - time.monotonic()))
        while time.monotonic() < deadline:
            try:
                if not s.out_waiting:
                    return True
            except Exception:  # not every driver can tell
                return True
            time.sleep(0.01)
        return False

    def _port(self):  # type: ignore[no-untyped-def]
        if self.serial is None:
            raise fault("port_missing", "port not open")
        return self.serial
