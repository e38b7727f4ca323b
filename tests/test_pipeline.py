"""Pure decisions of the save / search / recall flows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from memora_engine import pipeline
from memora_engine.schema import Memory, MemoryComparisonResponse, MemoryExtractionResponse
from memora_engine.schema.storage import MessageIn

NOW = datetime(2024, 12, 1, 10, 0, tzinfo=timezone.utc)


def _memory(memory_id: str, text: str = "t", user: str = "u1") -> Memory:
    return Memory(
        org_id="o1", user_id=user, agent_id="a1", memory_id=memory_id, memory=text, obtained_at=NOW
    )


def test_candidates_replace_tokens_drop_bad_positions_and_repeats() -> None:
    response = MemoryExtractionResponse.model_validate(
        {
            "memories_first_pass": [
                {"memory": "#user_#id# is allergic to peanuts", "msg_source_ids": [0, 7, -1]},
                {"memory": "  ", "msg_source_ids": [0]},
            ],
            "memories_second_pass": [
                {"memory": "#user_#id# is allergic to peanuts", "msg_source_ids": [1]},
                {"memory": "#agent_#id# reminded #user_#id#", "msg_source_ids": [1, 1]},
            ],
            "memories_third_pass": None,
        }
    )
    got = pipeline.candidates_from_extraction(response, user_id="U", agent_id="A", message_count=2)
    assert got == [
        pipeline.Candidate("user_U is allergic to peanuts", (0,)),
        pipeline.Candidate("agent_A reminded user_U", (1,)),
    ]


def test_comparison_maps_sources_and_rejects_unknown_ids_and_positions() -> None:
    candidates = [pipeline.Candidate("c0", (0,)), pipeline.Candidate("c1", (1, 2))]
    shown = {"11111111-1111-4111-8111-111111111111"}
    response = MemoryComparisonResponse.model_validate(
        {
            "new_memories": [
                {"memory": "#user_#id# bought a new bike", "source_candidate_pos_id": 0},
                {"memory": "out of range", "source_candidate_pos_id": 5},
                {"memory": "negative", "source_candidate_pos_id": -1},
            ],
            "contrary_memories": [
                {
                    "memory": "c1 updated",
                    "source_candidate_pos_id": 1,
                    "contradicted_memory_id": "11111111-1111-4111-8111-111111111111",
                },
                {
                    "memory": "hallucinated link",
                    "source_candidate_pos_id": 0,
                    "contradicted_memory_id": "22222222-2222-4222-8222-222222222222",
                },
            ],
        }
    )
    new, contrary = pipeline.plan_from_comparison(
        response, candidates, shown_memory_ids=shown, user_id="U", agent_id="A"
    )
    assert [(m.memory, m.source_msg_block_pos) for m in new] == [
        ("hallucinated link", [0]),
        ("user_U bought a new bike", [0]),
    ]
    assert len(contrary) == 1
    assert contrary[0].memory == "c1 updated"
    assert contrary[0].source_msg_block_pos == [1, 2]
    assert contrary[0].existing_contrary_memory_id == "11111111-1111-4111-8111-111111111111"


def test_rank_hits_keeps_best_score_per_id_and_filters() -> None:
    a, b, c = _memory("a"), _memory("b"), _memory("c")
    ranked = pipeline.rank_hits([[(a, 0.2), (b, 0.9)], [(a, 0.95), (c, 0.5)]], frozenset({"c"}))
    assert [(h.memory_id, h.score) for h in ranked] == [("a", 0.95), ("b", 0.9)]
    assert ranked[0].ref() == {"memory_id": "a", "org_id": "o1", "user_id": "u1"}


def test_rank_hits_empty() -> None:
    assert pipeline.rank_hits([[], []]) == []


def test_raw_memories_skip_system_tool_and_blank() -> None:
    messages = [
        MessageIn(role="system", content="be nice"),
        MessageIn(role="user", content="I'm allergic to peanuts"),
        MessageIn(role="assistant", content="  "),
        MessageIn(role="tool", content="{}"),
        MessageIn(role="assistant", content="Noted!"),
    ]
    got = pipeline.raw_memories(messages, range(len(messages)))
    assert [(m.memory, m.source_msg_block_pos) for m in got] == [
        ("I'm allergic to peanuts", [1]),
        ("Noted!", [4]),
    ]
    assert pipeline.raw_memories(messages, range(4, 5))[0].memory == "Noted!"


@pytest.mark.parametrize(
    ("chosen", "expected"), [({"b", "a"}, ["a", "b"]), (set(), []), ({"zzz"}, [])]
)
def test_keep_chosen_preserves_relevance_order(chosen: set[str], expected: list[str]) -> None:
    memories = [_memory("a"), _memory("b"), _memory("c")]
    assert [m.memory_id for m in pipeline.keep_chosen(memories, chosen)] == expected


def test_guards_reject_items_without_content_or_source_and_repeats() -> None:
    """If this fails, check pipeline.review_extraction / has_content (the output guards)."""
    response = MemoryExtractionResponse.model_validate(
        {
            "memories_first_pass": [
                {"memory": "#user_#id# is allergic to peanuts", "msg_source_ids": [0]},
                {"memory": "29", "msg_source_ids": [0]},
                {"memory": "#user_#id#", "msg_source_ids": [0]},
                {"memory": "#user_#id# lives in Lisbon", "msg_source_ids": [5]},
                {"memory": "#user_#id# is Allergic to peanuts.", "msg_source_ids": [1]},
            ]
        }
    )
    review = pipeline.review_extraction(response, user_id="U", agent_id="A", message_count=2)
    assert review.candidates == [pipeline.Candidate("user_U is allergic to peanuts", (0,))]
    assert review.proposed == 5
    assert review.rejected == {"no_content": 2, "no_source": 1, "repeat": 1}
    assert review.rejected_total == 4
    lenient = pipeline.OutputGuards(require_sources=False)
    kept = pipeline.review_extraction(
        response, user_id="U", agent_id="A", message_count=2, guards=lenient
    )
    assert pipeline.Candidate("user_U lives in Lisbon", ()) in kept.candidates


def test_extraction_problem_decides_retry() -> None:
    from memora_engine.inference import extraction_problem, max_calls_per_save

    nothing = pipeline.ExtractionReview(candidates=[], proposed=0)
    assert extraction_problem(nothing, after_failure=False) is None
    assert "empty answer" in (extraction_problem(nothing, after_failure=True) or "")
    junk = pipeline.ExtractionReview(candidates=[], proposed=3, rejected={"no_content": 3})
    assert "none of the 3" in (extraction_problem(junk, after_failure=False) or "")
    assert [max_calls_per_save(r) for r in (0, 1, 3, 99)] == [2, 3, 5, 5]
