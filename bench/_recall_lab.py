"""Candidate lists for the LoCoMo recall lab: built once on the real store, cached on disk.

For each corpus (``turns``, ``observations``) and each question this keeps the top-100 dense
(cosine, MiniLM) and top-100 sparse (BM25 with Qdrant's IDF, from ``QdrantEdgeDB``) candidates
with their scores, so every fusion / boost / rerank variant is scored offline in milliseconds.
Dense vectors of the corpus (plain text and text in context) are cached too.

The cache lives in ``$MEMORA_BENCH_CACHE`` or ``/tmp/memora-locomo-cache`` — never in git.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import _locomo as locomo
import numpy as np

from memora_engine.embeddings import Bm25SparseEncoder, DenseEncoder, default_dense_encoder
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import MemorySearchScope
from memora_engine.vector_db.config import SPARSE_ONLY
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

CACHE = Path(os.environ.get("MEMORA_BENCH_CACHE") or "/tmp/memora-locomo-cache")
DEPTH = 100
Hits = list[tuple[int, float]]
T = TypeVar("T")


@dataclass
class Corpus:
    """One conversation's units of one kind, with everything the offline scorer needs."""

    sample_id: str
    units: list[locomo.Unit]
    session: list[int]
    position: list[int]
    dense: dict[str, np.ndarray] = field(default_factory=dict)
    sparse_hits: list[Hits] = field(default_factory=list)
    sparse_ctx_hits: list[Hits] = field(default_factory=list)
    query_dense: np.ndarray | None = None


def context_texts(conv_turns: Sequence[locomo.Unit], raw: Sequence[dict[str, str]]) -> dict:
    """Index texts of each turn in context: previous turn (``prev``) or both neighbours."""
    prev, both = [], []
    for i, unit in enumerate(conv_turns):
        same_prev = i > 0 and conv_turns[i - 1].obtained_at == unit.obtained_at
        same_next = i + 1 < len(conv_turns) and conv_turns[i + 1].obtained_at == unit.obtained_at
        before = f"{raw[i - 1]['speaker']}: {raw[i - 1]['text']}\n" if same_prev else ""
        after = f"\n{raw[i + 1]['speaker']}: {raw[i + 1]['text']}" if same_next else ""
        date, _, own = unit.text.partition("] ")
        prev.append(f"{date}] {before}{own}")
        both.append(f"{date}] {before}{own}{after}")
    return {"prev": prev, "both": both}


async def _embed(encoder: DenseEncoder, texts: Sequence[str], query: bool) -> np.ndarray:
    out: list[list[float]] = []
    for start in range(0, len(texts), 256):
        chunk = list(texts[start : start + 256])
        out.extend(
            await (encoder.embed_queries(chunk) if query else encoder.embed_documents(chunk))
        )
    matrix = np.asarray(out, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(1e-9)


async def _sparse_hits(
    conversations: Sequence[locomo.Conversation],
    kind: str,
    texts: dict[str, list[str]] | None = None,
) -> dict[str, list[Hits]]:
    """Top-DEPTH BM25 hits per question from the real store (IDF over all 10 users)."""
    out: dict[str, list[Hits]] = {}
    with tempfile.TemporaryDirectory(prefix="memora-lab-") as tmp:
        store = QdrantEdgeDB(
            Path(tmp) / "s", dense_encoder=_ZeroDense(), sparse_encoder=Bm25SparseEncoder()
        )
        store.search_config = SPARSE_ONLY
        await store.setup()
        ids: dict[str, dict[str, int]] = {}
        for conv in conversations:
            memories, lookup = [], {}
            for index, unit in enumerate(getattr(conv, kind)):
                memory_id = str(uuid.uuid4())
                lookup[memory_id] = index
                memories.append(
                    Memory(
                        org_id="locomo",
                        user_id=conv.sample_id,
                        agent_id="bench",
                        memory_id=memory_id,
                        memory=texts[conv.sample_id][index] if texts else unit.text,
                        obtained_at=unit.obtained_at,
                    )
                )
            await store.upsert_memories(memories)
            ids[conv.sample_id] = lookup
        for conv in conversations:
            hits: list[Hits] = []
            for start in range(0, len(conv.questions), 64):
                batch = conv.questions[start : start + 64]
                results = await store.search_memories(
                    [q.question for q in batch],
                    MemorySearchScope.USER,
                    "locomo",
                    conv.sample_id,
                    limit=DEPTH,
                )
                hits.extend([(ids[conv.sample_id][m.memory_id], s) for m, s in r] for r in results)
            out[conv.sample_id] = hits
        await store.close()
    return out


class _ZeroDense(DenseEncoder):
    """Dense encoder of the sparse-only store: the dense side is never searched there."""

    @property
    def name(self) -> str:
        return "zero"

    @property
    def dim(self) -> int:
        return 4

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.embed_documents(texts)


def _read(path: Path) -> object | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return pickle.load(handle)  # type: ignore[no-any-return]


def _write(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(value, handle)


async def _cached(name: str, build: Callable[[], Awaitable[T]]) -> T:
    """Load ``name`` from the cache folder, or build and store it (one file per step)."""
    path = CACHE / f"{name}.pkl"
    found = _read(path)
    if found is not None:
        return found  # type: ignore[return-value]
    start = time.perf_counter()
    value = await build()
    _write(path, value)
    print(f"  cached {name} in {time.perf_counter() - start:.0f}s", flush=True)
    return value


async def load_corpora(
    conversations: Sequence[locomo.Conversation],
    raw_turns: dict[str, list[dict[str, str]]],
    spaces: Sequence[str] = ("prev",),
) -> dict[str, list[Corpus]]:
    """Corpora per kind: dense matrices, sparse candidate lists, query vectors (each cached)."""
    encoder = default_dense_encoder()
    result: dict[str, list[Corpus]] = {}
    for kind in ("turns", "observations"):
        sparse = await _cached(
            f"{kind}-sparse", lambda kind=kind: _sparse_hits(conversations, kind)
        )
        sparse_ctx: dict[str, list[Hits]] = {}
        if kind == "turns":
            ctx = {
                c.sample_id: context_texts(c.turns, raw_turns[c.sample_id])["prev"]
                for c in conversations
            }
            sparse_ctx = await _cached(
                "turns-sparse-prev", lambda ctx=ctx: _sparse_hits(conversations, "turns", ctx)
            )
        corpora = []
        for conv in conversations:
            units: list[locomo.Unit] = getattr(conv, kind)
            sessions = sorted({u.obtained_at for u in units})
            session = [sessions.index(u.obtained_at) for u in units]
            corpus = Corpus(conv.sample_id, units, session, list(range(len(units))))
            tag = f"{kind}-{conv.sample_id}"
            corpus.dense["plain"] = await _cached(
                f"{tag}-plain", lambda units=units: _embed(encoder, [u.text for u in units], False)
            )
            if kind == "turns":
                texts = context_texts(units, raw_turns[conv.sample_id])
                for name in spaces:
                    corpus.dense[name] = await _cached(
                        f"{tag}-{name}", lambda t=texts[name]: _embed(encoder, t, False)
                    )
            corpus.sparse_hits = sparse[conv.sample_id]
            corpus.sparse_ctx_hits = sparse_ctx.get(conv.sample_id, [])
            corpus.query_dense = await _cached(
                f"q-{conv.sample_id}",
                lambda conv=conv: _embed(encoder, [q.question for q in conv.questions], True),
            )
            corpora.append(corpus)
        result[kind] = corpora
    return result


def raw_turns() -> dict[str, list[dict[str, str]]]:
    """``{sample_id: [{speaker, text}, ...]}`` in the order of ``Conversation.turns``."""
    import json
    import re

    samples = json.loads(locomo.locomo_path().read_text(encoding="utf-8"))
    out: dict[str, list[dict[str, str]]] = {}
    for sample in samples:
        conv = sample["conversation"]
        numbers = sorted(
            int(m.group(1)) for k in conv for m in [re.fullmatch(r"session_(\d+)", k)] if m
        )
        out[sample["sample_id"]] = [
            {"speaker": t["speaker"], "text": t["text"].strip()}
            for n in numbers
            for t in conv[f"session_{n}"]
        ]
    return out
