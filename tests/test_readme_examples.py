"""The README's Python examples run as written (a scripted model stands in for the provider)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.testing.scripted import ScriptedChatModel

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def _block(containing: str) -> str:
    matches = [b for b in _python_blocks() if containing in b]
    assert matches, f"no README python block contains {containing!r}"
    return matches[0]


def _answer(messages: Sequence[BaseMessage]) -> str:
    system = str(messages[0].content)
    if "long-term memory of an assistant" in system:
        facts = []
        text = " ".join(str(m.content) for m in messages[1:])
        if "due in December" in text and "Sarah" not in system.split("previously")[-1]:
            facts.append(
                {"memory": "#user_#id#'s wife Sarah is due in December", "msg_source_ids": [0]}
            )
        if "peanuts" in text:
            facts.append({"memory": "#user_#id# is allergic to peanuts", "msg_source_ids": [0]})
        return json.dumps({"memories_first_pass": facts})
    if "You maintain the memories" in system:
        return json.dumps({"new_memories": [], "contrary_memories": []})
    if "look up an assistant's long-term memory" in system:
        return "<< wife Sarah >>\n<< health >>"
    return "Try a warm bath and some rest; I remember Sarah is due in December."


async def _run(code: str, namespace: dict[str, Any]) -> None:
    compiled = compile(code, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)
    if result is not None:
        await result


async def test_engine_example_runs_as_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> None:
    """If this fails, the README's 'Using the engine from Python' example is out of date."""
    from memora_engine import Memora

    monkeypatch.chdir(tmp_path)
    code = _block('Memora.embedded(".memora", extraction_model="openai:gpt-4o-mini")')
    code = code.replace(
        '"openai:gpt-4o-mini"', "SCRIPTED_MODEL, dense_encoder=DENSE, sparse_encoder=SPARSE"
    )
    namespace: dict[str, Any] = {
        "SCRIPTED_MODEL": ScriptedChatModel(responder=_answer),
        "DENSE": dense_encoder,
        "SPARSE": sparse_encoder,
    }
    await _run(code, namespace)
    assert namespace["memories"][0].memory == "Jake's wife Sarah is due in December"
    assert namespace["recalled"][0].memory.startswith("Jake's wife Sarah")
    assert namespace["history"][0].memory_id == namespace["memories"][0].memory_id
    assert isinstance(namespace["memora"], Memora)


async def test_personal_assistant_example_runs_as_written(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, the README's personal-assistant class is out of date."""
    from memora_engine import Memora

    namespace: dict[str, Any] = {}
    await _run(_block("class PersonalAssistant"), namespace)
    chat = ScriptedChatModel(responder=_answer)
    memora = await Memora.embedded(
        tmp_path / "m",
        extraction_model=chat,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    )
    try:
        org = await memora.graph.create_organization("Acme")
        user = await memora.graph.create_user(org.org_id, "Jake")
        agent = await memora.graph.create_agent(org.org_id, "Jenny", user.user_id)
        assistant = namespace["PersonalAssistant"](
            memora, chat, org.org_id, user.user_id, agent.agent_id
        )
        await assistant.reply("My wife Sarah is due in December and I'm allergic to peanuts.")
        answer = await assistant.reply("Sarah is in pain, we can't sleep. Any ideas?")
        assert "Sarah" in answer
        assert assistant.recalled_ids  # the second turn recalled the first turn's memories
        stored = await memora.graph.get_interaction(
            org.org_id, user.user_id, assistant.interaction_id
        )
        assert len(stored.messages) == 4
        reply_prompts = [c for c in chat.calls if "caring personal assistant" in str(c[0].content)]
        remembered = str(reply_prompts[-1][-1].content)  # what turn 2 showed the model
        assert "Jake's wife Sarah is due in December" in remembered
    finally:
        await memora.close()
