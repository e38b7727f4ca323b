"""``CoordinationTests``: the graph <-> index protocol of the engine's coordinator.

Indexing on writes, cascading deletes, exact delete results, and no partial state when either
store fails. Runs over a real graph store and a real vector store (wrapped in a
:class:`~memora_engine.testing.RecordingVectorDB` to see and fault its calls). Subclass it and
provide ``graph_db`` and ``vector_db`` fixtures (empty, set-up stores).

Examples:
    >>> class TestSqliteWithEdge(CoordinationTests):  # doctest: +SKIP
    ...     @pytest.fixture
    ...     async def graph_db(self): ...
    ...     @pytest.fixture
    ...     async def vector_db(self): ...
"""

from __future__ import annotations

import uuid

import pytest

from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import (
    AgentNotFoundError,
    BackendUnavailableError,
    ConflictError,
    InteractionNotFoundError,
)
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import MemoriesAndInteraction, MemoryToStore
from memora_engine.testing.graph_suite.support import World, at, dto, make_world, snapshot
from memora_engine.testing.recording import RecordingVectorDB
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope

__all__ = ["CoordinationTests"]


class CoordinationTests:
    """Graph <-> vector consistency through :class:`StoreCoordinator`."""

    @pytest.fixture
    async def graph_db(self) -> BaseGraphDB:
        """An empty, set-up graph store (override this)."""
        raise NotImplementedError("Provide a `graph_db` fixture in the test class.")

    @pytest.fixture
    async def vector_db(self) -> BaseVectorDB:
        """An empty, set-up vector store (override this)."""
        raise NotImplementedError("Provide a `vector_db` fixture in the test class.")

    @pytest.fixture
    def recorder(self, vector_db: BaseVectorDB) -> RecordingVectorDB:
        return RecordingVectorDB(vector_db)

    @pytest.fixture
    def stores(self, graph_db: BaseGraphDB, recorder: RecordingVectorDB) -> StoreCoordinator:
        return StoreCoordinator(graph_db, recorder)

    @pytest.fixture
    async def world(self, graph_db: BaseGraphDB) -> World:
        return await make_world(graph_db)

    @staticmethod
    async def _save(
        stores: StoreCoordinator, world: World, texts: list[str], minutes: float = 0
    ) -> str:
        done = await stores.write_interaction(
            world.org_id, world.agent_id, world.user_id,
            dto(["msg"], [(t, [0]) for t in texts], date=at(minutes)),
        )  # fmt: skip
        return done.write.interaction_id

    @staticmethod
    async def _ids(graph_db: BaseGraphDB, world: World) -> set[str]:
        memories = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        return {m.memory_id for m in memories}

    async def test_save_indexes_resolved_memories(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check saves upsert every new memory once, with names resolved."""
        ix_id = await self._save(stores, world, [f"user_{world.user_id} is allergic to peanuts"])
        (call,) = recorder.calls_to("upsert_memories")
        (indexed,) = call.args[0]
        stored = (
            await stores.graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        ).memories[0]
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
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check updates upsert the memories they add (and nothing else)."""
        ix_id = await self._save(stores, world, ["first fact"])
        recorder.clear()
        await stores.write_interaction(
            world.org_id, world.agent_id, world.user_id,
            dto(["msg", "more"], [(f"agent_{world.agent_id} helped", [1])], date=at(1)),
            interaction_id=ix_id, new=False,
        )  # fmt: skip
        assert [m.memory for m in recorder.upserted_memories()] == ["Helper helped"]
        assert await recorder.inner.count(world.org_id, world.user_id) == 2

    async def test_writes_without_memories_touch_no_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check interaction-only writes skip the vector store."""
        ix_id = await self._save(stores, world, [])
        await stores.write_interaction(
            world.org_id, world.agent_id, world.user_id, dto(["other"]),
            interaction_id=ix_id, new=False,
        )  # fmt: skip
        assert recorder.calls_to("upsert_memories") == []

    async def test_delete_memory_and_interaction_delete_their_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check memory / interaction deletes delete exactly their points and
        return whether they existed."""
        graph = stores.graph_db
        ix_a = await self._save(stores, world, ["a1", "a2"], 0)
        await self._save(stores, world, ["b1"], 1)
        a_ids = {
            m.memory_id
            for m in (await graph.get_interaction(world.org_id, world.user_id, ix_a)).memories
        }
        b_id = (await self._ids(graph, world) - a_ids).pop()
        assert await stores.delete_memory(world.org_id, world.user_id, b_id) is True
        assert await recorder.inner.existing_ids([b_id]) == set()
        assert await stores.delete_memory(world.org_id, world.user_id, b_id) is False
        assert await stores.delete_interaction(world.org_id, world.user_id, ix_a) is True
        (call,) = recorder.calls_to("delete_memories")[-1:]
        assert set(call.args[0]) == a_ids
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        with pytest.raises(InteractionNotFoundError):
            await graph.get_interaction(world.org_id, world.user_id, ix_a)
        assert await stores.delete_interaction(world.org_id, world.user_id, ix_a) is False

    async def test_delete_all_interactions_and_all_memories_cascade(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check the "all interactions" / "all memories" deletes clear the
        user's points and nobody else's, and count what they deleted."""
        graph = stores.graph_db
        mary = await graph.create_user(world.org_id, "Mary")
        marys = World(world.org_id, mary.user_id, world.agent_id)
        await self._save(stores, world, ["j1", "j2"])
        await self._save(stores, marys, ["m1"])
        assert await stores.delete_all_memories(world.org_id, world.user_id) == 2
        assert recorder.calls_to("delete_all_user_memories")[-1].args == (
            world.org_id, world.user_id,
        )  # fmt: skip
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        assert await stores.delete_all_memories(world.org_id, world.user_id) == 0
        await self._save(stores, world, ["j3"], 2)
        assert await stores.delete_all_interactions(world.org_id, world.user_id) == 1
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        assert await graph.get_all_user_interactions(world.org_id, world.user_id) == []
        assert (await graph.get_user(world.org_id, world.user_id)).user_name == "Jake"
        assert await recorder.inner.count(world.org_id, mary.user_id) == 1
        assert len(await graph.get_all_user_memories(world.org_id, mary.user_id)) == 1

    async def test_delete_user_and_organization_delete_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check delete_user / delete_organization also delete their points
        (the original left them behind)."""
        graph = stores.graph_db
        other = await make_world(graph, "Other org", "Jake", "Helper")
        mary = await graph.create_user(world.org_id, "Mary")
        await self._save(stores, world, ["jake fact"])
        await self._save(stores, World(world.org_id, mary.user_id, world.agent_id), ["mary fact"])
        await self._save(stores, other, ["other org fact"])
        assert await stores.delete_user(world.org_id, world.user_id) is True
        assert await recorder.inner.count(world.org_id, world.user_id) == 0
        assert await recorder.inner.count(world.org_id) == 1
        assert await stores.delete_user(world.org_id, world.user_id) is False
        assert await stores.delete_organization(world.org_id) is True
        assert recorder.calls_to("delete_all_organization_memories")[-1].args == (world.org_id,)
        assert await recorder.inner.count(world.org_id) == 0
        assert await recorder.inner.count(other.org_id) == 1
        assert len(await graph.get_all_user_memories(other.org_id, other.user_id)) == 1
        assert await stores.delete_organization(world.org_id) is False

    async def test_delete_agent_keeps_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check delete_agent leaves memories searchable."""
        await self._save(stores, world, ["fact"])
        await stores.graph_db.delete_agent(world.org_id, world.agent_id)
        assert await recorder.inner.count(world.org_id, world.user_id) == 1
        assert not [c for c in recorder.calls if c.method.startswith("delete")]

    async def test_vector_failure_during_save_leaves_graph_unchanged(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check saves index vectors before committing the graph."""
        await self._save(stores, world, ["existing"])
        before = await snapshot(stores.graph_db)
        recorder.fail_next("upsert_memories", BackendUnavailableError("injected"))
        with pytest.raises(BackendUnavailableError, match="injected"):
            await self._save(stores, world, ["lost fact"], 1)
        assert await snapshot(stores.graph_db) == before
        assert await recorder.inner.count(world.org_id) == 1

    async def test_vector_failure_during_update_leaves_graph_unchanged(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check updates diff messages only after the vectors are indexed."""
        ix_id = await self._save(stores, world, ["existing"])
        before = await snapshot(stores.graph_db)
        recorder.fail_next("upsert_memories", BackendUnavailableError("injected"))
        with pytest.raises(BackendUnavailableError):
            await stores.write_interaction(
                world.org_id, world.agent_id, world.user_id,
                dto(["changed"], [("new", [0])], date=at(5)), interaction_id=ix_id, new=False,
            )  # fmt: skip
        assert await snapshot(stores.graph_db) == before

    async def test_failed_graph_write_removes_new_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check a graph transaction that fails after indexing deletes the new
        points again (StoreCoordinator.commit)."""
        graph = stores.graph_db

        async def conflicting_save() -> None:
            await graph.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["first"]),
                interaction_id="chat-1",
            )  # fmt: skip

        recorder.before_next("upsert_memories", conflicting_save)
        with pytest.raises(ConflictError):
            await stores.write_interaction(
                world.org_id, world.agent_id, world.user_id, dto(["second"], [("fact", [0])]),
                interaction_id="chat-1",
            )  # fmt: skip
        (indexed,) = recorder.upserted_memories()
        assert await recorder.inner.existing_ids([indexed.memory_id]) == set()
        assert await graph.get_all_user_memories(world.org_id, world.user_id) == []
        got = await graph.get_interaction(world.org_id, world.user_id, "chat-1")
        assert [m.content for m in got.messages] == ["first"]

    async def test_rejected_writes_touch_no_vectors(
        self, stores: StoreCoordinator, world: World, recorder: RecordingVectorDB
    ) -> None:
        """If this fails, check owners, interaction ids and preset memory ids are checked
        before indexing, so a rejected write never overwrites or adds a point."""
        ix_id = await self._save(stores, world, ["original"])
        (existing,) = await stores.graph_db.get_all_user_memories(world.org_id, world.user_id)
        recorder.clear()

        async def write(agent: str, data: MemoriesAndInteraction, **kw: object) -> None:
            await stores.write_interaction(world.org_id, agent, world.user_id, data, **kw)  # type: ignore[arg-type]

        with pytest.raises(AgentNotFoundError):
            await write("no-such-agent", dto(["x"], ["m"]))
        with pytest.raises(ConflictError):
            await write(world.agent_id, dto(["x"], ["m"]), interaction_id=ix_id)
        reuse = dto(["x"])
        reuse.memories = [MemoryToStore(memory="hijack", memory_id=existing.memory_id)]
        with pytest.raises(ConflictError):
            await write(world.agent_id, reuse)
        assert recorder.calls_to("upsert_memories") == []
        hits = await recorder.inner.search_memory(
            "original", MemorySearchScope.USER, world.org_id, world.user_id
        )
        assert [m.memory for m, _ in hits] == ["original"]
        with pytest.raises(InteractionNotFoundError):
            await write(
                world.agent_id, dto([], ["m"]), interaction_id=str(uuid.uuid4().hex), new=False
            )
        assert recorder.calls_to("upsert_memories") == []
