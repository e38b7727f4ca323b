"""Fixtures and helpers shared by the graph conformance mixins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
)

__all__ = ["T0", "GraphSuiteBase", "World", "at", "dto", "make_world", "snapshot"]

#: A fixed, timezone-aware origin for every interaction date in the suite.
T0 = datetime(2024, 11, 3, 9, 30, 15, 250000, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    """``T0`` plus some minutes (distinct dates make "newest first" observable)."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class World:
    """One org with one user and one agent."""

    org_id: str
    user_id: str
    agent_id: str

    def ref(self, memory_id: str) -> dict[str, str]:
        """A search-hit dict for one of this user's memories."""
        return {"memory_id": memory_id, "org_id": self.org_id, "user_id": self.user_id}


async def make_world(
    db: BaseGraphDB, org_name: str = "Acme", user_name: str = "Jake", agent_label: str = "Helper"
) -> World:
    """Create an org, a user and an org-level agent."""
    org = await db.create_organization(org_name)
    user = await db.create_user(org.org_id, user_name)
    agent = await db.create_agent(org.org_id, agent_label)
    return World(org.org_id, user.user_id, agent.agent_id)


Message = str | tuple[str, str]
NewMem = str | tuple[str, Sequence[int]]


def dto(
    messages: Sequence[Message] = (),
    memories: Sequence[NewMem] = (),
    *,
    contrary: Sequence[tuple[str, Sequence[int], str]] = (),
    date: datetime = T0,
) -> MemoriesAndInteraction:
    """Build a write DTO. Bare message strings alternate user / assistant roles; a bare memory
    string has no sources; contrary items are ``(text, positions, contradicted_id)``."""
    blocks = [
        {"role": m[0], "content": m[1]}
        if isinstance(m, tuple)
        else {"role": "user" if i % 2 == 0 else "assistant", "content": m}
        for i, m in enumerate(messages)
    ]
    return MemoriesAndInteraction(
        interaction=blocks,  # type: ignore[arg-type]  # validated into MessageIn
        interaction_date=date,
        memories=[
            MemoryToStore(memory=m, source_msg_block_pos=[])
            if isinstance(m, str)
            else MemoryToStore(memory=m[0], source_msg_block_pos=list(m[1]))
            for m in memories
        ],
        contrary_memories=[
            ContraryMemoryToStore(
                memory=text, source_msg_block_pos=list(pos), existing_contrary_memory_id=old
            )
            for text, pos, old in contrary
        ],
    )


async def snapshot(db: BaseGraphDB) -> dict[str, Any]:
    """Everything readable through the public API, as plain data (to prove "nothing changed")."""
    state: dict[str, Any] = {}
    for org in await db.get_all_organizations():
        users = await db.get_all_org_users(org.org_id)
        per_user = {}
        for user in users:
            interactions = await db.get_all_user_interactions(
                org.org_id, user.user_id, limit=10_000
            )
            per_user[user.user_id] = {
                "user": user.model_dump(),
                "interactions": [i.model_dump() for i in interactions],
                "memories": [
                    m.model_dump()
                    for m in await db.get_all_user_memories(org.org_id, user.user_id, limit=10_000)
                ],
                "links": await db.get_user_memory_links(org.org_id, user.user_id),
                "agents": [
                    a.model_dump() for a in await db.get_all_user_agents(org.org_id, user.user_id)
                ],
            }
        state[org.org_id] = {
            "org": org.model_dump(),
            "agents": [a.model_dump() for a in await db.get_all_org_agents(org.org_id)],
            "users": per_user,
        }
    return state


class GraphSuiteBase:
    """Fixtures every mixin uses. The subclass overrides ``graph_db``."""

    @pytest.fixture
    async def graph_db(self) -> BaseGraphDB:
        """Yield an empty, set-up store (override this)."""
        raise NotImplementedError("Provide a `graph_db` fixture in the test class.")

    @pytest.fixture
    async def world(self, graph_db: BaseGraphDB) -> World:
        """An org "Acme" with user "Jake" and agent "Helper"."""
        return await make_world(graph_db)
