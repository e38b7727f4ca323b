"""Facts and edits: add memories directly, edit one, delete many by filter.

The part of :class:`~memora_engine.Memora` that gives what mem0's ``add`` / ``update`` /
``delete_all(filters=...)`` give, on Memora's data model:

* :meth:`FactManagement.add_memories` stores facts as memories of a new interaction whose
  messages are the facts themselves (role ``"fact"``), so every memory keeps a source. Verbatim by
  default; ``infer=True`` runs the comparison step, so a fact that contradicts a stored memory
  becomes its new version (a history chain).
* :meth:`FactManagement.edit_memory` changes a memory's text (a new version linked in its chain;
  the old one stays in history) and/or its metadata (in place).
* :meth:`FactManagement.delete_memories` deletes every memory version matching a filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from memora_engine import inference, pipeline
from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.filters import (
    Metadata,
    MetadataFilter,
    parse_optional_filter,
    validate_metadata,
)
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.ids import checked_arguments, ensure_aware, require_id, utc_now
from memora_engine.keyed_locks import KeyedLocks
from memora_engine.limits import MAX_MEMORY_CHARS, MAX_MESSAGES_PER_INTERACTION
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.prompts import Prompts
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
    MessageIn,
    validate_input,
)
from memora_engine.tracing import RunnableConfig, run_config_scope

__all__ = ["FACT_ROLE", "FactInput", "FactManagement"]

#: The role of the messages that carry facts added with :meth:`FactManagement.add_memories`.
FACT_ROLE = "fact"

#: One fact: its text, or ``{"memory": text, "metadata": {...}}``.
FactInput = str | Mapping[str, Any]

_DELETE_PAGE = 1000


class FactManagement:
    """Add facts, edit memories, delete memories by filter.

    The base of :class:`~memora_engine.Memora`; see there for construction.

    Examples:
        >>> [m] = await memora.add_memories(org_id, user_id, agent_id, ["Jake likes tea"],
        ...                                 metadata={"topic": "food"})
        >>> v2 = await memora.edit_memory(org_id, user_id, m.memory_id, memory="Jake likes coffee")
        >>> await memora.delete_memories(org_id, user_id, filter={"topic": "food"})
        2
    """

    graph_db: BaseGraphDB
    extraction_model: BaseBackendLLM | None
    prompts: Prompts
    output_guards: pipeline.OutputGuards
    _interaction_locks: KeyedLocks
    _stores: StoreCoordinator

    if TYPE_CHECKING:  # provided by MemoryRetrieval

        async def search_memories_as_one(
            self, org_id: str, user_id: str, search_queries: Sequence[str]
        ) -> list[Memory]: ...

    @checked_arguments
    async def add_memories(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        memories: Sequence[FactInput],
        *,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = False,
        current_datetime: datetime | None = None,
        max_retries: int = 3,
        config: RunnableConfig | None = None,
    ) -> list[Memory]:
        """Add facts as memories, verbatim (default) or through the comparison step.

        Each fact becomes a message (role ``"fact"``) of one new interaction and the source of
        its memory. ``metadata`` is given to every fact that has none of its own.

        Args:
            memories: Fact texts, or ``{"memory": text, "metadata": {...}}`` dicts.
            metadata: Metadata for the facts without their own (README, "Metadata and
                filters").
            infer: Compare the facts with related stored memories (1 model call, plus up to
                ``min(max_retries, 3)`` corrective retries): a fact that contradicts a memory
                becomes its new version (inheriting its metadata unless the fact has some); a
                fact the model finds already known is not stored again.
            current_datetime: When the facts were learnt (default: now).
            config: A LangChain ``RunnableConfig`` for the model call (tracing).

        Returns:
            The memories stored, in fact order (names resolved, with their source message).

        Raises:
            InvalidInputError: no facts, a blank or oversized fact, bad metadata.
            ConfigurationError: ``infer=True`` without an extraction model.

        Examples:
            >>> await memora.add_memories(org_id, user_id, agent_id,
            ...     ["Jake is vegetarian", {"memory": "Jake lives in Oslo",
            ...                             "metadata": {"topic": "home"}}])
        """
        require_id(org_id, "org_id")
        require_id(user_id, "user_id")
        require_id(agent_id, "agent_id")
        shared = None if metadata is None else validate_metadata(metadata)
        texts, own = _facts(memories)
        now = ensure_aware(current_datetime, name="current_datetime") if current_datetime else None
        now = now or utc_now()
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInputError("max_retries must be an int >= 0.")
        if infer and self.extraction_model is None:
            raise ConfigurationError("infer=True needs an extraction_model; none is configured.")
        messages = [MessageIn(role=FACT_ROLE, content=text) for text in texts]
        given = [o if o is not None else shared for o in own]
        if infer:
            with run_config_scope(config):
                new, contrary = await self._compare_facts(
                    org_id, user_id, agent_id, texts, now, max_retries
                )
            new = [_with(m, given[m.source_msg_block_pos[0]]) for m in new]
            contrary = [_with(m, given[m.source_msg_block_pos[0]]) for m in contrary]
        else:
            new = [
                MemoryToStore(memory=text, source_msg_block_pos=[i], metadata=given[i])
                for i, text in enumerate(texts)
            ]
            contrary = []
        record = MemoriesAndInteraction(
            interaction=messages, interaction_date=now, memories=new, contrary_memories=contrary
        )
        done = await self._stores.write_interaction(org_id, agent_id, user_id, record)
        stored = await self.graph_db.get_interaction(
            org_id, user_id, done.write.interaction_id, with_messages=False, with_memories=True
        )
        order = {m.memory_id: i for i, m in enumerate(done.memories)}
        return sorted(stored.memories, key=lambda m: order.get(m.memory_id, len(order)))

    async def _compare_facts(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        texts: list[str],
        now: datetime,
        max_retries: int,
    ) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
        assert self.extraction_model is not None
        user = await self.graph_db.get_user(org_id, user_id)
        agent = await self.graph_db.get_agent(org_id, agent_id)

        async def search_related(queries: list[str]) -> list[Memory]:
            return await self.search_memories_as_one(org_id, user_id, queries)

        return await inference.compare_facts(
            self.extraction_model,
            [pipeline.Candidate(text, (i,)) for i, text in enumerate(texts)],
            prompts=self.prompts,
            guards=self.output_guards,
            search_related=search_related,
            user=user,
            agent=agent,
            now=now,
            max_retries=max_retries,
        )

    @checked_arguments
    async def edit_memory(
        self,
        org_id: str,
        user_id: str,
        memory_id: str,
        *,
        memory: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        current_datetime: datetime | None = None,
    ) -> Memory:
        """Correct a memory's text and/or replace its metadata.

        A new text creates a new version (new id, same interaction and sources, linked after the
        edited one, which stays in history); it keeps the old metadata unless ``metadata`` is
        given. Metadata alone is replaced in place (the id stays). Only the current version of
        a chain can get a new text.

        Returns:
            The memory as it now is (the new version after a text edit).

        Raises:
            InvalidInputError: neither ``memory`` nor ``metadata``; a blank or oversized text;
                bad metadata; a text edit of a version that is no longer current.
            MemoryNotFoundError: no such memory for this user.

        Examples:
            >>> v2 = await memora.edit_memory(org_id, user_id, memory_id, memory="Jake is 31")
            >>> await memora.get_memory_history(org_id, user_id, v2.memory_id)  # [v2, v1]
        """
        if memory is None and metadata is None:
            raise InvalidInputError("edit_memory needs a new memory text, new metadata, or both.")
        clean = None if metadata is None else validate_metadata(metadata)
        text = None if memory is None else _fact_text(memory, "memory")
        now = ensure_aware(current_datetime, name="current_datetime") if current_datetime else None
        if text is None:
            assert clean is not None
            return await self._stores.update_memory_metadata(org_id, user_id, memory_id, clean)
        old = await self.graph_db.get_user_memory(org_id, user_id, memory_id, resolve_names=False)
        chain = await self.graph_db.get_user_memory_history(org_id, user_id, memory_id)
        if chain and chain[0].memory_id != old.memory_id:
            raise InvalidInputError(
                f"memory {memory_id} has a newer version ({chain[0].memory_id}); edit that one."
            )
        assert old.interaction_id is not None
        key = (org_id, user_id, old.interaction_id)
        async with self._interaction_locks.hold(key):
            interaction = await self.graph_db.get_interaction(
                org_id,
                user_id,
                old.interaction_id,
                with_messages=True,
                with_memories=False,
                resolve_names=False,
            )
            version = ContraryMemoryToStore(
                memory=text,
                source_msg_block_pos=[s.msg_position for s in old.message_sources],
                existing_contrary_memory_id=old.memory_id,
                agent_id=old.agent_id,
                metadata=clean,
            )
            record = MemoriesAndInteraction(
                interaction=[
                    MessageIn(role=m.role, content=m.content) for m in interaction.messages
                ],
                interaction_date=now or utc_now(),
                contrary_memories=[version],
            )
            done = await self._stores.write_interaction(
                org_id,
                old.agent_id,
                user_id,
                record,
                interaction_id=old.interaction_id,
                new=False,
            )
        [written] = done.memories
        return await self.graph_db.get_user_memory(org_id, user_id, written.memory_id)

    @checked_arguments
    async def delete_memories(self, org_id: str, user_id: str, *, filter: MetadataFilter) -> int:
        """Delete every memory version of the user that matches ``filter`` (and its vector).

        History chains are re-linked around deleted versions, as with :meth:`delete_memory`.
        To delete everything, use :meth:`delete_all_memories`.

        Returns:
            How many memory versions were deleted.

        Raises:
            InvalidInputError: an empty or invalid filter.

        Examples:
            >>> await memora.delete_memories(org_id, user_id, filter={"source": "import-2024"})
            12
        """
        require_id(org_id, "org_id")
        require_id(user_id, "user_id")
        wanted = parse_optional_filter(filter)
        if wanted is None:
            raise InvalidInputError(
                "delete_memories needs a non-empty filter; use delete_all_memories for all."
            )
        total = 0
        while True:
            page = await self.graph_db.get_all_user_memories(
                org_id, user_id, None, 0, _DELETE_PAGE, resolve_names=False, filter=wanted
            )
            if not page:
                return total
            deleted = await self._stores.delete_memories(
                org_id, user_id, [m.memory_id for m in page]
            )
            total += deleted
            if len(page) < _DELETE_PAGE or deleted == 0:
                return total  # (0: a concurrent delete took them; never loop on a stale page)


def _facts(memories: object) -> tuple[list[str], list[Metadata | None]]:
    """Texts and own metadata of ``add_memories``' facts (pure validation)."""
    if isinstance(memories, str | bytes) or not isinstance(memories, Sequence):
        raise InvalidInputError("memories must be a list of fact texts or {'memory', 'metadata'}.")
    if not memories:
        raise InvalidInputError("add_memories needs at least one fact.")
    if len(memories) > MAX_MESSAGES_PER_INTERACTION:
        raise InvalidInputError(
            f"{len(memories)} facts in one call; at most {MAX_MESSAGES_PER_INTERACTION}."
        )
    texts: list[str] = []
    own: list[Metadata | None] = []
    for i, item in enumerate(memories):
        if isinstance(item, str):
            texts.append(_fact_text(item, f"memories[{i}]"))
            own.append(None)
        elif isinstance(item, Mapping):
            unknown = set(item) - {"memory", "metadata"}
            if unknown or "memory" not in item:
                raise InvalidInputError(
                    f"memories[{i}] must be a text or {{'memory': str, 'metadata': dict}}"
                    + (f"; unknown keys {sorted(map(str, unknown))}." if unknown else ".")
                )
            texts.append(_fact_text(item["memory"], f"memories[{i}].memory"))
            md = item.get("metadata")
            own.append(
                None if md is None else validate_metadata(md, what=f"memories[{i}].metadata")
            )
        else:
            raise InvalidInputError(
                f"memories[{i}] must be a text or a dict, got {type(item).__name__}."
            )
    return texts, own


def _fact_text(text: object, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what} must be a non-blank string.")
    if len(text) > MAX_MEMORY_CHARS:
        raise InvalidInputError(f"{what} has {len(text)} characters; at most {MAX_MEMORY_CHARS}.")
    validate_input(MemoryToStore, {"memory": text}, what=what)  # encoding, as every memory
    return text


def _with(item: Any, metadata: Metadata | None) -> Any:
    return item if metadata is None else item.model_copy(update={"metadata": dict(metadata)})
