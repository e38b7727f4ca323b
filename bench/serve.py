"""Service benchmark: ``memora serve`` on localhost under 1, 8 and 32 concurrent clients.

One run, bounded (about a minute on 2 cores):

1. in process: ``Memora.embedded`` search (3 queries) and raw save p50/p95, the baseline;
2. over HTTP: a real ``memora serve --raw`` (uvicorn on 127.0.0.1), then for 1, 8 and 32
   concurrent ``MemoraClient`` workers a mixed load (80% search, 20% save): p50/p95 per
   operation, requests/s, errors, and lost writes (acknowledged saves missing afterwards).

The load average is recorded before and after. Results go to ``bench/results/serve.json``.

Usage::

    python bench/serve.py            # 1, 8, 32 clients
    python bench/serve.py --quick    # fewer operations
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from memora_engine import Memora
from memora_engine.client import MemoraClient
from memora_engine.service import ApiKeyStore, create_app

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "serve.json"
ORG, AGENT = "benchorg", "benchagent"
USERS = [f"user{i}" for i in range(8)]
SEED_PER_USER = 25
QUERIES = ["food allergies", "weekend hobbies", "travel plans"]
TOPICS = ["peanuts", "jazz", "hiking", "sushi", "chess", "yoga", "tennis", "coffee", "Rome"]
CONCURRENCY = (1, 8, 32)
SEARCH_SHARE = 0.8


def _fact(rng: random.Random) -> str:
    return f"I {rng.choice(['love', 'avoid', 'study', 'plan'])} {rng.choice(TOPICS)} {rng.random():.6f}."


def _stats(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "n": len(ordered),
    }


async def seed_and_measure_in_process(path: Path, samples: int) -> dict[str, Any]:
    """Create the tenants, seed memories, and time search / save in process (the baseline)."""
    rng = random.Random(7)
    async with await Memora.embedded(path) as memora:
        await memora.create_organization("Bench", org_id=ORG)
        await memora.create_agent(ORG, "Bench agent", agent_id=AGENT)
        for user in USERS:
            await memora.create_user(ORG, user, user_id=user)
            for _ in range(SEED_PER_USER):
                await memora.save_or_update_interaction_and_memories(
                    ORG, user, AGENT, [{"role": "user", "content": _fact(rng)}]
                )
        for _ in range(5):  # warm-up
            await memora.search_memories_as_one(ORG, USERS[0], QUERIES)
        search, save = [], []
        for i in range(samples):
            start = time.perf_counter()
            await memora.search_memories_as_one(ORG, USERS[i % len(USERS)], QUERIES, limit=10)
            search.append(time.perf_counter() - start)
        for i in range(samples // 2):
            start = time.perf_counter()
            await memora.save_or_update_interaction_and_memories(
                ORG, USERS[i % len(USERS)], AGENT, [{"role": "user", "content": _fact(rng)}]
            )
            save.append(time.perf_counter() - start)
    return {"search": _stats(search), "save": _stats(save)}


def start_server(path: Path, keys_file: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "memora_engine.cli", "serve", "--raw", "--no-mcp"]
    command += ["--path", str(path), "--keys-file", str(keys_file), "--port", str(port)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("memora serve did not get ready")


async def load(url: str, key: str, clients: int, ops_per_client: int) -> dict[str, Any]:
    """``clients`` concurrent workers, each doing ``ops_per_client`` mixed operations."""
    search: list[float] = []
    save: list[float] = []
    errors: list[str] = []
    acknowledged: list[tuple[str, str]] = []

    async def worker(number: int) -> None:
        rng = random.Random(number)
        user = USERS[number % len(USERS)]
        async with MemoraClient(url, key, timeout=60) as memora:
            for _ in range(ops_per_client):
                start = time.perf_counter()
                try:
                    if rng.random() < SEARCH_SHARE:
                        await memora.search_memories_as_one(ORG, user, QUERIES, limit=10)
                        search.append(time.perf_counter() - start)
                    else:
                        iid, _ = await memora.save_or_update_interaction_and_memories(
                            ORG, user, AGENT, [{"role": "user", "content": _fact(rng)}]
                        )
                        save.append(time.perf_counter() - start)
                        acknowledged.append((user, iid))
                except Exception as exc:
                    errors.append(type(exc).__name__)

    # warm the connection path once
    async with MemoraClient(url, key) as memora:
        await memora.search_memories_as_one(ORG, USERS[0], QUERIES)
    start = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    lost = 0
    async with MemoraClient(url, key) as memora:
        for user in USERS:
            stored = await memora.list_interactions(
                ORG, user, with_messages=False, with_memories=False, limit=10_000
            )
            ids = {i.interaction_id for i in stored}
            lost += sum(1 for u, iid in acknowledged if u == user and iid not in ids)
    total = len(search) + len(save) + len(errors)
    return {
        "clients": clients,
        "operations": total,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(total / elapsed, 1),
        "search": _stats(search),
        "save": _stats(save),
        "errors": len(errors),
        "error_types": sorted(set(errors)),
        "lost_writes": lost,
    }


async def search_only(url: str, key: str, samples: int) -> dict[str, float]:
    """One client, searches only: the HTTP counterpart of the in-process search timing."""
    timings = []
    async with MemoraClient(url, key) as memora:
        for _ in range(5):  # warm-up
            await memora.search_memories_as_one(ORG, USERS[0], QUERIES)
        for i in range(samples):
            start = time.perf_counter()
            await memora.search_memories_as_one(ORG, USERS[i % len(USERS)], QUERIES, limit=10)
            timings.append(time.perf_counter() - start)
    return _stats(timings)


async def search_in_process(path: Path, samples: int) -> dict[str, float]:
    """In-process search timing on the store as the server left it (the second baseline)."""
    timings = []
    async with await Memora.embedded(path) as memora:
        for _ in range(5):
            await memora.search_memories_as_one(ORG, USERS[0], QUERIES)
        for i in range(samples):
            start = time.perf_counter()
            await memora.search_memories_as_one(ORG, USERS[i % len(USERS)], QUERIES, limit=10)
            timings.append(time.perf_counter() - start)
    return _stats(timings)


async def search_through_asgi(path: Path, key_store: ApiKeyStore, key: str, samples: int) -> Any:
    """The same searches through the app and the client in one process (no TCP, no second
    process): the cost of the HTTP layer itself, apart from the machine's scheduling."""
    app = create_app(lambda: Memora.embedded(path), key_store, mcp=False)
    timings = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as http:
            memora = MemoraClient("http://bench", key, http_client=http)
            for _ in range(5):
                await memora.search_memories_as_one(ORG, USERS[0], QUERIES)
            for i in range(samples):
                start = time.perf_counter()
                await memora.search_memories_as_one(ORG, USERS[i % len(USERS)], QUERIES, limit=10)
                timings.append(time.perf_counter() - start)
    return _stats(timings)


async def run(quick: bool) -> dict[str, Any]:
    samples = 40 if quick else 100
    with tempfile.TemporaryDirectory(prefix="memora-serve-bench-") as tmp:
        root = Path(tmp)
        in_process = await seed_and_measure_in_process(root / "data", samples)
        keys = ApiKeyStore()
        key, _ = keys.create(org_id=ORG, name="bench")
        keys.save(root / "keys.json")
        port = _free_port()
        process = start_server(root / "data", root / "keys.json", port)
        try:
            url = f"http://127.0.0.1:{port}"
            http_search = await search_only(url, key, samples)
            rows = []
            for clients in CONCURRENCY:
                ops = max(4, (samples * 2) // clients) if clients > 1 else samples
                rows.append(await load(url, key, clients, ops))
        finally:
            process.terminate()
            process.wait(60)
        in_process_after = await search_in_process(root / "data", samples)
        asgi = await search_through_asgi(root / "data", keys, key, samples)
    return {
        "in_process": in_process,
        "in_process_search_after": in_process_after,
        "http_search_only_1_client": http_search,
        "asgi_search_only_1_client": asgi,
        "http": rows,
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Fewer operations.")
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = asyncio.run(run(args.quick))
    load_after = os.getloadavg()
    base = results["in_process"]
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(
        f"in process: search p50 {base['search']['p50_ms']} ms / p95 {base['search']['p95_ms']}"
        f" ms; save p50 {base['save']['p50_ms']} ms / p95 {base['save']['p95_ms']} ms"
    )
    header = "| clients | req/s | search p50 | search p95 | save p50 | save p95 | errors | lost |"
    print(header)
    print("|" + "---|" * 8)
    for row in results["http"]:
        print(
            f"| {row['clients']} | {row['requests_per_s']} | {row['search']['p50_ms']} ms"
            f" | {row['search']['p95_ms']} ms | {row['save']['p50_ms']} ms"
            f" | {row['save']['p95_ms']} ms | {row['errors']} | {row['lost_writes']} |"
        )
    http_p50 = results["http_search_only_1_client"]["p50_ms"]
    after = results["in_process_search_after"]["p50_ms"]
    baseline = (base["search"]["p50_ms"] + after) / 2
    overhead = round(http_p50 - baseline, 2)
    print(
        f"search only, 1 client: HTTP p50 {http_p50} ms; in process p50 {base['search']['p50_ms']}"
        f" ms before and {after} ms after the server ran -> +{overhead} ms (target <= +2 ms)"
    )
    asgi = results["asgi_search_only_1_client"]["p50_ms"]
    print(f"same searches through the app in one process (no TCP): p50 {asgi} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load_after],
                "cpu_count": os.cpu_count(),
                "search_http_overhead_p50_ms": overhead,
                **results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
