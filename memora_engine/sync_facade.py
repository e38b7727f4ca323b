"""``SyncMemora``: the blocking facade over :class:`~memora_engine.memora.Memora`.

Every method submits the async core's coroutine to the shared
:class:`~memora_engine.sync.EventLoopPortal` and waits; there is no second copy of any logic.
It works in scripts and inside a running event loop (Jupyter).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

from typing_extensions import Self

from memora_engine._sync_generated import SyncGraphNamespace, SyncMemoraMethods
from memora_engine.errors import InvalidInputError
from memora_engine.memora import Memora
from memora_engine.settings import MemoraSettings
from memora_engine.sync import EventLoopPortal, default_portal

__all__ = ["MemoraRunner", "SyncGraphNamespace", "SyncMemora"]

T = TypeVar("T")


class SyncMemora(SyncMemoraMethods):
    """Blocking Memora: every public method of the async core, with the same parameters.

    The API methods are generated from :class:`Memora` (``memora_engine/_sync_generated.py``,
    ``python -m memora_engine._codegen``) and each runs the coroutine on the portal; this class
    adds construction, lifecycle and ``graph`` (the original graph method names).

    Examples:
        >>> memora = SyncMemora.embedded("./.memora")
        >>> org = memora.graph.create_organization("Acme")
        >>> user = memora.graph.create_user(org.org_id, "Jake")
        >>> agent = memora.graph.create_agent(org.org_id, "Jarvis")
        >>> memora.save_or_update_interaction_and_memories(
        ...     org.org_id, user.user_id, agent.agent_id,
        ...     [{"role": "user", "content": "I'm allergic to peanuts."}])
        >>> memora.search_memories_as_one(org.org_id, user.user_id, ["allergies"])
        >>> memora.close()
    """

    def __init__(self, memora: Memora, portal: EventLoopPortal | None = None) -> None:
        super().__init__(memora, portal or default_portal())
        self.graph = SyncGraphNamespace(memora.graph, self._portal)

    @property
    def portal(self) -> EventLoopPortal:
        """The portal the core runs on."""
        return self._portal

    @classmethod
    def embedded(
        cls, path: str | Path = ".memora", *, portal: EventLoopPortal | None = None, **kwargs: Any
    ) -> SyncMemora:
        """Open an embedded Memora (see :meth:`Memora.embedded` for the keyword arguments)."""
        runner = portal or default_portal()
        return cls(runner.run(Memora.embedded(path, **kwargs)), runner)

    @classmethod
    def from_settings(
        cls,
        settings: MemoraSettings | None = None,
        *,
        portal: EventLoopPortal | None = None,
        **kwargs: Any,
    ) -> SyncMemora:
        """Open the Memora that ``settings`` names (see :meth:`Memora.from_settings`)."""
        runner = portal or default_portal()
        return cls(runner.run(Memora.from_settings(settings, **kwargs)), runner)

    def setup(self) -> None:
        """Blocking :meth:`Memora.setup`."""
        self._portal.run(self.aio.setup())

    def close(self) -> None:
        """Blocking :meth:`Memora.close`."""
        self._portal.run(self.aio.close())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _client_classes() -> tuple[type, ...]:
    """``(MemoraClient, SyncMemoraClient)`` when the ``server`` extra (httpx) is installed."""
    try:
        from memora_engine.client import MemoraClient, SyncMemoraClient
    except ImportError:
        return ()
    return (MemoraClient, SyncMemoraClient)


class MemoraRunner:
    """Run coroutines over one Memora core for sync and async callers (framework adapters).

    Adapters are called both ways (``invoke`` / ``ainvoke``, ``get`` / ``aget``). Each adapter
    method is written once, as a coroutine over the core; the runner blocks on it for sync
    callers (on the portal) and awaits it for async ones. Given a :class:`SyncMemora`, the core's
    stores were opened on the facade's portal loop, so async callers on another loop hand the
    coroutine to that loop and await the result.

    Examples:
        >>> runner = MemoraRunner(memora)  # a Memora, SyncMemora, MemoraClient, SyncMemoraClient
        >>> runner.run(runner.core.search_memories_as_one(org_id, user_id, ["tea"]))  # doctest: +SKIP

    Raises:
        InvalidInputError: ``memora`` is none of those.
    """

    def __init__(self, memora: Any, portal: EventLoopPortal | None = None) -> None:
        clients = _client_classes()
        if isinstance(memora, (SyncMemora, *clients[1:])):
            # The core (stores, or the client's HTTP pool) lives on the facade's portal loop.
            facade: Any = memora
            self.core: Memora = cast(Memora, facade.aio)
            self.portal = portal or facade.portal
            self.pinned = True
        elif isinstance(memora, (Memora, *clients[:1])):
            # A MemoraClient has the same public coroutines as Memora (checked by its tests).
            self.core = cast(Memora, memora)
            self.portal = portal or default_portal()
            self.pinned = False
        else:
            raise InvalidInputError(
                "Expected a Memora, a SyncMemora, a MemoraClient or a SyncMemoraClient, got "
                f"{type(memora).__name__}."
            )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Block on ``coro`` from sync code (``UsageError`` inside the portal's own loop)."""
        return self.portal.run(coro)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` from async code, on the loop the core belongs to."""
        if not self.pinned or self.portal.in_portal_thread():
            return await coro
        future = asyncio.run_coroutine_threadsafe(coro, self.portal.loop)
        return await asyncio.wrap_future(future)
