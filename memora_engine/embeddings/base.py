"""Encoder interfaces: dense and sparse text encoders behind two small async ABCs.

Encoders are providers injected into vector stores. They load their model lazily (once, thread
safely) and do their CPU work on a worker thread, so awaiting them never blocks the event loop.
One encoder instance can be shared by several stores.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["DenseEncoder", "LazyResource", "SparseEncoder", "SparseVector"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A sparse vector: parallel lists of non-zero dimension ``indices`` and their ``values``.

    Examples:
        >>> SparseVector(indices=[3, 17], values=[1.0, 0.5]).is_empty()
        False
    """

    indices: list[int]
    values: list[float]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError("a sparse vector needs as many values as indices")

    def is_empty(self) -> bool:
        """Whether the vector has no non-zero dimension (e.g. a query made only of stopwords)."""
        return not self.indices


class DenseEncoder(ABC):
    """Turns texts into dense vectors of a fixed dimension.

    Implementations: ``FastEmbedDenseEncoder`` (local ONNX), ``LangChainDenseEncoder``.

    Examples:
        >>> encoder = FastEmbedDenseEncoder(model_dir="../shared/models/all-MiniLM-L6-v2-onnx")
        >>> vectors = await encoder.embed_documents(["Jake is allergic to peanuts"])  # doctest: +SKIP
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """A stable name of the model (recorded by stores to detect a model change)."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """The vector dimension.

        Raises:
            ConfigurationError: the dimension is not known yet (see :meth:`aget_dim`).
        """

    async def aget_dim(self) -> int:
        """Return the dimension, finding it out (e.g. with one probe embedding) if needed."""
        return self.dim

    @property
    def symmetric(self) -> bool:
        """Whether a text's query and document vectors are the same (no query prefixes), so a
        store may reuse a query's vector to index the same text (default: not assumed)."""
        return False

    @abstractmethod
    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed texts to be indexed; one vector per text, in order."""

    @abstractmethod
    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed search queries; one vector per text, in order."""


class SparseEncoder(ABC):
    """Turns texts into sparse vectors (e.g. BM25 term weights keyed by hashed tokens).

    Implementation: ``Bm25SparseEncoder``.

    Examples:
        >>> encoder = Bm25SparseEncoder()
        >>> [vector] = await encoder.embed_queries(["peanut allergy"])  # doctest: +SKIP
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """A stable name of the sparse model."""

    @property
    def needs_idf(self) -> bool:
        """Whether the store must apply the IDF modifier to this vector (True for BM25)."""
        return True

    @abstractmethod
    async def embed_documents(self, texts: Sequence[str]) -> list[SparseVector]:
        """Embed texts to be indexed; one sparse vector per text, in order."""

    @abstractmethod
    async def embed_queries(self, texts: Sequence[str]) -> list[SparseVector]:
        """Embed search queries; one sparse vector per text, in order."""


class LazyResource(Generic[T]):
    """A value built once on first use, thread safely (double-checked locking).

    Examples:
        >>> model = LazyResource(lambda: object())
        >>> model.get() is model.get()
        True
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None

    @property
    def loaded(self) -> bool:
        """Whether the value has been built."""
        return self._value is not None

    def get(self) -> T:
        """Return the value, building it on the first call (other threads wait for it)."""
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._factory()
                    self._value = value
        return value

    async def aget(self) -> T:
        """Like :meth:`get`, but builds the value on a worker thread."""
        if self._value is not None:
            return self._value
        return await asyncio.to_thread(self.get)
