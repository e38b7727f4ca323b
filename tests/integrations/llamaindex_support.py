"""Shared pieces of the LlamaIndex integration tests.

* :class:`FactScript` scripts Memora's own extraction model (a ``ScriptedChatModel``, the one
  allowed double): it reads the real prompts Memora builds and answers like a careful model.
* :class:`ScriptedLlamaLLM` is a LlamaIndex ``CustomLLM`` standing in for the paid chat model of
  a chat engine; it records every prompt it got.
* :func:`scripted_agent_llm` is LlamaIndex's ``MockFunctionCallingLLM`` driven by a script of
  tool calls, for ``FunctionAgent``.

Everything else (Memora, the embedded stores, the embedding model, LlamaIndex) is real.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import Field
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.testing.scripted import ScriptedChatModel

_BLOCK = re.compile(r"MESSAGE BLOCK ID: (\d+)\n-+\n(.*)", re.DOTALL)
_LATEST = re.compile(r"LATEST MESSAGE \([^)]*\):\n(.*)", re.DOTALL)


@dataclass(frozen=True)
class Fact:
    """A fact the scripted extractor "notices" when a user message contains ``trigger``."""

    trigger: str
    memory: str  # stored form, with #user_#id#
    replaces: str | None = None  # text of an older memory this one contradicts


class FactScript:
    """Memora's extraction / comparison / query model, answering from a list of facts."""

    def __init__(self, *facts: Fact) -> None:
        self.facts = list(facts)
        self.counts: Counter[str] = Counter()

    def model(self) -> ScriptedChatModel:
        return ScriptedChatModel(responder=self.respond)

    def respond(self, messages: Sequence[BaseMessage]) -> str:
        system = str(messages[0].content)
        if "long-term memory of an assistant" in system:
            self.counts["extraction"] += 1
            return self._extract(system, messages[1:])
        if "You maintain the memories" in system:
            self.counts["comparison"] += 1
            return self._compare(str(messages[1].content))
        if "look up an assistant's long-term memory" in system:
            self.counts["queries"] += 1
            match = _LATEST.search(str(messages[1].content))
            latest = match.group(1).strip() if match else ""
            return f"<< {latest} >>"
        raise AssertionError(f"unexpected prompt: {system[:80]}")

    def _extract(self, system: str, blocks: Sequence[BaseMessage]) -> str:
        found: list[dict[str, Any]] = []
        for block in blocks:
            match = _BLOCK.match(str(block.content))
            if block.type != "human" or match is None:
                continue
            position, text = int(match.group(1)), match.group(2).lower()
            for fact in self.facts:
                tail = fact.memory.replace("#user_#id#", "").strip()
                if fact.trigger.lower() in text and tail not in system:
                    found.append({"memory": fact.memory, "msg_source_ids": [position]})
        return json.dumps({"memories_first_pass": found})

    def _compare(self, body: str) -> str:
        stored_text, candidates_text = body.split("NEW CANDIDATE MEMORIES:", 1)
        stored = json.loads(stored_text.replace("STORED MEMORIES:", "", 1))
        new: list[dict[str, Any]] = []
        contrary: list[dict[str, Any]] = []
        for candidate in json.loads(candidates_text):
            fact = next((f for f in self.facts if candidate["memory"].endswith(_tail(f))), None)
            old = None
            if fact is not None and fact.replaces:
                old = next((s for s in stored if fact.replaces in s["memory"]), None)
            item = {"memory": candidate["memory"], "source_candidate_pos_id": candidate["POS_ID"]}
            if old is not None:
                contrary.append({**item, "contradicted_memory_id": old["memory_id"]})
            elif not any(_tail_of(candidate["memory"]) in s["memory"] for s in stored):
                new.append(item)
        return json.dumps({"new_memories": new, "contrary_memories": contrary})


def _tail(fact: Fact) -> str:
    return fact.memory.replace("#user_#id#", "").strip()


def _tail_of(memory: str) -> str:
    return memory.split(" ", 1)[1] if " " in memory else memory


class ScriptedLlamaLLM(CustomLLM):
    """A LlamaIndex chat model that answers with ``responder(prompt)`` and records prompts."""

    responder: Callable[[str], str]
    prompts: list[str] = Field(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted-assistant", context_window=16000)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self.prompts.append(prompt)
        return CompletionResponse(text=self.responder(prompt))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        text = self.complete(prompt, formatted=formatted).text

        def gen() -> CompletionResponseGen:
            yield CompletionResponse(text=text, delta=text)

        return gen()


def cooking_assistant(prompt: str) -> str:
    """Answers like a cooking assistant that reads its context (memories included)."""
    if "Standalone question:" in prompt:
        return prompt.rsplit("Follow Up Input:", 1)[1].split("Standalone question:")[0].strip()
    last_user = prompt.rsplit("user:", 1)[-1].lower()
    context = prompt.lower()
    if "recipe" in last_user or "cook" in last_user:
        if "allergic to peanuts" in context:
            return (
                "Since you're allergic to peanuts, try a sesame-free, peanut-free chickpea curry."
            )
        return "How about a classic Thai peanut noodle salad?"
    if "allergic" in last_user:
        return "Thanks for telling me, I'll keep your allergy in mind."
    return "Happy to help with that."


Step = Callable[[Sequence[ChatMessage]], ChatMessage]


def scripted_agent_llm(*steps: Step) -> MockFunctionCallingLLM:
    """A function-calling LLM that plays ``steps`` in order, one per model call."""
    queue = list(steps)
    calls: list[list[ChatMessage]] = []

    def generate(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        calls.append(list(messages))
        if not queue:
            raise AssertionError("the scripted agent model ran out of steps")
        return queue.pop(0)(messages)

    llm = MockFunctionCallingLLM(response_generator=generate, is_chat_model=True)
    llm.__dict__["recorded_calls"] = calls
    return llm


def call_tool(name: str, **kwargs: Any) -> Step:
    """A model step that calls one tool."""

    def step(messages: Sequence[ChatMessage]) -> ChatMessage:
        block = ToolCallBlock(tool_call_id=f"call-{name}", tool_name=name, tool_kwargs=kwargs)
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])

    return step


def answer(fn: Callable[[Sequence[ChatMessage]], str]) -> Step:
    """A model step that answers with text computed from what it was shown."""

    def step(messages: Sequence[ChatMessage]) -> ChatMessage:
        return ChatMessage(role=MessageRole.ASSISTANT, content=fn(messages))

    return step


def transcript(messages: Sequence[ChatMessage]) -> str:
    """Every message's text, one per line (what a model would read)."""
    return "\n".join(f"{m.role.value}: {m.content or ''}" for m in messages)


async def open_memora(
    path: Path, script: FactScript | None, dense: DenseEncoder, sparse: SparseEncoder
) -> Memora:
    """An embedded Memora at ``path`` (raw mode when ``script`` is None)."""
    return await Memora.embedded(
        path,
        extraction_model=script.model() if script else None,
        dense_encoder=dense,
        sparse_encoder=sparse,
    )


@dataclass(frozen=True)
class Tenant:
    org_id: str
    user_id: str
    agent_id: str


async def create_tenant(memora: Memora) -> Tenant:
    """Org "acme", user "jake" and agent "chef" with our own ids."""
    org = await memora.create_organization("Acme", org_id="acme")
    user = await memora.create_user(org.org_id, "Jake", user_id="jake")
    agent = await memora.create_agent(org.org_id, "Chef", agent_id="chef")
    return Tenant(org.org_id, user.user_id, agent.agent_id)


PEANUTS = Fact("allergic to peanuts", "#user_#id# is allergic to peanuts")
PORTO = Fact("porto", "#user_#id# lives in Porto")
LISBON = Fact("lisbon", "#user_#id# lives in Lisbon", replaces="lives in Porto")
