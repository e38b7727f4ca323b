"""Write-path and paired-search measurements for ``bench/engine.py`` (raw saves, InMemoryStore
reference, LoCoMo import / reindex throughput). See ``bench/engine.py`` for the command."""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from memora_engine import Memora, MemoriesAndInteraction, MemoryToStore
from memora_engine.bulk_api import RestoreItem
from memora_engine.embeddings import DenseEncoder

PEOPLE = ["Sarah", "Tom", "Mia", "Leo", "Ana", "Raj", "Kim", "Omar", "Eva", "Ben"]
THINGS = ["peanuts", "jazz", "hiking", "sushi", "chess", "yoga", "tennis", "coffee", "Rome", "cats"]
VERBS = ["loves", "is allergic to", "dislikes", "plans a trip about", "collects books on",
         "takes classes in", "talks often about", "saves money for", "dreams about", "teaches"]  # fmt: skip
USERS = 100
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def ms(samples: Sequence[float]) -> dict[str, float]:
    """p50 / p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def peak_rss_mb() -> int:
    """Peak resident memory of this process (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def fill_text(rng: random.Random, n: int) -> str:
    """A fill memory from a pool of 1,000 sentences (embedded once by MemoizingEncoder)."""
    return f"{rng.choice(PEOPLE)} {rng.choice(VERBS)} {rng.choice(THINGS)}"


class MemoizingEncoder(DenseEncoder):
    """Embeds each distinct document once (keeps filling 100k affordable); queries and the
    measured saves' fresh texts are embedded for real."""

    def __init__(self, inner: DenseEncoder) -> None:
        self.inner = inner
        self.cache: dict[str, list[float]] = {}
        self.enabled = True

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def symmetric(self) -> bool:
        return self.inner.symmetric

    async def aget_dim(self) -> int:
        return await self.inner.aget_dim()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not self.enabled:
            return await self.inner.embed_documents(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            vectors = await self.inner.embed_documents(missing)
            if len(self.cache) < 5_000:
                self.cache.update(zip(missing, vectors, strict=True))
            else:
                return await self.inner.embed_documents(texts)
        return [self.cache[t] for t in texts]

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed_queries(texts)


def fresh(i: int, rng: random.Random) -> str:
    """A fresh message of ordinary length (never embedded before)."""
    return f"Today I told {rng.choice(PEOPLE)} about {rng.choice(THINGS)} and plan {i} for later."


async def fill(memora: Memora, org_id: str, users: list[str], agent_id: str, upto: int) -> float:
    """Add memories (spread over ``users``) until the store holds ``upto``; returns seconds."""
    rng = random.Random(upto)
    have = await memora.graph_db.count_memories(org_id=org_id)
    started = time.perf_counter()
    items: list[RestoreItem] = []
    for n in range(have, upto):
        text = fill_text(rng, n)
        record = MemoriesAndInteraction(
            interaction=[{"role": "user", "content": text}],  # type: ignore[list-item]
            interaction_date=T0,
            memories=[MemoryToStore(memory=text, source_msg_block_pos=[0])],
        )
        items.append(RestoreItem(org_id, users[n % len(users)], agent_id, record))
        if len(items) == 256:
            await memora.restore_interactions(items)
            items = []
    if items:
        await memora.restore_interactions(items)
    return time.perf_counter() - started


async def raw_saves(
    memora: Memora, dense: DenseEncoder, org_id: str, users: list[str], agent_id: str, n: int
) -> dict[str, Any]:
    """Raw saves of one message, each paired with a bare embedding of a same-length text."""
    rng = random.Random(n)
    saves, floors = [], []
    for i in range(n):
        text = fresh(i, rng)
        started = time.perf_counter()
        await dense.embed_documents([text.replace("Today", "Yesterday")])
        floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        await memora.save_or_update_interaction_and_memories(
            org_id, rng.choice(users), agent_id, [{"role": "user", "content": text}], infer=False
        )
        saves.append(time.perf_counter() - started)
    return {
        "raw_save": ms(saves),
        "embedding_floor": ms(floors),
        "raw_save_minus_floor_p50_ms": round(
            statistics.median(s - f for s, f in zip(saves, floors, strict=True)) * 1000, 2
        ),
    }


async def paired_searches(
    memora: Memora, dense: DenseEncoder, org_id: str, users: list[str], n: int
) -> dict[str, Any]:
    """One-query searches, each alternated with a bare embedding of the same query."""
    rng = random.Random(n + 1)
    searches, floors = [], []
    for i in range(n):
        query = f"what does {rng.choice(PEOPLE)} think about {rng.choice(THINGS)} {i}"
        started = time.perf_counter()
        await dense.embed_queries([query])
        floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        await memora.search_memories_as_one(org_id, rng.choice(users), [query])
        searches.append(time.perf_counter() - started)
    return {
        "search_1_query": ms(searches),
        "search_floor": ms(floors),
        "search_minus_floor_p50_ms": round(
            statistics.median(s - f for s, f in zip(searches, floors, strict=True)) * 1000, 2
        ),
    }


async def in_memory_store(dense: DenseEncoder, size: int, n: int) -> dict[str, Any]:
    """LangGraph's InMemoryStore (no persistence) with the same model, filled to ``size``."""
    from langgraph.store.memory import InMemoryStore

    cache: dict[str, list[float]] = {}

    async def embed(texts: Sequence[str]) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            cache.update(zip(todo, await dense.embed_documents(todo), strict=True))
        return [cache[t] for t in texts]

    store = InMemoryStore(index={"embed": embed, "dims": dense.dim, "fields": ["text"]})
    rng = random.Random(size)
    for k in range(size):
        user = f"u{k % USERS}"
        pool = f"{rng.choice(PEOPLE)} {rng.choice(VERBS)} {rng.choice(THINGS)}"
        await store.aput(("memories", user), str(uuid.uuid4()), {"text": pool})
    cache.clear()  # measured texts are embedded for real
    puts, searches = [], []
    for i in range(n):
        started = time.perf_counter()
        await store.aput(("memories", f"u{i % USERS}"), str(uuid.uuid4()), {"text": fresh(i, rng)})
        puts.append(time.perf_counter() - started)
        query = f"what does {rng.choice(PEOPLE)} think about {rng.choice(THINGS)} {i}"
        started = time.perf_counter()
        await store.asearch(("memories", f"u{i % USERS}"), query=query, limit=10)
        searches.append(time.perf_counter() - started)
    return {"put": ms(puts), "search": ms(searches)}


def locomo_file() -> Path:
    """``locomo10.json`` in the shared data folder (never copied into the repository)."""
    from bench._locomo import locomo_path

    path = locomo_path()
    if not path.exists():  # a git worktree one level deeper than the main checkout
        found = [p / "shared/data/locomo/locomo10.json" for p in path.parents]
        path = next((p for p in found if p.exists()), path)
    return path


def locomo_sessions() -> list[tuple[str, datetime, list[dict[str, str]]]]:
    """(conversation id, date, messages) per LoCoMo session, read from the shared data folder."""
    import json
    import re

    from bench._locomo import parse_session_date

    out = []
    for sample in json.loads(locomo_file().read_text(encoding="utf-8")):
        conv = sample["conversation"]
        speaker_a = conv["speaker_a"]
        for key in sorted(k for k in conv if re.fullmatch(r"session_\d+", k)):
            date = parse_session_date(conv[f"{key}_date_time"])
            messages = [
                {
                    "role": "user" if turn["speaker"] == speaker_a else "assistant",
                    "content": f"{turn['speaker']}: {turn['text']}",
                }
                for turn in conv[key]
            ]
            out.append((sample["sample_id"], date, messages))
    return out


async def locomo_import(memora: Memora, wanted: list[str]) -> tuple[int, float]:
    """``memora import`` (raw mode) of the wanted LoCoMo samples: (memories, seconds)."""
    import json

    from memora_engine.transfer import import_jsonl

    samples = json.loads(locomo_file().read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="memora-locomo-") as folder:
        subset = Path(folder) / "locomo.json"
        subset.write_text(json.dumps([s for s in samples if s["sample_id"] in wanted]))
        started = time.perf_counter()
        counts = await import_jsonl(memora, subset, fmt="locomo", infer=False)
        return counts.memories_extracted, time.perf_counter() - started


async def locomo_ingest(memora: Memora, dense: DenseEncoder, conversations: int) -> dict[str, Any]:
    """Raw-mode ingest of the first LoCoMo conversations: ``memora import`` of the file (batched
    across sessions), one save per session, a reindex, and the encoder alone on the same texts
    (one call per 256, as the engine batches) for a ratio."""
    sessions = locomo_sessions()
    wanted = sorted({cid for cid, _, _ in sessions})[:conversations]
    sessions = [s for s in sessions if s[0] in wanted]
    file_memories, file_s = await locomo_import(memora, wanted)
    org = (await memora.create_organization("LoCoMo")).org_id
    agent = (await memora.create_agent(org, "Assistant")).agent_id
    users = {cid for cid, _, _ in sessions}
    for cid in sorted(users):
        await memora.create_user(org, cid, user_id=cid)
    started = time.perf_counter()
    for cid, date, messages in sessions:
        await memora.save_or_update_interaction_and_memories(
            org, cid, agent, messages, current_datetime=date, infer=False
        )
    save_s = time.perf_counter() - started
    memories = await memora.graph_db.count_memories(org_id=org)
    started = time.perf_counter()
    reindexed = await memora.reindex(org_id=org)
    reindex_s = time.perf_counter() - started
    texts = [m["content"] for _, _, messages in sessions for m in messages]
    started = time.perf_counter()
    for at in range(0, len(texts), 256):
        await dense.embed_documents(texts[at : at + 256])
    encoder_s = time.perf_counter() - started
    return {
        "conversations": len(wanted),
        "encoder_alone_texts_per_s": round(len(texts) / encoder_s),
        "sessions": len(sessions),
        "memories": memories,
        "import_memories": file_memories,
        "import_seconds": round(file_s, 1),
        "import_memories_per_s": round(file_memories / file_s),
        "save_per_session_seconds": round(save_s, 1),
        "save_per_session_memories_per_s": round(memories / save_s),
        "reindex_seconds": round(reindex_s, 1),
        "reindex_memories_per_s": round(reindexed / reindex_s),
    }


async def reopened_searches(
    folder: str, dense: DenseEncoder, sparse: Any, org_id: str, users: list[str], n: int,
    *, prefetch: bool,
) -> dict[str, Any]:  # fmt: skip
    """Paired searches right after reopening the store (Qdrant Edge drops its files from the
    page cache on close), with or without the background prefetch; major page faults counted."""
    import threading

    from memora_engine.graph_db import SqliteGraphDB
    from memora_engine.settings import MemoraSettings
    from memora_engine.vector_db import QdrantEdgeDB

    layout = MemoraSettings(path=folder).layout
    vector = QdrantEdgeDB(
        layout.vector_dir, dense_encoder=dense, sparse_encoder=sparse, prefetch=prefetch
    )
    memora = Memora(vector, SqliteGraphDB(layout.graph_file))
    await memora.setup()
    started = time.perf_counter()
    for thread in threading.enumerate():
        if thread.name == "memora-edge-prefetch":
            thread.join()
    prefetch_s = time.perf_counter() - started
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
    row = await paired_searches(memora, dense, org_id, users, n)
    row["major_page_faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults
    row["prefetch_wait_s"] = round(prefetch_s, 2) if prefetch else None
    await memora.close()
    return row


def _burn(stop: Any, parent: int) -> None:
    import os

    while not stop.is_set() and os.getppid() == parent:  # ends with its parent, even a killed one
        sum(i * i for i in range(10_000))


class BusyMachine:
    """``n`` processes spinning on the CPU while the bench runs (a reproducible busy machine)."""

    def __init__(self, n: int) -> None:
        import multiprocessing
        import os

        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.procs = [
            context.Process(target=_burn, args=(self.stop, os.getpid()), daemon=True)
            for _ in range(n)
        ]

    def __enter__(self) -> BusyMachine:
        for proc in self.procs:
            proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(timeout=10)
