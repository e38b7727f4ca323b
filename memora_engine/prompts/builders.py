"""Pure prompt builders and response parsers: plain inputs in, chat messages out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from memora_engine.prompts import templates
from memora_engine.schema.extraction import MemoryComparisonResponse, MemoryExtractionResponse
from memora_engine.schema.models import Memory

__all__ = [
    "ChatMessage",
    "Prompts",
    "build_comparison_messages",
    "build_extraction_messages",
    "build_filter_messages",
    "build_query_generation_messages",
    "parse_angle_items",
    "parse_query_list",
]

#: A chat message as the LLM layer takes it: ``{"role": ..., "content": ...}``.
ChatMessage = dict[str, str]

_ANGLE_ITEM = re.compile(r"<<(.*?)>>", re.DOTALL)


class Prompts(BaseModel):
    """The prompt templates Memora uses; override with ``Prompts().model_copy(update=...)``.

    Examples:
        >>> custom = Prompts().model_copy(update={"query_generation_system": "..."})
    """

    model_config = ConfigDict(frozen=True)

    extraction_system: str = templates.EXTRACTION_SYSTEM
    extraction_update_section: str = templates.EXTRACTION_UPDATE_SECTION
    extraction_message_block: str = templates.EXTRACTION_MESSAGE_BLOCK
    extraction_final_turn: str = templates.EXTRACTION_FINAL_TURN
    comparison_system: str = templates.COMPARISON_SYSTEM
    comparison_input: str = templates.COMPARISON_INPUT
    query_generation_system: str = templates.QUERY_GENERATION_SYSTEM
    query_generation_input: str = templates.QUERY_GENERATION_INPUT
    filter_system: str = templates.FILTER_SYSTEM


def _clock(now: datetime) -> dict[str, str]:
    return {"weekday": now.strftime("%A"), "now": now.isoformat(timespec="minutes")}


def _schema_text(schema: type[BaseModel]) -> str:
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))


def build_extraction_messages(
    prompts: Prompts,
    *,
    messages: Sequence[Mapping[str, str]],
    user_name: str,
    agent_label: str,
    now: datetime,
    extract_agent_memories: bool,
    previous_memories: Sequence[Mapping[str, str]] | None = None,
) -> list[ChatMessage]:
    """The extraction call: a system prompt, then every message wrapped with its block id.

    A conversation that ends with the assistant gets a last user turn asking for the JSON
    answer (``extraction_final_turn``).

    ``previous_memories`` (the update case) are the interaction's earlier memories as
    ``{"memory", "obtained_at"}`` dicts; only new facts are then asked for.
    """
    update_section = ""
    if previous_memories is not None:
        update_section = prompts.extraction_update_section.format(
            previous_memories=json.dumps(list(previous_memories), ensure_ascii=False, indent=1)
        )
    system = prompts.extraction_system.format(
        **_clock(now),
        agent_label=agent_label,
        user_name=user_name,
        and_agent=f" and about the assistant ({agent_label})" if extract_agent_memories else "",
        update_section=update_section,
        schema=_schema_text(MemoryExtractionResponse),
    )
    out: list[ChatMessage] = [{"role": "system", "content": system}]
    for position, message in enumerate(messages):
        block = prompts.extraction_message_block.format(
            position=position, content=message["content"]
        )
        out.append({"role": message["role"], "content": block})
    if len(out) > 1 and out[-1]["role"] in ("assistant", "ai"):
        out.append({"role": "user", "content": prompts.extraction_final_turn})
    return out


def build_comparison_messages(
    prompts: Prompts,
    *,
    existing: Sequence[Memory],
    candidates: Sequence[str],
    user_id: str,
    agent_id: str,
    now: datetime,
) -> list[ChatMessage]:
    """The comparison call: stored memories (with ids) against numbered candidates."""
    system = prompts.comparison_system.format(
        **_clock(now),
        user_placeholder=f"user_{user_id}",
        agent_placeholder=f"agent_{agent_id}",
        schema=_schema_text(MemoryComparisonResponse),
    )
    stored = [m.id_memory_and_timestamp_dict() for m in existing]
    numbered = [{"POS_ID": i, "memory": text} for i, text in enumerate(candidates)]
    user = prompts.comparison_input.format(
        existing_memories=json.dumps(stored, ensure_ascii=False, indent=1),
        candidates=json.dumps(numbered, ensure_ascii=False, indent=1),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def build_query_generation_messages(
    prompts: Prompts,
    *,
    message: str,
    preceding_messages: Sequence[Mapping[str, str]],
    now: datetime,
) -> list[ChatMessage]:
    """The query-generation call for recall."""
    context = "\n".join(f"{m['role']}: {m['content']}" for m in preceding_messages) or "(none)"
    user = prompts.query_generation_input.format(
        preceding_messages=context, message=message, **_clock(now)
    )
    return [
        {"role": "system", "content": prompts.query_generation_system},
        {"role": "user", "content": user},
    ]


def build_filter_messages(
    prompts: Prompts,
    *,
    message: str,
    queries: Sequence[str],
    memories: Sequence[Memory],
    now: datetime,
) -> list[ChatMessage]:
    """The optional relevance-filter call for recall."""
    system = prompts.filter_system.format(
        **_clock(now), message=message, queries="\n- ".join(queries)
    )
    shown = [m.id_memory_and_timestamp_dict() for m in memories]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(shown, ensure_ascii=False, indent=1)},
    ]


def parse_angle_items(text: str) -> list[str]:
    """Every non-empty ``<< item >>`` in ``text``, stripped, first occurrence order, no repeats.

    Examples:
        >>> parse_angle_items("<< wife >>\\n<< due date >>\\n<< wife >>")
        ['wife', 'due date']
    """
    seen: dict[str, None] = {}
    for raw in _ANGLE_ITEM.findall(text):
        item = raw.strip()
        if item and item not in seen:
            seen[item] = None
    return list(seen)


_LIST_MARK = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)]|query\s*\d*\s*:)\s*", re.IGNORECASE)
_MAX_FALLBACK_LINE = 200


def parse_query_list(text: str) -> tuple[list[str], str]:
    """Search queries from a model answer, and which format they were found in.

    ``<< query >>`` lines first (the format the prompt asks for); else a JSON array of strings
    (or an object with a ``queries`` array), fenced or not; else one query per line, with list
    marks and quotes stripped and lines that introduce a list (ending with ``:``) or that are
    very long dropped. Returns ``(queries, how)`` with ``how`` one of ``angle``, ``json``,
    ``lines`` or ``none``; the caller logs the fallback.

    Examples:
        >>> parse_query_list('["wife", "due date"]')
        (['wife', 'due date'], 'json')
        >>> parse_query_list("Queries:\n1. wife\n2. due date")
        (['wife', 'due date'], 'lines')
    """
    angle = parse_angle_items(text)
    if angle:
        return angle, "angle"
    from_json = _json_queries(text)
    if from_json:
        return from_json, "json"
    lines: dict[str, None] = {}
    for raw in text.splitlines():
        line = _LIST_MARK.sub("", raw).strip().strip("\"'`").strip()
        if not line or line.endswith(":") or line.startswith("```"):
            continue
        if len(line) <= _MAX_FALLBACK_LINE and line not in lines:
            lines[line] = None
    return (list(lines), "lines") if lines else ([], "none")


def _json_queries(text: str) -> list[str]:
    from langchain_core.utils.json import parse_json_markdown

    stripped = text.strip()
    start, end = stripped.find("["), stripped.rfind("]")
    candidates = [stripped] + ([stripped[start : end + 1]] if 0 <= start < end else [])
    for candidate in candidates:
        try:
            data = parse_json_markdown(candidate, parser=json.loads)
        except (json.JSONDecodeError, ValueError):
            continue
        if isinstance(data, dict):
            data = data.get("queries")
        if isinstance(data, list):
            items = [str(item).strip() for item in data if isinstance(item, (str, int, float))]
            return list(dict.fromkeys(item for item in items if item))
    return []
