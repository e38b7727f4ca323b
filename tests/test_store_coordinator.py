"""The engine's graph <-> index protocol over real stores: SQLite with Qdrant Edge (the embedded
default) and SQLite with qdrant-client's local mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.testing import CoordinationTests
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
