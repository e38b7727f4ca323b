"""Memora's LLM layer over any LangChain chat model (``BaseChatModel``)."""

from __future__ import annotations

import logging
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables.config import RunnableConfig, merge_configs
from pydantic import BaseModel, ValidationError

from memora_engine.errors import InvalidInputError, LLMUnavailableError
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.output import (
    describe_validation_error,
    is_truncated,
    normalize_turns,
    parse_json_output,
    usage_from_metadata,
)
from memora_engine.llm.retry import CallBudget, StructuredAttempt, generate_validated
from memora_engine.tracing import current_run_config

__all__ = [
    "ChatModelLLM",
    "StructuredOutputMode",
    "resolve_structured_method",
    "to_langchain_messages",
]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: How structured output is requested. ``auto`` picks the strongest the model's LangChain class
#: exposes: ``json_schema`` (the provider constrains the answer to the schema), then
#: ``function_calling`` (a forced tool call), then ``json_mode`` (the provider guarantees JSON),
#: then ``native`` (the class's own ``with_structured_output``), then ``prompt`` (instructions
#: only, validated afterwards). ``json`` is the older name of ``prompt``.
StructuredOutputMode = Literal[
    "auto", "json_schema", "function_calling", "json_mode", "native", "prompt", "json"
]

_PREFERENCE = ("json_schema", "function_calling", "json_mode")

_JSON_INSTRUCTION = (
    "\n\nReply with a single JSON object that validates against the schema above. "
    "No prose, no code fences."
)

_TRUNCATED = (
    "the answer was cut off at the output-token limit; give fewer and shorter items "
    "so the whole JSON object fits"
)

#: Attributes LangChain chat classes use for the output-token limit.
_MAX_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens", "num_predict", "max_output_tokens")


def to_langchain_messages(messages: Sequence[Mapping[str, str]]) -> list[BaseMessage]:
    """Convert ``{"role", "content"}`` dicts, in strict user/assistant alternation.

    See :func:`~memora_engine.llm.output.normalize_turns` for how turns are merged.
    """
    out: list[BaseMessage] = []
    for message in normalize_turns(messages):
        role, content = message["role"], message["content"]
        if role == "system":
            out.append(SystemMessage(content=content))
        elif role == "assistant":
            out.append(AIMessage(content=content))
        else:
            out.append(HumanMessage(content=content))
    return out


def _literal_values(annotation: Any) -> set[str]:
    if typing.get_origin(annotation) is Literal:
        return {str(v) for v in typing.get_args(annotation)}
    values: set[str] = set()
    for arg in typing.get_args(annotation):
        values |= _literal_values(arg)
    return values


def supported_methods(chat_model: BaseChatModel) -> frozenset[str]:
    """The structured-output methods ``chat_model``'s LangChain class exposes.

    Read from the ``method`` parameter of its ``with_structured_output`` (a ``Literal``); a class
    that overrides it without a ``method`` parameter gets ``native``; a class that only has
    tool calling gets ``function_calling``; a class with neither gets nothing.
    """
    cls = type(chat_model)
    if cls.with_structured_output is BaseChatModel.with_structured_output:
        has_tools = cls.bind_tools is not BaseChatModel.bind_tools
        return frozenset({"function_calling"}) if has_tools else frozenset()
    try:
        hints = typing.get_type_hints(cls.with_structured_output)
    except Exception:  # unresolvable annotations: trust the class's own default
        hints = {}
    methods = _literal_values(hints.get("method"))
    return frozenset(methods & set(_PREFERENCE)) or frozenset({"native"})


def resolve_structured_method(chat_model: BaseChatModel, requested: StructuredOutputMode) -> str:
    """The method a model gets for ``requested``: one of ``json_schema``, ``function_calling``,
    ``json_mode``, ``native`` or ``prompt``.

    An explicit request is honoured when the class exposes it (``prompt`` always is); otherwise,
    and for ``auto``, the strongest available method is used.
    """
    if requested in ("prompt", "json"):
        return "prompt"
    available = supported_methods(chat_model)
    if requested != "auto" and requested in available:
        return requested
    if requested == "native" and available:
        return "native" if "native" in available else _best(available)
    return _best(available) if available else "prompt"


def _best(available: frozenset[str]) -> str:
    for method in _PREFERENCE:
        if method in available:
            return method
    return "native"


class _OutputCapture(BaseCallbackHandler):
    """Keeps the ``llm_output`` of the last model run (some providers put usage only there)."""

    def __init__(self) -> None:
        self.llm_output: dict[str, Any] | None = None

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.llm_output = response.llm_output


class ChatModelLLM(BaseBackendLLM):
    """Wrap a LangChain chat model as Memora's LLM.

    Structured output goes through the provider where LangChain exposes it (JSON schema, a
    forced tool call, or JSON mode; see :data:`StructuredOutputMode` and
    :attr:`structured_output_method`), else through instructions plus validation. Every call
    is one model call; invalid answers are retried only by Memora's one retry site
    (:func:`~memora_engine.llm.retry.generate_validated`): a direct ``await llm(messages,
    Schema)`` makes at most ``max_invalid_retries + 1`` calls. A cut-off answer (finish reason
    ``length`` or the token limit reached) counts as invalid. Provider errors are not retried
    here (LangChain models retry them themselves). Token usage is what the provider reported
    (usage metadata, response metadata or ``llm_output``), estimated only when none was.

    Examples:
        >>> from langchain_openai import ChatOpenAI  # doctest: +SKIP
        >>> llm = ChatModelLLM(ChatOpenAI(model="gpt-4o-mini"))  # doctest: +SKIP
        >>> llm.structured_output_method  # doctest: +SKIP
        'json_schema'
        >>> text = await llm([{"role": "user", "content": "Hi"}])  # doctest: +SKIP
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        structured_output: StructuredOutputMode = "auto",
        max_invalid_retries: int = 2,
    ) -> None:
        super().__init__()
        if not isinstance(chat_model, BaseChatModel):
            raise InvalidInputError(
                f"chat_model must be a LangChain BaseChatModel, got {type(chat_model).__name__}."
            )
        if max_invalid_retries < 0:
            raise InvalidInputError("max_invalid_retries must be >= 0.")
        self.chat_model = chat_model
        self.structured_output = structured_output
        self.max_invalid_retries = max_invalid_retries
        self._method = resolve_structured_method(chat_model, structured_output)

    @property
    def get_model_kwargs(self) -> dict[str, Any]:
        """The wrapped model's identifying parameters (LangChain keeps secrets out of them)."""
        params = getattr(self.chat_model, "_identifying_params", {})
        return dict(params) if isinstance(params, Mapping) else {}

    @property
    def structured_output_method(self) -> str:
        """``json_schema``, ``function_calling``, ``json_mode``, ``native`` or ``prompt``."""
        return self._method

    def describe(self) -> dict[str, Any]:
        """Class, model class, requested and effective structured-output method, settings."""
        return {
            **super().describe(),
            "chat_model": type(self.chat_model).__name__,
            "structured_output_requested": self.structured_output,
        }

    @property
    def max_output_tokens(self) -> int | None:
        """The output-token limit configured on the chat model, if any."""
        for name in _MAX_TOKEN_FIELDS:
            value = getattr(self.chat_model, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        return None

    async def generate_text(self, messages: Sequence[Mapping[str, str]]) -> str:
        reply, _ = await self._invoke(self.chat_model, to_langchain_messages(messages))
        return _text_of(reply)

    async def generate_structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M]
    ) -> M:
        """At most ``max_invalid_retries + 1`` model calls through Memora's one retry site."""
        budget = CallBudget(self.max_invalid_retries + 1)
        return await generate_validated(self, messages, schema, budget=budget)

    async def attempt_structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M]
    ) -> StructuredAttempt[M]:
        """Exactly one model call asked for ``schema``."""
        conversation = to_langchain_messages(messages)
        if self._method == "prompt":
            return await self._prompt_attempt(_with_json_instruction(conversation), schema)
        return await self._provider_attempt(conversation, schema)

    async def _prompt_attempt(
        self, conversation: list[BaseMessage], schema: type[M]
    ) -> StructuredAttempt[M]:
        reply, llm_output = await self._invoke(self.chat_model, conversation)
        raw_text = _text_of(reply)
        if self._truncated(reply, llm_output):
            return StructuredAttempt(None, _TRUNCATED, raw_text)
        try:
            return StructuredAttempt(parse_json_output(raw_text, schema), "", raw_text)
        except ValueError as exc:
            return StructuredAttempt(None, str(exc), raw_text)

    async def _provider_attempt(
        self, conversation: list[BaseMessage], schema: type[M]
    ) -> StructuredAttempt[M]:
        kwargs: dict[str, Any] = {"include_raw": True}
        if self._method != "native":
            kwargs["method"] = self._method
        runnable = self.chat_model.with_structured_output(schema, **kwargs)
        capture = _OutputCapture()
        try:
            output = await runnable.ainvoke(conversation, config=self._config(capture))
        except ValidationError as exc:
            return StructuredAttempt(None, describe_validation_error(exc))
        except Exception as exc:
            if "LengthFinishReason" in type(exc).__name__:  # openai's parse() on a cut-off answer
                self._count(conversation, None, capture.llm_output)
                return StructuredAttempt(None, _TRUNCATED)
            raise LLMUnavailableError(f"The chat model call failed: {exc}") from exc
        out = cast(dict[str, Any], output)
        raw = out.get("raw")
        raw_message = raw if isinstance(raw, BaseMessage) else None
        self._count(conversation, raw_message, capture.llm_output)
        raw_text = _raw_text(raw_message)
        if raw_message is not None and self._truncated(raw_message, capture.llm_output):
            return StructuredAttempt(None, _TRUNCATED, raw_text)
        parsed = out.get("parsed")
        if isinstance(parsed, schema):
            return StructuredAttempt(parsed, "", raw_text)
        if isinstance(parsed, Mapping):  # some classes return dicts for json_mode
            try:
                return StructuredAttempt(schema.model_validate(parsed), "", raw_text)
            except ValidationError as exc:
                return StructuredAttempt(None, describe_validation_error(exc), raw_text)
        error = out.get("parsing_error")
        if isinstance(error, ValidationError):
            problem = describe_validation_error(error)
        else:
            problem = str(error)[:300] if error else "the model returned no structured output"
        return StructuredAttempt(None, problem, raw_text)

    def _config(self, capture: _OutputCapture) -> RunnableConfig:
        return merge_configs(current_run_config(), {"callbacks": [capture]})

    async def _invoke(
        self, model: BaseChatModel, conversation: list[BaseMessage]
    ) -> tuple[BaseMessage, dict[str, Any] | None]:
        capture = _OutputCapture()
        try:
            reply = await model.ainvoke(conversation, config=self._config(capture))
        except Exception as exc:
            raise LLMUnavailableError(f"The chat model call failed: {exc}") from exc
        self._count(conversation, reply, capture.llm_output)
        return reply, capture.llm_output

    def _truncated(self, reply: BaseMessage, llm_output: Mapping[str, Any] | None) -> bool:
        usage = usage_from_metadata(
            getattr(reply, "usage_metadata", None), reply.response_metadata, llm_output
        )
        finish = dict(reply.response_metadata)
        if llm_output and "finish_reason" in llm_output:
            finish.setdefault("finish_reason", llm_output["finish_reason"])
        return is_truncated(finish, usage.output_tokens if usage else None, self.max_output_tokens)

    def _count(
        self,
        conversation: list[BaseMessage],
        reply: BaseMessage | None,
        llm_output: Mapping[str, Any] | None,
    ) -> None:
        self.usage.calls += 1
        usage = None
        if reply is not None:
            usage = usage_from_metadata(
                getattr(reply, "usage_metadata", None), reply.response_metadata, llm_output
            )
        else:
            usage = usage_from_metadata(None, None, llm_output)
        if usage is not None:
            self.usage.input_tokens += usage.input_tokens
            self.usage.output_tokens += usage.output_tokens
            return
        self.usage.estimated_tokens = True
        self.usage.input_tokens += sum(len(_text_of(m)) for m in conversation) // 4
        self.usage.output_tokens += len(_raw_text(reply)) // 4


def _with_json_instruction(conversation: list[BaseMessage]) -> list[BaseMessage]:
    if conversation and isinstance(conversation[0], SystemMessage):
        first = conversation[0]
        return [SystemMessage(content=f"{_text_of(first)}{_JSON_INSTRUCTION}"), *conversation[1:]]
    return [SystemMessage(content=_JSON_INSTRUCTION.strip()), *conversation]


def _raw_text(message: BaseMessage | None) -> str:
    """The answer's text, or its tool-call arguments when it answered with a tool call."""
    if message is None:
        return ""
    text = _text_of(message)
    if not text and isinstance(message, AIMessage) and message.tool_calls:
        text = repr([call.get("args") for call in message.tool_calls])
    return text


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)
