"""What a save and a recall do with misbehaving model output (scripted model, real stores)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from itertools import count, pairwise
from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage

from memora_engine import Memora
from memora_engine.embeddings import DenseEncoder, SparseEncoder
from memora_engine.errors import LLMResponseInvalidError
from memora_engine.inference import MAX_CALLS_PER_RECALL, max_calls_per_save
from memora_engine.pipeline import OutputGuards
from memora_engine.testing.scripted import ScriptedChatModel
from tests.scripted_provider import ScriptedProvider, extraction

CHAT = [
    {"role": "user", "content": "My wife Sarah is due in December, and I'm allergic to peanuts."},
    {"role": "assistant", "content": "Congratulations! I'll remember the peanut allergy."},
]


@pytest.fixture
async def ids(memora: Memora) -> tuple[str, str, str]:
    org = await memora.create_organization("Acme")
    user = await memora.create_user(org.org_id, "Jake")
    agent = await memora.create_agent(org.org_id, "Jarvis", user.user_id)
    return org.org_id, user.user_id, agent.agent_id


async def _stored(memora: Memora, org: str, user: str) -> list[str]:
    return sorted(m.memory for m in await memora.list_memories(org, user))


async def test_junk_items_are_rejected_counted_and_logged_without_text(
    memora: Memora,
    provider: ScriptedProvider,
    ids: tuple[str, str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """If this fails, check pipeline.review_extraction (the output guards)."""
    org, user, agent = ids
    provider.extractions.append(
        extraction(
            ("#user_#id# is allergic to peanuts", [0]),
            ("1", [0]),  # digits only
            ("...!", [0]),  # punctuation only
            ("#user_#id#'s wife is Sarah", []),  # cites no message
            ("#user_#id# loves jazz music", [7]),  # cites a message that does not exist
            ("#user_#id# is allergic to peanuts!", [1]),  # repeats the first item
        )
    )
    with caplog.at_level(logging.WARNING, logger="memora_engine"):
        await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert await _stored(memora, org, user) == ["Jake is allergic to peanuts"]
    assert "rejected 5 of 6" in caplog.text
    assert "'no_content': 2" in caplog.text
    assert "'no_source': 2" in caplog.text
    assert "peanuts" not in caplog.text
    assert "jazz" not in caplog.text


async def test_numbered_junk_like_a_tiny_model_writes_nothing(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    """The Gemma-270M answer of issue 17: 29 memories "1".."29" citing nothing. Not stored."""
    org, user, agent = ids
    junk = extraction(*[(str(i), []) for i in range(1, 30)])
    provider.extractions.extend([junk, junk])
    with pytest.raises(LLMResponseInvalidError, match="none of the 29 memories"):
        await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert provider.counts["extraction"] == 2  # identical second answer: no third try
    assert await memora.list_interactions(org, user) == []
    assert await memora.vector_db.count(org, user) == 0


async def test_prose_wrapped_json_is_accepted(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    org, user, agent = ids
    provider.extractions.append(
        "Sure! Here is what I found:\n"
        + extraction(("#user_#id# is allergic to peanuts", [0]))
        + "\nI hope this helps."
    )
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert await _stored(memora, org, user) == ["Jake is allergic to peanuts"]
    assert provider.counts["extraction"] == 1


async def test_empty_list_right_after_a_failure_is_not_success(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    """If this fails, check inference.extraction_problem (empty after failure)."""
    org, user, agent = ids
    provider.extractions.extend(
        [
            '{"memories_first_pass": [{"memory": "#user_#id# is allergic',  # cut off
            '{"memories_first_pass": []}',
            extraction(("#user_#id# is allergic to peanuts", [0])),
        ]
    )
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert provider.counts["extraction"] == 3
    assert await _stored(memora, org, user) == ["Jake is allergic to peanuts"]


async def test_empty_lists_after_a_failure_until_the_budget_ends_write_nothing(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    org, user, agent = ids
    provider.extractions.extend(["not json", '{"memories_first_pass": []}', "{}"])
    with pytest.raises(LLMResponseInvalidError, match="empty answer"):
        await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT, max_retries=2)
    assert provider.counts["extraction"] == 3
    assert await memora.list_interactions(org, user) == []


async def test_an_empty_first_answer_is_a_valid_nothing_to_remember(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    org, user, agent = ids
    provider.extractions.append('{"memories_first_pass": []}')
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert provider.counts["extraction"] == 1
    assert len(await memora.list_interactions(org, user)) == 1
    assert await _stored(memora, org, user) == []


@pytest.mark.parametrize("max_retries", [0, 1, 3, 10])
async def test_model_calls_per_save_stay_within_the_bound(
    tmp_path: Path,
    dense_encoder: DenseEncoder,
    sparse_encoder: SparseEncoder,
    max_retries: int,
) -> None:
    """Whatever the model says (here: always different garbage), a save makes at most
    2 + min(max_retries, 3) calls, and writes nothing."""
    serial = count()
    model = ScriptedChatModel(responder=lambda _: f"garbage {next(serial)}")
    async with await Memora.embedded(
        tmp_path / "m",
        extraction_model=model,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    ) as memora:
        org = await memora.create_organization("Acme")
        user = await memora.create_user(org.org_id, "Jake")
        agent = await memora.create_agent(org.org_id, "Jarvis")
        with pytest.raises(LLMResponseInvalidError):
            await memora.save_or_update_interaction_and_memories(
                org.org_id, user.user_id, agent.agent_id, CHAT, max_retries=max_retries
            )
        # The extraction may use all but one call (kept for the comparison).
        assert len(model.calls) == max_calls_per_save(max_retries) - 1
        assert len(model.calls) <= 5
        assert await memora.list_interactions(org.org_id, user.user_id) == []


async def test_valid_extraction_survives_a_failed_comparison(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    """Decision: the candidates are stored as new memories, minus exact repeats of the related
    memories the comparison was about; nothing is linked as a contradiction."""
    org, user, agent = ids
    provider.extractions.append(extraction(("#user_#id# is allergic to peanuts", [0])))
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)

    def broken_comparison(*_: object) -> dict[str, object]:
        return {"new_memories": "no idea"}

    provider.compare = broken_comparison  # type: ignore[assignment]
    provider.extractions.append(
        extraction(
            ("#user_#id# is allergic to peanuts", [0]),  # same as the stored one
            ("#user_#id#'s wife Sarah is due in December", [0]),
        )
    )
    second = [*CHAT, {"role": "user", "content": "Sarah is due on the 12th."}]
    await memora.save_or_update_interaction_and_memories(org, user, agent, second, max_retries=1)
    assert provider.counts["comparison"] == 2  # one corrective retry, then kept extraction
    assert await _stored(memora, org, user) == [
        "Jake is allergic to peanuts",
        "Jake's wife Sarah is due in December",
    ]
    links = await memora.list_memory_links(org, user)
    assert links == []


async def test_retries_keep_strict_alternation_and_do_not_paste_the_payload(
    tmp_path: Path, dense_encoder: DenseEncoder, sparse_encoder: SparseEncoder
) -> None:
    """A conversation that starts with the assistant and has two user turns in a row still
    reaches the model as system, user, assistant, user, ... ending with a user turn."""
    answers = iter(["x" * 300 + " not json", extraction(("#user_#id# has a dog named Rex", [1]))])
    seen: list[list[BaseMessage]] = []

    def respond(messages: Sequence[BaseMessage]) -> str:
        seen.append(list(messages))
        return next(answers)

    model = ScriptedChatModel(responder=respond)
    async with await Memora.embedded(
        tmp_path / "m",
        extraction_model=model,
        dense_encoder=dense_encoder,
        sparse_encoder=sparse_encoder,
    ) as memora:
        org = await memora.create_organization("Acme")
        user = await memora.create_user(org.org_id, "Jake")
        agent = await memora.create_agent(org.org_id, "Jarvis")
        chat = [
            {"role": "assistant", "content": "Hi! How can I help?"},
            {"role": "user", "content": "I have a dog."},
            {"role": "user", "content": "His name is Rex."},
            {"role": "assistant", "content": "Lovely name."},
        ]
        await memora.save_or_update_interaction_and_memories(
            org.org_id, user.user_id, agent.agent_id, chat
        )
    assert len(seen) == 2
    for call in seen:
        kinds = [m.type for m in call]
        assert kinds[0] == "system"
        assert kinds[-1] == "human"
        body = kinds[1:]
        assert all(a != b for a, b in pairwise(body)), kinds
    assert "x" * 300 not in str(seen[1])  # the invalid answer is not pasted back
    assert len(str(seen[1][-1].content)) < len(str(seen[0][-1].content)) + 400


async def test_recall_accepts_a_plain_list_and_stays_within_its_bound(
    memora: Memora,
    provider: ScriptedProvider,
    ids: tuple[str, str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    org, user, agent = ids
    provider.extractions.append(extraction(("#user_#id# is allergic to peanuts", [0])))
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    calls_before = memora.memory_search_model.usage.calls  # type: ignore[union-attr]
    provider.queries.append(json.dumps(["food allergies", "peanuts"]))
    with caplog.at_level(logging.INFO, logger="memora_engine"):
        memories, _ = await memora.recall_memories_for_message(org, user, "What can't I eat?")
    assert "parsed as json" in caplog.text
    assert [m.memory for m in memories] == ["Jake is allergic to peanuts"]
    provider.queries.append("Here are some queries:\n1. peanut allergy\n2. food")
    assert await memora.generate_memory_search_queries("What can't I eat?") == [
        "peanut allergy",
        "food",
    ]
    used = memora.memory_search_model.usage.calls - calls_before  # type: ignore[union-attr]
    assert used == 2  # one call per recall / query generation, never retried
    assert used <= 2 * MAX_CALLS_PER_RECALL


async def test_output_guards_are_configurable(
    memora: Memora, provider: ScriptedProvider, ids: tuple[str, str, str]
) -> None:
    org, user, agent = ids
    memora.output_guards = OutputGuards(min_content_chars=30)
    provider.extractions.append(
        extraction(
            ("#user_#id# likes tea", [0]),
            ("#user_#id# is allergic to peanuts and tree nuts", [0]),
        )
    )
    await memora.save_or_update_interaction_and_memories(org, user, agent, CHAT)
    assert await _stored(memora, org, user) == ["Jake is allergic to peanuts and tree nuts"]
