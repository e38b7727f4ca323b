"""``SqliteGraphDB``: the embedded graph store (one SQLite file, stdlib ``sqlite3``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal

from memora_engine.errors import InvalidInputError
from memora_engine.graph_db.base import BaseGraphDB, MemoryRef
from memora_engine.graph_db.checks import (
    check_flag,
    check_name,
    check_page,
    check_refs,
    checked_write,
    creation_time,
    optional_id,
    owner_ids,
)
from memora_engine.graph_db.sqlite import interactions as ix
from memora_engine.graph_db.sqlite import memories as mem
from memora_engine.graph_db.sqlite import tenants as ten
from memora_engine.graph_db.sqlite.connection import SqliteWorker
from memora_engine.graph_db.write_plan import NewMemory, plan_memories
from memora_engine.ids import new_short_id, require_id, require_memory_id
from memora_engine.schema.models import Agent, Interaction, Memory, Organization, User
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["SqliteGraphDB"]


class SqliteGraphDB(BaseGraphDB):
    """Graph store in one SQLite file (WAL, foreign keys, one transaction per write).

    All work runs on one private worker thread that owns the connection, so any number of
    coroutines may share one store; several processes may share one file (writers wait up to
    ``busy_timeout_ms``, then get :class:`~memora_engine.errors.BackendUnavailableError`).

    Args:
        path: The database file (created if missing), or ``":memory:"`` for a private
            in-memory store.
        associated_vector_db: The vector store that writes index into and deletes cascade to.
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
        associated_vector_db: BaseVectorDB | None = None,
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
        self.associated_vector_db = associated_vector_db
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
        """Close the connection and its thread; the associated vector store is not closed."""
        await self._worker.close()

    # ------------------------------------------------------------------ organization
    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        name = check_name(org_name, "org_name")
        oid = new_short_id() if org_id is None else require_id(org_id, "org_id")
        when = creation_time(created_at)
        return await self._worker.write(ten.insert_org, oid, name, when)

    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        oid, name = require_id(org_id, "org_id"), check_name(new_org_name, "new_org_name")
        return await self._worker.write(ten.rename_org, oid, name)

    async def delete_organization(self, org_id: str) -> None:
        oid = require_id(org_id, "org_id")
        await self._worker.write(ten.delete_org, oid)
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_organization_memories(oid)

    async def get_organization(self, org_id: str) -> Organization:
        return await self._worker.read(ten.get_org, require_id(org_id, "org_id"))

    async def get_all_organizations(self) -> list[Organization]:
        return await self._worker.read(ten.list_orgs)

    # ------------------------------------------------------------------ agent
    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        oid, label = require_id(org_id, "org_id"), check_name(agent_label, "agent_label")
        uid = optional_id(user_id, "user_id")
        aid = new_short_id() if agent_id is None else require_id(agent_id, "agent_id")
        when = creation_time(created_at)
        return await self._worker.write(ten.insert_agent, oid, aid, label, uid, when)

    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        label = check_name(new_agent_label, "new_agent_label")
        return await self._worker.write(ten.rename_agent, oid, aid, label)

    async def delete_agent(self, org_id: str, agent_id: str) -> None:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        await self._worker.write(_delete_agent_row, oid, aid)

    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        oid, aid = require_id(org_id, "org_id"), require_id(agent_id, "agent_id")
        return await self._worker.read(ten.get_agent, oid, aid)

    async def get_all_org_agents(self, org_id: str) -> list[Agent]:
        return await self._worker.read(ten.list_org_agents, require_id(org_id, "org_id"))

    async def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._worker.read(ten.list_user_agents, oid, uid)

    # ------------------------------------------------------------------ user
    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        oid, name = require_id(org_id, "org_id"), check_name(user_name, "user_name")
        uid = new_short_id() if user_id is None else require_id(user_id, "user_id")
        when = creation_time(created_at)
        return await self._worker.write(ten.insert_user, oid, uid, name, when)

    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        name = check_name(new_user_name, "new_user_name")
        return await self._worker.write(ten.rename_user, oid, uid, name)

    async def delete_user(self, org_id: str, user_id: str) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        await self._worker.write(ten.delete_user, oid, uid)
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_user_memories(oid, uid)

    async def get_user(self, org_id: str, user_id: str) -> User:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._worker.read(ten.get_user, oid, uid)

    async def get_all_org_users(self, org_id: str) -> list[User]:
        return await self._worker.read(ten.list_org_users, require_id(org_id, "org_id"))

    # ------------------------------------------------------------------ interaction
    async def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        oid, aid, uid = owner_ids(org_id, agent_id, user_id)
        iid = (
            new_short_id()
            if interaction_id is None
            else require_id(interaction_id, "interaction_id")
        )
        data = checked_write(memories_and_interaction)
        planned = plan_memories(data, aid)
        messages = [(m.role, m.content) for m in data.interaction]
        date = data.interaction_date

        write = partial(
            self._worker.write, ix.save_interaction, oid, uid, aid, iid, date, messages, planned
        )
        await self._write_planned(oid, uid, aid, iid, planned, write, new=True)
        return iid, date

    async def update_interaction_and_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        interaction_id: str,
        updated_memories_and_interaction: MemoriesAndInteraction,
    ) -> tuple[str, datetime]:
        oid, aid, uid = owner_ids(org_id, agent_id, user_id)
        iid = require_id(interaction_id, "interaction_id")
        data = checked_write(updated_memories_and_interaction)
        planned = plan_memories(data, aid)
        messages = [(m.role, m.content) for m in data.interaction]
        date = data.interaction_date

        write = partial(
            self._worker.write, ix.update_interaction, oid, uid, aid, iid, date, messages, planned
        )
        await self._write_planned(oid, uid, aid, iid, planned, write, new=False)
        return iid, date

    async def get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        with_messages: bool = True,
        with_memories: bool = True,
        *,
        resolve_names: bool = True,
    ) -> Interaction:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        iid = require_id(interaction_id, "interaction_id")
        return await self._worker.read(
            ix.get_interaction,
            oid,
            uid,
            iid,
            with_messages=check_flag(with_messages, "with_messages"),
            with_memories=check_flag(with_memories, "with_memories"),
            resolve_names=check_flag(resolve_names, "resolve_names"),
        )

    async def get_all_user_interactions(
        self,
        org_id: str,
        user_id: str,
        with_their_messages: bool = True,
        with_their_memories: bool = True,
        skip: int = 0,
        limit: int = 100,
        *,
        resolve_names: bool = True,
    ) -> list[Interaction]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        skip, limit = check_page(skip, limit)
        return await self._worker.read(
            ix.list_interactions,
            oid,
            uid,
            with_messages=check_flag(with_their_messages, "with_their_messages"),
            with_memories=check_flag(with_their_memories, "with_their_memories"),
            skip=skip,
            limit=limit,
            resolve_names=check_flag(resolve_names, "resolve_names"),
        )

    async def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        iid = require_id(interaction_id, "interaction_id")
        deleted = await self._worker.write(ix.delete_interaction, oid, uid, iid)
        await self._delete_vectors(deleted)

    async def delete_all_user_interactions_and_their_memories(
        self, org_id: str, user_id: str
    ) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        await self._worker.write(ix.delete_all_interactions, oid, uid)
        # Every memory comes from an interaction, so all of the user's points go.
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_user_memories(oid, uid)

    # ------------------------------------------------------------------ memory
    async def fetch_user_memories_resolved_batch(
        self, batch_org_user_mem_ids: Sequence[Sequence[MemoryRef]]
    ) -> list[list[Memory]]:
        batch = check_refs(batch_org_user_mem_ids)
        if not any(batch):
            return [[] for _ in batch]
        return await self._worker.read(mem.resolve_batch, batch)

    async def get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        mid = require_memory_id(memory_id)
        resolve = check_flag(resolve_names, "resolve_names")
        return await self._worker.read(mem.get_memory, oid, uid, mid, resolve_names=resolve)

    async def get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None = None,
        skip: int = 0,
        limit: int = 1000,
        *,
        resolve_names: bool = True,
    ) -> list[Memory]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        aid = optional_id(agent_id, "agent_id")
        skip, limit = check_page(skip, limit)
        resolve = check_flag(resolve_names, "resolve_names")
        return await self._worker.read(_user_memories, oid, uid, aid, skip, limit, resolve)

    async def get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._worker.read(mem.history, oid, uid, require_memory_id(memory_id))

    async def get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        return await self._worker.read(_user_links, oid, uid)

    async def list_memories_for_indexing(
        self, *, org_id: str | None = None, after_memory_id: str | None = None, limit: int = 1000
    ) -> list[Memory]:
        oid = optional_id(org_id, "org_id")
        after = "" if after_memory_id is None else require_memory_id(after_memory_id)
        _, limit = check_page(0, limit)
        return await self._worker.read(mem.list_for_indexing, oid, after, limit)

    async def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        deleted = await self._worker.write(
            mem.delete_memory, oid, uid, require_memory_id(memory_id)
        )
        await self._delete_vectors(deleted)

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        oid, uid = require_id(org_id, "org_id"), require_id(user_id, "user_id")
        await self._worker.write(mem.delete_user_memories, oid, uid)
        if self.associated_vector_db is not None:
            await self.associated_vector_db.delete_all_user_memories(oid, uid)

    # ------------------------------------------------------------------ write helper
    async def _write_planned(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction_id: str,
        planned: list[NewMemory],
        write: Callable[[], Awaitable[None]],
        *,
        new: bool,
    ) -> None:
        """Check, index the resolved memories, then run the graph transaction (re-checked)."""
        if self.associated_vector_db is None or not planned:
            await write()
            return
        names = await self._worker.read(
            ix.check_write, org_id, user_id, agent_id, interaction_id, planned, new=new
        )
        to_index = [m.to_memory(org_id, user_id, interaction_id, names) for m in planned]
        await self._write_with_vectors(to_index, write)


def _delete_agent_row(conn: sqlite3.Connection, org_id: str, agent_id: str) -> None:
    conn.execute("DELETE FROM agents WHERE org_id = ? AND agent_id = ?", (org_id, agent_id))


def _user_memories(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
    resolve_names: bool,
) -> list[Memory]:
    ten.require_user(conn, org_id, user_id)
    return mem.list_user_memories(
        conn, org_id, user_id, agent_id, skip, limit, resolve_names=resolve_names
    )


def _user_links(conn: sqlite3.Connection, org_id: str, user_id: str) -> list[tuple[str, str]]:
    ten.require_user(conn, org_id, user_id)
    return mem.links_of_user(conn, org_id, user_id)
