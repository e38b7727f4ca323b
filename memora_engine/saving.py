"""The save path behind ``Memora.save_or_update_interaction_and_memories`` (its checked
arguments in, the written interaction out): read the owners and the stored interaction, take
memories from the new messages (the LLM phase, or verbatim in raw mode), write graph + vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence, Set
from datetime import datetime
from typing import TYPE_CHECKING

from memora_engine import inference, pipeline
from memora_engine.coordinator import StoreCoordinator
from memora_engine.errors import InteractionNotFoundError
from memora_engine.filters import Metadata
from memora_engine.graph_db.base import BaseGraphDB
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.message_diff import plan_message_update
from memora_engine.prompts import Prompts
from memora_engine.schema.models import Agent, Interaction, Memory, User
from memora_engine.schema.storage import (
    ContraryMemoryToStore,
    MemoriesAndInteraction,
    MemoryToStore,
    MessageIn,
)

__all__ = ["InteractionSaving"]

logger = logging.getLogger("memora_engine")


class InteractionSaving:
    """The private save helpers of :class:`~memora_engine.Memora` (a mixin, no public methods).

    Examples:
        >>> iid, date = await memora.save_or_update_interaction_and_memories(
        ...     org_id, user_id, agent_id, [{"role": "user", "content": "I like tea."}])
    """

    graph_db: BaseGraphDB
    extraction_model: BaseBackendLLM | None
    prompts: Prompts
    output_guards: pipeline.OutputGuards
    _stores: StoreCoordinator

    if TYPE_CHECKING:  # provided by MemoryRetrieval

        async def search_memories_as_one(
            self,
            org_id: str,
            user_id: str,
            search_queries: Sequence[str],
            filter_out_memory_ids_set: Set[str] | None = None,
            agent_id: str | None = None,
            search_across_agents: bool = True,
        ) -> list[Memory]: ...

    async def _save_locked(
        self,
        org_id: str,
        user_id: str,
        agent_id: str,
        messages: list[MessageIn],
        interaction_id: str | None,
        now: datetime,
        *,
        use_llm: bool,
        extract_agent_memories: bool,
        update_across_agents: bool,
        max_retries: int,
        create_if_missing: bool,
        metadata: Metadata | None = None,
    ) -> tuple[str, datetime]:
        user = await self.graph_db.get_user(org_id, user_id)
        agent = await self.graph_db.get_agent(org_id, agent_id)
        existing: Interaction | None = None
        if interaction_id is not None:
            try:
                existing = await self.graph_db.get_interaction(org_id, user_id, interaction_id)
            except InteractionNotFoundError:
                if not create_if_missing:
                    raise
        new_positions = _appended_positions(messages, existing)
        memories: list[MemoryToStore] = []
        contrary: list[ContraryMemoryToStore] = []
        if not new_positions:
            pass  # nothing new to learn from (unchanged, shortened or emptied conversation)
        elif use_llm:
            memories, contrary = await self._infer_memories(
                user,
                agent,
                messages,
                existing,
                now,
                extract_agent_memories=extract_agent_memories,
                update_across_agents=update_across_agents,
                max_retries=max_retries,
            )
        else:
            memories = pipeline.raw_memories(messages, new_positions)
        memories, contrary = pipeline.stamp_metadata(memories, contrary, metadata)
        write = MemoriesAndInteraction(
            interaction=messages,
            interaction_date=now,
            memories=memories,
            contrary_memories=contrary,
        )
        result = await self._stores.write_interaction(
            org_id,
            agent_id,
            user_id,
            write,
            interaction_id=interaction_id if existing is None else existing.interaction_id,
            new=existing is None,
        )
        saved = result.write.interaction_id, result.write.date
        logger.info(
            "memora.save org=%s user=%s interaction=%s new=%d contrary=%d",
            org_id,
            user_id,
            saved[0],
            len(memories),
            len(contrary),
        )
        return saved

    async def _infer_memories(
        self,
        user: User,
        agent: Agent,
        messages: list[MessageIn],
        existing: Interaction | None,
        now: datetime,
        *,
        extract_agent_memories: bool,
        update_across_agents: bool,
        max_retries: int,
    ) -> tuple[list[MemoryToStore], list[ContraryMemoryToStore]]:
        """The LLM phase (:func:`memora_engine.inference.infer_memories`): at most
        ``2 + min(max_retries, 3)`` model calls; raises with nothing written when no valid
        extraction comes back."""
        assert self.extraction_model is not None

        async def search_related(queries: list[str]) -> list[Memory]:
            return await self.search_memories_as_one(
                user.org_id,
                user.user_id,
                queries,
                agent_id=agent.agent_id,
                search_across_agents=update_across_agents,
            )

        return await inference.infer_memories(
            self.extraction_model,
            prompts=self.prompts,
            guards=self.output_guards,
            search_related=search_related,
            user=user,
            agent=agent,
            messages=messages,
            existing=existing,
            now=now,
            extract_agent_memories=extract_agent_memories,
            max_retries=max_retries,
        )


def _appended_positions(messages: list[MessageIn], existing: Interaction | None) -> range:
    """Positions of the messages this save adds (all of them for a new interaction)."""
    stored = [(m.role, m.content) for m in existing.messages] if existing else []
    diff = plan_message_update(stored, [(m.role, m.content) for m in messages])
    return diff.appended_positions(len(messages))
