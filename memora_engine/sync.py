"""The one sync portal: run Memora's async core from synchronous code.

Sync callers (scripts, notebooks, LangChain / LlamaIndex sync methods) never get a hand-copied
sync twin of the logic. They submit coroutines to :class:`EventLoopPortal`, which runs them on a
private event loop in a daemon thread and blocks for the result. This works outside any event
loop and inside one (e.g. Jupyter, whose loop is already running in the main thread).

Calling the portal from a coroutine running *on the portal's own loop* would deadlock; it raises
:class:`~memora_engine.errors.UsageError` instead.

Examples:
    >>> from memora_engine.sync import default_portal
    >>> async def add(a: int, b: int) -> int:
    ...     return a + b
    >>> default_portal().run(add(1, 2))
    3
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar, cast

from memora_engine.errors import UsageError

__all__ = ["EventLoopPortal", "default_portal"]

T = TypeVar("T")


class EventLoopPortal:
    """A private event loop on a daemon thread that runs coroutines for sync callers."""

    def __init__(self, name: str = "memora-portal") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The portal's loop, started on first use."""
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                thread = threading.Thread(target=serve, name=self._name, daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def in_portal_thread(self) -> bool:
        """Whether the caller runs on the portal's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the portal's loop and return its result (or raise its exception).

        Raises:
            UsageError: called from the portal's own loop (use ``await`` there instead).
        """
        if self.in_portal_thread():
            coro.close()
            raise UsageError(
                "A sync Memora method was called from inside Memora's own event loop; "
                "await the async method instead."
            )
        future = asyncio.run_coroutine_threadsafe(_carry_exits(coro), self.loop)
        result, escaped = future.result(timeout)
        if escaped is not None:
            raise escaped
        return cast(T, result)

    def close(self) -> None:
        """Stop the loop and join its thread (idempotent). Pending work is cancelled."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if thread is threading.current_thread():
            raise UsageError("The portal cannot be closed from its own thread.")

        async def cancel_pending() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_pending(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def _carry_exits(coro: Coroutine[Any, Any, T]) -> tuple[T | None, BaseException | None]:
    """Run ``coro``; hand ``SystemExit`` / ``KeyboardInterrupt`` back instead of raising them.

    Escaping a task, those would stop the portal's loop and leave the caller waiting forever;
    carried back, they are re-raised in the caller's thread where they belong.
    """
    try:
        return await coro, None
    except (SystemExit, KeyboardInterrupt) as exc:
        return None, exc


_default: EventLoopPortal | None = None
_default_lock = threading.Lock()


def default_portal() -> EventLoopPortal:
    """The process-wide portal shared by every sync facade (closed at interpreter exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = EventLoopPortal()
            atexit.register(_default.close)
        return _default
