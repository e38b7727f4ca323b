"""``VectorDBConformanceTests``: the behaviour every ``BaseVectorDB`` must show.

Subclass it in a backend's test module and provide the ``vector_db`` fixture (an empty, set-up
store). Persistent stores also set ``supports_reopen = True`` and implement :meth:`reopen`.

Examples:
    >>> class TestMyVectorDB(VectorDBConformanceTests):  # doctest: +SKIP
    ...     @pytest.fixture
    ...     async def vector_db(self, dense_encoder, sparse_encoder):
    ...         async with MyVectorDB(dense_encoder=dense_encoder,
    ...                               sparse_encoder=sparse_encoder) as store:
    ...             yield store
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from memora_engine.errors import InvalidInputError
from memora_engine.limits import MAX_QUERIES_PER_SEARCH
from memora_engine.schema.models import Memory
from memora_engine.testing.vector_filter_suite import VectorDBFilterTests
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope

__all__ = ["VectorDBConformanceTests"]

USER = MemorySearchScope.USER
ORG = MemorySearchScope.ORGANIZATION
T0 = datetime(2024, 5, 8, 13, 56, 7, 123456, tzinfo=timezone.utc)

ALLERGY = "Jake is allergic to peanuts and carries an epinephrine pen"
HIKING = "Jake loves hiking in the Swiss Alps every summer"
VIOLIN = "Mary has played the violin in an orchestra since 2015"
COOKING = "Mary's favourite dish is a spicy Thai green curry"


def make_memory(
    text: str,
    *,
    org_id: str = "org-a",
    user_id: str = "user-1",
    agent_id: str = "agent-x",
    obtained_at: datetime = T0,
    memory_id: str | None = None,
) -> Memory:
    """A memory with a fresh uuid (test helper)."""
    return Memory(
        org_id=org_id,
        user_id=user_id,
        agent_id=agent_id,
        memory_id=memory_id or str(uuid.uuid4()),
        memory=text,
        obtained_at=obtained_at,
    )


def texts(hits: list[tuple[Memory, float]]) -> list[str]:
    """The memory texts of a hit list, in order."""
    return [memory.memory for memory, _ in hits]


class VectorDBConformanceTests(VectorDBFilterTests):
    """Abstract conformance tests; the subclass provides the ``vector_db`` fixture.

    Metadata and filter tests come from
    :class:`~memora_engine.testing.vector_filter_suite.VectorDBFilterTests`.
    """

    #: Set True in subclasses whose store persists, and implement :meth:`reopen`.
    supports_reopen: bool = False

    @pytest.fixture
    async def vector_db(self) -> BaseVectorDB:
        """Yield an empty, set-up store (override in the subclass)."""
        raise NotImplementedError("Provide a `vector_db` fixture in the test class.")

    async def reopen(self, vector_db: BaseVectorDB) -> BaseVectorDB:
        """Close ``vector_db`` and return a new, set-up store on the same storage."""
        raise NotImplementedError

    # -- scopes and filters ------------------------------------------------------------------

    async def test_user_scope_sees_only_that_user(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the USER filter on `org_user_id` ("org:user")."""
        await vector_db.upsert_memories(
            [make_memory(ALLERGY), make_memory(VIOLIN, user_id="user-2")]
        )
        [hits] = await vector_db.search_memories(["allergy"], USER, "org-a", "user-1")
        assert texts(hits) == [ALLERGY]
        assert all(m.user_id == "user-1" and m.org_id == "org-a" for m, _ in hits)

    async def test_user_scope_needs_user_id(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that search validates the scope with `check_scope`."""
        with pytest.raises(InvalidInputError, match="user_id"):
            await vector_db.search_memories(["allergy"], USER, "org-a")

    async def test_unknown_scope_is_rejected(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that the scope is converted with `MemorySearchScope(...)`."""
        with pytest.raises(InvalidInputError, match="memory_search_scope"):
            await vector_db.search_memories(["allergy"], "planet", "org-a", "user-1")  # type: ignore[arg-type]

    async def test_org_scope_sees_every_user_of_the_org(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the ORGANIZATION filter on `org_id` (user_id must not narrow)."""
        await vector_db.upsert_memories(
            [
                make_memory(ALLERGY),
                make_memory(VIOLIN, user_id="user-2"),
                make_memory(HIKING, org_id="org-b"),
            ]
        )
        [hits] = await vector_db.search_memories(["hobbies and health"], ORG, "org-a", limit=10)
        assert sorted(texts(hits)) == sorted([ALLERGY, VIOLIN])

    async def test_agent_filter_narrows_user_scope(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that a given agent_id adds an `agent_id` condition (USER)."""
        await vector_db.upsert_memories(
            [make_memory(ALLERGY, agent_id="agent-x"), make_memory(HIKING, agent_id="agent-y")]
        )
        [hits] = await vector_db.search_memories(["Jake"], USER, "org-a", "user-1", "agent-y")
        assert texts(hits) == [HIKING]
        [both] = await vector_db.search_memories(["Jake"], USER, "org-a", "user-1")
        assert sorted(texts(both)) == sorted([ALLERGY, HIKING])

    async def test_agent_filter_narrows_org_scope(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that a given agent_id adds an `agent_id` condition (ORG)."""
        await vector_db.upsert_memories(
            [
                make_memory(ALLERGY, agent_id="agent-x"),
                make_memory(VIOLIN, user_id="user-2", agent_id="agent-x"),
                make_memory(COOKING, user_id="user-2", agent_id="agent-y"),
            ]
        )
        [hits] = await vector_db.search_memories(["anything"], ORG, "org-a", None, "agent-x")
        assert sorted(texts(hits)) == sorted([ALLERGY, VIOLIN])

    # -- tenant isolation --------------------------------------------------------------------

    async def test_same_text_in_two_orgs_never_crosses(self, vector_db: BaseVectorDB) -> None:
        """If this fails, a query path lacks the tenant filter (org_id / org_user_id)."""
        a = make_memory(ALLERGY, org_id="org-a", user_id="shared")
        b = make_memory(ALLERGY, org_id="org-b", user_id="shared")
        await vector_db.upsert_memories([a, b])
        for org, expected in (("org-a", a), ("org-b", b)):
            for scope in (USER, ORG):
                [hits] = await vector_db.search_memories([ALLERGY], scope, org, "shared")
                assert [m.memory_id for m, _ in hits] == [expected.memory_id]
                assert hits[0][0].org_id == org

    async def test_same_text_for_two_users_never_crosses(self, vector_db: BaseVectorDB) -> None:
        """If this fails, the USER filter does not pin both org and user."""
        one = make_memory(ALLERGY, user_id="user-1")
        two = make_memory(ALLERGY, user_id="user-2")
        await vector_db.upsert_memories([one, two])
        [hits_1, hits_2] = await vector_db.search_memories(
            [ALLERGY, "peanuts"], USER, "org-a", "user-1"
        )
        assert [m.memory_id for m, _ in hits_1] == [one.memory_id]
        assert [m.memory_id for m, _ in hits_2] == [one.memory_id]
        [hits] = await vector_db.search_memories([ALLERGY], USER, "org-a", "user-2")
        assert [m.memory_id for m, _ in hits] == [two.memory_id]

    async def test_user_id_of_other_org_sees_nothing(self, vector_db: BaseVectorDB) -> None:
        """If this fails, USER scope matches on user_id alone instead of org and user."""
        await vector_db.upsert_memories([make_memory(ALLERGY, org_id="org-a")])
        [hits] = await vector_db.search_memories([ALLERGY], USER, "org-b", "user-1")
        assert hits == []

    # -- batch shape, ranking, limits ----------------------------------------------------------

    async def test_batch_returns_one_list_per_query(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that results are mapped back to queries in order."""
        await vector_db.upsert_memories(
            [make_memory(t) for t in (ALLERGY, HIKING, VIOLIN, COOKING)]
        )
        queries = ["peanut allergy", "violin orchestra", "Thai curry", "mountain hiking"]
        results = await vector_db.search_memories(queries, USER, "org-a", "user-1", limit=4)
        assert len(results) == len(queries)
        assert [hits[0][0].memory for hits in results] == [ALLERGY, VIOLIN, COOKING, HIKING]

    async def test_batch_with_no_hits_is_list_of_empty_lists(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that a batch with no hits returns `[[], [], []]`, not `[]`."""
        results = await vector_db.search_memories(["a", "b", "c"], USER, "org-a", "user-1")
        assert results == [[], [], []]
        await vector_db.upsert_memories([make_memory(ALLERGY, org_id="org-b")])
        results = await vector_db.search_memories(["peanuts", "allergy"], ORG, "org-a")
        assert results == [[], []]

    async def test_hits_are_ordered_by_score(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that fused scores come back best first."""
        await vector_db.upsert_memories(
            [make_memory(t) for t in (ALLERGY, HIKING, VIOLIN, COOKING)]
        )
        [hits] = await vector_db.search_memories(["peanut allergy"], USER, "org-a", "user-1")
        scores = [score for _, score in hits]
        assert scores == sorted(scores, reverse=True)
        assert hits[0][0].memory == ALLERGY
        assert all(isinstance(score, float) for score in scores)

    async def test_stopword_only_query_still_searches(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the handling of queries whose sparse vector is empty."""
        await vector_db.upsert_memories([make_memory(ALLERGY)])
        [hits] = await vector_db.search_memories(["what is it"], USER, "org-a", "user-1")
        assert len(hits) <= 1
        assert all(m.memory == ALLERGY for m, _ in hits)

    async def test_limit_caps_each_list(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that `limit` reaches the query request."""
        await vector_db.upsert_memories(
            [make_memory(f"Jake visited city number {i} on his trip") for i in range(15)]
        )
        [short] = await vector_db.search_memories(["Jake trip"], USER, "org-a", "user-1", limit=3)
        [default] = await vector_db.search_memories(["Jake trip"], USER, "org-a", "user-1")
        assert len(short) == 3
        assert len(default) == 10

    async def test_search_memory_is_one_query(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `search_memory` delegates to `search_memories`."""
        memory = make_memory(ALLERGY)
        await vector_db.upsert_memories([memory])
        hits = await vector_db.search_memory("peanuts", USER, "org-a", "user-1")
        assert [m.memory_id for m, _ in hits] == [memory.memory_id]

    async def test_hit_carries_the_indexed_memory(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the payload written on upsert and the hit-to-Memory mapping."""
        memory = make_memory("Zoë ❤ crème brûlée, 寿司 and user_u1's agent_a1", agent_id="agent-z")
        await vector_db.upsert_memories([memory])
        [[(hit, _)]] = await vector_db.search_memories(["crème brûlée"], USER, "org-a", "user-1")
        assert hit == memory
        assert hit.interaction_id is None
        assert hit.message_sources == []

    # -- writes ------------------------------------------------------------------------------

    async def test_add_memories_original_signature(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `add_memories` builds one Memory per (id, text)."""
        ids = [str(uuid.uuid4()), str(uuid.uuid4())]
        await vector_db.add_memories("org-a", "user-1", "agent-x", ids, [ALLERGY, HIKING], T0)
        assert await vector_db.existing_ids(ids) == set(ids)
        with pytest.raises(InvalidInputError):
            await vector_db.add_memories("org-a", "user-1", "agent-x", ids, [ALLERGY], T0)
        with pytest.raises(InvalidInputError):
            await vector_db.add_memories("org-a", "user-1", "agent-x", [], [], T0)

    async def test_readding_same_id_is_idempotent(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that points are upserted by memory id (not appended)."""
        memory = make_memory(ALLERGY)
        await vector_db.upsert_memories([memory])
        await vector_db.upsert_memories([memory])
        assert await vector_db.count() == 1
        changed = memory.model_copy(update={"memory": HIKING, "obtained_at": T0 + timedelta(1)})
        await vector_db.upsert_memories([changed])
        assert await vector_db.count() == 1
        [hits] = await vector_db.search_memories(["hiking"], USER, "org-a", "user-1")
        assert [m for m, _ in hits] == [changed]

    async def test_upper_case_id_is_the_same_point(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that memory ids are canonicalized (lower-case uuid)."""
        memory = make_memory(ALLERGY)
        upper = memory.model_copy(update={"memory_id": memory.memory_id.upper()})
        await vector_db.upsert_memories([upper])
        assert await vector_db.existing_ids([memory.memory_id]) == {memory.memory_id}
        await vector_db.delete_memory(memory.memory_id.upper())
        assert await vector_db.count() == 0

    async def test_empty_upsert_is_a_no_op(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that `upsert_memories([])` returns without a request."""
        await vector_db.upsert_memories([])
        assert await vector_db.count() == 0

    async def test_delete_memory_and_memories(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check deletes by point id (missing ids ignored, [] a no-op)."""
        memories = [make_memory(t) for t in (ALLERGY, HIKING, VIOLIN)]
        await vector_db.upsert_memories(memories)
        await vector_db.delete_memory(memories[0].memory_id)
        await vector_db.delete_memories([memories[1].memory_id, str(uuid.uuid4())])
        await vector_db.delete_memories([])
        ids = [m.memory_id for m in memories]
        assert await vector_db.existing_ids(ids) == {memories[2].memory_id}
        [hits] = await vector_db.search_memories(["Jake"], USER, "org-a", "user-1")
        assert texts(hits) == [VIOLIN]

    async def test_delete_all_user_memories(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the delete filter on `org_user_id`."""
        await vector_db.upsert_memories(
            [
                make_memory(ALLERGY),
                make_memory(HIKING),
                make_memory(VIOLIN, user_id="user-2"),
                make_memory(COOKING, org_id="org-b"),
            ]
        )
        await vector_db.delete_all_user_memories("org-a", "user-1")
        assert await vector_db.count("org-a", "user-1") == 0
        assert await vector_db.count("org-a", "user-2") == 1
        assert await vector_db.count("org-b", "user-1") == 1

    async def test_delete_all_organization_memories(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check the delete filter on `org_id`."""
        await vector_db.upsert_memories(
            [
                make_memory(ALLERGY),
                make_memory(VIOLIN, user_id="user-2"),
                make_memory(COOKING, org_id="org-b"),
            ]
        )
        await vector_db.delete_all_organization_memories("org-a")
        assert await vector_db.count("org-a") == 0
        assert await vector_db.count() == 1
        [hits] = await vector_db.search_memories(["curry"], ORG, "org-b")
        assert texts(hits) == [COOKING]

    async def test_count(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `count` filters (none / org_id / org_user_id)."""
        await vector_db.upsert_memories(
            [
                make_memory(ALLERGY),
                make_memory(HIKING),
                make_memory(VIOLIN, user_id="user-2"),
                make_memory(COOKING, org_id="org-b"),
            ]
        )
        assert await vector_db.count() == 4
        assert await vector_db.count("org-a") == 3
        assert await vector_db.count("org-a", "user-1") == 2
        assert await vector_db.count("org-c") == 0
        with pytest.raises(InvalidInputError):
            await vector_db.count(None, "user-1")

    async def test_existing_ids(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `existing_ids` retrieves by id without payloads."""
        memories = [make_memory(ALLERGY), make_memory(HIKING)]
        await vector_db.upsert_memories(memories)
        missing = str(uuid.uuid4())
        found = await vector_db.existing_ids([memories[0].memory_id, missing])
        assert found == {memories[0].memory_id}
        assert await vector_db.existing_ids([]) == set()

    # -- persistence ---------------------------------------------------------------------------

    async def test_persists_across_reopen(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that upserts and deletes are durable when they return."""
        if not self.supports_reopen:
            pytest.skip("in-memory store: nothing to reopen")
        keep, gone = make_memory(ALLERGY), make_memory(HIKING)
        await vector_db.upsert_memories([keep, gone])
        await vector_db.delete_memory(gone.memory_id)
        reopened = await self.reopen(vector_db)
        try:
            assert await reopened.count() == 1
            [hits] = await reopened.search_memories(["peanuts"], USER, "org-a", "user-1")
            assert [m for m, _ in hits] == [keep]
        finally:
            await reopened.close()

    # -- bad input -------------------------------------------------------------------------------

    async def test_bad_queries_are_rejected(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `validate_queries` runs before any embedding or request."""
        too_many = ["q"] * (MAX_QUERIES_PER_SEARCH + 1)
        for queries in ([], too_many, [""], ["   "], "just a string", [None]):
            with pytest.raises(InvalidInputError):
                await vector_db.search_memories(queries, USER, "org-a", "user-1")  # type: ignore[arg-type]

    async def test_bad_limit_is_rejected(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check `plan_search` validates `limit`."""
        for limit in (0, -1, 10**9, "5", True):
            with pytest.raises(InvalidInputError):
                await vector_db.search_memories(["q"], USER, "org-a", "user-1", limit=limit)  # type: ignore[arg-type]

    async def test_bad_ids_are_rejected(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check id validation on search, delete, count and existing_ids."""
        with pytest.raises(InvalidInputError):
            await vector_db.search_memories(["q"], ORG, "bad org id")
        with pytest.raises(InvalidInputError):
            await vector_db.search_memories(["q"], USER, "org-a", "user:1")
        with pytest.raises(InvalidInputError):
            await vector_db.search_memories(["q"], USER, "org-a", "user-1", "agent/1")
        with pytest.raises(InvalidInputError):
            await vector_db.delete_memories(["not-a-uuid"])
        with pytest.raises(InvalidInputError):
            await vector_db.existing_ids(["42"])
        with pytest.raises(InvalidInputError):
            await vector_db.delete_all_user_memories("org-a", "")
        with pytest.raises(InvalidInputError):
            await vector_db.delete_all_organization_memories("org a")

    async def test_bad_upsert_writes_nothing(self, vector_db: BaseVectorDB) -> None:
        """If this fails, check that the whole batch is validated before any write."""
        good = make_memory(ALLERGY)
        bad_batches = [
            [good, make_memory(HIKING, memory_id="not-a-uuid")],
            [good, make_memory("   ")],
            [good, make_memory(HIKING, org_id="org:a")],
            [good, good.model_copy(update={"memory": HIKING})],
            [good, "not a memory"],
        ]
        for batch in bad_batches:
            with pytest.raises(InvalidInputError):
                await vector_db.upsert_memories(batch)  # type: ignore[arg-type]
        assert await vector_db.count() == 0
