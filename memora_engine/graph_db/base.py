"""The graph store interface: the source of truth for orgs, users, agents, interactions, memories.

Methods are grouped by entity (organizations, agents and users in
:class:`~memora_engine.graph_db.tenant_methods.TenantMethods`, a mixin) and keep the original
Memora names. Shared rules:

* Every argument is validated once, here, at the public methods (ids with
  :func:`memora_engine.ids.require_id`, names, pages, flags, write DTOs); bad input raises
  :class:`~memora_engine.errors.InvalidInputError` and writes nothing. The public methods then
  call the backend's hooks (:class:`~memora_engine.graph_db.hooks.GraphHooks`), which trust
  their input, the way LangGraph's ``BaseStore`` has concrete methods over an abstract batch.
* Reads and updates of a missing entity raise the matching ``*NotFoundError`` (naming the ids).
  Deletes of a missing entity are no-ops that report ``found=False``.
* Every id is scoped by its tenant: a user id is only looked up within its org, an interaction
  or memory within its org and user. No method returns another org's or user's data.
* Memory text is stored with ``user_<id>`` / ``agent_<id>`` placeholders and resolved on every
  read to the current name of the memory's own user / label of its own agent (see
  :mod:`memora_engine.placeholders`); other ids in the text are left as written. The plain reads
  take ``resolve_names=False`` to return the text exactly as stored (for export and backups).
* Creation times of orgs, users and agents are "now" unless ``created_at`` is given (to restore
  a backup); naive datetimes are taken to be UTC.
* Each public write is one transaction. The graph store never sees the vector index: writes and
  deletes return what they wrote or deleted (:class:`InteractionWrite`, :class:`Deleted`), and
  :mod:`memora_engine.coordinator` keeps the index in step (index before the graph commit,
  delete points after it).
* Lists are newest first and always lists (never ``None``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from typing_extensions import Self

from memora_engine.errors import InvalidInputError
from memora_engine.filters import FilterNode, Metadata, validate_metadata
from memora_engine.graph_db.checks import (
    check_filter_node,
    check_flag,
    check_memory_ids,
    check_page,
    check_refs,
    checked_write,
    optional_id,
    owner_ids,
    require_ids,
)
from memora_engine.graph_db.hooks import Deleted, InteractionWrite
from memora_engine.graph_db.tenant_methods import TenantMethods
from memora_engine.graph_db.write_plan import inherit_metadata, plan_memories
from memora_engine.ids import new_short_id, require_id, require_memory_id
from memora_engine.schema.models import Interaction, Memory
from memora_engine.schema.storage import MemoriesAndInteraction

__all__ = ["BaseGraphDB", "Deleted", "InteractionWrite", "MemoryRef"]

#: A search hit to resolve: ``{"memory_id": ..., "org_id": ..., "user_id": ...}``.
MemoryRef = dict[str, str]


class BaseGraphDB(TenantMethods):
    """Async graph store. Implementations: ``SqliteGraphDB`` (embedded), ``Neo4jGraphInterface``.

    Every implementation passes ``memora_engine.testing.GraphDBConformanceTests``.
    Supports ``async with`` (``setup()`` on enter, ``close()`` on exit).

    Examples:
        >>> async with SqliteGraphDB(":memory:") as graph:  # doctest: +SKIP
        ...     org = await graph.create_organization("Acme")
        ...     (await graph.delete_organization(org.org_id)).found
        True
    """

    # ------------------------------------------------------------------ infrastructure
    @abstractmethod
    async def setup(self) -> None:
        """Create tables / constraints / indexes; idempotent and safe to run concurrently."""

    @abstractmethod
    async def close(self) -> None:
        """Release what this object created (never a driver or connection it was given)."""

    # ------------------------------------------------------------------ interaction writes
    async def prepare_interaction_write(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
        new: bool = True,
        precheck: bool = True,
    ) -> InteractionWrite:
        """Validate and plan a save (``new=True``) or update, without writing anything.

        With ``precheck`` (and new memories to write) the owners, the interaction and preset
        memory ids are checked now and the memories are returned as the index must hold them
        (names resolved): what the coordinator indexes before :meth:`commit_interaction_write`.

        Raises:
            UserNotFoundError / AgentNotFoundError / InteractionNotFoundError / ConflictError:
                as the save or update would.
        """
        oid, aid, uid = owner_ids(org_id, agent_id, user_id)
        if not isinstance(new, bool):
            raise InvalidInputError("new must be a bool.")
        if new and interaction_id is None:
            iid = new_short_id()
        else:
            iid = require_id(interaction_id, "interaction_id")
        data = checked_write(memories_and_interaction)
        planned = tuple(plan_memories(data, aid))
        memories: tuple[Memory, ...] = ()
        if precheck and planned:
            found = await self._check_interaction_write(oid, uid, aid, iid, planned, new=new)
            planned = inherit_metadata(planned, found.inherited)
            memories = tuple(m.to_memory(oid, uid, iid, found.names) for m in planned)
        messages = tuple((m.role, m.content) for m in data.interaction)
        return InteractionWrite(
            oid, uid, aid, iid, data.interaction_date, new, messages, planned, memories
        )

    async def commit_interaction_write(self, write: InteractionWrite) -> tuple[Memory, ...]:
        """Commit a prepared write in one transaction (every check is made again inside it).

        Returns:
            The memories written, as the index must hold them (empty if prepared without the
            pre-check).
        """
        if not isinstance(write, InteractionWrite):
            raise InvalidInputError("commit_interaction_write needs an InteractionWrite.")
        await self._commit_interaction_write(write)
        return write.memories

    async def save_interaction_with_memories(
        self,
        org_id: str,
        agent_id: str,
        user_id: str,
        memories_and_interaction: MemoriesAndInteraction,
        *,
        interaction_id: str | None = None,
    ) -> tuple[str, datetime]:
        """Save a new interaction, its messages and its memories in one transaction (graph only).

        ``created_at == updated_at == memories_and_interaction.interaction_date``. Contrary
        memories are linked ``existing -> new`` (an unknown existing id gets no link). Use
        ``Memora`` to also index the memories.

        Returns:
            ``(interaction_id, interaction_date)``.

        Raises:
            UserNotFoundError / AgentNotFoundError: missing owner.
            ConflictError: ``interaction_id`` (or a preset memory id) already exists.
        """
        write = await self.prepare_interaction_write(
            org_id, agent_id, user_id, memories_and_interaction,
            interaction_id=interaction_id, precheck=False,
        )  # fmt: skip
        await self._commit_interaction_write(write)
        return write.interaction_id, write.date

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
        ``agent_id`` to the updating agent (graph only; ``Memora`` also indexes).

        Returns:
            ``(interaction_id, interaction_date)``.

        Raises:
            InteractionNotFoundError: no such interaction for this user.
        """
        write = await self.prepare_interaction_write(
            org_id, agent_id, user_id, updated_memories_and_interaction,
            interaction_id=interaction_id, new=False, precheck=False,
        )  # fmt: skip
        await self._commit_interaction_write(write)
        return write.interaction_id, write.date

    # ------------------------------------------------------------------ interaction reads
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
        oid, uid, iid = require_ids(
            (org_id, "org_id"), (user_id, "user_id"), (interaction_id, "interaction_id")
        )
        return await self._get_interaction(
            oid, uid, iid,
            with_messages=check_flag(with_messages, "with_messages"),
            with_memories=check_flag(with_memories, "with_memories"),
            resolve_names=check_flag(resolve_names, "resolve_names"),
        )  # fmt: skip

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
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        skip, limit = check_page(skip, limit)
        return await self._get_all_user_interactions(
            oid, uid,
            with_messages=check_flag(with_their_messages, "with_their_messages"),
            with_memories=check_flag(with_their_memories, "with_their_memories"),
            skip=skip, limit=limit,
            resolve_names=check_flag(resolve_names, "resolve_names"),
        )  # fmt: skip

    async def delete_user_interaction_and_its_memories(
        self, org_id: str, user_id: str, interaction_id: str
    ) -> Deleted:
        """Delete one interaction, its messages and the memories it produced (reported).
        History chains through a deleted memory are re-linked around it."""
        oid, uid, iid = require_ids(
            (org_id, "org_id"), (user_id, "user_id"), (interaction_id, "interaction_id")
        )
        return await self._delete_user_interaction(oid, uid, iid)

    async def delete_all_user_interactions_and_their_memories(
        self, org_id: str, user_id: str
    ) -> Deleted:
        """Delete every interaction of the user with their memories (reported); the user stays."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._delete_all_user_interactions(oid, uid)

    # ------------------------------------------------------------------ memory
    async def fetch_user_memories_resolved(
        self, org_user_mem_ids: Sequence[MemoryRef]
    ) -> list[Memory]:
        """Resolve search hits; see :meth:`fetch_user_memories_resolved_batch`."""
        return (await self.fetch_user_memories_resolved_batch([org_user_mem_ids]))[0]

    async def fetch_user_memories_resolved_batch(
        self, batch_org_user_mem_ids: Sequence[Sequence[MemoryRef]]
    ) -> list[list[Memory]]:
        """Resolve lists of search hits, one output list per input list (empty ones included).

        Each hit becomes the newest version(s) of its history chain (a fork yields every head),
        with names resolved (each memory by its own user and agents) and message sources
        attached. Order follows the input (relevance); duplicates keep their first position;
        ids missing from the store are dropped.
        """
        batch = check_refs(batch_org_user_mem_ids)
        if not any(batch):
            return [[] for _ in batch]
        return await self._fetch_user_memories_resolved_batch(batch)

    async def get_user_memory(
        self, org_id: str, user_id: str, memory_id: str, *, resolve_names: bool = True
    ) -> Memory:
        """Get one memory (not history-resolved), with sources if any remain.

        With ``resolve_names=False`` its text is returned exactly as stored.
        """
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        resolve = check_flag(resolve_names, "resolve_names")
        return await self._get_user_memory(
            oid, uid, require_memory_id(memory_id), resolve_names=resolve
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
        filter: FilterNode | None = None,
    ) -> list[Memory]:
        """A user's memories newest first (every version, superseded included), paginated.

        With ``resolve_names=False`` memory text is returned exactly as stored. ``filter`` (a
        parsed :mod:`memora_engine.filters` tree) keeps the memories it matches; ``skip`` and
        ``limit`` count matching memories only.
        """
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        aid = optional_id(agent_id, "agent_id")
        skip, limit = check_page(skip, limit)
        resolve = check_flag(resolve_names, "resolve_names")
        return await self._get_all_user_memories(
            oid, uid, aid, skip=skip, limit=limit, resolve_names=resolve,
            filter=check_filter_node(filter),
        )  # fmt: skip

    async def update_user_memory_metadata(
        self, org_id: str, user_id: str, memory_id: str, metadata: Metadata
    ) -> Memory:
        """Replace one memory's metadata in place (no new version); return the memory with
        names resolved and its sources.

        Raises:
            InvalidInputError: ``metadata`` breaks the limits of :mod:`memora_engine.filters`.
            MemoryNotFoundError: no such memory for this user.
        """
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        mid = require_memory_id(memory_id)
        return await self._update_user_memory_metadata(oid, uid, mid, validate_metadata(metadata))

    async def get_user_memory_history(
        self, org_id: str, user_id: str, memory_id: str
    ) -> list[Memory]:
        """The whole history chain of a memory, newest first, whichever version's id is given.

        With forks, the chain is every version connected to ``memory_id`` through contradiction
        links, ordered by ``obtained_at`` (newest first, ties by id).

        Raises:
            MemoryNotFoundError: no such memory for this user.
        """
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._get_user_memory_history(oid, uid, require_memory_id(memory_id))

    async def get_user_memory_links(self, org_id: str, user_id: str) -> list[tuple[str, str]]:
        """Every contradiction link ``(older_memory_id, newer_memory_id)`` of the user."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._get_user_memory_links(oid, uid)

    async def list_memories_for_indexing(
        self, *, org_id: str | None = None, after_memory_id: str | None = None, limit: int = 1000
    ) -> list[Memory]:
        """Memories ordered by id after ``after_memory_id`` (keyset pagination), names resolved,
        without sources: what the vector index must hold. For reindex and recovery."""
        oid = optional_id(org_id, "org_id")
        after = "" if after_memory_id is None else require_memory_id(after_memory_id)
        _, limit = check_page(0, limit)
        return await self._list_memories_for_indexing(oid, after, limit)

    async def count_memories(self, *, org_id: str | None = None) -> int:
        """How many memories (every version) the store, or one organization, holds."""
        return await self._count_memories(optional_id(org_id, "org_id"))

    async def delete_user_memory(self, org_id: str, user_id: str, memory_id: str) -> Deleted:
        """Delete one memory (reported); its history chain is re-linked around it."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._delete_user_memory(oid, uid, require_memory_id(memory_id))

    async def delete_user_memories(
        self, org_id: str, user_id: str, memory_ids: Sequence[str]
    ) -> Deleted:
        """Delete some memories of the user in one transaction (ids not found are ignored);
        chains are re-linked around them. ``found`` is whether any was deleted."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        ids = check_memory_ids(memory_ids)
        return await self._delete_user_memories(oid, uid, ids) if ids else Deleted(found=False)

    async def delete_all_user_memories(self, org_id: str, user_id: str) -> Deleted:
        """Delete every memory of the user (reported); interactions stay."""
        oid, uid = require_ids((org_id, "org_id"), (user_id, "user_id"))
        return await self._delete_all_user_memories(oid, uid)

    # ------------------------------------------------------------------ context manager
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
