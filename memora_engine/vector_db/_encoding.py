"""Embedding steps shared by the Qdrant stores (dense and sparse encoders run concurrently)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder, SparseVector
from memora_engine.embeddings.factory import default_dense_encoder, default_sparse_encoder
from memora_engine.vector_db._common import SearchPlan

__all__ = ["EncodedQuery", "EncoderOwner", "encode_documents", "encode_queries"]


class EncoderOwner:
    """The encoders of a store: the injected ones, else the defaults built on first use."""

    _dense: DenseEncoder | None
    _sparse: SparseEncoder | None

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
    texts: Sequence[str], dense: DenseEncoder, sparse: SparseEncoder
) -> tuple[list[list[float]], list[SparseVector]]:
    """Embed texts for indexing with both encoders at once."""
    dense_vectors, sparse_vectors = await asyncio.gather(
        dense.embed_documents(texts), sparse.embed_documents(texts)
    )
    return dense_vectors, sparse_vectors


async def encode_queries(
    queries: Sequence[str], plan: SearchPlan, dense: DenseEncoder, sparse: SparseEncoder
) -> list[EncodedQuery]:
    """Embed queries with the encoders the plan needs, concurrently."""

    async def no_vectors() -> None:
        return None

    dense_vectors, sparse_vectors = await asyncio.gather(
        dense.embed_queries(queries) if plan.needs_dense else no_vectors(),
        sparse.embed_queries(queries) if plan.needs_sparse else no_vectors(),
    )
    return [
        EncodedQuery(
            dense=dense_vectors[i] if dense_vectors is not None else None,
            sparse=sparse_vectors[i] if sparse_vectors is not None else None,
        )
        for i in range(len(queries))
    ]
