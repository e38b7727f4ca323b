"""Writes are not flushed per call: what guarantees the embedded index after a power loss.

A SIGKILL loses nothing (the write-ahead log is in the kernel's page cache; the crash suite
checks it). A power loss can lose unflushed points; the store detects a session that ended
without a clean close on an earlier boot and ``Memora`` re-indexes from the graph on open.
"""

from __future__ import annotations

from pathlib import Path

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.vector_db._edge_files import boot_id
from memora_engine.vector_db.qdrant_edge import OPEN_MARKER, QdrantEdgeDB


async def _store_with_memories(
    root: Path, dense: DenseEncoder, sparse: SparseEncoder
) -> tuple[str, str, list[str]]:
    async with await Memora.embedded(root, dense_encoder=dense, sparse_encoder=sparse) as memora:
        org = (await memora.create_organization("Acme")).org_id
        user = (await memora.create_user(org, "Jake")).user_id
        agent = (await memora.create_agent(org, "Bot")).agent_id
        chat = [{"role": "user", "content": f"I keep {n} lemon trees."} for n in range(3)]
        await memora.save_or_update_interaction_and_memories(org, user, agent, chat)
        ids = [m.memory_id for m in await memora.list_memories(org, user)]
        assert (root / "vectors" / OPEN_MARKER).exists()
    assert not (root / "vectors" / OPEN_MARKER).exists()  # a clean close removes the marker
    return org, user, ids


async def test_unclean_shutdown_on_an_earlier_boot_reindexes_on_open(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check QdrantEdgeDB's open marker (boot id) and Memora.setup's recovery."""
    org, user, ids = await _store_with_memories(tmp_path, dense_encoder, sparse_encoder)
    async with QdrantEdgeDB(
        tmp_path / "vectors", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as vectors:
        await vectors.setup()
        assert not vectors.may_have_lost_writes
        await vectors.delete_memories(ids[:2])  # the points a power loss would have lost
    # The session "ended" without a clean close, on another boot.
    (tmp_path / "vectors" / OPEN_MARKER).write_text("an-earlier-boot-id", encoding="ascii")
    async with await Memora.embedded(
        tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        assert await memora.vector_db.existing_ids(ids) == set(ids)
        assert not memora.vector_db.may_have_lost_writes
        hits = await memora.search_memories_as_one(org, user, ["lemon trees"])
        assert {m.memory_id for m in hits} == set(ids)


async def test_unclean_shutdown_on_the_same_boot_needs_no_recovery(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check _writes_may_be_lost: a process crash alone must not trigger a
    re-index (the write-ahead log survived it)."""
    await _store_with_memories(tmp_path, dense_encoder, sparse_encoder)
    (tmp_path / "vectors" / OPEN_MARKER).write_text(boot_id(), encoding="ascii")
    store = QdrantEdgeDB(
        tmp_path / "vectors", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    await store.setup()
    try:
        assert store.may_have_lost_writes is (boot_id() == "")
    finally:
        await store.close()
