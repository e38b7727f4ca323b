"""Engine benchmark: raw saves, paired searches, LLM saves, LoCoMo import / reindex, peak RSS.

Runs ``Memora.embedded`` (SQLite + Qdrant Edge + the local ONNX model) at each store size:

* raw save of one message (no LLM), each paired with a bare embedding of a same-length text;
* one-query search, each alternated with a bare embedding of the same query (the paired
  difference is Memora's cost above the embedding it needs);
* LangGraph's ``InMemoryStore`` put / search with the same model, in the same run (reference);
* a save with a scripted zero-latency LLM (10 memories) and a 3-query search, LLM calls and
  prompt tokens per save and per recall;
* after the largest size, the store closed and reopened twice: paired searches without and
  with the background prefetch of the index files (major page faults counted);
* then LoCoMo in raw mode: ``memora import`` of the first conversations (batched across
  sessions), the same sessions saved one call each, and a full reindex.

``--busy N`` runs N CPU-spinning processes for the whole run (a reproducible busy machine;
results go to ``engine-busyN.json``).

The store is filled through ``Memora.restore_interactions`` (the batched import path). The
machine's load average is recorded at start and end: compare figures of one run only.

Usage::

    python bench/engine.py                          # 1k and 10k (a few minutes on 2 cores)
    python bench/engine.py --sizes 1000,10000,100000
    python bench/engine.py --busy 8                 # the same on a machine kept busy
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memora_engine import Memora
from memora_engine.embeddings import default_dense_encoder, default_sparse_encoder
from memora_engine.testing.scripted import ScriptedChatModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _write_bench as wb  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "engine.json"

PEOPLE = ["Sarah", "Tom", "Mia", "Leo", "Ana", "Raj", "Kim", "Omar", "Eva", "Ben"]
THINGS = ["peanuts", "jazz", "hiking", "sushi", "chess", "yoga", "tennis", "coffee", "Rome", "cats"]


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
    for i in range(20):
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
    for i in range(60):
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


async def run(sizes: list[int], samples: int, locomo: int, busy: int) -> dict[str, Any]:
    rng = random.Random(7)
    dense = default_dense_encoder()
    memoizing = wb.MemoizingEncoder(dense)
    model = ScriptedChatModel(responder=responder)
    results: dict[str, Any] = {
        "busy_processes": busy,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="memora-bench-") as folder:
        memora = await Memora.embedded(
            folder, extraction_model=model, dense_encoder=memoizing,
            sparse_encoder=default_sparse_encoder(),
        )  # fmt: skip
        org = (await memora.create_organization("Bench")).org_id
        agent = (await memora.create_agent(org, "Agent")).agent_id
        users = [(await memora.create_user(org, f"User {n}")).user_id for n in range(wb.USERS)]
        for size in sizes:
            memoizing.enabled = True
            fill_s = await wb.fill(memora, org, users, agent, size)
            memoizing.enabled = False
            row: dict[str, Any] = {
                "stored_memories": await memora.vector_db.count(org),
                "fill_seconds": round(fill_s, 1),
                "fill_memories_per_s": round(size / fill_s) if fill_s > 0.5 else None,
            }
            row.update(await wb.raw_saves(memora, dense, org, users, agent, samples))
            row.update(await wb.paired_searches(memora, dense, org, users, samples))
            row.update(await measure(memora, model, org, users, agent, rng))
            row["in_memory_store"] = await wb.in_memory_store(dense, size, samples)
            row["peak_rss_mb"] = wb.peak_rss_mb()
            results[str(size)] = row
            print(f"{size:>7} memories: filled in {fill_s:.0f}s", flush=True)
        memoizing.cache.clear()
        await memora.close()
        sparse = memora.vector_db.sparse_encoder  # type: ignore[attr-defined]
        for prefetch in (False, True):
            key = "reopened_prefetch" if prefetch else "reopened_no_prefetch"
            results[key] = await wb.reopened_searches(
                folder, dense, sparse, org, users, samples, prefetch=prefetch
            )
        memora = await Memora.embedded(
            folder, extraction_model=model, dense_encoder=dense, sparse_encoder=sparse
        )
        results["locomo_raw"] = await wb.locomo_ingest(memora, dense, locomo)
        await memora.close()
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["peak_rss_mb"] = wb.peak_rss_mb()
    return results


def _row(label: str, cells: Sequence[object]) -> str:
    return f"{label:<44} | " + " | ".join(f"{c!s:>17}" for c in cells)


def print_table(sizes: list[int], results: dict[str, Any]) -> None:
    def pair(stat: dict[str, float]) -> str:
        return f"{stat['p50_ms']} / {stat['p95_ms']}"

    rows = [results[str(size)] for size in sizes]
    print()
    print(_row("p50 / p95 ms (memories stored ->)", [f"{s:,}" for s in sizes]))
    print(_row("Memora raw save, 1 message", [pair(r["raw_save"]) for r in rows]))
    print(_row("  bare embedding of a message (floor)", [pair(r["embedding_floor"]) for r in rows]))
    print(_row("  save minus floor, paired p50", [r["raw_save_minus_floor_p50_ms"] for r in rows]))
    print(_row("Memora search, 1 query", [pair(r["search_1_query"]) for r in rows]))
    print(_row("  bare query embedding (floor)", [pair(r["search_floor"]) for r in rows]))
    print(_row("  search minus floor, paired p50", [r["search_minus_floor_p50_ms"] for r in rows]))
    print(_row("LangGraph InMemoryStore put", [pair(r["in_memory_store"]["put"]) for r in rows]))
    print(
        _row("LangGraph InMemoryStore search", [pair(r["in_memory_store"]["search"]) for r in rows])
    )
    print(_row("Memora save, LLM, 10 memories", [pair(r["save_10_memories"]) for r in rows]))
    print(_row("Memora search, 3 queries", [pair(r["search_3_queries"]) for r in rows]))
    print(_row("fill (restore_interactions) memories/s", [r["fill_memories_per_s"] for r in rows]))
    print(_row("peak RSS MB (process, so far)", [r["peak_rss_mb"] for r in rows]))
    for key, label in (("reopened_no_prefetch", "without"), ("reopened_prefetch", "with")):
        r = results[key]
        print(
            f"After reopening at {sizes[-1]:,}, {label} prefetch: search {pair(r['search_1_query'])}"
            f" ms, minus floor {r['search_minus_floor_p50_ms']} ms, major page faults "
            f"{r['major_page_faults']}"
        )
    loco = results["locomo_raw"]
    print(
        f"\nLoCoMo raw mode ({loco['conversations']} conversations): `memora import` of the "
        f"file {loco['import_memories_per_s']} memories/s ({loco['import_memories']} memories); "
        f"one save per session ({loco['sessions']} saves, {loco['memories']} memories) "
        f"{loco['save_per_session_memories_per_s']} memories/s; reindex {loco['reindex_memories_per_s']} memories/s; encoder alone on the same texts "
        f"{loco['encoder_alone_texts_per_s']}/s. Peak RSS {results['peak_rss_mb']} MB. Load average "
        f"{results['load_average_start']} -> {results['load_average_end']}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="1000,10000", help="comma-separated store sizes (e.g. 1000,10000,100000)"
    )
    parser.add_argument("--samples", type=int, default=100, help="measured calls per figure")
    parser.add_argument(
        "--locomo", type=int, default=2, help="LoCoMo conversations to import (all: 10)"
    )
    parser.add_argument(
        "--busy", type=int, default=0, help="CPU-spinning processes during the run (default 0)"
    )
    args = parser.parse_args()
    if not os.environ.get("MEMORA_EMBEDDING_MODEL_DIR"):
        os.environ["MEMORA_EMBEDDING_MODEL_DIR"] = str(
            ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"
        )
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with wb.BusyMachine(args.busy):
        results = asyncio.run(run(sizes, args.samples, args.locomo, args.busy))
    print_table(sizes, results)
    out = RESULTS.with_name(f"engine-busy{args.busy}.json") if args.busy else RESULTS
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {"sizes": sizes, "samples": args.samples, "cpus": os.cpu_count(), **results}
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
