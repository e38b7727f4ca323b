"""LoCoMo (``locomo10.json``) to import records (pure).

Each sample becomes one user (``speaker_a``, id = the ``sample_id``) with a personal agent
(``speaker_b``, id ``<sample_id>-agent``); each session becomes one conversation record dated by
its ``session_<N>_date_time``. ``speaker_a``'s turns have role ``user``, ``speaker_b``'s role
``assistant``; a shared image is kept as ``[shared <blip_caption>]`` after the text. Sessions are
built from the ``session_<N>`` keys (conv-26 has date keys with no session).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

__all__ = ["LOCOMO_ORG_ID", "is_locomo", "locomo_records", "parse_locomo_datetime"]

LOCOMO_ORG_ID = "locomo"
_SESSION = re.compile(r"session_(\d+)")


def is_locomo(data: Any) -> bool:
    """Whether decoded JSON looks like LoCoMo: a list of samples with a ``conversation``."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(s, dict) and isinstance(s.get("conversation"), dict) for s in data)
    )


def parse_locomo_datetime(text: str) -> datetime:
    """Parse ``"1:56 pm on 8 May, 2023"`` (taken as UTC).

    Raises:
        ValueError: another format.
    """
    cleaned = " ".join(text.replace(",", ", ").split())
    return datetime.strptime(cleaned, "%I:%M %p on %d %B, %Y").replace(tzinfo=timezone.utc)


def locomo_records(
    data: list[dict[str, Any]], *, org_id: str | None = None
) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """Build import records from LoCoMo samples; returns ``(records, problems)``.

    Record numbers stand in for line numbers (1-based, in output order). Without ``org_id`` an
    organization ``locomo`` ("LoCoMo") is created.
    """
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    if org_id is None:
        org_id = LOCOMO_ORG_ID
        records.append({"type": "organization", "org_id": org_id, "org_name": "LoCoMo"})
    for index, sample in enumerate(data):
        where = f"sample {index} ({sample.get('sample_id', '?')})"
        conversation = sample["conversation"]
        speaker_a, speaker_b = conversation.get("speaker_a"), conversation.get("speaker_b")
        sample_id = sample.get("sample_id")
        if not isinstance(sample_id, str) or not speaker_a or not speaker_b:
            problems.append(f"{where}: needs sample_id, speaker_a and speaker_b")
            continue
        user_id, agent_id = sample_id, f"{sample_id}-agent"
        records.append(
            {"type": "user", "org_id": org_id, "user_id": user_id, "user_name": speaker_a}
        )
        records.append(
            {
                "type": "agent",
                "org_id": org_id,
                "agent_id": agent_id,
                "agent_label": speaker_b,
                "user_id": user_id,
            }
        )
        numbers = sorted(
            int(m.group(1)) for key in conversation for m in [_SESSION.fullmatch(key)] if m
        )
        for number in numbers:
            turns = conversation[f"session_{number}"]
            stamp = conversation.get(f"session_{number}_date_time")
            try:
                created = parse_locomo_datetime(str(stamp))
            except ValueError:
                problems.append(f"{where}: session {number} has an unreadable date {stamp!r}")
                continue
            messages = []
            for turn in turns:
                role = "user" if turn.get("speaker") == speaker_a else "assistant"
                content = str(turn.get("text", ""))
                if turn.get("blip_caption"):
                    content = f"{content} [shared {turn['blip_caption']}]".strip()
                messages.append({"role": role, "content": content})
            records.append(
                {
                    "type": "interaction",
                    "org_id": org_id,
                    "user_id": user_id,
                    "agent_id": agent_id,
                    "created_at": created.isoformat(),
                    "messages": messages,
                }
            )
    return list(enumerate(records, start=1)), problems
