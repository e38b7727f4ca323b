"""Time expressions resolved relative to a reference time (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from memora_engine.errors import InvalidInputError
from memora_engine.temporal import TimeRange, resolve_time_range

# A Wednesday afternoon.
NOW = datetime(2023, 7, 12, 15, 30, tzinfo=timezone.utc)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("who called me yesterday?", day(2023, 7, 11), day(2023, 7, 12)),
        ("what's on today", day(2023, 7, 12), day(2023, 7, 13)),
        ("plans for tomorrow", day(2023, 7, 13), day(2023, 7, 14)),
        ("what did I do last week?", day(2023, 7, 3), day(2023, 7, 10)),
        ("this week", day(2023, 7, 10), day(2023, 7, 17)),
        ("last weekend", day(2023, 7, 8), day(2023, 7, 10)),
        ("last month", day(2023, 6, 1), day(2023, 7, 1)),
        ("next month", day(2023, 8, 1), day(2023, 9, 1)),
        ("last year", day(2022, 1, 1), day(2023, 1, 1)),
        ("trips in May 2023", day(2023, 5, 1), day(2023, 6, 1)),
        ("in May", day(2023, 5, 1), day(2023, 6, 1)),
        ("in December", day(2022, 12, 1), day(2023, 1, 1)),
        ("what happened on 7 July, 2023?", day(2023, 7, 7), day(2023, 7, 8)),
        ("on October 13, 2023", day(2023, 10, 13), day(2023, 10, 14)),
        ("news on 9th December 2023", day(2023, 12, 9), day(2023, 12, 10)),
        ("on 2023-02-01", day(2023, 2, 1), day(2023, 2, 2)),
        ("in 2022", day(2022, 1, 1), day(2023, 1, 1)),
        ("summer 2021", day(2021, 6, 1), day(2021, 9, 1)),
        ("mid-August 2023", day(2023, 8, 10), day(2023, 8, 22)),
        ("the beginning of November 2022", day(2022, 11, 1), day(2022, 11, 11)),
        ("3 days ago", day(2023, 7, 9), day(2023, 7, 10)),
        ("two months ago", day(2023, 5, 1), day(2023, 6, 1)),
        ("a couple of years ago", day(2021, 1, 1), day(2022, 1, 1)),
        ("last Monday", day(2023, 7, 10), day(2023, 7, 11)),
        ("last Wednesday", day(2023, 7, 5), day(2023, 7, 6)),
        ("next Friday", day(2023, 7, 14), day(2023, 7, 15)),
    ],
)
def test_resolves_expressions(text: str, start: datetime, end: datetime) -> None:
    found = resolve_time_range(text, NOW)
    assert found == TimeRange(start, end)


def test_month_rollover_at_year_end() -> None:
    january = datetime(2024, 1, 5, tzinfo=timezone.utc)
    assert resolve_time_range("last month", january) == TimeRange(day(2023, 12, 1), day(2024, 1, 1))
    assert resolve_time_range(
        "next month", datetime(2023, 12, 5, tzinfo=timezone.utc)
    ) == TimeRange(day(2024, 1, 1), day(2024, 2, 1))


def test_the_most_specific_expression_wins() -> None:
    # The full date beats its month and its year.
    found = resolve_time_range("in 2023, on 7 July 2023 and in May", NOW)
    assert found == TimeRange(day(2023, 7, 7), day(2023, 7, 8))


@pytest.mark.parametrize("text", ["what is my favourite food?", "I may go", "on 2023-02-30"])
def test_no_time_or_impossible_date_gives_none(text: str) -> None:
    assert resolve_time_range(text, NOW) is None


def test_days_follow_the_reference_time_zone() -> None:
    tokyo = timezone(timedelta(hours=9))
    found = resolve_time_range("yesterday", datetime(2023, 7, 12, 1, 0, tzinfo=tokyo))
    assert found is not None
    assert found.start == datetime(2023, 7, 11, tzinfo=tokyo)


def test_naive_reference_time_is_utc() -> None:
    found = resolve_time_range("yesterday", datetime(2023, 7, 12, 9, 0))
    assert found == TimeRange(day(2023, 7, 11), day(2023, 7, 12))


def test_time_range_contains_is_half_open_and_widens() -> None:
    window = TimeRange(day(2023, 5, 1), day(2023, 5, 2))
    assert window.contains(day(2023, 5, 1))
    assert not window.contains(day(2023, 5, 2))
    assert window.widened(timedelta(days=7)).contains(day(2023, 5, 8))
    assert TimeRange(start=day(2023, 1, 1)).contains(day(2030, 1, 1))
    assert TimeRange(end=day(2023, 1, 1)).contains(day(2000, 1, 1))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"start": day(2023, 5, 2), "end": day(2023, 5, 1)}, {"start": "2023-05-01"}],
)
def test_bad_time_range_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        TimeRange(**kwargs)  # type: ignore[arg-type]


def test_bad_reference_time_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        resolve_time_range("yesterday", "2023-07-12")  # type: ignore[arg-type]
