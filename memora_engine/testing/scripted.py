"""A scripted LangChain chat model: the one test double Memora's tests use, standing in for a
paid LLM API. Everything behind it (parsing, validation, retries, storage) runs for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import PydanticOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from pydantic import BaseModel, Field, PrivateAttr

__all__ = ["ScriptedChatModel", "ScriptedJsonSchemaChatModel"]

Responder = Callable[[Sequence[BaseMessage]], str]

#: Where the scripted model reports token usage, like the different providers do.
UsageReport = Literal["usage_metadata", "response_metadata", "llm_output", "none"]


class ScriptedChatModel(BaseChatModel):
    """Answers with scripted text: the next item of ``responses``, or ``responder(messages)``.

    Every call's input is recorded in ``calls`` (its extra request arguments in
    ``call_kwargs``); ``latency_s`` simulates provider latency. ``max_tokens`` cuts answers
    at that many tokens (4 characters each) with finish reason ``length``, as a provider does;
    ``usage_report`` says where token usage is reported. It has no tool calling, so Memora asks
    it for JSON through the prompt (as with a model whose provider has no JSON mode).

    Examples:
        >>> model = ScriptedChatModel(responses=['{"memories_first_pass": []}'])
        >>> model.invoke("hi").content
        '{"memories_first_pass": []}'
    """

    responses: list[str] = Field(default_factory=list)
    responder: Responder | None = None
    latency_s: float = 0.0
    max_tokens: int | None = None
    usage_report: UsageReport = "usage_metadata"
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _call_kwargs: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _next: int = PrivateAttr(default=0)

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """The messages of every call so far, in order."""
        return self._calls

    @property
    def call_kwargs(self) -> list[dict[str, Any]]:
        """The extra request arguments of every call (e.g. ``response_format``), in order."""
        return self._call_kwargs

    @property
    def _llm_type(self) -> str:
        return "memora-scripted"

    def _answer(self, messages: list[BaseMessage]) -> str:
        self._calls.append(list(messages))
        if self.responder is not None:
            return self.responder(messages)
        if self._next >= len(self.responses):
            raise RuntimeError(
                f"ScriptedChatModel ran out of responses after {len(self.responses)} calls."
            )
        text = self.responses[self._next]
        self._next += 1
        return text

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency_s:
            time.sleep(self.latency_s)
        self._call_kwargs.append(dict(kwargs))
        text = self._answer(messages)
        finish = "stop"
        if self.max_tokens is not None and len(text) > 4 * self.max_tokens:
            text, finish = text[: 4 * self.max_tokens], "length"
        prompt_tokens = sum(len(str(m.content)) for m in messages) // 4
        output_tokens = len(text) // 4
        usage = {
            "input_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
        }
        openai_usage = {"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens}
        metadata: dict[str, Any] = {"finish_reason": finish}
        if self.usage_report == "response_metadata":
            metadata["token_usage"] = openai_usage
        message = AIMessage(
            content=text,
            usage_metadata=usage if self.usage_report == "usage_metadata" else None,
            response_metadata=metadata,
        )
        llm_output = {"token_usage": openai_usage} if self.usage_report == "llm_output" else None
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output=llm_output)


class ScriptedJsonSchemaChatModel(ScriptedChatModel):
    """A scripted model whose "provider" takes a JSON schema or JSON mode (``response_format``).

    ``with_structured_output(schema, method="json_schema" | "json_mode")`` sends the request
    argument an OpenAI-compatible server gets (recorded in ``call_kwargs``) and parses the
    scripted answer, the way LangChain's provider classes do.
    """

    def with_structured_output(  # type: ignore[override]
        self,
        schema: type[BaseModel],
        *,
        method: Literal["json_schema", "json_mode"] = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        if method == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
            }
        else:
            response_format = {"type": "json_object"}
        bound = self.bind(response_format=response_format)
        parser = PydanticOutputParser(pydantic_object=schema)
        if not include_raw:
            return bound | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        failed = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=bound) | parsed.with_fallbacks(
            [failed], exception_key="parsing_error"
        )
