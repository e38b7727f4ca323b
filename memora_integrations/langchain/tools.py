"""Memory tools for LangChain agents: search, save, history, delete (and add, edit on request).

Every tool has typed arguments, a sync and a native async path, and returns
``(content, artifact)`` (JSON text for the model, plain dicts for code). The argument names are
the ones :class:`~memora_integrations.llama_index.MemoraToolSpec` uses: ``query`` and ``limit``
to search, ``text`` to save, ``memory_id`` for history and delete. The search tool takes a
``filter`` (the filter language of README "Metadata and filters"), the save tool ``metadata``;
:func:`create_memora_tools` adds the ``add_memories`` and ``edit_memory`` tools when
``include`` names ``"add"`` / ``"edit"``.

Errors the model can fix (a made-up or malformed ``memory_id``, a wrong or missing argument,
an empty query, a bad filter, metadata over the limits) are reported to the model as the tool's output (LangChain's ``ToolException`` /
``handle_tool_error`` and ``handle_validation_error``), so the agent can recover. Everything
else (storage failures, configuration errors) raises. ``report_errors=False`` makes every error
raise, as a ``MemoraError`` subclass or pydantic's ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, model_validator
from typing_extensions import Self

from memora_engine import Memora
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_integrations.langchain._runtime import (
    MemoraLike,
    checked_filter,
    combined_filter,
    memory_to_dict,
    optional_kwargs,
)
from memora_integrations.langchain._tool_base import (
    FILTER_DESCRIPTION,
    METADATA_DESCRIPTION,
    MemoraToolBase,
    brief,
    dump,
)
from memora_integrations.langchain.fact_tools import MemoraAddMemoriesTool, MemoraEditMemoryTool

__all__ = [
    "MemoraAddMemoriesTool",
    "MemoraDeleteMemoryTool",
    "MemoraEditMemoryTool",
    "MemoraMemoryHistoryTool",
    "MemoraSaveMemoryTool",
    "MemoraSearchMemoriesTool",
    "create_memora_tools",
]

ToolKind = Literal["search", "save", "history", "delete", "add", "edit"]


# ---------------------------------------------------------------------- search
class SearchMemoriesInput(BaseModel):
    """Arguments of the search tool."""

    query: str = Field(
        min_length=1, description="What to look for, as a short phrase, e.g. 'food allergies'."
    )
    limit: int = Field(default=5, ge=1, le=50, description="Most memories to return (1-50).")
    filter: dict[str, Any] | None = Field(default=None, description=FILTER_DESCRIPTION)


class MemoraSearchMemoriesTool(MemoraToolBase):
    """Search the user's long-term memories (hybrid search, no LLM).

    The model may pass a ``filter``; the tool's own ``filter`` (set by you) is AND-combined
    with it, so the model can narrow a search but never widen it. Both are pushed down into
    the vector query, so ``limit`` holds.

    Examples:
        >>> tool = MemoraSearchMemoriesTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"query": "allergies", "limit": 3, "filter": {"topic": "health"}})
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
    filter: dict[str, Any] | None = None
    """A filter applied to every search, AND-combined with the model's ``filter`` (checked
    when the tool is built)."""

    @model_validator(mode="after")
    def _check_filter(self) -> Self:
        self.filter = checked_filter(self.filter, f"{self.name} filter")
        return self

    def _run(
        self,
        query: str,
        limit: int = 5,
        filter: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id, wanted = self._user(config), combined_filter(self.filter, filter)
        return self._call(lambda core: self._search(core, user_id, query, limit, wanted))

    async def _arun(
        self,
        query: str,
        limit: int = 5,
        filter: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, list[dict[str, Any]]]:
        user_id, wanted = self._user(config), combined_filter(self.filter, filter)
        return await self._acall(lambda core: self._search(core, user_id, query, limit, wanted))

    async def _search(
        self, core: Memora, user_id: str, query: str, limit: int, wanted: Any
    ) -> tuple[str, list[dict[str, Any]]]:
        scored = await core.search_memories_with_scores(
            self.org_id,
            user_id,
            [query],
            agent_id=self.agent_id,
            search_across_agents=self.search_across_agents,
            limit=limit,
            **optional_kwargs(filter=wanted),
        )
        found = [memory_to_dict(m, s) for m, s in scored[:limit]]
        return dump([brief(d) for d in found]), found


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
    metadata: dict[str, Any] | None = Field(default=None, description=METADATA_DESCRIPTION)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.text is None) == (self.conversation is None):
            raise ValueError("Pass exactly one of 'text' or 'conversation'.")
        return self


class MemoraSaveMemoryTool(MemoraToolBase):
    """Save a statement or a conversation; memories are extracted when the engine has a model.

    Examples:
        >>> tool = MemoraSaveMemoryTool(memora=memora, org_id="acme", user_id="jake",
        ...                             agent_id="assistant")
        >>> tool.invoke({"text": "Jake is allergic to peanuts", "metadata": {"topic": "health"}})
    """

    name: str = "save_memory"
    description: str = (
        "Save something worth remembering about the user for future conversations, e.g. a "
        "preference, a fact about their life, or a plan: one clear statement as 'text' (or a "
        "'conversation' to learn from), optionally with 'metadata' labels. Returns the saved "
        "memories with their memory_id."
    )
    args_schema: type[BaseModel] = SaveMemoryInput
    infer: bool | None = None
    """``None``: extract memories when the engine has an extraction model (a change to an
    earlier memory then supersedes it, keeping the history); ``False``: store verbatim."""

    def _run(
        self,
        text: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return self._call(
            lambda core: self._save(core, user_id, agent_id, text, conversation, metadata, run)
        )

    async def _arun(
        self,
        text: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id, agent_id, run = self._user(config), self._agent(), self._traced(config)
        return await self._acall(
            lambda core: self._save(core, user_id, agent_id, text, conversation, metadata, run)
        )

    async def _save(
        self,
        core: Memora,
        user_id: str,
        agent_id: str,
        text: str | None,
        conversation: Sequence[MessageArg | dict[str, str]] | None,
        metadata: dict[str, Any] | None,
        config: RunnableConfig | None,
    ) -> tuple[str, dict[str, Any]]:
        if text is not None:
            messages = [{"role": "user", "content": text}]
        else:
            messages = [
                m.model_dump() if isinstance(m, MessageArg) else dict(m) for m in conversation or []
            ]
        interaction_id, _ = await core.save_or_update_interaction_and_memories(
            self.org_id,
            user_id,
            agent_id,
            messages,
            infer=self.infer,
            config=config,
            **optional_kwargs(metadata=metadata),
        )
        interaction = await core.get_interaction(
            self.org_id, user_id, interaction_id, with_messages=False, with_memories=True
        )
        saved = [memory_to_dict(m) for m in interaction.memories]
        artifact = {"interaction_id": interaction_id, "memories": saved}
        content = {"interaction_id": interaction_id, "memories": [brief(d) for d in saved]}
        return dump(content), artifact


# ---------------------------------------------------------------------- history
class MemoryIdInput(BaseModel):
    """A memory id argument."""

    memory_id: str = Field(description="The memory_id shown by search_memories.")


class MemoraMemoryHistoryTool(MemoraToolBase):
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
        return dump([brief(d) for d in versions]), versions


# ---------------------------------------------------------------------- delete
class MemoraDeleteMemoryTool(MemoraToolBase):
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
        return dump({"deleted": brief(deleted)}), deleted


_TOOL_CLASSES: dict[str, Callable[..., BaseTool]] = {
    "search": MemoraSearchMemoriesTool,
    "save": MemoraSaveMemoryTool,
    "history": MemoraMemoryHistoryTool,
    "delete": MemoraDeleteMemoryTool,
    "add": MemoraAddMemoriesTool,
    "edit": MemoraEditMemoryTool,
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
    filter: dict[str, Any] | None = None,
) -> list[BaseTool]:
    """Build the memory tools for one tenant, ready for ``create_agent(tools=...)``.

    ``user_id=None`` reads the user from ``config["configurable"]["user_id"]`` on each call.
    ``include`` picks the tools: by default search, save, history and delete; add ``"add"``
    (``add_memories``: facts stored verbatim, with metadata) and ``"edit"`` (``edit_memory``:
    correct a memory's text and/or metadata) to let the model manage facts directly.
    ``report_errors=False`` makes errors raise instead of coming back to the model as tool
    output; ``infer`` is the save tool's option (``False``: store text verbatim) and, when
    ``True``, makes ``add_memories`` compare facts with stored memories (a contradicting fact
    becomes a new version). ``filter`` is the search tool's own filter, AND-combined with the
    one the model writes.

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
        options: dict[str, Any] = {}
        if kind == "save":
            options["infer"] = infer
        elif kind == "add":
            options["infer"] = infer is True
        elif kind == "search":
            options["filter"] = filter
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
