"""A virtual serial ESC/POS printer on a pty, for the demo, the tests and layout previews.

It behaves like an Epson TM on a serial line: it decodes what it receives
(see escpos_decode), writes each cut receipt to `paper_dir` as NNNN.txt
(UTF-8, readable) and NNNN.bin (the raw bytes of the job), and answers the
status and confirmation commands:

- `DLE EOT n` (real time): one byte shaped 0xx1xx10 (base 0x12).
  n=1 bit3 offline (also set when cover open, paper end or error: a real TM
  goes offline then); n=2 bit2 cover open, bit5 stopped by paper end, bit6
  error; n=3 bit3 autocutter error; n=4 bits 2+3 (0x0C) near end, bits 5+6
  (0x60) paper end (a printer out of paper also sees "near end": 0x7E).
- `GS r 1`: Epson paper sensor byte: 0x00 paper present, 0x03 near end,
  0x0F paper end (near-end bits 0+1 and end bits 2+3). `GS r 2` / `GS r 4`: 0x00.
- `GS ( H` fn48 (`1D 28 48 06 00 30 30 d1 d2 d3 d4`): `37 22 d1 d2 d3 d4 00`
  once every byte before it has been processed ("printing completed").
- `GS I n`: model/type/version ids.

`GS r`, `GS ( H` and `GS I` are processed in order with the data, so a
printer that is not printing (paper out, cover open, offline, error) does not
answer them; `DLE EOT` is real time and always answered (except when silent
or stalled).

The state is one word read from `state_file` before every command:
ok, near-end, paper-out, cover-open, offline, silent (answers nothing,
swallows data), stall (stops reading: the writer's buffer fills up),
no-confirm (answers DLE EOT only, ignores GS ( H and GS r), plus two extras
for tests: garbage (answers random bytes of the wrong shape) and error
(an autocutter error). In paper-out, cover-open, offline and error states
received data is discarded (nothing printed) but DLE EOT is answered.

With `baud`, received bytes are processed no faster than baud/10 bytes per
second, so timings match a real line.
"""
from __future__ import annotations

import logging
import os
import random
import re
import select
import signal
import tempfile
import threading
import time
import tty
from collections import Counter
from pathlib import Path
from typing import Callable, Optional, Union

from printing.escpos_decode import BARCODE_NAMES, DRAWER_NOTE, Command, Paper, code128_text, next_command

log = logging.getLogger("chaoying.printing.virtual")

STATES = (
    "ok", "near-end", "paper-out", "cover-open", "offline", "silent", "stall",
    "no-confirm", "garbage", "error",
)
# States in which the printer keeps data but does not print it.
NOT_PRINTING = frozenset({"paper-out", "cover-open", "offline", "error"})
# States in which GS ( H and GS r are answered.
CONFIRMING = frozenset({"ok", "near-end"})

PathLike = Union[str, "os.PathLike[str]"]
_RECEIPT_NAME = re.compile(r"^(\d{4,})\.txt$")


class VirtualPrinterError(Exception):
    """The virtual printer cannot start (link path taken, folder missing...)."""


def status_byte(state: str, n: int) -> Optional[int]:
    """The reply of an Epson TM to DLE EOT n in `state`; None for an unknown n."""
    if n == 1:
        offline = state in NOT_PRINTING
        return 0x12 | (0x08 if offline else 0)
    if n == 2:
        return 0x12 | {"cover-open": 0x04, "paper-out": 0x20, "error": 0x40}.get(state, 0)
    if n == 3:
        return 0x12 | (0x08 if state == "error" else 0)
    if n == 4:
        return 0x12 | {"near-end": 0x0C, "paper-out": 0x6C}.get(state, 0)
    return None


def paper_sensor_byte(state: str) -> int:
    """The reply to GS r 1 (Epson paper sensor status)."""
    return {"near-end": 0x03, "paper-out": 0x0F}.get(state, 0x00)


def garbage_reply(query: str, length: int) -> bytes:
    """Random bytes that no real reply to query looks like (the `garbage` state's answers)."""
    from printing.printer import gs_r_shape_ok, status_shape_ok

    while True:
        data = os.urandom(length if query.startswith("DLE EOT") else random.randint(1, 3))
        if query.startswith("DLE EOT") and status_shape_ok(data[0]):
            continue
        if query == "GS r" and gs_r_shape_ok(data[0]):  # not even its first byte (a read may split it)
            continue
        if query == "GS ( H" and data.startswith(b"\x37\x22"):
            continue
        return data


class VirtualPrinter:
    """An Epson-like ESC/POS printer behind a pty; `link` points at its device."""

    def __init__(
        self,
        link: PathLike,
        paper_dir: PathLike,
        state_file: Optional[PathLike] = None,
        width: int = 80,
        baud: Optional[int] = None,
    ):
        if width not in (58, 80):
            raise ValueError(f"paper width must be 58 or 80 mm, not {width!r}")
        if baud is not None and int(baud) <= 0:
            raise ValueError(f"baud rate must be positive, not {baud!r}")
        self.link = Path(link)
        self.paper_dir = Path(paper_dir)
        self.state_file = Path(state_file) if state_file is not None else None
        self.width = width
        self.baud = int(baud) if baud else None
        self.device = ""
        self.bytes_received = 0
        self.receipts = 0  # receipts written since start
        self.drawer_kicks = 0
        self.rounds = 0  # times the reading loop went round (each round reads the state first, then the line)
        self.seen: Counter = Counter()  # queries received, e.g. "DLE EOT 4", "GS ( H"
        self.answered: Counter = Counter()  # queries answered
        self._state = "ok"
        self._warned: set = set()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self._pending = bytearray()
        self._job = bytearray()
        self._paper = Paper(48 if width == 80 else 32)
        self._qr = b""
        self._graphics = (0, 0)
        self._next_no = 1
        self._clock = 0.0
        self._triggers: list = []  # armed state switches: (kind, threshold, state)
        self._listening = False  # the reading loop waits on the line, everything it read has been run

    # -- life cycle --------------------------------------------------------
    def open(self) -> None:
        """Create the pty and the link; called by start() and run()."""
        if self._master >= 0:
            return
        if not self.paper_dir.is_dir():
            try:
                self.paper_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise VirtualPrinterError(
                    f"cannot create paper folder {self.paper_dir}: {exc.strerror}"
                ) from exc
        if not self.link.parent.is_dir():
            raise VirtualPrinterError(f"folder {self.link.parent} for the link does not exist")
        if self.link.exists() or self.link.is_symlink():
            if not self.link.is_symlink():
                raise VirtualPrinterError(f"{self.link} exists and is not a symbolic link")
            if os.path.exists(self.link):
                log.warning("link %s pointed at %s; taking it over", self.link, os.readlink(self.link))
            self.link.unlink()  # a stale link from an earlier run
        self._next_no = self._first_free_number()
        if self.state_file is not None:
            if self.state_file.exists():
                self._state = self._read_state()
            else:
                self._write_state_file("ok")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.device = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        os.symlink(self.device, self.link)
        log.info("virtual printer on %s (link %s), paper in %s", self.device, self.link, self.paper_dir)

    def start(self) -> "VirtualPrinter":
        """Run in a background thread until stop()."""
        self.open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="virtual-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread, close the pty and remove the link."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.close()

    def run(self, on_ready: Optional[Callable[["VirtualPrinter"], None]] = None) -> None:
        """Run in this thread until SIGTERM, SIGINT or SIGHUP (or stop()).

        on_ready(self) is called once the link exists and the signals are
        caught, so whoever it tells may stop the printer at once.
        """
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                previous[sig] = signal.signal(sig, self._on_signal)
        try:
            self.open()
            if on_ready is not None:
                on_ready(self)
            self._loop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def _on_signal(self, signum, frame) -> None:
        log.info("virtual printer stopping on signal %d", signum)
        self._stop.set()
        self._wake()

    def _wake(self) -> None:
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

    def close(self) -> None:
        """Release the pty and the link (safe to call twice)."""
        try:
            if self.link.is_symlink() and os.readlink(self.link) == self.device:
                self.link.unlink()
        except OSError as exc:
            log.warning("could not remove link %s: %s", self.link, exc)
        for name in ("_master", "_slave", "_wake_r", "_wake_w"):
            fd = getattr(self, name)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, -1)

    def __enter__(self) -> "VirtualPrinter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- state -------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._read_state()

    def set_state(self, name: str) -> None:
        """Switch state now (and write it to the state file, if there is one)."""
        if name not in STATES:
            raise ValueError(f"unknown printer state {name!r}; use one of {', '.join(STATES)}")
        self._state = name
        if self.state_file is not None:
            self._write_state_file(name)
        log.info("virtual printer state: %s", name)

    def switch_state_at(self, name: str, after_bytes: Optional[int] = None, at_cut: bool = False) -> None:
        """Arm a one-shot switch to `name`, made by the reading thread itself (so it lands exactly).

        after_bytes: once that many more bytes have been read (the chunk that
        crosses the mark is already handled in the new state); at_cut: right
        after the next receipt is cut, before any byte that follows the cut.
        """
        if name not in STATES:
            raise ValueError(f"unknown printer state {name!r}; use one of {', '.join(STATES)}")
        if (after_bytes is None) == (not at_cut):
            raise ValueError("give either after_bytes or at_cut")
        with self._cond:
            if at_cut:
                self._triggers.append(("cut", 0, name))
            else:
                self._triggers.append(("bytes", self.bytes_received + int(after_bytes or 0), name))

    def _fire(self, kind: str) -> None:
        with self._cond:
            due = [t for t in self._triggers if t[0] == kind and (kind == "cut" or self.bytes_received >= t[1])]
            self._triggers = [t for t in self._triggers if t not in due]
        for _, _, name in due:
            self.set_state(name)

    def _write_state_file(self, name: str) -> None:
        # Write and rename, so a reader never sees an empty file.
        assert self.state_file is not None
        folder = self.state_file.parent
        fd, tmp = tempfile.mkstemp(dir=str(folder), prefix=".state-")
        os.fchmod(fd, 0o644)  # mkstemp makes it private; the shop owner edits this file
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(name + "\n")
        os.replace(tmp, self.state_file)

    def _read_state(self) -> str:
        if self.state_file is None:
            return self._state
        try:
            word = self.state_file.read_text(encoding="utf-8").strip().lower()
        except (OSError, UnicodeDecodeError):
            return self._state
        if not word:
            return self._state  # being rewritten in place: keep the last state
        if word not in STATES:
            if word not in self._warned:
                self._warned.add(word)
                log.warning("state file %s: unknown state %r ignored", self.state_file, word)
            return self._state
        if word != self._state:
            log.info("virtual printer state: %s", word)
            self._state = word
        return word

    # -- waiting (for tests and the demo) -----------------------------------
    def wait_for(self, predicate: Callable[["VirtualPrinter"], bool], timeout: float) -> bool:
        """Block until predicate(self) is true (checked on every change) or timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def drained(self) -> bool:
        """Every byte sent so far has been read and run: the reading loop waits for more, nothing is unread.

        (An incomplete command at the end waits for its remaining bytes; a stalled printer is never drained.)
        """
        with self._cond:
            if not self._listening or self._master < 0:
                return False
            try:
                unread, _, _ = select.select([self._master], [], [], 0)
            except (OSError, ValueError):
                return False
            return not unread

    def receipt_path(self, number: int, suffix: str = ".txt") -> Path:
        return self.paper_dir / f"{number:04d}{suffix}"

    def _first_free_number(self) -> int:
        numbers = [int(m.group(1)) for m in map(_RECEIPT_NAME.match, os.listdir(self.paper_dir)) if m]
        return max(numbers, default=0) + 1

    # -- the reading loop ----------------------------------------------------
    def _loop(self) -> None:
        chunk = 65536
        if self.baud:
            chunk = max(1, int(self.baud / 10 * 0.02))  # ~20 ms of line time per read
        stalled = False
        while not self._stop.is_set():
            with self._cond:
                self.rounds += 1
                self._cond.notify_all()
            if self._read_state() == "stall":
                stalled = True
                self._stop.wait(0.05)  # stop reading: the writer's buffer fills up
                continue
            if stalled:  # back from a stall: run what was left unread
                stalled = False
                self._process()
            with self._cond:
                self._listening = True
                self._cond.notify_all()
            try:
                ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.5)
            except (OSError, ValueError):
                break
            finally:
                with self._cond:
                    self._listening = False
            if self._wake_r in ready:
                try:
                    os.read(self._wake_r, 64)
                except OSError:
                    pass
                continue
            if self._master not in ready or self._read_state() == "stall":
                continue
            try:
                data = os.read(self._master, chunk)
            except BlockingIOError:
                continue
            except OSError:
                self._stop.wait(0.05)
                continue
            if not data:
                continue
            with self._cond:
                self.bytes_received += len(data)
                self._cond.notify_all()
            if self._triggers:
                self._fire("bytes")
            self._pace(len(data))
            self._pending += data
            self._process()

    def _pace(self, count: int) -> None:
        if not self.baud:
            return
        now = time.monotonic()
        self._clock = max(self._clock, now) + count / (self.baud / 10)
        delay = self._clock - now
        if delay > 0:
            self._stop.wait(delay)

    def _process(self) -> None:
        """Run every complete command in the pending bytes, state checked before each."""
        buf = bytes(self._pending)
        i = 0
        while i < len(buf):
            state = self._read_state()
            if state == "stall":
                break
            try:
                got = next_command(buf, i)
            except Exception:  # a decoder bug must not kill the printer: skip a byte
                log.exception("virtual printer: cannot decode %r", buf[i:i + 16])
                i += 1
                continue
            if got is None:
                break  # incomplete: wait for more bytes
            cmd, i = got
            try:
                self._apply(cmd, state)
            except Exception:  # never let one odd command kill the printer
                log.exception("virtual printer: error on %r", cmd.raw[:16])
        del self._pending[:i]  # an incomplete tail waits for the next read

    # -- commands --------------------------------------------------------------
    def _answer(self, query: str, reply: bytes, state: str) -> None:
        if state == "garbage":
            reply = garbage_reply(query, len(reply))
        try:
            os.write(self._master, reply)
        except OSError as exc:
            log.warning("virtual printer: reply to %s lost: %s", query, exc)
            return
        with self._cond:
            self.answered[query] += 1
            self._cond.notify_all()

    def _seen(self, query: str) -> None:
        with self._cond:
            self.seen[query] += 1
            self._cond.notify_all()

    def _apply(self, cmd: Command, state: str) -> None:
        kind = cmd.kind
        if state == "silent":
            return
        if kind == "status":
            self._seen(f"DLE EOT {cmd.arg}")
            byte = status_byte(state, cmd.arg)
            if byte is not None:
                self._answer(f"DLE EOT {cmd.arg}", bytes((byte,)), state)
            return
        if kind == "drawer" and cmd.raw[:1] == b"\x10":  # DLE DC4: real time
            self._drawer()
            return
        if kind in ("gs_h", "gs_r", "gs_i"):
            self._query(cmd, state)
            return
        if state in NOT_PRINTING:
            return  # offline: data is thrown away
        self._job += cmd.raw
        self._print(cmd)

    def _query(self, cmd: Command, state: str) -> None:
        if cmd.kind == "gs_h":
            fn, m, ident = cmd.arg
            name = "GS ( H"
            reply = b"\x37\x22" + bytes(ident[:4]) + b"\x00" if fn == 0x30 and m == 0x30 else b""
        elif cmd.kind == "gs_r":
            name = "GS r"
            n = cmd.arg
            reply = bytes((paper_sensor_byte(state),)) if n in (1, 49) else b"\x00"
            if n not in (1, 2, 4, 49, 50, 52):
                reply = b""
        else:
            name = "GS I"
            reply = {1: b"\x20", 49: b"\x20", 2: b"\x02", 50: b"\x02", 3: b"\x64", 51: b"\x64",
                     66: b"_CHAOYING\x00", 67: b"_TM-VIRTUAL\x00"}.get(cmd.arg, b"")
        self._seen(name)
        if state in CONFIRMING or (state == "garbage" and reply):
            if reply:
                self._answer(name, reply, state)

    def _print(self, cmd: Command) -> None:
        paper = self._paper
        kind, arg = cmd.kind, cmd.arg
        if kind == "text":
            paper.text(bytes(arg))
        elif kind == "lf":
            paper.lf()
        elif kind == "ht":
            paper.tab()
        elif kind == "init":
            paper.reset()
        elif kind == "cn_on":
            paper.set_chinese(True)
        elif kind == "cn_off":
            paper.set_chinese(False)
        elif kind == "codepage":
            paper.set_codepage(arg)
        elif kind == "bold":
            paper.bold = bool(arg & 1)
        elif kind == "size":
            paper.set_size(arg)
        elif kind == "mode":
            paper.set_mode(arg)
        elif kind == "cn_mode":
            paper.set_cjk_mode(arg)
        elif kind == "align":
            paper.align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(arg, 0)
        elif kind == "font":
            paper.font_b = arg in (1, 49)
        elif kind == "feed":
            paper.feed(arg)
        elif kind == "2d":
            self._two_d(*arg)
        elif kind == "barcode":
            symbology, data = arg
            name = BARCODE_NAMES.get(symbology, f"TYPE {symbology}")
            text = code128_text(bytes(data)) if symbology == 73 else bytes(data).decode("latin-1")
            paper.note(f"[BARCODE {name}] {text}")
        elif kind == "raster":
            paper.note(f"[IMAGE {arg[0]}x{arg[1]}]")
        elif kind == "column_image":
            paper.note(f"[IMAGE {arg[0]}x{arg[1]}]")
        elif kind == "graphics":
            self._graphics_cmd(*arg)
        elif kind == "drawer":
            self._drawer()
        elif kind == "cut":
            self._cut()

    def _two_d(self, cn: int, fn: int, rest: bytes) -> None:
        if fn == 80:  # store the data (after the m byte)
            self._qr = bytes(rest[1:])
        elif fn == 81:  # print the stored symbol
            name = "QR" if cn == 49 else "PDF417" if cn == 48 else f"2D {cn}"
            self._paper.note(f"[{name}] {_decode_payload(self._qr)}")

    def _graphics_cmd(self, fn: int, params: bytes) -> None:
        if fn == 112 and len(params) >= 8:  # store raster graphics: a bx by c xL xH yL yH
            self._graphics = (params[4] | params[5] << 8, params[6] | params[7] << 8)
        elif fn in (2, 50):  # print the stored graphics
            self._paper.note(f"[IMAGE {self._graphics[0]}x{self._graphics[1]}]")

    def _drawer(self) -> None:
        with self._cond:
            self.drawer_kicks += 1
            self._cond.notify_all()
        log.info("virtual printer: cash drawer kicked")
        self._paper.note(DRAWER_NOTE)

    def _cut(self) -> None:
        text = self._paper.tear_off()
        job = bytes(self._job)
        self._job = bytearray()
        if text:  # a cut of blank paper is not a receipt
            self._write_receipt(text, job)
        if self._triggers:
            self._fire("cut")

    def _write_receipt(self, text: str, job: bytes) -> None:
        number = self._next_no
        self._next_no += 1
        _write_atomic(self.receipt_path(number, ".bin"), job)
        _write_atomic(self.receipt_path(number, ".txt"), text.encode("utf-8"))
        log.info("virtual printer: receipt %04d written (%d bytes)", number, len(job))
        with self._cond:
            self.receipts += 1
            self._cond.notify_all()


def _decode_payload(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
