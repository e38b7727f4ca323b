"""MemoraChatMessageHistory on the embedded backends with the real local embedding model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from memora_engine import InvalidInputError, SyncMemora, UserNotFoundError
from memora_integrations.langchain import MemoraChatMessageHistory
from tests.integrations.langchain_support import (
    AgentFakeModel,
    open_async,
    open_sync,
    public,
    seed_tenant,
)


@pytest.fixture
def memora(tmp_path: Path) -> Iterator[SyncMemora]:
    memora = open_sync(tmp_path / "m", extract=True)
    seed_tenant(memora, "acme", "jake", "bot")
    yield memora
    memora.close()


def test_messages_round_trip_and_memories_extracted_on_every_write(memora: SyncMemora) -> None:
    history = MemoraChatMessageHistory(memora, org_id="acme", user_id="jake", agent_id="bot")
    assert history.messages == []
    history.add_messages([HumanMessage("I am allergic to peanuts."), AIMessage("Noted.")])
    assert history.interaction_id is not None
    history.add_messages([SystemMessage("Be brief."), HumanMessage("I live in Lyon.")])

    got = history.messages
    assert [(type(m), m.content) for m in got] == [
        (HumanMessage, "I am allergic to peanuts."),
        (AIMessage, "Noted."),
        (SystemMessage, "Be brief."),
        (HumanMessage, "I live in Lyon."),
    ]
    memories = sorted(m.memory for m in history.get_memories())
    assert memories == [
        "User jake said: I am allergic to peanuts.",
        "User jake said: I live in Lyon.",
    ]
    # A second object on the same interaction reads the same conversation.
    again = MemoraChatMessageHistory(
        memora, org_id="acme", user_id="jake", agent_id="bot", interaction_id=history.interaction_id
    )
    assert [m.content for m in again.messages] == [m.content for m in got]


def test_deferred_extraction_writes_once_on_flush(memora: SyncMemora) -> None:
    model = memora.aio.extraction_model
    assert model is not None
    with MemoraChatMessageHistory(
        memora, org_id="acme", user_id="jake", agent_id="bot", defer_extraction=True
    ) as history:
        history.add_user_message("My sister is Anna.")
        history.add_ai_message("Nice!")
        history.add_user_message("She lives in Oslo.")
        # Pending messages are visible, nothing is stored yet.
        assert len(history.messages) == 3
        assert history.interaction_id is None
    assert history.interaction_id is not None
    stored = public(memora).get_interaction("acme", "jake", history.interaction_id)
    assert [m.content for m in stored.messages] == [
        "My sister is Anna.",
        "Nice!",
        "She lives in Oslo.",
    ]
    assert sorted(m.memory for m in stored.memories) == [
        "User jake said: My sister is Anna.",
        "User jake said: She lives in Oslo.",
    ]


def test_session_id_becomes_the_interaction_id(memora: SyncMemora) -> None:
    history = MemoraChatMessageHistory(
        memora, org_id="acme", user_id="jake", agent_id="bot", interaction_id="session-42"
    )
    assert history.messages == []
    history.add_user_message("Hello there")
    stored = public(memora).get_interaction("acme", "jake", "session-42")
    assert [m.content for m in stored.messages] == ["Hello there"]


def test_clear_keeps_memories_by_default_and_can_delete_them(memora: SyncMemora) -> None:
    history = MemoraChatMessageHistory(memora, org_id="acme", user_id="jake", agent_id="bot")
    history.add_user_message("I play the cello.")
    history.clear()
    assert history.messages == []
    assert [m.memory for m in history.get_memories()] == ["User jake said: I play the cello."]
    assert memora.search_memories_as_one("acme", "jake", ["cello"])

    wiping = MemoraChatMessageHistory(
        memora, org_id="acme", user_id="jake", agent_id="bot", clear_deletes_memories=True
    )
    wiping.add_user_message("I collect stamps.")
    wiping.clear()
    assert wiping.messages == []
    assert all(
        "stamps" not in m.memory
        for m in public(memora).list_memories("acme", "jake", include_history=True)
    )


def test_errors_are_raised_and_nothing_is_written(memora: SyncMemora) -> None:
    missing = MemoraChatMessageHistory(memora, org_id="acme", user_id="nobody", agent_id="bot")
    with pytest.raises(UserNotFoundError):
        missing.add_user_message("hi")
    bad = MemoraChatMessageHistory(memora, org_id="acme", user_id="bad id!", agent_id="bot")
    with pytest.raises(InvalidInputError):
        bad.add_user_message("hi")
    assert public(memora).list_interactions("acme", "jake") == []


def test_create_missing_creates_the_tenant(memora: SyncMemora) -> None:
    history = MemoraChatMessageHistory(
        memora, org_id="neworg", user_id="ann", agent_id="helper", create_missing=True, infer=False
    )
    history.add_user_message("I like jazz.")
    assert public(memora).get_user("neworg", "ann").user_name == "ann"
    assert [m.memory for m in history.get_memories()] == ["I like jazz."]


def test_runnable_with_message_history(memora: SyncMemora) -> None:
    def answer(messages: list) -> AIMessage:
        return AIMessage(f"I have seen {len(messages)} messages")

    model = AgentFakeModel(responder=answer)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are helpful."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | model,
        lambda session_id: MemoraChatMessageHistory(
            memora, org_id="acme", user_id="jake", agent_id="bot", interaction_id=session_id
        ),
        input_messages_key="question",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "chat-1"}}
    first = chain.invoke({"question": "I am vegan."}, config)
    second = chain.invoke({"question": "What do I eat?"}, config)
    assert first.content == "I have seen 2 messages"
    assert second.content == "I have seen 4 messages"  # system + 2 stored + new question
    stored = public(memora).get_interaction("acme", "jake", "chat-1")
    assert [m.role for m in stored.messages] == ["user", "assistant", "user", "assistant"]
    assert "User jake said: I am vegan." in [m.memory for m in stored.memories]


async def test_async_api_is_native(tmp_path: Path) -> None:
    memora = await open_async(tmp_path / "a", extract=True)
    try:
        await memora.create_organization("Acme", org_id="acme")
        await memora.create_user("acme", "Jake", user_id="jake")
        await memora.create_agent("acme", "Bot", agent_id="bot")
        history = MemoraChatMessageHistory(memora, org_id="acme", user_id="jake", agent_id="bot")
        await history.aadd_messages([HumanMessage("I drive a red bike."), AIMessage("Cool.")])
        assert [m.content for m in await history.aget_messages()] == [
            "I drive a red bike.",
            "Cool.",
        ]
        assert [m.memory for m in await history.aget_memories()] == [
            "Jake said: I drive a red bike."
        ]
        async with MemoraChatMessageHistory(
            memora,
            org_id="acme",
            user_id="jake",
            agent_id="bot",
            interaction_id=history.interaction_id,
            defer_extraction=True,
        ) as deferred:
            await deferred.aadd_messages([HumanMessage("And a blue car.")])
        assert len(await history.aget_messages()) == 3
        await history.aclear()
        assert await history.aget_messages() == []
    finally:
        await memora.close()
