"""Tenant isolation: two orgs / two users with the same names and texts never meet."""

from __future__ import annotations

import pytest

from memora_engine.errors import (
    AgentNotFoundError,
    InteractionNotFoundError,
    MemoryNotFoundError,
    UserNotFoundError,
)
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, dto, snapshot

__all__ = ["IsolationTests"]

_TEXT = "user_u1 likes green tea"


async def _twin(db: BaseGraphDB, org_id: str) -> tuple[World, str, str]:
    """Org ``org_id`` with user "u1" (Jake) and agent "a1" (Helper), one interaction and one
    memory with the same text everywhere; returns (world, interaction_id, memory_id)."""
    await db.create_organization("Acme", org_id=org_id)
    await db.create_user(org_id, "Jake", user_id="u1")
    await db.create_agent(org_id, "Helper", agent_id="a1")
    world = World(org_id, "u1", "a1")
    ix_id, _ = await db.save_interaction_with_memories(
        org_id, "a1", "u1", dto(["I like green tea"], [(_TEXT, [0])]), interaction_id="chat"
    )
    memory_id = (await db.get_interaction(org_id, "u1", ix_id)).memories[0].memory_id
    return world, ix_id, memory_id


class IsolationTests(GraphSuiteBase):
    """Tenancy."""

    async def test_same_ids_in_two_orgs_stay_separate(self, graph_db: BaseGraphDB) -> None:
        """If this fails, check every query filters by org_id (and user_id)."""
        a, ix_a, mem_a = await _twin(graph_db, "org-a")
        b, ix_b, mem_b = await _twin(graph_db, "org-b")
        assert mem_a != mem_b
        await graph_db.update_user("org-b", "u1", "Bob")
        assert [m.memory for m in await graph_db.get_all_user_memories("org-a", "u1")] == [
            "Jake likes green tea"
        ]
        assert [m.memory_id for m in await graph_db.get_all_user_memories("org-b", "u1")] == [mem_b]
        assert (await graph_db.get_user_memory("org-b", "u1", mem_b)).memory == (
            "Bob likes green tea"
        )
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory("org-b", "u1", mem_a)
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory_history("org-b", "u1", mem_a)
        resolved = await graph_db.fetch_user_memories_resolved_batch(
            [[b.ref(mem_a), a.ref(mem_b)], [a.ref(mem_a)]]
        )
        assert [[m.memory_id for m in group] for group in resolved] == [[], [mem_a]]
        indexed = await graph_db.list_memories_for_indexing(org_id="org-a")
        assert [m.memory_id for m in indexed] == [mem_a]
        await graph_db.delete_organization("org-b")
        assert [m.memory_id for m in await graph_db.get_all_user_memories("org-a", "u1")] == [mem_a]
        assert (await graph_db.get_interaction("org-a", "u1", ix_a)).interaction_id == ix_b

    async def test_other_users_ids_are_not_found_and_not_touched(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check interaction and memory ids are looked up within their user."""
        mary = await graph_db.create_user(world.org_id, "Jake")  # same name, other user
        marys = World(world.org_id, mary.user_id, world.agent_id)
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["secret"], [("secret fact", [0])])
        )
        (memory,) = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        before = await snapshot(graph_db)
        with pytest.raises(InteractionNotFoundError):
            await graph_db.get_interaction(world.org_id, mary.user_id, ix_id)
        with pytest.raises(InteractionNotFoundError):
            await graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, mary.user_id, ix_id, dto(["overwrite"], ["x"])
            )
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory(world.org_id, mary.user_id, memory.memory_id)
        assert await graph_db.fetch_user_memories_resolved([marys.ref(memory.memory_id)]) == []
        await graph_db.delete_user_memory(world.org_id, mary.user_id, memory.memory_id)
        await graph_db.delete_user_interaction_and_its_memories(world.org_id, mary.user_id, ix_id)
        await graph_db.delete_all_user_memories(world.org_id, mary.user_id)
        await graph_db.delete_all_user_interactions_and_their_memories(world.org_id, mary.user_id)
        assert await graph_db.get_all_user_memories(world.org_id, mary.user_id) == []
        assert await graph_db.get_all_user_interactions(world.org_id, mary.user_id) == []
        assert await snapshot(graph_db) == before

    async def test_contradicting_another_users_memory_links_nothing(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check contrary links only join memories of the same user."""
        mary = await graph_db.create_user(world.org_id, "Mary")
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["a"], [("jake v1", [0])])
        )
        (jakes,) = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, mary.user_id,
            dto(["b"], contrary=[("mary says otherwise", [0], jakes.memory_id)]),
        )  # fmt: skip
        assert await graph_db.get_user_memory_links(world.org_id, mary.user_id) == []
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == []
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(jakes.memory_id)])
        assert [m.memory for m in resolved] == ["jake v1"]

    async def test_owners_of_another_org_are_not_found(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check users and agents are looked up within the given org."""
        other = await graph_db.create_organization("Other")
        before = await snapshot(graph_db)
        with pytest.raises(UserNotFoundError):
            await graph_db.get_user(other.org_id, world.user_id)
        with pytest.raises(AgentNotFoundError):
            await graph_db.get_agent(other.org_id, world.agent_id)
        with pytest.raises(UserNotFoundError):
            await graph_db.create_agent(other.org_id, "Spy", world.user_id)
        with pytest.raises(UserNotFoundError):
            await graph_db.save_interaction_with_memories(
                other.org_id, world.agent_id, world.user_id, dto(["x"], ["m"])
            )
        other_user = await graph_db.create_user(other.org_id, "Eve")
        with pytest.raises(AgentNotFoundError):
            await graph_db.save_interaction_with_memories(
                other.org_id, world.agent_id, other_user.user_id, dto(["x"], ["m"])
            )
        with pytest.raises(UserNotFoundError):
            await graph_db.get_all_user_memories(other.org_id, world.user_id)
        with pytest.raises(UserNotFoundError):
            await graph_db.update_user(other.org_id, world.user_id, "Renamed")
        await graph_db.delete_user(other.org_id, world.user_id)
        await graph_db.delete_agent(other.org_id, world.agent_id)
        await graph_db.delete_user(other.org_id, other_user.user_id)
        assert await snapshot(graph_db) == before
