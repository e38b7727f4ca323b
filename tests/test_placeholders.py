"""Name placeholders (memora_engine.placeholders): pure unit tests, no I/O."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memora_engine.placeholders import (
    AGENT_TOKEN,
    USER_TOKEN,
    placeholder_ids,
    replace_model_tokens,
    resolve_placeholders,
)

USERS = {"u1": "Jake", "abc": "Mary"}
AGENTS = {"bot7": "Helper"}


def test_user_and_agent_placeholders_resolve() -> None:
    text = "user_u1 asked agent_bot7 about user_abc"
    assert resolve_placeholders(text, USERS, AGENTS) == "Jake asked Helper about Mary"


def test_possessive_s_is_kept() -> None:
    assert resolve_placeholders("user_u1's wife is due", USERS, AGENTS) == "Jake's wife is due"
    assert resolve_placeholders("agent_bot7's tone", USERS, AGENTS) == "Helper's tone"


def test_unknown_ids_stay_untouched() -> None:
    text = "user_zz likes agent_nobody and user_u1"
    assert resolve_placeholders(text, USERS, AGENTS) == "user_zz likes agent_nobody and Jake"


def test_user_ids_never_resolve_as_agents_and_back() -> None:
    assert resolve_placeholders("agent_u1 and user_bot7", USERS, AGENTS) == "agent_u1 and user_bot7"


def test_placeholder_inside_a_word_is_not_one() -> None:
    assert resolve_placeholders("superuser_u1 and my-user_u1", USERS, {}) == (
        "superuser_u1 and my-user_u1"
    )


def test_punctuation_around_placeholders() -> None:
    text = "(user_u1), user_u1. user_u1! 'user_u1'"
    assert resolve_placeholders(text, USERS, {}) == "(Jake), Jake. Jake! 'Jake'"


def test_longest_known_id_wins_over_a_prefix() -> None:
    users = {"ab": "Short", "ab_cd": "Long"}
    assert resolve_placeholders("user_ab_cd and user_ab_x", users, {}) == "Long and Short_x"


def test_id_followed_by_underscore_text_resolves_its_prefix() -> None:
    assert resolve_placeholders("user_u1_s car", USERS, {}) == "Jake_s car"


def test_placeholder_ids_lists_candidates() -> None:
    users, agents = placeholder_ids(["user_ab_cd-x met agent_bot7", "user_u1's"])
    assert {"ab_cd-x", "ab_cd", "ab", "u1"} <= users
    assert agents == {"bot7"}
    assert placeholder_ids(["no placeholders here"]) == (set(), set())


def test_replace_model_tokens() -> None:
    text = f"{USER_TOKEN} told {AGENT_TOKEN} that {USER_TOKEN}'s dog is ill"
    stored = replace_model_tokens(text, user_id="u1", agent_id="bot7")
    assert stored == "user_u1 told agent_bot7 that user_u1's dog is ill"
    assert resolve_placeholders(stored, USERS, AGENTS) == "Jake told Helper that Jake's dog is ill"


@given(st.text(max_size=60))
def test_resolving_with_no_names_is_identity(text: str) -> None:
    assert resolve_placeholders(text, {}, {}) == text


@given(st.text(alphabet="abc _'-", max_size=40))
def test_text_without_known_ids_is_unchanged(text: str) -> None:
    assert resolve_placeholders(text, {"zzz9": "Nobody"}, {"zzz9": "Nothing"}) == text
