"""``MemoraMemory``: a LlamaIndex ``BaseMemory`` whose chat history is a Memora interaction.

Drop it into anything that takes ``memory=`` (``SimpleChatEngine``,
``CondensePlusContextChatEngine``, ``FunctionAgent`` / ``AgentWorkflow``). The short-term history
is the stored interaction itself, so a conversation survives restarts; every read also recalls
the user's relevant long-term memories (from every conversation) into the prompt.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.memory.memory import InsertMethod
from llama_index.core.memory.types import BaseMemory
from llama_index.core.utils import get_tokenizer
from llama_index.core.vector_stores.types import MetadataFilters
from typing_extensions import Self

from memora_engine.errors import InvalidInputError
from memora_engine.schema import Memory
from memora_engine.tracing import RunnableConfig
from memora_integrations.llama_index._messages import (
    DEFAULT_MEMORIES_HEADER,
    blocks_to_messages,
    format_memories,
    insert_memories,
    latest_user_text,
    memories_outside_window,
    message_text,
    persistable,
    to_stored,
    trim_to_tokens,
    trim_window,
)
from memora_integrations.llama_index._runtime import CoreRunner, MemoraLike, run_config_for
from memora_integrations.llama_index._session import RecallOptions, SessionRef
from memora_integrations.llama_index.filters import check_adapter_options, to_memora_filter

__all__ = ["MemoraMemory"]


#: ``ChatMemoryBuffer.from_defaults`` arguments that have no meaning here (Memora is the store).
_STORE_ARGUMENTS = ("chat_store",)


def _new_session_id() -> str:
    return uuid.uuid4().hex


class MemoraMemory(BaseMemory):
    """Chat memory for LlamaIndex chat engines and agents, stored in Memora.

    * **Short-term**: the conversation is the Memora interaction ``session_id`` of the user, so a
      new process with the same ids continues it. ``get()`` shows its last ``max_messages``.
    * **Long-term**: ``get()`` recalls the user's memories relevant to the latest user message
      (or ``input``) and puts them, with the date each was learned, into the system message
      (``insert_method=InsertMethod.USER``: into the latest user message instead).
    * **Writes**: a user message is held until the reply arrives; the reply (or any non-user
      message with text) saves the whole turn in one Memora call, which stores the messages and
      extracts memories (raw mode without an extraction model). Tool calls and tool results are
      run-time scratch and are not stored. ``set()`` replaces the stored conversation;
      ``reset()`` clears its messages but keeps the memories learned from them.

    * **Token budget** (like ``ChatMemoryBuffer``): with ``token_limit``, ``get()`` drops the
      oldest messages until the window, the recalled memories and ``initial_token_count`` fit
      (never an assistant or tool message first; at least the latest message). Non-string
      ``input`` (``get(5)``, as LlamaIndex's own buffer tests call it) is ignored, as
      ``ChatMemoryBuffer`` ignores it: the query is then the latest user message.
    * **Metadata and filters**: ``filters`` (LlamaIndex ``MetadataFilters`` or a Memora filter
      dict, see :func:`~memora_integrations.llama_index.filters.to_memora_filter`) limits what
      ``get()`` recalls, inside the search (so ``max_recalled_memories`` still fills up);
      ``metadata`` is given to every memory the conversation's saves create.
    * **Tracing**: Memora's model calls get the config of the LangChain / LangGraph run they are
      made in, else ``run_config`` (a LangChain ``RunnableConfig``: callbacks, tags, metadata).

    The org, user and agent must exist, or pass ``create_missing=True`` to create them on first
    use (your own ids are accepted; they double as names). Sync methods run on Memora's sync
    portal; async ones await the core directly.

    Args:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: The organization.
        user_id: The user this conversation is with.
        agent_id: The agent speaking.
        session_id: The Memora interaction id (a new one when omitted; keep it to resume).
        token_limit: Token budget of ``get()`` (``None``: only ``max_messages`` applies).
        filters: Recall only memories matching (``MetadataFilters`` or a Memora filter dict).
        metadata: Metadata for every memory saved from this conversation.
        run_config: LangChain ``RunnableConfig`` for Memora's model calls (tracing).
        create_missing: Create the org, user and agent if they do not exist.

    Examples:
        >>> from llama_index.core.chat_engine import SimpleChatEngine
        >>> memory = MemoraMemory.from_defaults(
        ...     memora, org_id="acme", user_id="jake", agent_id="jarvis", session_id="chat-1")
        >>> engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
        >>> engine.chat("I'm allergic to peanuts.")  # doctest: +SKIP
        >>> from llama_index.core.vector_stores import MetadataFilter, MetadataFilters
        >>> memory = MemoraMemory.from_defaults(
        ...     memora, "acme", "jake", "jarvis", metadata={"channel": "support"},
        ...     filters=MetadataFilters(filters=[MetadataFilter(key="channel", value="support")]))
    """

    org_id: str = Field(description="Memora organization id.")
    user_id: str = Field(description="Memora user id (whose memories are recalled).")
    agent_id: str = Field(description="Memora agent id (who speaks in this conversation).")
    session_id: str = Field(
        default_factory=_new_session_id,
        description="Memora interaction id holding this conversation.",
    )
    max_messages: int | None = Field(
        default=40, ge=1, description="How many recent messages get() returns (None: all)."
    )
    recall: bool = Field(default=True, description="Whether get() adds long-term memories.")
    max_recalled_memories: int = Field(default=8, ge=1, description="Most memories per get().")
    insert_method: InsertMethod = Field(
        default=InsertMethod.SYSTEM,
        description="Where recalled memories go: the system message or the latest user message.",
    )
    memories_header: str = Field(
        default=DEFAULT_MEMORIES_HEADER, description="Text heading the recalled memories."
    )
    search_across_agents: bool = Field(
        default=True, description="Recall memories the user shared with any agent."
    )
    recall_context_messages: int = Field(
        default=6, ge=0, description="Earlier messages given to the recall query model."
    )
    model_filter: bool = Field(
        default=False, description="Let the memory-search model drop irrelevant recalls."
    )
    infer: bool | None = Field(
        default=None,
        description="False: store messages verbatim as memories; None: infer if a model is set.",
    )
    extract_agent_memories: bool = Field(
        default=False, description="Also extract memories about the agent."
    )
    token_limit: int | None = Field(
        default=None, ge=1, description="Token budget of get() (None: max_messages only)."
    )
    tokenizer_fn: Callable[[str], list[Any]] = Field(
        default_factory=get_tokenizer,
        exclude=True,
        description="Counts tokens for token_limit (default: LlamaIndex's tokenizer).",
    )
    run_config: dict[str, Any] | None = Field(
        default=None,
        exclude=True,
        description="LangChain RunnableConfig for Memora's model calls (tracing).",
    )
    create_missing: bool = Field(
        default=False, description="Create the org, user and agent when missing."
    )
    filters: MetadataFilters | dict[str, Any] | None = Field(
        default=None,
        description="Recall only memories matching (MetadataFilters or a Memora filter dict).",
    )
    metadata: dict[str, Any] | None = Field(
        default=None, description="Metadata for every memory saved from this conversation."
    )

    _runner: CoreRunner = PrivateAttr()
    _tenant_ready: bool = PrivateAttr(default=False)
    _pending: list[ChatMessage] = PrivateAttr(default_factory=list)
    _recall_cache: tuple[tuple[str, int], list[Memory]] | None = PrivateAttr(default=None)

    def __init__(self, memora: MemoraLike, **data: Any) -> None:
        check_adapter_options(data)
        super().__init__(**data)
        self._runner = CoreRunner(memora)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # A handle on stored state (like a database connection), not a value: copies share it.
        return self

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex component name."""
        return "MemoraMemory"

    @classmethod
    def from_defaults(  # type: ignore[override]
        cls,
        memora: MemoraLike,
        org_id: str,
        user_id: str,
        agent_id: str,
        session_id: str | None = None,
        chat_history: list[ChatMessage] | None = None,
        *,
        llm: Any = None,
        token_limit: int | None = None,
        tokenizer_fn: Callable[[str], list[Any]] | None = None,
        chat_store_key: str | None = None,
        **kwargs: Any,
    ) -> MemoraMemory:
        """Create the memory; ``chat_history`` (if given) replaces the stored conversation.

        Accepts ``ChatMemoryBuffer.from_defaults``' arguments where they mean something here:
        ``token_limit`` and ``tokenizer_fn``; ``llm`` sets the default ``token_limit`` (75 % of
        its context window); ``chat_store_key`` is the ``session_id``. Other keywords must be
        fields of this class.

        Raises:
            InvalidInputError: an unknown keyword, or ``chat_store`` (Memora is the store).
        """
        stores = [name for name in _STORE_ARGUMENTS if name in kwargs]
        if stores:
            raise InvalidInputError(
                f"MemoraMemory does not take {stores[0]}: the conversation is stored in Memora "
                "(pass session_id to choose the interaction)."
            )
        unknown = sorted(set(kwargs) - set(cls.model_fields))
        if unknown:
            raise InvalidInputError(
                f"Unexpected arguments for MemoraMemory.from_defaults: {unknown}. Accepted: "
                "session_id, chat_history, llm, token_limit, tokenizer_fn, chat_store_key and "
                "the fields of MemoraMemory."
            )
        if session_id is not None and chat_store_key is not None and session_id != chat_store_key:
            raise InvalidInputError("Pass session_id or chat_store_key, not two different ids.")
        session_id = session_id or chat_store_key
        if token_limit is None and llm is not None:
            token_limit = int(llm.metadata.context_window * 0.75)
        if session_id is not None:
            kwargs["session_id"] = session_id
        if token_limit is not None:
            kwargs["token_limit"] = token_limit
        if tokenizer_fn is not None:
            kwargs["tokenizer_fn"] = tokenizer_fn
        memory = cls(memora, org_id=org_id, user_id=user_id, agent_id=agent_id, **kwargs)
        if chat_history is not None:
            memory.set(chat_history)
        return memory

    @property
    def interaction_id(self) -> str:
        """The Memora interaction id (same as ``session_id``)."""
        return self.session_id

    @property
    def _ref(self) -> SessionRef:
        return SessionRef(self.org_id, self.user_id, self.agent_id, self.session_id)

    # ------------------------------------------------------------------ reads
    async def _prepare(self) -> None:
        """With ``create_missing``, create the tenant once per memory object."""
        if self.create_missing and not self._tenant_ready:
            await self._ref.ensure_tenant(self._runner.core)
            self._tenant_ready = True

    async def _history(self) -> tuple[list[ChatMessage], int]:
        """Stored messages + pending ones, and how many of them are stored."""
        await self._prepare()
        stored = blocks_to_messages(await self._ref.messages(self._runner.core))
        return [*stored, *(m.model_copy(deep=True) for m in self._pending)], len(stored)

    async def _get(
        self, input: object, initial_token_count: int, config: RunnableConfig | None
    ) -> list[ChatMessage]:
        if isinstance(initial_token_count, bool) or not isinstance(initial_token_count, int):
            raise InvalidInputError("initial_token_count must be an int.")
        if self.token_limit is not None and initial_token_count > self.token_limit:
            raise InvalidInputError("Initial token count exceeds token limit")
        history, stored_count = await self._history()
        window = history[trim_window(history, self.max_messages) :]
        text = ""
        if self.recall:
            text = await self._recall_text(input, window, history, stored_count, config)
        if self.token_limit is not None:
            count = self._count_tokens
            if text and initial_token_count + count(text) > self.token_limit:
                text = ""  # the memories alone do not fit: leave them out
            budget = self.token_limit - initial_token_count - (count(text) if text else 0)
            window = trim_to_tokens(window, budget, count)
        if not text:
            return window
        into = MessageRole.SYSTEM if self.insert_method == InsertMethod.SYSTEM else MessageRole.USER
        return insert_memories(window, text, into=into)

    def _count_tokens(self, text: str) -> int:
        return len(self.tokenizer_fn(text))

    async def _recall_text(
        self,
        input: object,
        window: list[ChatMessage],
        history: list[ChatMessage],
        stored_count: int,
        config: RunnableConfig | None,
    ) -> str:
        # Like LlamaIndex's memories, input that is neither text nor a message is ignored.
        if isinstance(input, ChatMessage):
            query = message_text(input)
        else:
            query = input if isinstance(input, str) else ""
        query = query.strip() or latest_user_text(window) or ""
        if not query:
            return ""
        memories = await self._recall(query, history, stored_count, config)
        memories = memories_outside_window(memories, self.session_id, window)
        return format_memories(memories[: self.max_recalled_memories], self.memories_header)

    async def _recall(
        self,
        query: str,
        history: list[ChatMessage],
        stored_count: int,
        config: RunnableConfig | None,
    ) -> list[Memory]:
        # An agent reads memory several times per run; recall once per (query, stored state).
        key = (query, stored_count)
        if self._recall_cache is not None and self._recall_cache[0] == key:
            return self._recall_cache[1]
        context = persistable(history)
        if context and context[-1]["content"].strip() == query:
            context = context[:-1]
        options = RecallOptions(
            search_across_agents=self.search_across_agents,
            context_messages=self.recall_context_messages,
            model_filter=self.model_filter,
            filter=to_memora_filter(self.filters),
        )
        memories = await self._ref.recall(self._runner.core, query, context, options, config)
        self._recall_cache = (key, memories)
        return memories

    async def _get_all(self) -> list[ChatMessage]:
        history, _ = await self._history()
        return history

    def get(
        self, input: Any = None, initial_token_count: int = 0, **kwargs: Any
    ) -> list[ChatMessage]:
        """The recent conversation with recalled memories inserted.

        Args:
            input: The recall query (text or a message); anything else is ignored and the
                latest user message is the query.
            initial_token_count: Tokens already used elsewhere in the prompt (counted against
                ``token_limit``).

        Raises:
            InvalidInputError: ``initial_token_count`` exceeds ``token_limit`` (a ValueError).
        """
        config = self._config()
        return self._runner.run(self._get(input, initial_token_count, config))

    async def aget(
        self, input: Any = None, initial_token_count: int = 0, **kwargs: Any
    ) -> list[ChatMessage]:
        """Async :meth:`get`."""
        config = self._config()
        return await self._runner.arun(self._get(input, initial_token_count, config))

    def _config(self) -> RunnableConfig | None:
        return run_config_for(self.run_config)

    def get_all(self) -> list[ChatMessage]:
        """The whole stored conversation plus messages not saved yet, without memories."""
        return self._runner.run(self._get_all())

    async def aget_all(self) -> list[ChatMessage]:
        """Async :meth:`get_all`."""
        return await self._runner.arun(self._get_all())

    # ------------------------------------------------------------------ writes
    async def _put_messages(
        self, messages: list[ChatMessage], config: RunnableConfig | None
    ) -> None:
        for message in messages:
            if not isinstance(message, ChatMessage):
                raise InvalidInputError(
                    f"Expected llama_index ChatMessage objects, got {type(message).__name__}."
                )
        self._pending.extend(messages)
        if any(m.role != MessageRole.USER and to_stored(m) is not None for m in messages):
            await self._flush(config)

    async def _flush(self, config: RunnableConfig | None) -> None:
        """Save stored + pending messages as the conversation (one Memora call)."""
        await self._prepare()
        stored = await self._ref.messages(self._runner.core)
        turns = [{"role": b.role, "content": b.content} for b in stored]
        turns += persistable(self._pending)
        await self._ref.save(
            self._runner.core,
            turns,
            stored=stored,
            infer=self.infer,
            extract_agent_memories=self.extract_agent_memories,
            config=config,
            metadata=self.metadata,
        )
        self._pending.clear()
        self._recall_cache = None

    async def _set(self, messages: list[ChatMessage], config: RunnableConfig | None) -> None:
        await self._prepare()
        self._pending.clear()
        self._recall_cache = None
        turns = persistable(messages)
        if turns:
            await self._ref.save(
                self._runner.core,
                turns,
                infer=self.infer,
                extract_agent_memories=self.extract_agent_memories,
                config=config,
                metadata=self.metadata,
            )
        else:
            await self._ref.clear_messages(self._runner.core)

    async def _reset(self) -> None:
        self._pending.clear()
        self._recall_cache = None
        await self._ref.clear_messages(self._runner.core)

    def put(self, message: ChatMessage) -> None:
        """Add a message; a reply saves the turn (see the class docs)."""
        self._runner.run(self._put_messages([message], self._config()))

    async def aput(self, message: ChatMessage) -> None:
        """Async :meth:`put`."""
        await self._runner.arun(self._put_messages([message], self._config()))

    def put_messages(self, messages: list[ChatMessage]) -> None:
        """Add several messages at once (at most one Memora save)."""
        self._runner.run(self._put_messages(list(messages), self._config()))

    async def aput_messages(self, messages: list[ChatMessage]) -> None:
        """Async :meth:`put_messages`."""
        await self._runner.arun(self._put_messages(list(messages), self._config()))

    def set(self, messages: list[ChatMessage]) -> None:
        """Replace the stored conversation with ``messages`` (memories from new ones extracted)."""
        self._runner.run(self._set(list(messages), self._config()))

    async def aset(self, messages: list[ChatMessage]) -> None:
        """Async :meth:`set`."""
        await self._runner.arun(self._set(list(messages), self._config()))

    def reset(self) -> None:
        """Clear the conversation's messages; long-term memories stay."""
        self._runner.run(self._reset())

    async def areset(self) -> None:
        """Async :meth:`reset`."""
        await self._runner.arun(self._reset())

    def flush(self) -> None:
        """Save a held user message now (normally the reply saves it)."""
        self._runner.run(self._flush(self._config()))

    async def aflush(self) -> None:
        """Async :meth:`flush`."""
        await self._runner.arun(self._flush(self._config()))

    def delete(self) -> None:
        """Delete the whole interaction and the memories it produced."""
        self._runner.run(self._delete())

    async def adelete(self) -> None:
        """Async :meth:`delete`."""
        await self._runner.arun(self._delete())

    async def _delete(self) -> None:
        self._pending.clear()
        self._recall_cache = None
        await self._ref.delete(self._runner.core)
