"""``memora.graph``: the original guides' graph method names, routed through :class:`Memora`.

The first Memora guides manage tenants and records with ``memora.graph.create_organization(...)``,
``memora.graph.get_all_user_memories(org_id, user_id)`` and so on. :class:`GraphNamespace` keeps
those names and their positional order, but every method calls one of ``Memora``'s public
methods: arguments are validated once, writes take the engine's per-interaction lock and
deletes cascade to the vector index. It never touches a store itself.

Left out on purpose: ``setup`` / ``close`` (use ``Memora``'s), ``list_memories_for_indexing``
and ``count_memories`` (cross-tenant maintenance, for reindex and recovery),
``delete_user_memories`` (by ids, the engine's delete-many; use
``Memora.delete_memories(filter=...)``), and the two-phase
``prepare_interaction_write`` / ``commit_interaction_write`` the engine's store coordinator
uses; they stay on the store, ``memora.graph_db``.

Deletes return ``bool`` (``False``: it did not exist) where the store returned ``None``, and
``delete_all_user_memories`` returns how many memories it deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memora_engine.errors import InvalidInputError
from memora_engine.filters import MetadataFilter
from memora_engine.ids import checked_arguments
from memora_engine.schema.models import Agent, Interaction, Memory, Organization, User
from memora_engine.schema.storage import MemoriesAndInteraction

if TYPE_CHECKING:
    from memora_engine.memora import Memora

__all__ = ["GraphNamespace"]


class GraphNamespace:
    """The original ``memora.graph`` methods (names and positional order), over ``Memora``.

    Examples:
        >>> org = await memora.graph.create_organization("My Organization")
        >>> user = await memora.graph.create_user(org.org_id, "Alice")
        >>> agent = await memora.graph.create_agent(org.org_id, "Jenny", user_id=user.user_id)
        >>> await memora.graph.get_all_user_memories(org.org_id, user.user_id)
        []
    """

    def __init__(self, memora: Memora) -> None:
        self._memora = memora

    # ------------------------------------------------------------------ organization
    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """:meth:`Memora.create_organization`."""
        return await self._memora.create_organization(
            org_name, org_id=org_id, created_at=created_at
        )

    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """:meth:`Memora.update_organization`."""
        return await self._memora.update_organization(org_id, new_org_name)

    async def delete_organization(self, org_id: str) -> bool:
        """:meth:`Memora.delete_organization` (everything below it, vectors included)."""
        return await self._memora.delete_organization(org_id)

    async def get_organization(self, org_id: str) -> Organization:
        """:meth:`Memora.get_organization`."""
        return await self._memora.get_organization(org_id)

    async def get_all_organizations(self) -> list[Organization]:
        """:meth:`Memora.list_organizations`."""
        return await self._memora.list_organizations()

    # ------------------------------------------------------------------ agent
    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """:meth:`Memora.create_agent`."""
        return await self._memora.create_agent(
            org_id, agent_label, user_id, agent_id=agent_id, created_at=created_at
        )

    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """:meth:`Memora.update_agent`."""
        return await self._memora.update_agent(org_id, agent_id, new_agent_label)

    async def delete_agent(self, org_id: str, agent_id: str) -> bool:
        """:meth:`Memora.delete_agent`."""
        return await self._memora.delete_agent(org_id, agent_id)

    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """:meth:`Memora.get_agent`."""
        return await self._memora.get_agent(org_id, agent_id)

    async def get_all_org_agents(self, org_id: str) -> list[Agent]:
        """:meth:`Memora.list_agents`."""
        return await self._memora.list_agents(org_id)

    async def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        """:meth:`Memora.list_agents` with ``user_id``."""
        return await self._memora.list_agents(org_id, user_id=user_id)

    # ------------------------------------------------------------------ user
    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """:meth:`Memora.create_user`."""
        return await self._memora.create_user(
            org_id, user_name, user_id=user_id, created_at=created_at
        )

    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """:meth:`Memora.update_user`."""
        return await self._memora.update_user(org_id, user_id, new_user_name)

    async def delete_user(self, org_id: str, user_id: str) -> bool:
        """:meth:`Memora.delete_user`."""
        return await self._memora.delete_user(org_id, user_id)

    async def get_user(self, org_id: str, user_id: str) -> User:
        """:meth:`Memora.get_user`."""
        return await self._memora.get_user(org_id, user_id)

    async def get_all_org_users(self, org_id: str) -> list[User]:
        """:meth:`Memora.list_users`."""
        return await self._memora.list_users(org_id)

    # ------------------------------------------------------------------ interaction
    async def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        """:meth:`Memora.restore_interaction` (a new interaction, written exactly as given)."""
        return await self._memora.restore_interaction(
            org_id, user_id, agent_id, memories_and_interaction, interaction_id=interaction_id
        )

    async def update_interaction_and_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        interaction_id: str,
        updated_memories_and_interaction: MemoriesAndInteraction,
    ) -> tuple[str, datetime]:
        """:meth:`Memora.restore_interaction` with ``update=True``."""
        return await self._memora.restore_interaction(
            org_id,
            user_id,
            agent_id,
            updated_memories_and_interaction,
            interaction_id=interaction_id,
            update=True,
        )

    async def get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        with_messages: bool = True,
        with_memories: bool = True,
        *,
        resolve_names: bool = True,
    ) -> Interaction:
        """:meth:`Memora.get_interaction`."""
        return await self._memora.get_interaction(
            org_id,
            user_id,
            interaction_id,
            with_messages=with_messages,
            with_memories=with_memories,
            resolve_names=resolve_names,
        )

    async def get_all_user_interactions(
        self,
        org_id: str,
        user_id: str,
        with_their_messages: bool = True,
        with_their_memories: bool = True,
        skip: int = 0,
        limit: int = 100,
        *,
        resolve_names: bool = True,
    ) -> list[Interaction]:
        """:meth:`Memora.list_interactions`."""
        return await self._memora.list_interactions(
            org_id,
            user_id,
            with_messages=with_their_messages,
            with_memories=with_their_memories,
            skip=skip,
            limit=limit,
            resolve_names=resolve_names,
        )

    async def get_all_interaction_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> list[Memory]:
        """The memories one interaction produced (:meth:`Memora.get_interaction`'s memories)."""
        interaction = await self._memora.get_interaction(
            org_id, user_id, interaction_id, with_messages=False
        )
        return interaction.memories

    async def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> bool:
        """:meth:`Memora.delete_interaction`."""
        return await self._memora.delete_interaction(org_id, user_id, interaction_id)

    async def delete_all_user_interactions_and_their_memories(
        self, org_id: str, user_id: str
    ) -> None:
        """:meth:`Memora.delete_all_interactions`."""
        await self._memora.delete_all_interactions(org_id, user_id)

    # ------------------------------------------------------------------ memory
    @checked_arguments
    async def fetch_user_memories_resolved(
        self, org_user_mem_ids: Sequence[Mapping[str, str]]
    ) -> list[Memory]:
        """Resolve ``{"memory_id", "org_id", "user_id"}`` refs to current versions.

        Runs :meth:`Memora.get_current_memories` once per run of refs of the same user; order
        is kept and a memory found twice keeps its first place.
        """
        out: list[Memory] = []
        seen: set[str] = set()
        for (org_id, user_id), memory_ids in _runs_by_user(org_user_mem_ids):
            for memory in await self._memora.get_current_memories(org_id, user_id, memory_ids):
                if memory.memory_id not in seen:
                    seen.add(memory.memory_id)
                    out.append(memory)
        return out

    @checked_arguments
    async def fetch_user_memories_resolved_batch(
        self, batch_org_user_mem_ids: Sequence[Sequence[Mapping[str, str]]]
    ) -> list[list[Memory]]:
        """:meth:`fetch_user_memories_resolved` for each list (one output list per input)."""
        return [await self.fetch_user_memories_resolved(refs) for refs in batch_org_user_mem_ids]

    async def get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """:meth:`Memora.get_memory`."""
        return await self._memora.get_memory(
            org_id, user_id, memory_id, resolve_names=resolve_names
        )

    async def get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None = None,
        skip: int = 0,
        limit: int = 1000,
        *,
        resolve_names: bool = True,
        filter: MetadataFilter | None = None,
    ) -> list[Memory]:
        """:meth:`Memora.list_memories` with ``include_history=True`` (every version)."""
        return await self._memora.list_memories(
            org_id,
            user_id,
            agent_id=agent_id,
            include_history=True,
            skip=skip,
            limit=limit,
            resolve_names=resolve_names,
            filter=filter,
        )

    async def get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        """:meth:`Memora.get_memory_history` (newest first)."""
        return await self._memora.get_memory_history(org_id, user_id, memory_id)

    async def get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """:meth:`Memora.list_memory_links`."""
        return await self._memora.list_memory_links(org_id, user_id)

    async def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> bool:
        """:meth:`Memora.delete_memory`."""
        return await self._memora.delete_memory(org_id, user_id, memory_id)

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> int:
        """:meth:`Memora.delete_all_memories`."""
        return await self._memora.delete_all_memories(org_id, user_id)

    async def update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Mapping[str, Any]
    ) -> Memory:
        """:meth:`Memora.edit_memory` with ``metadata`` only (replaced in place)."""
        return await self._memora.edit_memory(org_id, user_id, memory_id, metadata=metadata)


def _runs_by_user(
    refs: Sequence[Mapping[str, str]],
) -> list[tuple[tuple[str, str], list[str]]]:
    """Group consecutive refs of the same ``(org_id, user_id)`` (pure; order kept)."""
    runs: list[tuple[tuple[str, str], list[str]]] = []
    for ref in refs:
        try:
            owner, memory_id = (ref["org_id"], ref["user_id"]), ref["memory_id"]
        except KeyError as missing:
            raise InvalidInputError(
                f"A memory ref needs 'memory_id', 'org_id' and 'user_id'; {missing} is missing."
            ) from None
        if runs and runs[-1][0] == owner:
            runs[-1][1].append(memory_id)
        else:
            runs.append((owner, [memory_id]))
    return runs
