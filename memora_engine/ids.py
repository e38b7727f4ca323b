"""Identifier generation and validation, and timezone-aware time helpers.

Org, user, agent and interaction ids are ``shortuuid`` strings (22 characters, base57); callers may
also bring their own ids (e.g. their application's user id) as long as they match
:data:`ID_PATTERN`. Memory ids are uuid4 strings, because they double as vector point ids.
"""

from __future__ import annotations

import enum
import functools
import inspect
import re
import reprlib
import types
import typing
import uuid
from collections import abc
from collections.abc import Callable, Coroutine
from datetime import datetime, timezone
from typing import Any, NoReturn, TypeVar, Union

import shortuuid
import typing_extensions
from typing_extensions import ParamSpec

from memora_engine.errors import InvalidInputError

__all__ = [
    "ID_PATTERN",
    "checked_arguments",
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


# ---------------------------------------------------------------------- argument types
P = ParamSpec("P")
T = TypeVar("T")
_Matcher = Callable[[Any], bool]
_STRINGS = (str, bytes, bytearray)


def checked_arguments(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Reject arguments whose type contradicts ``method``'s annotations, before any I/O.

    A public coroutine method decorated with this raises
    :class:`~memora_engine.errors.InvalidInputError` (naming the parameter) for a wrong-typed
    argument, never a ``TypeError`` from deep inside. Only types are checked (cheaply: isinstance
    on each argument, on the items of sequences and sets, not inside mappings); content rules
    (id pattern, text limits, message roles) stay with the validators above.

    Examples:
        >>> class Api:
        ...     @checked_arguments
        ...     async def get(self, org_id: str, limit: int = 10) -> int:
        ...         return limit
    """
    plan: _Plan | None = None  # built on first call, when every annotated name exists

    @functools.wraps(method)
    async def checked(*args: P.args, **kwargs: P.kwargs) -> T:
        nonlocal plan
        if plan is None:
            plan = _argument_checks(method)
        positional, checks = plan
        for name, value in zip(positional, args[1:], strict=False):
            check = checks.get(name)
            if check is not None and not check[0](value):
                _reject(name, check[1], value)
        for name, value in kwargs.items():
            check = checks.get(name)
            if check is not None and not check[0](value):
                _reject(name, check[1], value)
        return await method(*args, **kwargs)

    return checked


#: Positional parameter names after ``self``, and per annotated name (matcher, readable type).
_Plan = tuple[tuple[str, ...], dict[str, tuple[_Matcher, str]]]


def _argument_checks(method: Callable[..., Any]) -> _Plan:
    """How to check ``method``'s arguments (pure; computed once per method)."""
    hints = typing.get_type_hints(method)
    params = list(inspect.signature(method).parameters.values())[1:]
    positional = tuple(
        p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    checks = {
        p.name: (_matcher(hints[p.name]), _describe(hints[p.name]))
        for p in params
        if p.name in hints and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }
    return positional, checks


def _matcher(hint: Any) -> _Matcher:
    """A predicate: does a value have the annotated type (shallow inside mappings)?"""
    plain = _plain_types(hint)
    if plain is not None:
        exact = frozenset(_exact_classes(plain))  # a set lookup before any ABC isinstance
        return lambda value: value.__class__ in exact or isinstance(value, plain)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        plains = tuple(t for a in args for t in _plain_types(a) or ())
        others = [_matcher(a) for a in args if _plain_types(a) is None]
        return lambda value: isinstance(value, plains) or any(m(value) for m in others)
    if hint is int:
        return lambda value: isinstance(value, int) and value.__class__ is not bool
    if hint is float:
        return lambda value: isinstance(value, (int, float)) and value.__class__ is not bool
    if origin is typing.Literal:
        return lambda value: any(value == a and type(value) is type(a) for a in args)
    if origin is abc.Callable:
        return callable
    item = _matcher(args[0]) if args else _matcher(Any)
    if origin in (list, tuple, abc.Sequence):
        return lambda value: (
            (value.__class__ in (list, tuple) or _is_sequence(value))
            and all(item(v) for v in value)
        )
    if origin in (set, frozenset, abc.Set):
        # Any collection of ids will do (a list is as good as a set here), but not a mapping.
        return lambda value: (
            (value.__class__ in (set, frozenset, list, tuple) or _is_id_collection(value))
            and all(item(v) for v in value)
        )
    return lambda value: True  # an annotation this checker does not know: the method decides


def _plain_types(hint: Any) -> tuple[type, ...] | None:
    """The classes an ``isinstance`` check alone decides for ``hint`` (``None``: not that simple)."""
    if hint is Any:
        return (object,)
    if hint is None or hint is type(None):
        return (type(None),)
    if typing_extensions.is_typeddict(hint) or hint is dict:
        return (abc.Mapping,)
    if typing.get_origin(hint) in (dict, abc.Mapping):
        return (abc.Mapping,)
    if typing.get_origin(hint) is not None:
        return None  # list[str] etc. (on Python 3.10 these also pass isinstance(hint, type))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (hint, *{type(member.value) for member in hint})
    if isinstance(hint, type) and hint not in (int, float):
        return (hint,)
    return None


def _exact_classes(plain: tuple[type, ...]) -> set[type]:
    return {*plain, dict} if abc.Mapping in plain else set(plain)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, abc.Sequence) and not isinstance(value, _STRINGS)


def _is_id_collection(value: Any) -> bool:
    return isinstance(value, abc.Collection) and not isinstance(value, (*_STRINGS, abc.Mapping))


def _reject(name: str, expected: str, value: Any) -> NoReturn:
    raise InvalidInputError(
        f"{name} must be {expected}, got {type(value).__name__}: {_short(value)}."
    )


def _describe(hint: Any) -> str:
    """A readable type for error messages (``str | None``, ``Sequence[str]``)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is None or hint is type(None):
        return "None"
    if origin in (Union, types.UnionType):
        return " | ".join(_describe(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(_describe(a) for a in args)}]"
    return str(getattr(hint, "__name__", hint))


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist = 2, 40, 40, 4


def _short(value: Any) -> str:
    """A bounded repr, safe for huge, deeply nested or unprintable values."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
