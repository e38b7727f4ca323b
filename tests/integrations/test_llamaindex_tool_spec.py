"""``MemoraToolSpec``: real LlamaIndex ``FunctionTool``s over embedded Memora stores."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_integrations.llama_index import MemoraToolSpec
from tests.integrations.llamaindex_support import (
    LISBON,
    PEANUTS,
    PORTO,
    FactScript,
    Tenant,
    answer,
    call_tool,
    create_tenant,
    open_memora,
    scripted_agent_llm,
    transcript,
)

_ID = re.compile(r"memory_id=([0-9a-f-]{36})")


@pytest.fixture
def script() -> FactScript:
    return FactScript(PEANUTS, PORTO, LISBON)


@pytest.fixture
async def memora(
    tmp_path: Path, script: FactScript, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Memora]:
    engine = await open_memora(tmp_path / "memora", script, dense_encoder, sparse_encoder)
    yield engine
    await engine.close()


@pytest.fixture
async def tools(memora: Memora) -> dict[str, FunctionTool]:
    t: Tenant = await create_tenant(memora)
    spec = MemoraToolSpec(memora, t.org_id, t.user_id, t.agent_id)
    return {tool.metadata.name or "": tool for tool in spec.to_tool_list()}


def test_tool_list_shape(tools: dict[str, FunctionTool]) -> None:
    assert sorted(tools) == ["delete_memory", "memory_history", "save_memory", "search_memories"]
    for name, tool in tools.items():
        # Native pairs: the async side is our coroutine, not a thread wrapper of the sync one.
        assert tool.fn.__name__ == name
        assert tool.async_fn.__name__ == f"a{name}"
    search = tools["search_memories"].metadata
    assert search.description.startswith(
        "search_memories(query: str, limit: int = 5, filter: dict[str, object] | None = None) -> str"
    )
    assert "long-term memory about the user" in search.description
    schema = search.get_parameters_dict()
    assert schema["required"] == ["query"]
    assert "short phrase" in schema["properties"]["query"]["description"]


async def test_save_search_history_delete_roundtrip(tools: dict[str, FunctionTool]) -> None:
    saved = tools["save_memory"].call(text="The user lives in Porto.")
    assert "Saved 1 memories:" in saved.content
    assert "Jake lives in Porto" in saved.content
    porto_id = _ID.findall(saved.content)[0]

    moved = await tools["save_memory"].acall(text="Update: the user moved to Lisbon.")
    assert "Jake lives in Lisbon" in moved.content
    lisbon_id = _ID.findall(moved.content)[0]

    found = await tools["search_memories"].acall(query="where does the user live")
    assert found.content.startswith("1 memories, most relevant first:")
    assert lisbon_id in found.content
    assert porto_id not in found.content

    history = tools["memory_history"].call(memory_id=porto_id)
    lines = history.content.splitlines()
    assert lines[0] == "2 versions, newest first:"
    assert lisbon_id in lines[1]
    assert lines[1].endswith("(current)")
    assert porto_id in lines[2]
    assert lines[2].endswith("(superseded)")

    again = tools["save_memory"].call(text="Reminder: the user lives in Lisbon.")
    assert again.content == "Nothing new to remember: the memory store already knows this."

    deleted = await tools["delete_memory"].acall(memory_id=lisbon_id)
    assert deleted.content == f"Deleted memory {lisbon_id}: Jake lives in Lisbon"


async def test_errors_are_raised_not_returned(tools: dict[str, FunctionTool]) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(MemoryNotFoundError):
        tools["delete_memory"].call(memory_id=missing)
    with pytest.raises(MemoryNotFoundError):
        await tools["memory_history"].acall(memory_id=missing)
    with pytest.raises(InvalidInputError):
        await tools["search_memories"].acall(query="   ")
    with pytest.raises(InvalidInputError):
        tools["search_memories"].call(query="peanuts", limit=0)
    empty = await tools["search_memories"].acall(query="favourite football club")
    assert empty.content == "No stored memory matches that query."


async def test_function_agent_uses_the_tools(tools: dict[str, FunctionTool]) -> None:
    llm = scripted_agent_llm(
        call_tool("save_memory", text="The user is allergic to peanuts."),
        answer(lambda msgs: "Noted: no peanuts for you."),
        call_tool("search_memories", query="food allergies"),
        answer(
            lambda msgs: (
                "Try a chickpea curry, it is peanut-free."
                if "Jake is allergic to peanuts" in transcript(msgs)
                else "Try a satay."
            )
        ),
    )
    agent = FunctionAgent(tools=list(tools.values()), llm=llm)
    assert str(await agent.run("Remember that I'm allergic to peanuts.")) == (
        "Noted: no peanuts for you."
    )
    result = await agent.run("What should I cook tonight?")
    assert str(result) == "Try a chickpea curry, it is peanut-free."


async def test_function_agent_recovers_from_bad_tool_calls(tools: dict[str, FunctionTool]) -> None:
    """A made-up or malformed memory_id, or a wrong argument name, reaches the model as a failed
    tool call with a readable message; the run goes on."""
    seen: list[str] = []

    def last_tool_result(msgs: object) -> str:
        text = transcript(msgs)  # type: ignore[arg-type]
        seen.append(text.splitlines()[-1])
        return "Sorry, let me search first."

    llm = scripted_agent_llm(
        call_tool("delete_memory", memory_id="00000000-0000-4000-8000-000000000000"),
        answer(last_tool_result),
        call_tool("memory_history", memory_id="not-a-uuid"),
        answer(last_tool_result),
        call_tool("search_memories", querys="peanuts"),  # wrong argument name
        answer(last_tool_result),
    )
    agent = FunctionAgent(tools=list(tools.values()), llm=llm)
    for request in ("Forget my allergy.", "What changed?", "Look it up."):
        assert str(await agent.run(request)) == "Sorry, let me search first."
    assert "does not exist" in seen[0]
    assert "memory_id" in seen[1]
    assert "querys" in seen[2]
