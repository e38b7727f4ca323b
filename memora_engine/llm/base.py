"""The LLM contract Memora calls, and pure helpers for structured output.

``await llm(messages)`` returns text; ``await llm(messages, output_schema_model=Schema)`` returns a
validated ``Schema`` instance. The one implementation over LangChain chat models is
:class:`~memora_engine.llm.chat_model.ChatModelLLM`; subclass :class:`BaseBackendLLM` only to
wrap something that is not a LangChain chat model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from memora_engine.errors import LLMResponseInvalidError
from memora_engine.llm.output import parse_json_output
from memora_engine.llm.retry import StructuredAttempt

__all__ = ["BaseBackendLLM", "LLMUsage", "parse_json_output"]

M = TypeVar("M", bound=BaseModel)


@dataclass
class LLMUsage:
    """Running totals of one LLM wrapper: calls made and tokens (provider-reported or estimated).

    ``estimated_tokens`` is true once any count came from the 4-characters-a-token estimate
    because the provider reported no usage.
    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated_tokens: bool = False

    def reset(self) -> None:
        """Zero every counter."""
        self.calls = self.input_tokens = self.output_tokens = 0
        self.estimated_tokens = False


class BaseBackendLLM(ABC):
    """An async chat LLM returning text, or a validated pydantic object when given a schema."""

    usage: LLMUsage

    def __init__(self) -> None:
        self.usage = LLMUsage()

    @property
    def get_model_kwargs(self) -> dict[str, Any]:
        """Model settings for logs and debugging (no secrets)."""
        return {}

    @property
    def structured_output_method(self) -> str:
        """How this model is asked for JSON: ``json_schema``, ``json_mode``, ``function_calling``,
        ``prompt`` (instructions only) or ``custom`` (a subclass decides)."""
        return "custom"

    def describe(self) -> dict[str, Any]:
        """What ``memora doctor`` shows about this model: class, structured-output method, settings."""
        return {
            "class": type(self).__name__,
            "structured_output": self.structured_output_method,
            "settings": self.get_model_kwargs,
        }

    async def attempt_structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M]
    ) -> StructuredAttempt[M]:
        """One attempt at a ``schema`` answer, for Memora's retry site
        (:func:`~memora_engine.llm.retry.generate_validated`).

        The default calls :meth:`generate_structured` and turns its invalid-output error into a
        problem description; :class:`~memora_engine.llm.chat_model.ChatModelLLM` makes exactly
        one model call here.
        """
        try:
            return StructuredAttempt(parsed=await self.generate_structured(messages, schema))
        except LLMResponseInvalidError as exc:
            return StructuredAttempt(parsed=None, problem=str(exc))

    @overload
    async def __call__(
        self, messages: Sequence[Mapping[str, str]], output_schema_model: None = None
    ) -> str: ...

    @overload
    async def __call__(
        self, messages: Sequence[Mapping[str, str]], output_schema_model: type[M]
    ) -> M: ...

    async def __call__(
        self,
        messages: Sequence[Mapping[str, str]],
        output_schema_model: type[M] | None = None,
    ) -> str | M:
        """Run the model on ``[{"role", "content"}, ...]`` messages.

        Raises:
            LLMUnavailableError: the provider call failed.
            LLMResponseInvalidError: the output did not validate after the bounded retries.
        """
        if output_schema_model is None:
            return await self.generate_text(messages)
        return await self.generate_structured(messages, output_schema_model)

    @abstractmethod
    async def generate_text(self, messages: Sequence[Mapping[str, str]]) -> str:
        """Return the model's text answer."""

    @abstractmethod
    async def generate_structured(
        self, messages: Sequence[Mapping[str, str]], schema: type[M]
    ) -> M:
        """Return the model's answer validated as ``schema``."""

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release resources this object created."""
