"""Default encoders from settings: a local model folder if configured, else fastembed's default.

The folder comes from the argument, else :class:`~memora_engine.settings.MemoraSettings`'s
``embedding_model_dir`` (``MEMORA_EMBEDDING_MODEL_DIR``); a relative folder is resolved against
the directory the process started in (:data:`~memora_engine.settings.STARTUP_DIR`).
"""

from __future__ import annotations

import os
from pathlib import Path

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder
from memora_engine.embeddings.bm25 import Bm25SparseEncoder
from memora_engine.embeddings.fastembed_dense import FastEmbedDenseEncoder
from memora_engine.errors import ConfigurationError
from memora_engine.settings import resolve_startup_path

__all__ = ["MODEL_DIR_ENV", "default_dense_encoder", "default_sparse_encoder", "resolve_model_dir"]

#: Environment variable naming a local ONNX model folder for the default dense encoder.
MODEL_DIR_ENV = "MEMORA_EMBEDDING_MODEL_DIR"


def resolve_model_dir(model_dir: str | Path | None = None) -> Path | None:
    """Pick the local model folder: the argument, else ``$MEMORA_EMBEDDING_MODEL_DIR``, else None.

    A relative folder is resolved against the start-up directory, so a later ``chdir`` (tests
    do that) does not change which folder is used.

    Raises:
        ConfigurationError: the chosen folder does not exist or holds no ``model.onnx``.
    """
    source = "model_dir"
    if model_dir is None or str(model_dir) == "":
        env_value = os.environ.get(MODEL_DIR_ENV, "").strip()
        if not env_value:
            return None
        model_dir, source = env_value, MODEL_DIR_ENV
    folder = resolve_startup_path(model_dir)
    if not (folder / "model.onnx").is_file():
        raise ConfigurationError(
            f"{source}={folder} is not an ONNX model folder (no model.onnx there). Set "
            f"{MODEL_DIR_ENV} to a folder holding model.onnx and its tokenizer files, or unset "
            "it to download the default model."
        )
    return folder


def default_dense_encoder(
    model_dir: str | Path | None = None, *, threads: int | None = None
) -> DenseEncoder:
    """The default dense encoder: a local ONNX folder if configured, else fastembed's default.

    Construction does no I/O beyond checking the folder; the model loads on first use.

    Raises:
        ConfigurationError: the configured folder is missing or invalid.
    """
    folder = resolve_model_dir(model_dir)
    if folder is not None:
        return FastEmbedDenseEncoder(model_dir=folder, threads=threads)
    return FastEmbedDenseEncoder(threads=threads)


def default_sparse_encoder() -> SparseEncoder:
    """The default sparse encoder: BM25 with Memora's English stopwords (no download)."""
    return Bm25SparseEncoder()
