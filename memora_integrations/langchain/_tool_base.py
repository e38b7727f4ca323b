"""The base of Memora's LangChain tools (private): tenant fields, error reporting, portal.

Errors the model can fix (``InvalidInputError``, ``MemoryNotFoundError``: a bad filter, a
made-up ``memory_id``, metadata over the limits) become ``ToolException`` and reach the model as
the tool's output; everything else raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from typing_extensions import Self

from memora_engine import Memora
from memora_engine.errors import InvalidInputError, MemoryNotFoundError
from memora_integrations.langchain._runtime import (
    MemoraBridge,
    ambient_config,
    forwardable,
    invalid_settings,
)

__all__ = [
    "FILTER_DESCRIPTION",
    "METADATA_DESCRIPTION",
    "MODEL_ERRORS",
    "MemoraToolBase",
    "brief",
    "dump",
    "report_tool_error",
    "report_validation_error",
]

#: What the model reads about a ``filter`` argument (one example, the operators).
FILTER_DESCRIPTION = (
    "Optional: keep only memories whose metadata matches, as a JSON object. "
    'Example: {"topic": "food", "priority": {"$gte": 2}}. A plain value means equal; '
    "operators: $ne, $in, $nin, $gt, $gte, $lt, $lte, $exists, and $and / $or / $not over "
    "several filters. Leave it out to search everything."
)
#: What the model reads about a ``metadata`` argument.
METADATA_DESCRIPTION = (
    "Optional labels to store with the memory, a flat JSON object of strings, numbers, "
    'booleans or lists of those. Example: {"topic": "food", "priority": 2}.'
)

T = TypeVar("T")

#: Errors caused by what the model wrote; reported back to it as tool output.
MODEL_ERRORS: tuple[type[Exception], ...] = (InvalidInputError, MemoryNotFoundError)


def brief(data: dict[str, Any]) -> dict[str, Any]:
    """What the model sees of a memory: id, text, date, and its metadata when it has some
    (sources stay in the artifact)."""
    seen = {k: data[k] for k in ("memory_id", "memory", "obtained_at")}
    if data.get("metadata"):
        seen["metadata"] = data["metadata"]
    return seen


def dump(value: Any) -> str:
    """JSON text for the model."""
    return json.dumps(value, ensure_ascii=False)


def report_tool_error(error: ToolException) -> str:
    """The tool output the model gets for an error it can fix (never empty)."""
    return f"Error: {error}" if str(error) else f"Error: {type(error).__name__}"


def report_validation_error(error: ValidationError | Exception) -> str:
    """The tool output for arguments that do not fit the tool's schema: what is wrong, where."""
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
            for e in error.errors()
        )
    else:
        problems = str(error) or type(error).__name__
    return f"Error: invalid tool arguments ({problems}). Check the argument names and types."


class MemoraToolBase(BaseTool):
    """Shared fields: the engine and the tenant. ``user_id`` may come from the run config."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memora: Any = Field(description="A Memora or SyncMemora instance.")
    org_id: str
    user_id: str | None = None
    """Fixed user; when ``None``, read from ``config["configurable"]["user_id"]`` per call."""
    agent_id: str | None = None
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    report_errors: bool = True
    """``True``: errors the model can fix come back to it as tool output; ``False``: raise."""
    handle_tool_error: bool | str | Callable[[ToolException], str] | None = report_tool_error
    handle_validation_error: bool | str | Callable[[Any], str] | None = report_validation_error

    _bridge: MemoraBridge = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        with invalid_settings(type(self).__name__):
            super().__init__(**data)

    @model_validator(mode="after")
    def _make_bridge(self) -> Self:
        self._bridge = MemoraBridge(self.memora)
        if not self.report_errors:
            self.handle_tool_error = False
            self.handle_validation_error = False
        return self

    def _user(self, config: RunnableConfig | None) -> str:
        user_id = self.user_id
        if user_id is None and config is not None:
            user_id = (config.get("configurable") or {}).get("user_id")
        if user_id is None:
            raise InvalidInputError(
                f"{self.name} needs a user_id: set it on the tool or pass "
                "config={'configurable': {'user_id': ...}}."
            )
        return str(user_id)

    def _agent(self) -> str:
        if self.agent_id is None:
            raise InvalidInputError(f"{self.name} needs an agent_id to save memories.")
        return self.agent_id

    @staticmethod
    def _traced(config: RunnableConfig | None) -> RunnableConfig | None:
        """The config for Memora's model calls: the tool run's child config (LangChain sets it
        as the context while the tool runs; the injected ``config`` is the caller's)."""
        return forwardable(ambient_config() or config)

    def _call(self, work: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        return self._bridge.run(lambda core: self._reported(work(core)))

    async def _acall(self, work: Callable[[Memora], Coroutine[Any, Any, T]]) -> T:
        return await self._bridge.arun(lambda core: self._reported(work(core)))

    async def _reported(self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work``; with ``report_errors``, model-fixable errors become ToolExceptions."""
        try:
            return await work
        except MODEL_ERRORS as exc:
            if not self.report_errors:
                raise
            raise ToolException(str(exc) or type(exc).__name__) from exc
