"""Prompt builders and parsers (pure)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from memora_engine.prompts import (
    Prompts,
    build_comparison_messages,
    build_extraction_messages,
    build_filter_messages,
    build_query_generation_messages,
    parse_angle_items,
)
from memora_engine.schema import Memory

NOW = datetime(2024, 12, 6, 9, 30, tzinfo=timezone.utc)  # a Friday


def test_extraction_wraps_every_message_with_its_block_id_and_states_the_date() -> None:
    out = build_extraction_messages(
        Prompts(),
        messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        user_name="Jake",
        agent_label="Jarvis",
        now=NOW,
        extract_agent_memories=False,
    )
    assert out[0]["role"] == "system"
    assert "Friday" in out[0]["content"]
    assert "2024-12-06" in out[0]["content"]
    assert "#user_#id#" in out[0]["content"]
    assert "memories_first_pass" in out[0]["content"]
    assert "about the assistant" not in out[0]["content"]
    # A conversation ending with the assistant gets a last user turn asking for the JSON.
    assert [m["role"] for m in out[1:]] == ["user", "assistant", "user"]
    assert out[1]["content"].startswith("MESSAGE BLOCK ID: 0")
    assert out[1]["content"].endswith("hi")
    assert out[2]["content"].startswith("MESSAGE BLOCK ID: 1")
    assert out[3]["content"] == Prompts().extraction_final_turn


def test_extraction_update_lists_previous_memories_and_agent_flag() -> None:
    previous = [{"memory": "Jake likes tea", "obtained_at": "2024-12-01"}]
    out = build_extraction_messages(
        Prompts(),
        messages=[{"role": "user", "content": "x"}],
        user_name="Jake",
        agent_label="Jarvis",
        now=NOW,
        extract_agent_memories=True,
        previous_memories=previous,
    )
    assert "Jake likes tea" in out[0]["content"]
    assert "ONLY what is new" in out[0]["content"]
    assert "about the assistant (Jarvis)" in out[0]["content"]


def test_comparison_shows_ids_and_numbered_candidates() -> None:
    stored = Memory(
        org_id="o",
        user_id="u",
        agent_id="a",
        memory_id="11111111-1111-4111-8111-111111111111",
        memory="Jake lives in Paris",
        obtained_at=NOW,
    )
    out = build_comparison_messages(
        Prompts(),
        existing=[stored],
        candidates=["user_u lives in Rome"],
        user_id="u",
        agent_id="a",
        now=NOW,
    )
    assert "user_u" in out[0]["content"]
    assert "agent_a" in out[0]["content"]
    body = out[1]["content"]
    assert "11111111-1111-4111-8111-111111111111" in body
    candidates_json = body.split("NEW CANDIDATE MEMORIES:", 1)[1]
    assert json.loads(candidates_json) == [{"POS_ID": 0, "memory": "user_u lives in Rome"}]


def test_query_generation_and_filter_messages() -> None:
    q = build_query_generation_messages(
        Prompts(), message="Sarah is in pain", preceding_messages=[], now=NOW
    )
    assert "(none)" in q[1]["content"]
    assert "Sarah is in pain" in q[1]["content"]
    f = build_filter_messages(Prompts(), message="m", queries=["q1", "q2"], memories=[], now=NOW)
    assert "- q1\n- q2" in f[0]["content"]
    assert f[1]["content"] == "[]"


def test_prompts_are_overridable_without_mutating_the_default() -> None:
    custom = Prompts().model_copy(update={"query_generation_system": "CUSTOM"})
    out = build_query_generation_messages(custom, message="x", preceding_messages=[], now=NOW)
    assert out[0]["content"] == "CUSTOM"
    assert Prompts().query_generation_system != "CUSTOM"


def test_parse_angle_items() -> None:
    text = "&& header\n<< wife >>\n<<due date>>\n<<   >>\n<< wife >>\n<<multi\nline>>"
    assert parse_angle_items(text) == ["wife", "due date", "multi\nline"]
    assert parse_angle_items("no brackets") == []
