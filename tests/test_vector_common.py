"""Pure vector-store logic: scopes, filters, validation, payloads, search plans, requests."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import qdrant_edge as qe
from pydantic import ValidationError
from qdrant_client import models

from memora_engine.embeddings import DenseEncoder, SparseEncoder, SparseVector
from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.filters import parse_filter
from memora_engine.limits import MAX_QUERIES_PER_SEARCH, MAX_QUERY_CHARS
from memora_engine.schema.models import Memory
from memora_engine.vector_db import _common as common
from memora_engine.vector_db import _edge_requests as edge_module
from memora_engine.vector_db import qdrant as qdrant_module
from memora_engine.vector_db._encoding import EncodedQuery
from memora_engine.vector_db.base import MemorySearchScope
from memora_engine.vector_db.config import (
    HYBRID_DEFAULT,
    ORIGINAL_MEMORA,
    SEARCH_RECIPES,
    HybridSearchConfig,
)

USER, ORG = MemorySearchScope.USER, MemorySearchScope.ORGANIZATION
WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)


def memory(**update: object) -> Memory:
    base = Memory(
        org_id="o1",
        user_id="u1",
        agent_id="a1",
        memory_id=str(uuid.uuid4()),
        memory="Jake is allergic to peanuts",
        obtained_at=WHEN,
    )
    return base.model_copy(update=update)


def test_user_scope_filters_on_org_user_key() -> None:
    assert common.scope_conditions(USER, "o1", "u1", None) == [("org_user_id", "o1:u1")]
    assert common.scope_conditions("user", "o1", "u1", "a1") == [
        ("org_user_id", "o1:u1"),
        ("agent_id", "a1"),
    ]


def test_org_scope_ignores_user_and_keeps_agent() -> None:
    assert common.scope_conditions(ORG, "o1", "u1", None) == [("org_id", "o1")]
    assert common.scope_conditions(ORG, "o1", None, "a1") == [("org_id", "o1"), ("agent_id", "a1")]


@pytest.mark.parametrize(
    ("scope", "org", "user", "agent"),
    [
        (USER, "o1", None, None),
        ("team", "o1", "u1", None),
        (ORG, "", None, None),
        (USER, "o1", "u:1", None),
        (ORG, "o1", None, "a 1"),
    ],
)
def test_bad_scopes_raise(scope: str, org: str, user: str | None, agent: str | None) -> None:
    with pytest.raises(InvalidInputError):
        common.scope_conditions(scope, org, user, agent)


def test_count_conditions() -> None:
    assert common.count_conditions(None, None) == []
    assert common.count_conditions("o1", None) == [("org_id", "o1")]
    assert common.count_conditions("o1", "u1") == [("org_user_id", "o1:u1")]
    with pytest.raises(InvalidInputError):
        common.count_conditions(None, "u1")


def test_validate_queries() -> None:
    assert common.validate_queries(["a", "b"]) == ["a", "b"]
    for bad in (
        [],
        ["x"] * (MAX_QUERIES_PER_SEARCH + 1),
        [""],
        ["x" * (MAX_QUERY_CHARS + 1)],
        "abc",
        ["nul\x00"],
        [3],
    ):
        with pytest.raises(InvalidInputError):
            common.validate_queries(bad)  # type: ignore[arg-type]


def test_validate_memory_ids_canonicalizes_and_dedups() -> None:
    one = str(uuid.uuid4())
    assert common.validate_memory_ids([one.upper(), one]) == [one]
    assert common.validate_memory_ids([]) == []
    with pytest.raises(InvalidInputError):
        common.validate_memory_ids(["nope"])
    with pytest.raises(InvalidInputError):
        common.validate_memory_ids(one)  # type: ignore[arg-type]


def test_validate_memories() -> None:
    m = memory()
    upper = m.model_copy(update={"memory_id": m.memory_id.upper()})
    assert common.validate_memories([upper])[0].memory_id == m.memory_id
    with pytest.raises(InvalidInputError, match="twice"):
        common.validate_memories([m, upper])
    with pytest.raises(InvalidInputError):
        common.validate_memories([memory(memory=" ")])
    with pytest.raises(InvalidInputError):
        common.validate_memories([memory(agent_id="a/1")])
    with pytest.raises(InvalidInputError):
        common.validate_memories(m)  # type: ignore[arg-type]


def test_payload_round_trip() -> None:
    m = memory(memory="Zoë ❤ 寿司")
    payload = common.build_payload(m)
    assert payload["org_user_id"] == "o1:u1"
    assert common.memory_from_payload(m.memory_id, payload) == m
    with pytest.raises(ConfigurationError, match="Memora payload"):
        common.memory_from_payload(m.memory_id, {"document": "x"})


def test_payload_carries_interaction_and_metadata() -> None:
    meta = {"topic": "food", "ok": True, "tags": ["a", False, 2], "ratio": 0.5}
    m = memory(interaction_id="i1", metadata=meta)
    payload = common.build_payload(m)
    assert payload["interaction_id"] == "i1"
    assert payload["metadata"] == {
        "topic": "food",
        "ok": "\x00true",
        "tags": ["a", "\x00false", 2],
        "ratio": 0.5,
    }
    assert common.memory_from_payload(m.memory_id, payload) == m
    assert common.build_payload(memory())["interaction_id"] is None


def test_payload_of_an_earlier_version_reads() -> None:
    m = memory(interaction_id="i1", metadata={"topic": "food"})
    old = {
        k: v for k, v in common.build_payload(m).items() if k not in ("metadata", "interaction_id")
    }
    back = common.memory_from_payload(m.memory_id, old)
    assert back.metadata == {}
    assert back.interaction_id is None


def test_filter_keys_and_filter_validation() -> None:
    assert common.filter_key("agent_id") == "agent_id"
    assert common.filter_key("interaction_id") == "interaction_id"
    assert common.filter_key("obtained_at") == "obtained_at"
    assert common.filter_key("topic") == "metadata.topic"
    tree = parse_filter({"topic": "food"})
    assert common.plan_search(HYBRID_DEFAULT, None, [], tree).filter == tree
    assert common.plan_search(HYBRID_DEFAULT, None, []).filter is None
    for bad in ({"topic": "food"}, "topic", [tree]):
        with pytest.raises(InvalidInputError, match="parsed filter"):
            common.plan_search(HYBRID_DEFAULT, None, [], bad)


def test_plan_search_limits_and_depths() -> None:
    plan = common.plan_search(HYBRID_DEFAULT, None, [("org_id", "o1")])
    assert plan.limit == HYBRID_DEFAULT.limit
    assert (plan.dense_depth, plan.sparse_depth) == (40, 40)
    assert plan.weights == (1.0, 0.95)  # default: dense order breaks symmetric RRF ties
    assert common.plan_search(ORIGINAL_MEMORA, None, []).weights is None
    deep = common.plan_search(HYBRID_DEFAULT, 100, [])
    assert (deep.dense_depth, deep.sparse_depth) == (100, 100)
    weighted = common.plan_search(HYBRID_DEFAULT.model_copy(update={"sparse_weight": 2.0}), 5, [])
    assert weighted.weights == (1.0, 2.0)
    for bad in (0, -3, 10**6, 2.5, True, "10"):
        with pytest.raises(InvalidInputError):
            common.plan_search(HYBRID_DEFAULT, bad, [])  # type: ignore[arg-type]


def test_config_is_frozen_and_recipes_are_named() -> None:
    with pytest.raises(ValidationError):
        HYBRID_DEFAULT.limit = 3  # type: ignore[misc]
    wider = HYBRID_DEFAULT.model_copy(update={"limit": 20})
    assert (wider.limit, HYBRID_DEFAULT.limit) == (20, 10)
    assert SEARCH_RECIPES["original"] is ORIGINAL_MEMORA
    assert ORIGINAL_MEMORA.score_threshold == 0.35
    with pytest.raises(ValidationError):
        HybridSearchConfig(fusion="dbsf", sparse_weight=2.0)
    with pytest.raises(ValidationError):
        HybridSearchConfig(limit=0)


def test_check_dense_dim() -> None:
    common.check_dense_dim(384, 384, "x")
    with pytest.raises(ConfigurationError, match="768-dimensional"):
        common.check_dense_dim(768, 384, "x")


def test_encoded_query_searchable() -> None:
    hybrid = common.plan_search(HYBRID_DEFAULT, None, [])
    sparse_only = common.plan_search(HYBRID_DEFAULT.model_copy(update={"mode": "sparse"}), None, [])
    empty = EncodedQuery(dense=None, sparse=SparseVector([], []))
    assert not empty.searchable(sparse_only)
    assert EncodedQuery(dense=[0.1], sparse=SparseVector([], [])).searchable(hybrid)


PLAN = common.plan_search(
    HYBRID_DEFAULT.model_copy(
        update={"dense_weight": 2.0, "sparse_weight": 1.0, "dense_score_threshold": 0.3}
    ),
    7,
    [("org_user_id", "o1:u1"), ("agent_id", "a1")],
)
FULL = EncodedQuery(dense=[0.1, 0.2], sparse=SparseVector([5, 9], [1.0, 1.0]))
STOPWORDS = EncodedQuery(dense=[0.1, 0.2], sparse=SparseVector([], []))


def test_qdrant_request_prefetches_both_with_filter() -> None:
    request = qdrant_module._query_request(PLAN, FULL)
    assert request.limit == 7
    assert isinstance(request.query, models.RrfQuery)
    assert request.query.rrf.k == 2
    assert request.query.rrf.weights == [2.0, 1.0]
    assert request.prefetch is not None
    assert isinstance(request.prefetch, list)
    dense, sparse = request.prefetch
    assert (dense.using, sparse.using) == ("dense", "sparse")
    assert dense.score_threshold == 0.3
    assert dense.filter == sparse.filter == request.filter
    assert request.filter is not None
    assert [c.key for c in request.filter.must] == ["org_user_id", "agent_id"]  # type: ignore[union-attr]


FILTERED = common.plan_search(
    HYBRID_DEFAULT,
    7,
    [("org_user_id", "o1:u1")],
    parse_filter({"topic": "food", "$or": [{"n": {"$gt": 2}}, {"agent_id": "a2"}]}),
)


def test_qdrant_request_joins_scope_and_filter_everywhere() -> None:
    request = qdrant_module._query_request(FILTERED, FULL)
    assert isinstance(request.prefetch, list)
    assert all(p.filter == request.filter for p in request.prefetch)
    assert request.filter is not None
    must = request.filter.must
    assert isinstance(must, list)
    assert [getattr(c, "key", None) for c in must] == ["org_user_id", "metadata.topic", None]
    nested = must[2]
    assert isinstance(nested, models.Filter)
    assert isinstance(nested.should, list)
    assert [c.key for c in nested.should] == ["metadata.n", "agent_id"]  # type: ignore[union-attr]


def test_edge_request_joins_scope_and_filter_everywhere() -> None:
    request = edge_module.query_request(FILTERED, FULL)
    assert request.filter is not None
    assert all(p.filter is not None for p in request.prefetches)
    assert len(request.filter.must) == 3


def test_qdrant_request_without_sparse_terms_uses_dense_only() -> None:
    request = qdrant_module._query_request(PLAN, STOPWORDS)
    assert isinstance(request.prefetch, list)
    assert len(request.prefetch) == 1
    assert isinstance(request.query, models.RrfQuery)
    assert request.query.rrf.weights == [2.0]


def test_edge_request_mirrors_the_plan() -> None:
    request = edge_module.query_request(PLAN, FULL)
    assert request.limit == 7
    assert len(request.prefetches) == 2
    assert request.prefetches[0].score_threshold == pytest.approx(0.3)
    assert isinstance(request.query, qe.Fusion.Rrf)
    assert request.query.k == 2
    assert len(edge_module.query_request(PLAN, STOPWORDS).prefetches) == 1
    dense_plan = common.plan_search(
        HYBRID_DEFAULT.model_copy(update={"mode": "dense", "score_threshold": 0.2}), None, []
    )
    assert edge_module.query_request(dense_plan, FULL).score_threshold == pytest.approx(0.2)


async def test_a_text_searched_then_indexed_is_embedded_once(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check RecentVectors in vector_db/_encoding.py: the related-memory search
    of a save embeds its candidates; indexing the same texts must reuse those dense vectors."""
    from memora_engine.testing import RecordingEncoder
    from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

    counting = RecordingEncoder(dense_encoder)
    async with QdrantEdgeDB(
        tmp_path / "v", dense_encoder=counting, sparse_encoder=sparse_encoder
    ) as store:
        await store.setup()
        text = "Jake is allergic to peanuts"
        await store.search_memories([text], MemorySearchScope.USER, "org", "jake")
        memory = Memory(
            org_id="org", user_id="jake", agent_id="bot", memory_id=str(uuid.uuid4()),
            memory=text, obtained_at=datetime.now(timezone.utc),
        )  # fmt: skip
        await store.upsert_memories([memory])
        assert counting.texts == [text]
        hits = await store.search_memories(
            ["peanut allergy"], MemorySearchScope.USER, "org", "jake"
        )
        assert [m.memory_id for m, _ in hits[0]] == [memory.memory_id]


def test_metadata_index_plan() -> None:
    assert common.metadata_index_plan(None) == {}
    assert common.metadata_index_plan({"project": "keyword", "score": "float"}) == {
        "metadata.project": "keyword",
        "metadata.score": "float",
    }
    for bad in ({"agent_id": "keyword"}, {"bad key": "keyword"}, {"x": "text"}, ["x"]):
        with pytest.raises(InvalidInputError, match="metadata_indexes"):
            common.metadata_index_plan(bad)  # type: ignore[arg-type]
