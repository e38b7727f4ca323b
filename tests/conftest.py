"""Shared test setup: every test uses the real local embedding model, never a download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_MODEL_DIR = REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"


def _configure_model_dir() -> None:
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR"):
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(SHARED_MODEL_DIR)
    model_dir = Path(os.environ["MEMORA_EMBEDDING_MODEL_DIR"])
    if not (model_dir / "model.onnx").is_file():
        raise pytest.UsageError(
            f"MEMORA_EMBEDDING_MODEL_DIR={model_dir} has no model.onnx; point it at "
            "../shared/models/all-MiniLM-L6-v2-onnx."
        )
    # Tests must never reach a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


_configure_model_dir()


# --- Shared encoders and a local vector store (vector search helper) -------------------------
# Appended fixtures: the real local model, loaded once per session, and an empty QdrantDB in
# qdrant-client's in-memory local mode using it.

from collections.abc import AsyncIterator  # noqa: E402

from memora_engine.embeddings import (  # noqa: E402
    Bm25SparseEncoder,
    DenseEncoder,
    SparseEncoder,
    default_dense_encoder,
)
from memora_engine.vector_db.qdrant import QdrantDB  # noqa: E402


@pytest.fixture(scope="session")
def dense_encoder() -> DenseEncoder:
    """The real all-MiniLM-L6-v2 ONNX model from MEMORA_EMBEDDING_MODEL_DIR (no download)."""
    return default_dense_encoder()


@pytest.fixture(scope="session")
def sparse_encoder() -> SparseEncoder:
    """BM25 with Memora's stopwords (no download)."""
    return Bm25SparseEncoder()


@pytest.fixture
async def qdrant_local_db(
    dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[QdrantDB]:
    """An empty, set-up QdrantDB in qdrant-client's in-memory local mode."""
    store = QdrantDB(
        location=":memory:", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    await store.setup()
    try:
        yield store
    finally:
        await store.close()


# --- An embedded Memora whose extraction model is scripted (engine flow tests) ---------------
from memora_engine import Memora  # noqa: E402
from tests.scripted_provider import ScriptedProvider  # noqa: E402


@pytest.fixture
def provider() -> ScriptedProvider:
    """The scripted extraction / comparison / query model of one test (the allowed double)."""
    return ScriptedProvider()


@pytest.fixture
async def memora(
    tmp_path: Path,
    provider: ScriptedProvider,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> AsyncIterator[Memora]:
    """An embedded Memora on ``tmp_path`` with ``provider``'s model (tests may override)."""
    engine = await Memora.embedded(
        tmp_path / "memora",
        extraction_model=provider.model(),
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    )
    async with engine:
        yield engine


# --- LlamaIndex ``Memory`` with a chat store that is closed after the test ----------------------

import asyncio  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

from llama_index.core.memory import Memory  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402


@pytest.fixture
def llama_memory() -> Iterator[Callable[..., Memory]]:
    """``Memory.from_defaults`` whose in-memory SQLite chat store is disposed at teardown.

    LlamaIndex's ``Memory`` opens an aiosqlite engine it never closes. When the garbage
    collector finds that connection later, aiosqlite's finaliser posts to whatever event loop
    is current; on Python 3.10 that can be a closed loop, and the worker thread then dies with
    "Event loop is closed" during some unrelated later test. Tests own the engine instead::

        memory = llama_memory(session_id="chat-1", memory_blocks=[block])
    """
    engines: list[AsyncEngine] = []

    def make(**kwargs: Any) -> Memory:
        engine = create_async_engine("sqlite+aiosqlite:///:memory:")
        engines.append(engine)
        return Memory.from_defaults(async_engine=engine, **kwargs)

    yield make
    for engine in engines:
        asyncio.run(engine.dispose())
