"""Logging to a rotating file, never to the terminal.

The till owns the whole screen, and escpos calls ``logging.basicConfig()`` on
import; once the root logger has our file handler, that call does nothing,
and ``remove_terminal_handlers()`` cleans up after anything that added one
anyway.

The log names cashiers, sales and payment failures: the file (and each rotated
one) is 0600, a folder made for it 0700, whatever the umask.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

LOG_FILE_NAME = "chaoying.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"

_MARK = "_chaoying_handler"


def default_log_path() -> Path:
    """chaoying.log in platformdirs' user log dir (CHAOYING_LOG_DIR overrides the folder)."""
    folder = os.environ.get("CHAOYING_LOG_DIR", "").strip()
    if not folder:
        import platformdirs

        folder = platformdirs.user_log_dir("chaoying")
    return Path(folder).expanduser() / LOG_FILE_NAME


def sqlite_file(url: str) -> Optional[Path]:
    """The file of a sqlite:/// URL (None for another database or an in-memory one)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    file = url[len(prefix):].split("?", 1)[0]
    if not file or file == ":memory:" or file.startswith("file:"):
        return None
    return Path(file).expanduser()


def log_path_for_database(database_url: str) -> Optional[Path]:
    """chaoying.log next to a SQLite database file; None for other databases."""
    file = sqlite_file(database_url)
    return None if file is None else file.parent / LOG_FILE_NAME


def setup_logging(path: Optional[Path] = None, level: int = logging.INFO,
                  fallback: Optional[Path] = None) -> Optional[Path]:
    """Send all logging to a rotating file; return the file used (None if no file could be opened).

    ``path`` defaults to ``default_log_path()``; when it cannot be written,
    ``fallback`` (e.g. next to the database), then the temp dir are tried.
    Calling it again keeps a handler already writing to the wanted file, else
    replaces it: commands may call it at each step without reopening files.
    """
    root = logging.getLogger()
    wanted = path or default_log_path()
    remove_terminal_handlers()
    for old in list(root.handlers):
        if getattr(old, _MARK, False):
            if getattr(old, "baseFilename", None) == os.path.abspath(wanted):
                root.setLevel(level)
                return wanted
            root.removeHandler(old)
            old.close()

    candidates = [wanted]
    if fallback is not None:
        candidates.append(fallback)
    candidates.append(Path(tempfile.gettempdir()) / f"chaoying-{_user()}.log")
    used: Optional[Path] = None
    handler: logging.Handler = logging.NullHandler()
    for candidate in candidates:
        try:
            candidate.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handler = PrivateFileHandler(
                str(candidate), maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                encoding="utf-8", delay=False,
            )
        except OSError:
            continue
        used = candidate
        break
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    # Python's last-resort handler writes to stderr when no handler is found; with
    # ours on the root it is never reached, but warnings must go to the file too.
    logging.captureWarnings(True)
    threading.excepthook = _log_thread_exception  # not on stderr, under the till's screen
    return used


class PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner reads (0600): made so, never widened by the umask."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def _log_thread_exception(args: Any) -> None:
    """An exception that ends a thread (the printer thread, a worker) goes to the log file."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("chaoying.thread").critical(
        "uncaught exception ends thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def log_failed_worker(worker: Any) -> None:
    """Log the exception of a Textual worker that failed (exit_on_error=False keeps it to itself).

    Worker.StateChanged does not bubble: every node that runs workers calls this from its
    on_worker_state_changed.
    """
    from textual.worker import WorkerState

    if worker.state == WorkerState.ERROR:
        logging.getLogger("chaoying.tui.worker").error("worker %r failed", worker.name, exc_info=worker.error)


def remove_terminal_handlers() -> int:
    """Drop handlers on the root logger that write to a terminal stream (what basicConfig adds)."""
    root = logging.getLogger()
    removed = 0
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
            removed += 1
    return removed


def _user() -> str:
    try:
        return str(os.getuid())
    except AttributeError:  # Windows
        return os.environ.get("USERNAME", "user")
