"""Memora.reindex and Memora.restore_interactions over SQLite + Qdrant Edge (real stores)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from memora_engine import Memora
from memora_engine.bulk_api import RestoreItem
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import AgentNotFoundError, ConflictError
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
)
from memora_engine.testing import RecordingVectorDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB

T = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
async def memora(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Memora]:
    edge = QdrantEdgeDB(
        tmp_path / "vectors", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    async with Memora(RecordingVectorDB(edge), SqliteGraphDB(tmp_path / "g.db")) as engine:
        await engine.setup()
        yield engine
    await edge.close()


def _record(texts: list[str], *, contrary: tuple[str, str] | None = None) -> MemoriesAndInteraction:
    return MemoriesAndInteraction(
        interaction=[{"role": "user", "content": t} for t in texts],  # type: ignore[misc]
        interaction_date=T,
        memories=[
            MemoryToStore(memory=t, memory_id=str(uuid.uuid4()), source_msg_block_pos=[i])
            for i, t in enumerate(texts)
        ],
        contrary_memories=[]
        if contrary is None
        else [ContraryMemoryToStore(memory=contrary[0], existing_contrary_memory_id=contrary[1])],
    )


async def _tenant(memora: Memora) -> tuple[str, str, str]:
    org = (await memora.create_organization("Acme")).org_id
    user = (await memora.create_user(org, "Jake")).user_id
    agent = (await memora.create_agent(org, "Bot")).agent_id
    return org, user, agent


async def test_reindex_batches_and_restores_search(memora: Memora) -> None:
    """If this fails, check BulkOperations.reindex / StoreCoordinator.reindex (paging, one
    upsert per batch, progress)."""
    org, user, agent = await _tenant(memora)
    chat = [{"role": "user", "content": f"My locker number {n} is blue."} for n in range(7)]
    await memora.save_or_update_interaction_and_memories(org, user, agent, chat)
    ids = [m.memory_id for m in await memora.list_memories(org, user)]
    recorder = memora.vector_db
    assert isinstance(recorder, RecordingVectorDB)
    stray = (await memora.get_memory(org, user, ids[0])).model_copy(
        update={"memory_id": str(uuid.uuid4()), "memory": "ghost"}
    )
    await recorder.inner.upsert_memories([stray])
    await recorder.inner.delete_memories(ids[:3])
    recorder.clear()
    seen: list[tuple[int, int]] = []
    assert await memora.reindex(batch_size=3, progress=lambda d, t: seen.append((d, t))) == 7
    assert [len(c.args[0]) for c in recorder.calls_to("upsert_memories")] == [3, 3, 1]
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    assert await recorder.inner.existing_ids([*ids, stray.memory_id]) == set(ids)
    assert recorder.calls_to("flush")
    hits = await memora.search_memories_as_one(org, user, ["locker number 2"])
    assert hits[0].memory == "My locker number 2 is blue."


async def test_restore_interactions_indexes_once_and_links_in_order(memora: Memora) -> None:
    """If this fails, check BulkOperations.restore_interactions (one index batch, commits in
    order so a later item can supersede an earlier one's memory)."""
    org, user, agent = await _tenant(memora)
    first = _record(["I live in Lyon.", "I play chess."])
    old_id = first.memories[0].memory_id
    assert old_id is not None
    second = _record(["I moved."], contrary=("I live in Paris.", old_id))
    recorder = memora.vector_db
    assert isinstance(recorder, RecordingVectorDB)
    done = await memora.restore_interactions(
        [RestoreItem(org, user, agent, first), RestoreItem(org, user, agent, second)]
    )
    assert [when for _, when in done] == [T, T]
    (upsert,) = recorder.calls_to("upsert_memories")
    assert len(upsert.args[0]) == 4
    paris = next(m for m in upsert.args[0] if m.memory == "I live in Paris.")
    assert await memora.list_memory_links(org, user) == [(old_id, paris.memory_id)]
    current = {m.memory for m in await memora.list_memories(org, user)}
    assert "I live in Lyon." not in current
    assert "I live in Paris." in current


async def test_restore_interactions_refuses_all_or_reports_the_failed_commit(
    memora: Memora,
) -> None:
    """If this fails, check restore_interactions checks every item before writing, and that a
    commit failing later leaves no searchable point behind."""
    org, user, agent = await _tenant(memora)
    recorder = memora.vector_db
    assert isinstance(recorder, RecordingVectorDB)
    with pytest.raises(AgentNotFoundError):
        await memora.restore_interactions(
            [
                RestoreItem(org, user, agent, _record(["fine"])),
                RestoreItem(org, user, "no-such-agent", _record(["refused"])),
            ]
        )
    assert await memora.list_interactions(org, user) == []
    assert recorder.calls_to("upsert_memories") == []
    a, b = _record(["kept"]), _record(["clashes"])
    with pytest.raises(ConflictError):
        await memora.restore_interactions(
            [
                RestoreItem(org, user, agent, a, interaction_id="same"),
                RestoreItem(org, user, agent, b, interaction_id="same"),
            ]
        )
    assert [m.memory for m in await memora.list_memories(org, user)] == ["kept"]
    assert await recorder.inner.existing_ids([m.memory_id or "" for m in b.memories]) == set()
