"""One conversation as a Memora interaction: read, write, clear, recall (internal, async).

Shared by :class:`~memora_integrations.llama_index.MemoraMemory` and
:class:`~memora_integrations.llama_index.MemoraMemoryBlock`. Every function is a coroutine over
the async core's public API; the adapters decide where it runs (see ``_runtime``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from memora_engine import Memora
from memora_engine.errors import InteractionNotFoundError
from memora_engine.schema import Memory, MessageBlock
from memora_engine.tracing import RunnableConfig
from memora_integrations.llama_index._messages import Turn

__all__ = ["RecallOptions", "SessionRef", "ensure_tenant"]


async def ensure_tenant(core: Memora, org_id: str, user_id: str, agent_id: str) -> None:
    """Create the organization, user and agent when missing (ids double as names)."""
    await core.get_or_create_organization(org_id)
    await core.get_or_create_user(org_id, user_id)
    await core.get_or_create_agent(org_id, agent_id)


@dataclass(frozen=True)
class RecallOptions:
    """How a read recalls long-term memories."""

    search_across_agents: bool
    context_messages: int
    model_filter: bool
    filter: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SessionRef:
    """The tenant ids and the interaction id of one conversation."""

    org_id: str
    user_id: str
    agent_id: str
    interaction_id: str

    async def ensure_tenant(self, core: Memora) -> None:
        """Create the organization, user and agent when missing (ids double as names)."""
        await ensure_tenant(core, self.org_id, self.user_id, self.agent_id)

    async def messages(self, core: Memora) -> list[MessageBlock]:
        """The stored messages in order (``[]`` when the interaction does not exist yet)."""
        try:
            interaction = await core.get_interaction(
                self.org_id,
                self.user_id,
                self.interaction_id,
                with_messages=True,
                with_memories=False,
            )
        except InteractionNotFoundError:
            return []
        return sorted(interaction.messages, key=lambda b: b.msg_position)

    async def save(
        self,
        core: Memora,
        turns: Sequence[Turn],
        *,
        stored: Sequence[MessageBlock] | None = None,
        infer: bool | None,
        extract_agent_memories: bool,
        config: RunnableConfig | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> bool:
        """Make ``turns`` the whole stored conversation and extract memories from what is new
        (each with ``metadata``).

        Skips the write (and its LLM calls) when nothing changed. Returns whether it wrote.
        """
        if stored is None:
            stored = await self.messages(core)
        if [(t["role"], t["content"]) for t in turns] == [(b.role, b.content) for b in stored]:
            return False
        await core.save_or_update_interaction_and_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            list(turns),
            interaction_id=self.interaction_id,
            extract_agent_memories=extract_agent_memories,
            infer=infer,
            create_if_missing=True,
            config=config,
            metadata=metadata,
        )
        return True

    async def clear_messages(self, core: Memora) -> None:
        """Remove every stored message; memories already taken from them stay."""
        try:
            await core.save_or_update_interaction_and_memories(
                self.org_id,
                self.user_id,
                self.agent_id,
                [],
                interaction_id=self.interaction_id,
                infer=False,
            )
        except InteractionNotFoundError:
            return

    async def delete(self, core: Memora) -> None:
        """Delete the interaction with its messages and the memories it produced."""
        await core.delete_interaction(self.org_id, self.user_id, self.interaction_id)

    async def recall(
        self,
        core: Memora,
        query: str,
        context: Sequence[Turn],
        options: RecallOptions,
        config: RunnableConfig | None = None,
    ) -> list[Memory]:
        """Memories relevant to ``query`` (recent ``context`` helps the query model)."""
        memories, _ = await core.recall_memories_for_message(
            self.org_id,
            self.user_id,
            query,
            agent_id=self.agent_id,
            preceding_msg_for_context=list(context)[-options.context_messages :]
            if options.context_messages
            else None,
            search_across_agents=options.search_across_agents,
            enable_final_model_based_memory_filter=options.model_filter,
            config=config,
            filter=options.filter,
        )
        return memories
