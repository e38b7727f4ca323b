"""How ``MemoraStore`` items map to Memora memories (pure): key -> memory id, value -> text,
the ``put`` record kept as the memory's source message, and the value of other memories."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from memora_engine.schema import Memory
from memora_integrations.langgraph.store_filters import PARTIAL_KEY

__all__ = [
    "STORE_ROLE",
    "item_record",
    "key_memory_id",
    "plain_value",
    "put_record",
    "value_text",
]

#: Role of the message block that records a ``put`` (its content is the key and the value).
STORE_ROLE = "langgraph-store"
_KEY_NAMESPACE = uuid.UUID("9b1c52e4-5a43-4f0e-8a53-5d7c0f2b6a11")


def key_memory_id(org_id: str, user_id: str, agent_id: str, key: str) -> str:
    """The memory id a key maps to (stable: uuid5 of the namespace and the key)."""
    return str(uuid.uuid5(_KEY_NAMESPACE, "\x1f".join((org_id, user_id, agent_id, key))))


def value_text(value: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The text to remember from a value: the given fields (dotted paths, ``[*]`` for lists)
    joined by newlines; with no field found, ``"key: value"`` lines for the whole value."""
    parts: list[str] = []
    for path in fields:
        parts.extend(_render(v) for v in _lookup(value, path.split(".")))
    text = "\n".join(p for p in parts if p.strip())
    if text:
        return text
    return "\n".join(f"{k}: {_render(v)}" for k, v in value.items())


def _lookup(value: Any, steps: list[str]) -> list[Any]:
    if not steps:
        return [value]
    step, rest = steps[0], steps[1:]
    name, _, index = step.partition("[")
    if not isinstance(value, Mapping) or name not in value:
        return []
    found = value[name]
    if not index:
        return _lookup(found, rest)
    if not isinstance(found, list):
        return []
    index = index.rstrip("]")
    if index == "*":
        return [x for item in found for x in _lookup(item, rest)]
    try:
        return _lookup(found[int(index)], rest)
    except (ValueError, IndexError):
        return []


def _render(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def put_record(key: str, value: Mapping[str, Any]) -> str:
    """The content of the message block that records a ``put``."""
    return json.dumps({"key": key, "value": dict(value)}, ensure_ascii=False, sort_keys=True)


def plain_value(memory: Memory) -> dict[str, Any]:
    """The value of a memory not written by ``put``: its text and its metadata."""
    extra = {k: v for k, v in memory.metadata.items() if k != PARTIAL_KEY}
    return {"content": memory.memory, **extra}


def item_record(memory: Memory) -> tuple[str, dict[str, Any]] | None:
    """``(key, value)`` when the memory was written by a store ``put``."""
    sources = memory.message_sources
    if len(sources) != 1 or sources[0].role != STORE_ROLE:
        return None
    try:
        record = json.loads(sources[0].content)
        return str(record["key"]), dict(record["value"])
    except (ValueError, KeyError, TypeError):
        return None
