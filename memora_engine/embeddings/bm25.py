"""BM25 sparse vectors with no download: Qdrant Edge's native BM25 and our own stopword list.

Why Qdrant Edge's ``Bm25`` and not fastembed's: both split text on non-word characters, lower-case
it, stem with the English Snowball stemmer and key each token by ``abs(murmur3_32(token))``, so
their vectors are interchangeable (and match what a Qdrant server's BM25 inference produces).
fastembed's needs a model folder from the hub for its stopwords; Qdrant Edge's is native code
(about 2 µs per memory), ships inside a dependency we already have, and takes a custom stopword
set. Documents carry the BM25 term-frequency part; queries carry 1.0 per distinct token; the
store applies the IDF modifier at search time, so scores are true BM25 over the collection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from memora_engine.embeddings.base import LazyResource, SparseEncoder, SparseVector

if TYPE_CHECKING:
    import qdrant_edge

__all__ = ["Bm25SparseEncoder", "english_stopwords"]

#: Up to this many characters, encoding inline (~0.1 µs a character) is cheaper than a thread hop.
_INLINE_CHARS = 4_000


@lru_cache(maxsize=1)
def english_stopwords() -> frozenset[str]:
    """Memora's English stopword list (``stopwords_en.txt`` shipped in the package)."""
    text = resources.files("memora_engine.embeddings").joinpath("stopwords_en.txt")
    words = (line.strip() for line in text.read_text(encoding="utf-8").splitlines())
    return frozenset(w.lower() for w in words if w and not w.startswith("#"))


class Bm25SparseEncoder(SparseEncoder):
    """BM25 sparse encoder (English stemming, Memora's stopwords); needs no model download.

    Args:
        k: Term-frequency saturation (BM25 ``k1``).
        b: Document length normalization (0 none, 1 full).
        avg_len: Expected document length in tokens. The default (256, as in fastembed and
            Qdrant) makes length normalization mild for short memories; on LoCoMo it beat
            16, 32 and 64 (bench/locomo_retrieval.py --tune).
        stopwords: Words to drop (default: :func:`english_stopwords`); an empty set keeps all.

    Examples:
        >>> encoder = Bm25SparseEncoder()
        >>> [doc] = await encoder.embed_documents(["Jake is allergic to peanuts"])  # doctest: +SKIP
        >>> [query] = await encoder.embed_queries(["peanut allergy"])  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        k: float = 1.2,
        b: float = 0.75,
        avg_len: float = 256.0,
        stopwords: frozenset[str] | set[str] | None = None,
    ) -> None:
        self._k = k
        self._b = b
        self._avg_len = avg_len
        self._stopwords = frozenset(english_stopwords() if stopwords is None else stopwords)
        self._model: LazyResource[qdrant_edge.Bm25] = LazyResource(self._load)

    @property
    def name(self) -> str:
        return f"bm25-en(k={self._k:g},b={self._b:g},avg_len={self._avg_len:g})"

    def _load(self) -> qdrant_edge.Bm25:
        import qdrant_edge

        config = qdrant_edge.Bm25Config(
            k=self._k,
            b=self._b,
            avg_len=self._avg_len,
            language="english",
            stopwords=qdrant_edge.StopwordsSet(custom=set(self._stopwords)),
        )
        return qdrant_edge.Bm25(config)

    def _encode(self, texts: list[str], *, queries: bool) -> list[SparseVector]:
        model = self._model.get()
        embed = model.embed_query if queries else model.embed_document
        out = []
        for text in texts:
            vector = embed(text)
            out.append(SparseVector(indices=list(vector.indices), values=list(vector.values)))
        return out

    async def _run(self, texts: Sequence[str], *, queries: bool) -> list[SparseVector]:
        if not texts:
            return []
        if self._model.loaded and sum(len(text) for text in texts) <= _INLINE_CHARS:
            return self._encode(list(texts), queries=queries)
        return await asyncio.to_thread(self._encode, list(texts), queries=queries)

    async def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        return await self._run(texts, queries=False)

    async def embed_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        return await self._run(texts, queries=True)
