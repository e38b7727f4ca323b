"""The graph store drives its vector store: indexing on writes, cascading deletes, and
no partial state when either side fails. Uses a real vector store behind a recorder."""

from __future__ import annotations

import uuid

import pytest

from memora_engine.errors import (
    AgentNotFoundError,
    BackendUnavailableError,
    ConflictError,
    InteractionNotFoundError,
)
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
from memora_engine.testing.recording import RecordingVectorDB
from memora_engine.vector_db.base import MemorySearchScope

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
    """Graph <-> vector consistency."""

    async def test_associated_vector_db(
        self, graph_db: BaseGraphDB, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check get_associated_vector_db returns the attached store."""
        assert graph_db.get_associated_vector_db() is recorder
        graph_db.associated_vector_db = None
        assert graph_db.get_associated_vector_db() is None
        graph_db.associated_vector_db = recorder

    async def test_save_indexes_resolved_memories(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check saves upsert every new memory once, with names resolved."""
        ix_id = await _save(graph_db, world, [f"user_{world.user_id} is allergic to peanuts"])
        (call,) = recorder.calls_to("upsert_memories")
        (indexed,) = call.args[0]
        stored = (await graph_db.get_interaction(world.org_id, world.user_id, ix_id)).memories[0]
        assert indexed.memory == "Jake is allergic to peanuts"
        assert (indexed.memory_id, indexed.org_id, indexed.user_id, indexed.agent_id) == (
            stored.memory_id, world.org_id, world.user_id, world.agent_id,
        )  # fmt: skip
        assert indexed.obtained_at == stored.obtained_at
        assert await recorder.inner.existing_ids([stored.memory_id]) == {stored.memory_id}
        hits = await recorder.inner.search_memory(
            "peanut allergy", MemorySearchScope.USER, world.org_id, world.user_id
        )
        assert [m.memory_id for m, _ in hits] == [stored.memory_id]

    async def test_update_indexes_only_new_memories(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check updates upsert the memories they add (and nothing else)."""
        ix_id = await _save(graph_db, world, ["first fact"])
        recorder.clear()
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id,
            dto(["msg", "more"], [(f"agent_{world.agent_id} helped", [1])], date=at(1)),
        )  # fmt: skip
        assert [m.memory for m in recorder.upserted_memories()] == ["Helper helped"]
        assert await recorder.inner.count(world.org_id, world.user_id) == 2

    async def test_writes_without_memories_touch_no_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check interaction-only writes skip the vector store."""
        ix_id = await _save(graph_db, world, [])
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id, dto(["other"])
        )
        assert recorder.calls_to("upsert_memories") == []

    async def test_delete_memory_and_interaction_delete_their_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check memory / interaction deletes delete exactly their points."""
        ix_a = await _save(graph_db, world, ["a1", "a2"], 0)
        await _save(graph_db, world, ["b1"], 1)
        a_ids = {
            m.memory_id
            for m in (await graph_db.get_interaction(world.org_id, world.user_id, ix_a)).memories
        }
        b_id = (await _ids(graph_db, world) - a_ids).pop()
        await graph_db.delete_user_memory(world.org_id, world.user_id, b_id)
        assert await recorder.inner.existing_ids([b_id]) == set()
        await graph_db.delete_user_interaction_and_its_memories(world.org_id, world.user_id, ix_a)
        (call,) = recorder.calls_to("delete_memories")[-1:]
        assert set(call.args[0]) == a_ids
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        with pytest.raises(InteractionNotFoundError):
            await graph_db.get_interaction(world.org_id, world.user_id, ix_a)

    async def test_delete_all_interactions_and_all_memories_cascade(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check the "all interactions" / "all memories" deletes clear the
        user's points and nobody else's."""
        mary = await graph_db.create_user(world.org_id, "Mary")
        marys = World(world.org_id, mary.user_id, world.agent_id)
        await _save(graph_db, world, ["j1", "j2"])
        await _save(graph_db, marys, ["m1"])
        await graph_db.delete_all_user_memories(world.org_id, world.user_id)
        assert recorder.calls_to("delete_all_user_memories")[-1].args == (
            world.org_id, world.user_id,
        )  # fmt: skip
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        await _save(graph_db, world, ["j3"], 2)
        await graph_db.delete_all_user_interactions_and_their_memories(world.org_id, world.user_id)
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        assert await graph_db.get_all_user_interactions(world.org_id, world.user_id) == []
        assert (await graph_db.get_user(world.org_id, world.user_id)).user_name == "Jake"
        assert await recorder.inner.count(world.org_id, mary.user_id) == 1
        assert len(await graph_db.get_all_user_memories(world.org_id, mary.user_id)) == 1

    async def test_delete_user_and_organization_delete_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check delete_user / delete_organization also delete their points
        (the original left them behind)."""
        other = await make_world(graph_db, "Other org", "Jake", "Helper")
        mary = await graph_db.create_user(world.org_id, "Mary")
        await _save(graph_db, world, ["jake fact"])
        await _save(graph_db, World(world.org_id, mary.user_id, world.agent_id), ["mary fact"])
        await _save(graph_db, other, ["other org fact"])
        await graph_db.delete_user(world.org_id, world.user_id)
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        assert await recorder.inner.count(world.org_id) == 1
        await graph_db.delete_organization(world.org_id)
        assert recorder.calls_to("delete_all_organization_memories")[-1].args == (world.org_id,)
        assert await recorder.inner.count(world.org_id) == 0
        assert await recorder.inner.count(other.org_id) == 1
        assert len(await graph_db.get_all_user_memories(other.org_id, other.user_id)) == 1

    async def test_delete_agent_keeps_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check delete_agent leaves memories searchable."""
        await _save(graph_db, world, ["fact"])
        await graph_db.delete_agent(world.org_id, world.agent_id)
        assert await recorder.inner.count(world.org_id, world.user_id) == 1
        assert not [c for c in recorder.calls if c.method.startswith("delete")]

    async def test_vector_failure_during_save_leaves_graph_unchanged(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check saves index vectors before committing the graph."""
        await _save(graph_db, world, ["existing"])
        before = await snapshot(graph_db)
        recorder.fail_next("upsert_memories", BackendUnavailableError("injected"))
        with pytest.raises(BackendUnavailableError, match="injected"):
            await _save(graph_db, world, ["lost fact"], 1)
        assert await snapshot(graph_db) == before
        assert await recorder.inner.count(world.org_id) == 1

    async def test_vector_failure_during_update_leaves_graph_unchanged(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check updates diff messages only after the vectors are indexed."""
        ix_id = await _save(graph_db, world, ["existing"])
        before = await snapshot(graph_db)
        recorder.fail_next("upsert_memories", BackendUnavailableError("injected"))
        with pytest.raises(BackendUnavailableError):
            await graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, world.user_id, ix_id,
                dto(["changed"], [("new", [0])], date=at(5)),
            )  # fmt: skip
        assert await snapshot(graph_db) == before

    async def test_failed_graph_write_removes_new_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check a graph transaction that fails after indexing deletes the new
        points again (BaseGraphDB._write_with_vectors)."""

        async def conflicting_save() -> None:
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["first"]),
                interaction_id="chat-1",
            )  # fmt: skip

        recorder.before_next("upsert_memories", conflicting_save)
        with pytest.raises(ConflictError):
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["second"], [("fact", [0])]),
                interaction_id="chat-1",
            )  # fmt: skip
        (indexed,) = recorder.upserted_memories()
        assert await recorder.inner.existing_ids([indexed.memory_id]) == set()
        assert await graph_db.get_all_user_memories(world.org_id, world.user_id) == []
        got = await graph_db.get_interaction(world.org_id, world.user_id, "chat-1")
        assert [m.content for m in got.messages] == ["first"]

    async def test_rejected_writes_touch_no_vectors(
        self, graph_db: BaseGraphDB, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check owners, interaction ids and preset memory ids are checked
        before indexing, so a rejected write never overwrites or adds a point."""
        ix_id = await _save(graph_db, world, ["original"])
        (existing,) = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        recorder.clear()
        with pytest.raises(AgentNotFoundError):
            await graph_db.save_interaction_with_memories(
                world.org_id, "no-such-agent", world.user_id, dto(["x"], ["m"])
            )
        with pytest.raises(ConflictError):
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["x"], ["m"]),
                interaction_id=ix_id,
            )  # fmt: skip
        reuse = dto(["x"])
        reuse.memories = [MemoryToStore(memory="hijack", memory_id=existing.memory_id)]
        with pytest.raises(ConflictError):
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, reuse
            )
        assert recorder.calls_to("upsert_memories") == []
        hits = await recorder.inner.search_memory(
            "original", MemorySearchScope.USER, world.org_id, world.user_id
        )
        assert [m.memory for m, _ in hits] == ["original"]
        with pytest.raises(InteractionNotFoundError):
            await graph_db.update_interaction_and_memories(
                world.org_id, world.agent_id, world.user_id, str(uuid.uuid4().hex), dto([], ["m"])
            )
        assert recorder.calls_to("upsert_memories") == []
