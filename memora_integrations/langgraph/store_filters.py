"""Item values as Memora metadata, and LangGraph filters pushed down into Memora (pure).

``MemoraStore`` keeps each item's top-level value fields that fit Memora's metadata (a string,
number, bool or list of those, within the limits) as the memory's metadata, and turns a
LangGraph filter into a Memora filter that every matching item also matches (a superset).
The store runs that filter inside Memora's search / listing, so ``limit`` is filled in one
round in the usual case, then checks each item with :func:`matches_filter` (LangGraph's
semantics, exactly) and fetches more only if that check dropped some.

Why a superset and not the same filter: LangGraph compares values the Python way (a list equals
only a list; ``1 == True``) where Memora's language matches any element of a list and keeps
booleans apart from numbers; ``$ne`` is therefore not pushed down, ``1`` / ``True`` equality
becomes ``$in [1, True]``, and a condition on a field that cannot be metadata is left to the
check. A value whose fields do not all fit the metadata limits gets the marker
:data:`PARTIAL_KEY`, and every pushed-down filter lets marked items through.

Examples:
    >>> value_metadata({"content": "Jake is vegan", "kind": "food", "rating": 4, "doc": {}})
    {'content': 'Jake is vegan', 'kind': 'food', 'rating': 4}
    >>> pushdown_filter({"kind": "food", "rating": {"$gte": 3}})
    {'$or': [{'$and': [{'kind': {'$eq': 'food'}}, {'rating': {'$gte': 3}}]}, {'_memora_partial': True}]}
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from memora_engine.errors import InvalidInputError
from memora_engine.filters import validate_metadata

__all__ = [
    "PARTIAL_KEY",
    "check_store_filter",
    "matches_filter",
    "pushdown_filter",
    "value_metadata",
]

#: Metadata marker of an item whose value has fields a filter could match that did not fit
#: the metadata limits (pushed-down filters always let such items through to the check).
PARTIAL_KEY = "_memora_partial"

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}
_RANGE = frozenset({"$gt", "$gte", "$lt", "$lte"})


def _fits(metadata: Mapping[str, Any]) -> bool:
    """Whether Memora accepts ``metadata`` (keys, types and limits: the engine's own check)."""
    try:
        validate_metadata(metadata)
    except InvalidInputError:
        return False
    return True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_ops(wanted: object) -> bool:
    """Whether a filter value is an operator dict (any ``$`` key; checked by
    :func:`check_store_filter`) rather than a value to compare with."""
    return isinstance(wanted, Mapping) and any(str(k).startswith("$") for k in wanted)


def check_store_filter(filter_: object) -> None:
    """Refuse a search filter LangGraph's stores refuse: not a dict, or an unknown operator.

    Raises:
        InvalidInputError: naming the problem.
    """
    if filter_ is None:
        return
    if not isinstance(filter_, Mapping):
        raise InvalidInputError(f"a store filter must be a dict, got {type(filter_).__name__}.")
    for key, wanted in filter_.items():
        if not isinstance(key, str) or key.startswith("$"):
            raise InvalidInputError(
                f"store filter keys are value fields, got {key!r} (MemoraStore takes "
                "LangGraph's filters: field -> value or {operator: value})."
            )
        if _is_ops(wanted):
            unknown = sorted(str(op) for op in wanted if op not in _OPS)
            if unknown:
                raise InvalidInputError(
                    f"unknown store filter operator {unknown[0]!r} on {key!r}; use one of "
                    f"{', '.join(_OPS)}."
                )


def value_metadata(value: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata kept for an item value: its top-level fields that fit Memora's metadata.

    Fields in value order, while the limits hold; fields of other types (objects, ``null``,
    strings over 512 characters, long lists, NaN) are not metadata (no pushed-down filter can
    match them). A field that could match a filter but does not fit (an infinity, or a field
    past the key / size limits) marks the item with :data:`PARTIAL_KEY`.
    """
    kept: dict[str, Any] = {}
    partial = False
    for key, field in value.items():
        if key == PARTIAL_KEY or not _fits({key: 0}):
            continue  # a name Memora cannot filter on: no filter on it is pushed down
        if not _fits({key: field}):
            partial = partial or (isinstance(field, float) and math.isinf(field))
            continue
        if _fits({**kept, key: field, PARTIAL_KEY: True}):  # leave room for the marker
            kept[key] = field
        else:
            partial = True
    if partial:
        kept[PARTIAL_KEY] = True
    return kept


def _pushed(op: str, operand: Any) -> dict[str, Any] | None:
    """The Memora condition implied by one LangGraph condition (``None``: nothing implied)."""
    if op == "$eq":
        if isinstance(operand, list) or not _fits({"k": operand}):
            return None
        if (_is_number(operand) or isinstance(operand, bool)) and operand in (0, 1):
            twin = bool(operand) if _is_number(operand) else int(operand)
            return {"$in": [operand, twin]}  # Python: 1 == 1.0 == True
        return {"$eq": operand}
    if op in _RANGE and _is_number(operand) and math.isfinite(operand):
        return {op: operand}
    return None  # $ne: a list value differs from any scalar in LangGraph, not in Memora


def pushdown_filter(filter_: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A Memora filter matched by every item value :func:`matches_filter` accepts.

    ``None`` when nothing can be pushed down (every item is then a candidate).
    """
    conditions: list[dict[str, Any]] = []
    for key, wanted in (filter_ or {}).items():
        if key == PARTIAL_KEY or not _fits({key: 0}):
            continue
        ops = wanted if _is_ops(wanted) else {"$eq": wanted}
        for op, operand in ops.items():
            pushed = _pushed(op, operand)
            if pushed is not None:
                conditions.append({key: pushed})
    if not conditions:
        return None
    wanted_all = conditions[0] if len(conditions) == 1 else {"$and": conditions}
    return {"$or": [wanted_all, {PARTIAL_KEY: True}]}


def matches_filter(value: Mapping[str, Any], filter_: Mapping[str, Any] | None) -> bool:
    """LangGraph's filter semantics on a value: equality, or ``$eq/$ne/$gt/$gte/$lt/$lte``.

    Range operators with a number compare numbers only (a bool is not a number, as in Memora).
    """
    for key, wanted in (filter_ or {}).items():
        actual = value.get(key)
        if _is_ops(wanted):
            for op, operand in wanted.items():
                if op in _RANGE and _is_number(operand) and not _is_number(actual):
                    return False
                try:
                    if not _OPS[op](actual, operand):
                        return False
                except TypeError:
                    return False
        elif actual != wanted:
            return False
    return True
