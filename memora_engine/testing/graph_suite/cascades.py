"""Graph writes and deletes report what they wrote or deleted (cascades included), and a write
is checked before anything could be indexed and again inside its transaction. The graph store
never sees a vector store: :class:`~memora_engine.testing.CoordinationTests` checks the index
side of the same protocol."""

from __future__ import annotations

import uuid

import pytest

from memora_engine.errors import AgentNotFoundError, ConflictError, InteractionNotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import MemoryToStore
from memora_engine.testing.graph_suite.support import (
    GraphSuiteBase,
    World,
    at,
    dto,
    make_world,
    snapshot,
)

__all__ = ["CascadeTests"]


async def _save(db: BaseGraphDB, world: World, texts: list[str], minutes: float = 0) -> str:
    """Save one interaction with the given memories; return the interaction id."""
    ix_id, _ = await db.save_interaction_with_memories(
        world.org_id, world.agent_id, world.user_id,
        dto(["msg"], [(t, [0]) for t in texts], date=at(minutes)),
    )  # fmt: skip
    return ix_id


async def _ids(db: BaseGraphDB, world: World) -> set[str]:
    return {m.memory_id for m in await db.get_all_user_memories(world.org_id, world.user_id)}


class CascadeTests(GraphSuiteBase):
    """What writes and deletes report to the engine's coordinator."""

    async def test_prepared_write_returns_resolved_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check prepare_interaction_write resolves names and commit returns
        exactly the memories it wrote."""
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id,
            dto(["msg"], [(f"user_{world.user_id} is allergic to peanuts", [0])]),
        )  # fmt: skip
        (indexed,) = write.memories
        assert indexed.memory == "Jake is allergic to peanuts"
        written = await graph_db.commit_interaction_write(write)
        assert written == write.memories
        stored = (
            await graph_db.get_interaction(world.org_id, world.user_id, write.interaction_id)
        ).memories[0]
        assert (indexed.memory_id, indexed.org_id, indexed.user_id, indexed.agent_id) == (
            stored.memory_id, world.org_id, world.user_id, world.agent_id,
        )  # fmt: skip
        assert indexed.obtained_at == stored.obtained_at

    async def test_prepared_update_returns_only_new_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check an update reports the memories it adds (and nothing else)."""
        ix_id = await _save(graph_db, world, ["first fact"])
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id,
            dto(["msg", "more"], [(f"agent_{world.agent_id} helped", [1])], date=at(1)),
            interaction_id=ix_id, new=False,
        )  # fmt: skip
        assert [m.memory for m in await graph_db.commit_interaction_write(write)] == [
            "Helper helped"
        ]
        assert len(await _ids(graph_db, world)) == 2

    async def test_writes_without_memories_report_none(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check interaction-only writes report no memories."""
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id, dto(["only a message"])
        )
        assert write.memories == ()
        assert await graph_db.commit_interaction_write(write) == ()

    async def test_delete_memory_and_interaction_report_their_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check memory / interaction deletes report exactly what they deleted,
        and report found=False for what does not exist."""
        ix_a = await _save(graph_db, world, ["a1", "a2"], 0)
        await _save(graph_db, world, ["b1"], 1)
        a_ids = {
            m.memory_id
            for m in (await graph_db.get_interaction(world.org_id, world.user_id, ix_a)).memories
        }
        b_id = (await _ids(graph_db, world) - a_ids).pop()
        deleted = await graph_db.delete_user_memory(world.org_id, world.user_id, b_id)
        assert (deleted.found, deleted.memory_ids) == (True, (b_id,))
        again = await graph_db.delete_user_memory(world.org_id, world.user_id, b_id)
        assert (again.found, again.memory_ids) == (False, ())
        deleted = await graph_db.delete_user_interaction_and_its_memories(
            world.org_id, world.user_id, ix_a
        )
        assert (deleted.found, set(deleted.memory_ids)) == (True, a_ids)
        assert await _ids(graph_db, world) == set()
        with pytest.raises(InteractionNotFoundError):
            await graph_db.get_interaction(world.org_id, world.user_id, ix_a)
        again = await graph_db.delete_user_interaction_and_its_memories(
            world.org_id, world.user_id, ix_a
        )
        assert (again.found, again.memory_ids) == (False, ())

    async def test_delete_all_interactions_and_all_memories_report_the_users_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the "all interactions" / "all memories" deletes report the
        user's memories and touch nobody else's."""
        mary = await graph_db.create_user(world.org_id, "Mary")
        marys = World(world.org_id, mary.user_id, world.agent_id)
        await _save(graph_db, world, ["j1", "j2"])
        await _save(graph_db, marys, ["m1"])
        jakes = await _ids(graph_db, world)
        deleted = await graph_db.delete_all_user_memories(world.org_id, world.user_id)
        assert (deleted.found, set(deleted.memory_ids)) == (True, jakes)
        assert not (await graph_db.delete_all_user_memories(world.org_id, world.user_id)).found
        await _save(graph_db, world, ["j3"], 2)
        (j3,) = await _ids(graph_db, world)
        deleted = await graph_db.delete_all_user_interactions_and_their_memories(
            world.org_id, world.user_id
        )
        assert (deleted.found, deleted.memory_ids) == (True, (j3,))
        assert await graph_db.get_all_user_interactions(world.org_id, world.user_id) == []
        assert (await graph_db.get_user(world.org_id, world.user_id)).user_name == "Jake"
        assert len(await graph_db.get_all_user_memories(world.org_id, mary.user_id)) == 1

    async def test_delete_user_and_organization_report_cascaded_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check delete_user / delete_organization report every memory they
        cascade to (the original left their vectors behind) and whether they existed."""
        other = await make_world(graph_db, "Other org", "Jake", "Helper")
        mary = await graph_db.create_user(world.org_id, "Mary")
        marys = World(world.org_id, mary.user_id, world.agent_id)
        await _save(graph_db, world, ["jake fact"])
        await _save(graph_db, marys, ["mary fact"])
        await _save(graph_db, other, ["other org fact"])
        jakes, marys_ids = await _ids(graph_db, world), await _ids(graph_db, marys)
        deleted = await graph_db.delete_user(world.org_id, world.user_id)
        assert (deleted.found, set(deleted.memory_ids)) == (True, jakes)
        assert not (await graph_db.delete_user(world.org_id, world.user_id)).found
        deleted = await graph_db.delete_organization(world.org_id)
        assert (deleted.found, set(deleted.memory_ids)) == (True, marys_ids)
        assert not (await graph_db.delete_organization(world.org_id)).found
        assert len(await graph_db.get_all_user_memories(other.org_id, other.user_id)) == 1

    async def test_delete_agent_reports_no_memories(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check delete_agent keeps memories and reports whether it existed."""
        await _save(graph_db, world, ["fact"])
        deleted = await graph_db.delete_agent(world.org_id, world.agent_id)
        assert (deleted.found, deleted.memory_ids) == (True, ())
        assert not (await graph_db.delete_agent(world.org_id, world.agent_id)).found
        assert len(await _ids(graph_db, world)) == 1

    async def test_commit_checks_again_and_leaves_graph_unchanged(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the commit re-checks inside its transaction: a conflicting save
        landing between prepare and commit makes the commit fail and write nothing."""
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id, dto(["second"], [("fact", [0])]),
            interaction_id="chat-1",
        )  # fmt: skip
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id, dto(["first"]), interaction_id="chat-1"
        )
        before = await snapshot(graph_db)
        with pytest.raises(ConflictError):
            await graph_db.commit_interaction_write(write)
        assert await snapshot(graph_db) == before
        got = await graph_db.get_interaction(world.org_id, world.user_id, "chat-1")
        assert [m.content for m in got.messages] == ["first"]

    async def test_rejected_writes_fail_before_anything_is_indexed(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check owners, interaction ids and preset memory ids are checked by
        prepare_interaction_write, before the coordinator indexes anything."""
        ix_id = await _save(graph_db, world, ["original"])
        (existing,) = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        before = await snapshot(graph_db)
        args = (world.org_id, world.agent_id, world.user_id)
        with pytest.raises(AgentNotFoundError):
            await graph_db.prepare_interaction_write(
                world.org_id, "no-such-agent", world.user_id, dto(["x"], ["m"])
            )
        with pytest.raises(ConflictError):
            await graph_db.prepare_interaction_write(*args, dto(["x"], ["m"]), interaction_id=ix_id)
        reuse = dto(["x"])
        reuse.memories = [MemoryToStore(memory="hijack", memory_id=existing.memory_id)]
        with pytest.raises(ConflictError):
            await graph_db.prepare_interaction_write(*args, reuse)
        with pytest.raises(InteractionNotFoundError):
            await graph_db.prepare_interaction_write(
                *args, dto([], ["m"]), interaction_id=str(uuid.uuid4().hex), new=False
            )
        assert await snapshot(graph_db) == before
