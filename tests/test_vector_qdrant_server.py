"""QdrantDB against a real Qdrant server or Cloud: runs only when MEMORA_QDRANT_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.testing.vector_suite import VectorDBConformanceTests
from memora_engine.vector_db.base import BaseVectorDB
from memora_engine.vector_db.qdrant import QdrantDB

QDRANT_URL = os.environ.get("MEMORA_QDRANT_URL")
QDRANT_API_KEY = os.environ.get("MEMORA_QDRANT_API_KEY")

pytestmark = [
    pytest.mark.qdrant_server,
    pytest.mark.skipif(not QDRANT_URL, reason="set MEMORA_QDRANT_URL to test a Qdrant server"),
]


class TestQdrantServer(VectorDBConformanceTests):
    supports_reopen = True

    @pytest.fixture
    async def vector_db(
        self, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
    ) -> AsyncIterator[QdrantDB]:
        self._encoders = (dense_encoder, sparse_encoder)
        self._collection = f"memora_test_{uuid.uuid4().hex[:12]}"
        store = self._open()
        await store.setup()
        yield store
        cleanup = self._open()
        client = cleanup._get_client()
        try:
            await client.delete_collection(self._collection)
        finally:
            await store.close()
            await cleanup.close()

    def _open(self) -> QdrantDB:
        dense, sparse = self._encoders
        return QdrantDB(
            url=QDRANT_URL,
            api_key=QDRANT_API_KEY,
            collection_name=self._collection,
            dense_encoder=dense,
            sparse_encoder=sparse,
        )

    async def reopen(self, vector_db: BaseVectorDB) -> BaseVectorDB:
        await vector_db.close()
        store = self._open()
        await store.setup()
        return store

    async def strip_payload(self, vector_db: BaseVectorDB, memory_id: str, keys: list[str]) -> None:
        assert isinstance(vector_db, QdrantDB)
        client = vector_db._get_client()
        await client.delete_payload(vector_db.collection_name, keys, points=[memory_id], wait=True)
