"""Translate a parsed Memora filter (:mod:`memora_engine.filters`) into a Qdrant payload filter.

One translation serves the Qdrant server / Cloud / local-mode client (``qdrant_client.models``)
and the embedded Qdrant Edge engine (``qdrant_edge``): their filter classes differ only in
names, so each gets a small :class:`_Vocabulary` and the tree walk is shared. The result has the
same meaning as :func:`memora_engine.filters.matches` (the reference semantics; the conformance
test compares both on real engines):

* numbers compare by value (``$eq`` on a number is a closed range, so ``4`` finds ``4.0``);
  booleans equal booleans only; strings by exact match;
* a list value matches when any element does; an empty list counts as a missing key;
* ``$ne`` / ``$nin`` / ``$exists: false`` match memories without the key.

Booleans are stored in the payload as the keywords ``"\x00true"`` / ``"\x00false"``
(:func:`payload_metadata`): Qdrant Edge's Python binding turns ``MatchValue(False)`` into the
integer ``0``, so a stored JSON boolean could never be matched, while metadata strings cannot
contain NUL, so the encoded keywords never collide with user text.

Examples:
    >>> from memora_engine.filters import parse_filter
    >>> flt = to_client_filter(parse_filter({"topic": "food"}), lambda f: f"metadata.{f}")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qdrant_edge as qe
from qdrant_client import models as qm

from memora_engine.filters import AllOf, AnyOf, Condition, FilterNode, NoneOf

__all__ = [
    "KeyOf",
    "client_conditions",
    "edge_conditions",
    "metadata_from_payload",
    "payload_metadata",
    "to_client_filter",
    "to_edge_filter",
]

#: Maps a filter field (a metadata key or a built-in field) to its payload key.
KeyOf = Callable[[str], str]


@dataclass(frozen=True)
class _Vocabulary:
    """The filter classes of one Qdrant flavour."""

    filter: Callable[..., Any]
    match_value: Callable[[Any], Any]
    match_any: Callable[[list[Any]], Any]
    float_range: Callable[..., Any]
    datetime_range: Callable[..., Any]
    field: Callable[..., Any]
    is_empty: Callable[[str], Any]


_CLIENT = _Vocabulary(
    filter=qm.Filter,
    match_value=lambda v: qm.MatchValue(value=v),
    match_any=lambda vs: qm.MatchAny(any=vs),
    float_range=qm.Range,
    datetime_range=qm.DatetimeRange,
    field=lambda key, **kw: qm.FieldCondition(key=key, **kw),
    is_empty=lambda key: qm.IsEmptyCondition(is_empty=qm.PayloadField(key=key)),
)

_EDGE = _Vocabulary(
    filter=qe.Filter,
    match_value=qe.MatchValue,
    match_any=qe.MatchAny,
    float_range=qe.RangeFloat,
    datetime_range=lambda **bounds: qe.RangeDateTime(
        **{name: moment.isoformat() for name, moment in bounds.items()}
    ),
    field=qe.FieldCondition,
    is_empty=qe.IsEmptyCondition,
)

_TRUE, _FALSE = "\x00true", "\x00false"


def _payload_scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    return value


def payload_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Validated metadata as stored in a point's payload (booleans as NUL-prefixed keywords)."""
    return {
        key: [_payload_scalar(v) for v in value]
        if isinstance(value, list)
        else _payload_scalar(value)
        for key, value in metadata.items()
    }


_DECODED = {_TRUE: True, _FALSE: False}


def _decoded_scalar(value: Any) -> Any:
    return _DECODED.get(value, value) if isinstance(value, str) else value


def metadata_from_payload(stored: object) -> dict[str, Any]:
    """The metadata a point's payload holds (booleans decoded); ``{}`` when it has none."""
    if not isinstance(stored, Mapping):
        return {}
    return {
        key: [_decoded_scalar(v) for v in value]
        if isinstance(value, list)
        else _decoded_scalar(value)
        for key, value in stored.items()
    }


_RANGE_NAMES = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}


def to_client_filter(node: FilterNode, key_of: KeyOf) -> qm.Filter:
    """The ``qdrant_client`` filter for ``node`` (server, Cloud, local mode)."""
    return qm.Filter(must=client_conditions(node, key_of))


def to_edge_filter(node: FilterNode, key_of: KeyOf) -> qe.Filter:
    """The Qdrant Edge filter for ``node``."""
    return qe.Filter(must=edge_conditions(node, key_of))


def client_conditions(node: FilterNode, key_of: KeyOf) -> list[Any]:
    """The ``must`` conditions meaning ``node`` (``qdrant_client``), to join with others."""
    return _Translator(_CLIENT, key_of).must(node)


def edge_conditions(node: FilterNode, key_of: KeyOf) -> list[Any]:
    """The ``must`` conditions meaning ``node`` (Qdrant Edge), to join with others."""
    return _Translator(_EDGE, key_of).must(node)


class _Translator:
    def __init__(self, vocabulary: _Vocabulary, key_of: KeyOf) -> None:
        self.v = vocabulary
        self.key_of = key_of

    def must(self, node: FilterNode) -> list[Any]:
        """Top-level conditions that all must hold (an ``AllOf`` is flattened)."""
        if isinstance(node, AllOf):
            return [self.node(c) for c in node.children]
        return [self.node(node)]

    def node(self, node: FilterNode) -> Any:
        """A condition or a nested filter with the meaning of ``node``."""
        if isinstance(node, AllOf):
            return self.v.filter(must=[self.node(c) for c in node.children])
        if isinstance(node, AnyOf):
            return self.v.filter(should=[self.node(c) for c in node.children])
        if isinstance(node, NoneOf):
            return self.v.filter(must_not=[self.node(c) for c in node.children])
        return self.condition(node)

    def condition(self, cond: Condition) -> Any:
        key = self.key_of(cond.field)
        if cond.op == "$exists":
            empty = self.v.is_empty(key)
            return self.v.filter(must_not=[empty]) if cond.value else empty
        if cond.op == "$eq":
            return self.equal(key, cond.value)
        if cond.op == "$ne":
            return self.v.filter(must_not=[self.equal(key, cond.value)])
        if cond.op == "$in":
            return self.one_of(key, cond.value)
        if cond.op == "$nin":
            return self.v.filter(must_not=[self.one_of(key, cond.value)])
        bound = {_RANGE_NAMES[cond.op]: cond.value}
        if isinstance(cond.value, datetime):
            return self.v.field(key, range=self.v.datetime_range(**bound))
        return self.v.field(key, range=self.v.float_range(**bound))

    def equal(self, key: str, value: Any) -> Any:
        if isinstance(value, bool | str):
            return self.v.field(key, match=self.v.match_value(_payload_scalar(value)))
        return self.v.field(key, range=self.v.float_range(gte=value, lte=value))

    def one_of(self, key: str, values: Sequence[Any]) -> Any:
        strings = [_payload_scalar(v) for v in values if isinstance(v, bool | str)]
        others = [self.equal(key, v) for v in values if not isinstance(v, bool | str)]
        if strings and not others:
            return self.v.field(key, match=self.v.match_any(strings))
        if strings:
            others.append(self.v.field(key, match=self.v.match_any(strings)))
        return self.v.filter(should=others)
