"""An exclusive lock on a file, across processes, on Linux and on Windows (the RA)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

LOCK_BYTE = 1 << 30
"""Windows locks a byte range for every reader too: lock a byte far past the text, so that
another process can still read what the file says (who holds the lock)."""


@contextlib.contextmanager
def file_lock(path: Path, blocking: bool = True):
    """Hold an exclusive lock on ``path`` (fcntl on Linux, msvcrt on Windows); yield the open
    file. ``blocking=False``: raise BlockingIOError at once when another process holds it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        if os.name == "nt":  # the RA runs Windows
            import msvcrt
            while True:
                try:
                    f.seek(LOCK_BYTE)
                    msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if not blocking:
                        raise BlockingIOError(f"{path} is locked") from None
                    time.sleep(0.2)
            try:
                yield f
            finally:
                f.seek(LOCK_BYTE)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            try:
                yield f
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
