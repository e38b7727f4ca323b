"""Shared helpers for the LangChain / LangGraph integration tests.

The only doubles are scripted chat models standing in for paid LLMs:

* :func:`memory_model` — a ``ScriptedChatModel`` answering Memora's extraction, comparison,
  query-generation and filter prompts deterministically (each user message becomes one memory
  ``"<user> said: <text>"``; comparisons keep every candidate as new);
* :class:`AgentFakeModel` — a ``GenericFakeChatModel`` subclass with ``bind_tools`` whose answer
  is computed from the messages it is shown, so tests can check what the agent model saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from memora_engine import Memora, MemoraRunner, SyncMemora
from memora_engine.prompts import Prompts
from memora_engine.testing.scripted import ScriptedChatModel

_PROMPTS = Prompts()
_BLOCK = re.compile(r"MESSAGE BLOCK ID: (\d+)\n-+\n(.*)", re.DOTALL)
_CANDIDATE = re.compile(r'"POS_ID": (\d+),\s*"memory": "((?:[^"\\]|\\.)*)"')


def _system(messages: Sequence[BaseMessage]) -> str:
    return str(messages[0].content) if messages and messages[0].type == "system" else ""


def memory_responder(messages: Sequence[BaseMessage]) -> str:
    """Answer one of Memora's prompts like a well-behaved model would."""
    system = _system(messages)
    if system == _PROMPTS.query_generation_system:
        return "no queries"  # Memora then searches with the message itself
    if "POS_ID" in str(messages[-1].content) and len(messages) == 2:
        new = [
            {"memory": json.loads(f'"{text}"'), "source_candidate_pos_id": int(pos)}
            for pos, text in _CANDIDATE.findall(str(messages[-1].content))
        ]
        return json.dumps({"new_memories": new, "contrary_memories": []})
    if "MESSAGE BLOCK" in system:
        memories = []
        for message in messages[1:]:
            match = _BLOCK.match(str(message.content))
            if message.type != "human" or match is None:
                continue
            text = match.group(2).strip()
            if not text or json.dumps(text)[1:-1] in system:  # already extracted earlier
                continue
            memories.append(
                {"memory": f"#user_#id# said: {text}", "msg_source_ids": [int(match.group(1))]}
            )
        return json.dumps({"memories_first_pass": memories})
    return "<< none >>"  # the optional relevance filter: keep nothing special


def memory_model() -> ScriptedChatModel:
    """A scripted extraction / recall model (see :func:`memory_responder`)."""
    return ScriptedChatModel(responder=memory_responder)


def open_sync(path: Path, *, extract: bool = False) -> SyncMemora:
    """An embedded Memora under ``path`` (real SQLite, Qdrant Edge, local ONNX model)."""
    if extract:
        model = memory_model()
        return SyncMemora.embedded(path, extraction_model=model, memory_search_model=model)
    return SyncMemora.embedded(path)


async def open_async(path: Path, *, extract: bool = False) -> Memora:
    """Async twin of :func:`open_sync`."""
    if extract:
        model = memory_model()
        return await Memora.embedded(path, extraction_model=model, memory_search_model=model)
    return await Memora.embedded(path)


def seed_tenant(memora: SyncMemora, org_id: str, user_id: str, agent_id: str) -> None:
    """Create an org, a user and an agent with the given ids."""
    run = MemoraRunner(memora).run
    core = memora.aio
    run(core.get_or_create_organization(org_id, org_name=f"Org {org_id}"))
    run(core.get_or_create_user(org_id, user_id, user_name=f"User {user_id}"))
    run(core.get_or_create_agent(org_id, agent_id, agent_label=f"Agent {agent_id}"))


class AgentFakeModel(GenericFakeChatModel):
    """A tool-calling-capable fake agent model: ``responder(messages)`` makes each answer.

    Every call's input is kept in ``seen``.
    """

    messages: Any = Field(default_factory=lambda: iter(()))
    responder: Callable[[list[BaseMessage]], AIMessage]
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> AgentFakeModel:
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self.responder(list(messages)))])


class _Blocking:
    """Memora's public async methods, called from sync test code through the portal."""

    def __init__(self, memora: SyncMemora) -> None:
        self._runner = MemoraRunner(memora)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._runner.core, name)
        return lambda *args, **kwargs: self._runner.run(method(*args, **kwargs))


def public(memora: SyncMemora) -> Any:
    """``public(memora).get_interaction(...)``: the engine's public API, blocking."""
    return _Blocking(memora)
