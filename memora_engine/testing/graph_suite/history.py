"""History chains: contradiction links, resolution to the newest version, forks, deletes."""

from __future__ import annotations

import itertools
import uuid

import pytest

from memora_engine.errors import MemoryNotFoundError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, at, dto

__all__ = ["HistoryTests"]


async def _first(db: BaseGraphDB, world: World, text: str, minutes: float) -> str:
    """Save a fresh memory; return its id."""
    ix_id, _ = await db.save_interaction_with_memories(
        world.org_id, world.agent_id, world.user_id, dto(["m"], [(text, [0])], date=at(minutes))
    )
    return (await db.get_interaction(world.org_id, world.user_id, ix_id)).memories[0].memory_id


async def _supersede(db: BaseGraphDB, world: World, old_id: str, text: str, minutes: float) -> str:
    """Save a memory contradicting ``old_id``; return the new id."""
    ix_id, _ = await db.save_interaction_with_memories(
        world.org_id, world.agent_id, world.user_id,
        dto(["m"], contrary=[(text, [0], old_id)], date=at(minutes)),
    )  # fmt: skip
    return (await db.get_interaction(world.org_id, world.user_id, ix_id)).memories[0].memory_id


class HistoryTests(GraphSuiteBase):
    """Contradiction chains."""

    async def _chain(self, db: BaseGraphDB, world: World) -> list[str]:
        """v1 -> v2 -> v3 -> v4; returns the ids oldest first."""
        ids = [await _first(db, world, "v1", 0)]
        for i in range(2, 5):
            ids.append(await _supersede(db, world, ids[-1], f"v{i}", i))
        return ids

    async def _texts(self, db: BaseGraphDB, world: World, memory_id: str) -> list[str]:
        history = await db.get_user_memory_history(world.org_id, world.user_id, memory_id)
        return [m.memory for m in history]

    async def test_links_and_history_from_any_version(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check contrary memories link old -> new and history returns the whole
        chain newest first whichever version's id is given."""
        ids = await self._chain(graph_db, world)
        links = await graph_db.get_user_memory_links(world.org_id, world.user_id)
        assert sorted(links) == sorted(itertools.pairwise(ids))
        for memory_id in ids:
            assert await self._texts(graph_db, world, memory_id) == ["v4", "v3", "v2", "v1"]

    async def test_resolution_returns_newest_version(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check fetch-resolved follows outgoing links to the chain's head."""
        ids = await self._chain(graph_db, world)
        other = await _first(graph_db, world, "unrelated", 9)
        resolved = await graph_db.fetch_user_memories_resolved(
            [world.ref(ids[0]), world.ref(other), world.ref(ids[2]), world.ref(ids[3])]
        )
        # v1, v3 and v4 all resolve to v4, which keeps its first (most relevant) position.
        assert [m.memory for m in resolved] == ["v4", "unrelated"]
        assert resolved[0].memory_id == ids[3]
        assert [s.content for s in resolved[0].message_sources] == ["m"]

    async def test_fork_yields_every_head(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check a memory contradicted twice resolves to both newer versions."""
        root = await _first(graph_db, world, "root", 0)
        left = await _supersede(graph_db, world, root, "left", 1)
        right = await _supersede(graph_db, world, root, "right", 2)
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(root)])
        assert [m.memory for m in resolved] == ["right", "left"]
        for memory_id in (root, left, right):
            assert await self._texts(graph_db, world, memory_id) == ["right", "left", "root"]
        resolved_left = await graph_db.fetch_user_memories_resolved([world.ref(left)])
        assert [m.memory for m in resolved_left] == ["left"]

    async def test_two_contrary_memories_in_one_write(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check several contrary memories of one write each link correctly."""
        a = await _first(graph_db, world, "a1", 0)
        b = await _first(graph_db, world, "b1", 1)
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id,
            dto(["m"], ["fresh"], contrary=[("a2", [0], a), ("b2", [], b)], date=at(2)),
        )  # fmt: skip
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(b), world.ref(a)])
        assert [m.memory for m in resolved] == ["b2", "a2"]
        assert len(await graph_db.get_user_memory_links(world.org_id, world.user_id)) == 2

    async def test_contrary_with_unknown_id_gets_no_link(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check an unknown contradicted id stores the memory without a link."""
        await graph_db.save_interaction_with_memories(
            world.org_id, world.agent_id, world.user_id,
            dto(["m"], contrary=[("orphan", [0], str(uuid.uuid4()))]),
        )  # fmt: skip
        memories = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in memories] == ["orphan"]
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == []

    async def test_delete_in_the_middle_relinks(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check deleting a middle version links its predecessor to its successor."""
        ids = await self._chain(graph_db, world)
        await graph_db.delete_user_memory(world.org_id, world.user_id, ids[1])
        await graph_db.delete_user_memory(world.org_id, world.user_id, ids[2])
        assert await graph_db.get_user_memory_links(world.org_id, world.user_id) == [
            (ids[0], ids[3])
        ]
        assert await self._texts(graph_db, world, ids[0]) == ["v4", "v1"]
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(ids[0])])
        assert [m.memory for m in resolved] == ["v4"]

    async def test_delete_head_and_root(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check deleting the newest (or oldest) version keeps the rest chained."""
        ids = await self._chain(graph_db, world)
        await graph_db.delete_user_memory(world.org_id, world.user_id, ids[3])
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(ids[0])])
        assert [m.memory for m in resolved] == ["v3"]
        await graph_db.delete_user_memory(world.org_id, world.user_id, ids[0])
        assert await self._texts(graph_db, world, ids[1]) == ["v3", "v2"]
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory_history(world.org_id, world.user_id, ids[0])

    async def test_delete_fork_point_relinks_to_every_branch(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check deleting a fork point links its predecessor to every branch."""
        root = await _first(graph_db, world, "root", 0)
        middle = await _supersede(graph_db, world, root, "middle", 1)
        left = await _supersede(graph_db, world, middle, "left", 2)
        right = await _supersede(graph_db, world, middle, "right", 3)
        await graph_db.delete_user_memory(world.org_id, world.user_id, middle)
        assert sorted(await graph_db.get_user_memory_links(world.org_id, world.user_id)) == sorted(
            [(root, left), (root, right)]
        )
        assert await self._texts(graph_db, world, left) == ["right", "left", "root"]

    async def test_delete_interaction_relinks_chains_through_it(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check deleting an interaction re-links chains around its memories."""
        ids = await self._chain(graph_db, world)
        middle = await graph_db.get_user_memory(world.org_id, world.user_id, ids[1])
        await graph_db.delete_user_interaction_and_its_memories(
            world.org_id, world.user_id, middle.interaction_id or ""
        )
        assert await self._texts(graph_db, world, ids[0]) == ["v4", "v3", "v1"]
        assert (ids[0], ids[2]) in await graph_db.get_user_memory_links(world.org_id, world.user_id)

    async def test_history_of_unknown_memory(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check history of a missing memory raises MemoryNotFoundError."""
        with pytest.raises(MemoryNotFoundError):
            await graph_db.get_user_memory_history(world.org_id, world.user_id, str(uuid.uuid4()))

    async def test_update_can_contradict(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check update_interaction_and_memories also links contrary memories."""
        old = await _first(graph_db, world, "lives in Oslo", 0)
        ix_id = (await graph_db.get_user_memory(world.org_id, world.user_id, old)).interaction_id
        await graph_db.update_interaction_and_memories(
            world.org_id, world.agent_id, world.user_id, ix_id or "",
            dto(["m", "moved"], contrary=[("lives in Bergen", [1], old)], date=at(3)),
        )  # fmt: skip
        resolved = await graph_db.fetch_user_memories_resolved([world.ref(old)])
        assert [m.memory for m in resolved] == ["lives in Bergen"]
        assert [s.content for s in resolved[0].message_sources] == ["moved"]
        everything = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        assert [m.memory for m in everything] == ["lives in Bergen", "lives in Oslo"]
