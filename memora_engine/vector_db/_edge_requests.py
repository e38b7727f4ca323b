"""Qdrant Edge request builders for :class:`~memora_engine.vector_db.qdrant_edge.QdrantEdgeDB`
(pure, except :func:`create_indexes` and :func:`updater`'s result, which run on the store's
worker thread)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import qdrant_edge as qe

from memora_engine.embeddings.base import SparseVector
from memora_engine.errors import InvalidInputError
from memora_engine.filters import FilterNode
from memora_engine.vector_db._common import (
    AGENT_ID,
    DENSE_VECTOR,
    INTERACTION_ID,
    OBTAINED_AT,
    SPARSE_VECTOR,
    TENANT_KEYS,
    Condition,
    MetadataIndexType,
    SearchPlan,
    filter_key,
)
from memora_engine.vector_db._encoding import EncodedQuery
from memora_engine.vector_db.filter_translation import edge_conditions

__all__ = ["create_indexes", "query_batch", "query_request", "sparse_vector", "tenant_filter",
           "to_filter", "updater"]  # fmt: skip


def to_filter(conditions: Sequence[Condition], node: FilterNode | None = None) -> qe.Filter | None:
    """The scope ``conditions`` and the caller's filter ``node``, all required (pure)."""
    must: list[Any] = [
        qe.FieldCondition(key, match=qe.MatchValue(value)) for key, value in conditions
    ]
    if node is not None:
        must.extend(edge_conditions(node, filter_key))
    return qe.Filter(must=must) if must else None


def tenant_filter(conditions: Sequence[Condition]) -> qe.Filter:
    """A filter that must not be empty (deletes by tenant never match everything)."""
    flt = to_filter(conditions)
    if flt is None:
        raise InvalidInputError("a tenant delete needs an org_id.")
    return flt


def sparse_vector(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(vector.indices, vector.values)


def query_request(plan: SearchPlan, query: EncodedQuery) -> qe.QueryRequest:
    """One Qdrant Edge request for one query of the plan (pure)."""
    flt = to_filter(plan.conditions, plan.filter)
    if plan.mode == "dense":
        assert query.dense is not None
        thresholds = [
            t for t in (plan.score_threshold, plan.dense_score_threshold) if t is not None
        ]
        return qe.QueryRequest(
            limit=plan.limit,
            query=qe.Query.Nearest(query.dense, using=DENSE_VECTOR),
            filter=flt,
            score_threshold=max(thresholds) if thresholds else None,
            with_payload=True,
        )
    if plan.mode == "sparse":
        assert query.sparse is not None
        return qe.QueryRequest(
            limit=plan.limit,
            query=qe.Query.Nearest(sparse_vector(query.sparse), using=SPARSE_VECTOR),
            filter=flt,
            score_threshold=plan.score_threshold,
            with_payload=True,
        )
    assert query.dense is not None
    prefetches = [
        qe.Prefetch(
            limit=plan.dense_depth,
            query=qe.Query.Nearest(query.dense, using=DENSE_VECTOR),
            filter=flt,
            score_threshold=plan.dense_score_threshold,
        )
    ]
    weights = list(plan.weights) if plan.weights else None
    if query.sparse is not None and not query.sparse.is_empty():
        prefetches.append(
            qe.Prefetch(
                limit=plan.sparse_depth,
                query=qe.Query.Nearest(sparse_vector(query.sparse), using=SPARSE_VECTOR),
                filter=flt,
            )
        )
    elif weights:
        weights = weights[:1]
    fusion: Any = (
        qe.Fusion.Rrf(k=plan.rrf_k, weights=weights) if plan.fusion == "rrf" else qe.Fusion.Dbsf()
    )
    return qe.QueryRequest(
        limit=plan.limit,
        prefetches=prefetches,
        query=fusion,
        filter=flt,
        score_threshold=plan.score_threshold,
        with_payload=True,
    )


def query_batch(
    plan: SearchPlan, encoded: Sequence[EncodedQuery], shard: qe.EdgeShard
) -> tuple[list[int], list[Any]]:
    """Run the searchable queries in one batch (worker thread); ``(their indexes, hits)``."""
    active = [i for i, q in enumerate(encoded) if q.searchable(plan)]
    if not active:
        return [], []
    batch = qe.QueryBatchRequest([query_request(plan, encoded[i]) for i in active])
    return active, list(shard.query_batch(batch))


def create_indexes(
    shard: qe.EdgeShard,
    metadata: Mapping[str, MetadataIndexType],
    *,
    only_missing: bool = False,
) -> None:
    """Keyword indexes on the tenant keys, agent and interaction; a datetime index on time;
    the indexes asked for on metadata keys (``metadata``: payload key -> type).

    With ``only_missing``, a store made earlier (or with fewer indexes) gets those it lacks.
    """
    wanted: list[tuple[str, Any]] = [
        (key, qe.KeywordIndexParams(is_tenant=key in TENANT_KEYS))
        for key in (*TENANT_KEYS, AGENT_ID, INTERACTION_ID)
    ]
    wanted.append((OBTAINED_AT, qe.DatetimeIndexParams()))
    for key, kind in metadata.items():
        wanted.append(
            (key, qe.KeywordIndexParams() if kind == "keyword" else qe.FloatIndexParams())
        )
    existing = set(shard.info().payload_schema) if only_missing else set()
    for key, params in wanted:
        if key not in existing:
            shard.update(qe.UpdateOperation.create_field_index(key, params))


def updater(operation: qe.UpdateOperation) -> Callable[[qe.EdgeShard], None]:
    def apply(shard: qe.EdgeShard) -> None:
        shard.update(operation)

    return apply
