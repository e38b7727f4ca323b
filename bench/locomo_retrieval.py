"""LoCoMo evidence retrieval: dense-only vs sparse-only vs hybrid, on Memora's vector stores.

Indexes each LoCoMo conversation as the memories of one user, either (a) its dialog turns as
``[8 May 2023] Caroline: ...`` or (b) its observations as ``[8 May 2023] Caroline ...``, asks
every category 1-4 question in USER scope and scores evidence recall@k / all@k / any@k.
Conversations 0-4 are the dev split (where defaults were chosen), 5-9 the held-out split.

Usage (from the repo root)::

    python bench/locomo_retrieval.py            # full run, QdrantEdgeDB, ~3 min on 2 cores
    python bench/locomo_retrieval.py --quick    # 2 conversations (one per split)
    python bench/locomo_retrieval.py --tune     # also the fusion / BM25 grid on the dev split

Writes ``bench/results/locomo_retrieval.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _locomo as locomo

from memora_engine.embeddings import (
    Bm25SparseEncoder,
    DenseEncoder,
    SparseEncoder,
    default_dense_encoder,
)
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope
from memora_engine.vector_db.config import (
    DENSE_ONLY,
    HYBRID_DEFAULT,
    ORIGINAL_MEMORA,
    SPARSE_ONLY,
    HybridSearchConfig,
)

RESULTS = Path(__file__).resolve().parent / "results" / "locomo_retrieval.json"
SHARED_MODEL = locomo.REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
DEV = range(0, 5)


class CachedDenseEncoder(DenseEncoder):
    """Memoizes another encoder's vectors by text, so re-indexing for a grid costs no model time."""

    def __init__(self, inner: DenseEncoder) -> None:
        self.inner = inner
        self.cache: dict[tuple[bool, str], list[float]] = {}
        self.seconds = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def _embed(self, texts: Sequence[str], query: bool) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if (query, t) not in self.cache))
        if missing:
            start = time.perf_counter()
            embed = self.inner.embed_queries if query else self.inner.embed_documents
            for text, vector in zip(missing, await embed(missing), strict=True):
                self.cache[(query, text)] = vector
            self.seconds += time.perf_counter() - start
        return [self.cache[(query, t)] for t in texts]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._embed(texts, False)

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._embed(texts, True)


def make_store(kind: str, path: Path, dense: DenseEncoder, sparse: SparseEncoder) -> BaseVectorDB:
    if kind == "edge":
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

        return QdrantEdgeDB(path, dense_encoder=dense, sparse_encoder=sparse)
    from memora_engine.vector_db.qdrant import QdrantDB

    return QdrantDB(path=path, dense_encoder=dense, sparse_encoder=sparse)


async def build_index(
    store: BaseVectorDB, conversations: Sequence[locomo.Conversation], units: str
) -> dict[str, dict[str, locomo.Unit]]:
    """Index every conversation's units as one user's memories; returns id -> unit per user."""
    by_user: dict[str, dict[str, locomo.Unit]] = {}
    for conv in conversations:
        lookup: dict[str, locomo.Unit] = {}
        memories = []
        for unit in getattr(conv, units):
            memory_id = str(uuid.uuid4())
            lookup[memory_id] = unit
            memories.append(
                Memory(
                    org_id="locomo",
                    user_id=conv.sample_id,
                    agent_id="bench",
                    memory_id=memory_id,
                    memory=unit.text,
                    obtained_at=unit.obtained_at,
                )
            )
        await store.upsert_memories(memories)
        by_user[conv.sample_id] = lookup
    return by_user


async def evaluate(
    store: BaseVectorDB,
    config: HybridSearchConfig,
    conversations: Sequence[locomo.Conversation],
    lookup: dict[str, dict[str, locomo.Unit]],
) -> dict[str, dict[str, dict[str, float]]]:
    """Score one search config on the dev split, the held-out split and both."""
    store.search_config = config  # type: ignore[attr-defined]
    per_split: dict[str, tuple[list[locomo.Question], list[list[locomo.Unit]]]] = {
        "dev": ([], []),
        "heldout": ([], []),
    }
    for index, conv in enumerate(conversations):
        split = "dev" if conv.sample_id in DEV_IDS else "heldout"
        questions = conv.questions
        for start in range(0, len(questions), 64):
            batch = questions[start : start + 64]
            results = await store.search_memories(
                [q.question for q in batch],
                MemorySearchScope.USER,
                "locomo",
                conv.sample_id,
                limit=max(locomo.KS),
            )
            per_split[split][0].extend(batch)
            per_split[split][1].extend(
                [lookup[conv.sample_id][m.memory_id] for m, _ in hits] for hits in results
            )
        del index
    both_q = per_split["dev"][0] + per_split["heldout"][0]
    both_u = per_split["dev"][1] + per_split["heldout"][1]
    out = {name: locomo.score(q, u) for name, (q, u) in per_split.items() if q}
    out["both"] = locomo.score(both_q, both_u)
    return out


DEV_IDS: set[str] = set()


def standard_configs() -> dict[str, HybridSearchConfig]:
    return {
        "dense": DENSE_ONLY,
        "sparse": SPARSE_ONLY,
        "hybrid (default)": HYBRID_DEFAULT,
        "rrf k=60": HYBRID_DEFAULT.model_copy(update={"rrf_k": 60}),
        "rrf k=2": HYBRID_DEFAULT.model_copy(update={"rrf_k": 2}),
        "original (k=2, depth 12, >0.35)": ORIGINAL_MEMORA,
        "original without 0.35 cut": ORIGINAL_MEMORA.model_copy(update={"score_threshold": None}),
    }


def tuning_configs() -> dict[str, HybridSearchConfig]:
    grid: dict[str, HybridSearchConfig] = {}
    for k in (1, 2, 5, 10, 20, 60):
        for depth in (20, 40, 100):
            for dense_w, sparse_w in ((1.0, 1.0), (1.0, 1.5), (1.5, 1.0)):
                name = f"k={k} depth={depth} w={dense_w:g}/{sparse_w:g}"
                grid[name] = HybridSearchConfig(
                    rrf_k=k,
                    dense_candidates=depth,
                    sparse_candidates=depth,
                    dense_weight=dense_w,
                    sparse_weight=sparse_w,
                )
    grid["dbsf depth=40"] = HybridSearchConfig(fusion="dbsf", sparse_weight=1.0)
    return grid


def fmt_row(name: str, scores: dict[str, dict[str, dict[str, float]]]) -> str:
    cells = []
    for split in ("dev", "heldout", "both"):
        if split in scores:
            s = scores[split]["all"]
            cells.append(f"{s['recall@5']:.3f} {s['recall@10']:.3f} {s['recall@20']:.3f}")
        else:
            cells.append(" " * 17)
    return f"  {name:<34} | " + " | ".join(cells)


async def run(args: argparse.Namespace) -> dict[str, object]:
    conversations = locomo.load()
    DEV_IDS.update(conversations[i].sample_id for i in DEV)
    if args.quick:
        conversations = [conversations[0], conversations[5]]
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR") and SHARED_MODEL.is_dir():
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(SHARED_MODEL)
    dense = CachedDenseEncoder(default_dense_encoder())
    report: dict[str, object] = {
        "store": args.store,
        "dense_model": dense.name,
        "conversations": [c.sample_id for c in conversations],
        "dev_split": sorted(DEV_IDS),
        "memory_text": {
            "turns": "[<D Month YYYY>] <speaker>: <text>[ (<speaker> shared <blip_caption>.)]",
            "observations": "[<D Month YYYY>] <observation>",
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": {},
    }
    results: dict[str, dict[str, object]] = {}
    header = "  config                             | dev r@5 r@10 r@20 | held-out r@5/10/20 | both"
    for units in ("turns", "observations"):
        sparse_variants: dict[str, SparseEncoder] = {"default": Bm25SparseEncoder()}
        if args.tune:
            for avg_len in (8.0, 32.0, 256.0):
                sparse_variants[f"avg_len={avg_len:g}"] = Bm25SparseEncoder(avg_len=avg_len)
        results[units] = {}
        for variant, sparse in sparse_variants.items():
            with tempfile.TemporaryDirectory(prefix="memora-locomo-") as tmp:
                store = make_store(args.store, Path(tmp) / "store", dense, sparse)
                await store.setup()
                start = time.perf_counter()
                lookup = await build_index(store, conversations, units)
                index_seconds = time.perf_counter() - start
                configs = standard_configs() if variant == "default" else {}
                if args.tune:
                    configs.update(
                        {"bm25 only": SPARSE_ONLY, "hybrid (default)": HYBRID_DEFAULT}
                        if variant != "default"
                        else tuning_configs()
                    )
                print(f"\n{units} — BM25 {variant} — indexed in {index_seconds:.1f}s")
                print(header)
                for name, config in configs.items():
                    scores = await evaluate(store, config, conversations, lookup)
                    label = name if variant == "default" else f"{variant}: {name}"
                    results[units][label] = {
                        "config": config.model_dump(),
                        "bm25": sparse.name,
                        "scores": scores,
                    }
                    print(fmt_row(label, scores), flush=True)
                await store.close()
    report["results"] = results
    report["summary"] = summarize(results)
    return report


def summarize(results: dict[str, dict[str, object]]) -> dict[str, object]:
    """Hybrid-vs-single-mode margins on recall@10 (both splits)."""
    summary: dict[str, object] = {}
    for units, rows in results.items():

        def r10(name: str, split: str = "both", rows: dict[str, object] = rows) -> float | None:
            row = rows.get(name)
            if not isinstance(row, dict) or split not in row["scores"]:
                return None
            return float(row["scores"][split]["all"]["recall@10"])

        hybrid, dense, sparse = r10("hybrid (default)"), r10("dense"), r10("sparse")
        if hybrid is not None and dense is not None and sparse is not None:
            summary[units] = {
                "hybrid_recall@10": round(hybrid, 4),
                "dense_recall@10": round(dense, 4),
                "sparse_recall@10": round(sparse, 4),
                "hybrid_minus_best_single": round(hybrid - max(dense, sparse), 4),
                "heldout_hybrid_recall@10": r10("hybrid (default)", "heldout"),
            }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 conversations only")
    parser.add_argument("--tune", action="store_true", help="also run the tuning grid")
    parser.add_argument("--store", choices=("edge", "local"), default="edge")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    start = time.perf_counter()
    report = asyncio.run(run(args))
    report["seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nsummary: {json.dumps(report['summary'], indent=2)}")
    print(f"wrote {args.out} in {report['seconds']}s")


if __name__ == "__main__":
    main()
