"""Neo4jGraphInterface passes the graph conformance suite against a real Neo4j 5 server.

Runs only when ``MEMORA_NEO4J_URI`` is set (plus ``MEMORA_NEO4J_USER`` (or
``MEMORA_NEO4J_USERNAME``), ``MEMORA_NEO4J_PASSWORD`` and optionally ``MEMORA_NEO4J_DATABASE``,
default ``neo4j``)::

    docker run --rm -p 7687:7687 -e NEO4J_AUTH=neo4j/memora-test neo4j:5-community
    MEMORA_NEO4J_URI=neo4j://localhost:7687 MEMORA_NEO4J_USER=neo4j \\
        MEMORA_NEO4J_PASSWORD=memora-test pytest tests/test_graph_neo4j.py

Use a dedicated, empty database: every test requires that no Memora organization exists when
it starts, deletes every organization when it ends, and then checks that no Memora node is
left behind (which also proves ``delete_organization`` removes everything).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from memora_engine.errors import UsageError
from memora_engine.graph_db.neo4j import Neo4jGraphInterface, cypher
from memora_engine.testing import CoordinationTests, GraphDBConformanceTests
from memora_engine.vector_db.base import BaseVectorDB

URI = os.environ.get("MEMORA_NEO4J_URI", "")
if not URI:
    pytest.skip(
        "MEMORA_NEO4J_URI is not set: no Neo4j server to run the conformance suite against.",
        allow_module_level=True,
    )

pytestmark = pytest.mark.neo4j

USER = os.environ.get("MEMORA_NEO4J_USER") or os.environ.get("MEMORA_NEO4J_USERNAME")
PASSWORD = os.environ.get("MEMORA_NEO4J_PASSWORD")
DATABASE = os.environ.get("MEMORA_NEO4J_DATABASE", "neo4j")

#: Test-only query (read-only): how many Memora nodes exist at all.
_COUNT_MEMORA_NODES = "MATCH (n) WHERE " + " OR ".join(f"n:{label}" for label in cypher.LABELS)
_COUNT_MEMORA_NODES += " RETURN count(n) AS nodes"


def _store() -> Neo4jGraphInterface:
    return Neo4jGraphInterface(uri=URI, username=USER, password=PASSWORD, database=DATABASE)


async def _memora_nodes(store: Neo4jGraphInterface) -> int:
    records, _, _ = await store.driver.execute_query(_COUNT_MEMORA_NODES, database_=DATABASE)
    return int(records[0]["nodes"])


@pytest.fixture
async def neo4j_store() -> AsyncIterator[Neo4jGraphInterface]:
    """A set-up store on an empty database; everything it created is deleted afterwards."""
    async with _store() as store:
        leftovers = await _memora_nodes(store)
        if leftovers:
            pytest.fail(
                f"The Neo4j database {DATABASE!r} at {URI} already holds {leftovers} Memora "
                "nodes. Point MEMORA_NEO4J_URI / MEMORA_NEO4J_DATABASE at a dedicated, empty "
                "test database (or empty it: MATCH (n) DETACH DELETE n)."
            )
        try:
            yield store
        finally:
            for org in await store.get_all_organizations():
                await store.delete_organization(org.org_id)
            assert await _memora_nodes(store) == 0, "delete_organization left nodes behind"


class TestNeo4jGraphInterface(GraphDBConformanceTests):
    @pytest.fixture
    async def graph_db(self, neo4j_store: Neo4jGraphInterface) -> Neo4jGraphInterface:
        return neo4j_store


class TestNeo4jWithQdrantLocal(CoordinationTests):
    """The engine's graph <-> index protocol with Neo4j as the graph store."""

    @pytest.fixture
    async def graph_db(self, neo4j_store: Neo4jGraphInterface) -> Neo4jGraphInterface:
        return neo4j_store

    @pytest.fixture
    def vector_db(self, qdrant_local_db: BaseVectorDB) -> BaseVectorDB:
        return qdrant_local_db


async def test_setup_is_idempotent_and_safe_concurrently(
    neo4j_store: Neo4jGraphInterface,
) -> None:
    stores = [_store() for _ in range(4)]
    try:
        await asyncio.gather(*(s.setup() for s in stores))
        await neo4j_store.setup()
    finally:
        for s in stores:
            await s.close()


async def test_given_driver_is_reused_and_left_open(neo4j_store: Neo4jGraphInterface) -> None:
    borrowed = Neo4jGraphInterface(driver=neo4j_store.driver, database=DATABASE)
    org = await borrowed.create_organization("Borrowed")
    await borrowed.close()
    with pytest.raises(UsageError):
        await borrowed.get_organization(org.org_id)
    # The owner's driver still works after the borrower closed.
    assert (await neo4j_store.get_organization(org.org_id)).org_name == "Borrowed"
