"""Benchmark the embedded SQLite graph store alone (no vector store attached).

Measures p50 / p95 latency of three hot paths at two store sizes:

* ``save_10``:    save an interaction (4 messages) with 10 memories (sources + placeholders);
* ``resolve_20``: resolve 20 random search hits (history heads, names, sources);
* ``newest_100``: list a user's 100 newest memories.

The store is a SQLite file in a temporary folder, filled through the store's own API
(``save_interaction_with_memories`` with 100 memories per interaction; one in ten memories
contradicts an earlier one, so resolution follows real history chains). All memories belong to
ONE user, the worst case for that user's queries.

Run:  python bench/graph_store.py            (1k and 100k memories)
      python bench/graph_store.py --quick    (1k and 10k, fewer repetitions)
Writes bench/results/graph_store.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.schema import ContraryMemoryToStore, MemoriesAndInteraction, MemoryToStore

RESULTS = Path(__file__).resolve().parent / "results" / "graph_store.json"
TARGETS_MS = {"save_10": 10.0, "resolve_20": 3.0, "newest_100": 5.0}
MAX_GROWTH = 2.0
FILL_BATCH = 100
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _messages(i: int) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": f"Message {i}: I moved to a new city and started a new job."},
        {"role": "assistant", "content": "Congratulations! How is it going so far?"},
        {"role": "user", "content": f"Great, though I miss my dog Rex ({i})."},
        {"role": "assistant", "content": "That is understandable. Will Rex join you soon?"},
    ]


def _batch(
    user_id: str, i: int, size: int, stored: list[str], rng: random.Random
) -> tuple[MemoriesAndInteraction, list[str]]:
    """One interaction with ``size`` memories; every tenth contradicts a stored memory."""
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(size)]
    memories, contrary = [], []
    for k, memory_id in enumerate(ids):
        text = f"user_{user_id} mentioned fact {i}-{k} about their move and their dog Rex"
        if k % 10 == 9 and stored:
            contrary.append(
                ContraryMemoryToStore(
                    memory=text, source_msg_block_pos=[2], memory_id=memory_id,
                    existing_contrary_memory_id=rng.choice(stored),
                )
            )  # fmt: skip
        else:
            memories.append(
                MemoryToStore(memory=text, source_msg_block_pos=[0, 2], memory_id=memory_id)
            )
    data = MemoriesAndInteraction(
        interaction=_messages(i),  # type: ignore[arg-type]
        interaction_date=T0 + timedelta(seconds=i),
        memories=memories,
        contrary_memories=contrary,
    )
    return data, ids


async def _timed(op: Callable[[], Awaitable[Any]], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await op()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await op()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
        "n": len(ordered),
    }


async def bench_size(total: int, repeat: int, folder: Path, sync_mode: str) -> dict[str, Any]:
    """Fill a fresh store with ``total`` memories and time the three operations."""
    rng = random.Random(total)
    path = folder / f"graph_{total}.db"
    async with SqliteGraphDB(path, synchronous=sync_mode) as store:  # type: ignore[arg-type]
        org = await store.create_organization("Bench org")
        user = await store.create_user(org.org_id, "Jake")
        agent = await store.create_agent(org.org_id, "Helper")
        stored: list[str] = []
        fill_start = time.perf_counter()
        for i in range(total // FILL_BATCH):
            data, ids = _batch(user.user_id, i, FILL_BATCH, stored, rng)
            await store.save_interaction_with_memories(
                org.org_id, agent.agent_id, user.user_id, data
            )
            stored.extend(ids)
        fill_seconds = time.perf_counter() - fill_start

        counter = iter(range(10**9))

        async def save_10() -> None:
            n = total + next(counter)
            data, _ = _batch(user.user_id, n, 10, stored, rng)
            await store.save_interaction_with_memories(
                org.org_id, agent.agent_id, user.user_id, data
            )

        async def resolve_20() -> None:
            refs = [
                {"memory_id": m, "org_id": org.org_id, "user_id": user.user_id}
                for m in rng.sample(stored, 20)
            ]
            result = await store.fetch_user_memories_resolved(refs)
            assert result, "resolution returned nothing"

        async def newest_100() -> None:
            result = await store.get_all_user_memories(org.org_id, user.user_id, limit=100)
            assert len(result) == 100

        ops = {"save_10": save_10, "resolve_20": resolve_20, "newest_100": newest_100}
        results = {
            name: _summary(await _timed(op, repeat, warmup=max(5, repeat // 20)))
            for name, op in ops.items()
        }
    return {
        "memories": total,
        "fill_seconds": round(fill_seconds, 2),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "ops": results,
    }


def _table(runs: list[dict[str, Any]], growth: dict[str, float]) -> str:
    sizes = [r["memories"] for r in runs]
    header = f"{'operation':<12}" + "".join(f"{f'{n:,} p50/p95 ms':>24}" for n in sizes)
    lines = [header + f"{'target p50':>12}{'growth':>9}", "-" * (len(header) + 21)]
    for name, target in TARGETS_MS.items():
        cells = "".join(
            f"{r['ops'][name]['p50_ms']:>14.3f} / {r['ops'][name]['p95_ms']:<7.3f}" for r in runs
        )
        lines.append(f"{name:<12}{cells}{f'< {target:g}':>12}{growth[name]:>8.2f}x")
    fills = ", ".join(f"{r['memories']:,}: {r['fill_seconds']}s ({r['file_mb']} MB)" for r in runs)
    lines.append(f"fill time: {fills}")
    return "\n".join(lines)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k, fewer repetitions")
    parser.add_argument("--sizes", type=int, nargs="+", help="memory counts (default 1k 100k)")
    parser.add_argument("--repeat", type=int, help="timed repetitions per operation")
    parser.add_argument(
        "--synchronous", default="FULL", choices=["FULL", "NORMAL"], help="SQLite durability"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = args.sizes or ([1_000, 10_000] if args.quick else [1_000, 100_000])
    repeat = args.repeat or (100 if args.quick else 400)

    with tempfile.TemporaryDirectory(prefix="memora-bench-") as tmp:
        runs = [await bench_size(n, repeat, Path(tmp), args.synchronous) for n in sizes]
    small, large = runs[0], runs[-1]
    growth = {
        name: round(large["ops"][name]["p50_ms"] / small["ops"][name]["p50_ms"], 2)
        for name in TARGETS_MS
    }
    passed = all(large["ops"][n]["p50_ms"] < t for n, t in TARGETS_MS.items()) and all(
        g < MAX_GROWTH for g in growth.values()
    )
    print(_table(runs, growth))
    print("targets met" if passed else "TARGETS MISSED")
    report = {
        "benchmark": "graph_store",
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "store": f"SqliteGraphDB file, synchronous={args.synchronous}, WAL, no vector store",
        "repeat": repeat,
        "runs": runs,
        "growth_p50": growth,
        "targets_p50_ms": TARGETS_MS,
        "max_growth": MAX_GROWTH,
        "targets_met": passed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
