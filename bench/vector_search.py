"""Vector store speed: filtered hybrid search latency, add throughput, peak memory.

For each store (QdrantEdgeDB, QdrantDB local mode) and size (10k, 100k memories over 1,000
users in 10 orgs), a fresh worker process:

1. indexes the memories through ``upsert_memories`` in batches of 500 with a bench encoder that
   serves precomputed real MiniLM vectors (a pool of real embeddings, each memory's vector a
   slightly perturbed pool vector), so *index time* excludes the model;
2. times 300 USER-scope and 100 ORGANIZATION-scope hybrid searches (query vectors precomputed:
   *excluding query embedding*; BM25 query encoding is included);
3. reports its peak resident memory (VmHWM) and the RSS before the store opened.

Separately, the real model's throughput is measured (*embedding time*) and an end-to-end add
run (real embedding + index) on 2,000 memories gives adds/s including embedding.

Usage (repo root)::

    python bench/vector_search.py            # 10k and 100k, both stores (~10 min on 2 cores)
    python bench/vector_search.py --quick    # 2k and 10k

Writes ``bench/results/vector_search.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from memora_engine.embeddings import Bm25SparseEncoder, DenseEncoder, default_dense_encoder
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "vector_search.json"
SHARED_MODEL = ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
POOL = 3_000
USERS, ORGS = 1_000, 10
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)

NAMES = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Gina",
    "Hugo",
    "Ines",
    "Jon",
    "Kai",
    "Lena",
    "Milo",
    "Nora",
    "Omar",
    "Pia",
]
VERBS = [
    "loves",
    "is allergic to",
    "bought",
    "wants to learn about",
    "dislikes",
    "talked about",
    "is saving money for",
    "recommended",
    "lost",
    "is worried about",
    "plans a trip for",
]
THINGS = [
    "peanuts",
    "the violin",
    "a red bicycle",
    "Thai green curry",
    "marathon training",
    "a new laptop",
    "her grandmother's garden",
    "jazz concerts",
    "the Swiss Alps",
    "sourdough",
    "a golden retriever",
    "chess openings",
    "solar panels",
    "vintage cameras",
    "yoga classes",
    "the stock market",
    "Italian lessons",
    "a leaking roof",
    "board games",
    "rock climbing",
]
WHEN = ["last week", "every summer", "since 2019", "on weekends", "after work", "in March"]


def pool_texts() -> list[str]:
    rng = random.Random(7)
    texts = {
        f"{rng.choice(NAMES)} {rng.choice(VERBS)} {rng.choice(THINGS)} {rng.choice(WHEN)}"
        for _ in range(POOL * 3)
    }
    return sorted(texts)[:POOL]


def ensure_model_env() -> None:
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR") and SHARED_MODEL.is_dir():
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(SHARED_MODEL)


class PoolEncoder(DenseEncoder):
    """Bench encoder: text ``"<pool text> (note <n>)"`` -> perturbed real pool vector."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        self.index = {t: i for i, t in enumerate(texts)}
        self.vectors = vectors

    @property
    def name(self) -> str:
        return "bench-pool"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def vector(self, text: str) -> list[float]:
        base, _, note = text.partition(" (note ")
        vec = self.vectors[self.index[base]]
        if note:
            rng = np.random.default_rng(int(note.rstrip(")")))
            vec = vec + rng.normal(0, 0.02, vec.shape)
            vec = vec / np.linalg.norm(vec)
        return [float(x) for x in vec]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t) for t in texts]

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(t) for t in texts]


def make_memories(size: int, texts: list[str], *, unique: bool = True) -> list[Memory]:
    rng = random.Random(size)
    out = []
    for i in range(size):
        user = i % USERS
        out.append(
            Memory(
                org_id=f"org{user % ORGS}",
                user_id=f"user{user}",
                agent_id=f"agent{rng.randrange(3)}",
                memory_id=str(uuid.uuid4()),
                memory=texts[rng.randrange(POOL)] + (f" (note {i})" if unique else ""),
                obtained_at=T0 + timedelta(minutes=i),
            )
        )
    return out


def open_store(kind: str, path: Path, dense: DenseEncoder) -> BaseVectorDB:
    sparse = Bm25SparseEncoder()
    if kind == "edge":
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

        return QdrantEdgeDB(path, dense_encoder=dense, sparse_encoder=sparse)
    from memora_engine.vector_db.qdrant import QdrantDB

    return QdrantDB(path=path, dense_encoder=dense, sparse_encoder=sparse)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss would include the parent's peak,
    which a child inherits across fork + exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


async def worker(kind: str, size: int, pool_file: Path, searches: int) -> dict[str, object]:
    data = np.load(pool_file)
    texts = pool_texts()
    dense = PoolEncoder(texts, data)
    memories = make_memories(size, texts)
    rss_before = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="memora-vbench-") as tmp:
        store = open_store(kind, Path(tmp) / "store", dense)
        await store.setup()
        start = time.perf_counter()
        for at in range(0, size, 500):
            await store.upsert_memories(memories[at : at + 500])
        index_seconds = time.perf_counter() - start
        rng = random.Random(1)
        timings: dict[str, list[float]] = {"user": [], "org": []}
        for scope, count in (("user", searches), ("org", max(20, searches // 3))):
            for _ in range(count):
                query = texts[rng.randrange(POOL)]
                user = rng.randrange(USERS)
                start = time.perf_counter()
                if scope == "user":
                    [hits] = await store.search_memories(
                        [query], MemorySearchScope.USER, f"org{user % ORGS}", f"user{user}"
                    )
                else:
                    [hits] = await store.search_memories(
                        [query], MemorySearchScope.ORGANIZATION, f"org{user % ORGS}"
                    )
                timings[scope].append((time.perf_counter() - start) * 1000)
                assert hits, "a search over a non-empty tenant found nothing"
        batch_queries = [texts[rng.randrange(POOL)] for _ in range(16)]
        start = time.perf_counter()
        rounds = 10 if searches >= 100 else 2
        for _ in range(rounds):
            await store.search_memories(batch_queries, MemorySearchScope.USER, "org3", "user3")
        batch_ms = (time.perf_counter() - start) * 1000 / rounds
        await store.close()
    rss_peak = peak_rss_mb()
    return {
        "store": kind,
        "memories": size,
        "index_seconds": round(index_seconds, 2),
        "index_per_second": round(size / index_seconds, 1),
        "user_search_ms": {
            "p50": round(pct(timings["user"], 50), 3),
            "p95": round(pct(timings["user"], 95), 3),
        },
        "org_search_ms": {
            "p50": round(pct(timings["org"], 50), 3),
            "p95": round(pct(timings["org"], 95), 3),
        },
        "batch16_user_search_ms": round(batch_ms, 2),
        "rss_before_store_mb": round(rss_before, 1),
        "peak_rss_mb": round(rss_peak, 1),
    }


async def embedding_and_end_to_end(texts: list[str], kinds: Sequence[str]) -> dict[str, object]:
    """Real model: embedding throughput and query latency; adds/s including embedding."""
    dense = default_dense_encoder()
    await dense.embed_documents(texts[:32])  # load the model
    start = time.perf_counter()
    await dense.embed_documents(texts[:2_000])
    docs_per_second = 2_000 / (time.perf_counter() - start)
    single = []
    for text in texts[:50]:
        start = time.perf_counter()
        await dense.embed_queries([text])
        single.append((time.perf_counter() - start) * 1000)
    out: dict[str, object] = {
        "model": dense.name,
        "documents_per_second": round(docs_per_second, 1),
        "one_query_ms_p50": round(statistics.median(single), 2),
    }
    memories = make_memories(2_000, texts, unique=False)
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="memora-vbench-") as tmp:
            store = open_store(kind, Path(tmp) / "store", dense)
            await store.setup()
            start = time.perf_counter()
            for at in range(0, len(memories), 100):
                await store.upsert_memories(memories[at : at + 100])
            seconds = time.perf_counter() - start
            await store.close()
        out[f"{kind}_adds_per_second_with_embedding"] = round(len(memories) / seconds, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stores", default="edge,local")
    parser.add_argument(
        "--worker", nargs=3, metavar=("STORE", "SIZE", "POOL"), help=argparse.SUPPRESS
    )
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ensure_model_env()
    if args.worker:
        kind, size, pool = args.worker
        print(json.dumps(asyncio.run(worker(kind, int(size), Path(pool), args.searches))))
        return
    kinds = args.stores.split(",")
    sizes = (2_000, 10_000) if args.quick else (10_000, 100_000)
    texts = pool_texts()
    report: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "users": USERS,
        "orgs": ORGS,
    }
    print("embedding (real model) and end-to-end adds ...", flush=True)
    report["embedding"] = asyncio.run(embedding_and_end_to_end(texts, kinds))
    print(json.dumps(report["embedding"], indent=2), flush=True)
    with tempfile.TemporaryDirectory(prefix="memora-vpool-") as tmp:
        pool_file = Path(tmp) / "pool.npy"
        vectors = asyncio.run(default_dense_encoder().embed_documents(texts))
        np.save(pool_file, np.array(vectors, dtype=np.float32))
        rows = []
        print(
            f"{'store':<6} {'memories':>8} {'index/s':>9} {'user p50':>9} {'user p95':>9} "
            f"{'org p50':>8} {'org p95':>8} {'peak MB':>8}",
            flush=True,
        )
        for kind in kinds:
            for size in sizes:
                cmd = [
                    sys.executable,
                    __file__,
                    "--worker",
                    kind,
                    str(size),
                    str(pool_file),
                    "--searches",
                    str(args.searches if kind == "edge" or size <= 10_000 else 20),
                ]
                done = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    raise SystemExit(f"worker {kind} {size} failed")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(
                    f"{kind:<6} {size:>8} {row['index_per_second']:>9} "
                    f"{row['user_search_ms']['p50']:>9} {row['user_search_ms']['p95']:>9} "
                    f"{row['org_search_ms']['p50']:>8} {row['org_search_ms']['p95']:>8} "
                    f"{row['peak_rss_mb']:>8}",
                    flush=True,
                )
    report["stores"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
