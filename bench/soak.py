"""Crash soak: SIGKILL a Memora writer many times on the embedded default, check after each kill.

The same harness as ``tests/reliability/test_crash_consistency.py`` (a forking writer doing
saves, appends, diverging updates and deletes, in raw mode and with a scripted extraction model;
the full store check and recovery after every kill), run longer. Prints the counts and writes
``bench/results/soak.json``. Anomalies must be zero (exit code 1 otherwise).

    python bench/soak.py            # ~400 kill points
    python bench/soak.py --quick    # ~60 kill points
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault(
    "MEMORA_EMBEDDING_MODEL_DIR",
    str(REPO_ROOT.parent / "shared" / "models" / "all-MiniLM-L6-v2-onnx"),
)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memora_engine.embeddings import Bm25SparseEncoder, default_dense_encoder  # noqa: E402
from tests.reliability._crash_checker import Stats, check_after_kill, create_tenant  # noqa: E402
from tests.reliability._crash_harness import Zygote  # noqa: E402


async def soak(kills_per_mode: int, seed: int, root: Path) -> dict[str, Stats]:
    dense, sparse = default_dense_encoder(), Bm25SparseEncoder()
    zygote = Zygote(REPO_ROOT)
    results: dict[str, Stats] = {}
    try:
        for mode in ("raw", "llm"):
            store, journal = root / mode / "store", root / mode / "journal.jsonl"
            await create_tenant(store, dense, sparse)
            rng = random.Random(seed)
            stats = Stats()
            checked = -1
            for i in range(kills_per_mode):
                command = {"store": str(store), "journal": str(journal),
                           "seed": seed * 100_000 + i, "mode": mode, "max_ops": 10_000}  # fmt: skip
                after_ops = None if rng.random() < 0.1 else rng.randrange(0, 12)
                code = zygote.run_and_kill(command, after_ops=after_ops, phase=rng.random())
                if code == -9:
                    stats.kills += 1
                elif code == 0:
                    stats.natural_exits += 1
                else:
                    stats.anomalies.append(f"writer {i} exited with {code}")
                checked = await check_after_kill(
                    store, journal, dense, sparse, stats, rng, checked_up_to=checked
                )
            results[mode] = stats
    finally:
        zygote.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 60 kill points")
    parser.add_argument("--kills", type=int, default=None, help="kill points per mode")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    kills = args.kills or (30 if args.quick else 200)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memora-soak-") as tmp:
        results = asyncio.run(soak(kills, args.seed, Path(tmp)))
    elapsed = time.perf_counter() - started
    rows = {mode: stats.as_dict() for mode, stats in results.items()}
    keys = list(next(iter(rows.values())))
    print(f"{'count':<26}" + "".join(f"{mode:>10}" for mode in rows))
    for key in keys:
        print(f"{key:<26}" + "".join(f"{rows[mode][key]:>10}" for mode in rows))
    print(f"elapsed: {elapsed:.1f} s")
    anomalies = [a for stats in results.values() for a in stats.anomalies]
    for anomaly in anomalies[:20]:
        print("ANOMALY:", anomaly)
    out = REPO_ROOT / "bench" / "results" / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"quick": args.quick, "seed": args.seed, "kills_per_mode": kills,
                               "elapsed_s": round(elapsed, 1), "modes": rows,
                               "anomaly_samples": anomalies[:20]}, indent=2) + "\n")  # fmt: skip
    return 1 if anomalies else 0


if __name__ == "__main__":
    raise SystemExit(main())
