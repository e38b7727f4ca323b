"""``MemoraMemory`` with real LlamaIndex chat engines and agents on embedded Memora stores.

The chat models are scripted (a LlamaIndex ``CustomLLM`` / ``MockFunctionCallingLLM`` for the
assistant, a ``ScriptedChatModel`` for Memora's extraction); everything else is real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.chat_engine import CondensePlusContextChatEngine, SimpleChatEngine
from llama_index.core.memory.memory import InsertMethod
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from llama_index.core.tools import FunctionTool

from memora_engine import Memora, SyncMemora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError, UserNotFoundError
from memora_integrations.llama_index import MemoraMemory, MemoraToolSpec
from tests.integrations.llamaindex_support import (
    PEANUTS,
    FactScript,
    ScriptedLlamaLLM,
    Tenant,
    answer,
    call_tool,
    cooking_assistant,
    create_tenant,
    open_memora,
    scripted_agent_llm,
    transcript,
)


@pytest.fixture
def script() -> FactScript:
    return FactScript(PEANUTS)


@pytest.fixture
async def memora(
    tmp_path: Path, script: FactScript, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> AsyncIterator[Memora]:
    engine = await open_memora(tmp_path / "memora", script, dense_encoder, sparse_encoder)
    yield engine
    await engine.close()


@pytest.fixture
async def tenant(memora: Memora) -> Tenant:
    return await create_tenant(memora)


def _memory(memora: Memora | SyncMemora, t: Tenant, **kwargs: object) -> MemoraMemory:
    return MemoraMemory.from_defaults(
        memora, org_id=t.org_id, user_id=t.user_id, agent_id=t.agent_id, **kwargs
    )


async def test_simple_chat_engine_survives_a_restart(
    tmp_path: Path,
    script: FactScript,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> None:
    """Sync chat engine; the stores are closed and reopened; conversation and memory persist."""
    path = tmp_path / "memora"
    first = await open_memora(path, script, dense_encoder, sparse_encoder)
    t = await create_tenant(first)
    llm = ScriptedLlamaLLM(responder=cooking_assistant)
    engine = SimpleChatEngine.from_defaults(
        llm=llm, memory=_memory(first, t, session_id="kitchen-1")
    )
    reply = engine.chat("Hi! Quick note: I'm allergic to peanuts.")
    assert str(reply) == "Thanks for telling me, I'll keep your allergy in mind."
    assert script.counts["extraction"] == 1  # one save per turn, not per message
    await first.close()

    # A new process would do exactly this: open the same path, same ids.
    second = await open_memora(path, script, dense_encoder, sparse_encoder)
    try:
        memory = _memory(second, t, session_id="kitchen-1")
        assert [(m.role, m.content) for m in memory.get_all()] == [
            (MessageRole.USER, "Hi! Quick note: I'm allergic to peanuts."),
            (MessageRole.ASSISTANT, "Thanks for telling me, I'll keep your allergy in mind."),
        ]
        engine = SimpleChatEngine.from_defaults(llm=llm, memory=memory)
        reply = engine.chat("Any recipe ideas for tonight?")
        assert "peanut-free" in str(reply)
        last_prompt = llm.prompts[-1]
        assert "Hi! Quick note: I'm allergic to peanuts." in last_prompt  # short-term history
        assert len(memory.get_all()) == 4

        # A different conversation of the same user recalls the long-term memory only.
        other = _memory(second, t, session_id="kitchen-2")
        engine = SimpleChatEngine.from_defaults(llm=llm, memory=other)
        reply = engine.chat("What recipe should I cook?")
        assert "peanut-free" in str(reply)
        prompt = llm.prompts[-1]
        assert "Jake is allergic to peanuts" in prompt
        assert "Hi! Quick note" not in prompt
        assert len(other.get_all()) == 2
    finally:
        await second.close()


class _KitchenDocs(BaseRetriever):
    """A tiny knowledge base (a real LlamaIndex retriever) for the context chat engine."""

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        node = TextNode(text="Chickpea curry: chickpeas, coconut milk, spinach, 25 minutes.")
        return [NodeWithScore(node=node, score=1.0)]


async def test_condense_plus_context_engine_async(memora: Memora, tenant: Tenant) -> None:
    llm = ScriptedLlamaLLM(responder=cooking_assistant)
    engine = CondensePlusContextChatEngine.from_defaults(
        retriever=_KitchenDocs(), llm=llm, memory=_memory(memora, tenant, session_id="c3-a")
    )
    await engine.achat("I'm allergic to peanuts, by the way.")
    reply = await engine.achat("Can you suggest a recipe?")
    assert "peanut-free" in str(reply)
    # The fact is visible in the short-term history, so it is not repeated as a memory.
    assert "Jake is allergic to peanuts" not in llm.prompts[-1]
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "c3-a")
    assert stored.messages[0].content == "I'm allergic to peanuts, by the way."
    assert len(stored.messages) == 4
    assert [m.memory for m in stored.memories] == ["Jake is allergic to peanuts"]

    # A new conversation: the memory is recalled, dated, into the system message.
    engine = CondensePlusContextChatEngine.from_defaults(
        retriever=_KitchenDocs(), llm=llm, memory=_memory(memora, tenant, session_id="c3-b")
    )
    reply = await engine.achat("Can you suggest a recipe?")
    assert "peanut-free" in str(reply)
    system_part = llm.prompts[-1].split("\nuser:", 1)[0]
    assert "Jake is allergic to peanuts" in system_part
    assert "Chickpea curry" in system_part  # the retrieved document sits next to it


async def test_get_puts_memories_where_asked_and_skips_repeats(
    memora: Memora, tenant: Tenant
) -> None:
    memory = _memory(memora, tenant, session_id="s1", infer=False)  # raw mode: no LLM
    await memory.aput_messages(
        [
            ChatMessage(role="user", content="My sister Ana lives in Madrid."),
            ChatMessage(role="assistant", content="Nice, Madrid is lovely."),
        ]
    )
    # Raw memories of the visible turn are not repeated as "long-term memories".
    got = await memory.aget()
    assert [m.role for m in got] == [MessageRole.USER, MessageRole.ASSISTANT]

    other = _memory(memora, tenant, session_id="s2", insert_method=InsertMethod.USER)
    await other.aput(ChatMessage(role="user", content="Where does my sister Ana live?"))
    got = await other.aget()
    assert len(got) == 1
    assert got[0].role == MessageRole.USER
    text = got[0].content or ""
    assert "- [" in text
    assert "My sister Ana lives in Madrid." in text
    assert text.endswith("Where does my sister Ana live?")

    system = _memory(memora, tenant, session_id="s3", max_recalled_memories=1)
    got = await system.aget(input="Tell me about Ana in Madrid")
    assert got[0].role == MessageRole.SYSTEM
    assert (got[0].content or "").count("\n- [") == 1


async def test_set_reset_and_window(memora: Memora, tenant: Tenant) -> None:
    memory = _memory(memora, tenant, session_id="s-set", max_messages=2, recall=False)
    history = [
        ChatMessage(role="user", content="I'm allergic to peanuts."),
        ChatMessage(role="assistant", content="Noted."),
        ChatMessage(role="user", content="Thanks."),
        ChatMessage(role="assistant", content="Anytime."),
    ]
    await memory.aset(history)
    assert [m.content for m in await memory.aget_all()] == [m.content for m in history]
    assert [m.content for m in await memory.aget()] == ["Thanks.", "Anytime."]

    # set() with an edited history truncates the stored one (Memora's update diff).
    memory.set(history[:2])
    assert [m.content for m in memory.get_all()] == ["I'm allergic to peanuts.", "Noted."]

    memory.reset()
    assert memory.get_all() == []
    # reset keeps long-term memories learned from the conversation.
    found = await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["peanuts"])
    assert [m.memory for m in found] == ["Jake is allergic to peanuts"]

    memory.delete()
    assert await memora.search_memories_as_one(tenant.org_id, tenant.user_id, ["peanuts"]) == []


async def test_set_with_unchanged_history_costs_no_llm_call(
    memora: Memora, tenant: Tenant, script: FactScript
) -> None:
    memory = _memory(memora, tenant, session_id="s-same")
    history = [
        ChatMessage(role="user", content="I'm allergic to peanuts."),
        ChatMessage(role="assistant", content="Noted."),
    ]
    await memory.aset(history)
    assert script.counts["extraction"] == 1
    await memory.aset(history)
    assert script.counts["extraction"] == 1


async def test_function_agent_keeps_text_turns_and_drops_tool_scratch(
    memora: Memora, tenant: Tenant
) -> None:
    def weather(city: str) -> str:
        """Current weather in a city."""
        return f"Sunny in {city}, 24°C."

    memory = _memory(memora, tenant, session_id="agent-1")
    llm = scripted_agent_llm(
        call_tool("weather", city="Lisbon"),
        answer(lambda msgs: "It's sunny in Lisbon, 24°C."),
        answer(lambda msgs: "Yes, " + ("peanut-free" if "peanuts" in transcript(msgs) else "?")),
    )
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(weather)], llm=llm)
    result = await agent.run(
        "I'm allergic to peanuts. What's the weather in Lisbon?", memory=memory
    )
    assert str(result) == "It's sunny in Lisbon, 24°C."
    llm_calls = llm.__dict__["recorded_calls"]
    assert "Sunny in Lisbon, 24°C." in transcript(llm_calls[1])  # the tool result was shown

    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "agent-1")
    assert [(m.role, m.content) for m in stored.messages] == [
        ("user", "I'm allergic to peanuts. What's the weather in Lisbon?"),
        ("assistant", "It's sunny in Lisbon, 24°C."),
    ]
    assert [m.memory for m in stored.memories] == ["Jake is allergic to peanuts"]

    # Second run in a new agent (as after a restart): history and memories come back.
    second = FunctionAgent(tools=[FunctionTool.from_defaults(weather)], llm=llm)
    result = await second.run("Is a peanut-free picnic a good idea?", memory=memory)
    assert str(result) == "Yes, peanut-free"
    shown = llm_calls[-1]
    assert not any(isinstance(b, ToolCallBlock) for m in shown for b in m.blocks)
    assert "What's the weather in Lisbon?" in transcript(shown)


async def test_sync_facade_and_validation(
    tmp_path: Path,
    script: FactScript,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
) -> None:
    facade = SyncMemora.embedded(
        tmp_path / "sync",
        extraction_model=script.model(),
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    )
    try:
        org = facade.graph.create_organization("Acme", org_id="acme")
        user = facade.graph.create_user(org.org_id, "Jake", user_id="jake")
        agent = facade.graph.create_agent(org.org_id, "Chef", agent_id="chef")
        memory = MemoraMemory.from_defaults(
            facade,
            org.org_id,
            user.user_id,
            agent.agent_id,
            session_id="sync-1",
            chat_history=[ChatMessage(role="user", content="I'm allergic to peanuts.")],
        )
        memory.put(ChatMessage(role="assistant", content="Got it."))
        assert [m.content for m in memory.get_all()] == ["I'm allergic to peanuts.", "Got it."]
        # The async path hands the work to the facade's loop and awaits it.
        assert len(await memory.aget_all()) == 2

        ghost = MemoraMemory.from_defaults(facade, "acme", "nobody", "chef")
        ghost.put(ChatMessage(role="user", content="hello"))
        with pytest.raises(UserNotFoundError):
            ghost.put(ChatMessage(role="assistant", content="hi"))
        with pytest.raises(InvalidInputError):
            MemoraMemory.from_defaults(object(), "acme", "jake", "chef")  # type: ignore[arg-type]
    finally:
        facade.close()


def test_async_methods_are_native() -> None:
    """LlamaIndex's defaults run the sync method in a thread; ours await the core directly."""
    from llama_index.core.memory.types import BaseMemory

    for name in ("aget", "aget_all", "aput", "aput_messages", "aset", "areset"):
        assert getattr(MemoraMemory, name) is not getattr(BaseMemory, name), name


async def test_streaming_chat_saves_the_turn(memora: Memora, tenant: Tenant) -> None:
    llm = ScriptedLlamaLLM(responder=cooking_assistant)
    engine = SimpleChatEngine.from_defaults(
        llm=llm, memory=_memory(memora, tenant, session_id="stream")
    )
    response = engine.stream_chat("I'm allergic to peanuts!")
    assert (
        "".join(response.response_gen) == "Thanks for telling me, I'll keep your allergy in mind."
    )
    response = await engine.astream_chat("Recipe for tonight?")
    assert "peanut-free" in "".join([token async for token in response.async_response_gen()])
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "stream")
    assert [m.role for m in stored.messages] == ["user", "assistant", "user", "assistant"]


async def test_create_missing_creates_the_tenant_on_first_use(memora: Memora) -> None:
    """Like the LangChain adapters' ``create_missing``: no org / user / agent set-up needed."""
    memory = MemoraMemory.from_defaults(
        memora, org_id="neworg", user_id="ann", agent_id="helper", create_missing=True
    )
    assert await memory.aget() == []
    await memory.aput(ChatMessage(role=MessageRole.USER, content="I'm allergic to peanuts."))
    await memory.aput(ChatMessage(role=MessageRole.ASSISTANT, content="Noted."))
    assert [m.content for m in await memory.aget_all()] == ["I'm allergic to peanuts.", "Noted."]
    assert (await memora.get_user("neworg", "ann")).user_name == "ann"
    assert (await memora.get_agent("neworg", "helper")).agent_label == "helper"
    tools = MemoraToolSpec(memora, "org2", "bob", "bot", create_missing=True).to_tool_list()
    saved = await tools[1].acall(text="Bob likes tea.")  # the scripted extractor knows no tea
    assert saved.content == "Nothing new to remember: the memory store already knows this."
    assert (await memora.get_organization("org2")).org_name == "org2"
