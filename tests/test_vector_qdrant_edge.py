"""QdrantEdgeDB (the embedded default) passes the vector suite; folder lock and durability."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import qdrant_edge as qe

from memora_engine.embeddings import DenseEncoder, FastEmbedDenseEncoder, SparseEncoder
from memora_engine.errors import BackendUnavailableError, ConfigurationError
from memora_engine.filters import matches, memory_record, parse_filter
from memora_engine.testing.vector_filter_suite import random_filter, random_metadata
from memora_engine.testing.vector_suite import T0, VectorDBConformanceTests, make_memory
from memora_engine.vector_db._edge_files import prefetch_folder
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB


class TestQdrantEdge(VectorDBConformanceTests):
    supports_reopen = True

    @pytest.fixture
    async def vector_db(
        self, tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
    ) -> AsyncIterator[QdrantEdgeDB]:
        self._encoders = (dense_encoder, sparse_encoder)
        self._path = tmp_path / "edge"
        store = QdrantEdgeDB(self._path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder)
        await store.setup()
        yield store
        await store.close()

    async def reopen(self, vector_db: BaseVectorDB) -> BaseVectorDB:
        await vector_db.close()
        dense, sparse = self._encoders
        store = QdrantEdgeDB(self._path, dense_encoder=dense, sparse_encoder=sparse)
        await store.setup()
        return store

    async def strip_payload(self, vector_db: BaseVectorDB, memory_id: str, keys: list[str]) -> None:
        assert isinstance(vector_db, QdrantEdgeDB)
        operation = qe.UpdateOperation.delete_payload([memory_id], keys)
        await vector_db._run("strip", lambda shard: shard.update(operation))


async def test_second_store_on_same_folder_is_unavailable(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    async with QdrantEdgeDB(tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        other = QdrantEdgeDB(tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder)
        with pytest.raises(BackendUnavailableError, match="another process"):
            await other.setup()
    # Released on close: the folder opens again.
    async with QdrantEdgeDB(tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        pass


def test_second_process_gets_a_clear_error(tmp_path: Path) -> None:
    """A real second process opening a folder this process holds fails with a clear error."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from memora_engine.errors import BackendUnavailableError
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB
        async def main():
            try:
                await QdrantEdgeDB({str(tmp_path)!r}).setup()
            except BackendUnavailableError as exc:
                print("UNAVAILABLE", exc)
        asyncio.run(main())
        """
    )

    async def hold_and_probe() -> str:
        async with QdrantEdgeDB(tmp_path):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", script, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            out, err = await proc.communicate()
            assert proc.returncode == 0, err.decode()
            return out.decode()

    assert "UNAVAILABLE" in asyncio.run(hold_and_probe())


async def test_upsert_survives_a_killed_process(tmp_path: Path) -> None:
    """An upsert that returned is on disk even if the process dies without closing."""
    script = textwrap.dedent(
        f"""
        import asyncio, os
        from memora_engine.testing.vector_suite import make_memory
        from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB
        async def main():
            store = QdrantEdgeDB({str(tmp_path)!r})
            await store.upsert_memories([make_memory("Jake is allergic to peanuts",
                memory_id="0b6f3e0e-7c1d-4a59-9a44-2f6c1f0d8a11")])
            os._exit(0)  # no close, no flush at exit
        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    async with QdrantEdgeDB(tmp_path) as store:
        assert await store.count() == 1
        [hits] = await store.search_memories(["peanuts"], MemorySearchScope.USER, "org-a", "user-1")
        assert [m.memory_id for m, _ in hits] == ["0b6f3e0e-7c1d-4a59-9a44-2f6c1f0d8a11"]


async def test_dimension_change_is_a_configuration_error(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    async with QdrantEdgeDB(tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        pass
    folder = Path(__import__("os").environ["MEMORA_EMBEDDING_MODEL_DIR"])
    wrong = FastEmbedDenseEncoder(model_dir=folder, dim=768)
    store = QdrantEdgeDB(tmp_path, dense_encoder=wrong, sparse_encoder=sparse_encoder)
    with pytest.raises(ConfigurationError, match="384-dimensional"):
        await store.setup()
    # The failed open released the folder lock.
    async with QdrantEdgeDB(tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder):
        pass


async def test_search_does_not_stall_other_coroutines(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """Shard calls run on the store's thread: a ticker coroutine keeps running meanwhile."""
    async with QdrantEdgeDB(
        tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as store:
        await store.upsert_memories([make_memory(f"Jake fact number {i}") for i in range(50)])
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        # Distinct queries: each is embedded (the store reuses vectors of texts it has seen,
        # which would leave only the short shard call, during which Edge holds the GIL).
        results = await asyncio.gather(
            *(
                store.search_memories(
                    [f"Jake fact about topic {i}"], MemorySearchScope.USER, "org-a", "user-1"
                )
                for i in range(5)
            )
        )
        stop.set()
        await task
        assert all(len(r[0]) == 10 for r in results)
        assert ticks > 5


def test_close_from_another_loop_after_unflushed_writes(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check QdrantEdgeDB.close: the background flush scheduled by a write on one
    event loop (a sync portal) must not break a close awaited on another loop."""
    import uuid
    from datetime import datetime, timezone

    from memora_engine.schema.models import Memory
    from memora_engine.sync import EventLoopPortal

    store = QdrantEdgeDB(
        tmp_path / "edge", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    memory = Memory(
        org_id="org", user_id="u", agent_id="a", memory_id=str(uuid.uuid4()),
        memory="plays the oboe", obtained_at=datetime.now(timezone.utc),
    )  # fmt: skip
    portal = EventLoopPortal()
    try:
        portal.run(store.setup())
        portal.run(store.upsert_memories([memory]))
        asyncio.run(store.close())
    finally:
        portal.close()
    reopened = QdrantEdgeDB(
        tmp_path / "edge", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )

    async def check() -> set[str]:
        async with reopened:
            return await reopened.existing_ids([memory.memory_id])

    assert asyncio.run(check()) == {memory.memory_id}


async def test_store_of_an_earlier_version_gets_the_new_indexes(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """A folder made before the interaction / time indexes gets them when it is opened."""
    async with QdrantEdgeDB(
        tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as store:
        for key in ("interaction_id", "obtained_at"):
            operation = qe.UpdateOperation.delete_field_index(key)
            await store._run("drop", lambda shard, op=operation: shard.update(op))
        schema = await store._run("info", lambda shard: shard.info().payload_schema)
        assert "obtained_at" not in schema
    async with QdrantEdgeDB(
        tmp_path,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
        metadata_indexes={"project": "keyword"},
    ) as store:
        schema = await store._run("info", lambda shard: shard.info().payload_schema)
        assert {
            "org_id",
            "org_user_id",
            "agent_id",
            "interaction_id",
            "obtained_at",
            "metadata.project",
        } <= set(schema)


async def test_indexed_metadata_keys_filter_like_unindexed_ones(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """Keyword / float indexes on metadata keys change speed, never results."""
    rng = random.Random(5)
    memories = [
        make_memory(f"Jake talked about hiking on trip number {i}").model_copy(
            update={"metadata": random_metadata(rng)}
        )
        for i in range(40)
    ]
    specs = [random_filter(rng, T0) for _ in range(40)]
    for indexes in (
        None,
        {"topic": "keyword", "flag": "keyword", "tags": "keyword", "score": "float"},
    ):
        async with QdrantEdgeDB(
            tmp_path / str(bool(indexes)),
            dense_encoder=dense_encoder,
            sparse_encoder=sparse_encoder,
            metadata_indexes=indexes,  # type: ignore[arg-type]
        ) as store:
            await store.upsert_memories(memories)
            for spec in specs:
                tree = parse_filter(spec)
                [hits] = await store.search_memories(
                    ["Jake hiking"],
                    MemorySearchScope.USER,
                    "org-a",
                    "user-1",
                    limit=40,
                    filter=tree,
                )
                wanted = {m.memory_id for m in memories if matches(tree, memory_record(m))}
                assert {m.memory_id for m, _ in hits} == wanted, spec


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "memora-edge-prefetch"]


async def test_reopen_prefetches_the_folder_in_the_background(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    folder = tmp_path / "edge"
    async with QdrantEdgeDB(
        folder, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as s:
        await s.upsert_memories([make_memory(f"fact {i}") for i in range(20)])
        assert not _prefetch_threads()  # a new store has nothing to read back
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    # What the background thread does: every byte of the folder is asked for, once.
    assert prefetch_folder(folder) == on_disk > 0
    stopped = threading.Event()
    stopped.set()
    assert prefetch_folder(folder, stopped) == 0

    async with QdrantEdgeDB(
        folder, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as s:
        threads = _prefetch_threads()
        assert len(threads) <= 1  # may already be done on a small store
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
        [hits] = await s.search_memories(["fact 3"], MemorySearchScope.USER, "org-a", "user-1")
        assert any(m.memory == "fact 3" for m, _ in hits)

    store = QdrantEdgeDB(
        folder, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder, prefetch=False
    )
    async with store:
        assert not _prefetch_threads()
        assert await store.count("org-a") == 20


def test_prefetch_must_be_a_bool(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="prefetch must be a bool"):
        QdrantEdgeDB(tmp_path, prefetch="yes")  # type: ignore[arg-type]


async def test_short_calls_run_inline_unless_the_shard_is_busy(
    tmp_path: Path,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A one-query search runs on the caller's thread when the shard is idle, and waits for
    the worker when another call is inside the shard (never two calls in it at once)."""
    from memora_engine.vector_db import _edge_requests, qdrant_edge

    threads: list[str] = []
    real_query_batch = _edge_requests.query_batch

    def recording_query_batch(*args: object) -> object:
        threads.append(threading.current_thread().name)
        return real_query_batch(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(qdrant_edge, "query_batch", recording_query_batch)
    async with QdrantEdgeDB(
        tmp_path, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as s:
        await s.upsert_memories([make_memory(f"Jake fact number {i}") for i in range(12)])
        search = s.search_memories(["Jake fact"], MemorySearchScope.USER, "org-a", "user-1")
        [idle] = await search
        assert threads == [threading.current_thread().name]

        release = threading.Event()
        held = threading.Event()

        def busy_worker_call() -> None:  # stands for a long call (flush, optimize) on the shard
            with s._shard_lock:
                held.set()
                release.wait(10)

        holder = threading.Thread(target=busy_worker_call)
        holder.start()
        held.wait(10)
        pending = asyncio.ensure_future(
            s.search_memories(["Jake fact"], MemorySearchScope.USER, "org-a", "user-1")
        )
        await asyncio.sleep(0.2)
        assert not pending.done()  # waiting for the shard, on the worker
        release.set()
        [busy] = await pending
        holder.join()
        assert threads[-1].startswith("memora-edge")
        assert [m.memory_id for m, _ in busy] == [m.memory_id for m, _ in idle]
