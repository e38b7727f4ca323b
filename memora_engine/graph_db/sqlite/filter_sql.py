"""Translate a parsed filter tree into a SQL condition over ``memories`` (pure, no I/O).

The condition is a fragment for a ``WHERE`` clause over the table alias ``m`` plus the values to
bind to its ``?`` placeholders; nothing the caller wrote ever becomes SQL text (metadata keys
travel as JSON-path parameters too). Semantics are those of :func:`memora_engine.filters.matches`:

* a metadata key is read with ``json_each(m.metadata, ?)``, which yields one row for a scalar,
  one per item for a list and none for a missing key or an empty list, so "any value equals"
  and "exists" are one ``EXISTS`` each;
* JSON ``type`` keeps bools (``'true'`` / ``'false'``) apart from numbers (``True`` never
  equals ``1``) and ranges apply to numbers only;
* ``$ne`` / ``$nin`` are the negation of ``$eq`` / ``$in``, so they match memories without the
  key;
* ``agent_id`` and ``interaction_id`` are columns (always present); ``obtained_at`` compares
  on the epoch-microsecond column.

Examples:
    >>> from memora_engine.filters import parse_filter
    >>> sql, params = filter_sql(parse_filter({"agent_id": "a1"}))
    >>> sql, params
    ('m.agent_id = ?', ['a1'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memora_engine.filters import AllOf, AnyOf, Condition, FilterNode, MetadataScalar
from memora_engine.graph_db.sqlite.codec import epoch_micros, json_list

__all__ = ["filter_sql"]

_COLUMNS = {"agent_id": "m.agent_id", "interaction_id": "m.interaction_id"}
_RANGE_SQL = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMBER = "j.type IN ('integer', 'real')"
_INT64 = 2**63


def filter_sql(node: FilterNode) -> tuple[str, list[Any]]:
    """A SQL condition (over alias ``m``) and its parameters, in placeholder order."""
    params: list[Any] = []
    return _node(node, params), params


def _node(node: FilterNode, params: list[Any]) -> str:
    if isinstance(node, Condition):
        return _condition(node, params)
    parts = [_node(child, params) for child in node.children]
    if isinstance(node, AllOf):
        return "(" + " AND ".join(parts) + ")"
    joined = "(" + " OR ".join(parts) + ")"
    return joined if isinstance(node, AnyOf) else f"NOT {joined}"


def _condition(cond: Condition, params: list[Any]) -> str:
    if cond.field == "obtained_at":
        params.append(epoch_micros(cond.value))
        return f"m.obtained_us {_RANGE_SQL[cond.op]} ?"
    if cond.field in _COLUMNS:
        return _column(_COLUMNS[cond.field], cond, params)
    return _metadata(cond, params)


def _column(column: str, cond: Condition, params: list[Any]) -> str:
    # Built-in id columns are NOT NULL: "present" always holds.
    if cond.op == "$exists":
        return "1" if cond.value else "0"
    if cond.op in ("$eq", "$ne"):
        params.append(cond.value)
        return f"{column} {'=' if cond.op == '$eq' else '<>'} ?"
    params.append(json_list(cond.value))
    negate = "NOT " if cond.op == "$nin" else ""
    return f"{column} {negate}IN (SELECT value FROM json_each(?))"  # noqa: S608 (fixed text)


def _metadata(cond: Condition, params: list[Any]) -> str:
    params.append(f'$."{cond.field}"')
    op = cond.op
    if op == "$exists":
        test = "1"
    elif op in _RANGE_SQL:
        test = f"{_NUMBER} AND j.value {_RANGE_SQL[op]} ?"
        params.append(_bindable(cond.value))
    else:
        wanted: Sequence[MetadataScalar] = cond.value if op in ("$in", "$nin") else (cond.value,)
        test = " OR ".join(_equals(value, params) for value in wanted)
    exists = f"EXISTS (SELECT 1 FROM json_each(m.metadata, ?) j WHERE {test})"  # noqa: S608
    negate = op in ("$ne", "$nin") or (op == "$exists" and not cond.value)
    return f"NOT {exists}" if negate else exists


def _equals(value: MetadataScalar, params: list[Any]) -> str:
    if isinstance(value, bool):
        params.append("true" if value else "false")
        return "(j.type = ?)"
    if isinstance(value, str):
        params.append(value)
        return "(j.type = 'text' AND j.value = ?)"
    params.append(_bindable(value))
    return f"({_NUMBER} AND j.value = ?)"


def _bindable(value: int | float) -> int | float:
    """SQLite binds 64-bit integers only; larger ones compare as reals (as JSON stores them)."""
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        return float(value)
    return value
