"""The embedded graph store: :class:`SqliteGraphDB` (one SQLite file, no server)."""

from memora_engine.graph_db.sqlite.store import SqliteGraphDB

__all__ = ["SqliteGraphDB"]
