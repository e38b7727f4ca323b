"""Memora's MCP tools, on the official ``mcp`` SDK: the same vocabulary as the LangChain tools.

Tools: ``save_memory`` (a fact, stored verbatim), ``add_memories`` (several facts, verbatim or
compared with what is known), ``save_conversation`` (memories extracted when a model is
configured), ``search_memories``, ``recall_memories`` (for the latest message),
``list_memories``, ``memory_history``, ``edit_memory``, ``delete_memory``. Arguments are typed
(``text``, ``messages``, ``queries``, ``limit``, ``memory_id``, ``metadata``, ``filter``); each
result is text plus structured content; a ``MemoraError`` reaches the model as a tool error
naming its class (a bad ``filter`` or ``metadata`` is an ``InvalidInputError`` naming the
problem).

The tenant (organization, user, agent) never comes from the model: a :data:`TenantResolver`
supplies it per call (from settings for stdio, from the API key over HTTP).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from memora_engine import __version__
from memora_engine.errors import MemoraError
from memora_engine.filters import Metadata
from memora_engine.limits import (
    MAX_MEMORY_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES_PER_INTERACTION,
    MAX_QUERIES_PER_SEARCH,
    MAX_QUERY_CHARS,
)
from memora_engine.schema.models import Memory

__all__ = [
    "TOOL_NAMES",
    "Tenant",
    "TenantResolver",
    "build_mcp_server",
]

#: The tools every Memora MCP server offers, in the order they are listed.
TOOL_NAMES = (
    "save_memory",
    "add_memories",
    "save_conversation",
    "search_memories",
    "recall_memories",
    "list_memories",
    "memory_history",
    "edit_memory",
    "delete_memory",
)


@dataclass(frozen=True)
class Tenant:
    """Whose memories a tool call reads and writes, and the engine (or client) to use."""

    memora: Any
    """A ``Memora`` or a ``MemoraClient`` (the same public methods)."""
    org_id: str
    user_id: str
    agent_id: str


#: The ``filter`` argument of the search and list tools (README, "Metadata and filters").
FilterArg = Annotated[
    dict[str, Any] | None,
    Field(
        description="Keep only memories matching this filter over their metadata and the "
        'fields agent_id, interaction_id, obtained_at. E.g. {"topic": "food"}, '
        '{"score": {"$gte": 3}}, {"topic": {"$in": ["food", "health"]}}, '
        '{"obtained_at": {"$gte": "2025-01-01T00:00:00Z"}}, {"$or": [{...}, {...}]}. '
        "Operators: $ne $in $nin $gt $gte $lt $lte $exists $and $or $not."
    ),
]

#: The ``metadata`` argument of the save tools.
MetadataArg = Annotated[
    Metadata | None,
    Field(
        description="Flat metadata for the memories saved: string keys; values a string, "
        'number, boolean or a list of those, e.g. {"topic": "food", "source": "chat"}.'
    ),
]

#: Finds the tenant of one tool call (``Context`` carries the HTTP headers, if any).
TenantResolver = Callable[[Context], Awaitable[Tenant]]


class MemoryOut(BaseModel):
    """One memory as a tool returns it."""

    memory_id: str
    memory: str
    obtained_at: str
    agent_id: str
    interaction_id: str | None
    metadata: Metadata = Field(default_factory=dict)


class MemoriesOut(BaseModel):
    """A list of memories (most relevant or newest first)."""

    memories: list[MemoryOut]


class SavedOut(BaseModel):
    """What a save stored: the interaction and the memories made from it."""

    interaction_id: str
    memories: list[MemoryOut]


class DeletedOut(BaseModel):
    """Whether the memory existed and was deleted."""

    memory_id: str
    deleted: bool


class MessageIn(BaseModel):
    """One message of a conversation to save."""

    role: Literal["user", "assistant"] = Field(description="Who said it.")
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="The text.")


def _out(memory: Memory) -> MemoryOut:
    return MemoryOut(
        memory_id=memory.memory_id,
        memory=memory.memory,
        obtained_at=memory.obtained_at.isoformat(),
        agent_id=memory.agent_id,
        interaction_id=memory.interaction_id,
        metadata=dict(memory.metadata),
    )


def _tool_error(error: MemoraError) -> ToolError:
    return ToolError(f"{type(error).__name__}: {error}")


def build_mcp_server(resolve: TenantResolver, *, name: str = "memora") -> MCPServer:
    """An MCP server with Memora's tools; ``resolve`` gives each call its tenant.

    Examples:
        >>> async def tenant(ctx):
        ...     return Tenant(memora, "acme", "jake", "claude")
        >>> server = build_mcp_server(tenant)
        >>> # await server.run_stdio_async()
    """
    server: MCPServer = MCPServer(
        name,
        version=__version__,
        instructions=(
            "Long-term memory. Search or recall before answering questions about the user; "
            "save facts worth remembering; memory ids come from search results."
        ),
    )

    def added(memories: list[Memory]) -> SavedOut:
        return SavedOut(
            interaction_id=(memories[0].interaction_id or "") if memories else "",
            memories=[_out(m) for m in memories],
        )

    async def saved(tenant: Tenant, interaction_id: str) -> SavedOut:
        interaction = await tenant.memora.get_interaction(
            tenant.org_id, tenant.user_id, interaction_id, with_messages=False
        )
        return SavedOut(
            interaction_id=interaction_id, memories=[_out(m) for m in interaction.memories]
        )

    @server.tool(title="Save a memory")
    async def save_memory(
        ctx: Context,
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_MESSAGE_CHARS,
                description="A self-contained fact to remember verbatim, e.g. 'Jake is allergic "
                "to peanuts'.",
            ),
        ],
        metadata: MetadataArg = None,
    ) -> SavedOut:
        """Remember one fact about the user, stored exactly as written."""
        tenant = await resolve(ctx)
        try:
            memories = await tenant.memora.add_memories(
                tenant.org_id, tenant.user_id, tenant.agent_id, [text], metadata=metadata
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return added(memories)

    @server.tool(title="Add memories")
    async def add_memories(
        ctx: Context,
        facts: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=MAX_MEMORY_CHARS)]],
            Field(
                min_length=1,
                max_length=MAX_MESSAGES_PER_INTERACTION,
                description="The facts to remember, each one self-contained statement, e.g. "
                "['Jake is vegetarian', 'Jake lives in Oslo'].",
            ),
        ],
        metadata: MetadataArg = None,
        infer: Annotated[
            bool,
            Field(
                description="Compare with what is already remembered: a fact that contradicts "
                "a memory becomes its new version, a known one is not stored again (needs a "
                "model on the server). False stores every fact verbatim."
            ),
        ] = False,
    ) -> SavedOut:
        """Remember several facts about the user at once."""
        tenant = await resolve(ctx)
        try:
            memories = await tenant.memora.add_memories(
                tenant.org_id,
                tenant.user_id,
                tenant.agent_id,
                facts,
                metadata=metadata,
                infer=infer,
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return added(memories)

    @server.tool(title="Save a conversation")
    async def save_conversation(
        ctx: Context,
        messages: Annotated[
            list[MessageIn],
            Field(min_length=1, description="The conversation, oldest message first."),
        ],
        metadata: MetadataArg = None,
    ) -> SavedOut:
        """Learn memories from a conversation (extracted by the server's model, or verbatim)."""
        tenant = await resolve(ctx)
        try:
            interaction_id, _ = await tenant.memora.save_or_update_interaction_and_memories(
                tenant.org_id,
                tenant.user_id,
                tenant.agent_id,
                [m.model_dump() for m in messages],
                metadata=metadata,
            )
            return await saved(tenant, interaction_id)
        except MemoraError as exc:
            raise _tool_error(exc) from exc

    @server.tool(title="Search memories")
    async def search_memories(
        ctx: Context,
        queries: Annotated[
            list[str],
            Field(
                min_length=1,
                max_length=MAX_QUERIES_PER_SEARCH,
                description="One or more short search queries, e.g. ['food allergies', 'diet'].",
            ),
        ],
        limit: Annotated[
            int,
            Field(ge=1, le=50, description="Most memories to return."),
        ] = 5,
        filter: FilterArg = None,
    ) -> MemoriesOut:
        """Find what is remembered about the user, most relevant first."""
        tenant = await resolve(ctx)
        try:
            found = await tenant.memora.search_memories_as_one(
                tenant.org_id,
                tenant.user_id,
                [q[:MAX_QUERY_CHARS] for q in queries],
                limit=limit,
                filter=filter,
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return MemoriesOut(memories=[_out(m) for m in found])

    @server.tool(title="Recall memories for a message")
    async def recall_memories(
        ctx: Context,
        text: Annotated[
            str,
            Field(
                min_length=1, max_length=MAX_MESSAGE_CHARS, description="The user's latest message."
            ),
        ],
        limit: Annotated[
            int,
            Field(ge=1, le=50, description="Most memories to return."),
        ] = 10,
        filter: FilterArg = None,
    ) -> MemoriesOut:
        """Recall the memories that matter for answering the user's latest message."""
        tenant = await resolve(ctx)
        try:
            found, _ = await tenant.memora.recall_memories_for_message(
                tenant.org_id, tenant.user_id, text, filter=filter
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return MemoriesOut(memories=[_out(m) for m in found[:limit]])

    @server.tool(title="List memories")
    async def list_memories(
        ctx: Context,
        limit: Annotated[
            int,
            Field(ge=1, le=200, description="Most memories to return."),
        ] = 20,
        filter: FilterArg = None,
    ) -> MemoriesOut:
        """The user's current memories, newest first."""
        tenant = await resolve(ctx)
        try:
            found = await tenant.memora.list_memories(
                tenant.org_id, tenant.user_id, limit=limit, filter=filter
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return MemoriesOut(memories=[_out(m) for m in found])

    @server.tool(title="Memory history")
    async def memory_history(
        ctx: Context,
        memory_id: Annotated[
            str,
            Field(description="A memory_id from search_memories or list_memories."),
        ],
    ) -> MemoriesOut:
        """How a memory changed over time: every version of it, newest first."""
        tenant = await resolve(ctx)
        try:
            chain = await tenant.memora.get_memory_history(tenant.org_id, tenant.user_id, memory_id)
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return MemoriesOut(memories=[_out(m) for m in chain])

    @server.tool(title="Edit a memory")
    async def edit_memory(
        ctx: Context,
        memory_id: Annotated[
            str,
            Field(description="A memory_id from search_memories or list_memories."),
        ],
        text: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=MAX_MEMORY_CHARS,
                description="The corrected memory; the old text stays in its history.",
            ),
        ] = None,
        metadata: Annotated[
            Metadata | None,
            Field(description="New metadata for the memory, replacing its old metadata."),
        ] = None,
    ) -> MemoryOut:
        """Correct a memory that is wrong or out of date (its text, its metadata or both)."""
        tenant = await resolve(ctx)
        try:
            edited = await tenant.memora.edit_memory(
                tenant.org_id, tenant.user_id, memory_id, memory=text, metadata=metadata
            )
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return _out(edited)

    @server.tool(title="Delete a memory")
    async def delete_memory(
        ctx: Context,
        memory_id: Annotated[
            str,
            Field(description="A memory_id from search_memories or list_memories."),
        ],
    ) -> DeletedOut:
        """Forget one memory (when the user asks, or it is wrong)."""
        tenant = await resolve(ctx)
        try:
            deleted = await tenant.memora.delete_memory(tenant.org_id, tenant.user_id, memory_id)
        except MemoraError as exc:
            raise _tool_error(exc) from exc
        return DeletedOut(memory_id=memory_id, deleted=deleted)

    return server
