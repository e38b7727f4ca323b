"""Memora memory tools: langchain-tests ToolsUnitTests / ToolsIntegrationTests and behaviour."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import ValidationError

from memora_engine import (
    BackendUnavailableError,
    InvalidInputError,
    Memora,
    MemoryNotFoundError,
    SyncMemora,
)
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.graph_db.sqlite import SqliteGraphDB
from memora_engine.vector_db.qdrant_edge import QdrantEdgeDB
from memora_integrations.langchain import (
    MemoraDeleteMemoryTool,
    MemoraMemoryHistoryTool,
    MemoraSaveMemoryTool,
    MemoraSearchMemoriesTool,
    create_memora_tools,
)
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    public,
    seed_tenant,
)

TENANT = {"org_id": "acme", "user_id": "jake", "agent_id": "bot"}


@pytest.fixture(scope="module")
def shared_memora(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path_factory.mktemp("tools"), extract=True)
    seed_tenant(memora, "acme", "jake", "bot")
    memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": "Jake plays chess on Fridays."}]
    )
    yield memora
    memora.close()


def _fresh_memory_id(memora: SyncMemora, text: str) -> str:
    iid, _ = memora.save_or_update_interaction_and_memories(
        "acme", "jake", "bot", [{"role": "user", "content": text}], infer=False
    )
    return public(memora).get_interaction("acme", "jake", iid).memories[0].memory_id


class _Bound:
    """Binds the module's Memora to the standard test classes."""

    @pytest.fixture(autouse=True)
    def _bind_memora(self, shared_memora: SyncMemora) -> None:
        self._memora = shared_memora

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {"memora": self._memora, **TENANT}


class _Search(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraSearchMemoriesTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "weekly hobbies", "limit": 3}


class _Save(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraSaveMemoryTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"text": "Jake's cat is called Miso."}


class _History(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraMemoryHistoryTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        memories = public(self._memora).list_memories("acme", "jake", include_history=True)
        return {"memory_id": memories[-1].memory_id}


class _Delete(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraDeleteMemoryTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        # Each access makes a new memory, so every standard test deletes a real one.
        return {"memory_id": _fresh_memory_id(self._memora, "Jake owns a kayak.")}


class TestSearchToolUnit(_Search, ToolsUnitTests):
    pass


class TestSearchToolIntegration(_Search, ToolsIntegrationTests):
    pass


class TestSaveToolUnit(_Save, ToolsUnitTests):
    pass


class TestSaveToolIntegration(_Save, ToolsIntegrationTests):
    pass


class TestHistoryToolUnit(_History, ToolsUnitTests):
    pass


class TestHistoryToolIntegration(_History, ToolsIntegrationTests):
    pass


class TestDeleteToolUnit(_Delete, ToolsUnitTests):
    pass


class TestDeleteToolIntegration(_Delete, ToolsIntegrationTests):
    pass


# ---------------------------------------------------------------------- behaviour
def test_factory_builds_named_tools(shared_memora: SyncMemora) -> None:
    tools = create_memora_tools(shared_memora, **TENANT)
    assert [t.name for t in tools] == [
        "search_memories",
        "save_memory",
        "memory_history",
        "delete_memory",
    ]
    only = create_memora_tools(shared_memora, **TENANT, include=("search",))
    assert [t.name for t in only] == ["search_memories"]
    with pytest.raises(InvalidInputError):
        create_memora_tools(shared_memora, **TENANT, include=("launch",))  # type: ignore[arg-type]


def test_search_returns_json_content_and_memory_artifacts(shared_memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=shared_memora, **TENANT)
    message = tool.invoke(
        {"type": "tool_call", "id": "c1", "name": tool.name, "args": {"query": "chess"}}
    )
    assert isinstance(message, ToolMessage)
    content = json.loads(message.content)
    assert content[0]["memory"] == "User jake said: Jake plays chess on Fridays."
    assert set(content[0]) == {"memory_id", "memory", "obtained_at"}
    assert message.artifact[0]["message_sources"][0]["content"] == "Jake plays chess on Fridays."
    assert message.artifact[0]["score"] > 0


def test_save_conversation_extracts_and_history_and_delete(shared_memora: SyncMemora) -> None:
    save = MemoraSaveMemoryTool(memora=shared_memora, **TENANT)
    content = json.loads(
        save.invoke(
            {
                "conversation": [
                    {"role": "user", "content": "I started learning Japanese."},
                    {"role": "assistant", "content": "Great choice!"},
                ]
            }
        )
    )
    assert [m["memory"] for m in content["memories"]] == [
        "User jake said: I started learning Japanese."
    ]
    memory_id = content["memories"][0]["memory_id"]
    history = MemoraMemoryHistoryTool(memora=shared_memora, **TENANT)
    assert [v["memory_id"] for v in json.loads(history.invoke({"memory_id": memory_id}))] == [
        memory_id
    ]
    delete = MemoraDeleteMemoryTool(memora=shared_memora, **TENANT)
    assert json.loads(delete.invoke({"memory_id": memory_id}))["deleted"]["memory_id"] == memory_id
    again = delete.invoke(
        {"type": "tool_call", "id": "c2", "name": delete.name, "args": {"memory_id": memory_id}}
    )
    assert again.status == "error"
    assert memory_id in str(again.content)


def test_model_errors_come_back_as_tool_output(shared_memora: SyncMemora) -> None:
    """A made-up or malformed memory_id, or a wrong argument name: the model reads the error."""
    history, delete = (
        MemoraMemoryHistoryTool(memora=shared_memora, **TENANT),
        MemoraDeleteMemoryTool(memora=shared_memora, **TENANT),
    )
    made_up = "0b7a6f0e-1d7c-4c4e-9f51-3f1f0c0a9e11"
    for tool, args in [
        (history, {"memory_id": "not-a-uuid"}),
        (history, {"memory_id": made_up}),
        (delete, {"memory_id": made_up}),
        (delete, {"id": made_up}),  # wrong argument name
    ]:
        message = tool.invoke({"type": "tool_call", "id": "c9", "name": tool.name, "args": args})
        assert isinstance(message, ToolMessage)
        assert message.status == "error"
        assert str(message.content).startswith("Error: ")
        assert len(str(message.content)) > len("Error: ") + 10
    message = delete.invoke(
        {"type": "tool_call", "id": "c8", "name": "delete_memory", "args": {"id": made_up}}
    )
    assert "memory_id" in str(message.content)  # names the missing argument
    save = MemoraSaveMemoryTool(memora=shared_memora, **TENANT)
    both = save.invoke({"text": "a", "conversation": [{"role": "user", "content": "b"}]})
    assert "exactly one" in str(both)


def test_report_errors_false_raises(shared_memora: SyncMemora) -> None:
    tools = create_memora_tools(shared_memora, **TENANT, report_errors=False)
    _, save, history, delete = tools
    with pytest.raises(InvalidInputError):
        history.invoke({"memory_id": "not-a-uuid"})
    with pytest.raises(MemoryNotFoundError):
        delete.invoke({"memory_id": "0b7a6f0e-1d7c-4c4e-9f51-3f1f0c0a9e11"})
    with pytest.raises(ValidationError, match="exactly one"):
        save.invoke({"text": "a", "conversation": [{"role": "user", "content": "b"}]})
    with pytest.raises(InvalidInputError):
        MemoraSearchMemoriesTool(memora="not memora", **TENANT)


async def test_storage_failures_still_raise(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """A BackendError is not the model's fault: it raises even with report_errors=True."""
    path = tmp_path / "graph.db"
    memora = Memora(
        QdrantEdgeDB(
            tmp_path / "vectors", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
        ),
        SqliteGraphDB(path, busy_timeout_ms=50),
    )
    await memora.setup()
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Bot", agent_id="bot")
        save = MemoraSaveMemoryTool(memora=memora, **TENANT, infer=False)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        call = {"type": "tool_call", "id": "c1", "name": save.name, "args": {"text": "x"}}
        with pytest.raises(BackendUnavailableError):
            await save.ainvoke(call)
    finally:
        blocker.close()
        await memora.close()


def test_user_from_run_config(shared_memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=shared_memora, org_id="acme")
    with pytest.raises(InvalidInputError, match="needs a user_id"):
        tool.invoke({"query": "chess"})
    found = json.loads(tool.invoke({"query": "chess"}, {"configurable": {"user_id": "jake"}}))
    assert found[0]["memory"] == "User jake said: Jake plays chess on Fridays."


async def test_async_tools_on_async_core(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Bot", agent_id="bot")
        search, save, history, delete = create_memora_tools(memora, **TENANT)
        saved = json.loads(await save.ainvoke({"text": "Jake is a night owl."}))
        memory_id = saved["memories"][0]["memory_id"]
        found = json.loads(await search.ainvoke({"query": "night owl sleep schedule"}))
        assert [m["memory_id"] for m in found] == [memory_id]
        assert json.loads(await history.ainvoke({"memory_id": memory_id}))[0]["memory"] == (
            "Jake is a night owl."
        )
        await delete.ainvoke({"memory_id": memory_id})
        assert json.loads(await search.ainvoke({"query": "night"})) == []
    finally:
        await memora.close()


def test_agent_recovers_from_bad_tool_calls(shared_memora: SyncMemora) -> None:
    """Inside create_agent, bad tool calls become error tool messages the model reads."""
    made_up = "0b7a6f0e-1d7c-4c4e-9f51-3f1f0c0a9e11"
    calls = iter(
        [
            {"name": "delete_memory", "args": {"memory_id": made_up}, "id": "c1"},
            {"name": "memory_history", "args": {"memory_id": "oops"}, "id": "c2"},
            {"name": "search_memories", "args": {"querys": "chess"}, "id": "c3"},
        ]
    )

    def respond(messages: list[BaseMessage]) -> AIMessage:
        call = next(calls, None)
        if call is None:
            return AIMessage("Recovered.")
        return AIMessage("", tool_calls=[call])

    agent = create_agent(
        AgentFakeModel(responder=respond), tools=create_memora_tools(shared_memora, **TENANT)
    )
    out = agent.invoke({"messages": [HumanMessage("Forget everything about chess.")]})
    results = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert out["messages"][-1].content == "Recovered."
    assert [m.status for m in results] == ["error", "error", "error"]
    assert made_up in str(results[0].content)
    assert "memory_id" in str(results[1].content)
    assert "query" in str(results[2].content)
