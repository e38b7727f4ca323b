"""Memora's MCP tools through ``langchain-mcp-adapters``, an MCP client on ``mcp<2`` (#16).

The adapter pins ``mcp<2`` and Memora's server runs on ``mcp>=2``, so they cannot share an
environment; MCP is a wire protocol, so a client on mcp 1.x must still work against
``memora serve``. This test runs ``mcp1_langchain_client.py`` with the Python of a side
environment that has the adapter (``MEMORA_MCP1_PYTHON``; ``.ci/run`` creates it), against the
suite's real server, then checks what the client saw and what the server stored.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memora_engine.client import SyncMemoraClient
from tests.service.conftest import ORG_A, Served
from tests.service.server import REPO_ROOT

MCP1_PYTHON = os.environ.get("MEMORA_MCP1_PYTHON", "")
SCRIPT = Path(__file__).with_name("mcp1_langchain_client.py")
USER = "lc-mcp1-user"
AGENT = "lc-mcp1"  # the X-Memora-Agent the script sends

pytestmark = pytest.mark.skipif(
    not MCP1_PYTHON,
    reason="set MEMORA_MCP1_PYTHON to a Python with langchain-mcp-adapters (mcp<2) installed; "
    ".ci/run creates one in .ci-venv-mcp1",
)


@pytest.fixture
def client(served: Served) -> Iterator[SyncMemoraClient]:
    """An organization-A client, with a fresh user for the MCP client to name."""
    with SyncMemoraClient(served.url, served.keys.org_a) as memora:
        memora.delete_user(ORG_A, USER)
        memora.get_or_create_user(ORG_A, USER)
        yield memora
        memora.delete_user(ORG_A, USER)


def run_client(served: Served) -> dict[str, Any]:
    """Run the mcp<2 client script in the side environment; its JSON report."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(MEMORA_URL=served.url, MEMORA_API_KEY=served.keys.org_a, MEMORA_MCP_USER=USER)
    done = subprocess.run(
        [MCP1_PYTHON, str(SCRIPT)],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_langchain_mcp_adapters_on_mcp1_use_memora_tools(
    served: Served, client: SyncMemoraClient
) -> None:
    report = run_client(served)

    # The client really is on mcp 1.x, and it sees every tool with its typed arguments.
    assert report["versions"]["mcp"].startswith("1.")
    assert report["tools"] == sorted(
        [
            "add_memories",
            "delete_memory",
            "edit_memory",
            "list_memories",
            "memory_history",
            "recall_memories",
            "save_conversation",
            "save_memory",
            "search_memories",
        ]
    )
    assert report["search_args"] == ["filter", "limit", "queries"]

    # Facts and a saved memory, with metadata; text and structured content agree.
    added, saved = report["add_memories"], report["save_memory"]
    assert added["status"] == saved["status"] == "success"
    assert json.loads(added["text"]) == added["structured"]
    tea, porridge = added["structured"]["memories"]
    assert (tea["memory"], porridge["memory"]) == ("Jake drinks oolong tea", "Jake eats porridge")
    assert tea["metadata"] == porridge["metadata"] == {"topic": "food", "rank": 2}
    [bike] = saved["structured"]["memories"]
    assert (bike["memory"], bike["metadata"]) == ("Jake cycles to work", {"topic": "habits"})

    # The filter keeps the best match for the query (cycling) out: it is not about food.
    found = report["search_filtered"]
    assert found["status"] == "success"
    assert {m["memory_id"] for m in found["structured"]["memories"]} == {
        tea["memory_id"],
        porridge["memory_id"],
    }

    # A bad filter comes back to the model as a tool error naming the Memora error class.
    refused = report["search_bad_filter"]
    assert refused["status"] == "error"
    assert "InvalidInputError" in refused["text"]
    assert "$regex" in refused["text"]

    # A scripted-model agent called search_memories through the adapter and used the result.
    agent = report["agent"]
    assert [m["type"] for m in agent] == ["human", "ai", "tool", "ai"]
    assert agent[1]["tool_calls"] == ["search_memories"]
    assert agent[2]["status"] == "success"
    answer = agent[3]["text"].removeprefix("From memory: ")
    assert set(answer.split("; ")) == {"Jake drinks oolong tea", "Jake eats porridge"}

    # The server stored exactly that, for the user the headers named, under the MCP agent.
    stored = client.list_memories(ORG_A, USER)
    assert {m.memory_id: (m.memory, m.metadata, m.agent_id) for m in stored} == {
        tea["memory_id"]: ("Jake drinks oolong tea", {"topic": "food", "rank": 2}, AGENT),
        porridge["memory_id"]: ("Jake eats porridge", {"topic": "food", "rank": 2}, AGENT),
        bike["memory_id"]: ("Jake cycles to work", {"topic": "habits"}, AGENT),
    }
    food = client.list_memories(ORG_A, USER, filter={"topic": "food"})
    assert {m.memory_id for m in food} == {tea["memory_id"], porridge["memory_id"]}
