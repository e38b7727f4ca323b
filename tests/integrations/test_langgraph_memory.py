"""MemoraMemory as LangChain v1 middleware, as create_react_agent hooks and as graph nodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph

from memora_engine import InvalidInputError, Memory, MessageBlock
from memora_integrations.langchain import create_memora_tools
from memora_integrations.langgraph import (
    MemoraMemory,
    is_recall_message,
    memories_outside_thread,
    recalled_memory_ids,
)
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    public,
    seed_tenant,
)


def _recall_texts(messages: list[BaseMessage]) -> list[str]:
    return [str(m.content) for m in messages if is_recall_message(m)]


def answer_from_context(messages: list[BaseMessage]) -> AIMessage:
    """The agent model: report the memories it was shown, or call the search tool when asked."""
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return AIMessage(f"Tool said: {last.content}")
    users = [m for m in messages if isinstance(m, HumanMessage) and not is_recall_message(m)]
    if users and "look it up" in str(users[-1].content):
        call = {"name": "search_memories", "args": {"query": "peanuts"}, "id": "call-1"}
        return AIMessage("", tool_calls=[call])
    recalled = _recall_texts(messages)
    return AIMessage(f"I recall: {recalled[-1]}" if recalled else "I know nothing yet.")


@pytest.fixture
def store_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "memora"
    memora = open_sync(path, extract=True)
    seed_tenant(memora, "acme", "jake", "bot")
    memora.close()
    return path


def test_create_agent_middleware_recalls_across_store_reopenings(store_path: Path) -> None:
    # Session 1: the user tells the agent something; the run is saved with extraction.
    memora = open_sync(store_path, extract=True)
    model = AgentFakeModel(responder=answer_from_context)
    agent = create_agent(
        model,
        tools=[],
        system_prompt="You are a helpful assistant.",
        middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot")],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "thread-1", "user_id": "jake"}}
    out = agent.invoke({"messages": [HumanMessage("I am allergic to peanuts.")]}, config)
    assert out["messages"][-1].content == "I know nothing yet."
    out = agent.invoke({"messages": [HumanMessage("I also love hiking.")]}, config)
    saved = public(memora).get_interaction("acme", "jake", "thread-1")
    assert [m.content for m in saved.messages] == [
        "I am allergic to peanuts.",
        "I know nothing yet.",
        "I also love hiking.",
        out["messages"][-1].content,
    ]
    memora.close()

    # Session 2: a new store object (reopened from disk), a new thread, a new checkpointer.
    memora = open_sync(store_path, extract=True)
    model = AgentFakeModel(responder=answer_from_context)
    memory = MemoraMemory(memora, org_id="acme", agent_id="bot", user_id="jake")
    agent = create_agent(
        model,
        tools=[],
        system_prompt="You are a helpful assistant.",
        middleware=[memory],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "thread-2"}}
    out = agent.invoke({"messages": [HumanMessage("Can I eat peanuts?")]}, config)
    shown = model.seen[-1]
    recall = [m for m in shown if is_recall_message(m)]
    assert len(recall) == 1
    assert recall[0].name == "memora"
    assert "User jake said: I am allergic to peanuts." in str(recall[0].content)
    assert "peanuts" not in str(shown[0].content)  # never in the system prompt
    assert out["messages"][-1].content.startswith("I recall: ")
    first_ids = recalled_memory_ids(out["messages"])

    # Same thread again: memories already recalled are not injected a second time.
    out = agent.invoke({"messages": [HumanMessage("Any peanuts in satay sauce?")]}, config)
    later = recalled_memory_ids(out["messages"])
    assert first_ids <= later
    assert len(_recall_texts(out["messages"])) == 1 + (1 if later - first_ids else 0)
    assert all(
        not (set(m.response_metadata["memora_recalled_memory_ids"]) & first_ids)
        for m in out["messages"][2:]
        if is_recall_message(m)
    )
    # The saved conversation leaves recall messages out.
    saved = public(memora).get_interaction("acme", "jake", "thread-2")
    assert [m.role for m in saved.messages] == ["user", "assistant", "user", "assistant"]
    assert [m.content for m in saved.messages if m.role == "user"] == [
        "Can I eat peanuts?",
        "Any peanuts in satay sauce?",
    ]
    memora.close()


def test_middleware_with_memory_tools_and_tool_loop(store_path: Path) -> None:
    memora = open_sync(store_path, extract=True)
    memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": "I am allergic to peanuts."}]
    )
    model = AgentFakeModel(responder=answer_from_context)
    agent = create_agent(
        model,
        tools=create_memora_tools(memora, org_id="acme", user_id="jake", agent_id="bot"),
        middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot", user_id="jake")],
    )
    out = agent.invoke({"messages": [HumanMessage("Please look it up: what about peanuts?")]})
    kinds = [type(m).__name__ for m in out["messages"]]
    # user, recall, tool call, tool result, answer: recall happens once per user message.
    assert kinds == ["HumanMessage", "HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert "allergic to peanuts" in out["messages"][-1].content
    memora.close()


def test_missing_user_raises_clearly(store_path: Path) -> None:
    memora = open_sync(store_path)
    agent = create_agent(
        AgentFakeModel(responder=answer_from_context),
        tools=[],
        middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot")],
    )
    with pytest.raises(InvalidInputError, match="needs a user"):
        agent.invoke({"messages": [HumanMessage("hello")]})
    with pytest.raises(InvalidInputError):
        MemoraMemory(memora, org_id="acme", agent_id="bot", max_memories=0)
    memora.close()


def test_create_react_agent_hooks(store_path: Path) -> None:
    from langgraph.prebuilt import create_react_agent

    memora = open_sync(store_path, extract=True)
    memory = MemoraMemory(memora, org_id="acme", agent_id="bot")
    model = AgentFakeModel(responder=answer_from_context)
    agent = create_react_agent(
        model,
        tools=[],
        pre_model_hook=memory.pre_model_hook,
        post_model_hook=memory.post_model_hook,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "react-1", "user_id": "jake"}}
    agent.invoke({"messages": [HumanMessage("My dog is called Rex.")]}, config)
    assert [
        m.memory for m in public(memora).get_interaction("acme", "jake", "react-1").memories
    ] == ["User jake said: My dog is called Rex."]
    config = {"configurable": {"thread_id": "react-2", "user_id": "jake"}}
    out = agent.invoke({"messages": [HumanMessage("What is my dog called?")]}, config)
    assert "User jake said: My dog is called Rex." in out["messages"][-1].content
    memora.close()


async def test_hand_built_graph_with_async_nodes(store_path: Path) -> None:
    memora = await open_async(store_path, extract=True)
    try:
        memory = MemoraMemory(memora, org_id="acme", agent_id="bot", user_id="jake")
        model = AgentFakeModel(responder=answer_from_context)

        async def call_model(state: MessagesState) -> dict:
            return {"messages": [await model.ainvoke(state["messages"])]}

        builder = StateGraph(MessagesState)
        builder.add_node("recall", memory.arecall_node)
        builder.add_node("model", call_model)
        builder.add_node("save", memory.asave_node)
        builder.add_edge(START, "recall")
        builder.add_edge("recall", "model")
        builder.add_edge("model", "save")
        builder.add_edge("save", END)
        graph = builder.compile(checkpointer=InMemorySaver())
        config = {"configurable": {"thread_id": "graph-1"}}
        await graph.ainvoke({"messages": [HumanMessage("I work as a nurse.")]}, config)
        out = await graph.ainvoke(
            {"messages": [HumanMessage("What do I do as a job, nurse?")]},
            {"configurable": {"thread_id": "graph-2"}},
        )
        assert "User jake said: I work as a nurse." in out["messages"][-1].content
    finally:
        await memora.close()


async def test_create_agent_async_hooks_on_async_core(store_path: Path) -> None:
    memora = await open_async(store_path, extract=True)
    try:
        model = AgentFakeModel(responder=answer_from_context)
        agent = create_agent(
            model,
            tools=[],
            middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot", user_id="jake")],
            checkpointer=InMemorySaver(),
        )
        await agent.ainvoke(
            {"messages": [HumanMessage("I speak Portuguese.")]},
            {"configurable": {"thread_id": "async-1"}},
        )
        stored = await memora.get_interaction("acme", "jake", "async-1")
        assert [m.memory for m in stored.memories] == ["User jake said: I speak Portuguese."]
        out = await agent.ainvoke(
            {"messages": [HumanMessage("Which language do I speak, Portuguese?")]},
            {"configurable": {"thread_id": "async-2"}},
        )
        assert "User jake said: I speak Portuguese." in out["messages"][-1].content
    finally:
        await memora.close()


def test_memories_of_the_current_thread_are_not_recalled(store_path: Path) -> None:
    """Issue 13 bug 10: turn 2 of a thread must not get turn 1's memories (already in context)."""
    memora = open_sync(store_path, extract=True)
    model = AgentFakeModel(responder=answer_from_context)
    agent = create_agent(
        model,
        tools=[],
        middleware=[MemoraMemory(memora, org_id="acme", agent_id="bot", user_id="jake")],
        checkpointer=InMemorySaver(),
    )
    same = {"configurable": {"thread_id": "same-thread"}}
    agent.invoke({"messages": [HumanMessage("I am allergic to peanuts.")]}, same)
    out = agent.invoke({"messages": [HumanMessage("Can I eat peanuts?")]}, same)
    assert not any(is_recall_message(m) for m in model.seen[-1])
    assert out["messages"][-1].content == "I know nothing yet."
    # Another thread has not seen that message: there the memory is recalled.
    other = {"configurable": {"thread_id": "other-thread"}}
    out = agent.invoke({"messages": [HumanMessage("Can I eat peanuts?")]}, other)
    assert "User jake said: I am allergic to peanuts." in out["messages"][-1].content
    memora.close()


def test_memories_outside_thread_keeps_other_threads_and_trimmed_messages() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def memory(interaction_id: str, source: str) -> Memory:
        return Memory(
            org_id="acme",
            agent_id="bot",
            user_id="jake",
            interaction_id=interaction_id,
            memory_id=str(uuid.uuid4()),
            memory=f"said {source}",
            obtained_at=when,
            message_sources=[MessageBlock(role="user", content=source, msg_position=0)],
        )

    visible, trimmed, elsewhere = memory("t1", "hi"), memory("t1", "old"), memory("t2", "hi")
    state = [HumanMessage("hi"), AIMessage("hello")]
    kept = memories_outside_thread([visible, trimmed, elsewhere], "t1", state)
    assert kept == [trimmed, elsewhere]
    assert memories_outside_thread([visible], None, state) == [visible]
