"""Pure helpers for model answers: JSON parsing, truncation, usage, turn order, corrections.

No I/O here: each function takes plain values (text, metadata dicts, message dicts) and is unit
tested on its own. :mod:`memora_engine.llm.chat_model` and :mod:`memora_engine.llm.retry` use them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.utils.json import parse_json_markdown
from pydantic import BaseModel, ValidationError

__all__ = [
    "TokenUsage",
    "correction_note",
    "is_truncated",
    "normalize_turns",
    "parse_json_output",
    "usage_from_metadata",
    "with_correction",
]

M = TypeVar("M", bound=BaseModel)

#: Finish / stop reasons providers report when the answer hit the output-token limit.
_TRUNCATION_REASONS = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})

#: Longest problem description put into a corrective prompt.
_MAX_PROBLEM_CHARS = 300


def parse_json_output(text: str, schema: type[M]) -> M:
    """Validate a model's JSON answer, tolerating code fences and prose around the object.

    Uses langchain-core's ``parse_json_markdown`` with a strict parser, so a cut-off object is
    never "completed" into something that validates.

    Raises:
        ValueError: no JSON object could be validated as ``schema`` (the message says why).

    Examples:
        >>> class Answer(BaseModel):
        ...     ok: bool
        >>> parse_json_output('Sure! {"ok": true} Hope that helps.', Answer)
        Answer(ok=True)
    """
    stripped = text.strip()
    candidates = [stripped]
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    last_error = "no JSON object found"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            data = parse_json_markdown(candidate, parser=json.loads)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON: {exc.msg} at position {exc.pos}"
            continue
        try:
            return schema.model_validate(data)
        except ValidationError as exc:
            last_error = describe_validation_error(exc)
    raise ValueError(last_error)


def describe_validation_error(exc: ValidationError, *, limit: int = 3) -> str:
    """A short ``field: problem; ...`` summary of a pydantic error (no input values)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
        for e in exc.errors()[:limit]
    )


def is_truncated(
    response_metadata: Mapping[str, Any] | None,
    output_tokens: int | None,
    max_tokens: int | None,
) -> bool:
    """Whether an answer was cut off at the output-token limit.

    True when the provider's finish / stop reason says so (``finish_reason`` for OpenAI-style
    servers, ``stop_reason`` for Anthropic, ``done_reason`` for Ollama), or when the output
    token count reached the configured limit.

    Examples:
        >>> is_truncated({"finish_reason": "length"}, None, None)
        True
        >>> is_truncated({"finish_reason": "stop"}, 100, 512)
        False
    """
    meta = response_metadata or {}
    for key in ("finish_reason", "stop_reason", "done_reason"):
        reason = meta.get(key)
        if isinstance(reason, str) and reason.lower() in _TRUNCATION_REASONS:
            return True
    return bool(max_tokens and output_tokens is not None and output_tokens >= max_tokens)


@dataclass(frozen=True)
class TokenUsage:
    """Token counts a provider reported for one call."""

    input_tokens: int
    output_tokens: int


def _ints(source: Mapping[str, Any], input_key: str, output_key: str) -> TokenUsage | None:
    prompt, completion = source.get(input_key), source.get(output_key)
    if isinstance(prompt, int) and isinstance(completion, int):
        return TokenUsage(prompt, completion)
    return None


def usage_from_metadata(
    usage_metadata: Mapping[str, Any] | None,
    response_metadata: Mapping[str, Any] | None,
    llm_output: Mapping[str, Any] | None = None,
) -> TokenUsage | None:
    """The token usage a provider reported, wherever it put it; ``None`` if it reported none.

    Looks at LangChain's ``usage_metadata``, then the message's ``response_metadata``
    (``token_usage`` / ``usage`` with OpenAI or Anthropic names, Ollama's eval counts), then
    the generation's ``llm_output`` (same names).

    Examples:
        >>> usage_from_metadata(None, {"token_usage": {"prompt_tokens": 9, "completion_tokens": 3}})
        TokenUsage(input_tokens=9, output_tokens=3)
    """
    if usage_metadata:
        found = _ints(usage_metadata, "input_tokens", "output_tokens")
        if found is not None:
            return found
    for source in (response_metadata, llm_output):
        if not source:
            continue
        for key in ("token_usage", "usage"):
            nested = source.get(key)
            if isinstance(nested, Mapping):
                found = _ints(nested, "prompt_tokens", "completion_tokens") or _ints(
                    nested, "input_tokens", "output_tokens"
                )
                if found is not None:
                    return found
        found = _ints(source, "prompt_eval_count", "eval_count")
        if found is not None:
            return found
    return None


def normalize_turns(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Make a message list valid for chat templates that require strict alternation.

    System messages are merged into one leading system message; other roles map to ``user`` /
    ``assistant`` (unknown roles become user turns tagged with the role); consecutive turns of
    the same role are merged; a conversation that starts with the assistant gets a short user
    turn first; and the list ends with a user turn.

    Examples:
        >>> normalize_turns([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
        [{'role': 'user', 'content': 'a\\n\\nb'}]
    """
    system: list[str] = []
    turns: list[dict[str, str]] = []
    for message in messages:
        role, content = message["role"], message["content"]
        if role == "system":
            system.append(content)
            continue
        if role in ("assistant", "ai"):
            role = "assistant"
        elif role not in ("user", "human"):
            content = f"[{role}] {content}"
            role = "user"
        else:
            role = "user"
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] = f"{turns[-1]['content']}\n\n{content}"
        else:
            turns.append({"role": role, "content": content})
    if turns and turns[0]["role"] == "assistant":
        turns.insert(0, {"role": "user", "content": "(conversation start)"})
    if not turns or turns[-1]["role"] != "user":
        turns.append({"role": "user", "content": "Continue."})
    head = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    return head + turns


def correction_note(problems: Sequence[str], schema_name: str) -> str:
    """The short corrective text added after invalid answers: what was wrong, nothing pasted back.

    Examples:
        >>> correction_note(["invalid JSON: Expecting value at position 0"], "Answer")
        'Your previous answer could not be used (invalid JSON: Expecting value at position 0). Answer again with only the JSON object for Answer.'
    """
    shown = "; ".join(p[:_MAX_PROBLEM_CHARS] for p in problems[-2:])
    return (
        f"Your previous answer could not be used ({shown}). "
        f"Answer again with only the JSON object for {schema_name}."
    )


def with_correction(messages: Sequence[Mapping[str, str]], note: str) -> list[dict[str, str]]:
    """``messages`` with ``note`` appended to the last user turn (or as a new last user turn).

    The invalid answer is not echoed back as an assistant turn, so the prompt grows by the note
    only and the user/assistant alternation stays valid.
    """
    out = [dict(m) for m in messages]
    if out and out[-1]["role"] in ("user", "human"):
        out[-1]["content"] = f"{out[-1]['content']}\n\n{note}"
    else:
        out.append({"role": "user", "content": note})
    return out
