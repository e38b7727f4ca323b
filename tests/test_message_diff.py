"""The update diff (memora_engine.message_diff): pure unit tests, no I/O."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memora_engine.message_diff import MessageDiff, plan_message_update

Pairs = list[tuple[str, str]]


def _apply(stored: Pairs, new: Pairs, diff: MessageDiff) -> Pairs:
    kept = stored if diff.truncate_from is None else stored[: diff.truncate_from]
    assert len(kept) == diff.append_from
    return kept + [new[p] for p in diff.appended_positions(len(new))]


A, B, C, D = ("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d")


def test_empty_new_list_clears_everything() -> None:
    assert plan_message_update([A, B], []) == MessageDiff(truncate_from=0, append_from=0)


def test_both_empty_is_a_no_op() -> None:
    assert plan_message_update([], []) == MessageDiff(truncate_from=None, append_from=0)


def test_empty_stored_list_adds_everything() -> None:
    diff = plan_message_update([], [A, B])
    assert diff == MessageDiff(truncate_from=None, append_from=0)
    assert list(diff.appended_positions(2)) == [0, 1]


def test_first_content_mismatch_truncates_and_appends() -> None:
    diff = plan_message_update([A, B, C], [A, ("assistant", "B!"), C, D])
    assert diff == MessageDiff(truncate_from=1, append_from=1)
    assert list(diff.appended_positions(4)) == [1, 2, 3]


def test_role_mismatch_alone_counts() -> None:
    assert plan_message_update([A, B], [A, ("user", "b")]) == MessageDiff(1, 1)


def test_mismatch_at_first_position_replaces_all() -> None:
    assert plan_message_update([A, B], [C]) == MessageDiff(truncate_from=0, append_from=0)


def test_shorter_prefix_equal_list_truncates() -> None:
    diff = plan_message_update([A, B, C], [A, B])
    assert diff == MessageDiff(truncate_from=2, append_from=2)
    assert list(diff.appended_positions(2)) == []


def test_longer_prefix_equal_list_appends() -> None:
    diff = plan_message_update([A, B], [A, B, C, D])
    assert diff == MessageDiff(truncate_from=None, append_from=2)
    assert list(diff.appended_positions(4)) == [2, 3]


def test_equal_lists_change_nothing() -> None:
    diff = plan_message_update([A, B], [A, B])
    assert diff == MessageDiff(truncate_from=None, append_from=2)
    assert list(diff.appended_positions(2)) == []


def test_lists_of_lists_compare_like_tuples() -> None:
    stored = [["user", "a"], ["assistant", "b"]]
    assert plan_message_update(stored, [A, B, C]) == MessageDiff(None, 2)  # type: ignore[arg-type]


_pairs = st.lists(
    st.tuples(st.sampled_from(["user", "assistant"]), st.sampled_from(["x", "y", "z", ""])),
    max_size=8,
)


@given(stored=_pairs, new=_pairs)
def test_applying_the_plan_yields_the_new_list(stored: Pairs, new: Pairs) -> None:
    """Whatever the lists, truncate-then-append turns the stored list into the new one, keeping
    exactly the longest common prefix (no message is rewritten needlessly)."""
    diff = plan_message_update(stored, new)
    assert _apply(stored, new, diff) == new
    common = 0
    while common < min(len(stored), len(new)) and stored[common] == new[common]:
        common += 1
    assert diff.append_from == common
    assert diff.truncate_from == (common if common < len(stored) else None)
