"""Dense embeddings with fastembed (ONNX Runtime, CPU): a fastembed model or a local ONNX folder."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from memora_engine.embeddings.base import DenseEncoder, LazyResource
from memora_engine.errors import ConfigurationError

if TYPE_CHECKING:
    from fastembed import TextEmbedding

__all__ = ["DEFAULT_DENSE_MODEL", "FastEmbedDenseEncoder", "length_order"]

#: The default dense model: multilingual, 384 dimensions, ~220 MB (downloaded on first use).
DEFAULT_DENSE_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"

Pooling = Literal["mean", "cls"]

_REGISTRY_LOCK = threading.Lock()


def length_order(texts: Sequence[str]) -> list[int]:
    """Indexes of ``texts`` from shortest to longest (stable; pure).

    Examples:
        >>> length_order(["a long text", "hi", "mid text"])
        [1, 2, 0]
    """
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))


def _read_local_dim(model_dir: Path) -> int | None:
    """Read the hidden size from a model folder's ``config.json`` (None if absent)."""
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        return None
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    size = config.get("hidden_size") or config.get("dim") or config.get("d_model")
    return size if isinstance(size, int) and size > 0 else None


def _register_local_model(pooling: Pooling, normalize: bool, dim: int, model_file: str) -> str:
    """Register (once per shape) a fastembed custom model and return its registry name.

    The registry entry only describes pooling, normalization, dimension and file name; the
    folder itself is given at load time, so one entry serves every folder of that shape.
    """
    from fastembed import TextEmbedding
    from fastembed.common.model_description import ModelSource, PoolingType

    registry_name = f"memora-local/{pooling}-{'norm' if normalize else 'raw'}-{dim}-{model_file}"
    with _REGISTRY_LOCK:
        known = {m["model"].lower() for m in TextEmbedding.list_supported_models()}
        if registry_name.lower() not in known:
            TextEmbedding.add_custom_model(
                model=registry_name,
                pooling=PoolingType.MEAN if pooling == "mean" else PoolingType.CLS,
                normalization=normalize,
                sources=ModelSource(hf=registry_name),
                dim=dim,
                model_file=model_file,
            )
    return registry_name


def _known_model_dim(model_name: str) -> int | None:
    from fastembed import TextEmbedding

    for description in TextEmbedding.list_supported_models():
        if description["model"].lower() == model_name.lower():
            dim = description.get("dim")
            return int(dim) if dim else None
    return None


class FastEmbedDenseEncoder(DenseEncoder):
    """Dense encoder on fastembed: a named fastembed model, or any local ONNX model folder.

    With ``model_dir`` the folder (``model.onnx`` plus tokenizer files, e.g. an exported
    sentence-transformers model) is loaded with ``local_files_only=True``: no network access,
    and a missing file fails at once. Without it, ``model_name`` is a fastembed model, downloaded
    to ``cache_dir`` on first use. The model loads lazily, once, on a worker thread.

    Args:
        model_name: fastembed model name; with ``model_dir``, only a label (default: the
            folder's name).
        model_dir: A local ONNX model folder.
        cache_dir: fastembed's download cache (named models only).
        threads: ONNX Runtime intra-op threads (None: ONNX Runtime's default).
        pooling: Pooling of a local model (``"mean"`` for sentence-transformers models).
        normalize: L2-normalize the vectors of a local model.
        dim: Dimension of a local model (default: ``hidden_size`` from its ``config.json``).
        model_file: The ONNX file inside ``model_dir``.
        batch_size: Texts per ONNX Runtime call.

    Raises:
        ConfigurationError: ``model_dir`` has no model file, or its dimension is unknown.

    Examples:
        >>> encoder = FastEmbedDenseEncoder(model_dir="../shared/models/all-MiniLM-L6-v2-onnx")
        >>> encoder.dim
        384
        >>> [vector] = await encoder.embed_queries(["who is allergic?"])  # doctest: +SKIP
    """

    def __init__(
        self,
        model_name: str | None = None,
        *,
        model_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
        threads: int | None = None,
        pooling: Pooling = "mean",
        normalize: bool = True,
        dim: int | None = None,
        model_file: str = "model.onnx",
        batch_size: int = 64,
    ) -> None:
        self._threads = threads
        self._cache_dir = None if cache_dir is None else str(cache_dir)
        self._batch_size = batch_size
        self._model_dir: Path | None = None
        if model_dir is not None:
            folder = Path(model_dir).expanduser()
            if not (folder / model_file).is_file():
                raise ConfigurationError(
                    f"Embedding model folder {folder} has no {model_file}; point model_dir "
                    "(or MEMORA_EMBEDDING_MODEL_DIR) at a folder with an ONNX model and its "
                    "tokenizer files."
                )
            found_dim = dim or _read_local_dim(folder)
            if found_dim is None:
                raise ConfigurationError(
                    f"Cannot tell the dimension of the model in {folder}: pass dim=."
                )
            self._model_dir = folder
            self._dim = found_dim
            self._name = model_name or f"local/{folder.resolve().name}"
            self._registry_name = _register_local_model(pooling, normalize, found_dim, model_file)
        else:
            self._name = model_name or DEFAULT_DENSE_MODEL
            self._registry_name = self._name
            known = dim or _known_model_dim(self._name)
            if known is None:
                raise ConfigurationError(
                    f"{self._name!r} is not a fastembed text model; pass model_dir= for a "
                    "local ONNX folder."
                )
            self._dim = known
        self._model: LazyResource[TextEmbedding] = LazyResource(self._load)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def symmetric(self) -> bool:
        # A local folder is registered as a generic fastembed model: no query / passage prefixes.
        return self._model_dir is not None

    def _load(self) -> TextEmbedding:
        from fastembed import TextEmbedding

        kwargs: dict[str, Any] = {"threads": self._threads}
        if self._model_dir is not None:
            kwargs.update(specific_model_path=str(self._model_dir), local_files_only=True)
        try:
            return TextEmbedding(self._registry_name, cache_dir=self._cache_dir, **kwargs)
        except Exception as exc:  # fastembed raises plain ValueError / OSError / hub errors
            where = self._model_dir or self._name
            raise ConfigurationError(f"Could not load embedding model {where}: {exc}") from exc

    def _embed(self, texts: list[str], *, queries: bool) -> list[list[float]]:
        model = self._model.get()
        # Models with query / passage prefixes (e5, bge) get them here; others embed alike.
        embed = model.query_embed if queries else model.passage_embed
        # Batches are padded to their longest text: embed in length order, return in input order.
        order = length_order(texts)
        vectors = embed([texts[i] for i in order], batch_size=self._batch_size)
        out: list[list[float]] = [[] for _ in texts]
        for position, vector in zip(order, vectors, strict=True):
            out[position] = vector.tolist()
        return out

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed, list(texts), queries=False)

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed, list(texts), queries=True)
