"""``VectorDBFilterTests``: metadata and filter behaviour every ``BaseVectorDB`` must show.

Mixed into :class:`~memora_engine.testing.vector_suite.VectorDBConformanceTests`, so every
backend's conformance class runs it with its ``vector_db`` fixture. A backend test class may
implement :meth:`strip_payload` (remove payload keys from a stored point) so the suite can check
that points written before metadata existed still read.

The reference semantics are :func:`memora_engine.filters.matches`; random filters come from a
seeded generator (:func:`random_filter`), so a failure names a reproducible filter.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from memora_engine.errors import InvalidInputError
from memora_engine.filters import matches, memory_record, parse_filter
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope
from memora_engine.vector_db.fusion import fuse_rrf

__all__ = ["VectorDBFilterTests", "random_filter", "random_metadata"]

USER = MemorySearchScope.USER
ORG = MemorySearchScope.ORGANIZATION

_TOPICS = ["food", "travel", "music"]
_TAGS = ["red", "green", "blue"]
_PEOPLE = ["Jake", "Mary", "Ana", "Raj", "Kim", "Omar"]
_THINGS = ["hiking", "jazz", "sushi", "chess", "peanuts", "violin", "curry", "tennis"]
_INTERACTIONS = ["int-1", "int-2", None]
QUERY = "who likes hiking, jazz or spicy curry"


def random_metadata(rng: random.Random) -> dict[str, Any]:
    """Metadata drawn from a small vocabulary (strings, ints, floats, bools, lists)."""
    candidates: dict[str, Any] = {
        "topic": rng.choice(_TOPICS),
        "score": rng.choice([1, 2, 3, 2.5, -1]),
        "flag": rng.choice([True, False]),
        "tags": rng.sample([*_TAGS, True, 7], rng.randint(0, 3)),
    }
    return {k: v for k, v in candidates.items() if rng.random() < 0.7}


def _leaf(rng: random.Random, t0: Any) -> dict[str, Any]:
    kind = rng.randrange(9)
    if kind == 0:
        return {"topic": rng.choice(_TOPICS)}
    if kind == 1:
        return {"tags": {rng.choice(["$in", "$nin"]): rng.sample([*_TAGS, True, 7], 2)}}
    if kind == 2:
        op = rng.choice(["$gt", "$gte", "$lt", "$lte"])
        return {"score": {op: rng.choice([1, 2, 2.5, 0])}}
    if kind == 3:
        return {"flag": rng.choice([True, False, {"$ne": True}])}
    if kind == 4:
        return {rng.choice(["topic", "tags", "score"]): {"$exists": rng.choice([True, False])}}
    if kind == 5:
        return {"topic": {"$ne": rng.choice(_TOPICS)}}
    if kind == 6:
        return {"agent_id": rng.choice(["agent-x", "agent-y"])}
    if kind == 7:
        return {"interaction_id": {rng.choice(["$in", "$nin"]): ["int-1"]}}
    op = rng.choice(["$gt", "$gte", "$lt", "$lte"])
    return {"obtained_at": {op: (t0 + timedelta(days=rng.randint(0, 9))).isoformat()}}


def random_filter(rng: random.Random, t0: Any, depth: int = 0) -> dict[str, Any]:
    """A random filter over the vocabulary of :func:`random_metadata` and the built-ins."""
    if depth >= 2 or rng.random() < 0.55:
        return _leaf(rng, t0)
    op = rng.choice(["$and", "$or", "$not"])
    if op == "$not":
        return {"$not": random_filter(rng, t0, depth + 1)}
    return {op: [random_filter(rng, t0, depth + 1) for _ in range(rng.randint(1, 3))]}


def _ids(hits: Sequence[tuple[Memory, float]]) -> list[str]:
    return [m.memory_id for m, _ in hits]


def _assert_same_ranking(
    hits: Sequence[tuple[Memory, float]], expected: Sequence[tuple[str, float]], where: object
) -> None:
    """Same scores in the same order, and the same ids per score (equal scores may swap)."""
    got = [(m.memory_id, s) for m, s in hits]
    assert [round(s, 5) for _, s in got] == [round(s, 5) for _, s in expected], where
    bands: dict[float, set[str]] = {}
    for memory_id, score in expected:
        bands.setdefault(round(score, 5), set()).add(memory_id)
    last = round(expected[-1][1], 5) if expected else None
    for memory_id, score in got:
        band = round(score, 5)
        assert memory_id in bands[band] or band == last, where


def _check_rrf(
    config: Any,
    lists: dict[str, list[str]],
    hits: Sequence[tuple[Memory, float]],
    spec: object,
) -> None:
    """``hits`` follow the RRF fusion of the filtered dense and sparse candidate lists.

    Checked on order, with a 3 % tolerance on the fused score: Qdrant's weighted RRF places the
    weight slightly differently from :func:`~memora_engine.vector_db.fusion.fuse_rrf`.
    """
    fused = dict(
        fuse_rrf(
            [[(i, 0.0) for i in lists["dense"]], [(i, 0.0) for i in lists["sparse"]]],
            k=config.rrf_k,
            weights=(config.dense_weight, config.sparse_weight),
        )
    )
    got = _ids(hits)
    assert set(got) <= set(fused), spec
    for better, worse in itertools.pairwise(got):
        assert fused[better] >= fused[worse] * 0.97, ("hybrid order", spec)
    if got:
        floor = fused[got[-1]] * 1.03
        assert all(s <= floor for i, s in fused.items() if i not in got), ("hybrid cut", spec)


class VectorDBFilterTests:
    """Metadata round-trip, filter push-down, tenancy with filters, bad filters."""

    async def strip_payload(self, vector_db: BaseVectorDB, memory_id: str, keys: list[str]) -> None:
        """Remove ``keys`` from a stored point's payload (override in the backend's tests)."""
        raise NotImplementedError

    def _population(self, n: int, seed: int) -> list[Memory]:
        from memora_engine.testing.vector_suite import T0, make_memory

        rng = random.Random(seed)
        memories = []
        for i in range(n):
            # (thing, length) is unique per memory, so no two BM25 scores tie.
            person, thing = _PEOPLE[i % len(_PEOPLE)], _THINGS[(i + seed) % len(_THINGS)]
            filler = " ".join(["trip"] * (1 + i // len(_THINGS)))
            memory = make_memory(
                f"{person} talked about {thing} on a {filler} numbered {i}",
                agent_id=rng.choice(["agent-x", "agent-y"]),
                obtained_at=T0 + timedelta(days=rng.randint(0, 9), seconds=i),
            )
            memories.append(
                memory.model_copy(
                    update={
                        "interaction_id": rng.choice(_INTERACTIONS),
                        "metadata": random_metadata(rng),
                    }
                )
            )
        return memories

    # -- metadata ------------------------------------------------------------------------------

    async def test_metadata_and_interaction_round_trip(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `build_payload` / `memory_from_payload` (bools are encoded)."""
        from memora_engine.testing.vector_suite import ALLERGY, make_memory

        metadata: dict[str, Any] = {
            "topic": "health",
            "count": 3,
            "ratio": 2.0,
            "ok": True,
            "no": False,
            "tags": ["a", True, 2, 0.5],
            "empty": [],
        }
        memory = make_memory(ALLERGY).model_copy(
            update={"interaction_id": "int-1", "metadata": metadata}
        )
        await vector_db.upsert_memories([memory])
        [[(hit, _)]] = await vector_db.search_memories(["peanuts"], USER, "org-a", "user-1")
        assert hit == memory
        assert hit.metadata == metadata
        assert type(hit.metadata["ok"]) is bool
        assert type(hit.metadata["count"]) is int
        assert type(hit.metadata["ratio"]) is float
        assert hit.interaction_id == "int-1"

    async def test_points_from_earlier_versions_still_read(self, vector_db: BaseVectorDB) -> None:
        """If this fails, `memory_from_payload` needs `metadata` / `interaction_id` keys."""
        from memora_engine.testing.vector_suite import ALLERGY, make_memory

        memory = make_memory(ALLERGY).model_copy(
            update={"interaction_id": "int-1", "metadata": {"topic": "health"}}
        )
        await vector_db.upsert_memories([memory])
        try:
            await self.strip_payload(vector_db, memory.memory_id, ["metadata", "interaction_id"])
        except NotImplementedError:
            pytest.skip("the backend's test class does not implement strip_payload")
        [[(hit, _)]] = await vector_db.search_memories(["peanuts"], USER, "org-a", "user-1")
        assert hit.metadata == {}
        assert hit.interaction_id is None
        for spec, found in (
            ({"topic": {"$exists": False}}, True),
            ({"topic": {"$ne": "health"}}, True),
            ({"interaction_id": {"$exists": False}}, True),
            ({"topic": "health"}, False),
        ):
            [hits] = await vector_db.search_memories(
                ["peanuts"], USER, "org-a", "user-1", filter=parse_filter(spec)
            )
            assert _ids(hits) == ([memory.memory_id] if found else []), spec

    # -- filters -------------------------------------------------------------------------------

    async def test_filtered_search_is_unfiltered_ranking_minus_non_matches(
        self, vector_db: BaseVectorDB
    ) -> None:
        """If this fails, the filter is not inside every prefetch / query (or mistranslated).

        Dense-only and sparse-only search: the filtered list is exactly the unfiltered one
        with non-matching memories removed, cut at ``limit``. Hybrid (RRF) search fuses the
        ranks each modality gives within the matching memories, so its filtered list is the
        RRF fusion of those two filtered lists (the set is the same; the order can differ
        from the unfiltered hybrid order because ranks in each list move up).
        """
        from memora_engine.testing.vector_suite import T0

        n = 36
        memories = self._population(n, seed=7)
        await vector_db.upsert_memories(memories)
        by_id = {m.memory_id: m for m in memories}
        config = getattr(vector_db, "search_config", None)
        rng = random.Random(11)
        for round_ in range(30):
            spec = random_filter(rng, T0)
            tree = parse_filter(spec)
            wanted = {i for i, m in by_id.items() if matches(tree, memory_record(m))}
            limit = rng.choice([3, 10, n])
            [full] = await vector_db.search_memories([QUERY], USER, "org-a", "user-1", limit=n)
            [hits] = await vector_db.search_memories(
                [QUERY], USER, "org-a", "user-1", limit=limit, filter=tree
            )
            assert all(matches(tree, memory_record(m)) for m, _ in hits), spec
            scored_full = {i for i in _ids(full)}
            expected_set = wanted & scored_full
            assert len(hits) == min(limit, len(expected_set)), (round_, spec)
            if limit == n:
                assert set(_ids(hits)) == expected_set, spec
            if config is None:
                continue
            lists: dict[str, list[str]] = {}
            dense_depth, sparse_depth = config.depths(limit)
            for mode, depth in (("dense", dense_depth), ("sparse", sparse_depth)):
                vector_db.search_config = config.model_copy(update={"mode": mode})  # type: ignore[attr-defined]
                try:
                    [ranked] = await vector_db.search_memories(
                        [QUERY], USER, "org-a", "user-1", limit=n
                    )
                    [filtered] = await vector_db.search_memories(
                        [QUERY], USER, "org-a", "user-1", limit=limit, filter=tree
                    )
                    [deep] = await vector_db.search_memories(
                        [QUERY], USER, "org-a", "user-1", limit=depth, filter=tree
                    )
                finally:
                    vector_db.search_config = config  # type: ignore[attr-defined]
                kept = [(m.memory_id, s) for m, s in ranked if m.memory_id in wanted]
                _assert_same_ranking(filtered, kept[:limit], (mode, spec))
                lists[mode] = _ids(deep)
            if config.mode == "hybrid" and config.fusion == "rrf":
                _check_rrf(config, lists, hits, spec)

    async def test_filter_keeps_limit(self, vector_db: BaseVectorDB) -> None:
        """If this fails, the filter is applied after the candidate lists (too few hits)."""
        from memora_engine.testing.vector_suite import make_memory

        memories = [
            make_memory(f"Jake talked about hiking on trip number {i}").model_copy(
                update={"metadata": {"keep": i % 10 == 0}}
            )
            for i in range(60)
        ]
        await vector_db.upsert_memories(memories)
        [hits] = await vector_db.search_memories(
            ["Jake hiking trip"],
            USER,
            "org-a",
            "user-1",
            limit=5,
            filter=parse_filter({"keep": True}),
        )
        assert len(hits) == 5
        assert all(m.metadata == {"keep": True} for m, _ in hits)

    async def test_filters_never_cross_tenants(self, vector_db: BaseVectorDB) -> None:
        """If this fails, the caller's filter replaced the scope conditions instead of joining."""
        from memora_engine.testing.vector_suite import ALLERGY, make_memory

        meta = {"metadata": {"topic": "food"}}
        mine = make_memory(ALLERGY, agent_id="agent-x").model_copy(update=meta)
        others = [
            make_memory(ALLERGY, user_id="user-2").model_copy(update=meta),
            make_memory(ALLERGY, org_id="org-b").model_copy(update=meta),
        ]
        await vector_db.upsert_memories([mine, *others])
        everything = parse_filter(
            {"$or": [{"topic": {"$exists": True}}, {"topic": {"$exists": False}}]}
        )
        for tree in (parse_filter({"topic": "food"}), everything):
            [hits] = await vector_db.search_memories(
                [ALLERGY], USER, "org-a", "user-1", limit=10, filter=tree
            )
            assert _ids(hits) == [mine.memory_id]
            [org_hits] = await vector_db.search_memories(
                [ALLERGY], ORG, "org-a", limit=10, filter=tree
            )
            assert set(_ids(org_hits)) == {mine.memory_id, others[0].memory_id}
        [none] = await vector_db.search_memories(
            [ALLERGY],
            USER,
            "org-a",
            "user-1",
            "agent-x",
            filter=parse_filter({"agent_id": "agent-y"}),
        )
        assert none == []

    async def test_unparsed_filter_is_rejected(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `plan_search` validates `filter` before any request."""
        for bad in ({"topic": "food"}, "topic=food", [parse_filter({"topic": "food"})], 3):
            with pytest.raises(InvalidInputError, match="filter"):
                await vector_db.search_memories(["q"], USER, "org-a", "user-1", filter=bad)  # type: ignore[arg-type]

    async def test_batch_search_filters_every_query(self, vector_db: BaseVectorDB) -> None:
        """If this fails, the filter reaches only the first request of a batch."""
        memories = self._population(24, seed=3)
        await vector_db.upsert_memories(memories)
        tree = parse_filter({"topic": "food"})
        results = await vector_db.search_memories(
            ["hiking", "jazz", "chess"], USER, "org-a", "user-1", limit=24, filter=tree
        )
        wanted = {m.memory_id for m in memories if m.metadata.get("topic") == "food"}
        for hits in results:
            assert hits
            assert set(_ids(hits)) <= wanted
