"""``RecordingVectorDB`` / ``RecordingEncoder``: a real vector store or dense encoder, wrapped so
tests can see its calls (and fault the store's).

It is not a fake: every call is delegated to the wrapped store, which does the real work. The
wrapper only records ``(method, args)`` and can make the next call of a method raise once,
which is how the coordination suite checks that a failed vector write leaves the graph
untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memora_engine.embeddings.base import DenseEncoder
from memora_engine.filters import FilterNode
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, ScoredMemory

__all__ = ["RecordedCall", "RecordingEncoder", "RecordingVectorDB"]


@dataclass(frozen=True)
class RecordedCall:
    """One call made through the recorder."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class RecordingVectorDB(BaseVectorDB):
    """Delegate every call to ``inner`` and record it.

    ``close()`` is recorded but does not close ``inner``: the recorder does not own it.

    Examples:
        >>> recorder = RecordingVectorDB(qdrant_db)  # doctest: +SKIP
        >>> stores = StoreCoordinator(graph, recorder)  # doctest: +SKIP
        >>> await stores.delete_user(org_id, user_id)  # doctest: +SKIP
        >>> recorder.calls_to("delete_all_user_memories")  # doctest: +SKIP
        [RecordedCall(method='delete_all_user_memories', args=(org_id, user_id), kwargs={})]
    """

    def __init__(self, inner: BaseVectorDB) -> None:
        self.inner = inner
        self.calls: list[RecordedCall] = []
        self._faults: dict[str, BaseException] = {}
        self._hooks: dict[str, Callable[[], Awaitable[None]]] = {}

    # ------------------------------------------------------------------ test helpers
    def calls_to(self, method: str) -> list[RecordedCall]:
        """The recorded calls of one method, in order."""
        return [call for call in self.calls if call.method == method]

    def upserted_memories(self) -> list[Memory]:
        """Every memory passed to ``upsert_memories`` so far, in order."""
        return [m for call in self.calls_to("upsert_memories") for m in call.args[0]]

    def clear(self) -> None:
        """Forget the recorded calls."""
        self.calls.clear()

    def fail_next(self, method: str, error: BaseException) -> None:
        """Make the next call of ``method`` raise ``error`` (before reaching ``inner``)."""
        self._faults[method] = error

    def before_next(self, method: str, hook: Callable[[], Awaitable[None]]) -> None:
        """Await ``hook()`` when ``method`` is next called, before delegating (e.g. to make a
        concurrent change land between a store's checks and its transaction)."""
        self._hooks[method] = hook

    async def _record(self, method: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(RecordedCall(method, args, dict(kwargs)))
        hook = self._hooks.pop(method, None)
        if hook is not None:
            await hook()
        fault = self._faults.pop(method, None)
        if fault is not None:
            raise fault

    # ------------------------------------------------------------------ delegation
    async def setup(self) -> None:
        await self._record("setup")
        await self.inner.setup()

    async def close(self) -> None:
        await self._record("close")

    async def upsert_memories(self, memories: Sequence[Memory]) -> None:
        await self._record("upsert_memories", list(memories))
        await self.inner.upsert_memories(memories)

    async def add_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        memory_ids: Sequence[str],
        memories: Sequence[str],
        obtained_at: datetime,
    ) -> None:
        await self._record(
            "add_memories", org_id, user_id, agent_id, list(memory_ids), list(memories), obtained_at
        )
        await self.inner.add_memories(org_id, user_id, agent_id, memory_ids, memories, obtained_at)

    async def search_memory(
        self,
        query: str,
        memory_search_scope: MemorySearchScope,
        org_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        *,
        limit: int | None = None,
        filter: FilterNode | None = None,
    ) -> list[ScoredMemory]:
        await self._record(
            "search_memory",
            query,
            memory_search_scope,
            org_id,
            user_id,
            agent_id,
            limit=limit,
            filter=filter,
        )
        return await self.inner.search_memory(
            query, memory_search_scope, org_id, user_id, agent_id, limit=limit, filter=filter
        )

    async def search_memories(
        self,
        queries: Sequence[str],
        memory_search_scope: MemorySearchScope,
        org_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        *,
        limit: int | None = None,
        filter: FilterNode | None = None,
    ) -> list[list[ScoredMemory]]:
        await self._record(
            "search_memories",
            list(queries),
            memory_search_scope,
            org_id,
            user_id,
            agent_id,
            limit=limit,
            filter=filter,
        )
        return await self.inner.search_memories(
            queries, memory_search_scope, org_id, user_id, agent_id, limit=limit, filter=filter
        )

    async def delete_memory(self, memory_id: str) -> None:
        await self._record("delete_memory", memory_id)
        await self.inner.delete_memory(memory_id)

    async def flush(self) -> None:
        await self._record("flush")
        await self.inner.flush()

    async def delete_memories(self, memory_ids: Sequence[str]) -> None:
        await self._record("delete_memories", list(memory_ids))
        await self.inner.delete_memories(memory_ids)

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        await self._record("delete_all_user_memories", org_id, user_id)
        await self.inner.delete_all_user_memories(org_id, user_id)

    async def delete_all_organization_memories(self, org_id: str) -> None:
        await self._record("delete_all_organization_memories", org_id)
        await self.inner.delete_all_organization_memories(org_id)

    async def count(self, org_id: str | None = None, user_id: str | None = None) -> int:
        await self._record("count", org_id, user_id)
        return await self.inner.count(org_id, user_id)

    async def existing_ids(self, memory_ids: Sequence[str]) -> set[str]:
        await self._record("existing_ids", list(memory_ids))
        return await self.inner.existing_ids(memory_ids)


class RecordingEncoder(DenseEncoder):
    """Delegate to a real dense encoder and record the texts of each call.

    Examples:
        >>> encoder = RecordingEncoder(default_dense_encoder())  # doctest: +SKIP
        >>> await encoder.embed_documents(["a", "b"])  # doctest: +SKIP
        >>> encoder.calls  # doctest: +SKIP
        [('documents', ['a', 'b'])]
    """

    def __init__(self, inner: DenseEncoder) -> None:
        self.inner = inner
        #: ``("documents" | "queries", texts)`` per call, in call order.
        self.calls: list[tuple[str, list[str]]] = []

    @property
    def texts(self) -> list[str]:
        """Every text embedded, in call order."""
        return [text for _, texts in self.calls for text in texts]

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def symmetric(self) -> bool:
        return self.inner.symmetric

    async def aget_dim(self) -> int:
        return await self.inner.aget_dim()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(("documents", list(texts)))
        return await self.inner.embed_documents(texts)

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(("queries", list(texts)))
        return await self.inner.embed_queries(texts)
