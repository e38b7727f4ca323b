"""Optional reranking of fused search hits: a pluggable reranker, MMR and near-duplicate removal.

A *reranker* reorders (and may drop) the top-N fused candidates of a search for one query. It is
either

* a callable ``(query, memories) -> memories`` (sync or async), or
* any object with LangChain's ``BaseDocumentCompressor`` interface (``acompress_documents`` /
  ``compress_documents``; cross-encoders, FlashRank, Cohere Rerank, ...). Memories are passed as
  ``langchain_core`` ``Document``\\ s whose ``metadata["memory_id"]`` maps them back; the engine
  imports ``langchain_core`` only on that path.

The built-ins need no model: :func:`mmr_order` (maximal marginal relevance over word overlap) and
:func:`drop_near_duplicates`. Both are pure.

Examples:
    >>> mmr_order([("a", 1.0), ("b", 0.9), ("c", 0.5)],
    ...           lambda x, y: 1.0 if {x, y} == {"a", "b"} else 0.0, lambda_=0.5)
    ['a', 'c', 'b']
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from memora_engine.errors import InvalidInputError
from memora_engine.schema.models import Memory

__all__ = [
    "Reranker",
    "apply_reranker",
    "drop_near_duplicates",
    "mmr_order",
    "word_overlap",
]

T = TypeVar("T", bound=Hashable)

#: A callable reranker: ``(query, memories) -> memories`` (or an awaitable of them).
RerankCallable = Callable[[str, list[Memory]], Sequence[Memory] | Awaitable[Sequence[Memory]]]
#: What ``reranker=`` accepts: a callable or a LangChain ``BaseDocumentCompressor``-like object.
Reranker = RerankCallable | Any

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD.findall(text))


def word_overlap(first: str, second: str) -> float:
    """Jaccard overlap of the two texts' lower-cased word sets (0..1)."""
    a, b = _words(first), _words(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def mmr_order(
    hits: Sequence[tuple[T, float]],
    similarity: Callable[[T, T], float],
    *,
    lambda_: float = 0.7,
) -> list[T]:
    """Maximal marginal relevance order of ``hits`` (best first, scores non-increasing).

    Each step picks the item maximising ``lambda_ * relevance - (1 - lambda_) * max similarity
    to the items already picked``; relevance is the score scaled to 0..1 within ``hits``.
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise InvalidInputError("mmr lambda must be within 0..1.")
    if not hits:
        return []
    top, bottom = hits[0][1], min(score for _, score in hits)
    span = top - bottom or 1.0
    relevance = {item: (score - bottom) / span for item, score in hits}
    left = [item for item, _ in hits]
    chosen: list[T] = []
    closest = dict.fromkeys(left, 0.0)
    while left:
        best = max(left, key=lambda i: lambda_ * relevance[i] - (1 - lambda_) * closest[i])
        left.remove(best)
        chosen.append(best)
        for item in left:
            closest[item] = max(closest[item], similarity(item, best))
    return chosen


def drop_near_duplicates(memories: Sequence[Memory], *, threshold: float = 0.9) -> list[Memory]:
    """Keep the first of each group of memories whose word overlap is ``>= threshold``."""
    kept: list[Memory] = []
    for memory in memories:
        if all(word_overlap(memory.memory, k.memory) < threshold for k in kept):
            kept.append(memory)
    return kept


async def apply_reranker(reranker: Reranker, query: str, memories: list[Memory]) -> list[Memory]:
    """Run ``reranker`` on ``memories`` for ``query``; only memories given are ever returned.

    Raises:
        InvalidInputError: ``reranker`` is neither a callable nor a document compressor.
    """
    if not memories:
        return []
    by_id = {m.memory_id: m for m in memories}
    acompress = getattr(reranker, "acompress_documents", None)
    compress = getattr(reranker, "compress_documents", None)
    if callable(acompress) or callable(compress):
        from langchain_core.documents import Document

        documents = [
            Document(page_content=m.memory, metadata={"memory_id": m.memory_id}) for m in memories
        ]
        if callable(acompress):
            ranked_docs = await acompress(documents, query)
        else:
            assert callable(compress)
            ranked_docs = compress(documents, query)
        ids = [str(d.metadata.get("memory_id")) for d in ranked_docs]
    elif callable(reranker):
        result = reranker(query, list(memories))
        if inspect.isawaitable(result):
            result = await result
        ids = [m.memory_id for m in result if isinstance(m, Memory)]
    else:
        raise InvalidInputError(
            "reranker must be a callable (query, memories) -> memories or a LangChain "
            f"BaseDocumentCompressor, got {type(reranker).__name__}."
        )
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
