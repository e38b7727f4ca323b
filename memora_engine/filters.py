"""Memory metadata and the filter language: validation and semantics, with no I/O.

Metadata is a flat JSON object per memory: string keys, values a string, a number, a bool, or a
list of those. A filter is a small MongoDB-like dict over metadata keys and a few built-in
fields; :func:`parse_filter` validates it once into a tree of :class:`Condition`,
:class:`AllOf`, :class:`AnyOf` and :class:`NoneOf` nodes that every backend translates (Qdrant
payload filters, SQL, Cypher) and that :func:`matches` evaluates in Python as the reference
semantics.

Filter language:

* ``{"topic": "food"}`` — equality (on a list value: any element equals).
* ``{"score": {"$gt": 3, "$lte": 5}}`` — ``$gt``, ``$gte``, ``$lt``, ``$lte`` on numbers
  (``obtained_at``: on datetimes or ISO 8601 strings).
* ``{"topic": {"$ne": "food"}}``, ``{"topic": {"$in": [...]}}``, ``{"topic": {"$nin": [...]}}``.
  ``$ne`` and ``$nin`` also match memories without the key.
* ``{"topic": {"$exists": true}}`` (a key whose value is an empty list counts as missing).
* ``{"$and": [f, ...]}``, ``{"$or": [f, ...]}``, ``{"$not": f}``; several keys in one dict
  are combined with "and".

Built-in fields: ``agent_id`` and ``interaction_id`` (strings; equality, ``$ne``, ``$in``,
``$nin``, ``$exists``) and ``obtained_at`` (a time range). Their names are reserved: metadata
cannot use them.

Examples:
    >>> tree = parse_filter({"topic": "food", "score": {"$gte": 3}})
    >>> matches(tree, {"metadata": {"topic": ["food", "health"], "score": 4}})
    True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from memora_engine.errors import InvalidInputError
from memora_engine.ids import ensure_aware

__all__ = [
    "BUILTIN_FIELDS",
    "MAX_FILTER_DEPTH",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_KEYS",
    "MAX_METADATA_KEY_CHARS",
    "MAX_METADATA_LIST_ITEMS",
    "MAX_METADATA_STRING_CHARS",
    "AllOf",
    "AnyOf",
    "Condition",
    "FilterNode",
    "Metadata",
    "MetadataFilter",
    "MetadataScalar",
    "MetadataValue",
    "NoneOf",
    "matches",
    "memory_record",
    "parse_filter",
    "parse_optional_filter",
    "validate_metadata",
]

MetadataScalar = str | int | float | bool
MetadataValue = MetadataScalar | list[MetadataScalar]
Metadata = dict[str, MetadataValue]
#: A filter as callers write it (see the module docstring); parsed by :func:`parse_filter`.
MetadataFilter = Mapping[str, Any]

#: Limits on one memory's metadata.
MAX_METADATA_KEYS = 32
MAX_METADATA_KEY_CHARS = 64
MAX_METADATA_STRING_CHARS = 512
MAX_METADATA_LIST_ITEMS = 32
MAX_METADATA_BYTES = 8192
#: How deeply ``$and`` / ``$or`` / ``$not`` may nest, and how many conditions a filter may hold.
MAX_FILTER_DEPTH = 8
MAX_FILTER_CONDITIONS = 64

#: Built-in fields a filter may name, with the operators each accepts.
BUILTIN_FIELDS: dict[str, frozenset[str]] = {
    "agent_id": frozenset({"$eq", "$ne", "$in", "$nin", "$exists"}),
    "interaction_id": frozenset({"$eq", "$ne", "$in", "$nin", "$exists"}),
    "obtained_at": frozenset({"$gt", "$gte", "$lt", "$lte"}),
}

_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_RANGE_OPS = frozenset({"$gt", "$gte", "$lt", "$lte"})
_ALL_OPS = frozenset({"$eq", "$ne", "$in", "$nin", "$exists"}) | _RANGE_OPS

Operator = Literal["$eq", "$ne", "$in", "$nin", "$exists", "$gt", "$gte", "$lt", "$lte"]


@dataclass(frozen=True)
class Condition:
    """One test of one field: ``field op value`` (``value`` a tuple for ``$in`` / ``$nin``)."""

    field: str
    op: Operator
    value: Any

    @property
    def builtin(self) -> bool:
        """Whether ``field`` is a built-in field rather than a metadata key."""
        return self.field in BUILTIN_FIELDS


@dataclass(frozen=True)
class AllOf:
    """Every child matches."""

    children: tuple[FilterNode, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one child matches."""

    children: tuple[FilterNode, ...]


@dataclass(frozen=True)
class NoneOf:
    """No child matches (``$not`` of one filter)."""

    children: tuple[FilterNode, ...]


FilterNode = Condition | AllOf | AnyOf | NoneOf


# ---------------------------------------------------------------------------------- metadata
def validate_metadata(metadata: object, *, what: str = "metadata") -> Metadata:
    """Check ``metadata`` against the documented limits; return a clean copy.

    Raises:
        InvalidInputError: not a flat JSON object of the allowed types, a reserved or malformed
            key, NaN / infinity, or over a limit. The message names the problem.
    """
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"{what} must be a dict, got {type(metadata).__name__}.")
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidInputError(f"{what} has {len(metadata)} keys; at most {MAX_METADATA_KEYS}.")
    clean: Metadata = {}
    for key, value in metadata.items():
        _check_key(key, what)
        clean[key] = _check_value(value, f"{what}[{key!r}]")
    size = len(json.dumps(clean, ensure_ascii=False).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise InvalidInputError(
            f"{what} is {size} bytes as JSON; at most {MAX_METADATA_BYTES} bytes."
        )
    return clean


def _check_key(key: object, what: str) -> str:
    if not isinstance(key, str):
        raise InvalidInputError(f"{what} keys must be strings, got {type(key).__name__}.")
    if len(key) > MAX_METADATA_KEY_CHARS or not _KEY.match(key):
        raise InvalidInputError(
            f"{what} key {key[:80]!r} is invalid: use 1-{MAX_METADATA_KEY_CHARS} letters, "
            "digits, '_' or '-' (not starting with '-')."
        )
    if key in BUILTIN_FIELDS:
        raise InvalidInputError(f"{what} key {key!r} is reserved for the built-in field.")
    return key


def _check_value(value: object, where: str) -> MetadataValue:
    if isinstance(value, list | tuple):
        if len(value) > MAX_METADATA_LIST_ITEMS:
            raise InvalidInputError(
                f"{where} has {len(value)} items; at most {MAX_METADATA_LIST_ITEMS}."
            )
        return [_check_scalar(item, f"{where}[{i}]") for i, item in enumerate(value)]
    return _check_scalar(value, where)


def _check_scalar(value: object, where: str) -> MetadataScalar:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{where} is {value}; NaN and infinities are not allowed.")
        return value
    if isinstance(value, str):
        if len(value) > MAX_METADATA_STRING_CHARS:
            raise InvalidInputError(
                f"{where} has {len(value)} characters; at most {MAX_METADATA_STRING_CHARS}."
            )
        if "\x00" in value:
            raise InvalidInputError(f"{where} contains a NUL character.")
        return value
    raise InvalidInputError(
        f"{where} must be a string, number, bool or a list of those, got {type(value).__name__}."
    )


# ---------------------------------------------------------------------------------- parsing
def parse_filter(spec: object) -> FilterNode:
    """Validate a filter dict into a tree (an empty dict matches everything).

    Raises:
        InvalidInputError: an unknown operator, a wrong type, a field that cannot be filtered,
            or a filter deeper / larger than the limits. The message names the problem.
    """
    counter = [0]
    return _parse(spec, depth=0, counter=counter)


def parse_optional_filter(spec: object) -> FilterNode | None:
    """Like :func:`parse_filter`, but ``None`` and ``{}`` (match everything) give ``None``.

    Raises:
        InvalidInputError: see :func:`parse_filter`.
    """
    if spec is None or (isinstance(spec, Mapping) and not spec):
        return None
    return parse_filter(spec)


def memory_record(memory: Any) -> dict[str, Any]:
    """The fields :func:`matches` reads, taken from a :class:`~memora_engine.Memory`."""
    return {
        "agent_id": memory.agent_id,
        "interaction_id": memory.interaction_id,
        "obtained_at": memory.obtained_at,
        "metadata": memory.metadata,
    }


def _parse(spec: object, *, depth: int, counter: list[int]) -> FilterNode:
    if depth > MAX_FILTER_DEPTH:
        raise InvalidInputError(f"filter nests deeper than {MAX_FILTER_DEPTH} levels.")
    if not isinstance(spec, Mapping):
        raise InvalidInputError(f"a filter must be a dict, got {type(spec).__name__}.")
    parts: list[FilterNode] = []
    for key, value in spec.items():
        if not isinstance(key, str):
            raise InvalidInputError(f"filter keys must be strings, got {type(key).__name__}.")
        if key in ("$and", "$or"):
            if not isinstance(value, list | tuple) or not value:
                raise InvalidInputError(f"{key} takes a non-empty list of filters.")
            children = tuple(_parse(v, depth=depth + 1, counter=counter) for v in value)
            parts.append(AllOf(children) if key == "$and" else AnyOf(children))
        elif key == "$not":
            parts.append(NoneOf((_parse(value, depth=depth + 1, counter=counter),)))
        elif key.startswith("$"):
            raise InvalidInputError(
                f"unknown filter operator {key!r} (use $and, $or, $not at the top of a filter)."
            )
        else:
            parts.extend(_field_conditions(key, value, counter))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _field_conditions(field: str, spec: object, counter: list[int]) -> list[FilterNode]:
    if field not in BUILTIN_FIELDS:
        _check_key(field, "filter")
    ops = spec if isinstance(spec, Mapping) else {"$eq": spec}
    if not ops:
        raise InvalidInputError(f"filter on {field!r} has no operator.")
    out: list[FilterNode] = []
    for op, value in ops.items():
        if op not in _ALL_OPS:
            raise InvalidInputError(
                f"unknown filter operator {op!r} on {field!r}; use one of "
                f"{', '.join(sorted(_ALL_OPS))}."
            )
        allowed = BUILTIN_FIELDS.get(field)
        if allowed is not None and op not in allowed:
            raise InvalidInputError(f"{op} cannot be used on the built-in field {field!r}.")
        counter[0] += 1
        if counter[0] > MAX_FILTER_CONDITIONS:
            raise InvalidInputError(f"a filter may hold at most {MAX_FILTER_CONDITIONS} tests.")
        out.append(Condition(field, cast(Operator, op), _operand(field, op, value)))
    return out


def _operand(field: str, op: str, value: object) -> Any:
    where = f"filter {field!r} {op}"
    if op == "$exists":
        if not isinstance(value, bool):
            raise InvalidInputError(f"{where} takes true or false.")
        return value
    if field == "obtained_at":
        return _as_datetime(value, where)
    if op in _RANGE_OPS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{where} takes a number, got {type(value).__name__}.")
        return _check_scalar(value, where)
    if op in ("$in", "$nin"):
        if not isinstance(value, list | tuple | set | frozenset) or not value:
            raise InvalidInputError(f"{where} takes a non-empty list.")
        return tuple(_builtin_or_scalar(field, v, where) for v in value)
    return _builtin_or_scalar(field, value, where)


def _builtin_or_scalar(field: str, value: object, where: str) -> MetadataScalar:
    if field in BUILTIN_FIELDS and not isinstance(value, str):
        raise InvalidInputError(f"{where} takes a string id, got {type(value).__name__}.")
    return _check_scalar(value, where)


def _as_datetime(value: object, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(f"{where} takes an ISO 8601 time, got {value!r}.") from None
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{where} takes a datetime, got {type(value).__name__}.")
    return ensure_aware(value, name="obtained_at")


# ---------------------------------------------------------------------------------- semantics
def matches(node: FilterNode, record: Mapping[str, Any]) -> bool:
    """Evaluate a parsed filter on one memory record: the reference semantics.

    ``record`` holds the built-in fields (``agent_id``, ``interaction_id``, ``obtained_at``) and
    ``metadata`` (a dict; missing means empty).
    """
    if isinstance(node, AllOf):
        return all(matches(child, record) for child in node.children)
    if isinstance(node, AnyOf):
        return any(matches(child, record) for child in node.children)
    if isinstance(node, NoneOf):
        return not any(matches(child, record) for child in node.children)
    present, values = _values(node, record)
    op = node.op
    if op == "$exists":
        return present is node.value
    if op == "$ne":
        return not any(_equal(v, node.value) for v in values)
    if op == "$nin":
        return not any(_equal(v, want) for v in values for want in node.value)
    if not present:
        return False
    if op == "$eq":
        return any(_equal(v, node.value) for v in values)
    if op == "$in":
        return any(_equal(v, want) for v in values for want in node.value)
    return any(_compare(v, op, node.value) for v in values)


def _values(node: Condition, record: Mapping[str, Any]) -> tuple[bool, Sequence[Any]]:
    if node.builtin:
        value = record.get(node.field)
    else:
        metadata = record.get("metadata") or {}
        value = metadata.get(node.field)
    if value is None or value == []:
        return False, ()
    return True, (value if isinstance(value, list) else [value])


def _equal(stored: Any, wanted: Any) -> bool:
    # bool is an int in Python; a filter for True must not match 1 (nor the reverse).
    return isinstance(stored, bool) is isinstance(wanted, bool) and stored == wanted


def _compare(stored: Any, op: str, bound: Any) -> bool:
    if isinstance(bound, datetime):
        if not isinstance(stored, datetime):
            return False
    elif isinstance(stored, bool) or not isinstance(stored, int | float):
        return False
    if op == "$gt":
        return bool(stored > bound)
    if op == "$gte":
        return bool(stored >= bound)
    if op == "$lt":
        return bool(stored < bound)
    return bool(stored <= bound)
