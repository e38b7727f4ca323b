"""Engine benchmark: save (10 memories) and search (3 queries) latency at 1k and 100k memories.

Runs ``Memora.embedded`` (SQLite + Qdrant Edge + the local ONNX model) with a scripted LLM of
zero latency, so the numbers are Memora's own cost: embedding, indexing, graph writes and
resolution. Also counts LLM calls and prompt tokens per save and per recall.

The store is filled through the real write path (``graph.save_interaction_with_memories`` with
the vector store attached). To keep filling 100k memories affordable, fill texts come from a
pool of distinct sentences and their embeddings are memoized (the measured saves and searches
use fresh texts that are embedded for real).

Usage::

    python bench/engine.py            # 1k and 100k memories (about 10 minutes on 2 cores)
    python bench/engine.py --quick    # 1k and 10k
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memora_engine import Memora, MemoriesAndInteraction, MemoryToStore
from memora_engine.embeddings import DenseEncoder, default_dense_encoder, default_sparse_encoder
from memora_engine.testing.scripted import ScriptedChatModel

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "engine.json"
USERS_PER_1K = 10
MEMORIES_PER_USER = 100
SAMPLES = 60

PEOPLE = ["Sarah", "Tom", "Mia", "Leo", "Ana", "Raj", "Kim", "Omar", "Eva", "Ben"]
THINGS = ["peanuts", "jazz", "hiking", "sushi", "chess", "yoga", "tennis", "coffee", "Rome", "cats"]
VERBS = [
    "loves",
    "is allergic to",
    "dislikes",
    "plans a trip about",
    "collects books on",
    "takes classes in",
    "talks often about",
    "saves money for",
    "dreams about",
    "teaches",
]


class MemoizingEncoder(DenseEncoder):
    """Fill-phase helper: embeds each distinct text once (measured texts are always fresh)."""

    def __init__(self, inner: DenseEncoder) -> None:
        self.inner = inner
        self.cache: dict[str, list[float]] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    async def aget_dim(self) -> int:
        return await self.inner.aget_dim()

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(
                missing, await self.inner.embed_documents(missing), strict=True
            ):
                self.cache[text] = vector
        return [self.cache[t] for t in texts]

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self.inner.embed_queries(texts)


def fill_text(rng: random.Random) -> str:
    return f"user_x {rng.choice(VERBS)} {rng.choice(THINGS)} with {rng.choice(PEOPLE)}"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def extraction_answer(count: int, salt: str) -> str:
    memories = [
        {
            "memory": f"#user_#id# mentioned fact {salt}-{i} about {THINGS[i % 10]}",
            "msg_source_ids": [0],
        }
        for i in range(count)
    ]
    return json.dumps({"memories_first_pass": memories})


def responder(messages: Sequence[Any]) -> str:
    system = str(messages[0].content)
    if "long-term memory of an assistant" in system:
        return extraction_answer(10, str(time.perf_counter_ns()))
    if "You maintain the memories" in system:
        body = str(messages[1].content)
        candidates = json.loads(body.split("NEW CANDIDATE MEMORIES:", 1)[1])
        return json.dumps(
            {
                "new_memories": [
                    {"memory": c["memory"], "source_candidate_pos_id": c["POS_ID"]}
                    for c in candidates
                ],
                "contrary_memories": [],
            }
        )
    return "<< food preferences >>\n<< people close to the user >>\n<< upcoming plans >>"


async def fill(
    memora: Memora, org_id: str, users: list[str], agent_id: str, rng: random.Random
) -> None:
    for user_id in users:
        texts = [
            fill_text(rng).replace("user_x", f"user_{user_id}") for _ in range(MEMORIES_PER_USER)
        ]
        for start in range(0, MEMORIES_PER_USER, 50):
            chunk = texts[start : start + 50]
            await memora.graph.save_interaction_with_memories(
                org_id,
                agent_id,
                user_id,
                MemoriesAndInteraction(
                    interaction=[{"role": "user", "content": "bulk fill"}],
                    memories=[MemoryToStore(memory=t, source_msg_block_pos=[0]) for t in chunk],
                ),
            )


async def measure(
    memora: Memora,
    model: ScriptedChatModel,
    org_id: str,
    users: list[str],
    agent_id: str,
    rng: random.Random,
) -> dict[str, Any]:
    llm = memora.extraction_model
    assert llm is not None
    saves, searches = [], []
    llm.usage.reset()
    for i in range(SAMPLES // 3):
        user_id = rng.choice(users)
        chat = [
            {"role": "user", "content": f"Today I met {rng.choice(PEOPLE)} ({i})."},
            {"role": "assistant", "content": "Nice! Tell me more."},
        ]
        started = time.perf_counter()
        await memora.save_or_update_interaction_and_memories(org_id, user_id, agent_id, chat)
        saves.append(time.perf_counter() - started)
    save_calls = llm.usage.calls / len(saves)
    save_tokens = llm.usage.input_tokens / len(saves)
    for i in range(SAMPLES):
        user_id = rng.choice(users)
        queries = [f"what does the user like {i}", f"{rng.choice(PEOPLE)} plans", f"allergy {i}"]
        started = time.perf_counter()
        await memora.search_memories_as_one(org_id, user_id, queries)
        searches.append(time.perf_counter() - started)
    llm.usage.reset()
    for i in range(10):
        await memora.recall_memories_for_message(org_id, rng.choice(users), f"Any plans for {i}?")
    return {
        "save_10_memories": percentiles(saves),
        "search_3_queries": percentiles(searches),
        "llm_calls_per_save": round(save_calls, 2),
        "prompt_tokens_per_save": round(save_tokens),
        "llm_calls_per_recall": llm.usage.calls / 10,
        "prompt_tokens_per_recall": round(llm.usage.input_tokens / 10),
        "tokens_estimated": llm.usage.estimated_tokens,
    }


async def run(sizes: list[int]) -> dict[str, Any]:
    rng = random.Random(7)
    dense = MemoizingEncoder(default_dense_encoder())
    model = ScriptedChatModel(responder=responder)
    with tempfile.TemporaryDirectory(prefix="memora-bench-") as folder:
        memora = await Memora.embedded(
            folder,
            extraction_model=model,
            dense_encoder=dense,
            sparse_encoder=default_sparse_encoder(),
        )
        org = await memora.graph.create_organization("Bench")
        agent = await memora.graph.create_agent(org.org_id, "Agent")
        users: list[str] = []
        results: dict[str, Any] = {}
        for size in sizes:
            wanted = size // MEMORIES_PER_USER
            new = [
                (await memora.graph.create_user(org.org_id, f"User {n}")).user_id
                for n in range(len(users), wanted)
            ]
            started = time.perf_counter()
            await fill(memora, org.org_id, new, agent.agent_id, rng)
            users += new
            fill_s = time.perf_counter() - started
            stored = await memora.vector_db.count(org.org_id)
            results[str(size)] = {
                "stored_memories": stored,
                "fill_seconds": round(fill_s, 1),
                **await measure(memora, model, org.org_id, users, agent.agent_id, rng),
            }
            print(f"{size:>7} memories stored ({stored}), filled in {fill_s:.0f}s")
        await memora.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k instead of 1k and 100k")
    args = parser.parse_args()
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR"):
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(
            ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
        )
    sizes = [1_000, 10_000] if args.quick else [1_000, 100_000]
    results = asyncio.run(run(sizes))
    print(
        f"\n{'memories':>9} | {'save p50/p95 ms':>16} | {'search(3q) p50/p95 ms':>22} | "
        f"{'LLM calls/save':>14} | {'tokens/save':>11} | {'calls/recall':>12}"
    )
    for size, row in results.items():
        save, search = row["save_10_memories"], row["search_3_queries"]
        print(
            f"{size:>9} | {save['p50_ms']:>7} / {save['p95_ms']:<6} | "
            f"{search['p50_ms']:>10} / {search['p95_ms']:<9} | {row['llm_calls_per_save']:>14} | "
            f"{row['prompt_tokens_per_save']:>11} | {row['llm_calls_per_recall']:>12}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"quick": args.quick, "results": results}, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
