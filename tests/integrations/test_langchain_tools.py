"""Memora memory tools: langchain-tests ToolsUnitTests / ToolsIntegrationTests and behaviour."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from memora_engine import InvalidInputError, MemoryNotFoundError, SyncMemora
from memora_integrations.langchain import (
    MemoraDeleteMemoryTool,
    MemoraMemoryHistoryTool,
    MemoraSaveMemoryTool,
    MemoraSearchMemoriesTool,
    create_memora_tools,
)
from tests.integrations.langchain_support import open_async, open_sync, seed_tenant

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
    return memora.graph.get_interaction("acme", "jake", iid).memories[0].memory_id


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
        return {"queries": ["chess", "weekly hobbies"], "k": 3}


class _Save(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraSaveMemoryTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"fact": "Jake's cat is called Miso."}


class _History(_Bound):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return MemoraMemoryHistoryTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        memories = self._memora.graph.get_all_user_memories("acme", "jake")
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
        {"type": "tool_call", "id": "c1", "name": tool.name, "args": {"queries": ["chess"]}}
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
    with pytest.raises(MemoryNotFoundError):
        delete.invoke({"memory_id": memory_id})


def test_errors_are_raised_not_returned(shared_memora: SyncMemora) -> None:
    save = MemoraSaveMemoryTool(memora=shared_memora, **TENANT)
    with pytest.raises(ValueError, match="exactly one"):
        save.invoke({"fact": "a", "conversation": [{"role": "user", "content": "b"}]})
    history = MemoraMemoryHistoryTool(memora=shared_memora, **TENANT)
    with pytest.raises(InvalidInputError):
        history.invoke({"memory_id": "not-a-uuid"})
    with pytest.raises(InvalidInputError):
        MemoraSearchMemoriesTool(memora="not memora", **TENANT)


def test_user_from_run_config(shared_memora: SyncMemora) -> None:
    tool = MemoraSearchMemoriesTool(memora=shared_memora, org_id="acme")
    with pytest.raises(InvalidInputError, match="needs a user_id"):
        tool.invoke({"queries": ["chess"]})
    found = json.loads(tool.invoke({"queries": ["chess"]}, {"configurable": {"user_id": "jake"}}))
    assert found[0]["memory"] == "User jake said: Jake plays chess on Fridays."


async def test_async_tools_on_async_core(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a")
    try:
        await memora.graph.create_organization("Acme", org_id="acme")
        await memora.graph.create_user("acme", "Jake", user_id="jake")
        await memora.graph.create_agent("acme", "Bot", agent_id="bot")
        search, save, history, delete = create_memora_tools(memora, **TENANT)
        saved = json.loads(await save.ainvoke({"fact": "Jake is a night owl."}))
        memory_id = saved["memories"][0]["memory_id"]
        found = json.loads(await search.ainvoke({"queries": ["sleep schedule", "night"]}))
        assert [m["memory_id"] for m in found] == [memory_id]
        assert json.loads(await history.ainvoke({"memory_id": memory_id}))[0]["memory"] == (
            "Jake is a night owl."
        )
        await delete.ainvoke({"memory_id": memory_id})
        assert json.loads(await search.ainvoke({"queries": ["night"]})) == []
    finally:
        await memora.close()
