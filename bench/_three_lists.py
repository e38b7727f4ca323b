"""Bench-only experiment: a third candidate list for raw turns (not shipped).

``ThreeListQdrantDB`` is ``QdrantDB`` (qdrant-client local mode here) with one more named sparse
vector, ``sparse_ctx``: ``sparse`` holds the BM25 of the memory text, ``sparse_ctx`` the BM25 of
its index text (the turn in context, or the memory text when it has none), and every hybrid query
gets one more prefetch on ``sparse_ctx`` with the same BM25 query vector and the sparse weight.
It exists to measure "dense + BM25 plain + BM25 context" through ``Memora``; a store created
without ``sparse_ctx`` could not use it, which is why it is not part of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from qdrant_client import AsyncQdrantClient, models

from memora_engine.filters import FilterNode
from memora_engine.schema.models import Memory
from memora_engine.vector_db._common import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    build_payload,
    memory_from_payload,
    plan_search,
    scope_conditions,
    validate_memories,
    validate_queries,
)
from memora_engine.vector_db._encoding import encode_documents, encode_queries
from memora_engine.vector_db.base import MemorySearchScope, ScoredMemory
from memora_engine.vector_db.qdrant import QdrantDB, _query_request, _sparse

CONTEXT_SPARSE = "sparse_ctx"


class ThreeListQdrantDB(QdrantDB):
    """QdrantDB with a second BM25 list of the index text (see the module docstring)."""

    async def _create_collection(self, client: AsyncQdrantClient, dim: int) -> None:
        params = models.SparseVectorParams(modifier=models.Modifier.IDF)
        await client.create_collection(
            self.collection_name,
            vectors_config={
                DENSE_VECTOR: models.VectorParams(size=dim, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE_VECTOR: params, CONTEXT_SPARSE: params},
        )

    async def upsert_memories(self, memories: Sequence[Memory]) -> None:
        checked = validate_memories(memories)
        if not checked:
            return
        client = await self._client_ready()
        texts = [m.memory for m in checked]
        dense, plain = await encode_documents(
            texts, self.dense_encoder, self.sparse_encoder, self.recent_vectors
        )
        context = await self.sparse_encoder.embed_documents(
            [m.index_text or m.memory for m in checked]
        )
        points = [
            models.PointStruct(
                id=memory.memory_id,
                vector={DENSE_VECTOR: d, SPARSE_VECTOR: _sparse(p), CONTEXT_SPARSE: _sparse(c)},
                payload=build_payload(memory),
            )
            for memory, d, p, c in zip(checked, dense, plain, context, strict=True)
        ]
        await client.upsert(self.collection_name, points=points, wait=True)

    async def search_memories(
        self,
        queries: Sequence[str],
        memory_search_scope: MemorySearchScope,
        org_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        *,
        limit: int | None = None,
        filter: FilterNode | None = None,
    ) -> list[list[ScoredMemory]]:
        texts = validate_queries(queries)
        conditions = scope_conditions(memory_search_scope, org_id, user_id, agent_id)
        plan = plan_search(self.search_config, limit, conditions, filter)
        assert plan.mode == "hybrid"
        assert plan.fusion == "rrf"
        client = await self._client_ready()
        encoded = await encode_queries(
            texts, plan, self.dense_encoder, self.sparse_encoder, self.recent_vectors
        )
        requests = []
        for query in encoded:
            request = _query_request(plan, query)
            assert isinstance(request.prefetch, list)
            assert isinstance(request.query, models.RrfQuery)
            if query.sparse is not None and not query.sparse.is_empty():
                extra = request.prefetch[1].model_copy(update={"using": CONTEXT_SPARSE})
                request.prefetch.append(extra)
                weights = request.query.rrf.weights
                if weights:
                    request.query.rrf.weights = [*weights, weights[-1]]
            requests.append(request)
        responses = await client.query_batch_points(self.collection_name, requests=requests)
        return [
            [(memory_from_payload(p.id, p.payload), float(p.score)) for p in response.points]
            for response in responses
        ]
