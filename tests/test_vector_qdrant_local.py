"""QdrantDB in qdrant-client's local mode (in memory and in a folder) passes the vector suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import BackendUnavailableError, ConfigurationError, InvalidInputError
from memora_engine.testing.vector_suite import VectorDBConformanceTests, make_memory
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope
from memora_engine.vector_db.config import DENSE_ONLY, ORIGINAL_MEMORA, SPARSE_ONLY
from memora_engine.vector_db.qdrant import QdrantDB


class TestQdrantLocalMemory(VectorDBConformanceTests):
    @pytest.fixture
    async def vector_db(self, qdrant_local_db: QdrantDB) -> QdrantDB:
        return qdrant_local_db

    async def strip_payload(self, vector_db: BaseVectorDB, memory_id: str, keys: list[str]) -> None:
        assert isinstance(vector_db, QdrantDB)
        client = vector_db._get_client()
        await client.delete_payload(vector_db.collection_name, keys, points=[memory_id], wait=True)


class TestQdrantLocalPath(VectorDBConformanceTests):
    supports_reopen = True

    @pytest.fixture
    async def vector_db(
        self, tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
    ) -> AsyncIterator[QdrantDB]:
        self._encoders = (dense_encoder, sparse_encoder)
        self._path = tmp_path / "qdrant"
        store = QdrantDB(
            path=self._path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
        )
        await store.setup()
        yield store
        await store.close()

    async def reopen(self, vector_db: BaseVectorDB) -> BaseVectorDB:
        await vector_db.close()
        dense, sparse = self._encoders
        store = QdrantDB(path=self._path, dense_encoder=dense, sparse_encoder=sparse)
        await store.setup()
        return store

    async def strip_payload(self, vector_db: BaseVectorDB, memory_id: str, keys: list[str]) -> None:
        assert isinstance(vector_db, QdrantDB)
        client = vector_db._get_client()
        await client.delete_payload(vector_db.collection_name, keys, points=[memory_id], wait=True)


def test_needs_exactly_one_target() -> None:
    with pytest.raises(ConfigurationError, match="exactly one"):
        QdrantDB()
    with pytest.raises(ConfigurationError, match="exactly one"):
        QdrantDB(location=":memory:", path="/tmp/x")
    with pytest.raises(ConfigurationError, match="api_key"):
        QdrantDB(path="/tmp/x", api_key="secret")


async def test_given_client_is_not_closed(
    dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    from qdrant_client import AsyncQdrantClient

    client = AsyncQdrantClient(location=":memory:")
    async with QdrantDB(client, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder) as db:
        await db.upsert_memories([make_memory("Jake likes tea")])
    assert await client.collection_exists("memora_memories")
    await client.close()


async def test_second_client_on_same_path_is_unavailable(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    async with QdrantDB(path=tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        other = QdrantDB(path=tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder)
        with pytest.raises(BackendUnavailableError):
            await other.setup()


async def test_dimension_change_is_a_configuration_error(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from memora_engine.embeddings import LangChainDenseEncoder

    async with QdrantDB(path=tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        pass
    other = LangChainDenseEncoder(DeterministicFakeEmbedding(size=8))
    store = QdrantDB(path=tmp_path, dense_encoder=other, sparse_encoder=sparse_encoder)
    with pytest.raises(ConfigurationError, match="384-dimensional"):
        await store.setup()
    await store.close()


@pytest.mark.parametrize("config", [DENSE_ONLY, SPARSE_ONLY, ORIGINAL_MEMORA])
async def test_single_modality_and_original_recipes(
    config: object, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    async with QdrantDB(
        location=":memory:",
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
        search_config=config,  # type: ignore[arg-type]
    ) as db:
        allergy = make_memory("Jake is allergic to peanuts")
        await db.upsert_memories([allergy, make_memory("Mary plays the violin")])
        [hits, stop] = await db.search_memories(
            ["peanut allergy", "the"], MemorySearchScope.USER, "org-a", "user-1"
        )
        assert hits[0][0].memory_id == allergy.memory_id
        if config is SPARSE_ONLY:
            assert stop == []
        with pytest.raises(InvalidInputError):
            await db.search_memories([], MemorySearchScope.USER, "org-a", "user-1")
