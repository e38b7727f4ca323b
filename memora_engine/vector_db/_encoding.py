"""Embedding steps shared by the Qdrant stores (dense and sparse encoders run concurrently)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder, SparseVector
from memora_engine.embeddings.factory import default_dense_encoder, default_sparse_encoder
from memora_engine.schema.models import Memory
from memora_engine.vector_db._common import SearchPlan

__all__ = [
    "EncodedQuery",
    "EncoderOwner",
    "RecentVectors",
    "encode_documents",
    "encode_queries",
]


#: Recent query vectors a store keeps for reuse when indexing the same text.
RECENT_QUERY_VECTORS = 256


class RecentVectors:
    """A small LRU of ``text -> dense vector`` of recent queries (symmetric encoders only).

    A save searches for memories related to its candidates (their texts as queries), then
    indexes those same texts: the second embedding is taken from here instead.

    Examples:
        >>> recent = RecentVectors(2)
        >>> recent.put(["a", "b", "c"], [[1.0], [2.0], [3.0]])
        >>> recent.take(["a", "c"])
        [None, [3.0]]
    """

    def __init__(self, size: int = RECENT_QUERY_VECTORS) -> None:
        self._size = size
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()

    def put(self, texts: Sequence[str], vectors: Sequence[list[float]]) -> None:
        for text, vector in zip(texts, vectors, strict=True):
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)

    def take(self, texts: Sequence[str]) -> list[list[float] | None]:
        """The cached vector of each text (``None`` if absent); hits are removed (used once)."""
        return [self._vectors.pop(text, None) for text in texts]


class EncoderOwner:
    """The encoders of a store: the injected ones, else the defaults built on first use."""

    _dense: DenseEncoder | None
    _sparse: SparseEncoder | None
    _recent: RecentVectors | None = None
    #: Compute a memory's BM25 vector from its ``index_text`` when it has one (a raw turn in
    #: context, :mod:`memora_engine.indexing`); ``False``: always from the memory text.
    context_indexing: bool = True

    def sparse_texts(self, memories: Sequence[Memory]) -> list[str]:
        """The texts the memories' sparse vectors are computed from."""
        if not self.context_indexing:
            return [m.memory for m in memories]
        return [m.index_text or m.memory for m in memories]

    @property
    def recent_vectors(self) -> RecentVectors | None:
        """The recent-query cache, when the dense encoder is symmetric."""
        if self._recent is None and self.dense_encoder.symmetric:
            self._recent = RecentVectors()
        return self._recent

    @property
    def dense_encoder(self) -> DenseEncoder:
        """The dense encoder (the default one is built on first use)."""
        if self._dense is None:
            self._dense = default_dense_encoder()
        return self._dense

    @property
    def sparse_encoder(self) -> SparseEncoder:
        """The sparse encoder (BM25 by default)."""
        if self._sparse is None:
            self._sparse = default_sparse_encoder()
        return self._sparse


@dataclass(frozen=True)
class EncodedQuery:
    """The vectors of one query; a side the plan does not use is None."""

    dense: list[float] | None
    sparse: SparseVector | None

    def searchable(self, plan: SearchPlan) -> bool:
        """Whether any candidate list can be non-empty (a stopword-only query has no terms)."""
        has_sparse = self.sparse is not None and not self.sparse.is_empty()
        return (plan.needs_dense and self.dense is not None) or (plan.needs_sparse and has_sparse)


async def encode_documents(
    texts: Sequence[str],
    dense: DenseEncoder,
    sparse: SparseEncoder,
    recent: RecentVectors | None = None,
    *,
    sparse_texts: Sequence[str] | None = None,
) -> tuple[list[list[float]], list[SparseVector]]:
    """Embed texts for indexing with both encoders at once (dense vectors of texts just searched
    for are taken from ``recent``: one dense embedding per text per save). ``sparse_texts``,
    when given, are what the sparse vectors are computed from instead (one per text)."""
    cached = recent.take(texts) if recent is not None else [None] * len(texts)
    missing = [text for text, vector in zip(texts, cached, strict=True) if vector is None]
    fresh, sparse_vectors = await asyncio.gather(
        dense.embed_documents(missing),
        sparse.embed_documents(texts if sparse_texts is None else sparse_texts),
    )
    computed = iter(fresh)
    dense_vectors = [vector if vector is not None else next(computed) for vector in cached]
    return dense_vectors, sparse_vectors


async def encode_queries(
    queries: Sequence[str],
    plan: SearchPlan,
    dense: DenseEncoder,
    sparse: SparseEncoder,
    recent: RecentVectors | None = None,
) -> list[EncodedQuery]:
    """Embed queries with the encoders the plan needs, concurrently (dense vectors are kept in
    ``recent`` for a following index of the same texts)."""

    async def no_vectors() -> None:
        return None

    dense_vectors, sparse_vectors = await asyncio.gather(
        dense.embed_queries(queries) if plan.needs_dense else no_vectors(),
        sparse.embed_queries(queries) if plan.needs_sparse else no_vectors(),
    )
    if recent is not None and dense_vectors is not None:
        recent.put(queries, dense_vectors)
    return [
        EncodedQuery(
            dense=dense_vectors[i] if dense_vectors is not None else None,
            sparse=sparse_vectors[i] if sparse_vectors is not None else None,
        )
        for i in range(len(queries))
    ]
