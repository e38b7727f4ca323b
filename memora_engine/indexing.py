"""Context-aware index text of raw-mode memories (pure): what the BM25 vector of a turn sees.

A raw-mode memory is one message, verbatim. Alone, a short turn ("December 15th.", "Yes, that
one!") has no words a search can match to a question. :func:`context_index_text` builds the
text a turn's BM25 vector is computed from: the date, the previous message (who said what) and
the message itself. The memory text users read, its dense vector and the stored
payload stay the message alone.

:func:`raw_turn_index_text` is the rule the write plan applies: a memory whose text is exactly the
content of its single source message gets this text (persisted in the graph store, so reindex
rebuilds the same vectors); every other memory gets none. The Qdrant stores compute the memory's
BM25 vector from it (``context_indexing=True``, the default).

Measured on LoCoMo (``bench/locomo_recall.py`` offline, ``bench/locomo_engine.py`` through
``Memora``; README "Benchmarks"): BM25 of the turn in context with the plain dense vector
(2 lists, as before) raised held-out recall@10 of raw turns from 0.659 to 0.688 offline, and
from 0.634 to 0.669 through the engine (raw-mode saves, messages without a date prefix).

Examples:
    >>> from datetime import datetime, timezone
    >>> context_index_text(
    ...     "December 15th.",
    ...     speaker="Maria",
    ...     previous=("John", "When is the charity run?"),
    ...     when=datetime(2023, 7, 3, tzinfo=timezone.utc),
    ... )
    '[3 July 2023] John: When is the charity run?\\nMaria: December 15th.'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

__all__ = ["MAX_CONTEXT_CHARS", "context_index_text", "raw_turn_index_text"]

#: The previous message is cut to this many characters (its end is kept: it leads to the turn).
MAX_CONTEXT_CHARS = 600


def context_index_text(
    text: str,
    *,
    speaker: str | None = None,
    previous: tuple[str | None, str] | None = None,
    when: datetime | None = None,
) -> str:
    """The text a raw turn is indexed from: the turn in its context.

    Args:
        text: The message itself (the memory text).
        speaker: Who wrote it (a name or role), or ``None``.
        previous: ``(speaker, text)`` of the message before it in the same interaction, if any.
        when: When it was said; shown as ``[3 July 2023]``.

    Returns:
        ``[<date>] <prev speaker>: <prev text>\\n<speaker>: <text>``, parts omitted when absent.
    """
    lines: list[str] = []
    if previous is not None and previous[1].strip():
        prev_speaker, prev_text = previous
        prev_text = prev_text.strip()[-MAX_CONTEXT_CHARS:]
        lines.append(f"{prev_speaker}: {prev_text}" if prev_speaker else prev_text)
    lines.append(f"{speaker}: {text.strip()}" if speaker else text.strip())
    body = "\n".join(lines)
    if when is not None:
        body = f"[{when.day} {when:%B %Y}] {body}"
    return body


def raw_turn_index_text(
    text: str,
    positions: Sequence[int],
    messages: Sequence[tuple[str, str]],
    when: datetime | None,
) -> str | None:
    """The index text of a memory: the turn in context if it is one message verbatim, else None.

    Args:
        text: The memory text as stored.
        positions: Positions of its source messages in ``messages``.
        messages: ``(role, content)`` of every message of the interaction, in order.
        when: When the memory was obtained.

    Returns:
        :func:`context_index_text` of the turn (speaker = its role, previous = the message
        before it) when the memory has exactly one source and its text equals that message's
        content (spaces at the ends aside); ``None`` otherwise (extracted memories, facts that
        differ from their message).

    Examples:
        >>> msgs = [("user", "When is the run?"), ("assistant", "December 15th.")]
        >>> raw_turn_index_text("December 15th.", [1], msgs, None)
        'user: When is the run?\\nassistant: December 15th.'
        >>> raw_turn_index_text("The run is on December 15th.", [1], msgs, None) is None
        True
    """
    if len(positions) != 1 or not 0 <= positions[0] < len(messages):
        return None
    position = positions[0]
    role, content = messages[position]
    if not text.strip() or text.strip() != content.strip():
        return None
    previous = messages[position - 1] if position > 0 else None
    return context_index_text(text, speaker=role, previous=previous, when=when)
