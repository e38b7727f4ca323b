"""``MemoraToolSpec``: memory tools for LlamaIndex agents (search, save, history, delete).

``MemoraToolSpec(...).to_tool_list()`` gives four ``FunctionTool``s, each with a sync and an
async implementation. The docstrings below are what the model reads as tool descriptions. The
tool names and argument names are the LangChain tools' (``search_memories(query, limit,
filter)``, ``save_memory(text, metadata)``, ``memory_history(memory_id)``,
``delete_memory(memory_id)``; opt-in with ``include``: ``add_memories(facts, metadata)``,
``edit_memory(memory_id, text, metadata)``). The model writes ``filter`` in Memora's filter language (a JSON
object, README "Metadata and filters"); the spec's own ``filters`` (LlamaIndex
``MetadataFilters`` or a Memora filter dict, set by you) are AND-combined with it.

Errors: failures raise ``MemoraError`` subclasses (e.g. ``MemoryNotFoundError`` for a made-up
``memory_id``, ``InvalidInputError`` for a malformed one), with a message that says what to do.
LlamaIndex's agents (``FunctionAgent``, ``ReActAgent``, ``AgentWorkflow``) catch what a tool
raises and hand the model ``str(error)`` as a failed tool call (``ToolOutput(is_error=True)``),
so the agent can recover; a wrong argument name reaches the model the same way (Python's
``TypeError`` names the argument). That is LlamaIndex's equivalent of LangChain's
``handle_tool_error``; called directly, the tools raise.
"""

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from llama_index.core.tools import FunctionTool, ToolMetadata
from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec

from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_engine.tracing import RunnableConfig
from memora_integrations.llama_index._fact_tools import FactTools
from memora_integrations.llama_index._runtime import CoreRunner, MemoraLike, run_config_for
from memora_integrations.llama_index._session import ensure_tenant
from memora_integrations.llama_index._tool_support import (
    arg_docs,
    listing,
    memory_line,
    merged,
    model_filter,
)
from memora_integrations.llama_index.filters import (
    FilterLike,
    and_filters,
    check_adapter_options,
    to_memora_filter,
)

__all__ = ["MemoraToolSpec"]


#: The tools, by the names ``include`` takes (the LangChain ``create_memora_tools`` kinds).
TOOL_FUNCTIONS: dict[str, SPEC_FUNCTION_TYPE] = {
    "search": ("search_memories", "asearch_memories"),
    "save": ("save_memory", "asave_memory"),
    "history": ("memory_history", "amemory_history"),
    "delete": ("delete_memory", "adelete_memory"),
    "add": ("add_memories", "aadd_memories"),
    "edit": ("edit_memory", "aedit_memory"),
}
DEFAULT_TOOLS = ("search", "save", "history", "delete")


class MemoraToolSpec(FactTools, BaseToolSpec):
    """Search, save, inspect and delete one user's Memora memories from a LlamaIndex agent.

    Every tool is scoped to ``(org_id, user_id)``; saves are attributed to ``agent_id``.

    Args:
        memora: A ``Memora`` or ``SyncMemora``.
        org_id: The organization.
        user_id: The user whose memories the tools manage.
        agent_id: The agent using the tools.
        search_across_agents: Search memories the user shared with any agent (default) or only
            with ``agent_id``.
        infer: ``None`` (default) extracts memories from saved text when the engine has an
            extraction model (a change then supersedes the old memory, keeping its history);
            ``False`` stores the text verbatim. Same option as the LangChain save tool.
        run_config: LangChain ``RunnableConfig`` for the model calls of ``save_memory``
            (tracing); inside a LangChain / LangGraph run, that run's config is used instead.
        create_missing: Create the org, user and agent on the first save if they are missing.
        filters: Applied to every search, AND-combined with the model's ``filter``
            (LlamaIndex ``MetadataFilters`` or a Memora filter dict).
        metadata: Given to every memory ``save_memory`` / ``add_memories`` creates (and to
            ``edit_memory``'s new labels); its keys win over the model's ``metadata``.
        include: Which tools ``to_tool_list()`` gives: by default search, save, history and
            delete; add ``"add"`` (``add_memories``: facts stored verbatim, or compared with
            stored memories when ``infer=True``) and ``"edit"`` (``edit_memory``: correct a
            memory's text and/or metadata).

    Examples:
        >>> from llama_index.core.agent.workflow import FunctionAgent
        >>> tools = MemoraToolSpec(memora, "acme", "jake", "jarvis").to_tool_list()
        >>> agent = FunctionAgent(tools=tools, llm=llm)
        >>> await agent.run("Remember that I moved to Lisbon.")  # doctest: +SKIP
    """

    spec_functions: ClassVar[list[SPEC_FUNCTION_TYPE]] = [  # type: ignore[misc]
        TOOL_FUNCTIONS[kind] for kind in DEFAULT_TOOLS
    ]

    def __init__(
        self,
        memora: MemoraLike,
        org_id: str,
        user_id: str,
        agent_id: str,
        *,
        search_across_agents: bool = True,
        infer: bool | None = None,
        run_config: RunnableConfig | None = None,
        create_missing: bool = False,
        filters: FilterLike | None = None,
        metadata: Mapping[str, Any] | None = None,
        include: Sequence[str] = DEFAULT_TOOLS,
    ) -> None:
        check_adapter_options({"filters": filters, "metadata": metadata})
        unknown = [kind for kind in include if kind not in TOOL_FUNCTIONS]
        if unknown or isinstance(include, str):
            raise InvalidInputError(
                f"Unknown tool kinds {unknown or [include]}; choose from {list(TOOL_FUNCTIONS)}."
            )
        self.spec_functions = [TOOL_FUNCTIONS[kind] for kind in include]  # type: ignore[misc]
        self._runner = CoreRunner(memora)
        self.filters = to_memora_filter(filters)
        self.metadata = dict(metadata) if metadata is not None else None
        self.run_config = run_config
        self.create_missing = create_missing
        self.org_id = org_id
        self.user_id = user_id
        self.agent_id = agent_id
        self.search_across_agents = search_across_agents
        self.infer = infer

    def get_metadata_from_fn_name(
        self, fn_name: str, spec_functions: list[SPEC_FUNCTION_TYPE] | None = None
    ) -> ToolMetadata | None:
        """Tool metadata: ``name(signature)`` plus the method's docstring, dedented; argument
        descriptions come from its ``Args:`` section (whole entries, continuation lines too)."""
        fn = getattr(self, fn_name)
        doc = inspect.cleandoc(fn.__doc__ or "")
        description = f"{fn_name}{inspect.signature(fn)}\n{doc}"
        metadata = FunctionTool.from_defaults(fn=fn, name=fn_name, description=description).metadata
        schema = metadata.fn_schema
        if schema is not None:
            for name, text in arg_docs(doc).items():
                if name in schema.model_fields:
                    schema.model_fields[name].description = text
            schema.model_rebuild(force=True)
        return metadata

    # ------------------------------------------------------------------ search
    def search_memories(
        self, query: str, limit: int = 5, filter: dict[str, object] | None = None
    ) -> str:
        """Search the long-term memory about the user: facts, preferences, people, plans and
        events from earlier conversations. Use it before answering anything that may depend on
        what the user said before. Returns one line per memory, most relevant first, with its
        memory_id, the date it was learned and its metadata labels.

        Args:
            query (str): What to look for, as a short phrase, e.g. "food allergies".
            limit (int): Most memories to return (1-50).
            filter (dict): Optional: keep only memories whose metadata matches, as a JSON
                object, e.g. {"topic": "food", "priority": {"$gte": 2}}. A plain value means
                equal; operators: $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, and $and /
                $or / $not over several filters. Leave it out to search everything.
        """
        return self._sync(self._search(query, limit, filter))

    async def asearch_memories(
        self, query: str, limit: int = 5, filter: dict[str, object] | None = None
    ) -> str:
        """Async twin of search_memories."""
        return await self._runner.arun(self._search(query, limit, filter))

    async def _search(self, query: str, limit: int, filter: Mapping[str, Any] | None) -> str:
        scored = await self._runner.core.search_memories_with_scores(
            self.org_id,
            self.user_id,
            [query],
            agent_id=self.agent_id,
            search_across_agents=self.search_across_agents,
            limit=limit,
            filter=and_filters(self.filters, model_filter(filter)),
        )
        return listing(
            f"{len(scored)} memories, most relevant first:",
            [memory_line(memory, score) for memory, score in scored],
            "No stored memory matches that query.",
        )

    # ------------------------------------------------------------------ save
    def save_memory(self, text: str, metadata: dict[str, object] | None = None) -> str:
        """Save something worth remembering about the user for future conversations, e.g. a
        preference, a fact about their life, or a plan. Write one clear statement. If it
        changes something saved before (a new address, a changed plan), the old memory is kept
        in the history and the new one replaces it in searches. Returns the saved memories with
        their memory_id.

        Args:
            text (str): The statement to remember, e.g. "The user is allergic to peanuts."
            metadata (dict): Optional labels to store with the memory, a flat JSON object of
                strings, numbers, booleans or lists of those, e.g. {"topic": "health"}.
        """
        return self._sync(self._save(text, metadata, run_config_for(self.run_config)))

    async def asave_memory(self, text: str, metadata: dict[str, object] | None = None) -> str:
        """Async twin of save_memory."""
        return await self._runner.arun(self._save(text, metadata, run_config_for(self.run_config)))

    async def _save(
        self, text: str, metadata: Mapping[str, Any] | None, config: RunnableConfig | None
    ) -> str:
        core = self._runner.core
        if self.create_missing:
            await ensure_tenant(core, self.org_id, self.user_id, self.agent_id)
        interaction_id, _ = await core.save_or_update_interaction_and_memories(
            self.org_id,
            self.user_id,
            self.agent_id,
            [{"role": "user", "content": text}],
            infer=self.infer,
            config=config,
            metadata=merged(metadata, self.metadata),
        )
        interaction = await core.get_interaction(
            self.org_id, self.user_id, interaction_id, with_messages=False, with_memories=True
        )
        return listing(
            f"Saved {len(interaction.memories)} memories:",
            [memory_line(memory) for memory in interaction.memories],
            "Nothing new to remember: the memory store already knows this.",
        )

    # ------------------------------------------------------------------ history
    def memory_history(self, memory_id: str) -> str:
        """Show how one memory changed over time: every version, newest first, with the date
        each was learned. Use it when the user asks what they said before or when something
        changed. Raises an error if no memory has that id.

        Args:
            memory_id (str): The memory_id shown by search_memories.
        """
        return self._sync(self._history(memory_id))

    async def amemory_history(self, memory_id: str) -> str:
        """Async twin of memory_history."""
        return await self._runner.arun(self._history(memory_id))

    async def _history(self, memory_id: str) -> str:
        chain = await self._runner.core.get_memory_history(self.org_id, self.user_id, memory_id)
        lines = [
            memory_line(memory) + (" (current)" if index == 0 else " (superseded)")
            for index, memory in enumerate(chain)
        ]
        return listing(f"{len(chain)} versions, newest first:", lines, "No versions found.")

    # ------------------------------------------------------------------ delete
    def delete_memory(self, memory_id: str) -> str:
        """Delete one memory for good, e.g. when the user asks you to forget something. Search
        first to find its memory_id. Raises an error if no memory has that id.

        Args:
            memory_id (str): The memory_id shown by search_memories.
        """
        return self._sync(self._delete(memory_id))

    async def adelete_memory(self, memory_id: str) -> str:
        """Async twin of delete_memory."""
        return await self._runner.arun(self._delete(memory_id))

    async def _delete(self, memory_id: str) -> str:
        core = self._runner.core
        memory = await core.get_memory(self.org_id, self.user_id, memory_id)
        if not await core.delete_memory(self.org_id, self.user_id, memory.memory_id):
            raise MemoryNotFoundError(f"No memory {memory_id!r} for this user.")
        return f"Deleted memory {memory.memory_id}: {memory.memory}"
