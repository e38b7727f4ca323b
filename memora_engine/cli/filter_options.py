"""``--filter`` / ``--filter-json`` / ``--since`` / ``--until`` and ``--meta`` / ``--metadata``.

The parsing is pure (no I/O): :func:`build_filter` and :func:`build_metadata` turn the flags into
a Memora filter and metadata, validated by the engine's own rules, so a bad flag fails before
any store is opened (exit code 2, nothing written).

* ``--filter key=value`` (repeatable, all must match): the value is read as JSON when it parses
  (``n=3`` is a number, ``pinned=true`` a bool, ``score={"$gte": 3}`` an operator), else as a
  string (``topic=food``); quote it to force a string (``code='"007"'``).
* ``--filter-json '{...}'``: a whole filter in the language of README "Metadata and filters".
* ``--since`` / ``--until``: an ISO 8601 time or a date; they bound ``obtained_at`` (``--until``
  with a date includes that whole day). Times without an offset are UTC.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, TypeVar

import click

from memora_engine.errors import InvalidInputError
from memora_engine.filters import parse_filter, validate_metadata

__all__ = [
    "build_filter",
    "build_metadata",
    "filter_options",
    "metadata_options",
    "parse_time",
]

F = TypeVar("F", bound=Callable[..., Any])


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pair(item: str, flag: str) -> tuple[str, Any]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise InvalidInputError(f"{flag} takes key=value, got {item!r}.")
    return key.strip(), _value(value)


def parse_time(text: str, flag: str, *, end_of_day: bool = False) -> tuple[datetime, bool]:
    """An ISO 8601 time or date as an aware datetime; also whether it was a bare date.

    A bare date is its midnight UTC (``end_of_day``: the next midnight, for an exclusive bound).

    Raises:
        InvalidInputError: neither an ISO 8601 time nor a date.
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        start = datetime.combine(day, time(), tzinfo=timezone.utc)
        return (start + timedelta(days=1) if end_of_day else start), True
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{flag} takes an ISO 8601 time or a date (e.g. 2024-05-01 or "
            f"2024-05-01T09:00:00+02:00), got {text!r}."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment, False


def build_filter(
    pairs: Sequence[str] = (),
    filter_json: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any] | None:
    """The Memora filter of the CLI flags (all combined with "and"); ``None`` when none is given.

    Raises:
        InvalidInputError: a malformed flag, or a filter the engine would refuse (the message
            names the problem).

    Examples:
        >>> build_filter(["topic=food", "score={\\"$gte\\": 3}"])
        {'$and': [{'topic': 'food'}, {'score': {'$gte': 3}}]}
    """
    parts: list[dict[str, Any]] = [dict([_pair(item, "--filter")]) for item in pairs]
    if filter_json is not None:
        try:
            whole = json.loads(filter_json)
        except ValueError as exc:
            raise InvalidInputError(f"--filter-json is not valid JSON: {exc}.") from None
        if not isinstance(whole, dict):
            raise InvalidInputError("--filter-json takes a JSON object.")
        if whole:
            parts.append(whole)
    window: dict[str, str] = {}
    if since is not None:
        window["$gte"] = parse_time(since, "--since")[0].isoformat()
    if until is not None:
        moment, was_date = parse_time(until, "--until", end_of_day=True)
        window["$lt" if was_date else "$lte"] = moment.isoformat()
    if window:
        parts.append({"obtained_at": window})
    if not parts:
        return None
    combined = parts[0] if len(parts) == 1 else {"$and": parts}
    parse_filter(combined)  # the engine's own validation, before anything is opened
    return combined


def build_metadata(pairs: Sequence[str] = (), metadata_json: str | None = None) -> Any:
    """The metadata of ``--metadata JSON`` with ``--meta key=value`` pairs on top (``None``
    when neither is given).

    Raises:
        InvalidInputError: malformed flags, or metadata over the documented limits.
    """
    if metadata_json is None and not pairs:
        return None
    metadata: dict[str, Any] = {}
    if metadata_json is not None:
        try:
            loaded = json.loads(metadata_json)
        except ValueError as exc:
            raise InvalidInputError(f"--metadata is not valid JSON: {exc}.") from None
        if not isinstance(loaded, dict):
            raise InvalidInputError("--metadata takes a JSON object.")
        metadata.update(loaded)
    metadata.update(_pair(item, "--meta") for item in pairs)
    return validate_metadata(metadata)


def filter_options(func: F) -> F:
    """``--filter``, ``--filter-json``, ``--since`` and ``--until`` (see the module docs)."""
    func = click.option(
        "--until",
        default=None,
        metavar="TIME",
        help="Only memories obtained up to this ISO time or date (a date: that whole day).",
    )(func)
    func = click.option(
        "--since",
        default=None,
        metavar="TIME",
        help="Only memories obtained from this ISO time or date on.",
    )(func)
    func = click.option(
        "--filter-json",
        default=None,
        metavar="JSON",
        help='A whole filter as JSON, e.g. \'{"$or": [{"topic": "food"}, {"pinned": true}]}\'.',
    )(func)
    func = click.option(
        "--filter",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        help="Only memories whose metadata KEY equals VALUE (JSON when it parses, else text; "
        "repeatable: all must match).",
    )(func)
    return func


def metadata_options(func: F) -> F:
    """``--meta key=value`` (repeatable) and ``--metadata JSON``."""
    func = click.option(
        "--metadata",
        "metadata_json",
        default=None,
        metavar="JSON",
        help='Metadata as a JSON object, e.g. \'{"topic": "food", "priority": 2}\'.',
    )(func)
    func = click.option(
        "--meta",
        "meta",
        multiple=True,
        metavar="KEY=VALUE",
        help="One metadata entry (VALUE is JSON when it parses, else text; repeatable).",
    )(func)
    return func
