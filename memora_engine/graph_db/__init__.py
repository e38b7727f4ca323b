"""Graph stores: the source of truth. ``SqliteGraphDB`` (embedded default), ``Neo4jGraphInterface``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memora_engine.graph_db.base import BaseGraphDB, MemoryRef
from memora_engine.graph_db.hooks import Deleted, GraphHooks, InteractionWrite

if TYPE_CHECKING:
    from memora_engine.graph_db.neo4j import Neo4jGraphInterface
    from memora_engine.graph_db.sqlite import SqliteGraphDB

__all__ = [
    "BaseGraphDB",
    "Deleted",
    "GraphHooks",
    "InteractionWrite",
    "MemoryRef",
    "Neo4jGraphInterface",
    "SqliteGraphDB",
]


def __getattr__(name: str) -> Any:
    # Backends load lazily so that a missing optional driver (neo4j) only fails when used.
    if name == "SqliteGraphDB":
        from memora_engine.graph_db.sqlite import SqliteGraphDB

        return SqliteGraphDB
    if name == "Neo4jGraphInterface":
        from memora_engine.graph_db.neo4j import Neo4jGraphInterface

        return Neo4jGraphInterface
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
