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
