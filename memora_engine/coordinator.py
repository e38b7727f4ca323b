"""``StoreCoordinator``: the one place that keeps the vector index in step with the graph store.

The graph store is the truth and never sees the index. The protocol:

* **Write** (save / update / restore): the graph checks the write and resolves the new
  memories' names (:meth:`~memora_engine.graph_db.base.BaseGraphDB.prepare_interaction_write`),
  the coordinator indexes them, then the graph commits in one transaction. If the commit
  fails, the new points are deleted again. A crash between the two leaves only *stray* points
  (in the index, not in the graph), which no search returns (every hit is resolved through the
  graph) and recovery removes.
* **Delete** (memory, interaction, all of a user's memories or interactions, user,
  organization): the graph commits first and reports the memory ids it deleted (cascades
  included); then their points are deleted. A crash in between again leaves only strays.
* **Recovery** (:func:`memora_engine.recovery.recover_vector_index`): re-index graph memories
  whose points are missing, delete known strays.
* **Reindex** (:meth:`StoreCoordinator.reindex`): re-embed every memory in batches.

An upsert returns once the points are in the vector store's write-ahead log, which survives a
process crash (see the README's "Guarantees" for power loss).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from memora_engine.errors import InvalidInputError
from memora_engine.filters import Metadata
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.graph_db.hooks import Deleted, InteractionWrite
from memora_engine.recovery import indexed_form
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["ProgressCallback", "StoreCoordinator", "WriteResult"]

T = TypeVar("T")

#: ``progress(done, total)`` after each batch of a reindex or import.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class WriteResult:
    """What one coordinated write stored.

    Attributes:
        write: The committed write (ids, date, messages).
        memories: The memories written, as indexed (names resolved).
    """

    write: InteractionWrite
    memories: tuple[Memory, ...]


class StoreCoordinator:
    """Writes and deletes across the graph store and its vector index (see module docstring).

    It does not own the stores: :class:`~memora_engine.Memora` opens and closes them.

    Examples:
        >>> stores = StoreCoordinator(graph_db, vector_db)  # doctest: +SKIP
        >>> await stores.delete_memory(org_id, user_id, memory_id)  # doctest: +SKIP
        True
    """

    def __init__(self, graph_db: BaseGraphDB, vector_db: BaseVectorDB) -> None:
        self.graph_db = graph_db
        self.vector_db = vector_db

    # ------------------------------------------------------------------ writes
    async def write_interaction(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        record: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
        new: bool = True,
    ) -> WriteResult:
        """Save (``new``) or update an interaction with its memories: index, then commit.

        Raises:
            Whatever the graph's checks or commit raise; nothing stays searchable then.
        """
        write = await self.graph_db.prepare_interaction_write(
            org_id, agent_id, user_id, record, interaction_id=interaction_id, new=new
        )
        memories = await self.commit(write)
        return WriteResult(write, memories)

    async def commit(self, write: InteractionWrite) -> tuple[Memory, ...]:
        """Index a prepared write's memories, then commit it; undo the index if it fails."""
        if not write.memories:
            return await self.graph_db.commit_interaction_write(write)
        await self.vector_db.upsert_memories(write.memories)
        return await self._commit_or_undo(write)

    async def commit_many(self, writes: list[InteractionWrite]) -> list[tuple[Memory, ...]]:
        """Index the memories of many prepared writes in one batch, then commit each.

        A write whose commit fails has its points deleted and its error raised after the others
        are committed (the first error wins).
        """
        memories = [m for write in writes for m in write.memories]
        if memories:
            await self.vector_db.upsert_memories(memories)
        results: list[tuple[Memory, ...]] = []
        first_error: BaseException | None = None
        for write in writes:
            try:
                results.append(await self._commit_or_undo(write))
            except Exception as exc:
                first_error = first_error or exc
                results.append(())
        if first_error is not None:
            raise first_error
        return results

    async def _commit_or_undo(self, write: InteractionWrite) -> tuple[Memory, ...]:
        ids = [m.memory_id for m in write.memories]
        pending = asyncio.ensure_future(self.graph_db.commit_interaction_write(write))
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            # The transaction may already run on its worker; let it finish so the index matches
            # what the graph holds, then deliver the cancellation.
            if not await _settled_ok(pending) and ids:
                await _best_effort(self.vector_db.delete_memories(ids))
            raise
        except BaseException:
            if ids:
                await _best_effort(self.vector_db.delete_memories(ids))
            raise

    async def update_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Metadata
    ) -> Memory:
        """Replace one memory's metadata: index first, then the graph; the old payload is put
        back if the graph refuses. Returns the memory as the graph now holds it.

        Raises:
            MemoryNotFoundError: no such memory for this user (nothing written).
        """
        stored = await self.graph_db.get_user_memory(org_id, user_id, memory_id)
        before = await indexed_form(self.graph_db, stored)
        await self.vector_db.upsert_memories([before.model_copy(update={"metadata": metadata})])
        try:
            return await self.graph_db.update_user_memory_metadata(
                org_id, user_id, memory_id, metadata
            )
        except BaseException:
            await _best_effort(self.vector_db.upsert_memories([before]))
            raise

    # ------------------------------------------------------------------ deletes
    async def _unindex(self, deleted: Deleted) -> Deleted:
        if deleted.memory_ids:
            await self.vector_db.delete_memories(list(deleted.memory_ids))
        return deleted

    async def delete_memory(self, org_id: str, user_id: str, memory_id: str) -> bool:
        """Delete one memory and its point; whether it existed."""
        deleted = await self.graph_db.delete_user_memory(org_id, user_id, memory_id)
        return (await self._unindex(deleted)).found

    async def delete_memories(self, org_id: str, user_id: str, memory_ids: list[str]) -> int:
        """Delete some memories of one user (one graph transaction) and their points; how many
        existed."""
        deleted = await self.graph_db.delete_user_memories(org_id, user_id, memory_ids)
        return len((await self._unindex(deleted)).memory_ids)

    async def delete_all_memories(self, org_id: str, user_id: str) -> int:
        """Delete every memory of the user and their points; how many were deleted."""
        deleted = await self.graph_db.delete_all_user_memories(org_id, user_id)
        # By tenant too: also removes strays a crash may have left for this user.
        await self.vector_db.delete_all_user_memories(org_id, user_id)
        return len(deleted.memory_ids)

    async def delete_interaction(self, org_id: str, user_id: str, interaction_id: str) -> bool:
        """Delete one interaction, its memories and their points; whether it existed."""
        deleted = await self.graph_db.delete_user_interaction_and_its_memories(
            org_id, user_id, interaction_id
        )
        return (await self._unindex(deleted)).found

    async def delete_all_interactions(self, org_id: str, user_id: str) -> int:
        """Delete every interaction of the user with their memories and points; how many
        memories were deleted."""
        deleted = await self.graph_db.delete_all_user_interactions_and_their_memories(
            org_id, user_id
        )
        # Every memory comes from an interaction, so all of the user's points go.
        await self.vector_db.delete_all_user_memories(org_id, user_id)
        return len(deleted.memory_ids)

    async def delete_user(self, org_id: str, user_id: str) -> bool:
        """Delete a user with everything below it and their points; whether it existed."""
        deleted = await self.graph_db.delete_user(org_id, user_id)
        await self.vector_db.delete_all_user_memories(org_id, user_id)
        return deleted.found

    async def delete_organization(self, org_id: str) -> bool:
        """Delete an organization with everything below it and its points; whether it existed."""
        deleted = await self.graph_db.delete_organization(org_id)
        await self.vector_db.delete_all_organization_memories(org_id)
        return deleted.found

    # ------------------------------------------------------------------ bulk
    async def reindex(
        self,
        *,
        org_id: str | None = None,
        batch_size: int = 256,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Re-embed and upsert every graph memory (of one organization or all) in batches.

        Each batch is one encoder call and one batched write; the next page is read from the
        graph while the current one is embedded. Idempotent; stray points are left (they are
        invisible; recovery removes known ones).

        Returns:
            The number of memories indexed.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInputError("batch_size must be an int >= 1.")
        batch_size = min(batch_size, 10_000)
        total = await self.graph_db.count_memories(org_id=org_id)
        done = 0
        if progress is not None:
            progress(0, total)
        page = await self.graph_db.list_memories_for_indexing(org_id=org_id, limit=batch_size)
        while page:
            following: asyncio.Task[list[Memory]] | None = None
            if len(page) == batch_size:
                following = asyncio.ensure_future(
                    self.graph_db.list_memories_for_indexing(
                        org_id=org_id, after_memory_id=page[-1].memory_id, limit=batch_size
                    )
                )
            try:
                await self.vector_db.upsert_memories(page)
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            done += len(page)
            if progress is not None:
                progress(done, max(total, done))
            page = await following if following is not None else []
        return done


async def _settled_ok(task: asyncio.Future[Any]) -> bool:
    """Wait for ``task`` despite cancellation of the waiter; whether it succeeded."""
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            continue
        except BaseException:
            return False
    return not task.cancelled() and task.exception() is None


async def _best_effort(undo: Awaitable[None]) -> None:
    """Run a compensating action; its failure must not mask the original error."""
    try:
        await undo
    except Exception:
        return
