"""Vector stores: ``QdrantEdgeDB`` (embedded default) and ``QdrantDB`` (server, Cloud, local mode)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, ScoredMemory
from memora_engine.vector_db.config import SEARCH_RECIPES, HybridSearchConfig

if TYPE_CHECKING:
    from memora_engine.vector_db.qdrant import QdrantDB
    from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

__all__ = [
    "SEARCH_RECIPES",
    "BaseVectorDB",
    "HybridSearchConfig",
    "MemorySearchScope",
    "QdrantDB",
    "QdrantEdgeDB",
    "ScoredMemory",
]


def __getattr__(name: str) -> Any:
    if name == "QdrantDB":
        from memora_engine.vector_db.qdrant import QdrantDB

        return QdrantDB
    if name == "QdrantEdgeDB":
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

        return QdrantEdgeDB
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
