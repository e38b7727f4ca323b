"""Filtered search: metadata filters pushed into the vector query, beside the unfiltered search.

At ``--n`` memories (default 100,000) in one organization of 100 users, each memory carrying
``{"project": "p00".."p99", "pinned": bool}``, the store (Qdrant Edge by default) answers the
same hybrid queries three ways, interleaved query by query so load hits all alike:

* unfiltered;
* selective: ``{"project": "p07"}`` (about 1 % of the memories);
* broad: ``{"pinned": True}`` (50 %).

Both scopes are timed: ORGANIZATION (every memory is a candidate) and USER (1 % of them).
Then (Qdrant Edge) the store is reopened with ``metadata_indexes={"project": "keyword",
"pinned": "keyword"}`` (indexes added to the existing store on open) and timed again.
Query vectors come from a pool of real MiniLM embeddings (bench/vector_search.py's encoder), so
the times are the store's (BM25 query encoding and the filter translation included). Every
filtered hit is checked against the reference semantics (``memora_engine.filters.matches``)
and a filtered list must be full (``limit`` hits) whenever enough memories match.

By default this runs at the vector-store level (``BaseVectorDB.search_memories(...,
filter=...)``). ``--engine`` times ``Memora.search_memories_as_one(..., filter=...)`` instead
(SQLite + Qdrant Edge with both metadata indexes, optimized): one user holding all ``--n``
memories, added as raw facts with ``add_memories``; the vector search and the graph
resolution and re-check are included. The load average is recorded at start and end: compare
figures of one run only.

Usage (repo root)::

    python bench/filtered_search.py                 # 100k memories, Qdrant Edge (~1 min)
    python bench/filtered_search.py --n 10000 --store local
    python bench/filtered_search.py --engine --out bench/results/filtered_search_engine.json

Writes ``bench/results/filtered_search.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from memora_engine import Memora
from memora_engine.embeddings import Bm25SparseEncoder, DenseEncoder, default_dense_encoder
from memora_engine.filters import matches, memory_record, parse_filter
from memora_engine.graph_db import SqliteGraphDB
from memora_engine.schema.models import Memory
from memora_engine.vector_db._common import MetadataIndexType
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope
from memora_engine.vector_db.qdrant import QdrantDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.vector_search import (  # noqa: E402
    POOL,
    T0,
    PoolEncoder,
    ensure_model_env,
    open_store,
    pct,
    pool_texts,
)

RESULTS = ROOT / "bench" / "results" / "filtered_search.json"
ORG, USERS, LIMIT = "org0", 100, 10
FILTERS: dict[str, dict[str, Any] | None] = {
    "unfiltered": None,
    "selective (1%)": {"project": "p07"},
    "broad (50%)": {"pinned": True},
}


def make_memories(n: int, texts: list[str]) -> list[Memory]:
    """``n`` memories of one org over ``USERS`` users, with project / pinned metadata."""
    rng = random.Random(n)
    return [
        Memory(
            org_id=ORG,
            user_id=f"user{i % USERS}",
            agent_id=f"agent{rng.randrange(3)}",
            memory_id=str(uuid.uuid4()),
            memory=f"{texts[rng.randrange(POOL)]} (note {i})",
            obtained_at=T0 + timedelta(minutes=i),
            metadata={"project": f"p{rng.randrange(100):02d}", "pinned": rng.random() < 0.5},
        )
        for i in range(n)
    ]


def open_indexed(kind: str, path: Path, dense: DenseEncoder, indexed: bool) -> BaseVectorDB:
    """The bench store, with keyword indexes on the two metadata keys when ``indexed``."""
    if not indexed:
        return open_store(kind, path, dense)
    sparse = Bm25SparseEncoder()
    indexes: dict[str, MetadataIndexType] = {"project": "keyword", "pinned": "keyword"}
    if kind == "edge":
        return QdrantEdgeDB(
            path, dense_encoder=dense, sparse_encoder=sparse, metadata_indexes=indexes
        )
    return QdrantDB(path=path, dense_encoder=dense, sparse_encoder=sparse, metadata_indexes=indexes)


async def measure(
    store: BaseVectorDB,
    texts: list[str],
    memories: list[Memory],
    searches: int,
    label: str,
) -> list[dict[str, Any]]:
    """Time every filter in both scopes, interleaved per query; check every filtered list."""
    trees = {name: None if spec is None else parse_filter(spec) for name, spec in FILTERS.items()}
    counts: dict[tuple[str, str], int] = {}
    for m in memories:
        for name, tree in trees.items():
            if tree is None or matches(tree, memory_record(m)):
                counts[name, m.user_id] = counts.get((name, m.user_id), 0) + 1
                counts[name, ORG] = counts.get((name, ORG), 0) + 1
    rng = random.Random(1)
    timings: dict[tuple[str, str], list[float]] = {}
    short: dict[tuple[str, str], int] = {}
    for scope in ("org", "user"):
        for _ in range(searches):
            query = texts[rng.randrange(POOL)]
            user = f"user{rng.randrange(USERS)}"
            names = list(trees)
            rng.shuffle(names)  # no variant always runs first on a query
            for name in names:
                tree = trees[name]
                t = time.perf_counter()
                if scope == "org":
                    [hits] = await store.search_memories(
                        [query], MemorySearchScope.ORGANIZATION, ORG, limit=LIMIT, filter=tree
                    )
                else:
                    [hits] = await store.search_memories(
                        [query], MemorySearchScope.USER, ORG, user, limit=LIMIT, filter=tree
                    )
                timings.setdefault((scope, name), []).append(time.perf_counter() - t)
                if tree is not None:
                    assert all(matches(tree, memory_record(m)) for m, _ in hits), name
                if len(hits) < min(LIMIT, counts.get((name, ORG if scope == "org" else user), 0)):
                    short[scope, name] = short.get((scope, name), 0) + 1
    rows = []
    for (scope, name), samples in timings.items():
        ms = [s * 1000 for s in samples]
        in_scope = counts.get((name, ORG), 0) / (1 if scope == "org" else USERS)
        rows.append(
            {
                "indexes": label,
                "scope": scope,
                "filter": name,
                "matching": round(in_scope),
                "p50_ms": round(pct(ms, 50), 3),
                "p95_ms": round(pct(ms, 95), 3),
                "short_lists": short.get((scope, name), 0),
            }
        )
    return rows


async def run(
    store_kind: str, n: int, searches: int, pool: np.ndarray, *, optimize: bool
) -> dict[str, Any]:
    texts = pool_texts()
    memories = make_memories(n, texts)
    dense = PoolEncoder(texts, pool)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memora-fbench-") as tmp:
        path = Path(tmp) / "store"
        store = open_indexed(store_kind, path, dense, indexed=False)
        await store.setup()
        start = time.perf_counter()
        for at in range(0, n, 500):
            await store.upsert_memories(memories[at : at + 500])
        index_seconds = time.perf_counter() - start
        optimize_seconds = None
        if optimize and isinstance(store, QdrantEdgeDB):
            start = time.perf_counter()
            await store.optimize()
            optimize_seconds = round(time.perf_counter() - start, 1)
        rows += await measure(store, texts, memories, searches, "none")
        await store.close()
        if store_kind == "edge":  # local mode keeps no payload indexes
            start = time.perf_counter()
            store = open_indexed(store_kind, path, dense, indexed=True)
            await store.setup()  # adds the two metadata indexes to the existing store
            reindex_seconds = time.perf_counter() - start
            rows += await measure(store, texts, memories, searches, "project, pinned")
            await store.close()
    return {
        "store": store_kind,
        "memories": n,
        "index_seconds": round(index_seconds, 1),
        "open_and_add_metadata_indexes_seconds": round(reindex_seconds, 2)
        if store_kind == "edge"
        else None,
        "optimize_seconds": optimize_seconds,
        "searches_per_figure": searches,
        "rows": rows,
    }


async def run_engine(n: int, searches: int, pool: np.ndarray) -> dict[str, Any]:
    """Through ``Memora.search_memories_as_one`` (SQLite + Qdrant Edge with metadata indexes):
    one user holding all ``n`` memories, filled with ``add_memories`` (raw facts)."""
    texts = pool_texts()
    memories = make_memories(n, texts)
    dense = PoolEncoder(texts, pool)
    trees = {name: None if spec is None else parse_filter(spec) for name, spec in FILTERS.items()}
    with tempfile.TemporaryDirectory(prefix="memora-fbench-") as tmp:
        vectors = QdrantEdgeDB(
            Path(tmp) / "vectors",
            dense_encoder=dense,
            sparse_encoder=Bm25SparseEncoder(),
            metadata_indexes={"project": "keyword", "pinned": "keyword"},
        )
        async with Memora(vectors, SqliteGraphDB(Path(tmp) / "graph.sqlite3")) as memora:
            org = await memora.get_or_create_organization("bench", org_name="Bench")
            user = await memora.create_user(org.org_id, "Jake")
            agent = await memora.get_or_create_agent(org.org_id, "bot", agent_label="Bot")
            start = time.perf_counter()
            for at in range(0, n, 1000):
                facts = [
                    {"memory": m.memory, "metadata": m.metadata} for m in memories[at : at + 1000]
                ]
                await memora.add_memories(org.org_id, user.user_id, agent.agent_id, facts)
            fill_seconds = time.perf_counter() - start
            await vectors.optimize()
            rng = random.Random(1)
            timings: dict[str, list[float]] = {}
            short = dict.fromkeys(trees, 0)
            for _ in range(searches):
                query = texts[rng.randrange(POOL)]
                names = list(trees)
                rng.shuffle(names)
                for name in names:
                    spec = FILTERS[name]
                    t = time.perf_counter()
                    hits = await memora.search_memories_as_one(
                        org.org_id, user.user_id, [query], limit=LIMIT, filter=spec
                    )
                    timings.setdefault(name, []).append((time.perf_counter() - t) * 1000)
                    tree = trees[name]
                    if tree is not None:
                        assert all(matches(tree, memory_record(m)) for m in hits), name
                    short[name] += len(hits) < LIMIT
    return {
        "store": "Memora (SQLite + Qdrant Edge, metadata indexes, optimized)",
        "memories": n,
        "fill_seconds": round(fill_seconds, 1),
        "searches_per_figure": searches,
        "rows": [
            {
                "indexes": "project, pinned",
                "scope": "user",
                "filter": name,
                "matching": sum(
                    1
                    for m in memories
                    if trees[name] is None or matches(trees[name], memory_record(m))  # type: ignore[arg-type]
                ),
                "p50_ms": round(pct(ms, 50), 3),
                "p95_ms": round(pct(ms, 95), 3),
                "short_lists": short[name],
            }
            for name, ms in timings.items()
        ],
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\n{report['store']}, {report['memories']:,} memories, limit {LIMIT}, "
        f"load average {report['load_average_start']} -> {report['load_average_end']}"
    )
    print(
        f"{'metadata index':<16} {'scope':<6} {'filter':<16} {'matching':>9} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'vs p50':>8} {'short':>6}"
    )
    order = {name: i for i, name in enumerate(FILTERS)}
    rows = sorted(
        report["rows"], key=lambda r: (r["indexes"] != "none", r["scope"], order[r["filter"]])
    )
    base = {(r["indexes"], r["scope"]): r["p50_ms"] for r in rows if r["filter"] == "unfiltered"}
    for r in rows:
        delta = r["p50_ms"] - base[r["indexes"], r["scope"]]
        print(
            f"{r['indexes']:<16} {r['scope']:<6} {r['filter']:<16} {r['matching']:>9} "
            f"{r['p50_ms']:>8.3f} {r['p95_ms']:>8.3f} {delta:>+8.3f} {r['short_lists']:>6}"
        )
    print(
        f"vs p50: p50 minus the unfiltered p50 of the same scope and index set; short: "
        f"filtered lists with fewer than {LIMIT} hits although that many matched"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="memories in the store")
    parser.add_argument("--store", choices=("edge", "local"), default="edge")
    parser.add_argument("--searches", type=int, default=200, help="queries per scope")
    parser.add_argument(
        "--optimize", action="store_true", help="run QdrantEdgeDB.optimize() before timing"
    )
    parser.add_argument(
        "--engine", action="store_true", help="time Memora.search_memories_as_one instead"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ensure_model_env()
    load_start = os.getloadavg()
    texts = pool_texts()
    pool = np.array(asyncio.run(default_dense_encoder().embed_documents(texts)), dtype=np.float32)
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "level": "vector store (BaseVectorDB.search_memories with filter=)",
        "load_average_start": [round(x, 2) for x in load_start],
    }
    if args.engine:
        report["level"] = "engine (Memora.search_memories_as_one with filter=)"
        report |= asyncio.run(run_engine(args.n, args.searches, pool))
    else:
        report |= asyncio.run(run(args.store, args.n, args.searches, pool, optimize=args.optimize))
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_table(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
