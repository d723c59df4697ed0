"""Files written whole or not at all."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")


def write_atomically(path: Path, write: Callable[[Any], T], encoding: str = "utf-8",
                     newline: Optional[str] = None, binary: bool = False) -> T:
    """``write(handle)`` into a temp file beside ``path``, then rename it over ``path``.

    A reader or a crash never sees half a file; ``binary`` hands ``write`` a bytes handle.
    Returns what ``write`` returned; raises OSError.
    """
    fd, tmp = tempfile.mkstemp(prefix=".chaoying-", suffix=path.suffix, dir=str(path.parent))
    try:
        if binary:
            with open(fd, "wb") as out:
                result = write(out)
        else:
            with open(fd, "w", encoding=encoding, newline=newline) as handle:
                result = write(handle)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return result
