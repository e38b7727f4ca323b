"""The vector store interface: hybrid (dense + sparse) search over memories, scoped by tenant.

A vector store holds, per memory, its id (the point id), its text as indexed (names resolved at
index time), and the tenant payload ``org_id`` / ``user_id`` / ``agent_id`` / ``obtained_at``.
It is an index, not the truth: the graph store is, and the vector index can always be rebuilt
from it. Searches return raw hits; :class:`~memora_engine.Memora` resolves them through the graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType

from typing_extensions import Self

from memora_engine.errors import InvalidInputError
from memora_engine.filters import FilterNode
from memora_engine.ids import require_id
from memora_engine.schema.models import Memory

__all__ = ["BaseVectorDB", "MemorySearchScope", "ScoredMemory", "check_scope"]

#: One search hit: the memory as indexed (no interaction id, no sources) and its fused score.
ScoredMemory = tuple[Memory, float]


class MemorySearchScope(str, Enum):
    """Which memories a search may see."""

    ORGANIZATION = "organization"
    """Every memory of every user of the organization."""
    USER = "user"
    """The memories of one user (``user_id`` required)."""


def check_scope(
    memory_search_scope: MemorySearchScope | str,
    org_id: str,
    user_id: str | None,
    agent_id: str | None,
) -> MemorySearchScope:
    """Validate a search scope and its ids (pure); returns the scope as the enum.

    Raises:
        InvalidInputError: unknown scope, bad ids, or USER scope without ``user_id``.
    """
    try:
        scope = MemorySearchScope(memory_search_scope)
    except ValueError:
        raise InvalidInputError(
            f"memory_search_scope must be one of {[s.value for s in MemorySearchScope]}, "
            f"got {memory_search_scope!r}."
        ) from None
    require_id(org_id, "org_id")
    if scope is MemorySearchScope.USER and user_id is None:
        raise InvalidInputError("USER scope needs a user_id.")
    if user_id is not None:
        require_id(user_id, "user_id")
    if agent_id is not None:
        require_id(agent_id, "agent_id")
    return scope


class BaseVectorDB(ABC):
    """Async vector store of memories. Implementations: ``QdrantDB``, ``QdrantEdgeDB``.

    Every implementation passes ``memora_engine.testing.VectorDBConformanceTests``.
    Supports ``async with`` (closes on exit).
    """

    #: Set by :meth:`setup` when the store may have lost acknowledged writes since it was last
    #: open (e.g. a power loss before a background flush); ``Memora`` then re-indexes from the
    #: graph before serving.
    may_have_lost_writes: bool = False

    @abstractmethod
    async def setup(self) -> None:
        """Create the collection and payload indexes if missing (idempotent)."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources this object created (never a client it was given)."""

    @abstractmethod
    async def upsert_memories(self, memories: Sequence[Memory]) -> None:
        """Embed and index ``memories`` (text, tenant ids, ``obtained_at``); idempotent by id.

        Returns only once a crash of this process can no longer lose the points (they are in
        the store's write-ahead log, or acknowledged by the server).
        """

    async def add_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        memory_ids: Sequence[str],
        memories: Sequence[str],
        obtained_at: datetime,
    ) -> None:
        """Index memories of one user and agent obtained at one time (the original signature).

        Raises:
            InvalidInputError: empty input or ``memory_ids`` / ``memories`` of different lengths.
        """
        if not memories or len(memory_ids) != len(memories):
            raise InvalidInputError("add_memories needs as many ids as texts, and at least one.")
        await self.upsert_memories(
            [
                Memory(
                    org_id=org_id,
                    user_id=user_id,
                    agent_id=agent_id,
                    memory_id=str(memory_id),
                    memory=text,
                    obtained_at=obtained_at,
                )
                for memory_id, text in zip(memory_ids, memories, strict=True)
            ]
        )

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
        """Search with one query; see :meth:`search_memories`."""
        results = await self.search_memories(
            [query], memory_search_scope, org_id, user_id, agent_id, limit=limit, filter=filter
        )
        return results[0]

    @abstractmethod
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
        """Hybrid search with many queries in one call: one list per query, best first.

        ``limit`` caps each list (``None``: the store's configured default). ``filter`` (a
        parsed :mod:`memora_engine.filters` tree) is applied inside the vector query, so each
        list holds up to ``limit`` matching memories.

        Raises:
            InvalidInputError: no queries, bad scope (see :func:`check_scope`).
        """

    async def delete_memory(self, memory_id: str) -> None:
        """Delete one point (no-op if missing)."""
        await self.delete_memories([memory_id])

    @abstractmethod
    async def flush(self) -> None:
        """Make every write so far survive a power loss now (a no-op where they already do)."""

    @abstractmethod
    async def delete_memories(self, memory_ids: Sequence[str]) -> None:
        """Delete points by id (missing ids are ignored; an empty list is a no-op)."""

    @abstractmethod
    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        """Delete every point of one user of one organization."""

    @abstractmethod
    async def delete_all_organization_memories(self, org_id: str) -> None:
        """Delete every point of one organization."""

    @abstractmethod
    async def count(self, org_id: str | None = None, user_id: str | None = None) -> int:
        """Count points: all, an organization's, or (with both ids) one user's."""

    @abstractmethod
    async def existing_ids(self, memory_ids: Sequence[str]) -> set[str]:
        """Return which of ``memory_ids`` are indexed (used by recovery and consistency checks)."""

    async def __aenter__(self) -> Self:
        await self.setup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
