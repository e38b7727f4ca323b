"""The framework adapters work unchanged against ``memora serve`` through the HTTP client."""

from __future__ import annotations

from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_integrations.langchain import MemoraRetriever, create_memora_tools
from tests.service.conftest import AGENT_A, ORG_A, USER_A1, Served


def test_retriever_and_tools_unchanged_through_the_sync_client(served: Served) -> None:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        iid, _ = memora.save_or_update_interaction_and_memories(
            ORG_A, USER_A1, AGENT_A, [{"role": "user", "content": "I collect vintage cameras."}]
        )
        try:
            retriever = MemoraRetriever(memora=memora, org_id=ORG_A, user_id=USER_A1, k=3)
            docs = retriever.invoke("which hobby do I have with cameras")
            assert docs[0].page_content == "I collect vintage cameras."
            tools = {
                t.name: t
                for t in create_memora_tools(
                    memora, org_id=ORG_A, user_id=USER_A1, agent_id=AGENT_A
                )
            }
            assert "vintage cameras" in str(tools["search_memories"].invoke({"query": "cameras"}))
        finally:
            assert memora.delete_interaction(ORG_A, USER_A1, iid)


async def test_retriever_async_through_the_async_client(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        iid, _ = await memora.save_or_update_interaction_and_memories(
            ORG_A, USER_A1, AGENT_A, [{"role": "user", "content": "My sister lives in Lisbon."}]
        )
        try:
            retriever = MemoraRetriever(memora=memora, org_id=ORG_A, user_id=USER_A1, k=3)
            docs = await retriever.ainvoke("where does my sister live")
            assert docs[0].page_content == "My sister lives in Lisbon."
        finally:
            assert await memora.delete_interaction(ORG_A, USER_A1, iid)


def test_chat_history_unchanged_through_the_sync_client(served: Served) -> None:
    """If this fails, check that MemoraChatMessageHistory only uses Memora's public methods
    (create_if_missing, get_interaction, delete_interaction) that the client mirrors."""
    from langchain_core.messages import AIMessage, HumanMessage

    from memora_integrations.langchain import MemoraChatMessageHistory

    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        history = MemoraChatMessageHistory(
            memora,
            org_id=ORG_A,
            user_id=USER_A1,
            agent_id=AGENT_A,
            interaction_id="client-session-1",
            create_missing=True,
            infer=False,
        )
        history.add_messages(
            [HumanMessage("I am training for the Oslo marathon."), AIMessage("Good luck!")]
        )
        history.add_messages([HumanMessage("My race is on 14 September.")])
        assert [m.content for m in history.messages] == [
            "I am training for the Oslo marathon.",
            "Good luck!",
            "My race is on 14 September.",
        ]
        assert {m.memory for m in history.get_memories()} >= {"My race is on 14 September."}
        again = MemoraChatMessageHistory(
            memora,
            org_id=ORG_A,
            user_id=USER_A1,
            agent_id=AGENT_A,
            interaction_id="client-session-1",
        )
        assert len(again.messages) == 3  # another process sees the same conversation
        history.clear()
        assert again.messages == []


def test_memory_context_through_the_client(served: Served) -> None:
    """If this fails, check the get_memory_context route (wire.py) and the generated client."""
    chat = [
        {"role": "user", "content": "Which trail did we pick?"},
        {"role": "assistant", "content": "The north ridge."},
    ]
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        iid, _ = memora.save_or_update_interaction_and_memories(ORG_A, USER_A1, AGENT_A, chat)
        try:
            [hit] = memora.search_memories_as_one(ORG_A, USER_A1, ["north ridge"], limit=1)
            around = memora.get_memory_context(ORG_A, USER_A1, hit.memory_id, window=1)
            assert [m.content for m in around] == [c["content"] for c in chat]
        finally:
            assert memora.delete_interaction(ORG_A, USER_A1, iid)
