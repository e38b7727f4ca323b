"""Store-wide checks for tools (``memora doctor``, import validation): part of ``Memora``'s API.

Nothing here returns another tenant's data: :meth:`StoreInspection.memory_ids_in_use` only says
which of the given (random uuid) ids are taken, which a restore must know before it writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments, require_memory_id
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["IndexStatus", "StoreInspection"]

_PAGE = 1000


@dataclass(frozen=True)
class IndexStatus:
    """How the vector index matches the graph store (the source of truth)."""

    memories: int
    indexed: int
    points: int

    @property
    def missing(self) -> int:
        """Memories without a vector (``memora reindex`` adds them)."""
        return self.memories - self.indexed

    @property
    def stray(self) -> int:
        """Vectors of no stored memory (harmless; searches never return them)."""
        return max(self.points - self.indexed, 0)


class StoreInspection:
    """Index consistency and memory-id availability.

    The base of :class:`~memora_engine.Memora`; see there for construction.

    Examples:
        >>> status = await memora.index_status()
        >>> status.missing, status.stray
        (0, 0)
        >>> await memora.memory_ids_in_use(["0b8f6a5e-3c1d-4e2f-9a7b-1c2d3e4f5a6b"])
        set()
    """

    graph_db: BaseGraphDB
    vector_db: BaseVectorDB

    @checked_arguments
    async def index_status(self) -> IndexStatus:
        """Count the graph's memories, those with a vector, and the vector index's points."""
        total = indexed = 0
        after: str | None = None
        while True:
            page = await self.graph_db.list_memories_for_indexing(
                after_memory_id=after, limit=_PAGE
            )
            if not page:
                break
            ids = [m.memory_id for m in page]
            indexed += len(await self.vector_db.existing_ids(ids))
            total += len(ids)
            after = ids[-1]
            if len(page) < _PAGE:
                break
        return IndexStatus(memories=total, indexed=indexed, points=await self.vector_db.count())

    @checked_arguments
    async def memory_ids_in_use(self, memory_ids: Sequence[str]) -> set[str]:
        """Which of ``memory_ids`` are already stored, in any tenant (memory ids double as
        vector point ids, so a restore cannot reuse one). Reveals nothing but the ids given.

        Raises:
            InvalidInputError: an id is not a memory id (uuid).
        """
        taken: set[str] = set()
        for memory_id in sorted({require_memory_id(m) for m in memory_ids}):
            # Keyset lookup: the first memory after the id's predecessor (as a 128-bit number;
            # canonical uuid strings sort like their numbers).
            number = uuid.UUID(memory_id).int
            before = str(uuid.UUID(int=number - 1)) if number else None
            page = await self.graph_db.list_memories_for_indexing(after_memory_id=before, limit=1)
            if page and page[0].memory_id == memory_id:
                taken.add(memory_id)
        return taken
