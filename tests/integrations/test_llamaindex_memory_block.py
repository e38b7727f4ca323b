"""``MemoraMemoryBlock`` inside LlamaIndex's real ``Memory`` on embedded Memora stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory import Memory
from llama_index.core.storage.chat_store.sql import MessageStatus

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import InvalidInputError
from memora_integrations.llama_index import MemoraMemoryBlock
from tests.integrations.llamaindex_support import (
    PEANUTS,
    FactScript,
    Tenant,
    create_tenant,
    open_memora,
)

TURNS = [
    ChatMessage(role="user", content="Hello! I'm allergic to peanuts, just so you know."),
    ChatMessage(role="assistant", content="Thanks, I'll avoid peanuts in every suggestion."),
    ChatMessage(role="user", content="Great. I also love spicy food."),
    ChatMessage(role="assistant", content="Spicy and peanut-free it is."),
]


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


def _block(memora: Memora, t: Tenant, **kwargs: object) -> MemoraMemoryBlock:
    return MemoraMemoryBlock(
        memora, org_id=t.org_id, user_id=t.user_id, agent_id=t.agent_id, **kwargs
    )


async def test_flushed_messages_become_memories_recalled_elsewhere(
    memora: Memora, tenant: Tenant, llama_memory: Callable[..., Memory]
) -> None:
    # A tiny buffer so the first turn is flushed out of the short-term memory quickly.
    memory = llama_memory(
        session_id="blk-1",
        token_limit=60,
        chat_history_token_ratio=0.5,
        token_flush_size=20,
        memory_blocks=[_block(memora, tenant)],
    )
    for message in TURNS:
        await memory.aput(message)
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "blk-1")
    flushed = [m.content for m in stored.messages]
    assert flushed == [m.content for m in TURNS[: len(flushed)]]
    assert flushed
    assert [m.memory for m in stored.memories] == ["Jake is allergic to peanuts"]

    # Another session of the same user: the block recalls the memory into the system message.
    fresh = llama_memory(session_id="blk-2", memory_blocks=[_block(memora, tenant)])
    await fresh.aput(ChatMessage(role="user", content="What should I cook tonight?"))
    got = await fresh.aget()
    assert got[0].role == MessageRole.SYSTEM
    system = got[0].content or ""
    assert "<memora_memories>" in system
    assert "Jake is allergic to peanuts" in system
    assert "- [" in system
    assert got[-1].content == "What should I cook tonight?"


async def test_nothing_reaches_memora_before_a_flush_without_eager(
    memora: Memora, tenant: Tenant, llama_memory: Callable[..., Memory]
) -> None:
    memory = llama_memory(session_id="lazy", memory_blocks=[_block(memora, tenant)])
    for message in TURNS:
        await memory.aput(message)
    await memory.aget()
    assert await memora.list_interactions(tenant.org_id, tenant.user_id) == []


async def test_eager_block_saves_every_turn_once(
    memora: Memora, tenant: Tenant, script: FactScript, llama_memory: Callable[..., Memory]
) -> None:
    memory = llama_memory(
        session_id="eager-1",
        token_limit=60,
        chat_history_token_ratio=0.5,
        token_flush_size=20,
        memory_blocks=[_block(memora, tenant, eager=True)],
    )
    for message in TURNS[:2]:
        await memory.aput(message)
    await memory.aget()  # the read saves the live window
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "eager-1")
    assert [m.content for m in stored.messages] == [m.content for m in TURNS[:2]]
    assert [m.memory for m in stored.memories] == ["Jake is allergic to peanuts"]

    for message in TURNS[2:]:
        await memory.aput(message)  # flushes the first turn, already saved: not stored twice
    archived = await memory.aget_all(status=MessageStatus.ARCHIVED)
    assert [m.content for m in archived] == [m.content for m in TURNS[:2]]
    await memory.aget(input="Any dessert ideas?")
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "eager-1")
    assert [m.content for m in stored.messages] == [
        *(m.content for m in TURNS),
        "Any dessert ideas?",
    ]
    assert script.counts["extraction"] == 2  # one per read that brought new messages

    # Agents read with input= the user message already in the buffer: stored once.
    await memory.aput(ChatMessage(role="user", content="Any dessert ideas?"))
    await memory.aget(input="Any dessert ideas?")
    stored = await memora.get_interaction(tenant.org_id, tenant.user_id, "eager-1")
    assert [m.content for m in stored.messages][-2:] == [TURNS[3].content, "Any dessert ideas?"]


def test_sync_memory_get_and_the_block_needs_an_interaction(
    memora: Memora, tenant: Tenant, llama_memory: Callable[..., Memory]
) -> None:
    block = _block(memora, tenant, interaction_id="fixed-1", eager=True)
    memory = llama_memory(session_id="ignored", memory_blocks=[block])
    memory.put(TURNS[0])
    memory.get()  # LlamaIndex's sync wrapper runs the async block
    assert memory.get_all()[0].content == TURNS[0].content

    async def standalone_read() -> str:
        return await _block(memora, tenant).aget([TURNS[0]])

    import asyncio

    with pytest.raises(InvalidInputError, match="needs an interaction"):
        asyncio.run(standalone_read())


async def test_truncation_drops_least_relevant_lines(memora: Memora, tenant: Tenant) -> None:
    block = _block(memora, tenant)
    content = "header\n- [2024-01-01] first memory\n- [2024-01-02] second memory"
    assert await block.atruncate(content, 3) == "header\n- [2024-01-01] first memory"
    assert await block.atruncate(content, 10_000) is None
