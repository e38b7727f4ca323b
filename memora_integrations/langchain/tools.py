"""Memory tools for LangChain agents: search, save, history, delete.

Every tool has typed arguments, a sync and a native async path, and returns
``(content, artifact)`` (JSON text for the model, plain dicts for code). The argument names are
the ones :class:`~memora_integrations.llama_index.MemoraToolSpec` uses: ``query`` and ``limit``
to search, ``text`` to save, ``memory_id`` for history and delete.

Errors the model can fix (a made-up or malformed ``memory_id``, a wrong or missing argument,
an empty query) are reported to the model as the tool's output (LangChain's ``ToolException`` /
``handle_tool_error`` and ``handle_validation_error``), so the agent can recover. Everything
else (storage failures, configuration errors) raises. ``report_errors=False`` makes every error
raise, as a ``MemoraError`` subclass or pydantic's ``ValidationError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal, TypeVar

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from typing_extensions import Self

from memora_engine import Memora
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_integrations.langchain._runtime import (
    MemoraBridge,
    MemoraLike,
    ambient_config,
    forwardable,
    invalid_settings,
    memory_to_dict,
)

__all__ = [
    "MemoraDeleteMemoryTool",
    "MemoraMemoryHistoryTool",
    "MemoraSaveMemoryTool",
    "MemoraSearchMemoriesTool",
    "create_memora_tools",
]

ToolKind = Literal["search", "save", "history", "delete"]
T = TypeVar("T")

#: Errors caused by what the model wrote; reported back to it as tool output.
MODEL_ERRORS: tuple[type[Exception], ...] = (InvalidInputError, MemoryNotFoundError)


def _brief(data: dict[str, Any]) -> dict[str, Any]:
    """What the model sees of a memory: id, text, date (sources stay in the artifact)."""
    return {k: data[k] for k in ("memory_id", "memory", "obtained_at")}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def report_tool_error(error: ToolException) -> str:
    """The tool output the model gets for an error it can fix (never empty)."""
    return f"Error: {error}" if str(error) else f"Error: {type(error).__name__}"


def report_validation_error(error: ValidationError | Exception) -> str:
    """The tool output for arguments that do not fit the tool's schema: what is wrong, where."""
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in error.errors()
        )
    else:
        problems = str(error) or type(error).__name__
    return f"Error: invalid tool arguments ({problems}). Check the argument names and types."


class _MemoraTool(BaseTool):
    """Shared fields: the engine and the tenant. ``user_id`` may come from the run config."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memora: Any = Field(description="A Memora or SyncMemora instance.")
    org_id: str
    user_id: str | None = None
    """Fixed user; when ``None``, read from ``config["configurable"]["user_id"]`` per call."""
    agent_id: str | None = None
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    report_errors: bool = True
    """``True``: errors the model can fix come back to it as tool output; ``False``: raise."""
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = report_tool_error
    handle_validation_error: bool | str | Callable[[Any], str] | None = report_validation_error

    _bridge: MemoraBridge = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        with invalid_settings(type(self).__name__):
            super().__init__(**data)

    @model_validator(mode="after")
    def _make_bridge(self) -> Self:
        self._bridge = MemoraBridge(self.memora)
        if not self.report_errors:
            self.handle_tool_error = False
            self.handle_validation_error = False
        return self

    def _user(self, config: RunnableConfig | None) -> str:
        user_id = self.user_id
        if user_id is None and config is not None:
            user_id = (config.get("configurable") or {}).get("user_id")
        if user_id is None:
            raise InvalidInputError(
                f"{self.name} needs a user_id: set it on the tool or pass "
                "config={'configurable': {'user_id': ...}}."
            )
        return str(user_id)

    def _agent(self) -> str:
        if self.agent_id is None:
            raise InvalidInputError(f"{self.name} needs an agent_id to save memories.")
        return self.agent_id

    @staticmethod
    def _traced(config: RunnableConfig | None) -> RunnableConfig | None:
        """The config for Memora's model calls: the tool run's child config (LangChain sets it
        as the context while the tool runs; the injected ``config`` is the caller's)."""
        return forwardable(ambient_config() or config)

    def _call(self, work: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        return self._bridge.run(lambda core: self._reported(work(core)))

    async def _acall(self, work: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        return await self._bridge.arun(lambda core: self._reported(work(core)))

    async def _reported(self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work``; with ``report_errors``, model-fixable errors become ToolExceptions."""
        try:
            return await work
        except MODEL_ERRORS as exc:
            if not self.report_errors:
                raise
            raise ToolException(str(exc) or type(exc).__name__) from exc


# ---------------------------------------------------------------------- search
class SearchMemoriesInput(BaseModel):
    """Arguments of the search tool."""

    query: str = Field(
        min_length=1, description="What to look for, as a short phrase, e.g. 'food allergies'."
    )
    limit: int = Field(default=5, ge=1, le=50, description="Most memories to return (1-50).")


class MemoraSearchMemoriesTool(_MemoraTool):
    """Search the user's long-term memories (hybrid search, no LLM).

    Examples:
        >>> tool = MemoraSearchMemoriesTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"query": "allergies", "limit": 3})
        '[{"memory_id": "...", "memory": "Jake is allergic to peanuts", ...}]'
    """

    name: str = "search_memories"
    description: str = (
        "Search the long-term memory about the user: facts, preferences, people, plans and "
        "events from earlier conversations. Use it before answering anything that may depend "
        "on what the user said before. Returns the most relevant memories first, each with its "
        "memory_id and the date it was learned."
    )
    args_schema: type[BaseModel] = SearchMemoriesInput
    search_across_agents: bool = True

    def _run(
        self, query: str, limit: int = 5, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id = self._user(config)
        return self._call(lambda core: self._search(core, user_id, query, limit))

    async def _arun(
        self, query: str, limit: int = 5, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id = self._user(config)
        return await self._acall(lambda core: self._search(core, user_id, query, limit))

    async def _search(
        self, core: Memora, user_id: str, query: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        scored = await core.search_memories_with_scores(
            self.org_id,
            user_id,
            [query],
            agent_id=self.agent_id,
            search_across_agents=self.search_across_agents,
            limit=limit,
        )
        found = [memory_to_dict(m, s) for m, s in scored[:limit]]
        return _dump([_brief(d) for d in found]), found


# ---------------------------------------------------------------------- save
class MessageArg(BaseModel):
    """One message of a conversation to save."""

    role: str = Field(description="'user' or 'assistant'.")
    content: str = Field(description="The message text.")


class SaveMemoryInput(BaseModel):
    """Arguments of the save tool: exactly one of ``text`` or ``conversation``."""

    text: str | None = Field(
        default=None,
        description="One clear statement to remember, e.g. 'The user is allergic to peanuts.'",
    )
    conversation: list[MessageArg] | None = Field(
        default=None,
        description="Instead of text: conversation messages to learn memories from.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.text is None) == (self.conversation is None):
            raise ValueError("Pass exactly one of 'text' or 'conversation'.")
        return self


class MemoraSaveMemoryTool(_MemoraTool):
    """Save a statement or a conversation; memories are extracted when the engine has a model.

    Examples:
        >>> tool = MemoraSaveMemoryTool(memora=memora, org_id="acme", user_id="jake",
        ...                             agent_id="assistant")
        >>> tool.invoke({"text": "Jake is allergic to peanuts"})
    """

    name: str = "save_memory"
    description: str = (
        "Save something worth remembering about the user for future conversations, e.g. a "
        "preference, a fact about their life, or a plan: one clear statement as 'text' (or a "
        "'conversation' to learn from). Returns the saved memories with their memory_id."
    )
    args_schema: type[BaseModel] = SaveMemoryInput
    infer: bool | None = None
    """``None``: extract memories when the engine has an extraction model (a change to an
    earlier memory then supersedes it, keeping the history); ``False``: store verbatim."""

    def _run(
        self,
        text: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return self._call(lambda core: self._save(core, user_id, agent_id, text, conversation, run))

    async def _arun(
        self,
        text: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return await self._acall(
            lambda core: self._save(core, user_id, agent_id, text, conversation, run)
        )

    async def _save(
        self,
        core: Memora,
        user_id: str,
        agent_id: str,
        text: str | None,
        conversation: Sequence[MessageArg | dict[str, str]] | None,
        config: RunnableConfig | None,
    ) -> tuple[str, dict[str, Any]]:
        if text is not None:
            messages = [{"role": "user", "content": text}]
        else:
            messages = [
                m.model_dump() if isinstance(m, MessageArg) else dict(m) for m in conversation or []
            ]
        interaction_id, _ = await core.save_or_update_interaction_and_memories(
            self.org_id, user_id, agent_id, messages, infer=self.infer, config=config
        )
        interaction = await core.get_interaction(
            self.org_id, user_id, interaction_id, with_messages=False, with_memories=True
        )
        saved = [memory_to_dict(m) for m in interaction.memories]
        artifact = {"interaction_id": interaction_id, "memories": saved}
        content = {"interaction_id": interaction_id, "memories": [_brief(d) for d in saved]}
        return _dump(content), artifact


# ---------------------------------------------------------------------- history
class MemoryIdInput(BaseModel):
    """A memory id argument."""

    memory_id: str = Field(description="The memory_id shown by search_memories.")


class MemoraMemoryHistoryTool(_MemoraTool):
    """Show how a memory changed over time (its history chain, newest first).

    Examples:
        >>> tool = MemoraMemoryHistoryTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"memory_id": "6f1c..."})
    """

    name: str = "memory_history"
    description: str = (
        "Show how one memory changed over time: every version, newest first, with the date "
        "each was learned. Use it when the user asks what they said before or when something "
        "changed."
    )
    args_schema: type[BaseModel] = MemoryIdInput

    def _run(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, list[dict[str, Any]]]:
        user_id = self._user(config)
        return self._call(lambda core: self._history(core, user_id, memory_id))

    async def _arun(
        self, memory_id: str, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id = self._user(config)
        return await self._acall(lambda core: self._history(core, user_id, memory_id))

    async def _history(
        self, core: Memora, user_id: str, memory_id: str
    ) -> tuple[str, list[dict[str, Any]]]:
        chain = await core.get_memory_history(self.org_id, user_id, memory_id)
        versions = [memory_to_dict(m) for m in chain]
        return _dump([_brief(d) for d in versions]), versions


# ---------------------------------------------------------------------- delete
class MemoraDeleteMemoryTool(_MemoraTool):
    """Delete one memory (``MemoryNotFoundError`` if the user has no such memory).

    Examples:
        >>> tool = MemoraDeleteMemoryTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"memory_id": "6f1c..."})
    """

    name: str = "delete_memory"
    description: str = (
        "Delete one memory for good, e.g. when the user asks you to forget something. Search "
        "first to find its memory_id."
    )
    args_schema: type[BaseModel] = MemoryIdInput

    def _run(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        return self._call(lambda core: self._delete(core, user_id, memory_id))

    async def _arun(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        return await self._acall(lambda core: self._delete(core, user_id, memory_id))

    async def _delete(
        self, core: Memora, user_id: str, memory_id: str
    ) -> tuple[str, dict[str, Any]]:
        memory = await core.get_memory(self.org_id, user_id, memory_id)
        if not await core.delete_memory(self.org_id, user_id, memory.memory_id):
            raise MemoryNotFoundError(f"No memory {memory_id!r} for this user.")
        deleted = memory_to_dict(memory)
        return _dump({"deleted": _brief(deleted)}), deleted


_TOOL_CLASSES: dict[str, Callable[..., BaseTool]] = {
    "search": MemoraSearchMemoriesTool,
    "save": MemoraSaveMemoryTool,
    "history": MemoraMemoryHistoryTool,
    "delete": MemoraDeleteMemoryTool,
}


def create_memora_tools(
    memora: MemoraLike,
    *,
    org_id: str,
    user_id: str | None = None,
    agent_id: str | None = None,
    include: Sequence[ToolKind] = ("search", "save", "history", "delete"),
    report_errors: bool = True,
    infer: bool | None = None,
) -> list[BaseTool]:
    """Build the memory tools for one tenant, ready for ``create_agent(tools=...)``.

    ``user_id=None`` reads the user from ``config["configurable"]["user_id"]`` on each call.
    ``report_errors=False`` makes errors raise instead of coming back to the model as tool
    output; ``infer`` is the save tool's option (``False``: store text verbatim).

    Examples:
        >>> tools = create_memora_tools(memora, org_id="acme", user_id="jake",
        ...                             agent_id="assistant", include=("search", "save"))
        >>> [t.name for t in tools]
        ['search_memories', 'save_memory']
    """
    unknown = [kind for kind in include if kind not in _TOOL_CLASSES]
    if unknown:
        raise InvalidInputError(f"Unknown tool kinds {unknown}; choose from {list(_TOOL_CLASSES)}.")
    tools: list[BaseTool] = []
    for kind in include:
        options: dict[str, Any] = {"infer": infer} if kind == "save" else {}
        tools.append(
            _TOOL_CLASSES[kind](
                memora=memora,
                org_id=org_id,
                user_id=user_id,
                agent_id=agent_id,
                report_errors=report_errors,
                **options,
            )
        )
    return tools
