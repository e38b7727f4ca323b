"""Interactions and memories: the read / delete / restore part of :class:`~memora_engine.Memora`.

Reads return names resolved unless ``resolve_names=False`` (text exactly as stored, for
backups). Deletes cascade to the vector index through the engine and return what they
deleted, so callers can report "not found". :meth:`RecordManagement.restore_interaction` writes
an interaction and its memories exactly as given (preset ids and times; no model): the path
that import / restore uses.
"""

from __future__ import annotations

from datetime import datetime

from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import InvalidInputError
from memora_engine.filters import MetadataFilter, parse_optional_filter
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments
from memora_engine.keyed_locks import KeyedLocks
from memora_engine.schema.models import Interaction, Memory, MessageBlock
from memora_engine.schema.storage import MemoriesAndInteraction

__all__ = ["RecordManagement"]

_PAGE = 1000


class RecordManagement:
    """Get, list, delete and restore interactions and memories; memory history.

    The base of :class:`~memora_engine.Memora`; see there for construction.

    Examples:
        >>> memories = await memora.list_memories(org_id, user_id)  # current versions
        >>> chain = await memora.get_memory_history(org_id, user_id, memories[0].memory_id)
        >>> await memora.delete_memory(org_id, user_id, memories[0].memory_id)
        True
    """

    graph_db: BaseGraphDB
    _interaction_locks: KeyedLocks
    _stores: StoreCoordinator

    # ------------------------------------------------------------------ interactions
    @checked_arguments
    async def get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        *,
        with_messages: bool = True,
        with_memories: bool = True,
        resolve_names: bool = True,
    ) -> Interaction:
        """One interaction with its messages and the memories it produced.

        Raises:
            InteractionNotFoundError: no such interaction for this user.
        """
        return await self.graph_db.get_interaction(
            org_id,
            user_id,
            interaction_id,
            with_messages,
            with_memories,
            resolve_names=resolve_names,
        )

    @checked_arguments
    async def list_interactions(
        self,
        org_id: str,
        user_id: str,
        *,
        with_messages: bool = True,
        with_memories: bool = True,
        skip: int = 0,
        limit: int = 100,
        resolve_names: bool = True,
    ) -> list[Interaction]:
        """A user's interactions, most recently updated first, paginated."""
        return await self.graph_db.get_all_user_interactions(
            org_id,
            user_id,
            with_messages,
            with_memories,
            skip,
            limit,
            resolve_names=resolve_names,
        )

    @checked_arguments
    async def delete_interaction(self, org_id: str, user_id: str, interaction_id: str) -> bool:
        """Delete one interaction, its messages and the memories it produced (vectors too).

        Returns:
            ``False`` when there was no such interaction.
        """
        return await self._stores.delete_interaction(org_id, user_id, interaction_id)

    @checked_arguments
    async def delete_all_interactions(self, org_id: str, user_id: str) -> None:
        """Delete every interaction of the user with their memories; the user stays."""
        await self._stores.delete_all_interactions(org_id, user_id)

    @checked_arguments
    async def restore_interaction(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        record: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
        update: bool = False,
    ) -> tuple[str, datetime]:
        """Write an interaction and its memories exactly as given (no model): for restores.

        Memories keep their preset ids, times and stored text (placeholders included);
        ``contrary_memories`` link to the versions they replace. ``update=True`` applies the
        message diff to the existing interaction ``interaction_id`` and adds the memories.

        Returns:
            ``(interaction_id, interaction_date)``.

        Raises:
            ConflictError: a new interaction's id (or a preset memory id) already exists.
            InteractionNotFoundError: ``update=True`` and no such interaction.
        """
        if update:
            if interaction_id is None:
                raise InvalidInputError("restore_interaction(update=True) needs interaction_id.")
            async with self._interaction_locks.hold((org_id, user_id, interaction_id)):
                done = await self._stores.write_interaction(
                    org_id, agent_id, user_id, record, interaction_id=interaction_id, new=False
                )
        else:
            done = await self._stores.write_interaction(
                org_id, agent_id, user_id, record, interaction_id=interaction_id
            )
        return done.write.interaction_id, done.write.date

    # ------------------------------------------------------------------ memories
    @checked_arguments
    async def get_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """One memory version (not history-resolved), with its message sources.

        Raises:
            MemoryNotFoundError: no such memory for this user.
        """
        return await self.graph_db.get_user_memory(
            org_id, user_id, memory_id, resolve_names=resolve_names
        )

    @checked_arguments
    async def list_memories(
        self,
        org_id: str,
        user_id: str,
        *,
        agent_id: str | None = None,
        include_history: bool = False,
        skip: int = 0,
        limit: int = 1000,
        resolve_names: bool = True,
        filter: MetadataFilter | None = None,
    ) -> list[Memory]:
        """A user's memories, newest first, paginated.

        By default only current versions (the newest of each history chain);
        ``include_history=True`` returns every version, superseded ones included. ``filter``
        keeps the memories matching it (README, "Metadata and filters").

        Examples:
            >>> await memora.list_memories(org_id, user_id, filter={"topic": {"$in": ["food"]}})
        """
        wanted = parse_optional_filter(filter)
        if include_history:
            return await self.graph_db.get_all_user_memories(
                org_id, user_id, agent_id, skip, limit, resolve_names=resolve_names, filter=wanted
            )
        superseded = {old for old, _ in await self.graph_db.get_user_memory_links(org_id, user_id)}
        current: list[Memory] = []
        offset = 0
        while len(current) < skip + limit:
            page = await self.graph_db.get_all_user_memories(
                org_id, user_id, agent_id, offset, _PAGE, resolve_names=resolve_names, filter=wanted
            )
            current.extend(m for m in page if m.memory_id not in superseded)
            if len(page) < _PAGE:
                break
            offset += _PAGE
        return current[skip : skip + limit]

    @checked_arguments
    async def get_memory_history(self, org_id: str, user_id: str, memory_id: str) -> list[Memory]:
        """The whole history chain of a memory, newest first, whichever version's id is given.

        Raises:
            MemoryNotFoundError: no such memory for this user.
        """
        return await self.graph_db.get_user_memory_history(org_id, user_id, memory_id)

    @checked_arguments
    async def get_memory_context(
        self, org_id: str, user_id: str, memory_id: str, *, window: int = 1
    ) -> list[MessageBlock]:
        """The messages around a memory's sources: each source message with up to ``window``
        messages before and after it in its interaction, in order, each once.

        What a reader needs to understand a short turn ("December 15th.") is usually the
        question before it; ``window=1`` roughly doubles the text shown per hit (README,
        "Search"). ``[]`` when the memory has no sources left (an update truncated them).

        Raises:
            MemoryNotFoundError: no such memory for this user.
            InvalidInputError: ``window`` not an int in 0..50.

        Examples:
            >>> [hit] = await memora.search_memories_as_one(org_id, user_id, ["charity run date"])
            >>> [m.content for m in await memora.get_memory_context(org_id, user_id, hit.memory_id)]
            ['When is the charity run?', 'December 15th.', 'Great, I will be there!']
        """
        if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 50:
            raise InvalidInputError("window must be an int in 0..50.")
        memory = await self.graph_db.get_user_memory(org_id, user_id, memory_id)
        if not memory.message_sources or memory.interaction_id is None:
            return []
        interaction = await self.graph_db.get_interaction(
            org_id, user_id, memory.interaction_id, with_messages=True, with_memories=False
        )
        by_position = {m.msg_position: m for m in interaction.messages}
        wanted = {
            p
            for source in memory.message_sources
            for p in range(source.msg_position - window, source.msg_position + window + 1)
        }
        return [by_position[p] for p in sorted(wanted) if p in by_position]

    @checked_arguments
    async def list_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """Every history link ``(older_memory_id, newer_memory_id)`` of the user."""
        return await self.graph_db.get_user_memory_links(org_id, user_id)

    @checked_arguments
    async def delete_memory(self, org_id: str, user_id: str, memory_id: str) -> bool:
        """Delete one memory version (its chain is re-linked around it) and its vector.

        Returns:
            ``False`` when there was no such memory.
        """
        return await self._stores.delete_memory(org_id, user_id, memory_id)

    @checked_arguments
    async def delete_all_memories(self, org_id: str, user_id: str) -> int:
        """Delete every memory of the user (all versions) and their vectors; interactions stay.

        Returns:
            How many memories were deleted.
        """
        return await self._stores.delete_all_memories(org_id, user_id)
