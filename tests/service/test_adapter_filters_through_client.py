"""LangChain and LangGraph metadata and filters, against ``memora serve`` through the client (#14, #16).

The adapters take ``MemoraClient`` / ``SyncMemoraClient`` where they take a ``Memora``; their
filters travel to the server (a JSON body, or JSON text in the query string of a listing) and
their metadata comes back exactly. The server runs in raw mode (no model).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_engine.errors import InvalidInputError
from memora_integrations.langchain import MemoraRetriever, create_memora_tools
from memora_integrations.langgraph import MemoraMemory, MemoraStore, is_recall_message
from tests.integrations.langchain_support import AgentFakeModel
from tests.service.conftest import AGENT_A, ORG_A, Served

FACTS = [
    {"memory": "I drink green tea every morning", "metadata": {"topic": "food", "rank": 1}},
    {"memory": "I am allergic to peanuts", "metadata": {"topic": "health", "rank": 3}},
    {"memory": "I eat porridge for breakfast", "metadata": {"topic": "food", "rank": 2}},
    {"memory": "I run on Sundays", "metadata": {"topic": "sport", "rank": 5}},
]


@pytest.fixture
def sync_client(served: Served) -> Iterator[SyncMemoraClient]:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        yield memora


@pytest.fixture
def user(sync_client: SyncMemoraClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh user of org A (named after the test) holding :data:`FACTS`."""
    user_id = "af-" + request.node.name.removeprefix("test_")[:40].replace("_", "-")
    sync_client.get_or_create_user(ORG_A, user_id)
    sync_client.add_memories(ORG_A, user_id, AGENT_A, FACTS)
    yield user_id
    sync_client.delete_user(ORG_A, user_id)


def test_retriever_filter_at_construction_and_per_call(
    sync_client: SyncMemoraClient, user: str
) -> None:
    retriever = MemoraRetriever(
        memora=sync_client, org_id=ORG_A, user_id=user, k=4, filter={"topic": "food"}
    )
    docs = retriever.invoke("what do I have in the morning")
    assert sorted(d.page_content for d in docs) == [
        "I drink green tea every morning",
        "I eat porridge for breakfast",
    ]
    assert {d.metadata["memory_metadata"]["topic"] for d in docs} == {"food"}
    narrowed = retriever.invoke("what do I have in the morning", filter={"rank": {"$gte": 2}})
    assert [d.page_content for d in narrowed] == ["I eat porridge for breakfast"]
    assert narrowed[0].metadata["memory_metadata"] == {"topic": "food", "rank": 2}


async def test_retriever_and_tools_async_with_filters(served: Served, user: str) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        retriever = MemoraRetriever(memora=memora, org_id=ORG_A, user_id=user, k=2)
        docs = await retriever.ainvoke("allergy", filter={"topic": {"$in": ["health", "sport"]}})
        assert {d.page_content for d in docs} == {"I am allergic to peanuts", "I run on Sundays"}
        tools = {
            t.name: t
            for t in create_memora_tools(memora, org_id=ORG_A, user_id=user, agent_id=AGENT_A)
        }
        found = await tools["search_memories"].ainvoke(
            {"query": "food", "filter": {"topic": "sport"}}
        )
        assert "I run on Sundays" in str(found)
        assert "green tea" not in str(found)
        await tools["save_memory"].ainvoke(
            {"text": "I collect stamps", "metadata": {"topic": "hobby"}}
        )
        [stamps] = await memora.list_memories(ORG_A, user, filter={"topic": "hobby"})
        assert stamps.memory == "I collect stamps"
        refused = await tools["search_memories"].ainvoke(
            {"query": "food", "filter": {"topic": {"$regex": "f"}}}
        )
        assert "$regex" in str(refused)


def test_store_filter_pushed_down_fills_the_limit(sync_client: SyncMemoraClient) -> None:
    """Many better-ranked items of another kind: a filtered search still returns `limit`."""
    store = MemoraStore(sync_client)
    ns = (ORG_A, "af-store")
    try:
        for i in range(40):
            store.put(ns, f"coffee-{i}", {"content": f"Coffee note {i}: espresso", "kind": "a"})
        for i in range(3):
            store.put(ns, f"tea-{i}", {"content": f"Tea note {i}: sencha", "kind": "b"})
        found = store.search(ns, query="espresso coffee", filter={"kind": "b"}, limit=3)
        assert sorted(h.key for h in found) == ["tea-0", "tea-1", "tea-2"]
        assert all(h.value["kind"] == "b" for h in found)
        listed = store.search(ns, filter={"kind": {"$ne": "a"}}, limit=10)
        assert sorted(h.key for h in listed) == ["tea-0", "tea-1", "tea-2"]
        with pytest.raises(InvalidInputError):
            store.search(ns, query="x", filter={"kind": {"$regex": "b"}})
    finally:
        sync_client.delete_user(ORG_A, "af-store")


def _answer(messages: list[BaseMessage]) -> AIMessage:
    recalled = [str(m.content) for m in messages if is_recall_message(m)]
    return AIMessage(f"I recall: {recalled[-1]}" if recalled else "I know nothing yet.")


def test_langgraph_memory_filter_and_metadata(sync_client: SyncMemoraClient, user: str) -> None:
    memory = MemoraMemory(
        sync_client,
        org_id=ORG_A,
        agent_id=AGENT_A,
        user_id=user,
        filter={"topic": "health"},
        metadata={"topic": "chat"},
    )
    model = AgentFakeModel(responder=_answer)
    agent = create_agent(model, tools=[], middleware=[memory], checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "af-thread"}}
    agent.invoke({"messages": [HumanMessage("What should I eat or drink today?")]}, config)
    recall = [str(m.content) for m in model.seen[-1] if is_recall_message(m)]
    assert len(recall) == 1
    assert "I am allergic to peanuts" in recall[0]
    assert "green tea" not in recall[0]
    saved = sync_client.get_interaction(ORG_A, user, "af-thread", with_memories=True)
    assert saved.memories
    assert {m.metadata["topic"] for m in saved.memories} == {"chat"}
