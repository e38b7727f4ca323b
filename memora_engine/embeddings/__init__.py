"""Dense and sparse text encoders (pluggable; defaults run locally with no server).

``default_dense_encoder()`` uses ``MEMORA_EMBEDDING_MODEL_DIR`` (a local ONNX model folder) when
set, else fastembed's multilingual MiniLM (downloaded on first use). ``default_sparse_encoder()``
is BM25 and needs no download.
"""

from __future__ import annotations

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder, SparseVector
from memora_engine.embeddings.bm25 import Bm25SparseEncoder, english_stopwords
from memora_engine.embeddings.factory import (
    MODEL_DIR_ENV,
    default_dense_encoder,
    default_sparse_encoder,
    resolve_model_dir,
)
from memora_engine.embeddings.fastembed_dense import DEFAULT_DENSE_MODEL, FastEmbedDenseEncoder
from memora_engine.embeddings.langchain_dense import LangChainDenseEncoder

__all__ = [
    "DEFAULT_DENSE_MODEL",
    "MODEL_DIR_ENV",
    "Bm25SparseEncoder",
    "DenseEncoder",
    "FastEmbedDenseEncoder",
    "LangChainDenseEncoder",
    "SparseEncoder",
    "SparseVector",
    "default_dense_encoder",
    "default_sparse_encoder",
    "english_stopwords",
    "resolve_model_dir",
]
