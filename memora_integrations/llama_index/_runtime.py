"""Where Memora's async core runs when LlamaIndex calls us sync or async (internal).

LlamaIndex calls memory and tools both ways: ``get`` / ``aget``, ``call`` / ``acall``. Every
adapter method is written once, as a coroutine over the async core. :class:`CoreRunner` then runs
that coroutine for sync callers on Memora's one sync portal
(:func:`memora_engine.sync.default_portal`, or the portal of a given ``SyncMemora``), and for async
callers either awaits it in place or, when the core belongs to a ``SyncMemora``, hands it to the
portal's loop (the loop the core's stores were opened on) and awaits the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from memora_engine import Memora, SyncMemora
from memora_engine.errors import InvalidInputError
from memora_engine.sync import EventLoopPortal, default_portal

__all__ = ["CoreRunner", "MemoraLike"]

T = TypeVar("T")

#: What every LlamaIndex adapter accepts: the async core or its sync facade.
MemoraLike = Memora | SyncMemora


class CoreRunner:
    """Runs coroutines over one Memora core for sync and async callers.

    Args:
        memora: A :class:`~memora_engine.Memora` (async core) or a
            :class:`~memora_engine.SyncMemora` (its sync facade).
        portal: The portal sync callers block on; defaults to the facade's portal, or the
            process-wide :func:`~memora_engine.sync.default_portal`.
    """

    def __init__(self, memora: MemoraLike, portal: EventLoopPortal | None = None) -> None:
        if isinstance(memora, SyncMemora):
            self.core: Memora = memora.aio
            self.portal = portal or memora.portal
            # The facade opened the core's stores on its portal loop: keep the core there.
            self.pinned = True
        elif isinstance(memora, Memora):
            self.core = memora
            self.portal = portal or default_portal()
            self.pinned = False
        else:
            raise InvalidInputError(
                f"Expected a Memora or a SyncMemora, got {type(memora).__name__}."
            )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Block on ``coro`` from sync code (raises ``UsageError`` inside the portal's loop)."""
        return self.portal.run(coro)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` from async code, on the core's home loop."""
        if not self.pinned or self.portal.in_portal_thread():
            return await coro
        future = asyncio.run_coroutine_threadsafe(coro, self.portal.loop)
        return await asyncio.wrap_future(future)
