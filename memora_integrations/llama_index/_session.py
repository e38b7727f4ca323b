"""One conversation as a Memora interaction: read, write, clear, recall (internal, async).

Shared by :class:`~memora_integrations.llama_index.MemoraMemory` and
:class:`~memora_integrations.llama_index.MemoraMemoryBlock`. Every function is a coroutine over
the async core; the adapters decide where it runs (see ``_runtime``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from memora_engine import Memora
from memora_engine.errors import ConflictError, InteractionNotFoundError
from memora_engine.schema import MemoriesAndInteraction, Memory, MessageBlock
from memora_integrations.llama_index._messages import Turn

__all__ = ["RecallOptions", "SessionRef"]


@dataclass(frozen=True)
class RecallOptions:
    """How a read recalls long-term memories."""

    search_across_agents: bool
    context_messages: int
    model_filter: bool


@dataclass(frozen=True)
class SessionRef:
    """The tenant ids and the interaction id of one conversation."""

    org_id: str
    user_id: str
    agent_id: str
    interaction_id: str

    async def messages(self, core: Memora) -> list[MessageBlock]:
        """The stored messages in order (``[]`` when the interaction does not exist yet)."""
        try:
            interaction = await core.graph.get_interaction(
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
    ) -> bool:
        """Make ``turns`` the whole stored conversation and extract memories from what is new.

        Skips the write (and its LLM calls) when nothing changed. Returns whether it wrote.
        """
        if stored is None:
            stored = await self.messages(core)
        if [(t["role"], t["content"]) for t in turns] == [(b.role, b.content) for b in stored]:
            return False
        if not stored:
            await self._ensure_exists(core)
        await core.save_or_update_interaction_and_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            list(turns),
            interaction_id=self.interaction_id,
            extract_agent_memories=extract_agent_memories,
            infer=infer,
        )
        return True

    async def clear_messages(self, core: Memora) -> None:
        """Remove every stored message; memories already taken from them stay."""
        try:
            await core.graph.update_interaction_and_memories(
                self.org_id,
                self.agent_id,
                self.user_id,
                self.interaction_id,
                MemoriesAndInteraction(interaction=[]),
            )
        except InteractionNotFoundError:
            return

    async def delete(self, core: Memora) -> None:
        """Delete the interaction with its messages and the memories it produced."""
        await core.graph.delete_user_interaction_and_its_memories(
            self.org_id, self.user_id, self.interaction_id
        )

    async def recall(
        self,
        core: Memora,
        query: str,
        context: Sequence[Turn],
        options: RecallOptions,
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
        )
        return memories

    async def _ensure_exists(self, core: Memora) -> None:
        """Create the interaction under our id (empty) so the engine can update it."""
        try:
            await core.graph.get_interaction(
                self.org_id,
                self.user_id,
                self.interaction_id,
                with_messages=False,
                with_memories=False,
            )
        except InteractionNotFoundError:
            # ConflictError: another writer created it concurrently, which is fine.
            with contextlib.suppress(ConflictError):
                await core.graph.save_interaction_with_memories(
                    self.org_id,
                    self.agent_id,
                    self.user_id,
                    MemoriesAndInteraction(),
                    interaction_id=self.interaction_id,
                )
