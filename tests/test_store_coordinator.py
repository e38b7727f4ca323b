"""The engine's graph <-> index protocol over real stores: SQLite with Qdrant Edge (the embedded
default) and SQLite with qdrant-client's local mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.testing import CoordinationTests
from memora_engine.testing.graph_suite.support import dto
from memora_engine.vector_db.base import BaseVectorDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB


class TestSqliteWithQdrantEdge(CoordinationTests):
    @pytest.fixture
    async def graph_db(self, tmp_path: Path) -> AsyncIterator[SqliteGraphDB]:
        async with SqliteGraphDB(tmp_path / "graph.sqlite3") as store:
            yield store

    @pytest.fixture
    async def vector_db(
        self, tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
    ) -> AsyncIterator[QdrantEdgeDB]:
        async with QdrantEdgeDB(
            tmp_path / "vectors", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
        ) as store:
            await store.setup()
            yield store


class TestSqliteWithQdrantLocal(CoordinationTests):
    @pytest.fixture
    async def graph_db(self) -> AsyncIterator[SqliteGraphDB]:
        async with SqliteGraphDB(":memory:") as store:
            yield store

    @pytest.fixture
    def vector_db(self, qdrant_local_db: BaseVectorDB) -> BaseVectorDB:
        return qdrant_local_db


async def test_memora_doors_keep_the_index_in_step(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check Memora's deletes (exact bool / int from what the graph deleted) and
    the compatibility view memora.graph (graph_compat.py): writes index, deletes cascade."""
    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = (await memora.create_organization("Acme")).org_id
        user = (await memora.create_user(org, "Jake")).user_id
        agent = (await memora.create_agent(org, "Bot")).agent_id
        iid, _ = await memora.graph.save_interaction_with_memories(
            org, agent, user, dto(["msg"], [("walnut orchard owner", [0]), ("plays oboe", [0])])
        )
        ids = [m.memory_id for m in await memora.list_memories(org, user)]
        assert await memora.vector_db.existing_ids(ids) == set(ids)
        await memora.graph.delete_user_memory(org, user, ids[0])
        assert await memora.vector_db.existing_ids(ids) == {ids[1]}
        assert await memora.delete_memory(org, user, ids[0]) is False
        assert await memora.delete_all_memories(org, user) == 1
        assert await memora.delete_all_memories(org, user) == 0
        assert await memora.vector_db.count(org) == 0
        assert await memora.delete_interaction(org, user, iid) is True
        assert await memora.delete_interaction(org, user, iid) is False
        assert await memora.delete_agent(org, agent) is True
        assert await memora.delete_agent(org, agent) is False
        assert await memora.delete_user(org, user) is True
        assert await memora.delete_organization(org) is True
        assert await memora.delete_organization(org) is False
