"""Identifier generation and validation, and timezone-aware time helpers.

Org, user, agent and interaction ids are ``shortuuid`` strings (22 characters, base57); callers may
also bring their own ids (e.g. their application's user id) as long as they match
:data:`ID_PATTERN`. Memory ids are uuid4 strings, because they double as vector point ids.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from typing import Any

import shortuuid

from memora_engine.errors import InvalidInputError

__all__ = [
    "ID_PATTERN",
    "ensure_aware",
    "new_memory_id",
    "new_short_id",
    "require_id",
    "require_memory_id",
    "require_queries",
    "require_text",
    "utc_now",
]

#: Ids accepted from callers: 1-64 characters, letters, digits, ``_`` and ``-``, starting with a
#: letter or digit. The same alphabet is what name placeholders (``user_<id>``) can carry.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def new_short_id() -> str:
    """Return a new shortuuid id for an org, user, agent or interaction."""
    return str(shortuuid.uuid())


def new_memory_id() -> str:
    """Return a new memory id (a uuid4 string)."""
    return str(uuid.uuid4())


def utc_now() -> datetime:
    """Return the current time, timezone-aware (UTC). Called at use time, never as a default."""
    return datetime.now(timezone.utc)


def ensure_aware(value: datetime, *, name: str = "datetime") -> datetime:
    """Return ``value`` with a timezone; naive datetimes are taken to be UTC.

    Raises:
        InvalidInputError: ``value`` is not a datetime.
    """
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{name} must be a datetime, got {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def require_id(value: Any, name: str) -> str:
    """Validate an org / user / agent / interaction id at the public boundary.

    Raises:
        InvalidInputError: not a string, empty, or outside :data:`ID_PATTERN`.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}.")
    if not ID_PATTERN.fullmatch(value):
        raise InvalidInputError(
            f"{name} {value[:80]!r} is not a valid id: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter or digit."
        )
    return value


def require_memory_id(value: Any, name: str = "memory_id") -> str:
    """Validate a memory id (a uuid string); returns its canonical lower-case form.

    Raises:
        InvalidInputError: not a string or not a uuid.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}.")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInputError(f"{name} {value[:80]!r} is not a memory id (uuid).") from None


def require_text(value: Any, name: str, *, max_chars: int) -> str:
    """Validate a non-blank text field of bounded size (names, labels, memory text).

    Raises:
        InvalidInputError: not a string, blank, too long, or holding a NUL / lone surrogate.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}.")
    if not value.strip():
        raise InvalidInputError(f"{name} must not be empty or blank.")
    if len(value) > max_chars:
        raise InvalidInputError(f"{name} is {len(value)} characters; the limit is {max_chars}.")
    check_encodable(value, name)
    return value


def check_encodable(value: str, name: str) -> None:
    """Reject NUL characters and lone surrogates, which no store can round-trip.

    Raises:
        InvalidInputError: the text cannot be stored faithfully.
    """
    if "\x00" in value:
        raise InvalidInputError(f"{name} contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{name} is not valid Unicode (lone surrogate).") from None


def require_queries(value: Any, *, max_queries: int, max_chars: int) -> list[str]:
    """Validate a list of search queries: 1..max_queries non-blank strings of bounded size.

    Raises:
        InvalidInputError: not a list of strings, empty, too many, blank or too long.
    """
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidInputError("search_queries must be a list of strings.")
    if not value:
        raise InvalidInputError("search_queries must hold at least one query.")
    if len(value) > max_queries:
        raise InvalidInputError(f"{len(value)} queries given; the limit is {max_queries}.")
    return [require_text(q, "search query", max_chars=max_chars) for q in value]
