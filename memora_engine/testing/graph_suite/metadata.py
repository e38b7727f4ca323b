"""Memory metadata: round trip on every read, inheritance, in-place edits, delete-many."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_engine.filters import Metadata
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
)
from memora_engine.testing.graph_suite.support import (
    GraphSuiteBase,
    World,
    at,
    make_world,
    snapshot,
)

__all__ = ["MetadataTests", "save_with_metadata"]

#: A memory to save: ``(text, metadata)``, or ``(text, metadata, contradicted_id)``.
Item = tuple[str, Mapping[str, Any] | None] | tuple[str, Mapping[str, Any] | None, str]


def write_dto(items: Sequence[Item], minutes: float = 0) -> MemoriesAndInteraction:
    """One interaction (one message) with a memory per item, each with a preset id."""
    new: list[MemoryToStore] = []
    contrary: list[ContraryMemoryToStore] = []
    for item in items:
        common: dict[str, Any] = {
            "memory": item[0],
            "source_msg_block_pos": [0],
            "memory_id": str(uuid.uuid4()),
            "metadata": item[1],
        }
        if len(item) == 3:
            contrary.append(ContraryMemoryToStore(**common, existing_contrary_memory_id=item[2]))
        else:
            new.append(MemoryToStore(**common))
    return MemoriesAndInteraction(
        interaction=[{"role": "user", "content": "msg"}],  # type: ignore[list-item]
        interaction_date=at(minutes),
        memories=new,
        contrary_memories=contrary,
    )


async def save_with_metadata(
    db: BaseGraphDB, world: World, items: Sequence[Item], minutes: float = 0, agent_id: str = ""
) -> list[str]:
    """Save one interaction with the items (new first, then contrary); return their ids."""
    data = write_dto(items, minutes)
    await db.save_interaction_with_memories(
        world.org_id, agent_id or world.agent_id, world.user_id, data
    )
    return [m.memory_id or "" for m in data.all_memories()]


async def _meta(db: BaseGraphDB, world: World, memory_id: str) -> Metadata:
    return (await db.get_user_memory(world.org_id, world.user_id, memory_id)).metadata


class MetadataTests(GraphSuiteBase):
    """Metadata persisted, returned, inherited, edited; delete-many."""

    async def test_metadata_round_trips_on_every_read(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the metadata is written and decoded on every read path (get,
        list, interactions, resolved batch, history, indexing pages)."""
        rich: Metadata = {"topic": "food", "score": 4.5, "n": 3, "ok": True, "tags": ["a", 1]}
        rich_id, bare_id = await save_with_metadata(
            graph_db, world, [(f"user_{world.user_id} likes tea", rich), ("plain", None)]
        )
        want = {rich_id: rich, bare_id: {}}
        o, u = world.org_id, world.user_id

        def check(memories: Sequence[Memory]) -> None:
            assert {m.memory_id: m.metadata for m in memories} == want
            for m in memories:
                assert type(m.metadata.get("n", 0)) is int
                assert type(m.metadata.get("ok", True)) is bool

        check([await graph_db.get_user_memory(o, u, mid) for mid in want])
        check(await graph_db.get_all_user_memories(o, u))
        check(await graph_db.get_all_user_memories(o, u, resolve_names=False))
        check((await graph_db.get_all_user_interactions(o, u))[0].memories)
        check(await graph_db.fetch_user_memories_resolved([world.ref(m) for m in want]))
        check(await graph_db.list_memories_for_indexing(org_id=o))
        (alone,) = await graph_db.get_user_memory_history(o, u, rich_id)
        assert alone.metadata == rich

    async def test_prepared_write_and_commit_hold_the_same_metadata(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the pre-check resolves inherited metadata, so the memories
        handed to the index equal what the graph commits."""
        (old,) = await save_with_metadata(graph_db, world, [("v1", {"topic": "food"})])
        data = write_dto([("v2", None, old), ("own", {"k": "v"}, old), ("fresh", None)], 5)
        write = await graph_db.prepare_interaction_write(
            world.org_id, world.agent_id, world.user_id, data
        )
        indexed = await graph_db.commit_interaction_write(write)
        assert [m.metadata for m in indexed] == [{}, {"topic": "food"}, {"k": "v"}]
        for memory in indexed:
            assert await _meta(graph_db, world, memory.memory_id) == memory.metadata

    async def test_contrary_memory_inherits_and_history_keeps_each_version(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a contrary memory saved with metadata None takes the metadata
        of the memory it replaces, one with metadata keeps its own, and history keeps both."""
        (v1,) = await save_with_metadata(graph_db, world, [("v1", {"topic": "food"})])
        (v2,) = await save_with_metadata(graph_db, world, [("v2", None, v1)], 1)
        (v3,) = await save_with_metadata(graph_db, world, [("v3", {"topic": "x"}, v2)], 2)
        (v4,) = await save_with_metadata(graph_db, world, [("v4", None, v3)], 3)
        (orphan,) = await save_with_metadata(graph_db, world, [("o", None, str(uuid.uuid4()))], 4)
        history = await graph_db.get_user_memory_history(world.org_id, world.user_id, v1)
        assert [(m.memory_id, m.metadata) for m in history] == [
            (v4, {"topic": "x"}),
            (v3, {"topic": "x"}),
            (v2, {"topic": "food"}),
            (v1, {"topic": "food"}),
        ]
        assert await _meta(graph_db, world, orphan) == {}
        # An explicit {} (as a restore writes it) is the memory's own metadata: no inheritance.
        (v5,) = await save_with_metadata(graph_db, world, [("v5", {}, v4)], 5)
        assert await _meta(graph_db, world, v5) == {}

    async def test_update_metadata_replaces_in_place(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check update_user_memory_metadata replaces the whole object on the
        same memory (no new version) and returns it names-resolved with sources."""
        (mid, other) = await save_with_metadata(
            graph_db, world, [(f"user_{world.user_id} likes tea", {"a": 1, "b": "x"}), ("o", None)]
        )
        got = await graph_db.update_user_memory_metadata(
            world.org_id, world.user_id, mid, {"b": "y", "c": [True]}
        )
        assert got.memory_id == mid
        assert got.memory == "Jake likes tea"
        assert got.metadata == {"b": "y", "c": [True]}
        assert [s.content for s in got.message_sources] == ["msg"]
        assert await graph_db.get_user_memory(world.org_id, world.user_id, mid) == got
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == []
        assert await _meta(graph_db, world, other) == {}
        cleared = await graph_db.update_user_memory_metadata(world.org_id, world.user_id, mid, {})
        assert cleared.metadata == {}

    async def test_update_metadata_of_missing_or_foreign_memory(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check metadata edits are scoped by org and user and raise
        MemoryNotFoundError without writing."""
        stranger = await make_world(graph_db, "Other", "Ann", "Bot")
        (theirs,) = await save_with_metadata(graph_db, stranger, [("secret", {"k": "v"})])
        before = await snapshot(graph_db)
        for org_id, user_id, memory_id in (
            (world.org_id, world.user_id, theirs),
            (world.org_id, world.user_id, str(uuid.uuid4())),
            (stranger.org_id, world.user_id, theirs),
        ):
            with pytest.raises(MemoryNotFoundError):
                await graph_db.update_user_memory_metadata(org_id, user_id, memory_id, {"k": "x"})
        assert await snapshot(graph_db) == before

    async def test_delete_many_relinks_chains_and_ignores_missing(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check delete_user_memories deletes only this user's listed memories
        in one go, re-links chains around them and reports exactly those deleted."""
        ids = await save_with_metadata(graph_db, world, [("v1", None)])
        for i in range(2, 5):
            ids += await save_with_metadata(graph_db, world, [(f"v{i}", None, ids[-1])], i)
        stranger = await make_world(graph_db, "Other", "Ann", "Bot")
        (theirs,) = await save_with_metadata(graph_db, stranger, [("theirs", None)])
        deleted = await graph_db.delete_user_memories(
            world.org_id, world.user_id, [ids[1], ids[2].upper(), str(uuid.uuid4()), theirs]
        )
        assert deleted.found
        assert sorted(deleted.memory_ids) == sorted(ids[1:3])
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == [
            (ids[0], ids[3])
        ]
        history = await graph_db.get_user_memory_history(world.org_id, world.user_id, ids[0])
        assert [m.memory for m in history] == ["v4", "v1"]
        assert (await _meta(graph_db, stranger, theirs)) == {}
        none = await graph_db.delete_user_memories(world.org_id, world.user_id, [theirs])
        assert not none.found
        assert none.memory_ids == ()
        empty = await graph_db.delete_user_memories(world.org_id, world.user_id, [])
        assert not empty.found

    async def test_bad_metadata_filter_and_ids_write_nothing(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check update_user_memory_metadata validates the metadata, the listing
        takes only parsed filter trees, and delete_user_memories only a list of memory ids."""
        (mid,) = await save_with_metadata(graph_db, world, [("v1", {"k": "v"})])
        before = await snapshot(graph_db)
        o, u = world.org_id, world.user_id
        for bad in ({"k": float("nan")}, {"agent_id": "x"}, {"k": {"nested": 1}}, ["k"], None):
            with pytest.raises(InvalidInputError):
                await graph_db.update_user_memory_metadata(o, u, mid, bad)  # type: ignore[arg-type]
        for bad_filter in ({"k": "v"}, "k=v", 3):
            with pytest.raises(InvalidInputError):
                await graph_db.get_all_user_memories(o, u, filter=bad_filter)  # type: ignore[arg-type]
        for bad_ids in (mid, [mid, "not-a-uuid"], [3], {"memory_id": mid}):
            with pytest.raises(InvalidInputError):
                await graph_db.delete_user_memories(o, u, bad_ids)  # type: ignore[arg-type]
        assert await snapshot(graph_db) == before
