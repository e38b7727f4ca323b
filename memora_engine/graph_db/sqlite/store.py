"""``SqliteGraphDB``: the embedded graph store (one SQLite file, stdlib ``sqlite3``).

Input arrives validated (:class:`~memora_engine.graph_db.base.BaseGraphDB` checks it once);
each hook runs one read or one write transaction on the store's worker thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from memora_engine.errors import InvalidInputError
from memora_engine.filters import FilterNode, Metadata
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.graph_db.hooks import Deleted, InteractionWrite
from memora_engine.graph_db.sqlite import interactions as ix
from memora_engine.graph_db.sqlite import memories as mem
from memora_engine.graph_db.sqlite import tenants as ten
from memora_engine.graph_db.sqlite.connection import SqliteWorker
from memora_engine.graph_db.write_plan import NewMemory, WriteCheck
from memora_engine.schema.models import Agent, Interaction, Memory, Organization, User

__all__ = ["SqliteGraphDB"]

#: Search hits resolved on the caller's thread when the connection is idle (a few rows).
_SHORT_READ_HITS = 64


class SqliteGraphDB(BaseGraphDB):
    """Graph store in one SQLite file (WAL, foreign keys, one transaction per write).

    All work runs on one private worker thread that owns the connection, so any number of
    coroutines may share one store; several processes may share one file (writers wait up to
    ``busy_timeout_ms``, then get :class:`~memora_engine.errors.BackendUnavailableError`).

    Args:
        path: The database file (created if missing), or ``":memory:"`` for a private
            in-memory store.
        busy_timeout_ms: How long a write waits for another process's write lock.
        synchronous: SQLite's ``synchronous`` pragma; ``"FULL"`` (default) makes every
            acknowledged write survive a power loss, ``"NORMAL"`` survives a process crash only.

    Examples:
        >>> async with SqliteGraphDB("memora.db") as graph:  # doctest: +SKIP
        ...     org = await graph.create_organization("Acme")
        ...     user = await graph.create_user(org.org_id, "Jake")
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = 5000,
        synchronous: Literal["NORMAL", "FULL", "EXTRA"] = "FULL",
    ) -> None:
        if not isinstance(path, str | Path) or not str(path):
            raise InvalidInputError("path must be a file path or ':memory:'.")
        if isinstance(busy_timeout_ms, bool) or not isinstance(busy_timeout_ms, int):
            raise InvalidInputError("busy_timeout_ms must be an int.")
        if busy_timeout_ms < 0:
            raise InvalidInputError("busy_timeout_ms must be >= 0.")
        if synchronous not in ("NORMAL", "FULL", "EXTRA"):
            raise InvalidInputError("synchronous must be 'NORMAL', 'FULL' or 'EXTRA'.")
        self.path = str(path)
        self._worker = SqliteWorker(
            self.path, busy_timeout_ms=busy_timeout_ms, synchronous=synchronous
        )

    def __repr__(self) -> str:
        return f"SqliteGraphDB({self.path!r})"

    # ------------------------------------------------------------------ infrastructure
    async def setup(self) -> None:
        """Open the file and create the schema (idempotent; also done on first use)."""
        await self._worker.open()

    async def close(self) -> None:
        """Close the connection and its thread."""
        await self._worker.close()

    # ------------------------------------------------------------------ organization
    async def _create_organization(
        self, org_id: str, org_name: str, created_at: datetime
    ) -> Organization:
        return await self._worker.write(ten.insert_org, org_id, org_name, created_at)

    async def _update_organization(self, org_id: str, org_name: str) -> Organization:
        return await self._worker.write(ten.rename_org, org_id, org_name)

    async def _delete_organization(self, org_id: str) -> Deleted:
        return await self._worker.write(ten.delete_org, org_id)

    async def _get_organization(self, org_id: str) -> Organization:
        return await self._worker.read(ten.get_org, org_id)

    async def _get_all_organizations(self) -> list[Organization]:
        return await self._worker.read(ten.list_orgs)

    # ------------------------------------------------------------------ agent
    async def _create_agent(
        self,
        org_id: str,
        agent_id: str,
        agent_label: str,
        user_id: str | None,
        created_at: datetime,
    ) -> Agent:
        return await self._worker.write(
            ten.insert_agent, org_id, agent_id, agent_label, user_id, created_at
        )

    async def _update_agent(self, org_id: str, agent_id: str, agent_label: str) -> Agent:
        return await self._worker.write(ten.rename_agent, org_id, agent_id, agent_label)

    async def _delete_agent(self, org_id: str, agent_id: str) -> Deleted:
        return await self._worker.write(_delete_agent_row, org_id, agent_id)

    async def _get_agent(self, org_id: str, agent_id: str) -> Agent:
        return await self._worker.read(ten.get_agent, org_id, agent_id)

    async def _get_all_org_agents(self, org_id: str) -> list[Agent]:
        return await self._worker.read(ten.list_org_agents, org_id)

    async def _get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        return await self._worker.read(ten.list_user_agents, org_id, user_id)

    # ------------------------------------------------------------------ user
    async def _create_user(
        self, org_id: str, user_id: str, user_name: str, created_at: datetime
    ) -> User:
        return await self._worker.write(ten.insert_user, org_id, user_id, user_name, created_at)

    async def _update_user(self, org_id: str, user_id: str, user_name: str) -> User:
        return await self._worker.write(ten.rename_user, org_id, user_id, user_name)

    async def _delete_user(self, org_id: str, user_id: str) -> Deleted:
        return await self._worker.write(ten.delete_user, org_id, user_id)

    async def _get_user(self, org_id: str, user_id: str) -> User:
        return await self._worker.read(ten.get_user, org_id, user_id)

    async def _get_all_org_users(self, org_id: str) -> list[User]:
        return await self._worker.read(ten.list_org_users, org_id)

    # ------------------------------------------------------------------ interaction
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
        return await self._worker.read(
            ix.check_write, org_id, user_id, agent_id, interaction_id, planned, new=new
        )

    async def _commit_interaction_write(self, write: InteractionWrite) -> None:
        body = ix.save_interaction if write.new else ix.update_interaction
        await self._worker.write(
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
        return await self._worker.read(
            ix.get_interaction, org_id, user_id, interaction_id,
            with_messages=with_messages, with_memories=with_memories,
            resolve_names=resolve_names,
        )  # fmt: skip

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
        return await self._worker.read(
            ix.list_interactions, org_id, user_id,
            with_messages=with_messages, with_memories=with_memories,
            skip=skip, limit=limit, resolve_names=resolve_names,
        )  # fmt: skip

    async def _delete_user_interaction(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> Deleted:
        return await self._worker.write(ix.delete_interaction, org_id, user_id, interaction_id)

    async def _delete_all_user_interactions(self, org_id: str, user_id: str) -> Deleted:
        return await self._worker.write(ix.delete_all_interactions, org_id, user_id)

    # ------------------------------------------------------------------ memory
    async def _fetch_user_memories_resolved_batch(
        self, batch: list[list[tuple[str, str, str]]]
    ) -> list[list[Memory]]:
        if sum(len(hits) for hits in batch) <= _SHORT_READ_HITS:
            return await self._worker.read_short(mem.resolve_batch, batch)
        return await self._worker.read(mem.resolve_batch, batch)

    async def _get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool
    ) -> Memory:
        return await self._worker.read(
            mem.get_memory, org_id, user_id, memory_id, resolve_names=resolve_names
        )

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
        return await self._worker.read(
            _user_memories, org_id, user_id, agent_id, skip, limit, resolve_names, filter
        )

    async def _update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Metadata
    ) -> Memory:
        return await self._worker.write(mem.update_metadata, org_id, user_id, memory_id, metadata)

    async def _delete_user_memories(
        self, org_id: str, user_id: str, memory_ids: tuple[str, ...]
    ) -> Deleted:
        return await self._worker.write(mem.delete_some_memories, org_id, user_id, memory_ids)

    async def _get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        return await self._worker.read(mem.history, org_id, user_id, memory_id)

    async def _get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        return await self._worker.read(_user_links, org_id, user_id)

    async def _list_memories_for_indexing(
        self, org_id: str | None, after_memory_id: str, limit: int
    ) -> list[Memory]:
        return await self._worker.read(mem.list_for_indexing, org_id, after_memory_id, limit)

    async def _count_memories(self, org_id: str | None) -> int:
        return await self._worker.read(mem.count_memories, org_id)

    async def _delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> Deleted:
        return await self._worker.write(mem.delete_memory, org_id, user_id, memory_id)

    async def _delete_all_user_memories(self, org_id: str, user_id: str) -> Deleted:
        return await self._worker.write(mem.delete_user_memories, org_id, user_id)


def _delete_agent_row(conn: sqlite3.Connection, org_id: str, agent_id: str) -> Deleted:
    cursor = conn.execute(
        "DELETE FROM agents WHERE org_id = ? AND agent_id = ?", (org_id, agent_id)
    )
    return Deleted(found=cursor.rowcount > 0)


def _user_memories(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
    resolve_names: bool,
    filter: FilterNode | None,
) -> list[Memory]:
    ten.require_user(conn, org_id, user_id)
    return mem.list_user_memories(
        conn, org_id, user_id, agent_id, skip, limit, resolve_names=resolve_names, filter=filter
    )


def _user_links(conn: sqlite3.Connection, org_id: str, user_id: str) -> list[tuple[str, str]]:
    ten.require_user(conn, org_id, user_id)
    return mem.links_of_user(conn, org_id, user_id)
