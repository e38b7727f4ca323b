"""Files in a Qdrant Edge store's folder: the process lock and the "open" marker (pure I/O)."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import IO

from memora_engine.vector_db._common import DENSE_VECTOR

__all__ = ["BOOT_ID_FILE", "CONFIG_FILE", "FolderLock", "boot_id", "prefetch_folder", "stored_dense_dim",
           "write_marker", "writes_may_be_lost"]  # fmt: skip

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
CONFIG_FILE = "edge_config.json"


class FolderLock:
    """An exclusive, non-blocking OS lock on a file (fcntl on POSIX, msvcrt on Windows)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self._path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            if sys.platform == "win32":  # pragma: no cover
                import msvcrt

                msvcrt.locking(self._handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        finally:
            self._handle.close()
            self._handle = None


def boot_id() -> str:
    """The kernel's boot id ("" where the OS does not expose one: every reopen then counts as
    a possible power loss)."""
    try:
        return BOOT_ID_FILE.read_text(encoding="ascii").strip()
    except OSError:
        return ""


def writes_may_be_lost(marker: Path) -> bool:
    """Whether the last session ended without a clean close AND the machine restarted since
    (a process crash alone loses nothing: the write-ahead log is in the kernel's page cache)."""
    try:
        previous = marker.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    current = boot_id()
    return not current or previous != current


def write_marker(marker: Path) -> None:
    with open(marker, "w", encoding="ascii") as handle:
        handle.write(boot_id())
        handle.flush()
        os.fsync(handle.fileno())


def stored_dense_dim(folder: Path) -> int | None:
    """The dense size recorded in an existing shard's config (None if unreadable)."""
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        size = config["vectors"][DENSE_VECTOR]["size"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return size if isinstance(size, int) else None


#: Bytes per read-ahead request (Linux caps one ``WILLNEED`` request at a few MB).
PREFETCH_WINDOW = 8 << 20


def prefetch_folder(folder: Path, stop: threading.Event | None = None) -> int:
    """Ask the kernel to read every file under ``folder`` into its page cache; returns the bytes
    asked for (0 where the OS has no ``posix_fadvise``).

    Qdrant Edge drops its files from the page cache when a shard is closed, so the searches
    after a reopen would fault their pages in from disk one by one (bench/engine.py measures
    the difference). The requests return at once; the reads happen in the kernel. ``stop``
    ends the walk early (the store is closing).
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:  # pragma: no cover - Windows, macOS
        return 0
    asked = 0
    for path in sorted(folder.rglob("*")):
        if stop is not None and stop.is_set():
            break
        try:
            if not path.is_file():
                continue
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # removed meanwhile (segments are rewritten by optimize)
            continue
        try:
            size = os.fstat(fd).st_size
            for offset in range(0, size, PREFETCH_WINDOW):
                advise(fd, offset, PREFETCH_WINDOW, os.POSIX_FADV_WILLNEED)
            asked += size
        except OSError:
            continue
        finally:
            os.close(fd)
    return asked
