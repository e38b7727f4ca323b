"""The README's Python examples run as written (a scripted model stands in for the provider)."""

from __future__ import annotations

import ast
import json
import re
import threading
import time
import warnings
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


# ---------------------------------------------------------------------- Integrations section
_FRAMEWORK_DEPRECATIONS = (
    "LangChainDeprecationWarning",
    "LangChainPendingDeprecationWarning",
    "LangGraphDeprecationWarning",
    "LangGraphDeprecatedSinceV05",
    "LangGraphDeprecatedSinceV10",
    "LangGraphDeprecatedSinceV11",
)


def _run_sync(code: str, namespace: dict[str, Any]) -> None:
    """Execute a README block, failing on any framework deprecation warning it triggers."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, str(README), "exec"), namespace)
    deprecated = [w for w in caught if w.category.__name__ in _FRAMEWORK_DEPRECATIONS]
    assert not deprecated, [str(w.message) for w in deprecated]


def test_langchain_and_langgraph_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails, the README's LangChain / LangGraph examples are out of date (or use an
    API the frameworks now mark deprecated)."""
    from langchain_core.messages import AIMessage
    from langgraph.graph import START, MessagesState, StateGraph

    from tests.integrations.langchain_support import AgentFakeModel

    monkeypatch.chdir(tmp_path)
    agent_model = AgentFakeModel(responder=lambda messages: AIMessage("Try a lemon cake."))
    namespace: dict[str, Any] = {
        "SCRIPTED_MODEL": ScriptedChatModel(responder=_answer),
        "AGENT_MODEL": agent_model,
        "builder": StateGraph(MessagesState),
    }

    def scripted(code: str) -> str:
        code = code.replace('init_chat_model("openai:gpt-4o-mini")', "SCRIPTED_MODEL")
        code = code.replace(
            'extraction_model="openai:gpt-4o-mini"', "extraction_model=SCRIPTED_MODEL"
        )
        return code.replace('"openai:gpt-4o-mini"', "AGENT_MODEL")

    try:
        _run_sync(scripted(_block("def chat(text: str)")), namespace)
        assert any("peanuts" in m.memory for m in namespace["history"].get_memories())
        assert len(namespace["history"].messages) == 2
        _run_sync(scripted(_block("MemoraRetriever(memora=memora")), namespace)
        assert "peanuts" in namespace["docs"][0].page_content
        _run_sync(scripted(_block("create_memora_tools(memora")), namespace)
        _run_sync(scripted(_block("middleware=[memory]")), namespace)
        assert agent_model.seen  # the agent ran with the middleware
        _run_sync(scripted(_block('builder.add_node("recall"')), namespace)
        builder = StateGraph(MessagesState)
        builder.add_node("answer", lambda state: {"messages": []})
        builder.add_edge(START, "answer")
        namespace["builder"] = builder
        _run_sync(scripted(_block("MemoraStore(memora)")), namespace)
        assert namespace["store"].get(("acme", "jake"), "diet").value["kind"] == "food"
    finally:
        if "memora" in namespace:
            namespace["memora"].close()


def _aiosqlite_workers() -> int:
    return sum("_connection_worker_thread" in t.name for t in threading.enumerate())


def test_llamaindex_examples_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If this fails, the README's LlamaIndex examples are out of date."""
    from tests.integrations.llamaindex_support import ScriptedLlamaLLM, cooking_assistant

    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {
        "SCRIPTED_MODEL": ScriptedChatModel(responder=_answer),
        "llm": ScriptedLlamaLLM(responder=cooking_assistant),
    }
    try:
        code = _block("SimpleChatEngine.from_defaults(llm=llm, memory=memory)")
        _run_sync(code.replace('"openai:gpt-4o-mini"', "SCRIPTED_MODEL"), namespace)
        stored = namespace["memory"].get_all()
        assert stored[0].content == "I'm allergic to peanuts."
        _run_sync(_block("MemoraMemoryBlock(memora"), namespace)
        workers_before = _aiosqlite_workers()
        _run_sync(_block("async_engine=engine"), namespace)
        saved = namespace["memora"].get_interaction("acme", "jake", "chat-2")
        assert [m.content for m in saved.messages] == ["I moved to Porto last spring."]
        for _ in range(200):  # the disposed connection's worker thread is ending
            if _aiosqlite_workers() <= workers_before:
                break
            time.sleep(0.01)
        assert _aiosqlite_workers() == workers_before
        _run_sync(_block("MemoraToolSpec(memora"), namespace)
        assert [t.metadata.name for t in namespace["tools"]] == [
            "search_memories",
            "save_memory",
            "memory_history",
            "delete_memory",
        ]
    finally:
        if "memora" in namespace:
            namespace["memora"].close()
