"""Memora's LLM layer over any LangChain chat model (``BaseChatModel``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from memora_engine.errors import InvalidInputError, LLMResponseInvalidError, LLMUnavailableError
from memora_engine.llm.base import BaseBackendLLM, parse_json_output
from memora_engine.tracing import current_run_config

__all__ = ["ChatModelLLM", "StructuredOutputMode", "to_langchain_messages"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: ``native``: the model's ``with_structured_output``; ``json``: ask for JSON and validate it;
#: ``auto``: native when the model supports tool calling, else JSON.
StructuredOutputMode = Literal["auto", "native", "json"]

_JSON_INSTRUCTION = (
    "\n\nReply with a single JSON object that validates against the schema above. "
    "No prose, no code fences."
)


def to_langchain_messages(messages: Sequence[Mapping[str, str]]) -> list[BaseMessage]:
    """Convert ``{"role", "content"}`` dicts; unknown roles become user turns tagged with the role."""
    out: list[BaseMessage] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system":
            out.append(SystemMessage(content=content))
        elif role in ("assistant", "ai"):
            out.append(AIMessage(content=content))
        elif role in ("user", "human"):
            out.append(HumanMessage(content=content))
        else:
            out.append(HumanMessage(content=f"[{role}] {content}"))
    return out


class ChatModelLLM(BaseBackendLLM):
    """Wrap a LangChain chat model as Memora's LLM.

    Structured output uses ``with_structured_output`` where the model supports it, else JSON mode
    with validation. Invalid output is retried ``max_invalid_retries`` times with the error shown
    to the model; provider errors are not retried here (LangChain models retry them themselves).

    Examples:
        >>> from langchain_openai import ChatOpenAI  # doctest: +SKIP
        >>> llm = ChatModelLLM(ChatOpenAI(model="gpt-4o-mini"))  # doctest: +SKIP
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

    @property
    def get_model_kwargs(self) -> dict[str, Any]:
        """The wrapped model's identifying parameters (LangChain keeps secrets out of them)."""
        params = getattr(self.chat_model, "_identifying_params", {})
        return dict(params) if isinstance(params, Mapping) else {}

    def _uses_native(self) -> bool:
        if self.structured_output == "json":
            return False
        if self.structured_output == "native":
            return True
        return type(self.chat_model).bind_tools is not BaseChatModel.bind_tools

    async def generate_text(self, messages: Sequence[Mapping[str, str]]) -> str:
        reply = await self._invoke(self.chat_model, to_langchain_messages(messages))
        return _text_of(reply)

    async def generate_structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M]
    ) -> M:
        conversation = to_langchain_messages(messages)
        native = self._uses_native()
        if not native and conversation and isinstance(conversation[0], SystemMessage):
            first = conversation[0]
            conversation[0] = SystemMessage(content=f"{_text_of(first)}{_JSON_INSTRUCTION}")
        error = ""
        for attempt in range(self.max_invalid_retries + 1):
            if native:
                result, raw_text, error = await self._native_attempt(conversation, schema)
            else:
                reply = await self._invoke(self.chat_model, conversation)
                raw_text = _text_of(reply)
                try:
                    result = parse_json_output(raw_text, schema)
                except ValueError as exc:
                    result, error = None, str(exc)
            if result is not None:
                return result
            logger.warning(
                "LLM output did not validate as %s (attempt %d): %s",
                schema.__name__,
                attempt + 1,
                error,
            )
            conversation = [
                *conversation,
                AIMessage(content=raw_text or "(no answer)"),
                HumanMessage(
                    content=f"That answer was not valid ({error}). Answer again with only "
                    f"the JSON object for {schema.__name__}."
                ),
            ]
        raise LLMResponseInvalidError(
            f"The model's output did not validate as {schema.__name__} after "
            f"{self.max_invalid_retries + 1} attempts: {error}"
        )

    async def _native_attempt(
        self, conversation: list[BaseMessage], schema: type[M]
    ) -> tuple[M | None, str, str]:
        runnable = self.chat_model.with_structured_output(schema, include_raw=True)
        try:
            output = await runnable.ainvoke(conversation, config=current_run_config())
        except Exception as exc:
            raise LLMUnavailableError(f"The chat model call failed: {exc}") from exc
        out = cast(dict[str, Any], output)
        raw = out.get("raw")
        if isinstance(raw, AIMessage):
            self._count(conversation, raw)
        parsed = out.get("parsed")
        if isinstance(parsed, schema):
            return parsed, _text_of(raw) if isinstance(raw, BaseMessage) else "", ""
        problem = out.get("parsing_error") or "the model returned no structured output"
        return None, _text_of(raw) if isinstance(raw, BaseMessage) else "", str(problem)

    async def _invoke(self, model: BaseChatModel, conversation: list[BaseMessage]) -> BaseMessage:
        try:
            reply = await model.ainvoke(conversation, config=current_run_config())
        except Exception as exc:
            raise LLMUnavailableError(f"The chat model call failed: {exc}") from exc
        self._count(conversation, reply)
        return reply

    def _count(self, conversation: list[BaseMessage], reply: BaseMessage) -> None:
        self.usage.calls += 1
        usage = getattr(reply, "usage_metadata", None)
        if usage:
            self.usage.input_tokens += int(usage.get("input_tokens", 0))
            self.usage.output_tokens += int(usage.get("output_tokens", 0))
            return
        self.usage.estimated_tokens = True
        self.usage.input_tokens += sum(len(_text_of(m)) for m in conversation) // 4
        self.usage.output_tokens += len(_text_of(reply)) // 4


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)
