"""LoCoMo through the engine: raw-mode saves and ``Memora.search_memories_as_one``, with and
without context-aware indexing of raw turns (issue #15), in one run.

Every LoCoMo conversation is one user; every session one interaction saved in raw mode (no model)
with its session date; speaker A's turns have role ``user``, speaker B's ``assistant``, and each
message reads ``Caroline: <text>`` (plus ``(Caroline shared <caption>.)`` for an image), so the
memory text is the message. Each category 1-4 question is asked with one
``search_memories_as_one`` call in USER scope (limit 20); a hit is mapped back to its LoCoMo
dia_id through its message source. Evidence recall@k per split: dev = conversations 0-4 (where
choices were made), held-out = 5-9. Search p50 is the wall time of those calls (query embedding,
the store request and the graph resolution included).

Variants (same process, same data, fresh stores each):

* ``plain``: ``QdrantEdgeDB(context_indexing=False)`` -- dense + BM25 of the message (before).
* ``context BM25``: the default -- BM25 of the turn in context (date, previous message, turn).

Usage (from the repo root)::

    python bench/locomo_engine.py            # ~6 min on 2 shared cores
    python bench/locomo_engine.py --quick    # conversations 0 and 5 only
    python bench/locomo_engine.py --three-lists   # + the 3-list experiment (local mode)

Writes ``bench/results/locomo_engine.json``. The data (CC BY-NC 4.0) is read from
``../shared/data/locomo/`` (see bench/_locomo.py); nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _locomo as locomo
from _three_lists import ThreeListQdrantDB

from memora_engine import Memora
from memora_engine.embeddings import Bm25SparseEncoder, DenseEncoder, default_dense_encoder
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.schema.models import Memory
from memora_engine.vector_db.base import BaseVectorDB
from memora_engine.vector_db.qdrant import QdrantDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

RESULTS = Path(__file__).resolve().parent / "results" / "locomo_engine.json"
RESULTS_3 = RESULTS.with_name("locomo_engine_three_lists.json")
SHARED_MODEL = locomo.REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
DEV = range(0, 5)
VARIANTS: dict[str, VectorsFactory] = {}  # filled below (the factories are defined later)


class DocumentCache(DenseEncoder):
    """Memoizes document vectors only (both variants index the same texts); queries always run
    the model, so search times are real."""

    def __init__(self, inner: DenseEncoder) -> None:
        self.inner = inner
        self.cache: dict[str, list[float]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = await self.inner.embed_documents(missing)
            self.cache.update(zip(missing, vectors, strict=True))
        return [self.cache[t] for t in texts]

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed_queries(texts)


@dataclass(frozen=True)
class Session:
    """One LoCoMo session as raw-mode messages, with the dia_id of each message."""

    date: Any
    messages: list[dict[str, str]]
    dia_ids: list[str]


def sessions_of(sample: dict[str, Any]) -> list[Session]:
    """A sample's sessions in order, as messages Memora saves."""
    conv = sample["conversation"]
    speaker_a = conv["speaker_a"]
    numbers = sorted(
        int(m.group(1)) for k in conv for m in [re.fullmatch(r"session_(\d+)", k)] if m
    )
    out = []
    for n in numbers:
        messages, dia_ids = [], []
        for turn in conv[f"session_{n}"]:
            text = f"{turn['speaker']}: {turn['text'].strip()}"
            if turn.get("blip_caption"):
                text += f" ({turn['speaker']} shared {turn['blip_caption'].strip()}.)"
            role = "user" if turn["speaker"] == speaker_a else "assistant"
            messages.append({"role": role, "content": text})
            dia_ids.append(turn["dia_id"])
        date = locomo.parse_session_date(conv[f"session_{n}_date_time"])
        out.append(Session(date, messages, dia_ids))
    return out


def dia_ids(memory: Memory, dia: dict[tuple[str, int], str]) -> tuple[str, ...]:
    """The LoCoMo dia_ids of a hit (through its message sources)."""
    iid = memory.interaction_id or ""
    return tuple(dia[(iid, s.msg_position)] for s in memory.message_sources)


VectorsFactory = Callable[[Path, DenseEncoder], BaseVectorDB]


def edge(context: bool) -> VectorsFactory:
    """A ``QdrantEdgeDB`` factory (the embedded default store)."""

    def make(path: Path, dense: DenseEncoder) -> BaseVectorDB:
        return QdrantEdgeDB(
            path, dense_encoder=dense, sparse_encoder=Bm25SparseEncoder(), context_indexing=context
        )

    return make


def local(context: bool, *, three_lists: bool = False) -> VectorsFactory:
    """A qdrant-client local-mode factory; ``three_lists`` = the bench-only 3-list store."""

    def make(path: Path, dense: DenseEncoder) -> BaseVectorDB:
        cls = ThreeListQdrantDB if three_lists else QdrantDB
        return cls(
            path=path, dense_encoder=dense, sparse_encoder=Bm25SparseEncoder(),
            context_indexing=context,
        )  # fmt: skip

    return make


async def run_variant(
    make_vectors: VectorsFactory,
    samples: Sequence[dict[str, Any]],
    conversations: Sequence[locomo.Conversation],
    dense: DenseEncoder,
    dev_ids: set[str],
) -> dict[str, Any]:
    """Save every conversation through a fresh embedded Memora and score every question."""
    with tempfile.TemporaryDirectory(prefix="memora-locomo-engine-") as tmp:
        vectors = make_vectors(Path(tmp) / "vectors", dense)
        memora = Memora(vectors, SqliteGraphDB(Path(tmp) / "graph.db"))
        async with memora:
            org = await memora.graph.create_organization("locomo")
            agent = await memora.graph.create_agent(org.org_id, "bench")
            start = time.perf_counter()
            dia: dict[tuple[str, int], str] = {}
            users: dict[str, str] = {}
            for sample in samples:
                user = await memora.graph.create_user(org.org_id, sample["sample_id"])
                users[sample["sample_id"]] = user.user_id
                for session in sessions_of(sample):
                    iid, _ = await memora.save_or_update_interaction_and_memories(
                        org.org_id, user.user_id, agent.agent_id, session.messages,
                        current_datetime=session.date,
                    )  # fmt: skip
                    dia.update({(iid, p): d for p, d in enumerate(session.dia_ids)})
            save_seconds = time.perf_counter() - start
            split: dict[str, tuple[list[locomo.Question], list[list[locomo.Unit]]]] = {
                "dev": ([], []),
                "heldout": ([], []),
            }
            timings: list[float] = []
            for conv in conversations:
                name = "dev" if conv.sample_id in dev_ids else "heldout"
                for question in conv.questions:
                    t0 = time.perf_counter()
                    hits = await memora.search_memories_as_one(
                        org.org_id, users[conv.sample_id], [question.question], limit=20
                    )
                    timings.append(time.perf_counter() - t0)
                    units = [locomo.Unit(m.memory, m.obtained_at, dia_ids(m, dia)) for m in hits]
                    split[name][0].append(question)
                    split[name][1].append(units)
    scores = {k: locomo.score(q, u) for k, (q, u) in split.items() if q}
    scores["both"] = locomo.score(split["dev"][0] + split["heldout"][0],
                                  split["dev"][1] + split["heldout"][1])  # fmt: skip
    ms = sorted(t * 1000 for t in timings)
    return {
        "store": type(vectors).__name__,
        "save_seconds": round(save_seconds, 1),
        "search_p50_ms": round(statistics.median(ms), 2),
        "search_p90_ms": round(ms[int(len(ms) * 0.9)], 2),
        "questions": len(ms),
        "scores": scores,
    }


VARIANTS.update(
    {
        "plain (before)": edge(False),
        "context BM25 (default)": edge(True),
        # The first variant paid for the document embeddings; the plain one runs again so its
        # save time and search p50 are measured under the same conditions as the second.
        "plain (before), again": edge(False),
    }
)
#: Local mode is brute force in Python (~50-250 ms a query here): its p50 says nothing about
#: Qdrant, only its recall counts. The plain variant's recall equals the Edge run's.
THREE_LIST_VARIANTS: dict[str, VectorsFactory] = {
    "local: context BM25, 2 lists (default)": local(True),
    "local: dense + BM25 plain + BM25 context, 3 lists": local(True, three_lists=True),
}


def row(name: str, result: dict[str, Any]) -> str:
    s = result["scores"]

    def r(split: str, k: int = 10, group: str = "all") -> str:
        return f"{s[split][group][f'recall@{k}']:.3f}" if split in s else "  -  "

    cats = " / ".join(f"{s['heldout'][str(c)]['recall@10']:.2f}" for c in (1, 2, 3, 4)
                      if "heldout" in s and str(c) in s["heldout"])  # fmt: skip
    return (
        f"| {name} | {r('dev')} / **{r('heldout')}** / {r('both')} | {r('heldout', 5)} / "
        f"{r('heldout', 20)} | {cats} | {result['search_p50_ms']:.2f} ms |"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR") and SHARED_MODEL.is_dir():
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(SHARED_MODEL)
    samples = json.loads(locomo.locomo_path().read_text(encoding="utf-8"))
    conversations = locomo.load()
    dev_ids = {samples[i]["sample_id"] for i in DEV}
    if args.quick:
        samples, conversations = [samples[0], samples[5]], [conversations[0], conversations[5]]
    dense = DocumentCache(default_dense_encoder())
    load_start = os.getloadavg()
    results = {}
    variants = THREE_LIST_VARIANTS if args.three_lists else VARIANTS
    for name, make in variants.items():
        results[name] = await run_variant(make, samples, conversations, dense, dev_ids)
        print(row(name, results[name]), flush=True)
    return {
        "dense_model": dense.name,
        "conversations": [s["sample_id"] for s in samples],
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="conversations 0 and 5 only")
    parser.add_argument(
        "--three-lists",
        action="store_true",
        help="the 3-list experiment on qdrant-client local mode (bench/_three_lists.py)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.out is None:
        args.out = RESULTS_3 if args.three_lists else RESULTS
    print("| variant | r@10 dev / held-out / all | held-out r@5 / r@20 | "
          "held-out r@10 cat 1 / 2 / 3 / 4 | search p50 |")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    start = time.perf_counter()
    report = asyncio.run(run(args))
    report["seconds"] = round(time.perf_counter() - start, 1)
    print(f"load average start {report['load_average_start']}, end {report['load_average_end']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {report['seconds']}s")


if __name__ == "__main__":
    main()
