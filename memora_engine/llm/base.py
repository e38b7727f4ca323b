"""The LLM contract Memora calls, and pure helpers for structured output.

``await llm(messages)`` returns text; ``await llm(messages, output_schema_model=Schema)`` returns a
validated ``Schema`` instance. The one implementation over LangChain chat models is
:class:`~memora_engine.llm.chat_model.ChatModelLLM`; subclass :class:`BaseBackendLLM` only to
wrap something that is not a LangChain chat model.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

__all__ = ["BaseBackendLLM", "LLMUsage", "parse_json_output"]

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


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


def parse_json_output(text: str, schema: type[M]) -> M:
    """Validate a model's JSON answer, tolerating code fences and prose around the object.

    Raises:
        ValueError: no JSON object could be validated as ``schema`` (the message says why).
    """
    candidates = [text.strip()]
    candidates += [block.strip() for block in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    last_error = "no JSON object found"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return schema.model_validate(json.loads(candidate))
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON: {exc.msg} at position {exc.pos}"
        except ValidationError as exc:
            last_error = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]
            )
    raise ValueError(last_error)
