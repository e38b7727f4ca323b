"""The Neo4j graph store: :class:`Neo4jGraphInterface` (needs ``pip install "memora-engine[neo4j]"``).

Importing this package never needs the ``neo4j`` driver; constructing the store does.
"""

from memora_engine.graph_db.neo4j.store import Neo4jGraphInterface

__all__ = ["Neo4jGraphInterface"]
