"""Filtered listing: the store's filter equals the reference semantics, within one tenant."""

from __future__ import annotations

import random
from typing import Any

from memora_engine.filters import Metadata, matches, memory_record, parse_filter
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.models import Memory
from memora_engine.testing.graph_suite.metadata import save_with_metadata
from memora_engine.testing.graph_suite.support import GraphSuiteBase, World, at, make_world

__all__ = ["FilterTests", "random_filter", "random_metadata"]

_KEYS = ("topic", "score", "flag", "tags-x")
# Values chosen to collide across types: 1 / 1.0 / True / "1", empty and mixed lists.
_SCALARS: tuple[Any, ...] = ("food", "work", "1", "", 1, 1.0, 2, -3.5, 0, True, False)


def random_metadata(rng: random.Random) -> Metadata:
    """A small metadata object whose keys and values often collide with other memories'."""
    meta: Metadata = {}
    for key in rng.sample(_KEYS, rng.randint(0, len(_KEYS))):
        if rng.random() < 0.3:
            meta[key] = [rng.choice(_SCALARS) for _ in range(rng.randint(0, 3))]
        else:
            meta[key] = rng.choice(_SCALARS)
    return meta


def random_filter(rng: random.Random, builtins: dict[str, list[Any]], depth: int = 0) -> Any:
    """A random filter dict over ``_KEYS`` and the built-in fields (values from ``builtins``)."""
    roll = rng.random()
    if depth < 2 and roll < 0.25:
        op = rng.choice(("$and", "$or"))
        return {op: [random_filter(rng, builtins, depth + 1) for _ in range(rng.randint(1, 3))]}
    if depth < 2 and roll < 0.35:
        return {"$not": random_filter(rng, builtins, depth + 1)}
    if roll < 0.5:
        field = rng.choice(sorted(builtins))
        values = builtins[field]
        if field == "obtained_at":
            return {field: {rng.choice(("$gt", "$gte", "$lt", "$lte")): rng.choice(values)}}
        op = rng.choice(("$eq", "$ne", "$in", "$nin", "$exists"))
    else:
        field = rng.choice(_KEYS)
        values = list(_SCALARS)
        op = rng.choice(("$eq", "$ne", "$in", "$nin", "$exists", "$gt", "$gte", "$lt", "$lte"))
    if op == "$exists":
        return {field: {op: rng.random() < 0.5}}
    if op in ("$in", "$nin"):
        return {field: {op: rng.sample(values, rng.randint(1, 3))}}
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {field: {op: rng.choice((0, 1, 1.5, -3.5, 2))}}
    value = rng.choice(values)
    return {field: value} if op == "$eq" and rng.random() < 0.5 else {field: {op: value}}


class FilterTests(GraphSuiteBase):
    """``get_all_user_memories(filter=...)``."""

    async def _corpus(self, db: BaseGraphDB, world: World, seed: int) -> dict[str, list[Any]]:
        """~24 memories over 2 agents and 8 interactions with random metadata; returns the
        values the built-in fields take (for the filter generator)."""
        rng = random.Random(seed)
        other = await db.create_agent(world.org_id, "Second")
        agents = [world.agent_id, other.agent_id]
        for i in range(8):
            items = [(f"m{i}-{j}", random_metadata(rng)) for j in range(3)]
            await save_with_metadata(db, world, items, minutes=i, agent_id=agents[i % 2])
        listed = await db.get_all_user_memories(world.org_id, world.user_id)
        return {
            "agent_id": [*agents, "missing-agent"],
            "interaction_id": sorted({m.interaction_id or "" for m in listed})[:3],
            "obtained_at": [at(-1), at(2), at(3.5), at(7), at(9)],
        }

    async def test_filtered_listing_equals_reference_semantics(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the backend's filter translation against filters.matches: bools
        apart from numbers, lists (any element), $ne/$nin on missing keys, empty lists as
        missing, ranges on numbers only, and the built-in fields."""
        builtins = await self._corpus(graph_db, world, seed=14)
        everything = await graph_db.get_all_user_memories(world.org_id, world.user_id)
        rng = random.Random(1414)
        for _ in range(150):
            spec = random_filter(rng, builtins)
            tree = parse_filter(spec)
            want = [m.memory_id for m in everything if matches(tree, memory_record(m))]
            got = await graph_db.get_all_user_memories(world.org_id, world.user_id, filter=tree)
            assert [m.memory_id for m in got] == want, spec

    async def test_filter_pages_and_agent_scope(self, graph_db: BaseGraphDB, world: World) -> None:
        """If this fails, check skip / limit count matching memories only, and agent_id and
        a filter combine with "and"."""
        builtins = await self._corpus(graph_db, world, seed=7)
        tree = parse_filter({"$or": [{"flag": {"$exists": False}}, {"topic": "food"}]})
        full = await graph_db.get_all_user_memories(world.org_id, world.user_id, filter=tree)
        assert len(full) >= 4
        page = await graph_db.get_all_user_memories(
            world.org_id, world.user_id, skip=1, limit=2, filter=tree
        )
        assert [m.memory_id for m in page] == [m.memory_id for m in full[1:3]]
        agent = builtins["agent_id"][1]
        scoped = await graph_db.get_all_user_memories(
            world.org_id, world.user_id, agent, filter=tree
        )
        assert [m.memory_id for m in scoped] == [m.memory_id for m in full if m.agent_id == agent]

    async def test_filter_never_reaches_another_tenant(
        self, graph_db: BaseGraphDB, world: World
    ) -> None:
        """If this fails, check the filter is added to the tenant scope, never replaces it
        (negations and $or included)."""
        same_org = await graph_db.create_user(world.org_id, "Ann")
        neighbour = World(world.org_id, same_org.user_id, world.agent_id)
        elsewhere = await make_world(graph_db, "Other", "Bob", "Bot")
        mine = await save_with_metadata(graph_db, world, [("mine", {"topic": "food"})])
        for w in (neighbour, elsewhere):
            await save_with_metadata(graph_db, w, [("theirs", {"topic": "food"}), ("x", None)])
        for spec in (
            {"topic": "food"},
            {"topic": {"$ne": "nothing"}},
            {"$or": [{"topic": {"$exists": False}}, {"topic": "food"}]},
            {"$not": {"agent_id": "nobody"}},
            {"agent_id": {"$exists": True}},
        ):
            got: list[Memory] = await graph_db.get_all_user_memories(
                world.org_id, world.user_id, filter=parse_filter(spec)
            )
            assert [m.memory_id for m in got] == mine, spec
