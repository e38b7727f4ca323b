"""Pure conversions between Python values and SQLite columns (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone

from memora_engine.ids import ensure_aware

__all__ = ["decode_time", "encode_time", "epoch_micros", "json_list"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch: the sortable twin of a stored timestamp."""
    delta = ensure_aware(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_time(value: datetime) -> tuple[str, int]:
    """``(iso_text, epoch_micros)``; the text keeps the caller's UTC offset exactly."""
    aware = ensure_aware(value)
    return aware.isoformat(), epoch_micros(aware)


def decode_time(text: str) -> datetime:
    """Inverse of :func:`encode_time`'s text: an aware datetime with the stored offset."""
    return datetime.fromisoformat(text)


def json_list(values: Iterable[object]) -> str:
    """Encode values as a JSON array, bound as ONE parameter and read with ``json_each``."""
    return json.dumps(list(values))
