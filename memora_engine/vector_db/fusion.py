"""Score fusion of ranked candidate lists and a time-range boost (pure, no I/O).

The Qdrant stores fuse dense and sparse lists inside Qdrant (RRF or DBSF, see
:class:`~memora_engine.vector_db.config.HybridSearchConfig`); these functions compute the same
fusions in Python for benches and for fusing lists of several searches, and
:func:`boost_in_range` re-orders fused hits by a time range (``time_range=`` of search).

Examples:
    >>> fuse_rrf([[("a", 0.9), ("b", 0.8)], [("b", 7.0), ("c", 5.0)]], k=2)
    [('b', 0.8333333333333333), ('a', 0.5), ('c', 0.3333333333333333)]
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TypeVar

from memora_engine.temporal import TimeRange

__all__ = ["boost_in_range", "fuse_dbsf", "fuse_rrf"]

T = TypeVar("T", bound=Hashable)


def fuse_rrf(
    lists: Sequence[Sequence[tuple[T, float]]],
    *,
    k: int = 2,
    weights: Sequence[float] | None = None,
) -> list[tuple[T, float]]:
    """Reciprocal rank fusion: a hit at 0-based rank ``r`` of list ``i`` adds ``w_i / (k + r)``.

    Ties keep first-seen order (list order, then rank), so the result is deterministic.
    """
    weights = list(weights) if weights is not None else [1.0] * len(lists)
    if len(weights) != len(lists):
        raise ValueError("one weight per list")
    scores: dict[T, float] = {}
    for hits, weight in zip(lists, weights, strict=True):
        for rank, (item, _) in enumerate(hits):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def fuse_dbsf(lists: Sequence[Sequence[tuple[T, float]]]) -> list[tuple[T, float]]:
    """Distribution-based score fusion: each list's scores scaled by mean +- 3 std, then summed."""
    scores: dict[T, float] = {}
    for hits in lists:
        if not hits:
            continue
        values = [score for _, score in hits]
        mean = statistics.fmean(values)
        spread = 3 * statistics.pstdev(values) if len(values) > 1 else 0.0
        low, high = mean - spread, mean + spread
        for item, score in hits:
            norm = 0.5 if high <= low else (score - low) / (high - low)
            scores[item] = scores.get(item, 0.0) + norm
    return sorted(scores.items(), key=lambda pair: -pair[1])


def boost_in_range(
    hits: Sequence[tuple[T, float]],
    when: Callable[[T], datetime],
    time_range: TimeRange,
    *,
    factor: float,
) -> list[tuple[T, float]]:
    """Multiply the (non-negative) scores of hits obtained inside ``time_range`` by ``factor``.

    A large factor puts every in-range hit first (a soft filter: out-of-range hits stay, after).
    Order among equal scores is kept.
    """
    boosted = [
        (item, score * factor if time_range.contains(when(item)) else score) for item, score in hits
    ]
    return sorted(boosted, key=lambda pair: -pair[1])
