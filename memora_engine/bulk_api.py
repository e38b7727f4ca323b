"""Bulk work: rebuild the vector index, restore many interactions at once (import / backups).

The part of :class:`~memora_engine.Memora`'s API that moves many memories: each batch is one
encoder call and one batched index write, and the graph commits follow in order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memora_engine.coordinator import ProgressCallback, StoreCoordinator
from memora_engine.errors import InvalidInputError
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments
from memora_engine.keyed_locks import KeyedLocks
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["BulkOperations", "RestoreItem"]


@dataclass(frozen=True)
class RestoreItem:
    """One interaction to restore exactly (see :meth:`BulkOperations.restore_interactions`).

    Attributes:
        org_id / user_id / agent_id: The owners.
        record: Messages and memories, written as given (preset ids, times, stored text).
        interaction_id: The id to create (``None``: a new one), or the one to update.
        update: Apply the message diff to the existing ``interaction_id`` and add the memories.
    """

    org_id: str
    user_id: str
    agent_id: str
    record: MemoriesAndInteraction
    interaction_id: str | None = None
    update: bool = False


class BulkOperations:
    """Reindex and batched restore. The base of :class:`~memora_engine.Memora`.

    Examples:
        >>> await memora.reindex(batch_size=256, progress=lambda done, total: None)
        42
        >>> await memora.restore_interactions([RestoreItem(org_id, user_id, agent_id, record)])
        [('a1b2c3', datetime.datetime(...))]
    """

    graph_db: BaseGraphDB
    vector_db: BaseVectorDB
    _stores: StoreCoordinator
    _interaction_locks: KeyedLocks

    @checked_arguments
    async def reindex(
        self,
        *,
        org_id: str | None = None,
        batch_size: int = 256,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Rebuild the vector index from the graph store (all organizations, or one).

        Per organization, its points are deleted (stray points go too), then every memory is
        re-embedded and indexed in batches of ``batch_size`` (one encoder call and one index
        write per batch). Searches of an organization miss memories while it is reindexed.
        ``progress(done, total)`` is called after each batch.

        Returns:
            The number of memories indexed.
        """
        orgs = (
            [(await self.graph_db.get_organization(org_id)).org_id]
            if org_id is not None
            else [org.org_id for org in await self.graph_db.get_all_organizations()]
        )
        total = await self.graph_db.count_memories(org_id=org_id)
        done = 0
        for oid in orgs:
            before = done

            def report(count: int, _: int, before: int = before) -> None:
                if progress is not None:
                    progress(before + count, max(total, before + count))

            await self.vector_db.delete_all_organization_memories(oid)
            done += await self._stores.reindex(org_id=oid, batch_size=batch_size, progress=report)
        await self.vector_db.flush()
        return done

    @checked_arguments
    async def restore_interactions(
        self, items: Sequence[RestoreItem]
    ) -> list[tuple[str, datetime]]:
        """Restore many interactions exactly as given (no model), batched: for import.

        Every item is checked first (nothing is written if one is refused), then the memories
        of all items are embedded and indexed in one batch, then the interactions are committed
        in order (so an item may supersede a memory an earlier item restores).

        Returns:
            ``(interaction_id, interaction_date)`` per item, in order.

        Raises:
            ConflictError / NotFoundError: as :meth:`restore_interaction`; when a commit fails,
                the items before it are committed and the error is raised after the rest.
        """
        if isinstance(items, str | bytes) or not isinstance(items, Sequence):
            raise InvalidInputError("restore_interactions needs a list of RestoreItem.")
        if not all(isinstance(item, RestoreItem) for item in items):
            raise InvalidInputError("restore_interactions needs a list of RestoreItem.")
        for item in items:
            if item.update and item.interaction_id is None:
                raise InvalidInputError("A RestoreItem with update=True needs interaction_id.")
        keys = sorted(
            {(i.org_id, i.user_id, i.interaction_id) for i in items if i.update},
            key=lambda key: tuple(str(part) for part in key),
        )
        async with contextlib.AsyncExitStack() as stack:
            for key in keys:
                await stack.enter_async_context(self._interaction_locks.hold(key))
            writes = []
            for item in items:
                write = await self.graph_db.prepare_interaction_write(
                    item.org_id, item.agent_id, item.user_id, item.record,
                    interaction_id=item.interaction_id, new=not item.update,
                )  # fmt: skip
                writes.append(write)
            await self._stores.commit_many(writes)
        return [(w.interaction_id, w.date) for w in writes]
