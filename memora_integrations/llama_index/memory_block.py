"""``MemoraMemoryBlock``: Memora long-term memory as a block of LlamaIndex's ``Memory``.

``Memory`` keeps a short-term FIFO of messages and asks each block for content on every read.
This block answers with the user's memories relevant to the current messages, and saves the
messages it is given into the user's Memora interaction, where they become memories.

**What the block sees.** ``Memory`` hands blocks only the messages it *flushes* out of its
short-term buffer, which by default happens once about 21k tokens of chat have piled up
(``token_limit=30000`` x ``chat_history_token_ratio=0.7``). Until then nothing reaches Memora.
Either lower ``token_limit`` so turns flush sooner, or set ``eager=True``: the block then also
saves the live short-term window on every read, so each turn is stored (and its memories
extracted) one read later, and flushed messages it already saved are not stored twice.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import BaseMemoryBlock
from llama_index.core.vector_stores.types import MetadataFilters

from memora_engine.errors import InvalidInputError
from memora_engine.tracing import RunnableConfig
from memora_integrations.llama_index._messages import (
    DEFAULT_MEMORIES_HEADER,
    Turn,
    format_memories,
    latest_user_text,
    memories_outside_window,
    merge_conversation,
    persistable,
)
from memora_integrations.llama_index._runtime import CoreRunner, MemoraLike, run_config_for
from memora_integrations.llama_index._session import RecallOptions, SessionRef
from memora_integrations.llama_index.filters import check_adapter_options, to_memora_filter

__all__ = ["MemoraMemoryBlock"]


class MemoraMemoryBlock(BaseMemoryBlock[str]):
    """A ``Memory`` block that recalls Memora memories and saves flushed messages to Memora.

    Reads (``_aget``) recall the user's memories relevant to the latest user message and return
    them as text, one ``- [date] memory`` line each. Writes (``_aput``) append the messages
    ``Memory`` flushes to the Memora interaction of the session (``interaction_id``, or the
    ``Memory``'s ``session_id`` when omitted), which extracts memories from them. With
    ``eager=True`` every read also saves the current window (see the module docs).

    The org, user and agent must exist (or pass ``create_missing=True``). Memora's
    model calls get the config of the LangChain / LangGraph run they are made in, else
    ``run_config`` (a LangChain ``RunnableConfig``: callbacks, tags, metadata; tracing).

    Args:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: The organization.
        user_id: The user whose memories are recalled and saved.
        agent_id: The agent speaking.
        interaction_id: The interaction to write to (default: the ``Memory``'s ``session_id``).
        eager: Also save the live window on every read (each turn is stored).
        filters: Recall only memories matching (LlamaIndex ``MetadataFilters`` or a Memora
            filter dict; applied inside the search, so ``max_memories`` still fills up).
        metadata: Metadata for every memory saved through this block.
        run_config: LangChain ``RunnableConfig`` for Memora's model calls (tracing).

    Examples:
        >>> from llama_index.core.memory import Memory
        >>> block = MemoraMemoryBlock(memora, org_id="acme", user_id="jake", agent_id="jarvis",
        ...                           eager=True)
        >>> memory = Memory.from_defaults(session_id="chat-1", memory_blocks=[block])
        >>> agent.run("What should I cook tonight?", memory=memory)  # doctest: +SKIP
    """

    name: str = Field(default="memora_memories", description="Block name (its prompt tag).")
    description: str | None = Field(
        default="Long-term memories about the user, recalled from Memora."
    )
    org_id: str = Field(description="Memora organization id.")
    user_id: str = Field(description="Memora user id.")
    agent_id: str = Field(description="Memora agent id.")
    interaction_id: str | None = Field(
        default=None, description="Interaction to save into; default: the Memory's session_id."
    )
    eager: bool = Field(default=False, description="Save the live window on every read.")
    max_memories: int = Field(default=8, ge=1, description="Most memories per read.")
    memories_header: str = Field(default=DEFAULT_MEMORIES_HEADER)
    search_across_agents: bool = Field(default=True)
    recall_context_messages: int = Field(default=6, ge=0)
    model_filter: bool = Field(default=False)
    infer: bool | None = Field(default=None)
    extract_agent_memories: bool = Field(default=False)
    run_config: dict[str, Any] | None = Field(default=None, exclude=True)
    create_missing: bool = Field(default=False, description="Create org / user / agent.")
    filters: MetadataFilters | dict[str, Any] | None = Field(
        default=None, description="Recall only memories matching."
    )
    metadata: dict[str, Any] | None = Field(
        default=None, description="Metadata for every memory saved through this block."
    )

    _runner: CoreRunner = PrivateAttr()

    def __init__(self, memora: MemoraLike, **data: Any) -> None:
        check_adapter_options(data)
        super().__init__(**data)
        self._runner = CoreRunner(memora)

    def _config(self) -> RunnableConfig | None:
        return run_config_for(self.run_config)

    def _session(self, session_id: Any) -> SessionRef:
        interaction_id = self.interaction_id or (
            session_id if isinstance(session_id, str) else None
        )
        if not interaction_id:
            raise InvalidInputError(
                "MemoraMemoryBlock needs an interaction: set interaction_id, or use it inside a "
                "llama_index Memory (whose session_id it then uses)."
            )
        return SessionRef(self.org_id, self.user_id, self.agent_id, interaction_id)

    # ------------------------------------------------------------------ reads
    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        """Recall memories for the latest user message; eager mode saves the window first."""
        config = self._config()
        return await self._runner.arun(self._read(list(messages or []), block_kwargs, config))

    async def _read(
        self,
        messages: list[ChatMessage],
        block_kwargs: dict[str, Any],
        config: RunnableConfig | None,
    ) -> str:
        session = self._session(block_kwargs.get("session_id"))
        if self.create_missing:
            await session.ensure_tenant(self._runner.core)
        turns = persistable(messages)
        if len(turns) >= 2 and turns[-1] == turns[-2]:
            # Memory appends the read's ``input`` as a user message; agents pass the user
            # message that is already the last one in the buffer.
            turns = turns[:-1]
        if self.eager and turns:
            await self._save(session, turns, merge=True, config=config)
        query = latest_user_text(messages)
        if not query:
            return ""
        context = turns
        if context and context[-1]["content"].strip() == query:
            context = context[:-1]
        options = RecallOptions(
            search_across_agents=self.search_across_agents,
            context_messages=self.recall_context_messages,
            model_filter=self.model_filter,
            filter=to_memora_filter(self.filters),
        )
        memories = await session.recall(self._runner.core, query, context, options, config)
        memories = memories_outside_window(memories, session.interaction_id, messages)
        return format_memories(memories[: self.max_memories], self.memories_header)

    # ------------------------------------------------------------------ writes
    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Save flushed messages into the interaction (memories are extracted from them)."""
        if not messages:
            return
        session_id = messages[0].additional_kwargs.get("session_id")
        session, config = self._session(session_id), self._config()
        await self._runner.arun(
            self._save(session, persistable(messages), merge=self.eager, config=config)
        )

    async def _save(
        self,
        session: SessionRef,
        turns: list[Turn],
        *,
        merge: bool,
        config: RunnableConfig | None,
    ) -> None:
        if not turns:
            return
        core = self._runner.core
        if self.create_missing:
            await session.ensure_tenant(core)
        stored = await session.messages(core)
        stored_turns: list[Turn] = [{"role": b.role, "content": b.content} for b in stored]
        full = merge_conversation(stored_turns, turns) if merge else stored_turns + turns
        await session.save(
            core,
            full,
            stored=stored,
            infer=self.infer,
            extract_agent_memories=self.extract_agent_memories,
            config=config,
            metadata=self.metadata,
        )

    async def atruncate(self, content: str, tokens_to_truncate: int) -> str | None:
        """Drop the least relevant memories (last lines) until about enough tokens are freed."""
        lines = content.splitlines()
        header, items = lines[:1], lines[1:]
        freed = 0
        while items and freed < tokens_to_truncate:
            freed += max(1, len(items.pop()) // 4)
        return "\n".join(header + items) if items else None
