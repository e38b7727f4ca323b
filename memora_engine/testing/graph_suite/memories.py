"""Memories: get, list, batch resolution, placeholders, indexing listing, deletes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from memora_engine.errors import MemoryNotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import MemoryToStore
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, at, dto

__all__ = ["MemoryTests"]


async def _save(
    db: BaseGraphDB, world: World, texts: list[str], minutes: float = 0, agent_id: str = ""
) -> list[Memory]:
    """Save one interaction with one memory per text; return them (as read) in text order."""
    data = dto(["msg"], date=at(minutes))
    data.memories = [
        MemoryToStore(memory=t, source_msg_block_pos=[0], memory_id=str(uuid.uuid4()))
        for t in texts
    ]
    await db.save_interaction_with_memories(
        world.org_id, agent_id or world.agent_id, world.user_id, data
    )
    return [
        await db.get_user_memory(world.org_id, world.user_id, m.memory_id or "")
        for m in data.memories
    ]


class MemoryTests(GraphSuiteBase):
    """Memory reads and resolution."""

    async def test_get_user_memory(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check get_user_memory returns the stored memory with its sources."""
        (memory,) = await _save(graph_db, world, ["likes tea"])
        got = await graph_db.get_user_memory(world.org_id, world.user_id, memory.memory_id)
        assert got == memory
        assert uuid.UUID(got.memory_id).version == 4
        assert [s.content for s in got.message_sources] == ["msg"]
        with pytest.raises(MemoryNotFoundError) as info:
            await graph_db.get_user_memory(world.org_id, world.user_id, str(uuid.uuid4()))
        assert "memory_id" in info.value.ids

    async def test_memory_ids_are_canonical_uuids(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check memory ids are accepted in upper case (uuid canonical form)."""
        (memory,) = await _save(graph_db, world, ["likes tea"])
        got = await graph_db.get_user_memory(world.org_id, world.user_id, memory.memory_id.upper())
        assert got.memory_id == memory.memory_id

    async def test_all_user_memories_newest_first_paginated(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check get_all_user_memories orders by obtained_at desc and pages."""
        for i in range(6):
            await _save(graph_db, world, [f"fact {i}"], minutes=i)
        memories = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in memories] == [f"fact {i}" for i in range(5, -1, -1)]
        pages = [
            await graph_db.get_all_user_memories(world.org_id, world.user_id, skip=s, limit=2)
            for s in (0, 2, 4, 6)
        ]
        assert [m.memory for page in pages for m in page] == [m.memory for m in memories]
        assert pages[-1] == []

    async def test_same_time_memories_page_without_gaps(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check memories with equal obtained_at have a stable total order."""
        await _save(graph_db, world, [f"tied {i}" for i in range(7)])
        full = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        paged = []
        for skip in range(0, 7, 3):
            paged += await graph_db.get_all_user_memories(
                world.org_id, world.user_id, skip=skip, limit=3
            )
        assert [m.memory_id for m in paged] == [m.memory_id for m in full]
        assert len({m.memory_id for m in full}) == 7

    async def test_newest_first_follows_the_instant_not_the_offset(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check ordering uses the instant, not the timestamp's text or offset."""
        plus_two = datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))  # 08:00Z
        utc_nine = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
        for text, date in (("later", utc_nine), ("earlier", plus_two)):
            await graph_db.save_interaction_with_memories(
                world.org_id, world.agent_id, world.user_id, dto(["m"], [text], date=date)
            )
        memories = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in memories] == ["later", "earlier"]
        assert memories[1].obtained_at.utcoffset() == timedelta(hours=2)
        listed = await graph_db.get_all_user_interactions(world.org_id, world.user_id)
        assert [i.memories[0].memory for i in listed] == ["later", "earlier"]

    async def test_all_user_memories_agent_filter(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the agent_id filter of get_all_user_memories."""
        other = await graph_db.create_agent(world.org_id, "Other")
        await _save(graph_db, world, ["from helper"], minutes=0)
        await _save(graph_db, world, ["from other"], minutes=1, agent_id=other.agent_id)
        only_other = await graph_db.get_all_user_memories(
            world.org_id, world.user_id, agent_id=other.agent_id
        )
        assert [m.memory for m in only_other] == ["from other"]
        assert [
            m.memory for m in await graph_db.get_all_user_memories(world.org_id, world.user_id)
        ] == ["from other", "from helper"]
        assert (
            await graph_db.get_all_user_memories(world.org_id, world.user_id, agent_id="nobody")
            == []
        )

    async def test_resolution_keeps_input_order_and_batch_shape(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check resolve keeps relevance order, one list per input, dupes once."""
        a, b, c = await _save(graph_db, world, ["alpha", "beta", "gamma"])
        unknown = world.ref(str(uuid.uuid4()))
        batch = await graph_db.fetch_user_memories_resolved_batch(
            [
                [world.ref(c.memory_id), world.ref(a.memory_id), world.ref(b.memory_id)],
                [],
                [unknown, world.ref(b.memory_id), world.ref(b.memory_id), world.ref(a.memory_id)],
                [unknown],
            ]
        )
        assert [[m.memory for m in group] for group in batch] == [
            ["gamma", "alpha", "beta"],
            [],
            ["beta", "alpha"],
            [],
        ]
        assert [s.content for s in batch[0][0].message_sources] == ["msg"]
        assert await graph_db.fetch_user_memories_resolved_batch([]) == []
        assert await graph_db.fetch_user_memories_resolved_batch([[], []]) == [[], []]
        single = await graph_db.fetch_user_memories_resolved([world.ref(b.memory_id)])
        assert [m.memory for m in single] == ["beta"]

    async def test_placeholders_resolve_to_current_names(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check user_/agent_ placeholders resolve on every read, after renames."""
        text = (
            f"user_{world.user_id}'s sister told agent_{world.agent_id} about user_{world.user_id}"
        )
        (memory,) = await _save(graph_db, world, [text])
        assert memory.memory == "Jake's sister told Helper about Jake"
        await graph_db.update_user(world.org_id, world.user_id, "Jacob")
        await graph_db.update_agent(world.org_id, world.agent_id, "Assistant")
        expected = "Jacob's sister told Assistant about Jacob"
        reads = [
            await graph_db.get_user_memory(world.org_id, world.user_id, memory.memory_id),
            (await graph_db.get_all_user_memories(world.org_id, world.user_id))[0],
            (await graph_db.fetch_user_memories_resolved([world.ref(memory.memory_id)]))[0],
            (await graph_db.get_user_memory_history(world.org_id, world.user_id, memory.memory_id))[0],
            (await graph_db.get_interaction(
                world.org_id, world.user_id, memory.interaction_id or ""
            )).memories[0],
            (await graph_db.list_memories_for_indexing())[0],
        ]  # fmt: skip
        assert [m.memory for m in reads] == [expected] * len(reads)

    async def test_placeholders_of_other_users_and_unknown_ids(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check only the memory's OWN user and agent are resolved: other users
        (same org or not), other agents and unknown ids stay untouched."""
        mary = await graph_db.create_user(world.org_id, "Mary")
        stranger_org = await graph_db.create_organization("Elsewhere")
        stranger = await graph_db.create_user(stranger_org.org_id, "Stranger")
        text = (
            f"user_{world.user_id} met user_{mary.user_id} and user_{stranger.user_id}; "
            "user_unknown42 and agent_ghost stayed home"
        )
        (memory,) = await _save(graph_db, world, [text])
        assert memory.memory == (
            f"Jake met user_{mary.user_id} and user_{stranger.user_id}; "
            "user_unknown42 and agent_ghost stayed home"
        )

    async def test_placeholder_followed_by_word_characters(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check a placeholder glued to "_s" or "-" text still resolves."""
        (memory,) = await _save(
            graph_db, world, [f"user_{world.user_id}_s car; agent_{world.agent_id}-made"]
        )
        assert memory.memory == "Jake_s car; Helper-made"

    async def test_list_memories_for_indexing_keyset(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check list_memories_for_indexing orders by id, pages by id, filters
        by org, resolves names and omits sources."""
        other = await make_other_world(graph_db)
        mine = await _save(graph_db, world, [f"user_{world.user_id} fact {i}" for i in range(5)])
        theirs = await _save(graph_db, other, ["their fact"])
        every = sorted(m.memory_id for m in [*mine, *theirs])
        seen: list[Memory] = []
        after: str | None = None
        while True:
            page = await graph_db.list_memories_for_indexing(after_memory_id=after, limit=2)
            if not page:
                break
            seen += page
            after = page[-1].memory_id
        assert [m.memory_id for m in seen] == every
        assert all(m.message_sources == [] for m in seen)
        org_only = await graph_db.list_memories_for_indexing(org_id=world.org_id)
        assert [m.memory_id for m in org_only] == sorted(m.memory_id for m in mine)
        assert {m.memory for m in org_only} == {f"Jake fact {i}" for i in range(5)}

    async def test_delete_user_memory(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check delete_user_memory removes exactly that memory."""
        a, b = await _save(graph_db, world, ["keep", "drop"])
        await graph_db.delete_user_memory(world.org_id, world.user_id, b.memory_id)
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory(world.org_id, world.user_id, b.memory_id)
        assert [m.memory for m in await graph_db.get_all_user_memories(
            world.org_id, world.user_id
        )] == ["keep"]  # fmt: skip
        ix = await graph_db.get_interaction(world.org_id, world.user_id, a.interaction_id or "")
        assert [m.memory for m in ix.memories] == ["keep"]
        assert [m.content for m in ix.messages] == ["msg"]

    async def test_delete_all_user_memories_keeps_interactions(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check delete_all_user_memories drops memories and links only."""
        (old,) = await _save(graph_db, world, ["v1"], minutes=0)
        ix_id, _ = await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id,
            dto(["x"], contrary=[("v2", [0], old.memory_id)], date=at(1)),
        )  # fmt: skip
        await graph_db.delete_all_user_memories(world.org_id, world.user_id)
        assert await graph_db.get_all_user_memories(world.org_id, world.user_id) == []
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == []
        kept = await graph_db.get_interaction(world.org_id, world.user_id, ix_id)
        assert [m.content for m in kept.messages] == ["x"]
        assert kept.memories == []
        assert len(await graph_db.get_all_user_interactions(world.org_id, world.user_id)) == 2


async def make_other_world(db: BaseGraphDB) -> World:
    """A second org with its own user and agent."""
    org = await db.create_organization("Other org")
    user = await db.create_user(org.org_id, "Other user")
    agent = await db.create_agent(org.org_id, "Other agent")
    return World(org.org_id, user.user_id, agent.agent_id)
