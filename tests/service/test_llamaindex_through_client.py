"""LlamaIndex ``MemoraMemory``, ``MemoraMemoryBlock`` and ``MemoraToolSpec`` unchanged against
``memora serve`` through ``MemoraClient`` / ``SyncMemoraClient`` (#16), with their filters
(``MetadataFilters`` or Memora filter dicts) and metadata (#14).

The server runs in raw mode (no model): every saved message is stored verbatim as a memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_integrations.llama_index import MemoraMemory, MemoraMemoryBlock, MemoraToolSpec
from tests.service.conftest import AGENT_A, ORG_A, Served

_ID = re.compile(r"memory_id=([0-9a-f-]{36})")


@pytest.fixture
def sync_client(served: Served) -> Iterator[SyncMemoraClient]:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        yield memora


FACTS = [
    {"memory": "I drink green tea every morning", "metadata": {"topic": "food", "rank": 1}},
    {"memory": "I am allergic to peanuts", "metadata": {"topic": "health", "rank": 3}},
    {"memory": "I eat porridge for breakfast", "metadata": {"topic": "food", "rank": 2}},
    {"memory": "I run on Sundays", "metadata": {"topic": "sport", "rank": 5}},
]


@pytest.fixture
def user(sync_client: SyncMemoraClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh user of org A (named after the test) holding :data:`FACTS`."""
    user_id = "li-" + request.node.name.removeprefix("test_")[:40].replace("_", "-")
    sync_client.get_or_create_user(ORG_A, user_id)
    sync_client.add_memories(ORG_A, user_id, AGENT_A, FACTS)
    yield user_id
    sync_client.delete_user(ORG_A, user_id)


def test_memory_saves_turns_and_recalls_them_in_another_session(
    sync_client: SyncMemoraClient,
) -> None:
    user = "li-memory"
    tenant = {"org_id": ORG_A, "user_id": user, "agent_id": "li-bot", "create_missing": True}
    try:
        memory = MemoraMemory.from_defaults(sync_client, session_id="li-s1", **tenant)
        memory.put(ChatMessage(role="user", content="I keep bees in my garden."))
        memory.put(ChatMessage(role="assistant", content="Lovely, bees are great."))
        stored = sync_client.get_interaction(ORG_A, user, "li-s1")
        assert [m.content for m in stored.messages] == [
            "I keep bees in my garden.",
            "Lovely, bees are great.",
        ]
        later = MemoraMemory.from_defaults(sync_client, session_id="li-s2", **tenant)
        later.put(ChatMessage(role="user", content="What do I keep in my garden?"))
        got = later.get()
        assert got[0].role == MessageRole.SYSTEM
        assert "I keep bees in my garden." in (got[0].content or "")
        assert got[-1].content == "What do I keep in my garden?"
    finally:
        sync_client.delete_user(ORG_A, user)


async def test_block_in_a_llama_index_memory_through_the_async_client(
    served: Served, llama_memory: Callable[..., Memory]
) -> None:
    user = "li-block"
    async with MemoraClient(served.url, served.keys.org_a) as memora:

        def block() -> MemoraMemoryBlock:
            return MemoraMemoryBlock(
                memora,
                org_id=ORG_A,
                user_id=user,
                agent_id="li-bot",
                eager=True,
                create_missing=True,
            )

        try:
            memory = llama_memory(session_id="li-b1", memory_blocks=[block()])
            await memory.aput(ChatMessage(role="user", content="My sister lives in Lisbon."))
            await memory.aget()  # eager: the read saves the live window
            stored = await memora.get_interaction(ORG_A, user, "li-b1")
            assert [m.content for m in stored.messages] == ["My sister lives in Lisbon."]
            fresh = llama_memory(session_id="li-b2", memory_blocks=[block()])
            await fresh.aput(ChatMessage(role="user", content="Where does my sister live?"))
            got = await fresh.aget()
            assert "My sister lives in Lisbon." in (got[0].content or "")
        finally:
            await memora.delete_user(ORG_A, user)


def test_tool_spec_round_trip_through_the_sync_client(sync_client: SyncMemoraClient) -> None:
    user = "li-tools"
    spec = MemoraToolSpec(sync_client, ORG_A, user, "li-bot", create_missing=True)
    tools = {tool.metadata.name or "": tool for tool in spec.to_tool_list()}
    try:
        saved = str(tools["save_memory"].call(text="The user lives in Porto."))
        [memory_id] = _ID.findall(saved)
        found = str(tools["search_memories"].call(query="where does the user live"))
        assert "The user lives in Porto." in found
        assert memory_id in str(tools["memory_history"].call(memory_id=memory_id))
        assert "deleted" in str(tools["delete_memory"].call(memory_id=memory_id)).lower()
        assert sync_client.list_memories(ORG_A, user) == []
    finally:
        sync_client.delete_user(ORG_A, user)


async def test_tool_spec_async_through_the_async_client(served: Served) -> None:
    user = "li-tools-async"
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        spec = MemoraToolSpec(memora, ORG_A, user, "li-bot", create_missing=True)
        tools = {tool.metadata.name or "": tool for tool in spec.to_tool_list()}
        try:
            await tools["save_memory"].acall(text="The user plays the violin.")
            found = await tools["search_memories"].acall(query="music instrument")
            assert "The user plays the violin." in str(found)
        finally:
            await memora.delete_user(ORG_A, user)


def test_llama_memory_metadata_filters_and_saved_metadata(
    sync_client: SyncMemoraClient, user: str
) -> None:
    memory = MemoraMemory.from_defaults(
        sync_client,
        org_id=ORG_A,
        user_id=user,
        agent_id=AGENT_A,
        session_id="af-llama",
        filters=MetadataFilters(
            filters=[MetadataFilter(key="rank", value=2, operator=FilterOperator.GTE)]
        ),
        metadata={"channel": "llama"},
    )
    memory.put(ChatMessage(role="user", content="What do I usually drink or eat?"))
    memory.put(ChatMessage(role="assistant", content="Let me think."))
    system = memory.get()[0].content or ""
    assert "I eat porridge for breakfast" in system
    assert "green tea" not in system  # rank 1
    saved = sync_client.list_memories(ORG_A, user, filter={"channel": "llama"})
    assert {m.memory for m in saved} == {"What do I usually drink or eat?", "Let me think."}


async def test_llama_tool_spec_filter_and_metadata(served: Served, user: str) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        spec = MemoraToolSpec(
            memora,
            ORG_A,
            user,
            AGENT_A,
            filters={"topic": {"$ne": "sport"}},
            metadata={"via": "tool"},
        )
        tools = {tool.metadata.name or "": tool for tool in spec.to_tool_list()}
        found = str(await tools["search_memories"].acall(query="sunday run", limit=5))
        assert "I run on Sundays" not in found
        narrowed = str(
            await tools["search_memories"].acall(query="sunday run", filter={"topic": "health"})
        )
        assert "I am allergic to peanuts" in narrowed
        assert "porridge" not in narrowed
        await tools["save_memory"].acall(text="I paint watercolours", metadata={"topic": "art"})
        [art] = await memora.list_memories(ORG_A, user, filter={"topic": "art"})
        assert art.metadata == {"topic": "art", "via": "tool"}


async def test_block_filters_and_metadata_through_the_async_client(
    served: Served, user: str, llama_memory: Callable[..., Memory]
) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        block = MemoraMemoryBlock(
            memora,
            org_id=ORG_A,
            user_id=user,
            agent_id=AGENT_A,
            eager=True,
            filters={"topic": "food"},
            metadata={"channel": "block"},
        )
        memory = llama_memory(session_id="li-filtered-block", memory_blocks=[block])
        await memory.aput(ChatMessage(role="user", content="Any allergies or breakfast habits?"))
        system = (await memory.aget())[0].content or ""
        assert "I eat porridge for breakfast" in system
        assert "peanuts" not in system  # topic health
        [saved] = await memora.list_memories(ORG_A, user, filter={"channel": "block"})
        assert saved.memory == "Any allergies or breakfast habits?"
