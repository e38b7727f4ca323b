"""LangGraph ``MemoraStore`` and ``MemoraMemory`` unchanged against ``memora serve`` (#16).

The server runs in raw mode (no model): saves store messages verbatim as memories. The agent
model is the scripted ``AgentFakeModel`` of the integration tests (the one allowed double).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from memora_engine.client import MemoraClient, SyncMemoraClient
from memora_engine.errors import InvalidInputError
from memora_integrations.langgraph import MemoraMemory, MemoraStore, is_recall_message
from tests.integrations.langchain_support import AgentFakeModel
from tests.service.conftest import ORG_A, Served


@pytest.fixture
def sync_client(served: Served) -> Iterator[SyncMemoraClient]:
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        yield memora


def _cleanup(memora: SyncMemoraClient, user_id: str) -> None:
    memora.delete_user(ORG_A, user_id)


def test_store_put_get_search_filter_delete_through_the_sync_client(
    sync_client: SyncMemoraClient,
) -> None:
    store = MemoraStore(sync_client)
    ns = (ORG_A, "lg-store-sync")
    try:
        store.put(ns, "diet", {"content": "Jake is vegetarian", "topic": "food"})
        store.put(ns, "home", {"content": "Jake lives in Oslo", "topic": "home"})
        store.put(ns, "drink", {"content": "Jake drinks black coffee", "topic": "food"})
        item = store.get(ns, "diet")
        assert item is not None
        assert item.value == {"content": "Jake is vegetarian", "topic": "food"}
        hits = store.search(ns, query="what does Jake eat", limit=3)
        assert hits[0].key == "diet"
        assert hits[0].score is not None
        food = store.search(ns, query="where does Jake live", filter={"topic": "food"}, limit=2)
        assert sorted(h.key for h in food) == ["diet", "drink"]
        listed = store.search(ns, filter={"topic": "home"})
        assert [h.key for h in listed] == ["home"]
        # A second put supersedes: the value changes, the history stays in Memora.
        store.put(ns, "diet", {"content": "Jake is vegan", "topic": "food"})
        item = store.get(ns, "diet")
        assert item is not None
        assert item.value["content"] == "Jake is vegan"
        assert item.updated_at >= item.created_at
        store.delete(ns, "diet")
        assert store.get(ns, "diet") is None
        with pytest.raises(InvalidInputError):
            store.put((ORG_A,), "k", {"content": "no user"})
    finally:
        _cleanup(sync_client, "lg-store-sync")


async def test_store_async_through_the_async_client(served: Served) -> None:
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        store = MemoraStore(memora)
        ns = (ORG_A, "lg-store-async", "planner")
        try:
            await store.aput(ns, "trip", {"content": "Jake flies to Tokyo in May", "kind": "t"})
            await store.aput(ns, "gym", {"content": "Jake trains on Mondays", "kind": "h"})
            item = await store.aget(ns, "trip")
            assert item is not None
            assert item.namespace == ns
            found = await store.asearch(ns, query="travel plans", limit=1)
            assert [h.key for h in found] == ["trip"]
            habits = await store.asearch(ns, query="travel plans", filter={"kind": "h"})
            assert [h.key for h in habits] == ["gym"]
        finally:
            await memora.delete_user(ORG_A, "lg-store-async")


def _answer(messages: list[BaseMessage]) -> AIMessage:
    recalled = [str(m.content) for m in messages if is_recall_message(m)]
    return AIMessage(f"I recall: {recalled[-1]}" if recalled else "I know nothing yet.")


def test_memory_middleware_saves_and_recalls_through_the_sync_client(
    sync_client: SyncMemoraClient,
) -> None:
    user = "lg-memory"
    memory = MemoraMemory(sync_client, org_id=ORG_A, agent_id="lg-bot", create_missing=True)
    agent = create_agent(
        AgentFakeModel(responder=_answer), tools=[], middleware=[memory], checkpointer=None
    )
    try:
        first = {"configurable": {"thread_id": "lg-thread-1", "user_id": user}}
        out = agent.invoke({"messages": [HumanMessage("I am allergic to peanuts.")]}, first)
        assert out["messages"][-1].content == "I know nothing yet."
        saved = sync_client.get_interaction(ORG_A, user, "lg-thread-1")
        assert [m.content for m in saved.messages] == [
            "I am allergic to peanuts.",
            "I know nothing yet.",
        ]
        model = AgentFakeModel(responder=_answer)
        agent = create_agent(model, tools=[], middleware=[memory], checkpointer=InMemorySaver())
        second = {"configurable": {"thread_id": "lg-thread-2", "user_id": user}}
        out = agent.invoke({"messages": [HumanMessage("Can I eat peanuts?")]}, second)
        recall = [m for m in model.seen[-1] if is_recall_message(m)]
        assert len(recall) == 1
        assert "I am allergic to peanuts." in str(recall[0].content)
        assert str(out["messages"][-1].content).startswith("I recall: ")
    finally:
        _cleanup(sync_client, user)


async def test_memory_async_through_the_async_client(served: Served) -> None:
    user = "lg-memory-async"
    async with MemoraClient(served.url, served.keys.org_a) as memora:
        memory = MemoraMemory(
            memora, org_id=ORG_A, agent_id="lg-bot", user_id=user, create_missing=True
        )
        model = AgentFakeModel(responder=_answer)
        agent = create_agent(model, tools=[], middleware=[memory], checkpointer=InMemorySaver())
        try:
            config = {"configurable": {"thread_id": "lg-async-1"}}
            await agent.ainvoke({"messages": [HumanMessage("My cat is called Miso.")]}, config)
            config = {"configurable": {"thread_id": "lg-async-2"}}
            await agent.ainvoke({"messages": [HumanMessage("What is my cat called?")]}, config)
            recall = [m for m in model.seen[-1] if is_recall_message(m)]
            assert "My cat is called Miso." in str(recall[0].content)
        finally:
            await memora.delete_user(ORG_A, user)
