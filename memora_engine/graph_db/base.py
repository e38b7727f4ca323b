"""The graph store interface: the source of truth for orgs, users, agents, interactions, memories.

Methods are grouped by entity and keep the original Memora names. Shared rules:

* All ids are validated at the boundary (:func:`memora_engine.ids.require_id`); bad input raises
  :class:`~memora_engine.errors.InvalidInputError` and writes nothing.
* Reads and updates of a missing entity raise the matching ``*NotFoundError`` (naming the ids).
  Deletes of a missing entity are silent no-ops.
* Every id is scoped by its tenant: a user id is only looked up within its org, an interaction
  or memory within its org and user. No method returns another org's or user's data.
* Memory text is stored with ``user_<id>`` / ``agent_<id>`` placeholders and resolved on every
  read to the current name of the memory's own user / label of its own agent (see
  :mod:`memora_engine.placeholders`); other ids in the text are left as written. The plain reads
  (:meth:`~BaseGraphDB.get_interaction`, :meth:`~BaseGraphDB.get_all_user_interactions`,
  :meth:`~BaseGraphDB.get_user_memory`, :meth:`~BaseGraphDB.get_all_user_memories`) take
  ``resolve_names=False`` to return the text exactly as stored (for export and backups).
* Creation times of orgs, users and agents are "now" unless ``created_at`` is given (to restore
  a backup); naive datetimes are taken to be UTC.
* Each public write is one transaction. When a vector store is associated, writes index the new
  memories there first (durably), then commit the graph; if the graph write fails the new points
  are deleted again (:meth:`BaseGraphDB._write_with_vectors`). Deletes commit the graph first,
  then delete the points. Any stray point left by a crash is invisible, because every search is
  resolved through the graph, and ``memora reindex`` removes it.
* Lists are newest first and always lists (never ``None``).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from typing_extensions import Self

from memora_engine.schema.models import Agent, Interaction, Memory, Organization, User
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.vector_db.base import BaseVectorDB

__all__ = ["BaseGraphDB", "MemoryRef"]

#: A search hit to resolve: ``{"memory_id": ..., "org_id": ..., "user_id": ...}``.
MemoryRef = dict[str, str]

T = TypeVar("T")


class BaseGraphDB(ABC):
    """Async graph store. Implementations: ``SqliteGraphDB`` (embedded), ``Neo4jGraphInterface``.

    Every implementation passes ``memora_engine.testing.GraphDBConformanceTests``.
    Supports ``async with`` (``setup()`` on enter, ``close()`` on exit).
    """

    associated_vector_db: BaseVectorDB | None = None

    # ------------------------------------------------------------------ infrastructure
    def get_associated_vector_db(self) -> BaseVectorDB | None:
        """The vector store that writes index into and deletes cascade to, if any."""
        return self.associated_vector_db

    @abstractmethod
    async def setup(self) -> None:
        """Create tables / constraints / indexes; idempotent and safe to run concurrently."""

    @abstractmethod
    async def close(self) -> None:
        """Release what this object created (never a driver or connection it was given)."""

    # ------------------------------------------------------------------ organization
    @abstractmethod
    async def create_organization(
        self, org_name: str, *, org_id: str | None = None, created_at: datetime | None = None
    ) -> Organization:
        """Create an organization (a new shortuuid id unless ``org_id`` is given).

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            ConflictError: ``org_id`` already exists.
        """

    @abstractmethod
    async def update_organization(self, org_id: str, new_org_name: str) -> Organization:
        """Rename an organization."""

    @abstractmethod
    async def delete_organization(self, org_id: str) -> None:
        """Delete the organization and everything below it, including its vectors."""

    @abstractmethod
    async def get_organization(self, org_id: str) -> Organization:
        """Get one organization."""

    @abstractmethod
    async def get_all_organizations(self) -> list[Organization]:
        """All organizations, newest first."""

    # ------------------------------------------------------------------ agent
    @abstractmethod
    async def create_agent(
        self,
        org_id: str,
        agent_label: str,
        user_id: str | None = None,
        *,
        agent_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Agent:
        """Create an org-level agent, or with ``user_id`` one that also belongs to that user.

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            OrganizationNotFoundError / UserNotFoundError: the owner is missing.
            ConflictError: ``agent_id`` already exists in the org.
        """

    @abstractmethod
    async def update_agent(self, org_id: str, agent_id: str, new_agent_label: str) -> Agent:
        """Change an agent's label (every memory mentioning it reads differently)."""

    @abstractmethod
    async def delete_agent(self, org_id: str, agent_id: str) -> None:
        """Delete the agent only. Its interactions and memories stay readable and searchable;
        placeholders of the deleted agent are then left unresolved."""

    @abstractmethod
    async def get_agent(self, org_id: str, agent_id: str) -> Agent:
        """Get one agent of the organization."""

    @abstractmethod
    async def get_all_org_agents(self, org_id: str) -> list[Agent]:
        """Every agent of the organization (org-level and per-user), newest first."""

    @abstractmethod
    async def get_all_user_agents(self, org_id: str, user_id: str) -> list[Agent]:
        """The agents that belong to one user, newest first."""

    # ------------------------------------------------------------------ user
    @abstractmethod
    async def create_user(
        self,
        org_id: str,
        user_name: str,
        *,
        user_id: str | None = None,
        created_at: datetime | None = None,
    ) -> User:
        """Create a user (a new shortuuid id unless ``user_id`` is given, e.g. your app's id).

        ``created_at`` presets the creation time (default: now); naive means UTC.

        Raises:
            OrganizationNotFoundError: the org is missing.
            ConflictError: ``user_id`` already exists in the org.
        """

    @abstractmethod
    async def update_user(self, org_id: str, user_id: str, new_user_name: str) -> User:
        """Rename a user (every memory about them reads differently)."""

    @abstractmethod
    async def delete_user(self, org_id: str, user_id: str) -> None:
        """Delete the user with their interactions, messages, memories and vectors.
        Agents owned by the user stay (as org-level agents)."""

    @abstractmethod
    async def get_user(self, org_id: str, user_id: str) -> User:
        """Get one user of the organization."""

    @abstractmethod
    async def get_all_org_users(self, org_id: str) -> list[User]:
        """Every user of the organization, newest first."""

    # ------------------------------------------------------------------ interaction
    @abstractmethod
    async def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        """Save a new interaction, its messages and its memories in one transaction.

        ``created_at == updated_at == memories_and_interaction.interaction_date``. Contrary
        memories are linked ``existing -> new`` (an unknown existing id gets no link).

        Returns:
            ``(interaction_id, interaction_date)``.

        Raises:
            UserNotFoundError / AgentNotFoundError: missing owner.
            ConflictError: ``interaction_id`` (or a preset memory id) already exists.
        """

    @abstractmethod
    async def update_interaction_and_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        interaction_id: str,
        updated_memories_and_interaction: MemoriesAndInteraction,
    ) -> tuple[str, datetime]:
        """Apply the message diff (:mod:`memora_engine.message_diff`) and add the memories.

        Memories whose sources are truncated stay, without message links; new memories' source
        positions index the updated list. Sets ``updated_at`` to the interaction date and
        ``agent_id`` to the updating agent.

        Returns:
            ``(interaction_id, interaction_date)``.

        Raises:
            InteractionNotFoundError: no such interaction for this user.
        """

    @abstractmethod
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
        """Get an interaction; memories are all those it produced (not history-resolved).

        With ``resolve_names=False`` memory text keeps its ``user_<id>`` / ``agent_<id>``
        placeholders, exactly as stored.
        """

    @abstractmethod
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
        """A user's interactions, most recently updated first, paginated.

        With ``resolve_names=False`` memory text is returned exactly as stored.
        """

    @abstractmethod
    async def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> None:
        """Delete one interaction, its messages, the memories it produced, and their vectors.
        History chains through a deleted memory are re-linked around it."""

    @abstractmethod
    async def delete_all_user_interactions_and_their_memories(
        self, org_id: str, user_id: str
    ) -> None:
        """Delete every interaction of the user with their memories and vectors; the user stays."""

    # ------------------------------------------------------------------ memory
    async def fetch_user_memories_resolved(
        self, org_user_mem_ids: Sequence[MemoryRef]
    ) -> list[Memory]:
        """Resolve search hits; see :meth:`fetch_user_memories_resolved_batch`."""
        return (await self.fetch_user_memories_resolved_batch([org_user_mem_ids]))[0]

    @abstractmethod
    async def fetch_user_memories_resolved_batch(
        self, batch_org_user_mem_ids: Sequence[Sequence[MemoryRef]]
    ) -> list[list[Memory]]:
        """Resolve lists of search hits, one output list per input list (empty ones included).

        Each hit becomes the newest version(s) of its history chain (a fork yields every head),
        with names resolved (each memory by its own user and agents) and message sources
        attached. Order follows the input (relevance); duplicates keep their first position;
        ids missing from the store are dropped.
        """

    @abstractmethod
    async def get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """Get one memory (not history-resolved), with sources if any remain.

        With ``resolve_names=False`` its text is returned exactly as stored.
        """

    @abstractmethod
    async def get_all_user_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str | None = None,
        skip: int = 0,
        limit: int = 1000,
        *,
        resolve_names: bool = True,
    ) -> list[Memory]:
        """A user's memories newest first (every version, superseded included), paginated.

        With ``resolve_names=False`` memory text is returned exactly as stored.
        """

    @abstractmethod
    async def get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        """The whole history chain of a memory, newest first, whichever version's id is given.

        With forks, the chain is every version connected to ``memory_id`` through contradiction
        links, ordered by ``obtained_at`` (newest first, ties by id).

        Raises:
            MemoryNotFoundError: no such memory for this user.
        """

    @abstractmethod
    async def get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """Every contradiction link ``(older_memory_id, newer_memory_id)`` of the user."""

    @abstractmethod
    async def list_memories_for_indexing(
        self, *, org_id: str | None = None, after_memory_id: str | None = None, limit: int = 1000
    ) -> list[Memory]:
        """Memories ordered by id after ``after_memory_id`` (keyset pagination), names resolved,
        without sources: what the vector index must hold. For reindex and recovery."""

    @abstractmethod
    async def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> None:
        """Delete one memory and its vector; its history chain is re-linked around it."""

    @abstractmethod
    async def delete_all_user_memories(self, org_id: str, user_id: str) -> None:
        """Delete every memory of the user and their vectors; interactions stay."""

    # ------------------------------------------------------------------ shared helpers
    async def _write_with_vectors(
        self, memories: Sequence[Memory], write: Callable[[], Awaitable[T]]
    ) -> T:
        """Index ``memories`` durably, then run the graph ``write``; undo the index on failure.

        Backends call this from their public write methods so that an acknowledged memory is
        always searchable and a failed write leaves nothing searchable behind.
        """
        vector_db = self.associated_vector_db
        if vector_db is None or not memories:
            return await write()
        await vector_db.upsert_memories(memories)
        pending = asyncio.ensure_future(write())
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            # The graph transaction may already be running on its worker; let it finish so the
            # index matches what the graph holds, then deliver the cancellation.
            if await _settled_ok(pending):
                raise
            await _best_effort(vector_db.delete_memories([m.memory_id for m in memories]))
            raise
        except BaseException:
            await _best_effort(vector_db.delete_memories([m.memory_id for m in memories]))
            raise

    async def _delete_vectors(self, memory_ids: Sequence[str]) -> None:
        """Delete points after a committed graph delete (stray points are harmless)."""
        if self.associated_vector_db is not None and memory_ids:
            await self.associated_vector_db.delete_memories(list(memory_ids))

    async def __aenter__(self) -> Self:
        await self.setup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


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
