"""LlamaIndex ``MemoraMemory``, ``MemoraMemoryBlock`` and ``MemoraToolSpec`` unchanged against
``memora serve`` through ``MemoraClient`` / ``SyncMemoraClient`` (#16).

The server runs in raw mode (no model): every saved message is stored verbatim as a memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory

from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_integrations.llama_index import MemoraMemory, MemoraMemoryBlock, MemoraToolSpec
from tests.service.conftest import ORG_A, Served

_ID = re.compile(r"memory_id=([0-9a-f-]{36})")


@pytest.fixture
def sync_client(served: Served) -> Iterator[SyncMemoraClient]:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        yield memora


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


async def test_block_in_a_llama_index_memory_through_the_async_client(served: Served) -> None:
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
            memory = Memory.from_defaults(session_id="li-b1", memory_blocks=[block()])
            await memory.aput(ChatMessage(role="user", content="My sister lives in Lisbon."))
            await memory.aget()  # eager: the read saves the live window
            stored = await memora.get_interaction(ORG_A, user, "li-b1")
            assert [m.content for m in stored.messages] == ["My sister lives in Lisbon."]
            fresh = Memory.from_defaults(session_id="li-b2", memory_blocks=[block()])
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
