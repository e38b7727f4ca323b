"""Recovery of the vector index after a crash: re-index what is missing, drop known strays.

The write protocol (:class:`~memora_engine.coordinator.StoreCoordinator`) indexes vectors before
the graph commit, and deletes commit the graph before the vector delete. A crash can therefore only
leave *stray* points (in the index, not in the graph), never a graph memory without its point,
and strays are invisible because every search is resolved through the graph. Recovery restores
the exact equality anyway (strays take ranking slots; an index restored from an old backup may
miss points):

* every graph memory whose point is missing is indexed again;
* every given *stray candidate* (e.g. an unresolved search hit) that the graph does not hold is
  deleted from the index.

Run it only while no other writer uses the stores (the embedded stores hold an exclusive lock,
so right after opening them is safe): a write in flight has its points indexed but its graph
rows not yet committed, so it would look like a stray to a concurrent recovery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import require_memory_id
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB

__all__ = [
    "RecoveryReport",
    "indexed_form",
    "missing_from_index",
    "recover_vector_index",
    "strays_to_delete",
]


@dataclass(frozen=True)
class RecoveryReport:
    """What a recovery pass did.

    Attributes:
        checked: Graph memories whose points were checked.
        reindexed: Memory ids indexed again (their points were missing).
        deleted_strays: Stray point ids deleted (candidates the graph does not hold).
    """

    checked: int
    reindexed: tuple[str, ...]
    deleted_strays: tuple[str, ...]

    @property
    def repaired(self) -> bool:
        """Whether the pass changed anything."""
        return bool(self.reindexed or self.deleted_strays)


def missing_from_index(page: Sequence[Memory], indexed_ids: Set[str]) -> list[Memory]:
    """The memories of ``page`` whose points are not indexed (pure).

    Examples:
        >>> missing_from_index([], set())
        []
    """
    return [m for m in page if m.memory_id not in indexed_ids]


def strays_to_delete(candidates: Iterable[str], graph_ids: Set[str]) -> list[str]:
    """Canonical candidate ids the graph does not hold, deduplicated, in input order (pure).

    Examples:
        >>> strays_to_delete(["6f1c6a3e-0f55-4a8e-9a57-2b9d1a1c0b11"], set())
        ['6f1c6a3e-0f55-4a8e-9a57-2b9d1a1c0b11']
    """
    out: list[str] = []
    for candidate in candidates:
        memory_id = require_memory_id(candidate)
        if memory_id not in graph_ids and memory_id not in out:
            out.append(memory_id)
    return out


async def recover_vector_index(
    graph: BaseGraphDB,
    vector_db: BaseVectorDB,
    *,
    org_id: str | None = None,
    stray_candidates: Iterable[str] = (),
    page_size: int = 500,
) -> RecoveryReport:
    """Make the vector index hold exactly the graph's memories (see the module docstring).

    Args:
        graph: The graph store (the source of truth).
        vector_db: Its vector index.
        org_id: Limit the pass to one organization (``None``: all).
        stray_candidates: Point ids that may be stray; those the graph lacks are deleted.
        page_size: Graph memories read per page.

    Returns:
        A :class:`RecoveryReport`.
    """
    checked = 0
    reindexed: list[str] = []
    graph_ids: set[str] = set()
    after: str | None = None
    while True:
        page = await graph.list_memories_for_indexing(
            org_id=org_id, after_memory_id=after, limit=page_size
        )
        if not page:
            break
        checked += len(page)
        graph_ids.update(m.memory_id for m in page)
        indexed = await vector_db.existing_ids([m.memory_id for m in page])
        missing = missing_from_index(page, indexed)
        if missing:
            await vector_db.upsert_memories(missing)
            reindexed.extend(m.memory_id for m in missing)
        after = page[-1].memory_id
        if len(page) < page_size:
            break
    strays = strays_to_delete(stray_candidates, graph_ids)
    if strays and org_id is not None:
        # Scoped pass: a candidate of another org is not ours to judge.
        strays = [s for s in strays if not await _held_elsewhere(graph, s)]
    if strays:
        strays = sorted(await vector_db.existing_ids(strays))
        await vector_db.delete_memories(strays)
    return RecoveryReport(checked, tuple(reindexed), tuple(strays))


async def indexed_form(graph: BaseGraphDB, memory: Memory) -> Memory:
    """``memory`` as the index must hold it: no sources, with its index text (one keyset probe
    of ``list_memories_for_indexing`` in the memory's own org). Pass a memory already read
    through a tenant-checked call."""
    page = await graph.list_memories_for_indexing(
        org_id=memory.org_id, after_memory_id=_predecessor(memory.memory_id), limit=1
    )
    plain = memory.model_copy(update={"message_sources": [], "index_text": None})
    if page and page[0].memory_id == memory.memory_id and page[0].user_id == memory.user_id:
        return plain.model_copy(update={"index_text": page[0].index_text})
    return plain


async def _held_elsewhere(graph: BaseGraphDB, memory_id: str) -> bool:
    """Whether some organization's graph holds ``memory_id`` (one keyset probe)."""
    page = await graph.list_memories_for_indexing(after_memory_id=_predecessor(memory_id), limit=1)
    return bool(page) and page[0].memory_id == memory_id


def _predecessor(memory_id: str) -> str | None:
    """A uuid just below ``memory_id`` in string order, or None (pure; for keyset probes)."""
    value = int(memory_id.replace("-", ""), 16)
    if value == 0:
        return None
    text = f"{value - 1:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
