"""Crash consistency of the embedded default (SQLite + Qdrant Edge) under SIGKILL.

A writer process (forked from a zygote that loaded the real model once) saves, updates and
deletes interactions in raw mode and with a scripted extraction model; it is SIGKILLed at a
random moment, 50 times in all, with fixed seeds. After every kill the store is reopened and
checked by ``_crash_checker.check_after_kill``: every returned save is fully present in graph and
search, the save in flight is all-or-nothing, every graph memory has its vector, search never
returns what the graph lacks, and after recovery the index equals the graph.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.recovery import recover_vector_index
from tests.reliability._crash_checker import Stats, check_after_kill, create_tenant
from tests.reliability._crash_harness import Zygote

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    process = Zygote(REPO_ROOT)
    try:
        yield process
    finally:
        process.close()


async def run_kill_points(
    zygote: Zygote, root: Path, dense: DenseEncoder, sparse: SparseEncoder,
    *, mode: str, kills: int, seed: int,
) -> Stats:  # fmt: skip
    """Kill a writer ``kills`` times on one store, checking the store after each kill."""
    store, journal = root / "store", root / "journal.jsonl"
    await create_tenant(store, dense, sparse)
    rng = random.Random(seed)
    stats = Stats()
    checked = -1
    for i in range(kills):
        command = {"store": str(store), "journal": str(journal), "seed": seed * 1000 + i,
                   "mode": mode, "max_ops": 10_000}  # fmt: skip
        after_ops = None if rng.random() < 0.1 else rng.randrange(0, 5)
        code = zygote.run_and_kill(command, after_ops=after_ops, phase=rng.random())
        if code == -9:
            stats.kills += 1
        elif code == 0:
            stats.natural_exits += 1
        else:
            stats.anomalies.append(f"writer {i} failed with exit code {code} (see stderr)")
        checked = await check_after_kill(
            store, journal, dense, sparse, stats, rng, checked_up_to=checked
        )
    return stats


@pytest.mark.parametrize(("mode", "kills", "seed"), [("raw", 30, 7), ("llm", 20, 11)])
async def test_sigkill_at_random_points_loses_and_half_writes_nothing(
    tmp_path: Path,
    zygote: Zygote,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    mode: str,
    kills: int,
    seed: int,
) -> None:
    """If this fails, check the write protocol (vectors durable, then one graph transaction;
    deletes graph first) in graph_db/base.py and the stores' flush / commit on return."""
    stats = await run_kill_points(
        zygote, tmp_path, dense_encoder, sparse_encoder, mode=mode, kills=kills, seed=seed
    )
    assert stats.anomalies == []
    assert stats.kills == kills
    # The kills landed while work was going on, not only between runs.
    assert stats.ops_returned >= kills
    assert stats.in_flight_applied + stats.in_flight_absent >= kills // 2
    assert stats.reindexed == 0  # the protocol never leaves a graph memory without its vector


async def test_recovery_reindexes_lost_points_and_drops_known_strays(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check memora_engine/recovery.py (pages of the graph vs existing_ids)."""
    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = (await memora.graph.create_organization("Acme")).org_id
        user = (await memora.graph.create_user(org, "Jake")).user_id
        agent = (await memora.graph.create_agent(org, "Jarvis")).agent_id
        chat = [{"role": "user", "content": f"fact number {i} about walnuts"} for i in range(7)]
        await memora.save_or_update_interaction_and_memories(org, user, agent, chat)
        memories = await memora.graph.get_all_user_memories(org, user)
        lost = memories[3]
        await memora.vector_db.delete_memories([lost.memory_id])  # an index restored from backup
        stray = lost.model_copy(update={"memory_id": str(uuid.uuid4()), "memory": "ghost"})
        await memora.vector_db.upsert_memories([stray])  # a crash between index and commit
        report = await recover_vector_index(
            memora.graph_db,
            memora.vector_db,
            stray_candidates=[stray.memory_id, lost.memory_id],
            page_size=2,
        )
        assert report.checked == 7
        assert report.reindexed == (lost.memory_id,)
        assert report.deleted_strays == (stray.memory_id,)
        assert await memora.vector_db.count(org, user) == 7
        found = await memora.search_memories_as_one(org, user, [lost.memory])
        assert found[0].memory_id == lost.memory_id
        again = await recover_vector_index(memora.graph_db, memora.vector_db, org_id=org)
        assert not again.repaired
