"""Any LangChain ``Embeddings`` object as Memora's dense encoder (OpenAI, Ollama, HF, ...)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memora_engine.embeddings.base import DenseEncoder
from memora_engine.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

__all__ = ["LangChainDenseEncoder"]


class LangChainDenseEncoder(DenseEncoder):
    """Wraps a LangChain ``Embeddings``; uses its native async ``aembed_*`` methods.

    Args:
        embeddings: The LangChain embeddings object (not closed or owned by Memora).
        dim: The vector dimension; when omitted it is found with one probe embedding the first
            time a store asks (:meth:`aget_dim`).
        name: A stable model name (default: the object's class and ``model`` attribute).

    Examples:
        >>> from langchain_openai import OpenAIEmbeddings  # doctest: +SKIP
        >>> encoder = LangChainDenseEncoder(OpenAIEmbeddings(model="text-embedding-3-small"),
        ...                                 dim=1536)  # doctest: +SKIP
    """

    def __init__(
        self, embeddings: Embeddings, *, dim: int | None = None, name: str | None = None
    ) -> None:
        if dim is not None and dim <= 0:
            raise ConfigurationError(f"dim must be positive, got {dim}.")
        self._embeddings = embeddings
        self._dim = dim
        self._dim_lock = asyncio.Lock()
        model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
        default_name = type(embeddings).__name__ + (f"/{model}" if isinstance(model, str) else "")
        self._name = name or f"langchain/{default_name}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        if self._dim is None:
            raise ConfigurationError(
                "The dimension of this LangChain embeddings model is not known yet: pass dim= "
                "or await encoder.aget_dim() first."
            )
        return self._dim

    async def aget_dim(self) -> int:
        if self._dim is None:
            async with self._dim_lock:
                if self._dim is None:
                    probe = await self._embeddings.aembed_query("dimension probe")
                    self._dim = len(probe)
        return self._dim

    def _check(self, vectors: list[list[float]], expected: int) -> list[list[float]]:
        if len(vectors) != expected:
            raise ConfigurationError(
                f"{self._name} returned {len(vectors)} vectors for {expected} texts."
            )
        if self._dim is not None and any(len(v) != self._dim for v in vectors):
            raise ConfigurationError(f"{self._name} returned vectors of the wrong dimension.")
        return [list(map(float, v)) for v in vectors]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await self._embeddings.aembed_documents(list(texts))
        return self._check(vectors, len(texts))

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await asyncio.gather(*(self._embeddings.aembed_query(t) for t in texts))
        return self._check(list(vectors), len(texts))
