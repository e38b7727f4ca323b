"""The backend hooks of the graph store: what a backend implements, on validated input.

:class:`~memora_engine.graph_db.base.BaseGraphDB` validates every argument once at its public
methods (ids, names, pages, flags, write DTOs) and then calls one of these hooks. A hook trusts
its arguments: ids are valid, names are stripped and bounded, pages are in range, times are
aware. Hooks never see a vector store; writes and deletes report what they wrote or deleted so
the engine's coordinator (:mod:`memora_engine.coordinator`) can keep the index in step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from memora_engine.filters import FilterNode, Metadata
from memora_engine.graph_db.write_plan import NewMemory, WriteCheck
from memora_engine.schema.models import Agent, Interaction, Memory, Organization, User

__all__ = ["Deleted", "GraphHooks", "InteractionWrite"]


@dataclass(frozen=True)
class Deleted:
    """What one graph delete removed.

    Attributes:
        found: Whether the target (organization, user, agent, interaction, memory) existed;
            for "delete all" calls, whether anything was deleted.
        memory_ids: Every memory deleted with it (cascades included), in no particular order.
    """

    found: bool
    memory_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InteractionWrite:
    """A checked, planned save or update of one interaction, ready to commit.

    Built by :meth:`BaseGraphDB.prepare_interaction_write`; ``memories`` are the new memories
    as the vector index must hold them (names resolved, no sources), empty when the write adds
    none (or when it was prepared without the pre-check).
    """

    org_id: str
    user_id: str
    agent_id: str
    interaction_id: str
    date: datetime
    new: bool
    messages: tuple[tuple[str, str], ...]
    planned: tuple[NewMemory, ...]
    memories: tuple[Memory, ...] = ()


class GraphHooks(ABC):
    """Abstract hooks a graph backend implements (see the module docstring)."""

    # ------------------------------------------------------------------ organization
    @abstractmethod
    async def _create_organization(
        self, org_id: str, org_name: str, created_at: datetime
    ) -> Organization: ...

    @abstractmethod
    async def _update_organization(self, org_id: str, org_name: str) -> Organization: ...

    @abstractmethod
    async def _delete_organization(self, org_id: str) -> Deleted: ...

    @abstractmethod
    async def _get_organization(self, org_id: str) -> Organization: ...

    @abstractmethod
    async def _get_all_organizations(self) -> list[Organization]: ...

    # ------------------------------------------------------------------ agent
    @abstractmethod
    async def _create_agent(
        self,
        org_id: str,
        agent_id: str,
        agent_label: str,
        user_id: str | None,
        created_at: datetime,
    ) -> Agent: ...

    @abstractmethod
    async def _update_agent(self, org_id: str, agent_id: str, agent_label: str) -> Agent: ...

    @abstractmethod
    async def _delete_agent(self, org_id: str, agent_id: str) -> Deleted: ...

    @abstractmethod
    async def _get_agent(self, org_id: str, agent_id: str) -> Agent: ...

    @abstractmethod
    async def _get_all_org_agents(self, org_id: str) -> list[Agent]: ...

    @abstractmethod
    async def _get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]: ...

    # ------------------------------------------------------------------ user
    @abstractmethod
    async def _create_user(
        self, org_id: str, user_id: str, user_name: str, created_at: datetime
    ) -> User: ...

    @abstractmethod
    async def _update_user(self, org_id: str, user_id: str, user_name: str) -> User: ...

    @abstractmethod
    async def _delete_user(self, org_id: str, user_id: str) -> Deleted: ...

    @abstractmethod
    async def _get_user(self, org_id: str, user_id: str) -> User: ...

    @abstractmethod
    async def _get_all_org_users(self, org_id: str) -> list[User]: ...

    # ------------------------------------------------------------------ interaction
    @abstractmethod
    async def _check_interaction_write(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction_id: str,
        planned: Sequence[NewMemory],
        *,
        new: bool,
    ) -> WriteCheck:
        """Owners, the interaction (absent when ``new``, present otherwise) and preset memory
        ids; the names the planned memories' placeholders resolve to and the metadata of the
        memories that contrary memories planned without metadata replace."""

    @abstractmethod
    async def _commit_interaction_write(self, write: InteractionWrite) -> None:
        """Run the write in one transaction, making every check of the pre-check again."""

    @abstractmethod
    async def _get_interaction(
        self,
        org_id: str,
        user_id: str,
        interaction_id: str,
        *,
        with_messages: bool,
        with_memories: bool,
        resolve_names: bool,
    ) -> Interaction: ...

    @abstractmethod
    async def _get_all_user_interactions(
        self,
        org_id: str,
        user_id: str,
        *,
        with_messages: bool,
        with_memories: bool,
        skip: int,
        limit: int,
        resolve_names: bool,
    ) -> list[Interaction]: ...

    @abstractmethod
    async def _delete_user_interaction(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> Deleted: ...

    @abstractmethod
    async def _delete_all_user_interactions(self, org_id: str, user_id: str) -> Deleted: ...

    # ------------------------------------------------------------------ memory
    @abstractmethod
    async def _fetch_user_memories_resolved_batch(
        self, batch: list[list[tuple[str, str, str]]]
    ) -> list[list[Memory]]:
        """Resolve ``(org_id, user_id, memory_id)`` hits (at least one list is non-empty)."""

    @abstractmethod
    async def _get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool
    ) -> Memory: ...

    @abstractmethod
    async def _get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None,
        *,
        skip: int,
        limit: int,
        resolve_names: bool,
        filter: FilterNode | None,
    ) -> list[Memory]: ...

    @abstractmethod
    async def _update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Metadata
    ) -> Memory:
        """Replace the metadata; raise MemoryNotFoundError when the memory is missing."""

    @abstractmethod
    async def _delete_user_memories(
        self, org_id: str, user_id: str, memory_ids: tuple[str, ...]
    ) -> Deleted:
        """Delete the user's memories among ``memory_ids`` (at least one id), re-linking."""

    @abstractmethod
    async def _get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]: ...

    @abstractmethod
    async def _get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]: ...

    @abstractmethod
    async def _list_memories_for_indexing(
        self, org_id: str | None, after_memory_id: str, limit: int
    ) -> list[Memory]:
        """``after_memory_id`` is ``""`` for the first page."""

    @abstractmethod
    async def _count_memories(self, org_id: str | None) -> int: ...

    @abstractmethod
    async def _delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> Deleted: ...

    @abstractmethod
    async def _delete_all_user_memories(self, org_id: str, user_id: str) -> Deleted: ...
