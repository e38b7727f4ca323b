"""The metadata limits and the filter language (pure: no store, no event loop)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memora_engine.errors import InvalidInputError
from memora_engine.filters import (
    MAX_METADATA_KEYS,
    MAX_METADATA_STRING_CHARS,
    AllOf,
    AnyOf,
    Condition,
    NoneOf,
    matches,
    parse_filter,
    validate_metadata,
)

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
RECORD = {
    "agent_id": "a1",
    "interaction_id": "i1",
    "obtained_at": T0,
    "metadata": {"topic": ["food", "health"], "score": 4, "pinned": True, "lang": "en"},
}


def test_metadata_is_returned_clean() -> None:
    assert validate_metadata({"a": 1, "b": [1, "x", True], "c": 1.5}) == {
        "a": 1,
        "b": [1, "x", True],
        "c": 1.5,
    }


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ([("a", 1)], "must be a dict"),
        ({"a": math.nan}, "NaN"),
        ({"a": math.inf}, "NaN"),
        ({"a": {"nested": 1}}, "string, number, bool"),
        ({"a": None}, "string, number, bool"),
        ({"agent_id": "x"}, "reserved"),
        ({"": 1}, "invalid"),
        ({"a b": 1}, "invalid"),
        ({"k" * 65: 1}, "invalid"),
        ({"a": "x" * (MAX_METADATA_STRING_CHARS + 1)}, "characters"),
        ({f"k{i}": i for i in range(MAX_METADATA_KEYS + 1)}, "keys"),
        ({"a": list(range(33))}, "items"),
        ({"a": "nul\x00"}, "NUL"),
        ({f"k{i}": "x" * 500 for i in range(20)}, "bytes"),
    ],
)
def test_bad_metadata_is_refused_by_name(metadata: object, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        validate_metadata(metadata)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"topic": "food"}, True),
        ({"topic": "travel"}, False),
        ({"lang": {"$ne": "fr"}}, True),
        ({"topic": {"$ne": "food"}}, False),
        ({"missing": {"$ne": "x"}}, True),
        ({"missing": {"$nin": ["x"]}}, True),
        ({"topic": {"$in": ["travel", "health"]}}, True),
        ({"topic": {"$nin": ["travel", "health"]}}, False),
        ({"score": {"$gt": 3, "$lte": 4}}, True),
        ({"score": {"$gt": 4}}, False),
        ({"lang": {"$gt": 1}}, False),
        ({"missing": {"$exists": False}}, True),
        ({"score": {"$exists": True}}, True),
        ({"pinned": True}, True),
        ({"score": True}, False),
        ({"pinned": 1}, False),
        ({"agent_id": "a1", "interaction_id": {"$in": ["i1", "i2"]}}, True),
        ({"agent_id": {"$ne": "a1"}}, False),
        ({"obtained_at": {"$gte": "2024-05-01T00:00:00Z", "$lt": "2024-06-01"}}, True),
        ({"obtained_at": {"$gt": T0}}, False),
        ({"$or": [{"topic": "travel"}, {"score": 4}]}, True),
        ({"$and": [{"topic": "food"}, {"score": 5}]}, False),
        ({"$not": {"topic": "food"}}, False),
        ({"$not": {"$or": [{"lang": "fr"}, {"score": {"$lt": 0}}]}}, True),
    ],
)
def test_semantics(spec: dict[str, object], expected: bool) -> None:
    assert matches(parse_filter(spec), RECORD) is expected


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("topic=food", "must be a dict"),
        ({"topic": {"$regex": "f.*"}}, "unknown filter operator '\\$regex'"),
        ({"$xor": []}, "unknown filter operator"),
        ({"$and": []}, "non-empty list"),
        ({"$or": {"a": 1}}, "non-empty list"),
        ({"score": {"$gt": "3"}}, "takes a number"),
        ({"score": {"$gt": True}}, "takes a number"),
        ({"topic": {"$in": "food"}}, "non-empty list"),
        ({"topic": {"$exists": "yes"}}, "true or false"),
        ({"agent_id": 5}, "string id"),
        ({"agent_id": {"$gt": "a"}}, "cannot be used on the built-in field"),
        ({"obtained_at": "2024-05-01"}, "cannot be used on the built-in field"),
        ({"obtained_at": {"$gt": "yesterday"}}, "ISO 8601"),
        ({"bad key": 1}, "invalid"),
        ({"topic": {}}, "no operator"),
        ({"topic": {"nested": 1}}, "unknown filter operator"),
        ({"topic": [1, 2]}, "string, number, bool"),
        ({"score": math.nan}, "NaN"),
    ],
)
def test_bad_filters_are_refused_by_name(spec: object, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        parse_filter(spec)


def test_filters_nest_only_so_deep() -> None:
    spec: dict[str, object] = {"a": 1}
    for _ in range(10):
        spec = {"$not": spec}
    with pytest.raises(InvalidInputError, match="deeper"):
        parse_filter(spec)


def test_several_keys_mean_and() -> None:
    assert parse_filter({"a": 1, "b": {"$gt": 2}}) == AllOf(
        (Condition("a", "$eq", 1), Condition("b", "$gt", 2))
    )


scalars = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "y", "z"]), st.booleans())
records = st.fixed_dictionaries(
    {"metadata": st.dictionaries(st.sampled_from(["a", "b", "c"]), scalars, max_size=3)}
)
leaves = st.builds(
    lambda key, op, value: {key: {op: value}},
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["$eq", "$ne"]),
    scalars,
)
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda fs: {"$and": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda f: {"$not": f}, inner),
    ),
    max_leaves=8,
)


@given(spec=filters, record=records)
def test_boolean_structure_follows_logic(
    spec: dict[str, object], record: dict[str, object]
) -> None:
    """``$not`` negates, ``$and`` / ``$or`` are all / any, and ``$ne`` is the negation of ``$eq``."""
    tree = parse_filter(spec)
    assert matches(NoneOf((tree,)), record) is not matches(tree, record)
    if isinstance(tree, AnyOf):
        assert matches(tree, record) is any(matches(c, record) for c in tree.children)
    if isinstance(tree, Condition) and tree.op == "$ne":
        eq = Condition(tree.field, "$eq", tree.value)
        assert matches(tree, record) is not matches(eq, record)
