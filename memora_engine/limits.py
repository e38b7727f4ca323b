"""Explicit input limits, checked at the public boundary (documented in the README).

Inputs beyond these raise :class:`~memora_engine.errors.InvalidInputError` and write nothing.
"""

from __future__ import annotations

__all__ = [
    "MAX_MEMORY_CHARS",
    "MAX_MESSAGES_PER_INTERACTION",
    "MAX_MESSAGE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_PAGE_LIMIT",
    "MAX_QUERIES_PER_SEARCH",
    "MAX_QUERY_CHARS",
    "MAX_ROLE_CHARS",
]

#: Longest organization name, user name or agent label.
MAX_NAME_CHARS = 256
#: Longest role string of a message block.
MAX_ROLE_CHARS = 64
#: Longest content of one message block (about 25k tokens).
MAX_MESSAGE_CHARS = 100_000
#: Most message blocks in one interaction.
MAX_MESSAGES_PER_INTERACTION = 2_000
#: Longest memory text (memories are meant to be ~25 words; raw mode stores whole messages).
MAX_MEMORY_CHARS = MAX_MESSAGE_CHARS
#: Most queries in one search call.
MAX_QUERIES_PER_SEARCH = 64
#: Longest search query.
MAX_QUERY_CHARS = 4_000
#: Largest ``limit`` of a list call.
MAX_PAGE_LIMIT = 10_000
