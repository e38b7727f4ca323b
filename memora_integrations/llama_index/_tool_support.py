"""Text and argument handling shared by the LlamaIndex memory tools (internal, pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from memora_engine.errors import InvalidInputError
from memora_engine.schema import Memory

__all__ = ["arg_docs", "listing", "memory_line", "merged", "model_filter"]


def memory_line(memory: Memory, score: float | None = None) -> str:
    scored = f" | relevance {score:.3f}" if score is not None else ""
    labels = (
        f" | metadata {json.dumps(memory.metadata, ensure_ascii=False)}" if memory.metadata else ""
    )
    return (
        f"- memory_id={memory.memory_id} | learned {memory.obtained_at:%Y-%m-%d}{scored}"
        f"{labels} | {memory.memory}"
    )


def listing(title: str, lines: Sequence[str], empty: str) -> str:
    return "\n".join([title, *lines]) if lines else empty


ARG = re.compile(r"^(\w+)\s*\(.*?\):\s*(.*)$")


def arg_docs(doc: str) -> dict[str, str]:
    """Each argument's whole description from a Google-style ``Args:`` section (LlamaIndex's
    own parser keeps the first line only)."""
    docs: dict[str, str] = {}
    current: str | None = None
    inside = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped == "Args:":
            inside = True
            continue
        if not inside:
            continue
        if stripped and not line.startswith(" "):
            break  # the next section
        match = ARG.match(stripped)
        if match and line.startswith("    ") and not line.startswith("     "):
            current = match.group(1)
            docs[current] = match.group(2)
        elif stripped and current is not None:
            docs[current] += " " + stripped
    return docs


def model_filter(filter: object) -> Mapping[str, Any] | None:
    """The model's ``filter``; models sometimes send the JSON object as a string."""
    if isinstance(filter, str):
        text = filter
        if not text.strip():
            return None
        try:
            filter = json.loads(text)
        except ValueError:
            raise InvalidInputError(f"filter must be a JSON object, got {text[:80]!r}.") from None
    if filter is None or isinstance(filter, Mapping):
        return filter
    raise InvalidInputError(f"filter must be a JSON object, got {type(filter).__name__}.")


def merged(
    given: Mapping[str, Any] | None, fixed: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The model's metadata with the spec's own on top (``None`` when neither is set)."""
    if given is None and fixed is None:
        return None
    if given is not None and not isinstance(given, Mapping):
        raise InvalidInputError(f"metadata must be a JSON object, got {type(given).__name__}.")
    return {**(given or {}), **(fixed or {})}
