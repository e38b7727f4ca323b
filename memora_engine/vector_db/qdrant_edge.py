"""``QdrantEdgeDB``: the embedded default vector store, on Qdrant Edge (``qdrant-edge-py``).

Qdrant Edge is Qdrant's engine as a library: one shard in a local folder, no server. Its API is
synchronous; one lock serializes the shard calls. Long calls (flush, optimize, big batches) run
on a worker thread owned by the store. Short ones (a search of a few queries, a write of a few
points, a count) run on the calling thread when no other call is inside the shard, else on the
worker: measured with qdrant-edge-py 0.9, a call holds the GIL for most of its run (another
Python thread ran at about a third of its speed meanwhile), so the event loop barely gains from
the hand-off, while each hand-off costs two thread switches (milliseconds on a busy machine,
bench/engine.py --busy). Calls are kept short (writes go in chunks, the slow ``optimize`` is
never run implicitly) so a stall of the loop stays at a few ms.

Durability: an update returns once it is in the shard's write-ahead log, a file the kernel
holds; it survives a SIGKILL of the process without ``flush()`` (checked by the crash suite,
``tests/reliability``). ``flush()`` (msync + fsync of every segment, tens to hundreds of ms on
a busy disk) runs in the background a few seconds after a write and on :meth:`close`, not per
write. A power loss or OS crash can lose the last unflushed writes; the store notices on the
next open (an "open" marker naming the kernel's boot id survives, with another boot id) and
sets :attr:`may_have_lost_writes`, so ``Memora`` re-indexes from the graph before serving.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import qdrant_edge as qe

from memora_engine.embeddings.base import DenseEncoder, SparseEncoder
from memora_engine.errors import (
    BackendError,
    BackendUnavailableError,
    ConfigurationError,
    MemoraError,
    UsageError,
)
from memora_engine.filters import FilterNode
from memora_engine.schema.models import Memory
from memora_engine.vector_db._common import (
    DENSE_VECTOR,
    SPARSE_VECTOR,
    MetadataIndexType,
    build_payload,
    check_dense_dim,
    count_conditions,
    memory_from_payload,
    metadata_index_plan,
    plan_search,
    scope_conditions,
    validate_memories,
    validate_memory_ids,
    validate_queries,
)
from memora_engine.vector_db._edge_files import (
    FolderLock,
    prefetch_folder,
    stored_dense_dim,
    write_marker,
    writes_may_be_lost,
)
from memora_engine.vector_db._edge_requests import (
    create_indexes,
    query_batch,
    sparse_vector,
    tenant_filter,
    to_filter,
    updater,
)
from memora_engine.vector_db._encoding import (
    EncoderOwner,
    encode_documents,
    encode_queries,
)
from memora_engine.vector_db.base import BaseVectorDB, MemorySearchScope, ScoredMemory
from memora_engine.vector_db.config import HYBRID_DEFAULT, HybridSearchConfig

__all__ = ["QdrantEdgeDB"]

T = TypeVar("T")

#: Points per shard update call (keeps each GIL-holding call to a few milliseconds).
_UPSERT_CHUNK = 128
#: Up to this many points (or queries), a shard call runs on the calling thread when the shard
#: is idle: it holds the GIL either way, and skipping the worker saves two thread switches,
#: which cost milliseconds each on a busy machine (bench/engine.py --busy).
_INLINE_MAX = 8
#: Lock file inside the store's folder, held while a store is open.
LOCK_FILE = ".memora.lock"
#: Marker written on open (with the kernel's boot id) and removed by a clean close.
OPEN_MARKER = ".memora.open"
#: Seconds between a write and the background flush that makes it power-loss safe.
FLUSH_DELAY_S = 5.0
_CONFIG_FILE = "edge_config.json"


class QdrantEdgeDB(EncoderOwner, BaseVectorDB):
    """Embedded hybrid memory search on Qdrant Edge: no server, data in one folder.

    Same behaviour as ``QdrantDB`` (named dense + BM25 sparse vectors with IDF, tenant keyword
    indexes, RRF fusion in one request per batch). One process at a time may open a folder: a
    second one gets :class:`~memora_engine.errors.BackendUnavailableError` (an OS lock on
    ``.memora.lock`` in the folder, released on :meth:`close`). A write returns once it is in
    the write-ahead log (it survives a process crash); flushes run in the background and on
    :meth:`close` (see the module docstring for power loss).

    Args:
        path: The store's folder (created if missing).
        dense_encoder: Dense encoder (default: :func:`default_dense_encoder`).
        sparse_encoder: Sparse encoder (default: BM25).
        search_config: Search settings (default: ``HYBRID_DEFAULT``).
        metadata_indexes: Payload indexes on metadata keys, ``{"project": "keyword"}``
            (strings, booleans) or ``"float"`` (numbers). Filters work on every key without
            one; an index keeps a filtered search about as fast as an unfiltered one on large
            stores (bench/filtered_search.py). Added to an existing store on open.
        context_indexing: Compute the BM25 vector of a memory that has an index text (a raw
            turn: the date, the previous message and the turn, see
            :mod:`memora_engine.indexing`) from that text; the dense vector and the payload
            stay the memory. ``False``: from the memory text alone.
        prefetch: On opening an existing store, ask the kernel (in the background) to read
            its files into the page cache, so the first searches after a restart do not
            fault the index in from disk page by page. ``False`` for one-shot processes on
            very large stores.

    Examples:
        >>> async with QdrantEdgeDB("./memora-data/vectors") as store:  # doctest: +SKIP
        ...     await store.upsert_memories(memories)
        ...     [hits] = await store.search_memories(["allergies"], MemorySearchScope.USER,
        ...                                          "org1", "user1")
    """

    def __init__(
        self,
        path: str | Path,
        *,
        dense_encoder: DenseEncoder | None = None,
        sparse_encoder: SparseEncoder | None = None,
        search_config: HybridSearchConfig | None = None,
        metadata_indexes: Mapping[str, MetadataIndexType] | None = None,
        context_indexing: bool = True,
        prefetch: bool = True,
    ) -> None:
        if not isinstance(context_indexing, bool):
            raise ConfigurationError("context_indexing must be a bool.")
        if not isinstance(prefetch, bool):
            raise ConfigurationError("prefetch must be a bool.")
        self.prefetch = prefetch
        self._prefetch_stop = threading.Event()
        self.context_indexing = context_indexing
        self.path = Path(path).expanduser()
        self._metadata_indexes = metadata_index_plan(metadata_indexes)
        self._dense = dense_encoder
        self._sparse = sparse_encoder
        self.search_config = search_config or HYBRID_DEFAULT
        self._shard: qe.EdgeShard | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = FolderLock(self.path / LOCK_FILE)
        #: Held by whichever thread is inside a shard call (the worker, or a caller inline).
        self._shard_lock = threading.Lock()
        self._setup_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._dirty = False
        #: True after opening a store whose last session ended in a power loss / OS crash.
        self.may_have_lost_writes = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def setup(self) -> None:
        async with self._setup_lock:
            if self._shard is not None:
                return
            dim = await self.dense_encoder.aget_dim()
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memora-edge")
            try:
                loop = asyncio.get_running_loop()
                self._shard = await loop.run_in_executor(executor, self._open, dim)
            except BaseException:
                executor.shutdown(wait=False)
                raise
            self._executor = executor

    def _open(self, dim: int) -> qe.EdgeShard:
        """Lock the folder, then load or create the shard (worker thread)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except OSError as exc:
            raise BackendUnavailableError(
                f"Vector store folder {self.path} is open in another process (or not "
                "writable); close the other Memora instance, or use a Qdrant server for "
                "shared access."
            ) from exc
        try:
            marker = self.path / OPEN_MARKER
            if (self.path / _CONFIG_FILE).exists():
                stored = stored_dense_dim(self.path)
                if stored is not None:
                    check_dense_dim(stored, dim, f"Vector store {self.path}")
                self.may_have_lost_writes = writes_may_be_lost(marker)
                shard = self._call_edge("open", lambda: qe.EdgeShard.load(str(self.path)))
                self._call_edge(
                    "index",
                    lambda: create_indexes(shard, self._metadata_indexes, only_missing=True),
                )
                if self.prefetch:
                    self._prefetch_stop.clear()
                    threading.Thread(
                        target=prefetch_folder,
                        args=(self.path, self._prefetch_stop),
                        name="memora-edge-prefetch",
                        daemon=True,
                    ).start()
            else:
                shard = self._call_edge("create", lambda: self._create(dim))
            write_marker(marker)
            return shard
        except BaseException:
            self._lock.release()
            raise

    def _create(self, dim: int) -> qe.EdgeShard:
        needs_idf = self.sparse_encoder.needs_idf
        config = qe.EdgeConfig(
            vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={
                SPARSE_VECTOR: qe.EdgeSparseVectorParams(
                    modifier=qe.Modifier.Idf if needs_idf else None
                )
            },
        )
        shard = qe.EdgeShard.create(str(self.path), config)
        create_indexes(shard, self._metadata_indexes)
        shard.flush()
        return shard

    async def close(self) -> None:
        self._prefetch_stop.set()
        flush_task, self._flush_task = self._flush_task, None
        if flush_task is not None and not flush_task.done():
            # The shard is flushed below; the pending background flush is no longer needed.
            owner = flush_task.get_loop()
            if owner is asyncio.get_running_loop():
                flush_task.cancel()
                await asyncio.gather(flush_task, return_exceptions=True)
            elif not owner.is_closed():  # scheduled from another loop (e.g. a sync portal)
                owner.call_soon_threadsafe(flush_task.cancel)
        shard, executor = self._shard, self._executor
        self._shard, self._executor = None, None
        if executor is None:
            return
        try:
            if shard is not None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(executor, self._close_shard, shard)
        finally:
            executor.shutdown(wait=True)

    def _close_shard(self, shard: qe.EdgeShard) -> None:
        try:
            with self._shard_lock:
                shard.flush()
                shard.close()
            (self.path / OPEN_MARKER).unlink(missing_ok=True)
        finally:
            self._lock.release()

    async def flush(self) -> None:
        """Force every write so far to disk now (power-loss safe); a no-op if nothing changed."""
        if self._dirty and self._shard is not None:
            self._dirty = False
            await self._run("flush", lambda shard: shard.flush())

    def _written(self) -> None:
        """Note an unflushed write and make sure a background flush is scheduled."""
        self._dirty = True
        loop = asyncio.get_running_loop()
        task = self._flush_task
        if task is None or task.done() or task.get_loop() is not loop:
            self._flush_task = loop.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_S)
        try:
            await self.flush()
        except MemoraError:
            self._dirty = True  # closed meanwhile (close flushes) or a transient failure

    async def optimize(self) -> bool:
        """Build the shard's indexes now (CPU-heavy; holds the GIL for its whole run).

        Searches are correct without it; run it in maintenance windows of large stores.
        Returns whether anything was optimized.
        """
        return await self._run("optimize", lambda shard: shard.optimize())

    # -- shard access ------------------------------------------------------------------------

    @staticmethod
    def _call_edge(action: str, fn: Callable[[], T]) -> T:
        """Run one Qdrant Edge call, translating its errors (worker thread)."""
        try:
            return fn()
        except MemoraError:
            raise
        except Exception as exc:  # qdrant-edge raises plain Exception("Service runtime error")
            message = str(exc)
            if "WouldBlock" in message or "lock" in message.lower():
                raise BackendUnavailableError(f"Qdrant Edge {action} failed: {message}") from exc
            raise BackendError(f"Qdrant Edge {action} failed: {message}") from exc

    def _call_locked(self, action: str, fn: Callable[[], T]) -> T:
        """Run one Qdrant Edge call holding the shard lock (worker thread)."""
        with self._shard_lock:
            return self._call_edge(action, fn)

    async def _run(
        self, action: str, fn: Callable[[qe.EdgeShard], T], *, inline: bool = False
    ) -> T:
        """Run ``fn(shard)`` on the store's worker thread (setting up first if needed); with
        ``inline``, on this thread instead when no other call is inside the shard (a short
        call: Edge holds the GIL while it runs, so the event loop waits the same either way)."""
        if self._shard is None:
            await self.setup()
        shard, executor = self._shard, self._executor
        if shard is None or executor is None:
            raise UsageError("The vector store was closed while this call was starting.")
        if inline and self._shard_lock.acquire(blocking=False):
            try:
                return self._call_edge(action, lambda: fn(shard))
            finally:
                self._shard_lock.release()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._call_locked, action, lambda: fn(shard))

    # -- writes ------------------------------------------------------------------------------

    async def upsert_memories(self, memories: Sequence[Memory]) -> None:
        checked = validate_memories(memories)
        if not checked:
            return
        if self._shard is None:
            await self.setup()
        for start in range(0, len(checked), _UPSERT_CHUNK * 2):
            chunk = checked[start : start + _UPSERT_CHUNK * 2]
            dense, sparse = await encode_documents(
                [m.memory for m in chunk],
                self.dense_encoder,
                self.sparse_encoder,
                self.recent_vectors,
                sparse_texts=self.sparse_texts(chunk),
            )
            points = [
                qe.Point(
                    memory.memory_id,
                    {DENSE_VECTOR: d, SPARSE_VECTOR: sparse_vector(s)},
                    build_payload(memory),
                )
                for memory, d, s in zip(chunk, dense, sparse, strict=True)
            ]
            for at in range(0, len(points), _UPSERT_CHUNK):
                part = points[at : at + _UPSERT_CHUNK]
                operation = qe.UpdateOperation.upsert_points(part)
                await self._run("upsert", updater(operation), inline=len(part) <= _INLINE_MAX)
        self._written()

    async def delete_memories(self, memory_ids: Sequence[str]) -> None:
        ids = validate_memory_ids(memory_ids)
        if not ids:
            return
        operation = qe.UpdateOperation.delete_points(list(ids))
        await self._write("delete", operation, inline=len(ids) <= _INLINE_MAX)

    async def _write(
        self, action: str, operation: qe.UpdateOperation, *, inline: bool = False
    ) -> None:
        await self._run(action, updater(operation), inline=inline)
        self._written()

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        flt = tenant_filter(count_conditions(org_id, user_id))
        await self._write("delete", qe.UpdateOperation.delete_points_by_filter(flt))

    async def delete_all_organization_memories(self, org_id: str) -> None:
        flt = tenant_filter(count_conditions(org_id, None))
        await self._write("delete", qe.UpdateOperation.delete_points_by_filter(flt))

    # -- reads -------------------------------------------------------------------------------

    async def search_memories(
        self,
        queries: Sequence[str],
        memory_search_scope: MemorySearchScope,
        org_id: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        *,
        limit: int | None = None,
        filter: FilterNode | None = None,
    ) -> list[list[ScoredMemory]]:
        texts = validate_queries(queries)
        conditions = scope_conditions(memory_search_scope, org_id, user_id, agent_id)
        plan = plan_search(self.search_config, limit, conditions, filter)
        if self._shard is None:
            await self.setup()
        # The query is embedded on the encoder's thread, not on the shard's worker: embedding
        # on the worker saves one hand-off but holds the GIL long enough to stall the event
        # loop (tests/test_vector_qdrant_edge.py::test_search_does_not_stall_other_coroutines).
        encoded = await encode_queries(
            texts, plan, self.dense_encoder, self.sparse_encoder, self.recent_vectors
        )
        active, responses = await self._run(
            "search", partial(query_batch, plan, encoded), inline=len(texts) <= _INLINE_MAX
        )
        results: list[list[ScoredMemory]] = [[] for _ in texts]
        for i, points in zip(active, responses, strict=True):
            results[i] = [
                (memory_from_payload(point.id, point.payload), float(point.score))
                for point in points
            ]
        return results

    async def count(self, org_id: str | None = None, user_id: str | None = None) -> int:
        request = qe.CountRequest(exact=True, filter=to_filter(count_conditions(org_id, user_id)))
        return await self._run("count", lambda shard: shard.count(request), inline=True)

    async def existing_ids(self, memory_ids: Sequence[str]) -> set[str]:
        ids = validate_memory_ids(memory_ids)
        if not ids:
            return set()
        records = await self._run(
            "retrieve",
            lambda shard: shard.retrieve(list(ids), with_payload=False, with_vector=False),
            inline=len(ids) <= _INLINE_MAX,
        )
        return {str(record.id) for record in records}
