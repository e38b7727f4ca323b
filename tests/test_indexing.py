"""Context-aware index text of raw turns and the write rule that assigns it (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

from memora_engine.graph_db.write_plan import Names, plan_memories
from memora_engine.indexing import MAX_CONTEXT_CHARS, context_index_text, raw_turn_index_text
from memora_engine.schema.storage import MemoriesAndInteraction, MemoryToStore

WHEN = datetime(2023, 7, 3, 18, 0, tzinfo=timezone.utc)


def test_turn_with_previous_message_date_and_speakers() -> None:
    text = context_index_text(
        " December 15th. ", speaker="Maria", previous=("John", "When is the run?"), when=WHEN
    )
    assert text == "[3 July 2023] John: When is the run?\nMaria: December 15th."


def test_parts_are_optional() -> None:
    assert context_index_text("Hi") == "Hi"
    assert context_index_text("Hi", previous=(None, "Hello")) == "Hello\nHi"
    assert context_index_text("Hi", previous=("user", "  ")) == "Hi"
    assert context_index_text("Hi", when=WHEN) == "[3 July 2023] Hi"


def test_long_previous_message_keeps_its_end() -> None:
    previous = "x" * 5000 + " so when is it?"
    text = context_index_text("Friday.", speaker="ai", previous=("user", previous))
    first = text.split("\n")[0]
    assert first.endswith("so when is it?")
    assert len(first) == len("user: ") + MAX_CONTEXT_CHARS


# ---------------------------------------------------------------------- the write rule
MSGS = [("user", "When is the run?"), ("assistant", "December 15th."), ("user", "Thanks!")]


def test_rule_gives_a_verbatim_single_source_turn_its_context() -> None:
    text = raw_turn_index_text("December 15th.", [1], MSGS, WHEN)
    assert text == "[3 July 2023] user: When is the run?\nassistant: December 15th."
    # The first message has no previous one; spaces at the ends do not matter.
    assert raw_turn_index_text(" When is the run? ", [0], MSGS, None) == "user: When is the run?"


def test_rule_leaves_other_memories_without_index_text() -> None:
    assert raw_turn_index_text("The run is on December 15th.", [1], MSGS, WHEN) is None
    assert raw_turn_index_text("December 15th.", [0, 1], MSGS, WHEN) is None
    assert raw_turn_index_text("December 15th.", [], MSGS, WHEN) is None
    assert raw_turn_index_text("December 15th.", [7], MSGS, WHEN) is None
    assert raw_turn_index_text("  ", [1], [("user", "a"), ("ai", "  ")], WHEN) is None


def test_write_plan_sets_index_text_of_raw_turns_only() -> None:
    data = MemoriesAndInteraction(
        interaction=[{"role": r, "content": c} for r, c in MSGS],
        interaction_date=WHEN,
        memories=[
            MemoryToStore(memory="December 15th.", source_msg_block_pos=[1]),
            MemoryToStore(memory="The run is on December 15th", source_msg_block_pos=[0, 1]),
        ],
    )
    raw, extracted = plan_memories(data, "agent")
    assert raw.index_text == "[3 July 2023] user: When is the run?\nassistant: December 15th."
    assert extracted.index_text is None
    names = Names(users={}, agents={})
    assert raw.to_memory("o", "u", "i", names).index_text == raw.index_text
