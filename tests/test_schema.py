"""Public models, write DTOs and LLM outputs (memora_engine.schema): validation rules."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from memora_engine.errors import InvalidInputError
from memora_engine.limits import MAX_MESSAGES_PER_INTERACTION
from memora_engine.schema import (
    ContraryMemoryToStore,
    Interaction,
    MemoriesAndInteraction,
    Memory,
    MemoryExtractionResponse,
    MemoryToStore,
    MessageBlock,
    Organization,
)
from memora_engine.schema.storage import MessageIn, validate_input

T = datetime(2024, 12, 1, 10, 0, tzinfo=timezone.utc)


def _memory(**overrides: object) -> Memory:
    fields: dict[str, object] = {
        "org_id": "o",
        "agent_id": "a",
        "user_id": "u",
        "memory_id": str(uuid.uuid4()),
        "memory": "Jake is allergic to peanuts",
        "obtained_at": T,
    }
    fields.update(overrides)
    return Memory.model_validate(fields)


# ---------------------------------------------------------------------- public models
def test_memory_prompt_dicts() -> None:
    memory = _memory(memory_id="m-1")
    assert memory.memory_and_timestamp_dict() == {
        "memory": "Jake is allergic to peanuts",
        "obtained_at": "2024-12-01 10:00:00+00:00",
    }
    assert memory.id_memory_and_timestamp_dict() == {
        "memory_id": "m-1",
        "memory": "Jake is allergic to peanuts",
        "obtained_at": "2024-12-01 10:00:00+00:00",
    }


def test_list_fields_are_lists_and_not_shared() -> None:
    first, second = _memory(), _memory()
    assert first.message_sources == []
    assert first.interaction_id is None
    first.message_sources.append(MessageBlock(role="user", content="x", msg_position=0))
    assert second.message_sources == []
    interaction = Interaction(
        org_id="o", user_id="u", agent_id="a", interaction_id="i", created_at=T, updated_at=T
    )
    assert interaction.messages == []
    assert interaction.memories == []


def test_models_need_aware_datetimes_and_forbid_extra_fields() -> None:
    with pytest.raises(ValidationError):
        Organization(org_id="o", org_name="Acme", created_at=datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        _memory(unexpected="field")
    with pytest.raises(ValidationError):
        MessageBlock(role="user", content="x", msg_position=-1)


def test_interaction_messages_as_dicts() -> None:
    interaction = Interaction(
        org_id="o", user_id="u", agent_id="a", interaction_id="i", created_at=T, updated_at=T,
        messages=[MessageBlock(role="user", content="hi", msg_position=0)],
    )  # fmt: skip
    assert interaction.messages_as_dicts() == [{"role": "user", "content": "hi"}]


# ---------------------------------------------------------------------- write DTOs
@pytest.mark.parametrize("role", ["user", "assistant", "tool", "Dr. Smith", "agent_1-x"])
def test_message_roles_accepted(role: str) -> None:
    assert MessageIn(role=role, content="").role == role


@pytest.mark.parametrize("role", ["", " user", "1st", "x" * 65, "a\nb", "user!"])
def test_message_roles_rejected(role: str) -> None:
    with pytest.raises(ValidationError):
        MessageIn(role=role, content="x")


def test_message_content_must_be_storable() -> None:
    with pytest.raises(ValidationError):
        MessageIn(role="user", content="nul\x00byte")
    with pytest.raises(ValidationError):
        MessageIn(role="user", content="lone \ud800 surrogate")
    with pytest.raises(ValidationError):
        MessageIn.model_validate({"role": "user", "content": None})


def test_memory_to_store_rules() -> None:
    memory = MemoryToStore(memory="fact", source_msg_block_pos=[3, 1, 3])
    assert memory.source_msg_block_pos == [1, 3]
    assert memory.memory_id is None
    assert memory.obtained_at is None
    upper = str(uuid.uuid4()).upper()
    assert MemoryToStore(memory="m", memory_id=upper).memory_id == upper.lower()
    for bad in (
        {"memory": "   "},
        {"memory": ""},
        {"memory": "m", "source_msg_block_pos": [-1]},
        {"memory": "m", "memory_id": "not-a-uuid"},
        {"memory": "m", "agent_id": "bad id"},
        {"memory": "m", "obtained_at": datetime(2024, 1, 1)},
        {"memory": "m", "extra": 1},
    ):
        with pytest.raises(ValidationError):
            MemoryToStore.model_validate(bad)


def test_contrary_memory_needs_a_uuid() -> None:
    existing = str(uuid.uuid4())
    contrary = ContraryMemoryToStore(memory="m", existing_contrary_memory_id=existing)
    assert contrary.existing_contrary_memory_id == existing
    with pytest.raises(ValidationError):
        ContraryMemoryToStore(memory="m", existing_contrary_memory_id="42")


def test_sources_must_be_inside_the_message_list() -> None:
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    ok = MemoriesAndInteraction.model_validate(
        {"interaction": messages, "memories": [{"memory": "m", "source_msg_block_pos": [1]}]}
    )
    assert ok.memories[0].source_msg_block_pos == [1]
    with pytest.raises(ValidationError, match="outside"):
        MemoriesAndInteraction.model_validate(
            {"interaction": messages, "memories": [{"memory": "m", "source_msg_block_pos": [2]}]}
        )
    with pytest.raises(ValidationError, match="outside"):
        MemoriesAndInteraction.model_validate(
            {"contrary_memories": [{"memory": "m", "source_msg_block_pos": [0],
                                    "existing_contrary_memory_id": str(uuid.uuid4())}]}
        )  # fmt: skip


def test_preset_memory_ids_unique_within_a_write() -> None:
    same = str(uuid.uuid4())
    with pytest.raises(ValidationError, match="unique"):
        MemoriesAndInteraction(
            memories=[MemoryToStore(memory="a", memory_id=same)],
            contrary_memories=[
                ContraryMemoryToStore(
                    memory="b", memory_id=same, existing_contrary_memory_id=str(uuid.uuid4())
                )
            ],
        )


def test_message_count_limit() -> None:
    messages = [{"role": "user", "content": "x"}] * (MAX_MESSAGES_PER_INTERACTION + 1)
    with pytest.raises(ValidationError):
        MemoriesAndInteraction.model_validate({"interaction": messages})


def test_interaction_date_default_is_taken_at_construction() -> None:
    """The original froze datetime.now() at import time; ours is evaluated per instance."""
    first = MemoriesAndInteraction()
    time.sleep(0.002)
    second = MemoriesAndInteraction()
    assert first.interaction_date.tzinfo is not None
    assert second.interaction_date > first.interaction_date
    assert abs(datetime.now(timezone.utc) - second.interaction_date) < timedelta(seconds=5)
    with pytest.raises(ValidationError):
        MemoriesAndInteraction(interaction_date=datetime(2024, 1, 1))


def test_all_memories_keeps_write_order() -> None:
    data = MemoriesAndInteraction(
        memories=[MemoryToStore(memory="new 1"), MemoryToStore(memory="new 2")],
        contrary_memories=[
            ContraryMemoryToStore(memory="contrary", existing_contrary_memory_id=str(uuid.uuid4()))
        ],
    )
    assert [m.memory for m in data.all_memories()] == ["new 1", "new 2", "contrary"]


def test_validate_input_gives_one_readable_error() -> None:
    with pytest.raises(InvalidInputError, match="Invalid write") as info:
        validate_input(MemoriesAndInteraction, {"interaction": "nope"}, what="write")
    assert info.value.__cause__ is None
    same = MemoriesAndInteraction()
    assert validate_input(MemoriesAndInteraction, same, what="write") is same
    with pytest.raises(InvalidInputError):
        validate_input(MemoriesAndInteraction, [1, 2], what="write")


# ---------------------------------------------------------------------- LLM outputs
def test_extraction_passes_tolerate_none_and_extra_fields() -> None:
    response = MemoryExtractionResponse.model_validate(
        {
            "memories_first_pass": [{"memory": "a", "msg_source_ids": [0]}],
            "memories_second_pass": None,
            "memories_third_pass": [{"memory": "c"}],
            "thoughts": "ignored",
        }
    )
    assert [m.memory for m in response.all_memories()] == ["a", "c"]
    assert response.all_memories()[1].msg_source_ids == []
