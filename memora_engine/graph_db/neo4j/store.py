"""``Neo4jGraphInterface``: the graph store on a Neo4j 5 server (Community, Enterprise, Aura)."""

from __future__ import annotations

from memora_engine.graph_db.neo4j.interactions import Neo4jInteractions
from memora_engine.graph_db.neo4j.memories import Neo4jMemories
from memora_engine.graph_db.neo4j.tenants import Neo4jTenants

__all__ = ["Neo4jGraphInterface"]


class Neo4jGraphInterface(Neo4jTenants, Neo4jInteractions, Neo4jMemories):
    """Graph store on Neo4j 5 through the official async ``neo4j`` driver.

    Needs the optional extra: ``pip install "memora-engine[neo4j]"``. Works on Community (no APOC, no
    Enterprise-only constraints): per-tenant uniqueness is enforced with composite key
    properties under UNIQUE constraints, which :meth:`setup` creates (idempotent, safe to run
    concurrently). Every public write is one managed write transaction; reads use read
    transactions (routed to followers on a cluster). All Cypher is parameterized.

    Args:
        uri: Server address, e.g. ``"neo4j://localhost:7687"`` or ``"neo4j+s://<id>.databases
            .neo4j.io"``; ignored for connecting when ``driver`` is given.
        username: User name (default ``"neo4j"`` when a password is given).
        password: Password; ``None`` connects without authentication.
        database: Database name (Community has only ``"neo4j"``).
        driver: An ``neo4j.AsyncDriver`` to reuse. It is never closed by this object.

    Raises:
        ConfigurationError: the ``neo4j`` driver is not installed, or the URI / credentials
            are malformed. The constructor does no I/O.

    Examples:
        >>> graph = Neo4jGraphInterface(  # doctest: +SKIP
        ...     uri="neo4j://localhost:7687", username="neo4j", password="secret"
        ... )
        >>> async with graph:  # setup() on enter, close() on exit  # doctest: +SKIP
        ...     org = await graph.create_organization("Acme")
    """
