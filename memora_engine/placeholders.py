"""Name placeholders in memory text: stored as ``user_<id>`` / ``agent_<id>``, resolved on read.

Memories are stored with placeholders so that renaming a user or an agent changes every memory
the next time it is read. Resolution is pure: the store looks up the names of the ids found by
:func:`placeholder_ids` (within the memory's organization only) and calls
:func:`resolve_placeholders`. A possessive ``'s`` after a placeholder is kept; ids that are not
known are left untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "AGENT_TOKEN",
    "USER_TOKEN",
    "placeholder_ids",
    "replace_model_tokens",
    "resolve_placeholders",
]

#: What extraction prompts ask the model to write for the user's / the agent's name.
USER_TOKEN = "#user_#id#"
AGENT_TOKEN = "#agent_#id#"

_PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9_-])(user|agent)_([A-Za-z0-9][A-Za-z0-9_-]*)")


def replace_model_tokens(text: str, *, user_id: str, agent_id: str) -> str:
    """Turn the model's ``#user_#id#`` / ``#agent_#id#`` tokens into stored placeholders."""
    return text.replace(USER_TOKEN, f"user_{user_id}").replace(AGENT_TOKEN, f"agent_{agent_id}")


def placeholder_ids(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """Return the ``(user_ids, agent_ids)`` that placeholders in ``texts`` may refer to.

    Candidates include every prefix split at ``_`` or ``-`` so an id followed by text such as
    ``user_abc_s`` still finds ``abc``; unknown candidates are simply not resolved.
    """
    users: set[str] = set()
    agents: set[str] = set()
    for text in texts:
        for kind, raw in _PLACEHOLDER.findall(text):
            target = users if kind == "user" else agents
            target.update(_candidates(raw))
    return users, agents


def resolve_placeholders(
    text: str, user_names: Mapping[str, str], agent_labels: Mapping[str, str]
) -> str:
    """Replace known ``user_<id>`` / ``agent_<id>`` placeholders with names.

    The longest known id wins, so an id that is a prefix of another never steals its match.

    Examples:
        >>> resolve_placeholders("user_ab1's wife is due", {"ab1": "Jake"}, {})
        "Jake's wife is due"
        >>> resolve_placeholders("user_zz likes tea", {"ab1": "Jake"}, {})
        'user_zz likes tea'
    """

    def substitute(match: re.Match[str]) -> str:
        kind, raw = match.group(1), match.group(2)
        names = user_names if kind == "user" else agent_labels
        for candidate in _candidates(raw):
            if candidate in names:
                return names[candidate] + raw[len(candidate) :]
        return match.group(0)

    return _PLACEHOLDER.sub(substitute, text)


def _candidates(raw: str) -> list[str]:
    """``raw`` and its prefixes cut at ``_`` / ``-``, longest first."""
    cuts = [i for i, ch in enumerate(raw) if ch in "_-"]
    return [raw] + [raw[:i] for i in reversed(cuts) if i > 0]
