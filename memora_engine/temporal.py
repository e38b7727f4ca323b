"""Time expressions in queries, resolved to a time range relative to a reference time (pure).

``resolve_time_range("what did I do last week?", now)`` returns the :class:`TimeRange` of the
calendar week before ``now``'s. Searches use such a range to prefer (``boost``) or keep only
(``filter``) memories whose ``obtained_at`` falls inside it. English only; the first expression
found wins, most specific patterns first (a full date before a month, a month before a year).

Understood: ``today``, ``yesterday``, ``tonight``; ``last|this|next week|weekend|month|year``;
``N days|weeks|months|years ago`` (digits or number words, ``a few``, ``a couple of``);
``last|on Monday`` ...; ``7 July 2023``, ``July 7th, 2023``, ``2023-07-07``; ``May 2023``,
``in May`` (the latest May not after ``now``); ``in 2023``; ``summer 2023`` (northern seasons);
``early|mid|late <month> [year]``.

Examples:
    >>> from datetime import datetime, timezone
    >>> now = datetime(2023, 7, 12, 15, 0, tzinfo=timezone.utc)
    >>> resolve_time_range("who called me yesterday?", now).start.date().isoformat()
    '2023-07-11'
    >>> r = resolve_time_range("trips in May 2023", now)
    >>> (r.start.date().isoformat(), r.end.date().isoformat())
    ('2023-05-01', '2023-06-01')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from memora_engine.errors import InvalidInputError
from memora_engine.ids import ensure_aware

__all__ = ["TimeRange", "resolve_time_range"]

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "a couple of": 2,
    "couple of": 2,
    "two": 2,
    "a few": 3,
    "few": 3,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "several": 3,
}
SEASONS = {"spring": (3, 3), "summer": (6, 3), "autumn": (9, 3), "fall": (9, 3), "winter": (12, 3)}

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NUM = r"(?P<num>\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>day|week|month|year)s?"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("iso", r"\b(?P<year>(?:19|20)\d\d)-(?P<mnum>[01]?\d)-(?P<day>[0-3]?\d)\b"),
        ("day_month_year", rf"\b{_DAY}(?:\s+of)?\s+{_MONTH},?\s+{_YEAR}\b"),
        ("month_day_year", rf"\b{_MONTH}\s+{_DAY},?\s*{_YEAR}\b"),
        (
            "part_month",
            rf"\b(?P<part>early|mid|late|end of|beginning of)[\s-]+{_MONTH}(?:,?\s+{_YEAR})?\b",
        ),
        ("month_year", rf"\b{_MONTH},?\s+{_YEAR}\b"),
        ("season", rf"\b(?P<season>spring|summer|autumn|fall|winter)(?:\s+of)?\s+{_YEAR}\b"),
        ("in_month", rf"\b(?:in|during|since|of)\s+{_MONTH}\b(?!\s*\d)"),
        ("year", rf"\b(?:in|during|of|since|for)\s+{_YEAR}\b"),
        ("ago", rf"\b{_NUM}\s+{_UNIT}\s+ago\b"),
        ("relative", r"\b(?P<rel>last|this|next|past)\s+(?P<unit>week|weekend|month|year)\b"),
        ("weekday", r"\b(?P<rel>last|on|this|next)\s+(?P<weekday>" + "|".join(WEEKDAYS) + r")\b"),
        ("day_word", r"\b(?P<word>today|tonight|this morning|this evening|yesterday|tomorrow)\b"),
    )
)


@dataclass(frozen=True)
class TimeRange:
    """A half-open time range ``[start, end)``; either side may be open (``None``).

    Naive datetimes are taken to be UTC.

    Examples:
        >>> from datetime import datetime, timezone
        >>> day = TimeRange(datetime(2023, 5, 1, tzinfo=timezone.utc),
        ...                 datetime(2023, 5, 2, tzinfo=timezone.utc))
        >>> day.contains(datetime(2023, 5, 1, 12, tzinfo=timezone.utc))
        True
    """

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise InvalidInputError("a TimeRange needs a start, an end, or both.")
        if self.start is not None:
            object.__setattr__(self, "start", ensure_aware(self.start, name="time_range.start"))
        if self.end is not None:
            object.__setattr__(self, "end", ensure_aware(self.end, name="time_range.end"))
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidInputError("time_range.end must be after time_range.start.")

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` (aware) is inside the range."""
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)

    def widened(self, after: timedelta) -> TimeRange:
        """The same range with its end moved ``after`` later (facts are told after they happen)."""
        return TimeRange(self.start, None if self.end is None else self.end + after)


def _day(now: datetime, year: int, month: int, day: int) -> datetime:
    return now.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)


def _month_start(now: datetime, year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return _day(now, year, month, 1)


def _days(start: datetime, count: int) -> TimeRange:
    return TimeRange(start, start + timedelta(days=count))


def _months(now: datetime, year: int, month: int, count: int) -> TimeRange:
    return TimeRange(_month_start(now, year, month), _month_start(now, year, month + count))


def _latest_month(now: datetime, month: int) -> int:
    """The year of the latest ``month`` that started no later than ``now``."""
    return now.year if month <= now.month else now.year - 1


def _resolve(name: str, m: re.Match[str], now: datetime) -> TimeRange | None:
    groups = m.groupdict()
    today = _day(now, now.year, now.month, now.day)
    month = MONTHS.get((groups.get("month") or "").lower().rstrip("."))
    year = int(groups["year"]) if groups.get("year") else None
    if name == "iso":
        month = int(groups["mnum"])
    if name in ("iso", "day_month_year", "month_day_year"):
        assert year is not None
        assert month is not None
        return _days(_day(now, year, month, int(groups["day"])), 1)
    if name == "part_month":
        assert month is not None
        year = year or _latest_month(now, month)
        start = _month_start(now, year, month)
        part = groups["part"].lower()
        if part in ("early", "beginning of"):
            return _days(start, 10)
        if part == "mid":
            return _days(start + timedelta(days=9), 12)
        return TimeRange(start + timedelta(days=20), _month_start(now, year, month + 1))
    if name == "month_year":
        assert year is not None
        assert month is not None
        return _months(now, year, month, 1)
    if name == "in_month":
        assert month is not None
        return _months(now, _latest_month(now, month), month, 1)
    if name == "season":
        assert year is not None
        first, count = SEASONS[groups["season"].lower()]
        return _months(now, year, first, count)
    if name == "year":
        assert year is not None
        return _months(now, year, 1, 12)
    if name == "ago":
        raw = groups["num"].lower()
        count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        unit = groups["unit"].lower()
        if unit == "day":
            return _days(today - timedelta(days=count), 1)
        if unit == "week":
            return _days(today - timedelta(days=7 * count + 3), 7)
        if unit == "month":
            return _months(now, now.year, now.month - count, 1)
        return _months(now, now.year - count, 1, 12)
    if name == "relative":
        rel, unit = groups["rel"].lower(), groups["unit"].lower()
        shift = {"last": -1, "past": -1, "this": 0, "next": 1}[rel]
        if unit in ("week", "weekend"):
            monday = today - timedelta(days=today.weekday())
            if rel == "past":
                return TimeRange(today - timedelta(days=7), today + timedelta(days=1))
            start = monday + timedelta(days=7 * shift)
            return _days(start + timedelta(days=5), 2) if unit == "weekend" else _days(start, 7)
        if unit == "month":
            if rel == "past":
                return TimeRange(today - timedelta(days=30), today + timedelta(days=1))
            return _months(now, now.year, now.month + shift, 1)
        if rel == "past":
            return TimeRange(today - timedelta(days=365), today + timedelta(days=1))
        return _months(now, now.year + shift, 1, 12)
    if name == "weekday":
        target = WEEKDAYS.index(groups["weekday"].lower())
        back = (today.weekday() - target) % 7
        rel = groups["rel"].lower()
        if rel == "next":
            return _days(today + timedelta(days=(target - today.weekday()) % 7 or 7), 1)
        if rel == "last" and back == 0:
            back = 7
        return _days(today - timedelta(days=back), 1)
    word = groups["word"].lower()
    offset = {"yesterday": -1, "tomorrow": 1}.get(word, 0)
    return _days(today + timedelta(days=offset), 1)


def resolve_time_range(text: str, now: datetime) -> TimeRange | None:
    """The time range the first time expression of ``text`` names, relative to ``now``.

    Args:
        text: A query or message (English).
        now: The reference time; its time zone is the one of the calendar days (naive: UTC).

    Returns:
        The range, or ``None`` when ``text`` names no time (or an impossible date).

    Raises:
        InvalidInputError: ``now`` is not a datetime.
    """
    now = ensure_aware(now, name="now")
    for name, pattern in _PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        try:
            return _resolve(name, match, now)
        except (ValueError, KeyError, InvalidInputError):
            continue
    return None
