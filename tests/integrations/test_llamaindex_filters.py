"""LlamaIndex ``MetadataFilters`` -> Memora filters (pure, real LlamaIndex classes).

The mapping is checked against LlamaIndex's own in-memory evaluation
(``build_metadata_filter_fn``, what ``SimpleVectorStore`` runs) on records where the two
semantics are meant to agree: scalar fields for EQ / NE / ranges / IN / NIN, list fields for
ANY / ALL / CONTAINS, every field for IS_EMPTY.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from llama_index.core.vector_stores import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from memora_engine.errors import InvalidInputError
from memora_engine.filters import matches, parse_filter
from memora_integrations.llama_index.filters import and_filters, to_memora_filter


def checked_filter(filters: MetadataFilters) -> dict[str, Any] | None:
    """Converted, then parsed by the engine (as every search does)."""
    converted = to_memora_filter(filters)
    parse_filter(converted or {})
    return converted


RECORDS: list[dict[str, Any]] = [
    {"topic": "food", "score": 3, "tags": ["a", "b"]},
    {"topic": "home", "score": 5.5, "tags": ["b"]},
    {"topic": "", "score": 1, "tags": []},
    {"score": 4},
    {"topic": "food", "tags": ["c", "a", "d"]},
    {},
]

SCALAR_CASES = [
    (FilterOperator.EQ, "topic", "food"),
    (FilterOperator.EQ, "score", 3),
    (FilterOperator.NE, "topic", "food"),
    (FilterOperator.NE, "score", 4),
    (FilterOperator.GT, "score", 3),
    (FilterOperator.GTE, "score", 3),
    (FilterOperator.LT, "score", 5.5),
    (FilterOperator.LTE, "score", 4),
    (FilterOperator.IN, "topic", ["food", "work"]),
    (FilterOperator.IN, "score", [1, 4]),
    (FilterOperator.NIN, "topic", ["food"]),
    (FilterOperator.NIN, "score", [3, 5.5]),
]
LIST_CASES = [
    (FilterOperator.ANY, "tags", ["a", "x"]),
    (FilterOperator.ANY, "tags", ["d"]),
    (FilterOperator.ALL, "tags", ["a", "b"]),
    (FilterOperator.ALL, "tags", ["a"]),
    (FilterOperator.CONTAINS, "tags", "b"),
]
EMPTY_CASES = [(FilterOperator.IS_EMPTY, key, None) for key in ("topic", "score", "tags")]
CASES = SCALAR_CASES + LIST_CASES + EMPTY_CASES


def _reference(filters: MetadataFilters) -> list[int]:
    """Indices of RECORDS LlamaIndex's own evaluation keeps."""
    keep = build_metadata_filter_fn(lambda i: RECORDS[int(i)], filters)
    return [i for i in range(len(RECORDS)) if keep(str(i))]


def _memora(filters: MetadataFilters) -> list[int]:
    converted = to_memora_filter(filters)
    assert converted is not None
    tree = parse_filter(converted)
    return [i for i, r in enumerate(RECORDS) if matches(tree, {"metadata": r})]


@pytest.mark.parametrize(("operator", "key", "value"), CASES)
def test_each_operator_agrees_with_llamaindex(
    operator: FilterOperator, key: str, value: Any
) -> None:
    """If this fails, check the row of this operator in the module docstring's table."""
    filters = MetadataFilters(filters=[MetadataFilter(key=key, value=value, operator=operator)])
    assert _memora(filters) == _reference(filters)


@pytest.mark.parametrize("condition", list(FilterCondition))
def test_conditions_agree_with_llamaindex(condition: FilterCondition) -> None:
    for a, b in itertools.combinations(CASES, 2):
        filters = MetadataFilters(
            filters=[
                MetadataFilter(key=a[1], value=a[2], operator=a[0]),
                MetadataFilter(key=b[1], value=b[2], operator=b[0]),
            ],
            condition=condition,
        )
        assert _memora(filters) == _reference(filters), (a, b)


def test_nested_filters_and_legacy_exact_match() -> None:
    """LlamaIndex's in-memory store refuses nesting; vector stores (Qdrant) nest: AND / OR /
    NOT of groups."""
    inner = MetadataFilters(
        filters=[
            MetadataFilter(key="score", value=3, operator=FilterOperator.GTE),
            ExactMatchFilter(key="topic", value="home"),
        ],
        condition=FilterCondition.OR,
    )
    outer = MetadataFilters(
        filters=[
            inner,
            MetadataFilters(
                filters=[MetadataFilter(key="topic", value="food")], condition=FilterCondition.NOT
            ),
        ],
    )
    assert to_memora_filter(outer) == {
        "$and": [
            {"$or": [{"score": {"$gte": 3}}, {"topic": "home"}]},
            {"$not": {"topic": "food"}},
        ]
    }
    tree = parse_filter(to_memora_filter(outer))
    assert [i for i, r in enumerate(RECORDS) if matches(tree, {"metadata": r})] == [1, 3]


def test_builtin_fields_and_time_ranges_pass_through() -> None:
    filters = MetadataFilters(
        filters=[
            MetadataFilter(key="agent_id", value=["a1", "a2"], operator=FilterOperator.IN),
            MetadataFilter(
                key="obtained_at", value="2024-05-01T00:00:00+00:00", operator=FilterOperator.GTE
            ),
        ]
    )
    assert checked_filter(filters) == {
        "$and": [
            {"agent_id": {"$in": ["a1", "a2"]}},
            {"obtained_at": {"$gte": "2024-05-01T00:00:00+00:00"}},
        ]
    }


def test_memora_dicts_pass_through_and_empty_filters_mean_none() -> None:
    assert to_memora_filter({"pinned": True}) == {"pinned": True}
    assert to_memora_filter(None) is None
    assert to_memora_filter({}) is None
    assert to_memora_filter(MetadataFilters(filters=[])) is None
    assert and_filters({"a": 1}, None, {}, {"b": {"$ne": 2}}) == {
        "$and": [{"a": 1}, {"b": {"$ne": 2}}]
    }
    assert and_filters(None, {}) is None


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        (MetadataFilter(key="topic", value="fo", operator=FilterOperator.TEXT_MATCH), "TEXT_MATCH"),
        (
            MetadataFilter(key="topic", value="fo", operator=FilterOperator.TEXT_MATCH_INSENSITIVE),
            "TEXT_MATCH_INSENSITIVE",
        ),
        (MetadataFilter(key="topic", value=["a"], operator=FilterOperator.EQ), "use IN or ANY"),
        (MetadataFilter(key="topic", value="a", operator=FilterOperator.IN), "non-empty list"),
        (MetadataFilter(key="topic", value=[], operator=FilterOperator.ALL), "non-empty list"),
        (MetadataFilter(key="topic", value=None, operator=FilterOperator.EQ), "takes one value"),
        (
            MetadataFilter(key="obtained_at", value=None, operator=FilterOperator.IS_EMPTY),
            "$exists",
        ),
        (MetadataFilter(key="bad key", value="x"), "invalid"),
    ],
)
def test_bad_filters_raise_invalid_input_naming_the_problem(
    filters: MetadataFilter, named: str
) -> None:
    with pytest.raises(InvalidInputError, match=named.replace("$", r"\$")):
        checked_filter(MetadataFilters(filters=[filters]))


def test_other_objects_and_empty_groups_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="MetadataFilters or a Memora filter dict"):
        to_memora_filter(["topic", "food"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="empty nested"):
        to_memora_filter(
            MetadataFilters(filters=[MetadataFilters(filters=[]), MetadataFilter(key="a", value=1)])
        )
