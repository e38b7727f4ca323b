"""``CoordinatedGraph``: ``Memora.graph`` for callers written against the original API.

The original guides call graph methods on ``memora.graph`` (``save_interaction_with_memories``,
``delete_user``, ...). The graph store itself no longer touches the vector index, so this view
routes the writes and deletes that affect memories through the engine's
:class:`~memora_engine.coordinator.StoreCoordinator` (index first, graph commit, deletes
cascading to the index) and passes every other call to the graph store unchanged. Engine code
uses ``Memora``'s own methods; this view is only the compatibility surface.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memora_engine.coordinator import StoreCoordinator
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.schema.storage import MemoriesAndInteraction

__all__ = ["CoordinatedGraph"]


class CoordinatedGraph:
    """The graph store's methods, with memory writes and deletes kept in step with the index.

    Examples:
        >>> await memora.graph.delete_user(org_id, user_id)  # doctest: +SKIP
    """

    def __init__(self, stores: StoreCoordinator) -> None:
        self._stores = stores

    @property
    def store(self) -> BaseGraphDB:
        """The graph store behind this view."""
        return self._stores.graph_db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stores.graph_db, name)

    async def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        """Save an interaction with its memories, indexing them (see the graph store)."""
        done = await self._stores.write_interaction(
            org_id, agent_id, user_id, memories_and_interaction, interaction_id=interaction_id
        )
        return done.write.interaction_id, done.write.date

    async def update_interaction_and_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        interaction_id: str,
        updated_memories_and_interaction: MemoriesAndInteraction,
    ) -> tuple[str, datetime]:
        """Apply the message diff and add the memories, indexing them (see the graph store)."""
        done = await self._stores.write_interaction(
            org_id, agent_id, user_id, updated_memories_and_interaction,
            interaction_id=interaction_id, new=False,
        )  # fmt: skip
        return done.write.interaction_id, done.write.date

    async def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> None:
        """Delete one interaction, its memories and their vectors."""
        await self._stores.delete_interaction(org_id, user_id, interaction_id)

    async def delete_all_user_interactions_and_their_memories(
        self, org_id: str, user_id: str
    ) -> None:
        """Delete every interaction of the user with their memories and vectors."""
        await self._stores.delete_all_interactions(org_id, user_id)

    async def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> None:
        """Delete one memory and its vector."""
        await self._stores.delete_memory(org_id, user_id, memory_id)

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        """Delete every memory of the user and their vectors."""
        await self._stores.delete_all_memories(org_id, user_id)

    async def delete_user(self, org_id: str, user_id: str) -> None:
        """Delete the user with everything below it and their vectors."""
        await self._stores.delete_user(org_id, user_id)

    async def delete_organization(self, org_id: str) -> None:
        """Delete the organization with everything below it and its vectors."""
        await self._stores.delete_organization(org_id)
