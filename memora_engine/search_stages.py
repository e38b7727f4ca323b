"""Optional stages of a search after the vector store's fusion (pure except the reranker call).

Order: time (boost hits inside the time a query names, resolved against ``reference_time``; a
``time_range`` is not a stage but a filter pushed into the store query) -> merge per-query lists -> graph resolution (in ``retrieval.py``) ->
reranker on the top ``rerank_top_n`` -> near-duplicate removal / MMR -> ``limit``.
With no option set, no stage runs and the store is asked for exactly ``limit`` hits as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from memora_engine.errors import InvalidInputError
from memora_engine.ids import ensure_aware
from memora_engine.rerank import (
    Reranker,
    apply_reranker,
    drop_near_duplicates,
    mmr_order,
    word_overlap,
)
from memora_engine.schema.models import Memory
from memora_engine.temporal import resolve_time_range
from memora_engine.vector_db.base import ScoredMemory
from memora_engine.vector_db.fusion import boost_in_range

__all__ = ["TIME_BOOST", "TIME_SLACK_DAYS", "SearchStages"]

#: Score factor of hits obtained inside the time a query names (chosen on LoCoMo dev).
TIME_BOOST = 4.0
#: Hits obtained up to this long after the named time count as inside (facts are told later).
TIME_SLACK_DAYS = 7


@dataclass(frozen=True)
class SearchStages:
    """The optional stages one search call asked for (validated; see the search docstrings)."""

    reference_time: datetime | None = None
    reranker: Reranker | None = None
    rerank_top_n: int = 30
    mmr_lambda: float | None = None
    dedupe: bool = False

    def __post_init__(self) -> None:
        if self.reference_time is not None:
            object.__setattr__(
                self, "reference_time", ensure_aware(self.reference_time, name="reference_time")
            )
        top_n = self.rerank_top_n
        if isinstance(top_n, bool) or not isinstance(top_n, int) or not 1 <= top_n <= 1_000:
            raise InvalidInputError("rerank_top_n must be an int in 1..1000.")
        if self.mmr_lambda is not None and not 0.0 <= self.mmr_lambda <= 1.0:
            raise InvalidInputError("mmr_lambda must be within 0..1 (1 = relevance only).")

    @property
    def active(self) -> bool:
        """Whether any stage runs (if not, the search is exactly the plain one)."""
        return any(
            (
                self.reference_time is not None,
                self.reranker is not None,
                self.mmr_lambda is not None,
                self.dedupe,
            )
        )

    def depth(self, limit: int | None, default_limit: int) -> int | None:
        """How many hits to ask the store for per query (``None``: the caller's ``limit``)."""
        if not self.active:
            return limit
        return max(limit or default_limit, self.rerank_top_n)

    def apply_time(
        self, queries: Sequence[str], per_query: Sequence[Sequence[ScoredMemory]]
    ) -> list[list[ScoredMemory]]:
        """Boost hits inside the time each query names."""
        out: list[list[ScoredMemory]] = []
        for query, hits in zip(queries, per_query, strict=True):
            kept = list(hits)
            if self.reference_time is not None:
                named = resolve_time_range(query, self.reference_time)
                if named is not None:
                    slack = named.widened(timedelta(days=TIME_SLACK_DAYS))
                    times = [m.obtained_at for m, _ in kept]
                    order = boost_in_range(
                        [(i, max(s, 0.0)) for i, (_, s) in enumerate(kept)],
                        times.__getitem__,
                        slack,
                        factor=TIME_BOOST,
                    )
                    kept = [(kept[i][0], score) for i, score in order]
            out.append(kept)
        return out

    async def apply_after_resolution(
        self, queries: Sequence[str], scored: list[tuple[Memory, float]]
    ) -> list[tuple[Memory, float]]:
        """Reranker on the top ``rerank_top_n``, then near-duplicate removal and MMR."""
        if self.reranker is not None:
            head, tail = scored[: self.rerank_top_n], scored[self.rerank_top_n :]
            score_of = {m.memory_id: s for m, s in head}
            ranked = await apply_reranker(self.reranker, "\n".join(queries), [m for m, _ in head])
            scored = [(m, score_of[m.memory_id]) for m in ranked] + tail
        if self.dedupe:
            kept = {m.memory_id for m in drop_near_duplicates([m for m, _ in scored])}
            scored = [(m, s) for m, s in scored if m.memory_id in kept]
        if self.mmr_lambda is not None:
            by_id = {m.memory_id: (m, s) for m, s in scored}
            order = mmr_order(
                [(m.memory_id, float(rank_score)) for rank_score, (m, _) in _rank_scores(scored)],
                lambda a, b: word_overlap(by_id[a][0].memory, by_id[b][0].memory),
                lambda_=self.mmr_lambda,
            )
            scored = [by_id[i] for i in order]
        return scored


def _rank_scores(scored: list[tuple[Memory, float]]) -> list[tuple[float, tuple[Memory, float]]]:
    """Relevance by position (1 for the first, towards 0 for the last): scores of merged
    queries and rerankers are not comparable, their order is."""
    count = len(scored)
    return [(1.0 - i / count, pair) for i, pair in enumerate(scored)]
