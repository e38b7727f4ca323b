"""Memora's MCP tools through the official ``mcp`` client: over stdio and over HTTP."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from memora_engine.mcp_server import TOOL_NAMES
from tests.service.conftest import ORG_A, USER_A1, USER_A2, Served
from tests.service.server import REPO_ROOT


@asynccontextmanager
async def http_mcp(served: Served, key: str, **headers: str) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}", **headers}, timeout=60)
    async with (
        http,
        Client(streamable_http_client(served.url + "/mcp", http_client=http)) as client,
    ):
        yield client


def stdio_params(*args: str, **env: str) -> StdioServerParameters:
    keep = ("PATH", "HOME", "MEMORA_EMBEDDING_MODEL_DIR", "HF_HUB_OFFLINE")
    base = {k: os.environ[k] for k in keep if k in os.environ}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "memora_engine.cli", "mcp", *args],
        env={**base, "PYTHONPATH": str(REPO_ROOT), **env},
        cwd=str(REPO_ROOT),
    )


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    # The same result as text, for models that read text only.
    assert json.loads(result.content[0].text) == data
    return data


async def exercise_every_tool(client: Client) -> None:
    """List the tools, then call each one and check what it did."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(TOOL_NAMES)
    assert tools["search_memories"].input_schema["properties"]["queries"]["type"] == "array"
    assert "limit" in tools["search_memories"].input_schema["properties"]
    assert tools["save_memory"].output_schema is not None

    assert tools["search_memories"].input_schema["properties"]["filter"]["anyOf"][0]["type"] == (
        "object"
    )
    assert "metadata" in tools["save_memory"].input_schema["properties"]
    assert set(tools["edit_memory"].input_schema["properties"]) == {"memory_id", "text", "metadata"}

    fact = _structured(
        await client.call_tool(
            "save_memory", {"text": "Jake is allergic to peanuts", "metadata": {"topic": "health"}}
        )
    )
    assert [m["memory"] for m in fact["memories"]] == ["Jake is allergic to peanuts"]
    assert fact["memories"][0]["metadata"] == {"topic": "health"}
    conversation = _structured(
        await client.call_tool(
            "save_conversation",
            {
                "messages": [
                    {"role": "user", "content": "I just moved to Lisbon for work."},
                    {"role": "assistant", "content": "Congratulations on the move!"},
                ]
            },
        )
    )
    assert len(conversation["memories"]) == 2
    found = _structured(
        await client.call_tool("search_memories", {"queries": ["food allergy"], "limit": 1})
    )
    assert [m["memory"] for m in found["memories"]] == ["Jake is allergic to peanuts"]
    recalled = _structured(
        await client.call_tool("recall_memories", {"text": "Where do I live now?", "limit": 3})
    )
    assert "I just moved to Lisbon for work." in [m["memory"] for m in recalled["memories"]]
    listed = _structured(await client.call_tool("list_memories", {"limit": 50}))
    assert len(listed["memories"]) >= 3
    await exercise_facts_filters_and_edits(client)
    memory_id = fact["memories"][0]["memory_id"]
    history = _structured(await client.call_tool("memory_history", {"memory_id": memory_id}))
    assert [m["memory_id"] for m in history["memories"]] == [memory_id]
    deleted = _structured(await client.call_tool("delete_memory", {"memory_id": memory_id}))
    assert deleted == {"memory_id": memory_id, "deleted": True}
    again = _structured(await client.call_tool("delete_memory", {"memory_id": memory_id}))
    assert again["deleted"] is False

    # Errors reach the model as tool errors naming the Memora error class.
    missing = await client.call_tool("memory_history", {"memory_id": memory_id})
    assert missing.is_error
    assert "MemoryNotFoundError" in missing.content[0].text
    invalid = await client.call_tool("memory_history", {"memory_id": "not-a-uuid"})
    assert invalid.is_error
    assert "InvalidInputError" in invalid.content[0].text
    bad_args = await client.call_tool("search_memories", {"queries": []})
    assert bad_args.is_error


async def exercise_facts_filters_and_edits(client: Client) -> None:
    """add_memories, the filter of search / recall / list, edit_memory, and bad filters."""
    food = _structured(
        await client.call_tool(
            "add_memories",
            {"facts": ["Jake drinks oolong tea"], "metadata": {"topic": "food", "n": 2}},
        )
    )
    added = _structured(
        await client.call_tool(
            "add_memories",
            {
                "facts": ["Jake cycles to work", "Jake owns a tandem"],
                "metadata": {"topic": "habits"},
            },
        )
    )
    [tea] = food["memories"]
    bike, tandem = added["memories"]
    assert tea["metadata"] == {"topic": "food", "n": 2}
    assert bike["metadata"] == tandem["metadata"] == {"topic": "habits"}
    assert bike["interaction_id"] == tandem["interaction_id"] == added["interaction_id"]
    found = _structured(
        await client.call_tool(
            "search_memories", {"queries": ["what does Jake like"], "filter": {"topic": "food"}}
        )
    )
    assert [m["memory_id"] for m in found["memories"]] == [tea["memory_id"]]
    listed = _structured(
        await client.call_tool("list_memories", {"filter": {"topic": {"$in": ["habits"]}}})
    )
    assert {m["memory_id"] for m in listed["memories"]} == {bike["memory_id"], tandem["memory_id"]}
    recalled = _structured(
        await client.call_tool(
            "recall_memories", {"text": "How do I get to work?", "filter": {"n": {"$gte": 2}}}
        )
    )
    assert [m["memory_id"] for m in recalled["memories"]] == [tea["memory_id"]]
    edited = _structured(
        await client.call_tool(
            "edit_memory", {"memory_id": bike["memory_id"], "text": "Jake walks to work"}
        )
    )
    assert edited["memory"] == "Jake walks to work"
    assert edited["metadata"] == {"topic": "habits"}  # kept by the new version
    history = _structured(
        await client.call_tool("memory_history", {"memory_id": edited["memory_id"]})
    )
    assert [m["memory"] for m in history["memories"]] == ["Jake walks to work", bike["memory"]]
    retagged = _structured(
        await client.call_tool(
            "edit_memory", {"memory_id": tea["memory_id"], "metadata": {"topic": "drinks"}}
        )
    )
    assert (retagged["memory_id"], retagged["metadata"]) == (tea["memory_id"], {"topic": "drinks"})
    for bad in ({"topic": {"$regex": "f"}}, {"n": {"$gt": "two"}}):
        refused = await client.call_tool("search_memories", {"queries": ["tea"], "filter": bad})
        assert refused.is_error
        assert "InvalidInputError" in refused.content[0].text
    nested = await client.call_tool("save_memory", {"text": "x", "metadata": {"a": {"b": 1}}})
    assert nested.is_error
    for memory in (tea, edited, bike, tandem):
        _structured(await client.call_tool("delete_memory", {"memory_id": memory["memory_id"]}))


async def test_http_mcp_lists_and_calls_every_tool(served: Served) -> None:
    async with http_mcp(served, served.keys.user_a1) as client:
        await exercise_every_tool(client)


async def test_http_mcp_org_key_names_the_user_and_stays_in_its_org(served: Served) -> None:
    async with http_mcp(served, served.keys.org_a, **{"X-Memora-User": USER_A2}) as client:
        saved = _structured(await client.call_tool("save_memory", {"text": "Mia keeps bees"}))
        interaction_id = saved["interaction_id"]
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {served.keys.admin}"}) as h:
        response = await h.get(
            f"{served.url}/v1/orgs/{ORG_A}/users/{USER_A2}/interactions/{interaction_id}"
        )
        assert response.status_code == 200
        assert response.json()["agent_id"] == "mcp"
    # A user key cannot switch users with the header: the key's user wins.
    async with http_mcp(served, served.keys.user_a1, **{"X-Memora-User": USER_A2}) as client:
        found = _structured(await client.call_tool("search_memories", {"queries": ["bees"]}))
        assert "Mia keeps bees" not in [m["memory"] for m in found["memories"]]
    # Org B's key naming org A's user sees nothing of org A.
    async with http_mcp(served, served.keys.org_b, **{"X-Memora-User": USER_A2}) as client:
        result = await client.call_tool("search_memories", {"queries": ["bees"]})
        assert result.is_error or "Mia keeps bees" not in result.content[0].text


def test_http_mcp_without_a_valid_key_is_401(served: Served) -> None:
    for headers in ({}, {"Authorization": "Bearer mem_nope"}):
        response = httpx.post(
            served.url + "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream", **headers},
        )
        assert response.status_code == 401


async def test_stdio_mcp_on_its_own_store_lists_and_calls_every_tool(tmp_path: Path) -> None:
    params = stdio_params(
        "--path",
        str(tmp_path / "data"),
        "--raw",
        MEMORA_ORG_ID="me",
        MEMORA_USER_ID="jake",
        MEMORA_AGENT_ID="claude",
    )
    async with Client(params, read_timeout_seconds=120) as client:
        await exercise_every_tool(client)


async def test_stdio_mcp_through_a_running_server_shares_its_store(served: Served) -> None:
    params = stdio_params(
        "--url",
        served.url,
        "--org",
        ORG_A,
        "--user",
        USER_A1,
        "--agent",
        "desktop",
        MEMORA_API_KEY=served.keys.org_a,
    )
    async with Client(params, read_timeout_seconds=120) as client:
        saved = _structured(
            await client.call_tool("save_memory", {"text": "Jake owns a red kayak"})
        )
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {served.keys.org_a}"}) as h:
        iid = saved["interaction_id"]
        response = await h.get(f"{served.url}/v1/orgs/{ORG_A}/users/{USER_A1}/interactions/{iid}")
        assert response.json()["agent_id"] == "desktop"


def test_http_mcp_refuses_a_foreign_host_header_on_loopback(served: Served) -> None:
    """DNS-rebinding protection: a page on another origin cannot drive the local server."""
    response = httpx.post(
        served.url + "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Accept": "application/json, text/event-stream",
            "Authorization": f"Bearer {served.keys.user_a1}",
            "Host": "evil.example",
        },
    )
    assert response.status_code == 421  # Invalid Host header
