"""`memora chat`, and `memora demo` with a model, through the real CLI.

The only double is ScriptedChatModel, a LangChain chat model standing in for a paid LLM; the
stores, the embedding model and Memora's parsing and flows are real.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from langchain_core.messages import BaseMessage

from memora_engine.cli import CliState, app
from memora_engine.testing.scripted import ScriptedChatModel

_ENV = (
    "MEMORA_LLM_MODEL",
    "MEMORA_PATH",
    "MEMORA_CONFIG",
    "MEMORA_ORG_ID",
    "MEMORA_USER_ID",
    "MEMORA_AGENT_ID",
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "AZURE_OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def invoke(args: list[str], model: ScriptedChatModel | None = None, stdin: str = "") -> Result:
    result = CliRunner().invoke(app, args, obj=CliState(llm=model), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def test_chat_recalls_replies_and_saves(tmp_path: Path) -> None:
    """If this fails, check chat.ChatSession (recall -> reply -> save on exit)."""
    path = ["--path", str(tmp_path / "data")]
    invoke(["orgs", "create", "Acme", "--id", "acme", *path])
    invoke(["users", "create", "Jake", "--org", "acme", "--id", "jake", *path])
    model = ScriptedChatModel(responder=lambda messages: "Sounds great!")
    ids = ["--org", "acme", "--user", "jake", *path]

    first = invoke(["chat", *ids, "--raw"], model, "I love hiking in the Alps.\n/quit\n")
    assert "assistant > Sounds great!" in first.stdout
    assert "with 2 messages and 2 memories" in first.stdout  # raw mode: both turns verbatim

    second = invoke(["chat", *ids, "--raw"], model, "Any weekend hiking ideas?\n")
    assert "I love hiking" in second.stdout  # shown as recalled
    prompt = model.calls[-1][-1].content
    assert isinstance(prompt, str)
    assert prompt.startswith("memory recall:")
    assert "hiking in the Alps" in prompt
    assert "message: Any weekend hiking ideas?" in prompt
    agents = json.loads(
        invoke(["agents", "list", "--org", "acme", "--user", "jake", *path, "--json"]).stdout
    )
    assert [a["agent_label"] for a in agents] == ["Memora chat"]  # created once, then reused


def test_chat_needs_a_model(tmp_path: Path) -> None:
    """If this fails, check that chat explains how to configure a chat model."""
    result = CliRunner().invoke(
        app, ["chat", "--org", "acme", "--user", "jake", "--path", str(tmp_path)], obj=CliState()
    )
    assert result.exit_code == 2
    assert "needs a chat model" in result.output


def _stored_memories(text: str) -> list[dict[str, str]]:
    start = text.index("STORED MEMORIES:") + len("STORED MEMORIES:")
    end = text.index("NEW CANDIDATE MEMORIES:")
    stored: list[dict[str, str]] = json.loads(text[start:end])
    return stored


def _demo_model(messages: Sequence[BaseMessage]) -> str:
    """Answers the demo's calls the way a capable model would."""
    system = str(messages[0].content)
    everything = "\n".join(str(m.content) for m in messages)
    if system.startswith("You keep the long-term memory"):
        if "December 20th" in everything:
            memories = [("#user_#id#'s wife Sarah is now due on December 20th", [8])]
        elif "ultrasound" in everything:
            memories = [("#user_#id# and Sarah expect a baby girl", [6])]
        else:
            memories = [
                ("#user_#id# is allergic to peanuts", [0]),
                ("#user_#id#'s wife Sarah is due on December 15th", [2, 4]),
            ]
        return json.dumps(
            {"memories_first_pass": [{"memory": m, "msg_source_ids": s} for m, s in memories]}
        )
    if system.startswith("You maintain the memories"):
        stored = _stored_memories(everything)
        old = [m for m in stored if "December 15th" in m["memory"]]
        candidate = "#user_#id#'s wife Sarah is now due on December 20th"
        if old and "December 20th" in everything:
            return json.dumps(
                {
                    "new_memories": [],
                    "contrary_memories": [
                        {
                            "memory": candidate,
                            "source_candidate_pos_id": 0,
                            "contradicted_memory_id": old[0]["memory_id"],
                        }
                    ],
                }
            )
        return json.dumps(
            {
                "new_memories": [
                    {
                        "memory": "#user_#id# and Sarah expect a baby girl",
                        "source_candidate_pos_id": 0,
                    }
                ],
                "contrary_memories": [],
            }
        )
    if system.startswith("You look up"):
        return "<< Sarah pregnancy >>\n<< sleep problems >>"
    return "OK"


def test_demo_with_a_model_extracts_and_links_history(tmp_path: Path) -> None:
    """If this fails, check demo.py's model path (extraction, contradiction, history)."""
    model = ScriptedChatModel(responder=_demo_model)
    data = tmp_path / "data"
    result = invoke(["demo", "--path", str(data)], model)
    out = result.stdout
    assert "Extracting memories with injected model ScriptedChatModel" in out
    assert "No LLM provider found" not in out
    assert "Jake is allergic to peanuts" in out  # placeholder resolved on read
    [org] = json.loads(invoke(["orgs", "list", "--path", str(data), "--json"]).stdout)
    [user] = json.loads(
        invoke(["users", "list", "--org", org["org_id"], "--path", str(data), "--json"]).stdout
    )
    ids = ["--org", org["org_id"], "--user", user["user_id"], "--path", str(data)]
    memories = json.loads(invoke(["memories", "list", *ids, "--json"]).stdout)
    assert len(memories) == 3  # current versions; the replaced due date is in --history
    every = json.loads(invoke(["memories", "list", *ids, "--history", "--json"]).stdout)
    assert len(every) == 4
    newest = next(m for m in memories if "December 20th" in m["memory"])
    chain = json.loads(invoke(["memories", "history", newest["memory_id"], *ids, "--json"]).stdout)
    assert [m["memory"] for m in chain] == [
        "Jake's wife Sarah is now due on December 20th",
        "Jake's wife Sarah is due on December 15th",
    ]
