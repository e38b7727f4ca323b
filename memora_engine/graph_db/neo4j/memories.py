"""Memories on Neo4j: resolve search hits, read, history, links, indexing pages, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memora_engine.errors import MemoryNotFoundError
from memora_engine.filters import FilterNode, Metadata, matches, memory_record
from memora_engine.graph_db.hooks import Deleted
from memora_engine.graph_db.neo4j import cypher, cypher_edits
from memora_engine.graph_db.neo4j.core import Neo4jCore, fetch, fetch_one, lookup_names
from memora_engine.graph_db.neo4j.interactions import delete_memories
from memora_engine.graph_db.neo4j.mapping import (
    Row,
    assemble_resolved,
    encode_metadata,
    newest_first,
    to_memory,
    user_key,
)
from memora_engine.graph_db.neo4j.tenants import require_user
from memora_engine.schema.models import Memory

if TYPE_CHECKING:
    from neo4j import AsyncManagedTransaction

__all__ = ["Neo4jMemories"]

Hit = tuple[str, str, str]
#: Memories read per page while a filter is evaluated in Python.
_SCAN_PAGE = 1000


# ---------------------------------------------------------------------- transaction bodies
async def _resolve(
    tx: AsyncManagedTransaction, batch: Sequence[Sequence[Hit]]
) -> list[list[Memory]]:
    unique = list(dict.fromkeys(hit for hits in batch for hit in hits))
    hits = [{"org_id": org, "user_id": user, "memory_id": mid} for org, user, mid in unique]
    rows = await fetch(tx, cypher.RESOLVE_HITS, hits=hits)
    names = await lookup_names(tx, [row["memory"] for row in rows])
    return assemble_resolved(batch, rows, names)


async def _get(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_id: str, resolve_names: bool
) -> Memory:
    row = await fetch_one(
        tx, cypher.GET_MEMORY, memory_id=memory_id, org_id=org_id, user_id=user_id
    )
    if row is None:
        raise MemoryNotFoundError(org_id=org_id, user_id=user_id, memory_id=memory_id)
    names = await lookup_names(tx, [row["memory"]]) if resolve_names else {}
    return to_memory(row["memory"], names)


async def _list(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
    resolve_names: bool,
    filter: FilterNode | None,
) -> list[Memory]:
    if filter is None:
        found = await _page(tx, org_id, user_id, agent_id, skip, limit)
    else:
        found = await _filtered(tx, org_id, user_id, agent_id, skip, limit, filter)
    if not found:
        await require_user(tx, org_id, user_id)
        return []
    names = await lookup_names(tx, found) if resolve_names else {}
    return newest_first(to_memory(row, names) for row in found)


async def _page(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
) -> list[Row]:
    rows = await fetch(
        tx,
        cypher.LIST_USER_MEMORIES,
        org_user_id=user_key(org_id, user_id),
        agent_id=agent_id,
        skip=skip,
        limit=limit,
    )
    return [row["memory"] for row in rows]


async def _filtered(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
    filter: FilterNode,
) -> list[Row]:
    """Evaluate ``filter`` with :func:`memora_engine.filters.matches` over the user's memories
    read newest first in pages: exact semantics, cost linear in the memories scanned."""
    kept: list[Row] = []
    offset = 0
    while len(kept) < skip + limit:
        page = await _page(tx, org_id, user_id, agent_id, offset, _SCAN_PAGE)
        kept.extend(row for row in page if matches(filter, memory_record(to_memory(row, {}))))
        if len(page) < _SCAN_PAGE:
            break
        offset += _SCAN_PAGE
    return kept[skip : skip + limit]


async def _history(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_id: str
) -> list[Memory]:
    rows = await fetch(
        tx, cypher.MEMORY_HISTORY, memory_id=memory_id, org_id=org_id, user_id=user_id
    )
    if not rows:
        raise MemoryNotFoundError(org_id=org_id, user_id=user_id, memory_id=memory_id)
    found = [row["memory"] for row in rows]
    names = await lookup_names(tx, found)
    return newest_first(to_memory(row, names) for row in found)


async def _links(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> list[tuple[str, str]]:
    rows = await fetch(tx, cypher.USER_LINKS, org_user_id=user_key(org_id, user_id))
    if not rows:
        await require_user(tx, org_id, user_id)
    return [(row["older"], row["newer"]) for row in rows]


async def _for_indexing(
    tx: AsyncManagedTransaction, org_id: str | None, after: str, limit: int
) -> list[Memory]:
    if org_id is None:
        rows = await fetch(tx, cypher.LIST_FOR_INDEXING, after_memory_id=after, limit=limit)
    else:
        rows = await fetch(
            tx, cypher.LIST_ORG_FOR_INDEXING, org_id=org_id, after_memory_id=after, limit=limit
        )
    found = [row["memory"] for row in rows]
    names = await lookup_names(tx, found)
    return sorted((to_memory(row, names) for row in found), key=lambda m: m.memory_id)


async def _delete_one(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_id: str
) -> Deleted:
    row = await fetch_one(
        tx, cypher.GET_MEMORY, memory_id=memory_id, org_id=org_id, user_id=user_id
    )
    if row is None:
        return Deleted(found=False)
    await delete_memories(tx, org_id, user_id, [memory_id])
    return Deleted(found=True, memory_ids=(memory_id,))


async def _delete_all(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> Deleted:
    # Whole chains go, so there is nothing to re-link.
    key = user_key(org_id, user_id)
    row = await fetch_one(tx, cypher.USER_MEMORY_IDS, org_user_id=key)
    if row is None:
        return Deleted(found=False)
    await fetch(tx, cypher.DELETE_USER_MEMORIES, org_user_id=key)
    ids = tuple(row["memory_ids"])
    return Deleted(found=bool(ids), memory_ids=ids)


async def _set_metadata(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_id: str, metadata: Metadata
) -> Memory:
    row = await fetch_one(
        tx, cypher_edits.SET_MEMORY_METADATA, memory_id=memory_id, org_id=org_id, user_id=user_id,
        metadata=encode_metadata(metadata),
    )  # fmt: skip
    if row is None:
        raise MemoryNotFoundError(org_id=org_id, user_id=user_id, memory_id=memory_id)
    return await _get(tx, org_id, user_id, memory_id, True)


async def _delete_some(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_ids: tuple[str, ...]
) -> Deleted:
    rows = await fetch(
        tx,
        cypher_edits.USER_MEMORY_IDS_AMONG,
        memory_ids=list(memory_ids),
        org_id=org_id,
        user_id=user_id,
    )
    found = tuple(str(row["memory_id"]) for row in rows)
    await delete_memories(tx, org_id, user_id, found)
    return Deleted(found=bool(found), memory_ids=found)


async def _count(tx: AsyncManagedTransaction, org_id: str | None) -> int:
    if org_id is None:
        row = await fetch_one(tx, cypher.COUNT_MEMORIES)
    else:
        row = await fetch_one(tx, cypher.COUNT_ORG_MEMORIES, org_id=org_id)
    return int(row["memories"]) if row else 0


# ---------------------------------------------------------------------- backend hooks
class Neo4jMemories(Neo4jCore):
    """Memory hooks of :class:`Neo4jGraphInterface` (validated input)."""

    async def _fetch_user_memories_resolved_batch(
        self, batch: list[list[tuple[str, str, str]]]
    ) -> list[list[Memory]]:
        return await self._read(_resolve, batch)

    async def _get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool
    ) -> Memory:
        return await self._read(_get, org_id, user_id, memory_id, resolve_names)

    async def _get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None,
        *,
        skip: int,
        limit: int,
        resolve_names: bool,
        filter: FilterNode | None,
    ) -> list[Memory]:
        return await self._read(
            _list, org_id, user_id, agent_id, skip, limit, resolve_names, filter
        )

    async def _update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Metadata
    ) -> Memory:
        return await self._write(_set_metadata, org_id, user_id, memory_id, metadata)

    async def _delete_user_memories(
        self, org_id: str, user_id: str, memory_ids: tuple[str, ...]
    ) -> Deleted:
        return await self._write(_delete_some, org_id, user_id, memory_ids)

    async def _get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        return await self._read(_history, org_id, user_id, memory_id)

    async def _get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        return await self._read(_links, org_id, user_id)

    async def _list_memories_for_indexing(
        self, org_id: str | None, after_memory_id: str, limit: int
    ) -> list[Memory]:
        return await self._read(_for_indexing, org_id, after_memory_id, limit)

    async def _count_memories(self, org_id: str | None) -> int:
        return await self._read(_count, org_id)

    async def _delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> Deleted:
        return await self._write(_delete_one, org_id, user_id, memory_id)

    async def _delete_all_user_memories(self, org_id: str, user_id: str) -> Deleted:
        return await self._write(_delete_all, org_id, user_id)
