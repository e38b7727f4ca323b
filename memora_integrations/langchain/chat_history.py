"""``MemoraChatMessageHistory``: a LangChain chat history backed by one Memora interaction."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig
from typing_extensions import Self

from memora_engine import Memora
from memora_engine.schema import Interaction, Memory
from memora_integrations.langchain._runtime import (
    MemoraBridge,
    MemoraLike,
    ambient_config,
    ensure_tenant,
    forwardable,
    from_memora_messages,
    save_conversation,
    stored_interaction,
    to_memora_messages,
)

__all__ = ["MemoraChatMessageHistory"]


class MemoraChatMessageHistory(BaseChatMessageHistory):
    """A ``BaseChatMessageHistory`` stored as one Memora interaction, with memory extraction.

    Messages are kept as (role, text) message blocks; tool-call ids and message metadata are
    not stored. Every write sends the whole conversation to
    ``save_or_update_interaction_and_memories``, which appends the new messages and extracts
    memories from them (or stores them verbatim in raw mode).

    Args:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: Organization id.
        user_id: User id.
        agent_id: Agent id (the agent of the conversation).
        interaction_id: The conversation to continue. ``None`` starts a new one at the first
            write (its id is then in :attr:`interaction_id`); an id that does not exist yet is
            created with that id (so a ``session_id`` can be used directly).
        defer_extraction: ``False`` (default) writes and extracts on every
            ``add_messages``. ``True`` keeps new messages in this object until :meth:`flush` /
            :meth:`aflush` or the end of a ``with`` / ``async with`` block, then writes them in
            one save (fewer LLM calls; unflushed messages are lost if the process dies).
        infer: Passed to the engine: ``False`` raw mode, ``None`` extract when the engine has
            an extraction model.
        create_missing: Create the org, user and agent if they do not exist (ids as names).
        clear_deletes_memories: ``clear()`` normally removes the messages and keeps the
            memories learned from them; ``True`` deletes the memories too.
        config: A default LangChain ``RunnableConfig`` (callbacks, tags, metadata) for
            Memora's model calls (tracing). ``add_messages(..., config=...)`` wins over it, and
            so does the config of the LangChain / LangGraph run the call is made in, if any.

    Examples:
        >>> history = MemoraChatMessageHistory(memora, org_id="acme", user_id="jake",
        ...                                    agent_id="assistant", interaction_id="session-1")
        >>> question = HumanMessage("I'm allergic to peanuts.")
        >>> reply = model.invoke([*history.messages, question])
        >>> history.add_messages([question, reply])   # stored; memories extracted
        >>> [m.memory for m in history.get_memories()]
        ['Jake is allergic to peanuts']
    """

    def __init__(
        self,
        memora: MemoraLike,
        *,
        org_id: str,
        user_id: str,
        agent_id: str,
        interaction_id: str | None = None,
        defer_extraction: bool = False,
        infer: bool | None = None,
        create_missing: bool = False,
        clear_deletes_memories: bool = False,
        config: RunnableConfig | None = None,
    ) -> None:
        super().__init__()
        self._bridge = MemoraBridge(memora)
        self.org_id = org_id
        self.user_id = user_id
        self.agent_id = agent_id
        self.interaction_id = interaction_id
        self.defer_extraction = defer_extraction
        self.infer = infer
        self.create_missing = create_missing
        self.clear_deletes_memories = clear_deletes_memories
        self.config = config
        self._pending: list[BaseMessage] = []

    # ------------------------------------------------------------------ reads
    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The stored conversation, followed by any messages not flushed yet."""
        return self._bridge.run(self._read_messages)

    async def aget_messages(self) -> list[BaseMessage]:
        """Async :attr:`messages`."""
        return await self._bridge.arun(self._read_messages)

    def get_memories(self) -> list[Memory]:
        """The memories extracted from this conversation so far (as stored, newest first)."""
        return self._bridge.run(self._read_memories)

    async def aget_memories(self) -> list[Memory]:
        """Async :meth:`get_memories`."""
        return await self._bridge.arun(self._read_memories)

    # ------------------------------------------------------------------ writes
    def add_messages(
        self, messages: Sequence[BaseMessage], *, config: RunnableConfig | None = None
    ) -> None:
        """Add messages in bulk (written now, or at flush with ``defer_extraction``).

        ``config``: the run config Memora's model calls nest under (tracing).
        """
        self._pending.extend(messages)
        if not self.defer_extraction:
            self.flush(config=config)

    async def aadd_messages(
        self, messages: Sequence[BaseMessage], *, config: RunnableConfig | None = None
    ) -> None:
        """Async :meth:`add_messages`."""
        self._pending.extend(messages)
        if not self.defer_extraction:
            await self.aflush(config=config)

    def flush(self, *, config: RunnableConfig | None = None) -> None:
        """Write pending messages and extract memories from them (no-op when none)."""
        if self._pending:
            run_config = self._run_config(config)
            self._bridge.run(lambda core: self._write_pending(core, run_config))

    async def aflush(self, *, config: RunnableConfig | None = None) -> None:
        """Async :meth:`flush`."""
        if self._pending:
            run_config = self._run_config(config)
            await self._bridge.arun(lambda core: self._write_pending(core, run_config))

    def _run_config(self, config: RunnableConfig | None) -> RunnableConfig | None:
        return forwardable(config or ambient_config() or self.config)

    def clear(self) -> None:
        """Remove the conversation's messages (memories stay unless configured otherwise)."""
        self._pending.clear()
        self._bridge.run(self._clear)

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        self._pending.clear()
        await self._bridge.arun(self._clear)

    # ------------------------------------------------------------------ context managers
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.flush()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aflush()

    # ------------------------------------------------------------------ async core
    async def _stored(self, core: Memora, *, messages: bool, memories: bool) -> Interaction | None:
        return await stored_interaction(
            core,
            self.org_id,
            self.user_id,
            self.interaction_id,
            messages=messages,
            memories=memories,
        )

    async def _read_messages(self, core: Memora) -> list[BaseMessage]:
        stored = await self._stored(core, messages=True, memories=False)
        old = from_memora_messages(stored.messages) if stored else []
        return [*old, *self._pending]

    async def _read_memories(self, core: Memora) -> list[Memory]:
        stored = await self._stored(core, messages=False, memories=True)
        return list(stored.memories) if stored else []

    async def _write_pending(self, core: Memora, config: RunnableConfig | None) -> None:
        batch = list(self._pending)
        if self.create_missing:
            await ensure_tenant(core, self.org_id, self.user_id, self.agent_id)
        stored = await self._stored(core, messages=True, memories=False)
        conversation = [*(stored.messages_as_dicts() if stored else []), *to_memora_messages(batch)]
        self.interaction_id = await save_conversation(
            core,
            self.org_id,
            self.user_id,
            self.agent_id,
            conversation,
            self.interaction_id,
            infer=self.infer,
            config=config,
        )
        del self._pending[: len(batch)]

    async def _clear(self, core: Memora) -> None:
        if await self._stored(core, messages=False, memories=False) is None:
            return
        assert self.interaction_id is not None
        if self.clear_deletes_memories:
            await core.delete_interaction(self.org_id, self.user_id, self.interaction_id)
            return
        await core.save_or_update_interaction_and_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            [],
            interaction_id=self.interaction_id,
            infer=False,
        )
