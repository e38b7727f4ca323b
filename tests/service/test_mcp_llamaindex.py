"""Memora's MCP server through LlamaIndex's MCP client (``llama-index-tools-mcp``).

``BasicMCPClient`` + ``McpToolSpec`` turn the server's tools into LlamaIndex ``FunctionTool``
objects, over stdio (``memora mcp`` on its own store) and over streamable HTTP (``memora serve``
with an API key header). The server, the stores, the embedding model and LlamaIndex are real;
the one double is the scripted function-calling model that drives the ``FunctionAgent``.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool, ToolOutput
from llama_index.tools.mcp import BasicMCPClient, McpToolSpec, aget_tools_from_mcp_url
from mcp import MCPError
from mcp.types import CallToolResult

from memora_engine.mcp_server import TOOL_NAMES
from tests.integrations.llamaindex_support import answer, call_tool, scripted_agent_llm
from tests.service.conftest import Served
from tests.service.server import REPO_ROOT

README = REPO_ROOT / "README.md"
TIMEOUT = 120  # seconds: each stdio call starts a fresh `memora mcp` on a busy machine


def http_client(served: Served, key: str) -> BasicMCPClient:
    return BasicMCPClient(
        served.url + "/mcp", headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT
    )


def stdio_client(data: Path) -> BasicMCPClient:
    """``memora mcp`` on its own store, run from this checkout (one process per call)."""
    keep = ("PATH", "HOME", "MEMORA_EMBEDDING_MODEL_DIR", "HF_HUB_OFFLINE")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env |= {"PYTHONPATH": str(REPO_ROOT), "MEMORA_ORG_ID": "me", "MEMORA_USER_ID": "jake"}
    args = ["-m", "memora_engine.cli", "mcp", "--path", str(data), "--raw"]
    return BasicMCPClient(sys.executable, args=args, env=env, timeout=TIMEOUT)


def result_of(output: ToolOutput) -> CallToolResult:
    result = output.raw_output
    assert isinstance(result, CallToolResult)
    return result


def data_of(output: ToolOutput) -> dict[str, Any]:
    """The structured content of a successful tool call."""
    result = result_of(output)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def texts(output: ToolOutput) -> list[str]:
    return [m["memory"] for m in data_of(output)["memories"]]


async def exercise_metadata_and_filters(tools: dict[str, FunctionTool], tag: str) -> None:
    """save_memory / add_memories with metadata, search with a filter, a bad filter refused."""
    assert set(tools) == set(TOOL_NAMES)
    # The MCP input schemas became LlamaIndex argument schemas the model sees.
    search_args = tools["search_memories"].metadata.get_parameters_dict()["properties"]
    assert {"queries", "limit", "filter"} <= set(search_args)
    assert "metadata" in tools["save_memory"].metadata.get_parameters_dict()["properties"]

    tea = data_of(
        await tools["save_memory"].acall(
            text="Jake drinks oolong tea", metadata={"run": tag, "topic": "food"}
        )
    )["memories"][0]
    assert tea["metadata"] == {"run": tag, "topic": "food"}
    added = data_of(
        await tools["add_memories"].acall(
            facts=["Jake cycles to work", "Jake owns a tandem"],
            metadata={"run": tag, "topic": "habits", "n": 2},
        )
    )
    assert [m["metadata"] for m in added["memories"]] == [
        {"run": tag, "topic": "habits", "n": 2}
    ] * 2

    food = await tools["search_memories"].acall(
        queries=["what does Jake like"], filter={"run": tag, "topic": "food"}
    )
    assert texts(food) == ["Jake drinks oolong tea"]
    habits = await tools["search_memories"].acall(
        queries=["bicycle"], limit=5, filter={"run": tag, "n": {"$gte": 2}}
    )
    assert set(texts(habits)) == {"Jake cycles to work", "Jake owns a tandem"}

    # A filter Memora cannot run is a tool error naming the class (the model can read it),
    # not an exception in the agent: LlamaIndex hands the MCP result back as the output.
    refused = await tools["search_memories"].acall(
        queries=["tea"], filter={"topic": {"$regex": "f"}}
    )
    assert result_of(refused).is_error
    assert "InvalidInputError: unknown filter operator '$regex'" in refused.content
    nested = await tools["save_memory"].acall(text="x", metadata={"a": {"b": 1}})
    assert result_of(nested).is_error
    assert texts(await tools["list_memories"].acall(limit=50, filter={"run": tag})) != []
    assert "x" not in texts(await tools["list_memories"].acall(limit=50))

    for memory in (tea, *added["memories"]):
        gone = await tools["delete_memory"].acall(memory_id=memory["memory_id"])
        assert data_of(gone)["deleted"] is True


async def test_http_tools_load_through_llamaindex_and_filter(served: Served) -> None:
    tools = await McpToolSpec(http_client(served, served.keys.user_a1)).to_tool_list_async()
    await exercise_metadata_and_filters({t.metadata.name: t for t in tools}, uuid.uuid4().hex)


async def test_stdio_tools_load_through_llamaindex_and_filter(tmp_path: Path) -> None:
    tools = await aget_tools_from_mcp_url("memora", client=stdio_client(tmp_path / "data"))
    await exercise_metadata_and_filters({t.metadata.name: t for t in tools}, "stdio")


async def test_http_without_a_valid_key_loads_no_tools(served: Served) -> None:
    """The server's 401 reaches LlamaIndex as the SDK's MCPError (inside anyio's groups)."""
    with pytest.raises(Exception) as refused:  # noqa: PT011 - an exception group, checked below
        await McpToolSpec(http_client(served, "mem_nope")).to_tool_list_async()
    assert refused.group_contains(MCPError, match="Server returned an error response")


async def test_function_agent_searches_memora_through_mcp(served: Served) -> None:
    """A LlamaIndex agent (scripted model) fills the filter of Memora's MCP search tool."""
    tag = uuid.uuid4().hex
    spec = McpToolSpec(
        http_client(served, served.keys.user_a1),
        allowed_tools=["search_memories", "save_memory", "delete_memory"],
    )
    tools = {t.metadata.name: t for t in await spec.to_tool_list_async()}
    assert set(tools) == {"search_memories", "save_memory", "delete_memory"}
    saved = [
        data_of(await tools["save_memory"].acall(text=text, metadata={"run": tag, "channel": ch}))
        for text, ch in (
            ("The user returned pan model 2 as faulty", "support"),
            ("The user bought pan model 3", "sales"),
        )
    ]
    llm = scripted_agent_llm(
        call_tool("search_memories", queries=["pan"], filter={"run": tag, "channel": "support"}),
        answer(lambda messages: str(messages[-1].content)),
    )
    agent = FunctionAgent(tools=list(tools.values()), llm=llm)
    reply = str(await agent.run("Which pans did I send back?"))
    assert "returned pan model 2 as faulty" in reply, reply
    assert "pan model 3" not in reply
    for done in saved:
        await tools["delete_memory"].acall(memory_id=done["memories"][0]["memory_id"])


async def test_readme_llamaindex_mcp_example_runs_as_written(served: Served) -> None:
    """If this fails, the README's "From LlamaIndex" MCP example is out of date."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    [code] = [b for b in blocks if "McpToolSpec(" in b]
    code = code.replace("http://127.0.0.1:8765", served.url)
    code = code.replace("mem_...", served.keys.user_a1)
    namespace: dict[str, Any] = {}
    compiled = compile(code, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    awaitable = eval(compiled, namespace)
    if awaitable is not None:
        await awaitable
    tools = {t.metadata.name: t for t in namespace["tools"]}
    assert set(tools) == {"search_memories", "save_memory", "delete_memory"}
    found = namespace["found"]
    assert isinstance(found, ToolOutput)
    [hit] = [
        m for m in data_of(found)["memories"] if m["memory"] == "Jake's favourite tea is genmaicha"
    ]
    assert hit["metadata"]["topic"] == "food"
    await tools["delete_memory"].acall(memory_id=hit["memory_id"])
