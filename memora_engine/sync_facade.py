"""``SyncMemora``: the blocking facade over :class:`~memora_engine.memora.Memora`.

Every method submits the async core's coroutine to the shared
:class:`~memora_engine.sync.EventLoopPortal` and waits; there is no second copy of any logic.
It works in scripts and inside a running event loop (Jupyter).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping, Sequence, Set
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from typing_extensions import Self

from memora_engine.errors import InvalidInputError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.memora import Memora
from memora_engine.schema.models import Memory
from memora_engine.sync import EventLoopPortal, default_portal
from memora_engine.vector_db.base import MemorySearchScope

__all__ = ["MemoraRunner", "SyncGraph", "SyncMemora"]

T = TypeVar("T")


class SyncGraph:
    """Blocking proxy of a graph store: the same method names, each run on the portal.

    Examples:
        >>> org = memora.graph.create_organization("Acme")  # doctest: +SKIP
    """

    def __init__(self, graph: BaseGraphDB, portal: EventLoopPortal) -> None:
        self.aio = graph
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.aio, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._portal.run(attribute(*args, **kwargs))

        return blocking


class SyncMemora:
    """Blocking Memora with the same method names as the async core.

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
        self.aio = memora
        self._portal = portal or default_portal()
        self.graph = SyncGraph(memora.graph, self._portal)

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

    def _run(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._portal.run(method(*args, **kwargs))

    def setup(self) -> None:
        """See :meth:`Memora.setup`."""
        self._run(self.aio.setup)

    def close(self) -> None:
        """See :meth:`Memora.close`."""
        self._run(self.aio.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def save_or_update_interaction_and_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction: Sequence[Mapping[str, str]],
        interaction_id: str | None = None,
        current_datetime: datetime | None = None,
        extract_agent_memories: bool = False,
        update_across_agents: bool = True,
        max_retries: int = 3,
        *,
        infer: bool | None = None,
        create_if_missing: bool = False,
    ) -> tuple[str, datetime]:
        """See :meth:`Memora.save_or_update_interaction_and_memories`."""
        result: tuple[str, datetime] = self._run(
            self.aio.save_or_update_interaction_and_memories,
            org_id,
            user_id,
            agent_id,
            interaction,
            interaction_id,
            current_datetime,
            extract_agent_memories,
            update_across_agents,
            max_retries,
            infer=infer,
            create_if_missing=create_if_missing,
        )
        return result

    def search_memories_with_scores(
        self,
        org_id: str,
        user_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        agent_id: str | None = None,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[tuple[Memory, float]]:
        """See :meth:`Memora.search_memories_with_scores`."""
        result: list[tuple[Memory, float]] = self._run(
            self.aio.search_memories_with_scores,
            org_id,
            user_id,
            search_queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents,
            limit=limit,
        )
        return result

    def search_memories_as_one(
        self,
        org_id: str,
        user_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        agent_id: str | None = None,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[Memory]:
        """See :meth:`Memora.search_memories_as_one`."""
        result: list[Memory] = self._run(
            self.aio.search_memories_as_one,
            org_id,
            user_id,
            search_queries,
            filter_out_memory_ids_set,
            agent_id,
            search_across_agents,
            limit=limit,
        )
        return result

    def search_memories_as_batch(
        self,
        org_id: str,
        search_queries: Sequence[str],
        filter_out_memory_ids_set: Set[str] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        memory_search_scope: MemorySearchScope = MemorySearchScope.USER,
        search_across_agents: bool = True,
        *,
        limit: int | None = None,
    ) -> list[list[Memory]]:
        """See :meth:`Memora.search_memories_as_batch`."""
        result: list[list[Memory]] = self._run(
            self.aio.search_memories_as_batch,
            org_id,
            search_queries,
            filter_out_memory_ids_set,
            user_id,
            agent_id,
            memory_search_scope,
            search_across_agents,
            limit=limit,
        )
        return result

    def generate_memory_search_queries(
        self,
        message: str,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
    ) -> list[str]:
        """See :meth:`Memora.generate_memory_search_queries`."""
        result: list[str] = self._run(
            self.aio.generate_memory_search_queries,
            message,
            preceding_msg_for_context,
            current_datetime,
        )
        return result

    def recall_memories_for_message(
        self,
        org_id: str,
        user_id: str,
        latest_msg: str,
        agent_id: str | None = None,
        preceding_msg_for_context: Sequence[Mapping[str, str]] | None = None,
        current_datetime: datetime | None = None,
        filter_out_memory_ids_set: Set[str] | None = None,
        search_across_agents: bool = True,
        enable_final_model_based_memory_filter: bool = False,
    ) -> tuple[list[Memory], list[str]]:
        """See :meth:`Memora.recall_memories_for_message`."""
        result: tuple[list[Memory], list[str]] = self._run(
            self.aio.recall_memories_for_message,
            org_id,
            user_id,
            latest_msg,
            agent_id,
            preceding_msg_for_context,
            current_datetime,
            filter_out_memory_ids_set,
            search_across_agents,
            enable_final_model_based_memory_filter,
        )
        return result


class MemoraRunner:
    """Run coroutines over one Memora core for sync and async callers (framework adapters).

    Adapters are called both ways (``invoke`` / ``ainvoke``, ``get`` / ``aget``). Each adapter
    method is written once, as a coroutine over the core; the runner blocks on it for sync
    callers (on the portal) and awaits it for async ones. Given a :class:`SyncMemora`, the core's
    stores were opened on the facade's portal loop, so async callers on another loop hand the
    coroutine to that loop and await the result.

    Examples:
        >>> runner = MemoraRunner(memora)  # a Memora or a SyncMemora
        >>> runner.run(runner.core.search_memories_as_one(org_id, user_id, ["tea"]))  # doctest: +SKIP

    Raises:
        InvalidInputError: ``memora`` is neither a ``Memora`` nor a ``SyncMemora``.
    """

    def __init__(self, memora: Memora | SyncMemora, portal: EventLoopPortal | None = None) -> None:
        if isinstance(memora, SyncMemora):
            self.core: Memora = memora.aio
            self.portal = portal or memora.portal
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
        """Block on ``coro`` from sync code (``UsageError`` inside the portal's own loop)."""
        return self.portal.run(coro)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` from async code, on the loop the core belongs to."""
        if not self.pinned or self.portal.in_portal_thread():
            return await coro
        future = asyncio.run_coroutine_threadsafe(coro, self.portal.loop)
        return await asyncio.wrap_future(future)
