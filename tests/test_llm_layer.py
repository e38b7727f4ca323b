"""Memora's LLM layer over LangChain chat models (scripted model at the provider boundary)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from langchain_core.messages import BaseMessage

from memora_engine.errors import (
    ConfigurationError,
    InvalidInputError,
    LLMResponseInvalidError,
    LLMUnavailableError,
)
from memora_engine.llm import ChatModelLLM, as_backend_llm, llm_from_environment, parse_json_output
from memora_engine.schema import MemoryExtractionResponse
from memora_engine.testing.scripted import ScriptedChatModel

MESSAGES = [{"role": "system", "content": "extract"}, {"role": "user", "content": "hi"}]
VALID = '{"memories_first_pass": [{"memory": "#user_#id# says hi", "msg_source_ids": [0]}]}'


async def test_text_call_returns_text_and_counts_usage() -> None:
    llm = ChatModelLLM(ScriptedChatModel(responses=["hello there"]))
    assert await llm(MESSAGES) == "hello there"
    assert llm.usage.calls == 1
    assert llm.usage.input_tokens > 0


async def test_json_mode_accepts_fenced_json_and_instructs_the_model() -> None:
    model = ScriptedChatModel(responses=[f"Sure!\n```json\n{VALID}\n```"])
    result = await ChatModelLLM(model)(MESSAGES, MemoryExtractionResponse)
    assert result.all_memories()[0].memory == "#user_#id# says hi"
    assert "single JSON object" in str(model.calls[0][0].content)


async def test_invalid_output_is_retried_with_the_error_then_succeeds() -> None:
    model = ScriptedChatModel(responses=['{"memories_first_pass": "oops"}', VALID])
    result = await ChatModelLLM(model, max_invalid_retries=1)(MESSAGES, MemoryExtractionResponse)
    assert len(result.all_memories()) == 1
    assert len(model.calls) == 2
    retry = model.calls[1]
    correction = str(retry[-1].content)
    assert "could not be used" in correction
    assert "memories_first_pass" in correction
    assert '"oops"' not in correction  # the invalid payload is not pasted back
    assert [m.type for m in retry] == ["system", "human"]  # alternation kept, no echo turn


async def test_invalid_output_after_retries_raises() -> None:
    model = ScriptedChatModel(responses=["no json", "still none", "nope"])
    with pytest.raises(LLMResponseInvalidError, match=r"after 3 attempt"):
        await ChatModelLLM(model, max_invalid_retries=2)(MESSAGES, MemoryExtractionResponse)
    assert len(model.calls) == 3


async def test_provider_failure_becomes_llm_unavailable() -> None:
    def broken(_: Sequence[BaseMessage]) -> str:
        raise ConnectionError("network down")

    with pytest.raises(LLMUnavailableError, match="network down"):
        await ChatModelLLM(ScriptedChatModel(responder=broken))(MESSAGES)


def test_parse_json_output_reports_why() -> None:
    with pytest.raises(ValueError, match="memories_first_pass"):
        parse_json_output('{"memories_first_pass": 3}', MemoryExtractionResponse)
    with pytest.raises(ValueError, match=r"no JSON object|invalid JSON"):
        parse_json_output("", MemoryExtractionResponse)


def test_as_backend_llm_accepts_models_and_rejects_other_types() -> None:
    chat = ScriptedChatModel(responses=[])
    wrapped = as_backend_llm(chat)
    assert isinstance(wrapped, ChatModelLLM)
    assert wrapped.chat_model is chat
    assert as_backend_llm(wrapped) is wrapped
    assert as_backend_llm(None) is None
    with pytest.raises(InvalidInputError):
        as_backend_llm(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ChatModelLLM("not a model")  # type: ignore[arg-type]


def test_model_string_for_an_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        as_backend_llm("no-such-provider:some-model")


def test_environment_without_provider_gives_none() -> None:
    assert llm_from_environment({}) is None
    assert llm_from_environment({"AZURE_OPENAI_API_KEY": "k"}) is None  # incomplete Azure set


@pytest.mark.parametrize(
    ("env", "chat_class", "mode"),
    [
        ({"OPENAI_API_KEY": "sk-test"}, "ChatOpenAI", "json_schema"),
        ({"GROQ_API_KEY": "gsk-test"}, "ChatGroq", "json_mode"),
        ({"TOGETHER_API_KEY": "tg-test"}, "ChatTogether", "json_mode"),
        (
            {
                "AZURE_OPENAI_API_KEY": "az-test",
                "AZURE_OPENAI_ENDPOINT": "https://example.invalid",
                "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-mini",
                "OPENAI_API_VERSION": "2024-10-21",
            },
            "AzureChatOpenAI",
            "json_schema",
        ),
    ],
)
def test_environment_picks_the_provider_class(
    env: dict[str, str], chat_class: str, mode: str
) -> None:
    """Provider classes are built on their LangChain packages (no network at construction)."""
    llm = llm_from_environment(env)
    assert isinstance(llm, ChatModelLLM)
    assert type(llm.chat_model).__name__ == chat_class
    assert llm.structured_output_method == mode  # JSON through the provider
    assert llm.describe()["structured_output"] == mode
    assert "test" not in repr(llm.get_model_kwargs)  # no secrets in the model settings
