"""Interactions and their messages on Neo4j: save, diff-update, read, list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memora_engine.errors import InteractionNotFoundError, UserNotFoundError
from memora_engine.filters import Metadata
from memora_engine.graph_db.hooks import Deleted, InteractionWrite
from memora_engine.graph_db.neo4j import cypher, cypher_edits
from memora_engine.graph_db.neo4j.core import Neo4jCore, fetch, fetch_one, lookup_names
from memora_engine.graph_db.neo4j.mapping import (
    agent_key,
    check_write,
    decode_metadata,
    interaction_key,
    link_params,
    memory_params,
    message_params,
    plan_update,
    relink,
    source_params,
    to_interaction,
    user_key,
)
from memora_engine.graph_db.neo4j.tenants import require_user
from memora_engine.graph_db.write_plan import Names, NewMemory, WriteCheck, inherit_metadata
from memora_engine.schema.models import Interaction

if TYPE_CHECKING:
    from neo4j import AsyncManagedTransaction

__all__ = ["Neo4jInteractions", "delete_memories"]

Messages = Sequence[tuple[str, str]]


# ---------------------------------------------------------------------- shared write steps
async def _check(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    planned: Sequence[NewMemory],
    *,
    new: bool,
) -> frozenset[str]:
    """Owners, interaction and preset ids; returns the contradicted ids that may be linked."""
    row = await fetch_one(
        tx,
        cypher.CHECK_WRITE,
        org_id=org_id,
        user_id=user_id,
        org_user_id=user_key(org_id, user_id),
        org_agent_id=agent_key(org_id, agent_id),
        org_user_interaction_id=interaction_key(org_id, user_id, interaction_id),
        memory_ids=[m.memory_id for m in planned],
        contradicted_ids=sorted({m.contradicts for m in planned if m.contradicts}),
    )
    return check_write(
        row,
        org_id=org_id,
        user_id=user_id,
        agent_id=agent_id,
        interaction_id=interaction_id,
        new=new,
    )


async def _check_and_names(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    planned: Sequence[NewMemory],
    new: bool,
) -> WriteCheck:
    """The pre-check before indexing vectors: same checks, plus the names to resolve and the
    metadata contrary memories inherit."""
    await _check(tx, org_id, user_id, agent_id, interaction_id, planned, new=new)
    rows = [{"org_id": org_id, "memory": m.text} for m in planned]
    names = (await lookup_names(tx, rows)).get(org_id, Names(users={}, agents={}))
    return WriteCheck(names, await _inherited(tx, org_id, user_id, planned))


async def _inherited(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, planned: Sequence[NewMemory]
) -> dict[str, Metadata]:
    """Metadata of this user's memories that planned memories without metadata replace."""
    wanted = sorted({m.contradicts for m in planned if m.contradicts and m.metadata is None})
    if not wanted:
        return {}
    rows = await fetch(
        tx, cypher_edits.CONTRADICTED_METADATA, memory_ids=wanted, org_id=org_id, user_id=user_id
    )
    return {row["memory_id"]: decode_metadata(row["metadata"]) for row in rows}


async def _add_memories(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    interaction_id: str,
    planned: Sequence[NewMemory],
    linkable: frozenset[str],
) -> None:
    if not planned:
        return
    planned = inherit_metadata(planned, await _inherited(tx, org_id, user_id, planned))
    where: dict[str, Any] = {
        "org_user_id": user_key(org_id, user_id),
        "interaction_id": interaction_id,
    }
    await fetch(
        tx,
        cypher.ADD_MEMORIES,
        **where,
        memories=memory_params(planned),
        org_id=org_id,
        user_id=user_id,
    )
    sources = source_params(planned)
    if sources:
        await fetch(tx, cypher.LINK_MESSAGE_SOURCES, **where, sources=sources)
    links = link_params(planned, linkable)
    if links:
        await fetch(tx, cypher.LINK_VERSIONS, org_user_id=where["org_user_id"], links=links)


async def _add_messages(
    tx: AsyncManagedTransaction,
    org_user_id: str,
    interaction_id: str,
    messages: Messages,
    positions: range,
) -> None:
    if len(positions):
        await fetch(
            tx,
            cypher.ADD_MESSAGES,
            org_user_id=org_user_id,
            interaction_id=interaction_id,
            messages=message_params(messages, positions),
        )


async def delete_memories(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, memory_ids: Sequence[str]
) -> None:
    """Delete memories of one user, re-linking history chains around them first."""
    if not memory_ids:
        return
    ids = list(memory_ids)
    links = await fetch(tx, cypher.LINKS_TOUCHING, memory_ids=ids, org_id=org_id, user_id=user_id)
    bridges = relink([(row["older"], row["newer"]) for row in links], ids)
    if bridges:
        await fetch(tx, cypher.LINK_VERSIONS, org_user_id=user_key(org_id, user_id), links=bridges)
    await fetch(tx, cypher.DELETE_MEMORIES, memory_ids=ids, org_id=org_id, user_id=user_id)


# ---------------------------------------------------------------------- transaction bodies
async def _save(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    date: datetime,
    messages: Messages,
    planned: Sequence[NewMemory],
) -> None:
    linkable = await _check(tx, org_id, user_id, agent_id, interaction_id, planned, new=True)
    org_user_id = user_key(org_id, user_id)
    created = await fetch_one(
        tx,
        cypher.CREATE_INTERACTION,
        org_user_id=org_user_id,
        org_id=org_id,
        user_id=user_id,
        interaction_id=interaction_id,
        org_user_interaction_id=interaction_key(org_id, user_id, interaction_id),
        agent_id=agent_id,
        interaction_date=date,
    )
    if created is None:  # the user vanished after the check
        raise UserNotFoundError(org_id=org_id, user_id=user_id)
    await _add_messages(tx, org_user_id, interaction_id, messages, range(len(messages)))
    await _add_memories(tx, org_id, user_id, interaction_id, planned, linkable)


async def _update(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    date: datetime,
    messages: Messages,
    planned: Sequence[NewMemory],
) -> None:
    """Diff the stored messages into ``messages``, add the memories, stamp time and agent.

    TOUCH_INTERACTION write-locks the interaction before its messages are read, so concurrent
    updates of one interaction serialize instead of racing.
    """
    linkable = await _check(tx, org_id, user_id, agent_id, interaction_id, planned, new=False)
    org_user_id = user_key(org_id, user_id)
    where = {"org_user_id": org_user_id, "interaction_id": interaction_id}
    touched = await fetch_one(
        tx, cypher.TOUCH_INTERACTION, **where, interaction_date=date, agent_id=agent_id
    )
    if touched is None:  # deleted after the check
        raise InteractionNotFoundError(
            org_id=org_id, user_id=user_id, interaction_id=interaction_id
        )
    diff = plan_update(touched["messages"], messages)
    if diff.truncate_from is not None:
        # DETACH DELETE drops MESSAGE_SOURCE links: truncated memories stay, without sources.
        await fetch(tx, cypher.TRUNCATE_MESSAGES, **where, from_position=diff.truncate_from)
    await _add_messages(
        tx, org_user_id, interaction_id, messages, diff.appended_positions(len(messages))
    )
    await _add_memories(tx, org_id, user_id, interaction_id, planned, linkable)


async def _get(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    interaction_id: str,
    with_messages: bool,
    with_memories: bool,
    resolve_names: bool,
) -> Interaction:
    row = await fetch_one(
        tx,
        cypher.GET_INTERACTION,
        org_user_id=user_key(org_id, user_id),
        interaction_id=interaction_id,
        with_messages=with_messages,
        with_memories=with_memories,
    )
    if row is None:
        raise InteractionNotFoundError(
            org_id=org_id, user_id=user_id, interaction_id=interaction_id
        )
    names = await lookup_names(tx, row["memories"]) if resolve_names else {}
    return to_interaction(row, names)


async def _list(
    tx: AsyncManagedTransaction,
    org_id: str,
    user_id: str,
    with_messages: bool,
    with_memories: bool,
    skip: int,
    limit: int,
    resolve_names: bool,
) -> list[Interaction]:
    rows = await fetch(
        tx,
        cypher.LIST_USER_INTERACTIONS,
        org_user_id=user_key(org_id, user_id),
        skip=skip,
        limit=limit,
        with_messages=with_messages,
        with_memories=with_memories,
    )
    if not rows:
        await require_user(tx, org_id, user_id)
        return []
    names = (
        await lookup_names(tx, [m for row in rows for m in row["memories"]])
        if resolve_names
        else {}
    )
    found = [to_interaction(row, names) for row in rows]
    return sorted(found, key=lambda i: (i.updated_at, i.interaction_id), reverse=True)


async def _delete(
    tx: AsyncManagedTransaction, org_id: str, user_id: str, interaction_id: str
) -> Deleted:
    where = {"org_user_id": user_key(org_id, user_id), "interaction_id": interaction_id}
    row = await fetch_one(tx, cypher.INTERACTION_MEMORY_IDS, **where)
    if row is None:
        return Deleted(found=False)
    memory_ids: list[str] = list(row["memory_ids"])
    await delete_memories(tx, org_id, user_id, memory_ids)
    await fetch(tx, cypher.DELETE_INTERACTION, **where)
    return Deleted(found=True, memory_ids=tuple(memory_ids))


async def _delete_all(tx: AsyncManagedTransaction, org_id: str, user_id: str) -> Deleted:
    # Every memory comes from an interaction, so whole chains go: nothing to re-link.
    key = user_key(org_id, user_id)
    row = await fetch_one(tx, cypher.USER_MEMORY_IDS, org_user_id=key)
    if row is None:
        return Deleted(found=False)
    count = await fetch_one(tx, cypher.USER_INTERACTION_COUNT, org_user_id=key)
    for step in cypher.DELETE_USER_HISTORY_STEPS:
        await fetch(tx, step, org_user_id=key)
    ids = tuple(row["memory_ids"])
    return Deleted(found=bool(ids) or bool(count and count["interactions"]), memory_ids=ids)


# ---------------------------------------------------------------------- backend hooks
class Neo4jInteractions(Neo4jCore):
    """Interaction hooks of :class:`Neo4jGraphInterface` (validated input)."""

    async def _check_interaction_write(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction_id: str,
        planned: Sequence[NewMemory],
        *,
        new: bool,
    ) -> WriteCheck:
        return await self._read(
            _check_and_names, org_id, user_id, agent_id, interaction_id, planned, new
        )

    async def _commit_interaction_write(self, write: InteractionWrite) -> None:
        body = _save if write.new else _update
        await self._write(
            body, write.org_id, write.user_id, write.agent_id, write.interaction_id,
            write.date, write.messages, write.planned,
        )  # fmt: skip

    async def _get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        *,
        with_messages: bool,
        with_memories: bool,
        resolve_names: bool,
    ) -> Interaction:
        return await self._read(
            _get, org_id, user_id, interaction_id, with_messages, with_memories, resolve_names
        )

    async def _get_all_user_interactions(
        self,
        org_id: str,
        user_id: str,
        *,
        with_messages: bool,
        with_memories: bool,
        skip: int,
        limit: int,
        resolve_names: bool,
    ) -> list[Interaction]:
        return await self._read(
            _list, org_id, user_id, with_messages, with_memories, skip, limit, resolve_names
        )

    async def _delete_user_interaction(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> Deleted:
        return await self._write(_delete, org_id, user_id, interaction_id)

    async def _delete_all_user_interactions(self, org_id: str, user_id: str) -> Deleted:
        return await self._write(_delete_all, org_id, user_id)
