"""Pure output helpers and the LLM wrapper's provider modes (scripted model at the boundary)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage

from memora_engine.errors import LLMResponseInvalidError
from memora_engine.llm import ChatModelLLM
from memora_engine.llm.output import (
    is_truncated,
    normalize_turns,
    parse_json_output,
    usage_from_metadata,
    with_correction,
)
from memora_engine.llm.retry import CallBudget, generate_validated
from memora_engine.prompts import parse_query_list
from memora_engine.schema import MemoryExtractionResponse
from memora_engine.schema.extraction import MAX_ITEMS_PER_LIST
from memora_engine.testing.scripted import ScriptedChatModel, ScriptedJsonSchemaChatModel
from memora_engine.tracing import run_config_scope

MESSAGES = [{"role": "system", "content": "extract"}, {"role": "user", "content": "hi"}]
VALID = '{"memories_first_pass": [{"memory": "#user_#id# says hi", "msg_source_ids": [0]}]}'


# ---------------------------------------------------------------- pure helpers
def test_parse_accepts_prose_and_fences_and_rejects_a_cut_off_object() -> None:
    """If this fails, check parse_json_output (langchain-core's parse_json_markdown, strict)."""
    wrapped = f"Here are the memories you asked for:\n{VALID}\nLet me know if you need more."
    assert len(parse_json_output(wrapped, MemoryExtractionResponse).all_memories()) == 1
    fenced = f"```json\n{VALID}\n```"
    assert len(parse_json_output(fenced, MemoryExtractionResponse).all_memories()) == 1
    with pytest.raises(ValueError, match="invalid JSON"):
        parse_json_output(VALID[:-12], MemoryExtractionResponse)  # never "completed"


def test_schema_caps_list_length_and_item_size() -> None:
    looping = {
        "memories_first_pass": [
            {"memory": f"fact {i}", "msg_source_ids": [0]} for i in range(MAX_ITEMS_PER_LIST + 1)
        ]
    }
    with pytest.raises(ValueError, match="memories_first_pass"):
        parse_json_output(str(looping).replace("'", '"'), MemoryExtractionResponse)
    huge = '{"memories_first_pass": [{"memory": "' + "x" * 600 + '", "msg_source_ids": [0]}]}'
    with pytest.raises(ValueError, match="memory"):
        parse_json_output(huge, MemoryExtractionResponse)


@pytest.mark.parametrize(
    ("metadata", "output_tokens", "limit", "expected"),
    [
        ({"finish_reason": "length"}, None, None, True),
        ({"stop_reason": "max_tokens"}, None, None, True),
        ({"done_reason": "length"}, None, None, True),
        ({"finish_reason": "stop"}, 512, 512, True),
        ({"finish_reason": "stop"}, 100, 512, False),
        ({}, None, None, False),
    ],
)
def test_truncation_is_recognised(
    metadata: dict[str, str], output_tokens: int | None, limit: int | None, expected: bool
) -> None:
    assert is_truncated(metadata, output_tokens, limit) is expected


def test_usage_is_read_wherever_the_provider_put_it() -> None:
    assert usage_from_metadata({"input_tokens": 5, "output_tokens": 2}, None) is not None
    openai = {"token_usage": {"prompt_tokens": 9, "completion_tokens": 3}}
    assert usage_from_metadata(None, openai).input_tokens == 9  # type: ignore[union-attr]
    anthropic = {"usage": {"input_tokens": 4, "output_tokens": 1}}
    assert usage_from_metadata(None, anthropic).output_tokens == 1  # type: ignore[union-attr]
    ollama = {"prompt_eval_count": 7, "eval_count": 6}
    assert usage_from_metadata(None, ollama).output_tokens == 6  # type: ignore[union-attr]
    assert usage_from_metadata(None, {}, openai).input_tokens == 9  # type: ignore[union-attr]
    assert usage_from_metadata(None, {"finish_reason": "stop"}) is None


def test_turns_alternate_strictly() -> None:
    """If this fails, strict chat templates (Gemma, Mistral) reject Memora's prompts."""
    turns = normalize_turns(
        [
            {"role": "system", "content": "s"},
            {"role": "assistant", "content": "a0"},
            {"role": "user", "content": "u1"},
            {"role": "user", "content": "u2"},
            {"role": "tool", "content": "t"},
            {"role": "assistant", "content": "a1"},
        ]
    )
    roles = [t["role"] for t in turns]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "u1\n\nu2\n\n[tool] t" in turns[3]["content"]
    corrected = with_correction(turns, "fix it")
    assert [t["role"] for t in corrected] == roles  # the note joins the last user turn


def test_query_list_fallbacks() -> None:
    assert parse_query_list("<< wife >>\n<< due date >>") == (["wife", "due date"], "angle")
    assert parse_query_list('```json\n["wife", "due date"]\n```') == (
        ["wife", "due date"],
        "json",
    )
    assert parse_query_list('{"queries": ["allergies"]}') == (["allergies"], "json")
    assert parse_query_list("Search queries:\n- wife Sarah\n2. due date\n") == (
        ["wife Sarah", "due date"],
        "lines",
    )
    assert parse_query_list("  \n") == ([], "none")


# ---------------------------------------------------------------- the wrapper
async def test_truncated_answer_is_invalid_and_retried_with_a_short_note() -> None:
    answers = [VALID * 3, VALID]  # the first is cut off at 30 tokens by the "provider"
    model = ScriptedChatModel(responses=answers, max_tokens=30)
    llm = ChatModelLLM(model, max_invalid_retries=1)
    result = await llm(MESSAGES, MemoryExtractionResponse)
    assert len(result.all_memories()) == 1
    note = str(model.calls[1][-1].content)
    assert "cut off" in note
    assert len(str(model.calls[1][-1].content)) < len("hi") + 400  # no payload pasted back


async def test_truncation_without_a_finish_reason_uses_the_token_limit() -> None:
    """The model filled exactly its max_tokens: treated as cut off."""
    model = ScriptedChatModel(responses=[VALID], max_tokens=len(VALID) // 4)
    llm = ChatModelLLM(model, max_invalid_retries=0)
    with pytest.raises(LLMResponseInvalidError, match="cut off"):
        await llm(MESSAGES, MemoryExtractionResponse)


async def test_identical_invalid_answers_stop_the_retries() -> None:
    """A deterministic model repeating its failure is not asked again and again."""
    model = ScriptedChatModel(responder=lambda _: "I cannot do that.")
    llm = ChatModelLLM(model, max_invalid_retries=5)
    with pytest.raises(LLMResponseInvalidError):
        await llm(MESSAGES, MemoryExtractionResponse)
    assert len(model.calls) == 2
    assert str(model.calls[0][-1].content) != str(model.calls[1][-1].content)


async def test_budget_is_a_hard_cap_and_reserve_is_kept() -> None:
    counter = iter(range(100))
    model = ScriptedChatModel(responder=lambda _: f"no json {next(counter)}")
    budget = CallBudget(4)
    with pytest.raises(LLMResponseInvalidError):
        await generate_validated(
            ChatModelLLM(model), MESSAGES, MemoryExtractionResponse, budget=budget, reserve=1
        )
    assert len(model.calls) == 3
    assert budget.remaining == 1


@pytest.mark.parametrize(
    ("report", "estimated"),
    [
        ("usage_metadata", False),
        ("response_metadata", False),
        ("llm_output", False),
        ("none", True),
    ],
)
async def test_usage_marked_estimated_only_when_nothing_was_reported(
    report: str, estimated: bool
) -> None:
    model = ScriptedChatModel(responses=["hello there", VALID], usage_report=report)  # type: ignore[arg-type]
    llm = ChatModelLLM(model)
    await llm(MESSAGES)
    await llm(MESSAGES, MemoryExtractionResponse)
    assert llm.usage.calls == 2
    assert llm.usage.input_tokens > 0
    assert llm.usage.estimated_tokens is estimated


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
async def test_json_goes_through_the_provider_when_it_offers_it(method: str) -> None:
    """If this fails, check resolve_structured_method / ChatModelLLM._provider_attempt."""
    model = ScriptedJsonSchemaChatModel(responses=["not json at all", VALID])
    requested = "auto" if method == "json_schema" else method
    llm = ChatModelLLM(model, structured_output=requested, max_invalid_retries=1)  # type: ignore[arg-type]
    assert llm.structured_output_method == method
    assert llm.describe()["structured_output"] == method
    result = await llm(MESSAGES, MemoryExtractionResponse)
    assert len(result.all_memories()) == 1
    sent = model.call_kwargs[0]["response_format"]
    assert sent["type"] == ("json_schema" if method == "json_schema" else "json_object")
    if method == "json_schema":
        assert "memories_first_pass" in str(sent["json_schema"]["schema"])
    assert "single JSON object" not in str(model.calls[0][0].content)  # no prompt-only hint


def test_prompt_only_json_is_the_last_resort() -> None:
    llm = ChatModelLLM(ScriptedChatModel())
    assert llm.structured_output_method == "prompt"
    assert ChatModelLLM(ScriptedChatModel(), structured_output="json").structured_output_method == (
        "prompt"
    )


async def test_tracing_config_reaches_every_call_and_usage_capture_keeps_it() -> None:
    class Recorder(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tags: list[list[str]] = []

        def on_chat_model_start(
            self, serialized: object, messages: Sequence[Sequence[BaseMessage]], **kw: object
        ) -> None:
            self.tags.append(list(kw.get("tags") or []))  # type: ignore[call-overload]

    recorder = Recorder()
    model = ScriptedJsonSchemaChatModel(responses=["oops", VALID, "plain"])
    llm = ChatModelLLM(model, max_invalid_retries=1)
    with run_config_scope({"callbacks": [recorder], "tags": ["memora-test"]}):
        await llm(MESSAGES, MemoryExtractionResponse)
        await llm(MESSAGES)
    assert len(recorder.tags) == 3
    assert all("memora-test" in tags for tags in recorder.tags)


async def test_rejections_are_logged_without_text(caplog: pytest.LogCaptureFixture) -> None:
    secret = "my secret diagnosis"
    model = ScriptedChatModel(responses=[f"{secret} {{", VALID])
    with caplog.at_level(logging.WARNING):
        await ChatModelLLM(model, max_invalid_retries=1)(MESSAGES, MemoryExtractionResponse)
    assert "rejected" in caplog.text
    assert secret not in caplog.text
