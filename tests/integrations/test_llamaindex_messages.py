"""The pure message helpers behind the LlamaIndex adapters (no I/O, no event loop)."""

from __future__ import annotations

from datetime import datetime, timezone

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock

from memora_engine.schema import Memory, MessageBlock
from memora_integrations.llama_index._messages import (
    format_memories,
    from_stored,
    insert_memories,
    latest_user_text,
    memories_outside_window,
    merge_conversation,
    persistable,
    trim_window,
)

WHEN = datetime(2024, 12, 1, 9, 0, tzinfo=timezone.utc)


def _turn(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def _memory(text: str, interaction_id: str, *sources: tuple[str, str]) -> Memory:
    return Memory(
        org_id="o",
        agent_id="a",
        user_id="u",
        interaction_id=interaction_id,
        memory_id="00000000-0000-4000-8000-00000000000" + str(len(text) % 10),
        memory=text,
        obtained_at=WHEN,
        message_sources=[
            MessageBlock(role=r, content=c, msg_position=i) for i, (r, c) in enumerate(sources)
        ],
    )


def test_persistable_drops_tool_scratch_and_keeps_text() -> None:
    messages = [
        ChatMessage(role="user", content="weather?"),
        ChatMessage(role="assistant", blocks=[ToolCallBlock(tool_name="weather", tool_kwargs={})]),
        ChatMessage(role="tool", content="Sunny"),
        ChatMessage(role="assistant", blocks=[TextBlock(text="It's"), TextBlock(text="sunny")]),
    ]
    assert persistable(messages) == [_turn("user", "weather?"), _turn("assistant", "It's\nsunny")]


def test_from_stored_maps_unknown_roles_to_user() -> None:
    assert from_stored("assistant", "x").role == MessageRole.ASSISTANT
    assert from_stored("ai", "x").role == MessageRole.ASSISTANT
    assert from_stored("Grandma", "x").role == MessageRole.USER


def test_trim_window_opens_on_a_user_turn() -> None:
    roles = ["user", "assistant", "user", "assistant", "user", "assistant"]
    messages = [ChatMessage(role=r, content=str(i)) for i, r in enumerate(roles)]
    assert trim_window(messages, None) == 0
    assert trim_window(messages, 10) == 0
    assert trim_window(messages, 4) == 2
    assert trim_window(messages, 3) == 4  # would start on an assistant message: skip it


def test_latest_user_text() -> None:
    messages = [ChatMessage(role="user", content="first"), ChatMessage(role="user", content=" ")]
    assert latest_user_text(messages) == "first"
    assert latest_user_text([ChatMessage(role="assistant", content="hi")]) is None


def test_format_and_insert_memories() -> None:
    text = format_memories([_memory("Jake likes tea", "i1")], header="Known:")
    assert text == "Known:\n- [2024-12-01] Jake likes tea"
    assert format_memories([]) == ""

    history = [
        ChatMessage(role="system", content="Be kind."),
        ChatMessage(role="user", content="hi"),
    ]
    into_system = insert_memories(history, text, into=MessageRole.SYSTEM)
    assert into_system[0].content == text + "\n\nBe kind."
    assert history[0].content == "Be kind."  # the input is not mutated
    into_user = insert_memories(history, text, into=MessageRole.USER)
    assert into_user[1].content == text + "\n\nhi"
    created = insert_memories(
        [ChatMessage(role="user", content="hi")], text, into=MessageRole.SYSTEM
    )
    assert [m.role for m in created] == [MessageRole.SYSTEM, MessageRole.USER]
    assert insert_memories(history, "", into=MessageRole.SYSTEM) is history


def test_memories_outside_window_drops_only_visible_repeats() -> None:
    window = [ChatMessage(role="user", content="I like tea")]
    visible = _memory("I like tea", "i1", ("user", "I like tea"))
    elsewhere = _memory("I like tea", "i2", ("user", "I like tea"))
    no_sources = _memory("Jake likes tea", "i1")
    kept = memories_outside_window([visible, elsewhere, no_sources], "i1", window)
    assert kept == [elsewhere, no_sources]


def test_merge_conversation() -> None:
    a, b, c, d = (_turn("user", x) for x in "abcd")
    assert merge_conversation([], [a, b]) == [a, b]
    assert merge_conversation([a, b], [b, c]) == [a, b, c]  # overlapping tail
    assert merge_conversation([a, b, c], [a, b]) == [a, b, c]  # already stored
    assert merge_conversation([a, b, c], [b, c, d]) == [a, b, c, d]
    assert merge_conversation([a, b], [c, d]) == [a, b, c, d]
    assert merge_conversation([a], []) == [a]
