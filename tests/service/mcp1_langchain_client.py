"""An MCP client on ``mcp<2``: Memora's tools through ``langchain-mcp-adapters`` (#16).

Not a test module: ``tests/service/test_mcp_langchain_adapters.py`` runs it with the
interpreter of a side environment (``MEMORA_MCP1_PYTHON``) where ``langchain-mcp-adapters``
and its ``mcp<2`` are installed, because Memora's own environment has ``mcp>=2``. It talks to
a running ``memora serve`` over streamable HTTP only, and must not import ``memora_engine``.

Input (environment): ``MEMORA_URL``, ``MEMORA_API_KEY`` (an organization key) and
``MEMORA_MCP_USER`` (the user the ``X-Memora-User`` header names). Output: one JSON object
on stdout with what each step saw, for the test to check.

The agent step uses a scripted chat model (it stands in for a paid LLM): it asks for one
``search_memories`` call, then answers with the text the tool returned.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from langchain_mcp_adapters.client import MultiServerMCPClient

AGENT_ID = "lc-mcp1"


class ScriptedToolCaller(BaseChatModel):
    """Calls ``search_memories`` once, then answers with the memories the tool returned."""

    tool_args: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-caller"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolCaller:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if results:
            found = json.loads(_text(results[-1].content))["memories"]
            answer = AIMessage("From memory: " + "; ".join(m["memory"] for m in found))
        else:
            call = {"name": "search_memories", "args": self.tool_args, "id": "call-1"}
            answer = AIMessage("", tool_calls=[call])
        return ChatResult(generations=[ChatGeneration(message=answer)])


def _text(content: Any) -> str:
    """The text of a tool message's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


async def _call(tool: BaseTool, args: dict[str, Any]) -> dict[str, Any]:
    """Invoke ``tool`` as an agent would (a tool call), keeping text, status and artifact."""
    message = await tool.ainvoke({"type": "tool_call", "id": "t", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    artifact = message.artifact or {}
    return {
        "status": message.status,
        "text": _text(message.content),
        "structured": artifact.get("structured_content"),
    }


async def main() -> dict[str, Any]:
    url, key = os.environ["MEMORA_URL"], os.environ["MEMORA_API_KEY"]
    client = MultiServerMCPClient(
        {
            "memora": {
                "transport": "streamable_http",
                "url": url.rstrip("/") + "/mcp",
                "headers": {
                    "Authorization": f"Bearer {key}",
                    "X-Memora-User": os.environ["MEMORA_MCP_USER"],
                    "X-Memora-Agent": AGENT_ID,
                },
            }
        }
    )
    tools = {tool.name: tool for tool in await client.get_tools()}
    out: dict[str, Any] = {
        "versions": {name: version(name) for name in ("mcp", "langchain-mcp-adapters")},
        "tools": sorted(tools),
        "search_args": sorted(tools["search_memories"].args),
    }
    out["add_memories"] = await _call(
        tools["add_memories"],
        {
            "facts": ["Jake drinks oolong tea", "Jake eats porridge"],
            "metadata": {"topic": "food", "rank": 2},
        },
    )
    out["save_memory"] = await _call(
        tools["save_memory"], {"text": "Jake cycles to work", "metadata": {"topic": "habits"}}
    )
    out["search_filtered"] = await _call(
        tools["search_memories"],
        {"queries": ["how does Jake get to work"], "filter": {"topic": "food"}},
    )
    out["search_bad_filter"] = await _call(
        tools["search_memories"], {"queries": ["tea"], "filter": {"topic": {"$regex": "fo"}}}
    )

    model = ScriptedToolCaller(tool_args={"queries": ["tea"], "filter": {"topic": "food"}})
    agent = create_agent(model, list(tools.values()))
    state = await agent.ainvoke({"messages": [{"role": "user", "content": "What do I drink?"}]})
    out["agent"] = [
        {
            "type": m.type,
            "text": _text(m.content),
            "tool_calls": [c["name"] for c in getattr(m, "tool_calls", [])],
            "status": getattr(m, "status", None),
        }
        for m in state["messages"]
    ]
    return out


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
