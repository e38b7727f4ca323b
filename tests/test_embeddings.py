"""Encoders: the real local MiniLM model through fastembed, BM25, LangChain, the factories."""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import mmh3
import pytest
from langchain_core.embeddings import Embeddings
from py_rust_stemmers import SnowballStemmer

from memora_engine.embeddings import (
    DEFAULT_DENSE_MODEL,
    MODEL_DIR_ENV,
    Bm25SparseEncoder,
    DenseEncoder,
    FastEmbedDenseEncoder,
    LangChainDenseEncoder,
    SparseEncoder,
    SparseVector,
    default_dense_encoder,
    default_sparse_encoder,
    english_stopwords,
)
from memora_engine.embeddings.base import LazyResource
from memora_engine.errors import ConfigurationError

SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


async def test_local_minilm_gives_the_published_similarities(dense_encoder: DenseEncoder) -> None:
    assert dense_encoder.dim == 384
    assert dense_encoder.name == "local/all-MiniLM-L6-v2-onnx"
    a, b, c = await dense_encoder.embed_documents(SENTENCES)
    assert len(a) == 384
    assert cosine(a, b) == pytest.approx(0.6660, abs=1e-3)
    assert cosine(a, c) == pytest.approx(0.1046, abs=1e-3)
    assert cosine(b, c) == pytest.approx(0.1411, abs=1e-3)
    assert math.sqrt(sum(x * x for x in a)) == pytest.approx(1.0, abs=1e-5)


async def test_queries_and_documents_match_for_sentence_transformers(
    dense_encoder: DenseEncoder,
) -> None:
    [doc] = await dense_encoder.embed_documents(["Jake is allergic to peanuts"])
    [query] = await dense_encoder.embed_queries(["Jake is allergic to peanuts"])
    assert cosine(doc, query) == pytest.approx(1.0, abs=1e-6)
    assert await dense_encoder.embed_documents([]) == []
    assert await dense_encoder.embed_queries([]) == []


async def test_dense_embedding_does_not_block_the_event_loop(dense_encoder: DenseEncoder) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    await dense_encoder.embed_documents([f"sentence number {i} about peanuts" for i in range(200)])
    done.set()
    await task
    assert ticks >= 3


def test_constructor_does_no_download() -> None:
    encoder = FastEmbedDenseEncoder()  # the multilingual default; would download on first use
    assert encoder.name == DEFAULT_DENSE_MODEL
    assert encoder.dim == 384


def test_unknown_fastembed_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="model_dir"):
        FastEmbedDenseEncoder("nobody/no-such-model")


def test_model_dir_without_model_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"model\.onnx"):
        FastEmbedDenseEncoder(model_dir=tmp_path)


def test_default_dense_encoder_uses_the_env_folder() -> None:
    encoder = default_dense_encoder()
    assert isinstance(encoder, FastEmbedDenseEncoder)
    assert encoder.name == f"local/{Path(os.environ[MODEL_DIR_ENV]).resolve().name}"


def test_default_dense_encoder_argument_wins_over_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = os.environ[MODEL_DIR_ENV]
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match=MODEL_DIR_ENV):
        default_dense_encoder()
    assert default_dense_encoder(good).dim == 384
    with pytest.raises(ConfigurationError, match="model_dir"):
        default_dense_encoder(tmp_path)


def test_default_dense_encoder_without_env_is_fastembed_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MODEL_DIR_ENV)
    assert default_dense_encoder().name == DEFAULT_DENSE_MODEL


def test_lazy_resource_builds_once_across_threads() -> None:
    calls = 0
    started = threading.Barrier(8)

    def build() -> object:
        nonlocal calls
        calls += 1
        return object()

    lazy: LazyResource[object] = LazyResource(build)
    seen: list[object] = []

    def worker() -> None:
        started.wait()
        seen.append(lazy.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == 1
    assert len({id(x) for x in seen}) == 1


# -- BM25 ------------------------------------------------------------------------------------


def test_stopword_list_is_ours_and_clean() -> None:
    words = english_stopwords()
    assert {"the", "and", "what", "when", "is", "she"} <= words
    assert all(w == w.strip().lower() and not w.startswith("#") for w in words)
    assert "peanuts" not in words


def token_id(word: str) -> int:
    """fastembed's / Qdrant's BM25 token key: abs(murmur3) of the Snowball-English stem."""
    return abs(mmh3.hash(SnowballStemmer("english").stem_word(word)))


async def test_bm25_uses_fastembed_token_hashing(sparse_encoder: SparseEncoder) -> None:
    [query] = await sparse_encoder.embed_queries(["When did Caroline go running with the dogs?"])
    assert sorted(query.indices) == sorted(
        token_id(w) for w in ("caroline", "go", "running", "dogs")
    )
    assert query.values == [1.0] * 4


async def test_bm25_document_weights_saturate(sparse_encoder: SparseEncoder) -> None:
    [once, twice] = await sparse_encoder.embed_documents(
        ["peanut allergy facts", "peanut peanut allergy facts"]
    )
    peanut = token_id("peanut")
    weight_once = once.values[once.indices.index(peanut)]
    weight_twice = twice.values[twice.indices.index(peanut)]
    assert 0 < weight_once < weight_twice < 2 * weight_once


async def test_stopword_only_text_has_an_empty_vector() -> None:
    encoder = default_sparse_encoder()
    [vector] = await encoder.embed_queries(["what is it that they were"])
    assert vector.is_empty()
    assert await encoder.embed_documents([]) == []
    assert encoder.needs_idf


async def test_long_documents_are_encoded_off_the_loop() -> None:
    encoder = Bm25SparseEncoder(stopwords=set())
    [vector] = await encoder.embed_documents(["the peanut " * 5_000])
    assert len(vector.indices) == 2


def test_sparse_vector_checks_lengths() -> None:
    with pytest.raises(ValueError, match="as many"):
        SparseVector(indices=[1, 2], values=[1.0])


# -- LangChain ---------------------------------------------------------------------------------


class MiniLMEmbeddings(Embeddings):
    """A real LangChain Embeddings class over the same local ONNX model (sync methods only)."""

    def __init__(self, encoder: DenseEncoder) -> None:
        self.encoder = encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return asyncio.run(self.encoder.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return asyncio.run(self.encoder.embed_queries([text]))[0]


async def test_langchain_encoder_probes_dim_and_embeds(dense_encoder: DenseEncoder) -> None:
    encoder = LangChainDenseEncoder(MiniLMEmbeddings(dense_encoder))
    with pytest.raises(ConfigurationError, match="dim"):
        _ = encoder.dim
    assert await encoder.aget_dim() == 384
    assert encoder.dim == 384
    assert encoder.name == "langchain/MiniLMEmbeddings"
    docs = await encoder.embed_documents(SENTENCES)
    queries = await encoder.embed_queries(SENTENCES[:2])
    direct = await dense_encoder.embed_documents(SENTENCES)
    assert len(docs) == 3
    assert len(queries) == 2
    assert cosine(docs[0], direct[0]) == pytest.approx(1.0, abs=1e-6)
    assert cosine(queries[1], direct[1]) == pytest.approx(1.0, abs=1e-6)
    assert await encoder.embed_documents([]) == []


def test_langchain_encoder_rejects_bad_dim(dense_encoder: DenseEncoder) -> None:
    with pytest.raises(ConfigurationError):
        LangChainDenseEncoder(MiniLMEmbeddings(dense_encoder), dim=0)
    assert LangChainDenseEncoder(MiniLMEmbeddings(dense_encoder), dim=384, name="x").name == "x"


async def test_batches_in_length_order_return_vectors_in_input_order(
    dense_encoder: DenseEncoder,
) -> None:
    """If this fails, check FastEmbedDenseEncoder._embed (length-sorted batches, unsorted back)."""
    texts = [
        "a much longer sentence about the user's peanut allergy and their trip to Lyon in May",
        "hi",
        "the user plays chess",
    ]
    together = await dense_encoder.embed_documents(texts)
    for text, vector in zip(texts, together, strict=True):
        (alone,) = await dense_encoder.embed_documents([text])
        assert sum(a * b for a, b in zip(alone, vector, strict=True)) > 0.9999
