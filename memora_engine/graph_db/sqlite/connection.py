"""The SQLite connection, owned by one dedicated worker thread.

Every public operation of :class:`~memora_engine.graph_db.sqlite.SqliteGraphDB` is one plain
function ``fn(conn, *args)`` submitted to that thread, so the event loop never blocks on disk and
operations of one store never interleave. Writes run as ``BEGIN IMMEDIATE ... COMMIT`` (rolled
back on any error); reads run in a deferred transaction, so they see one consistent snapshot.
Driver errors are translated into the :mod:`memora_engine.errors` tree here, at the boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

from memora_engine.errors import (
    BackendError,
    BackendUnavailableError,
    ConflictError,
    MemoraError,
    UsageError,
)
from memora_engine.graph_db.sqlite.ddl import ensure_schema

__all__ = ["SqliteWorker", "translate_error"]

P = ParamSpec("P")
T = TypeVar("T")

_UNAVAILABLE_HINTS = ("locked", "busy", "unable to open", "not a database", "readonly", "disk")


def translate_error(exc: sqlite3.Error, path: str) -> MemoraError:
    """Map a ``sqlite3`` error to the Memora error tree (pure)."""
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return ConflictError(f"SQLite constraint failed in {path}: {text}")
    lowered = text.lower()
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) and any(
        hint in lowered for hint in _UNAVAILABLE_HINTS
    ):
        if "locked" in lowered or "busy" in lowered:
            return BackendUnavailableError(
                f"SQLite database {path} is locked by another writer and stayed locked past the "
                f"busy timeout ({text}); retry, or raise busy_timeout."
            )
        return BackendUnavailableError(f"Cannot use SQLite database {path}: {text}")
    return BackendError(f"SQLite error in {path}: {text}")


class SqliteWorker:
    """One sqlite3 connection living on one worker thread; runs transactions for coroutines.

    The connection opens lazily on the first job (constructors do no I/O) and the schema is
    ensured right after opening.

    Examples:
        >>> worker = SqliteWorker(":memory:", busy_timeout_ms=5000)
        >>> count = await worker.read(lambda c: c.execute("SELECT 1").fetchone()[0])  # doctest: +SKIP
    """

    def __init__(self, path: str, *, busy_timeout_ms: int, synchronous: str = "FULL") -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous = synchronous
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._lock = threading.Lock()
        #: Held by whichever thread is using the connection (the worker, or a short read).
        self._conn_lock = threading.Lock()

    # ------------------------------------------------------------------ public API
    async def read(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(conn, *args)`` in a read transaction on the worker thread."""
        return await self._submit(partial(self._in_transaction, "BEGIN", fn, *args, **kwargs))

    async def read_short(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Like :meth:`read`, for a read of a few rows (a search's hits): it runs on the calling
        thread when the connection is open and idle, saving the two thread switches of a
        hand-off (milliseconds each on a busy machine); else on the worker."""
        if self._conn is not None and not self._closed and self._conn_lock.acquire(blocking=False):
            try:
                if self._conn is not None:
                    return self._in_transaction("BEGIN", fn, *args, **kwargs)
            finally:
                self._conn_lock.release()
        return await self.read(fn, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[sqlite3.Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(conn, *args)`` in one ``BEGIN IMMEDIATE`` transaction on the worker thread."""
        return await self._submit(
            partial(self._in_transaction, "BEGIN IMMEDIATE", fn, *args, **kwargs)
        )

    async def open(self) -> None:
        """Open the connection and ensure the schema now (otherwise done on first use)."""
        await self._submit(self._connection)

    async def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            executor = self._executor
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, self._locked(self._close_connection))
        executor.shutdown(wait=True)

    # ------------------------------------------------------------------ worker-thread side
    async def _submit(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._get_executor(), self._locked(job))

    def _locked(self, job: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            with self._conn_lock:
                return job()

        return run

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise UsageError("This SqliteGraphDB is closed; create a new one to keep working.")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="memora-sqlite"
                )
            return self._executor

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=self._busy_timeout_ms / 1000,
                cached_statements=256,
                check_same_thread=False,  # used by one thread at a time, under _conn_lock
            )
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                _enable_wal(conn, self._busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA synchronous = {_checked_sync_mode(self._synchronous)}")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")
            self._run_tx(conn, "BEGIN IMMEDIATE", ensure_schema)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc, self.path) from exc
            raise
        self._conn = conn
        return conn

    def _in_transaction(
        self,
        begin: str,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        conn = self._connection()
        try:
            return self._run_tx(conn, begin, fn, *args, **kwargs)
        except sqlite3.Error as exc:
            raise translate_error(exc, self.path) from exc

    @staticmethod
    def _run_tx(
        conn: sqlite3.Connection,
        begin: str,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        conn.execute(begin)
        try:
            result = fn(conn, *args, **kwargs)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # the original error matters more
                    conn.execute("ROLLBACK")
            raise
        return result

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _checked_sync_mode(mode: str) -> str:
    """Only the known PRAGMA values may reach the (non-parameterizable) PRAGMA statement."""
    upper = mode.upper()
    if upper not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {mode!r}")
    return upper


def _enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL, retrying while another connection holds the lock.

    SQLite reports ``database is locked`` at once (without its busy handler) when several
    connections open a new file and switch its journal mode together, so retry here, bounded by
    the busy timeout.
    """
    deadline = time.monotonic() + timeout_s
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = "locked" in str(exc).lower() or "busy" in str(exc).lower()
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
