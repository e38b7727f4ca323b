"""Concurrency: many coroutines on one engine, and two processes on one SQLite file.

Guarantee under test (README "Guarantees"): updates of one interaction through one ``Memora``
are serialized in call order, and each one reads the stored messages under that lock, so the
result is exactly the serial application of the calls in call order: no message or memory is
lost or duplicated, ids are unique. Across processes each save / update is one SQLite
``BEGIN IMMEDIATE`` transaction that diffs against the messages stored at commit time: updates
are atomic and serializable (the final list is one caller's list, never a mix).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import BackendUnavailableError
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.message_diff import plan_message_update
from memora_engine.pipeline import RAW_MODE_ROLES
from memora_engine.schema.storage import MemoriesAndInteraction

REPO_ROOT = Path(__file__).resolve().parents[2]


def serial_result(
    initial: list[tuple[str, str]], calls: list[list[tuple[str, str]]]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Messages and raw-mode memory texts after applying ``calls`` one after another (pure)."""
    stored = list(initial)
    memories = [c for r, c in initial if r in RAW_MODE_ROLES]
    for new in calls:
        diff = plan_message_update(stored, new)
        memories += [
            new[p][1] for p in diff.appended_positions(len(new)) if new[p][0] in RAW_MODE_ROLES
        ]
        stored = list(new)
    return stored, memories


@pytest.fixture
async def memora(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> Memora:
    engine = await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    yield engine  # type: ignore[misc]
    await engine.close()


async def _ids(memora: Memora) -> tuple[str, str, str]:
    org = await memora.graph.create_organization("Acme")
    user = await memora.graph.create_user(org.org_id, "Jake")
    agent = await memora.graph.create_agent(org.org_id, "Jarvis")
    return org.org_id, user.user_id, agent.agent_id


async def test_many_coroutines_on_one_user_and_one_interaction(memora: Memora) -> None:
    """If this fails, check Memora's per-interaction lock (keyed_locks) and that the raw-mode
    diff reads the stored messages under it."""
    org, user, agent = await _ids(memora)
    rng = random.Random(5)
    chat = [("user", "hello, shared conversation starts")]
    iid, _ = await memora.save_or_update_interaction_and_memories(
        org, user, agent, [{"role": r, "content": c} for r, c in chat]
    )
    applied: list[list[tuple[str, str]]] = []
    saved: dict[str, list[tuple[str, str]]] = {}

    async def appender(i: int) -> None:
        await asyncio.sleep(rng.random() * 0.02)
        chat.extend([("user", f"appender {i} asks about kiwi {i}"), ("assistant", f"reply {i}")])
        snapshot = list(chat)
        await memora.save_or_update_interaction_and_memories(
            org, user, agent, [{"role": r, "content": c} for r, c in snapshot], interaction_id=iid
        )
        applied.append(snapshot)

    async def saver(i: int) -> None:
        await asyncio.sleep(rng.random() * 0.02)
        messages = [("user", f"separate chat {i} about mango"), ("assistant", f"noted {i}")]
        new_iid, _ = await memora.save_or_update_interaction_and_memories(
            org, user, agent, [{"role": r, "content": c} for r, c in messages]
        )
        saved[new_iid] = messages

    async def reader(i: int) -> None:
        await asyncio.sleep(rng.random() * 0.02)
        for memory in await memora.search_memories_as_one(org, user, [f"kiwi {i}"]):
            await memora.graph.get_user_memory(org, user, memory.memory_id)  # never dangling

    await asyncio.gather(
        *[appender(i) for i in range(25)], *[saver(i) for i in range(15)],
        *[reader(i) for i in range(10)],
    )  # fmt: skip
    assert len(saved) == 15  # no interaction id handed out twice
    final = await memora.graph.get_interaction(org, user, iid)
    assert [(m.role, m.content) for m in final.messages] == chat  # nothing lost, in order
    want_messages, want_memories = serial_result(chat[:1], applied)
    assert want_messages == chat
    assert Counter(m.memory for m in final.memories) == Counter(want_memories)
    for other, messages in saved.items():
        got = await memora.graph.get_interaction(org, user, other)
        assert [(m.role, m.content) for m in got.messages] == messages
        assert sorted(m.memory for m in got.memories) == sorted(c for _, c in messages)
    everything = await memora.graph.get_all_user_memories(org, user)
    ids = [m.memory_id for m in everything]
    assert len(ids) == len(set(ids)) == len(want_memories) + 2 * 15
    assert await memora.vector_db.existing_ids(ids) == set(ids)
    assert await memora.vector_db.count(org, user) == len(ids)


async def test_conflicting_full_lists_apply_in_call_order(memora: Memora) -> None:
    """If this fails, check that concurrent diverging updates serialize (truncate + append
    each time) instead of interleaving messages."""
    org, user, agent = await _ids(memora)
    base = [("user", "the base message about tea")]
    iid, _ = await memora.save_or_update_interaction_and_memories(
        org, user, agent, [{"role": r, "content": c} for r, c in base]
    )
    calls = [
        [*base, ("user", f"branch {i} about coffee"), ("assistant", f"ok {i}")] for i in range(12)
    ]
    order: list[int] = []

    async def update(i: int) -> None:
        await memora.save_or_update_interaction_and_memories(
            org, user, agent, [{"role": r, "content": c} for r, c in calls[i]], interaction_id=iid
        )
        order.append(i)

    await asyncio.gather(*[update(i) for i in range(12)])
    assert order == list(range(12))  # call order
    want_messages, want_memories = serial_result(base, [calls[i] for i in order])
    final = await memora.graph.get_interaction(org, user, iid)
    assert [(m.role, m.content) for m in final.messages] == want_messages
    assert [m.msg_position for m in final.messages] == list(range(len(want_messages)))
    assert Counter(m.memory for m in final.memories) == Counter(want_memories)
    with_sources = {m.memory for m in final.memories if m.message_sources}
    assert with_sources == {base[0][1], *(c for _, c in calls[order[-1]][1:])}


async def test_second_engine_on_the_same_folder_is_refused(
    memora: Memora, tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check QdrantEdgeDB's folder lock: two writers must never share a shard."""
    with pytest.raises(BackendUnavailableError):
        await Memora.embedded(
            tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
        )


_WRITER = r"""
import asyncio, json, sys, time, uuid
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.schema.storage import MemoriesAndInteraction, MemoryToStore

async def main(path, tag, org, user, agent, shared, base, start):
    graph = SqliteGraphDB(path)
    await graph.setup()
    out = {"saves": {}, "updates": []}
    while time.time() < start:
        await asyncio.sleep(0.001)
    for i in range(40):
        mid = str(uuid.uuid4())
        msgs = [{"role": "user", "content": f"{tag} chat {i}"}]
        iid, _ = await graph.save_interaction_with_memories(org, agent, user, MemoriesAndInteraction(
            interaction=msgs, memories=[MemoryToStore(memory=f"{tag} memory {i}",
            source_msg_block_pos=[0], memory_id=mid)]))
        out["saves"][iid] = [msgs, mid]
        mid = str(uuid.uuid4())
        msgs = base + [{"role": "user", "content": f"{tag} update {i}"}]
        await graph.update_interaction_and_memories(org, agent, user, shared, MemoriesAndInteraction(
            interaction=msgs, memories=[MemoryToStore(memory=f"{tag} update memory {i}",
            source_msg_block_pos=[len(base)], memory_id=mid)]))
        out["updates"].append([msgs, mid])
    await graph.close()
    print(json.dumps(out))

asyncio.run(main(*json.loads(sys.argv[1])))
"""


async def test_two_processes_write_one_sqlite_file(tmp_path: Path) -> None:
    """If this fails, check SqliteGraphDB's BEGIN IMMEDIATE transactions and busy timeout."""
    path = str(tmp_path / "shared.sqlite3")
    async with SqliteGraphDB(path) as graph:
        org = await graph.create_organization("Acme")
        user = await graph.create_user(org.org_id, "Jake")
        agent = await graph.create_agent(org.org_id, "Jarvis")
        base = [{"role": "user", "content": "shared base"}]
        shared, _ = await graph.save_interaction_with_memories(
            org.org_id, agent.agent_id, user.user_id, MemoriesAndInteraction(interaction=base)
        )
    begin = time.time() + 1.5  # both writers start together
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WRITER,
            json.dumps([path, tag, org.org_id, user.user_id, agent.agent_id, shared, base, begin]),
            cwd=REPO_ROOT, stdout=subprocess.PIPE,
        )
        for tag in ("A", "B")
    ]  # fmt: skip
    outputs = [json.loads((await p.communicate())[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    async with SqliteGraphDB(path) as graph:
        for out in outputs:
            for iid, (msgs, mid) in out["saves"].items():
                got = await graph.get_interaction(org.org_id, user.user_id, iid)
                assert got.messages_as_dicts() == msgs
                assert [m.memory_id for m in got.memories] == [mid]
        final = await graph.get_interaction(org.org_id, user.user_id, shared)
        submitted = [msgs for out in outputs for msgs, _ in out["updates"]]
        assert final.messages_as_dicts() in submitted  # one caller's list, never a mix
        update_ids = {uuid.UUID(mid) for out in outputs for _, mid in out["updates"]}
        assert {uuid.UUID(m.memory_id) for m in final.memories} == update_ids  # none lost
        linked = [m for m in final.memories if m.message_sources]
        assert len(linked) == 1
        assert linked[0].message_sources[0].content == final.messages[-1].content
        everything = await graph.get_all_user_memories(org.org_id, user.user_id)
        ids = [m.memory_id for m in everything]
        assert len(ids) == len(set(ids)) == 2 * 2 * 40
