"""Raw mode (no LLM at all) and the sync facade, on the embedded stores with the real model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from memora_engine import Memora, SyncMemora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import ConfigurationError, UsageError
from memora_engine.sync import EventLoopPortal

CHAT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "I'm allergic to peanuts."},
    {"role": "assistant", "content": "Got it, no peanuts for you."},
]


async def test_raw_mode_stores_messages_verbatim_with_sources_and_recalls_without_llm(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check raw mode: each new user/assistant message becomes one memory."""
    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = await memora.graph.create_organization("Acme")
        user = await memora.graph.create_user(org.org_id, "Jake")
        agent = await memora.graph.create_agent(org.org_id, "Jarvis")
        iid, _ = await memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, CHAT
        )
        stored = await memora.graph.get_all_user_memories(org.org_id, user.user_id)
        assert sorted(m.memory for m in stored) == sorted([CHAT[1]["content"], CHAT[2]["content"]])
        # An update stores only the appended message.
        longer = [*CHAT, {"role": "user", "content": "My wife Sarah is due in December."}]
        await memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, longer, interaction_id=iid
        )
        assert len(await memora.graph.get_all_user_memories(org.org_id, user.user_id)) == 3
        recalled, ids = await memora.recall_memories_for_message(
            org.org_id, user.user_id, "When is Sarah due?"
        )
        assert recalled[0].memory == longer[3]["content"]
        assert [s.msg_position for s in recalled[0].message_sources] == [3]
        assert ids[0] == recalled[0].memory_id
        with pytest.raises(ConfigurationError):
            await memora.save_or_update_interaction_and_memories(
                org.org_id, user.user_id, agent.agent_id, CHAT, infer=True
            )


def test_sync_facade_outside_and_inside_a_running_loop(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check SyncMemora's portal use (scripts and Jupyter-style running loops)."""
    portal = EventLoopPortal(name="facade-test")
    memora = SyncMemora.embedded(
        tmp_path / "s", portal=portal, dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    )
    try:
        org = memora.graph.create_organization("Acme")
        user = memora.graph.create_user(org.org_id, "Jake")
        agent = memora.graph.create_agent(org.org_id, "Jarvis")
        memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, CHAT
        )

        async def notebook_cell() -> list[str]:
            # Inside a running event loop, as in Jupyter: the sync facade still works.
            found = memora.search_memories_as_one(org.org_id, user.user_id, ["peanut allergy"])
            return [m.memory for m in found]

        assert asyncio.run(notebook_cell())[0] == "I'm allergic to peanuts."

        async def on_portal_loop() -> None:
            memora.search_memories_as_one(org.org_id, user.user_id, ["x"])

        with pytest.raises(UsageError):
            portal.run(on_portal_loop())
    finally:
        memora.close()
        portal.close()


async def test_create_if_missing_saves_under_the_callers_interaction_id(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """If this fails, check create_if_missing: a new interaction under the given id, then updates."""
    from memora_engine.errors import InteractionNotFoundError

    async with await Memora.embedded(
        tmp_path / "m", dense_encoder=dense_encoder, sparse_encoder=sparse_encoder
    ) as memora:
        org = await memora.graph.create_organization("Acme")
        user = await memora.graph.create_user(org.org_id, "Jake")
        agent = await memora.graph.create_agent(org.org_id, "Jarvis")
        with pytest.raises(InteractionNotFoundError):
            await memora.save_or_update_interaction_and_memories(
                org.org_id, user.user_id, agent.agent_id, CHAT, interaction_id="session-42"
            )
        assert await memora.graph.get_all_user_interactions(org.org_id, user.user_id) == []
        first = await memora.save_or_update_interaction_and_memories(
            org.org_id,
            user.user_id,
            agent.agent_id,
            CHAT[:2],
            interaction_id="session-42",
            create_if_missing=True,
        )
        again = await memora.save_or_update_interaction_and_memories(
            org.org_id,
            user.user_id,
            agent.agent_id,
            CHAT,
            interaction_id="session-42",
            create_if_missing=True,
        )
        assert first[0] == again[0] == "session-42"
        stored = await memora.graph.get_interaction(org.org_id, user.user_id, "session-42")
        assert stored.messages_as_dicts() == CHAT
        assert sorted(m.memory for m in stored.memories) == sorted(
            [CHAT[1]["content"], CHAT[2]["content"]]
        )
