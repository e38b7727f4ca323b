"""Context-aware index text of raw turns (pure)."""

from __future__ import annotations

from datetime import datetime, timezone

from memora_engine.indexing import MAX_CONTEXT_CHARS, context_index_text

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
