"""Search configuration as data: a frozen ``HybridSearchConfig`` and a few named recipes.

Override a recipe with ``model_copy(update=...)``; never mutate a shared config.

Examples:
    >>> from memora_engine.vector_db.config import HYBRID_DEFAULT
    >>> wider = HYBRID_DEFAULT.model_copy(update={"limit": 20})
    >>> wider.limit, HYBRID_DEFAULT.limit
    (20, 10)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

from memora_engine.limits import MAX_PAGE_LIMIT

__all__ = [
    "DENSE_ONLY",
    "HYBRID_DEFAULT",
    "ORIGINAL_MEMORA",
    "SEARCH_RECIPES",
    "SPARSE_ONLY",
    "HybridSearchConfig",
    "SearchMode",
]

SearchMode = Literal["hybrid", "dense", "sparse"]


class HybridSearchConfig(BaseModel):
    """How a vector store searches: modalities, candidate depth, fusion, thresholds.

    Attributes:
        mode: ``"hybrid"`` fuses a dense and a sparse candidate list; ``"dense"`` or
            ``"sparse"`` search one modality only (scores are then cosine / BM25).
        limit: Results per query when the caller gives no ``limit``.
        dense_candidates: Dense candidates fetched per query before fusion (at least ``limit``
            are always fetched).
        sparse_candidates: Sparse (BM25) candidates fetched per query before fusion.
        fusion: ``"rrf"`` (reciprocal rank fusion) or ``"dbsf"`` (distribution-based).
        rrf_k: RRF constant: a hit at 0-based rank ``r`` of a list scores ``w / (k + r)``.
        dense_weight: RRF weight of the dense list.
        sparse_weight: RRF weight of the sparse list. Slightly below the dense weight by
            default, so that two hits the lists rank symmetrically (first/second vs
            second/first) do not tie: the semantic order decides, deterministically.
        score_threshold: Drop fused hits scoring at or below this (None: keep all).
        dense_score_threshold: Drop dense candidates with a cosine below this before fusion.

    Examples:
        >>> HybridSearchConfig(limit=5, rrf_k=2).fusion
        'rrf'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: SearchMode = "hybrid"
    limit: int = Field(default=10, ge=1, le=MAX_PAGE_LIMIT)
    dense_candidates: int = Field(default=40, ge=1, le=MAX_PAGE_LIMIT)
    sparse_candidates: int = Field(default=40, ge=1, le=MAX_PAGE_LIMIT)
    fusion: Literal["rrf", "dbsf"] = "rrf"
    rrf_k: int = Field(default=2, ge=1, le=1_000)
    dense_weight: float = Field(default=1.0, gt=0.0, le=100.0)
    sparse_weight: float = Field(default=0.95, gt=0.0, le=100.0)
    score_threshold: float | None = None
    dense_score_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)

    @model_validator(mode="after")
    def _check_weights(self) -> Self:
        if self.fusion == "dbsf" and self.weighted:
            raise ValueError("weights apply to RRF fusion only")
        return self

    def depths(self, limit: int) -> tuple[int, int]:
        """Candidate depths ``(dense, sparse)`` for a final ``limit``: never below it."""
        return max(self.dense_candidates, limit), max(self.sparse_candidates, limit)

    @property
    def weighted(self) -> bool:
        """Whether the RRF lists carry weights other than 1."""
        return self.dense_weight != 1.0 or self.sparse_weight != 1.0


#: Memora's default: hybrid RRF with k=2 over 40 candidates per modality and no score cut.
#: Chosen on LoCoMo conversations 0-4 and checked on 5-9 (bench/locomo_retrieval.py): k=2 beat
#: k=5/10/20/60, depth 20-100 and list weights changed recall@10 by < 0.01, and the original's
#: fused-score cut (> 0.35) lost 0.09-0.19 recall@10.
HYBRID_DEFAULT = HybridSearchConfig()

#: Dense (embedding) search only.
DENSE_ONLY = HybridSearchConfig(mode="dense")

#: Sparse (BM25) search only.
SPARSE_ONLY = HybridSearchConfig(mode="sparse")

#: The original Memora 0.3 behaviour: 12 candidates each, dense cosine > 0.4, RRF k=2, and only
#: fused scores above 0.35 kept (top hit of a modality, or hits both modalities agree on).
ORIGINAL_MEMORA = HybridSearchConfig(
    dense_candidates=12,
    sparse_candidates=12,
    rrf_k=2,
    score_threshold=0.35,
    dense_score_threshold=0.4,
    sparse_weight=1.0,
)

#: Every named recipe, by name.
SEARCH_RECIPES: dict[str, HybridSearchConfig] = {
    "hybrid": HYBRID_DEFAULT,
    "dense": DENSE_ONLY,
    "sparse": SPARSE_ONLY,
    "original": ORIGINAL_MEMORA,
}
