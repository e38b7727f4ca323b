"""Call shapes: a ``Memora`` method's parameters and result type, read from its signature.

The service builds its request models and response encoders from these, and the client its
encoders and decoders, so both follow the engine's signatures with no second definition.

Examples:
    >>> from memora_engine import Memora
    >>> shape = call_shape(Memora.get_memory)
    >>> [p.name for p in shape.params]
    ['org_id', 'user_id', 'memory_id', 'resolve_names']
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, get_type_hints

from pydantic import TypeAdapter

__all__ = ["LOCAL_ONLY_PARAMS", "CallShape", "Param", "call_shape"]

#: Parameters that cannot cross the wire: a LangChain ``RunnableConfig`` holds live callbacks,
#: a ``progress`` callback runs in the caller's process (over HTTP it is not called), and a
#: ``reranker`` is a live object (the client refuses one rather than ignore it).
LOCAL_ONLY_PARAMS = frozenset({"config", "progress", "reranker"})


@dataclass(frozen=True)
class Param:
    """One wire parameter: name, resolved type, default (``inspect.Parameter.empty`` if none)."""

    name: str
    hint: Any
    default: Any
    keyword_only: bool

    @property
    def required(self) -> bool:
        """Whether the caller must give it."""
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True)
class CallShape:
    """The wire parameters and result type of one method."""

    params: tuple[Param, ...]
    result: Any

    @property
    def result_adapter(self) -> TypeAdapter[Any]:
        """Encodes (service) and decodes (client) the result."""
        return _adapter(self.result)


@cache
def _adapter(hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(hint)


@cache
def call_shape(func: Callable[..., Any]) -> CallShape:
    """The :class:`CallShape` of ``func`` (``self`` and local-only parameters left out)."""
    hints = get_type_hints(func)
    params = tuple(
        Param(p.name, hints[p.name], p.default, p.kind is inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(func).parameters.values()
        if p.name != "self" and p.name not in LOCAL_ONLY_PARAMS
    )
    return CallShape(params, hints.get("return", Any))
