"""LlamaIndex ``MetadataFilters`` as Memora filters (pure: no I/O).

:func:`to_memora_filter` turns the filters LlamaIndex users already write for vector stores into
the filter language of Memora (README, "Metadata and filters"), following the semantics of
LlamaIndex's own in-memory evaluation (``llama_index.core.vector_stores.utils``) wherever Memora
can express them exactly:

==================  ==========================================================================
LlamaIndex          Memora
==================  ==========================================================================
``EQ``              ``{key: value}`` (on a list field: an element equals ``value``)
``NE``              ``{key: {"$ne": value}}`` (a memory without ``key`` matches too)
``GT`` ... ``LTE``  ``$gt`` / ``$gte`` / ``$lt`` / ``$lte`` (numbers; ``obtained_at``: ISO time)
``IN`` / ``NIN``    ``$in`` / ``$nin`` (a list of values; ``NIN`` matches a missing key)
``ANY``             ``$in``: the list field holds at least one of the values
``ALL``             ``$and`` of equalities: the list field holds every one of the values
``CONTAINS``        ``{key: value}``: the list field holds ``value`` (on a string field this is
                    equality: Memora has no substring test)
``IS_EMPTY``        ``key`` missing, an empty list, or ``""``
``TEXT_MATCH*``     refused (:class:`~memora_engine.errors.InvalidInputError`): no substring test
``AND`` / ``OR``    ``$and`` / ``$or`` over the filters (nested ``MetadataFilters`` allowed)
``NOT``             ``$not`` of their ``$or``: none of the filters matches
==================  ==========================================================================

A Memora filter dict is accepted as is, so every adapter takes either form.

Examples:
    >>> from llama_index.core.vector_stores import (
    ...     FilterOperator, MetadataFilter, MetadataFilters)
    >>> to_memora_filter(MetadataFilters(filters=[
    ...     MetadataFilter(key="topic", value="food"),
    ...     MetadataFilter(key="priority", value=2, operator=FilterOperator.GTE)]))
    {'$and': [{'topic': 'food'}, {'priority': {'$gte': 2}}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from memora_engine.errors import InvalidInputError
from memora_engine.filters import parse_optional_filter, validate_metadata

__all__ = [
    "FilterLike",
    "and_filters",
    "check_adapter_options",
    "to_memora_filter",
]

#: What the LlamaIndex adapters accept as a filter: ``MetadataFilters`` or a Memora filter dict.
FilterLike = MetadataFilters | Mapping[str, Any]

_RANGES = {
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
}
_REFUSED = (FilterOperator.TEXT_MATCH, FilterOperator.TEXT_MATCH_INSENSITIVE)


def to_memora_filter(filters: FilterLike | None) -> dict[str, Any] | None:
    """The Memora filter for ``filters``; ``None`` when it filters nothing.

    Raises:
        InvalidInputError: an operator Memora cannot express exactly (``TEXT_MATCH``,
            ``TEXT_MATCH_INSENSITIVE``), a value of the wrong shape for its operator, an empty
            nested ``MetadataFilters``, or something that is no filter.
    """
    if filters is None:
        return None
    if isinstance(filters, MetadataFilters):
        if not filters.filters:
            return None
        return _group(filters)
    if isinstance(filters, Mapping):
        return dict(filters) or None
    raise InvalidInputError(
        "filters must be llama_index MetadataFilters or a Memora filter dict, "
        f"got {type(filters).__name__}."
    )


def check_adapter_options(data: Mapping[str, Any]) -> None:
    """Check the ``filters`` and ``metadata`` options of an adapter before it is built, so bad
    ones raise :class:`~memora_engine.errors.InvalidInputError` (not a pydantic error).

    Raises:
        InvalidInputError: ``filters`` LlamaIndex cannot express in Memora (see
            :func:`to_memora_filter`) or outside Memora's filter language, or ``metadata`` that
            is not a dict within the metadata limits.
    """
    parse_optional_filter(to_memora_filter(data.get("filters")))
    metadata = data.get("metadata")
    if metadata is not None:
        validate_metadata(metadata)


def and_filters(*filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The AND of the non-empty Memora filters; ``None`` when there is none.

    Examples:
        >>> and_filters({"topic": "food"}, None, {"score": {"$gte": 3}})
        {'$and': [{'topic': 'food'}, {'score': {'$gte': 3}}]}
    """
    present = [dict(f) for f in filters if f]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def _group(filters: MetadataFilters) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            if not item.filters:
                raise InvalidInputError(
                    "an empty nested MetadataFilters has no meaning; leave it out."
                )
            children.append(_group(item))
        elif isinstance(item, MetadataFilter | ExactMatchFilter):
            children.append(_condition(item))
        else:
            raise InvalidInputError(
                f"MetadataFilters holds a {type(item).__name__}; expected MetadataFilter."
            )
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.NOT:
        return {"$not": children[0] if len(children) == 1 else {"$or": children}}
    if len(children) == 1:
        return children[0]
    return {"$and" if condition == FilterCondition.AND else "$or": children}


def _condition(item: MetadataFilter | ExactMatchFilter) -> dict[str, Any]:
    operator = getattr(item, "operator", FilterOperator.EQ)
    key, value = item.key, item.value
    build = _BUILDERS.get(operator)
    if build is None:
        hint = " (Memora has no substring test)" if operator in _REFUSED else ""
        raise InvalidInputError(
            f"LlamaIndex filter operator {operator.name} on {key!r} is not supported by "
            f"Memora{hint}; use EQ, NE, GT, GTE, LT, LTE, IN, NIN, ANY, ALL, CONTAINS or "
            "IS_EMPTY."
        )
    return build(key, value, operator)


def _one(key: str, value: Any, operator: FilterOperator) -> Any:
    if value is None or isinstance(value, list):
        raise InvalidInputError(
            f"LlamaIndex filter {operator.name} on {key!r} takes one value, got {value!r}"
            + ("; use IN or ANY for a list." if isinstance(value, list) else ".")
        )
    return value


def _many(key: str, value: Any, operator: FilterOperator) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidInputError(
            f"LlamaIndex filter {operator.name} on {key!r} takes a non-empty list, got {value!r}."
        )
    return list(value)


def _equal(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {key: _one(key, value, operator)}


def _not_equal(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {key: {"$ne": _one(key, value, operator)}}


def _range(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {key: {_RANGES[operator]: _one(key, value, operator)}}


def _in(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {key: {"$in": _many(key, value, operator)}}


def _not_in(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {key: {"$nin": _many(key, value, operator)}}


def _all(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    values = _many(key, value, operator)
    if len(values) == 1:
        return {key: values[0]}
    return {"$and": [{key: v} for v in values]}


def _empty(key: str, value: Any, operator: FilterOperator) -> dict[str, Any]:
    return {"$or": [{key: {"$exists": False}}, {key: ""}]}


_BUILDERS: dict[FilterOperator, Callable[[str, Any, FilterOperator], dict[str, Any]]] = {
    FilterOperator.EQ: _equal,
    FilterOperator.NE: _not_equal,
    FilterOperator.GT: _range,
    FilterOperator.GTE: _range,
    FilterOperator.LT: _range,
    FilterOperator.LTE: _range,
    FilterOperator.IN: _in,
    FilterOperator.NIN: _not_in,
    FilterOperator.ANY: _in,
    FilterOperator.ALL: _all,
    FilterOperator.CONTAINS: _equal,
    FilterOperator.IS_EMPTY: _empty,
}
