"""Memory tools for LangChain agents: search, save, history, delete.

Every tool has typed arguments, a sync and a native async path, returns
``(content, artifact)`` (JSON text for the model, plain dicts for code) and raises errors
(``MemoraError`` subclasses) instead of returning them as strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator
from typing_extensions import Self

from memora_engine import Memora
from memora_engine.errors import InvalidInputError
from memora_integrations.langchain._runtime import (
    MemoraBridge,
    MemoraLike,
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


def _brief(data: dict[str, Any]) -> dict[str, Any]:
    """What the model sees of a memory: id, text, date (sources stay in the artifact)."""
    return {k: data[k] for k in ("memory_id", "memory", "obtained_at")}


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _MemoraTool(BaseTool):
    """Shared fields: the engine and the tenant. ``user_id`` may come from the run config."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memora: Any = Field(description="A Memora or SyncMemora instance.")
    org_id: str
    user_id: str | None = None
    """Fixed user; when ``None``, read from ``config["configurable"]["user_id"]`` per call."""
    agent_id: str | None = None
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    _bridge: MemoraBridge = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        with invalid_settings(type(self).__name__):
            super().__init__(**data)

    @model_validator(mode="after")
    def _make_bridge(self) -> Self:
        self._bridge = MemoraBridge(self.memora)
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


# ---------------------------------------------------------------------- search
class SearchMemoriesInput(BaseModel):
    """Arguments of the search tool."""

    queries: list[str] = Field(
        min_length=1,
        max_length=8,
        description="One or more short search queries, e.g. ['food allergies', 'diet'].",
    )
    k: int = Field(default=5, ge=1, le=50, description="How many memories to return at most.")


class MemoraSearchMemoriesTool(_MemoraTool):
    """Search the user's long-term memories with one or more queries (hybrid search, no LLM).

    Examples:
        >>> tool = MemoraSearchMemoriesTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"queries": ["allergies"]})
        '[{"memory_id": "...", "memory": "Jake is allergic to peanuts", ...}]'
    """

    name: str = "search_memories"
    description: str = (
        "Search the user's long-term memories (facts learned in earlier conversations). "
        "Pass a few short queries; returns the most relevant memories with their ids and dates."
    )
    args_schema: type[BaseModel] = SearchMemoriesInput
    search_across_agents: bool = True

    def _run(
        self, queries: list[str], k: int = 5, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        return self._bridge.run(lambda core: self._search(core, queries, k, config))

    async def _arun(
        self, queries: list[str], k: int = 5, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        return await self._bridge.arun(lambda core: self._search(core, queries, k, config))

    async def _search(
        self, core: Memora, queries: list[str], k: int, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        scored = await core.search_memories_with_scores(
            self.org_id,
            self._user(config),
            queries,
            agent_id=self.agent_id,
            search_across_agents=self.search_across_agents,
            limit=k,
        )
        found = [memory_to_dict(m, s) for m, s in scored[:k]]
        return _dump([_brief(d) for d in found]), found


# ---------------------------------------------------------------------- save
class MessageArg(BaseModel):
    """One message of a conversation to save."""

    role: str = Field(description="'user' or 'assistant'.")
    content: str = Field(description="The message text.")


class SaveMemoryInput(BaseModel):
    """Arguments of the save tool: exactly one of ``fact`` or ``conversation``."""

    fact: str | None = Field(
        default=None,
        description="A self-contained fact to remember verbatim, e.g. 'Jake is allergic to "
        "peanuts'.",
    )
    conversation: list[MessageArg] | None = Field(
        default=None,
        description="Conversation messages to learn memories from (memories are extracted).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.fact is None) == (self.conversation is None):
            raise ValueError("Pass exactly one of 'fact' or 'conversation'.")
        return self


class MemoraSaveMemoryTool(_MemoraTool):
    """Save a fact (stored verbatim, no LLM) or a conversation (memories extracted).

    Examples:
        >>> tool = MemoraSaveMemoryTool(memora=memora, org_id="acme", user_id="jake",
        ...                             agent_id="assistant")
        >>> tool.invoke({"fact": "Jake is allergic to peanuts"})
    """

    name: str = "save_memory"
    description: str = (
        "Save something worth remembering about the user for future conversations: either "
        "one self-contained 'fact', or a 'conversation' to learn memories from."
    )
    args_schema: type[BaseModel] = SaveMemoryInput
    infer: bool | None = None
    """For conversations: ``None`` extracts when the engine has a model, ``False`` raw mode."""

    def _run(
        self,
        fact: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        return self._bridge.run(lambda core: self._save(core, fact, conversation, config))

    async def _arun(
        self,
        fact: str | None = None,
        conversation: Sequence[MessageArg | dict[str, str]] | None = None,
        *,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        return await self._bridge.arun(lambda core: self._save(core, fact, conversation, config))

    async def _save(
        self,
        core: Memora,
        fact: str | None,
        conversation: Sequence[MessageArg | dict[str, str]] | None,
        config: RunnableConfig,
    ) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        if fact is not None:
            messages = [{"role": "user", "content": fact}]
            infer: bool | None = False
        else:
            messages = [
                m.model_dump() if isinstance(m, MessageArg) else dict(m) for m in conversation or []
            ]
            infer = self.infer
        interaction_id, _ = await core.save_or_update_interaction_and_memories(
            self.org_id, user_id, self._agent(), messages, infer=infer
        )
        interaction = await core.graph.get_interaction(
            self.org_id, user_id, interaction_id, with_messages=False, with_memories=True
        )
        saved = [memory_to_dict(m) for m in interaction.memories]
        artifact = {"interaction_id": interaction_id, "memories": saved}
        content = {"interaction_id": interaction_id, "memories": [_brief(d) for d in saved]}
        return _dump(content), artifact


# ---------------------------------------------------------------------- history
class MemoryIdInput(BaseModel):
    """A memory id argument."""

    memory_id: str = Field(description="The memory_id returned by search_memories.")


class MemoraMemoryHistoryTool(_MemoraTool):
    """Show how a memory changed over time (its history chain, newest first).

    Examples:
        >>> tool = MemoraMemoryHistoryTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"memory_id": "6f1c..."})
    """

    name: str = "memory_history"
    description: str = (
        "Show the history of one memory: every version, newest first, with dates. Use it to "
        "see what changed, e.g. an old address replaced by a new one."
    )
    args_schema: type[BaseModel] = MemoryIdInput

    def _run(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, list[dict[str, Any]]]:
        return self._bridge.run(lambda core: self._history(core, memory_id, config))

    async def _arun(
        self, memory_id: str, *, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        return await self._bridge.arun(lambda core: self._history(core, memory_id, config))

    async def _history(
        self, core: Memora, memory_id: str, config: RunnableConfig
    ) -> tuple[str, list[dict[str, Any]]]:
        chain = await core.graph.get_user_memory_history(self.org_id, self._user(config), memory_id)
        versions = [memory_to_dict(m) for m in chain]
        return _dump([_brief(d) for d in versions]), versions


# ---------------------------------------------------------------------- delete
class MemoraDeleteMemoryTool(_MemoraTool):
    """Delete one memory (raises ``MemoryNotFoundError`` if the user has no such memory).

    Examples:
        >>> tool = MemoraDeleteMemoryTool(memora=memora, org_id="acme", user_id="jake")
        >>> tool.invoke({"memory_id": "6f1c..."})
    """

    name: str = "delete_memory"
    description: str = (
        "Delete one of the user's memories by memory_id, e.g. when the user asks to forget "
        "something."
    )
    args_schema: type[BaseModel] = MemoryIdInput

    def _run(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, dict[str, Any]]:
        return self._bridge.run(lambda core: self._delete(core, memory_id, config))

    async def _arun(self, memory_id: str, *, config: RunnableConfig) -> tuple[str, dict[str, Any]]:
        return await self._bridge.arun(lambda core: self._delete(core, memory_id, config))

    async def _delete(
        self, core: Memora, memory_id: str, config: RunnableConfig
    ) -> tuple[str, dict[str, Any]]:
        user_id = self._user(config)
        memory = await core.graph.get_user_memory(self.org_id, user_id, memory_id)
        await core.graph.delete_user_memory(self.org_id, user_id, memory.memory_id)
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
) -> list[BaseTool]:
    """Build the memory tools for one tenant, ready for ``create_agent(tools=...)``.

    ``user_id=None`` reads the user from ``config["configurable"]["user_id"]`` on each call.

    Examples:
        >>> tools = create_memora_tools(memora, org_id="acme", user_id="jake",
        ...                             agent_id="assistant", include=("search", "save"))
        >>> [t.name for t in tools]
        ['search_memories', 'save_memory']
    """
    unknown = [kind for kind in include if kind not in _TOOL_CLASSES]
    if unknown:
        raise InvalidInputError(f"Unknown tool kinds {unknown}; choose from {list(_TOOL_CLASSES)}.")
    return [
        _TOOL_CLASSES[kind](memora=memora, org_id=org_id, user_id=user_id, agent_id=agent_id)
        for kind in include
    ]
