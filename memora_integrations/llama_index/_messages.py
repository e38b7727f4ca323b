"""Pure conversions between LlamaIndex chat messages and Memora interactions (internal, no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock

from memora_engine.schema import Memory, MessageBlock

__all__ = [
    "DEFAULT_MEMORIES_HEADER",
    "Turn",
    "blocks_to_messages",
    "format_memories",
    "from_stored",
    "insert_memories",
    "latest_user_text",
    "memories_outside_window",
    "merge_conversation",
    "message_text",
    "persistable",
    "to_stored",
    "trim_to_tokens",
    "trim_window",
]

#: One stored message as Memora takes it: ``{"role": ..., "content": ...}``.
Turn = dict[str, str]

DEFAULT_MEMORIES_HEADER = (
    "Long-term memories about the user from earlier conversations "
    "(the date each was learned is in brackets):"
)

_SKIPPED_ROLES = frozenset({MessageRole.TOOL, MessageRole.FUNCTION})
_ROLE_ALIASES = {"human": MessageRole.USER, "ai": MessageRole.ASSISTANT}


def message_text(message: ChatMessage) -> str:
    """The text of a message: its text blocks joined by newlines ("" when it has none)."""
    return "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock))


def to_stored(message: ChatMessage) -> Turn | None:
    """The stored form of a message, or ``None`` for run-time scratch.

    Tool results and assistant messages that only carry tool calls (no text) are not part of
    the conversation Memora keeps; their text would be meaningless on reload without the
    provider-specific call ids.
    """
    if message.role in _SKIPPED_ROLES:
        return None
    text = message_text(message)
    if not text.strip():
        return None
    return {"role": message.role.value, "content": text}


def persistable(messages: Sequence[ChatMessage]) -> list[Turn]:
    """The stored forms of ``messages``, scratch dropped, order kept."""
    return [turn for turn in (to_stored(m) for m in messages) if turn is not None]


def from_stored(role: str, content: str) -> ChatMessage:
    """A chat message from a stored ``(role, content)``; unknown roles read as ``user``."""
    try:
        chat_role = MessageRole(role)
    except ValueError:
        chat_role = _ROLE_ALIASES.get(role.lower(), MessageRole.USER)
    return ChatMessage(role=chat_role, content=content)


def blocks_to_messages(blocks: Sequence[MessageBlock]) -> list[ChatMessage]:
    """Stored message blocks as chat messages, in position order."""
    ordered = sorted(blocks, key=lambda b: b.msg_position)
    return [from_stored(b.role, b.content) for b in ordered]


def trim_window(messages: Sequence[ChatMessage], max_messages: int | None) -> int:
    """Index where the visible short-term window starts.

    Keeps the last ``max_messages`` messages, then skips leading assistant messages so the window
    opens on a user turn (when one is left in it).
    """
    if max_messages is None or len(messages) <= max_messages:
        start = 0
    else:
        start = len(messages) - max_messages
    first_user = next(
        (i for i in range(start, len(messages)) if messages[i].role == MessageRole.USER), None
    )
    if first_user is not None and start > 0:
        start = first_user
    return start


def trim_to_tokens(
    messages: Sequence[ChatMessage], budget: int, count: Callable[[str], int]
) -> list[ChatMessage]:
    """The latest messages that fit ``budget`` tokens, the way ``ChatMemoryBuffer`` trims.

    Drops the oldest messages (and then any assistant or tool message that would open the
    window) until the joined text fits; when not even one message fits, keeps the latest one,
    so the model's own length error names the problem instead of a silently empty history.
    """
    if not messages:
        return []

    def cost(k: int) -> int:
        return count(" ".join(message_text(m) for m in messages[-k:]))

    kept = len(messages)
    while kept > 1 and cost(kept) > budget:
        kept -= 1
        while kept > 1 and messages[-kept].role in (MessageRole.ASSISTANT, MessageRole.TOOL):
            kept -= 1
    if cost(kept) > budget:
        return list(messages[-1:])
    return list(messages[-kept:])


def latest_user_text(messages: Sequence[ChatMessage]) -> str | None:
    """Text of the last user message with any text, or ``None``."""
    for message in reversed(messages):
        if message.role == MessageRole.USER:
            text = message_text(message).strip()
            if text:
                return text
    return None


def format_memories(memories: Sequence[Memory], header: str = DEFAULT_MEMORIES_HEADER) -> str:
    """Memories as prompt text: a header, then ``- [YYYY-MM-DD] memory`` lines ("" if none)."""
    if not memories:
        return ""
    lines = [f"- [{m.obtained_at:%Y-%m-%d}] {m.memory}" for m in memories]
    return "\n".join([header, *lines])


def memories_outside_window(
    memories: Sequence[Memory], interaction_id: str | None, window: Sequence[ChatMessage]
) -> list[Memory]:
    """Drop memories of this interaction taken only from messages visible in ``window``.

    Such memories (e.g. raw-mode copies of the last turns) would only repeat the context.
    """
    visible = {(m.role.value, message_text(m)) for m in window}
    kept: list[Memory] = []
    for memory in memories:
        sources = [(s.role, s.content) for s in memory.message_sources]
        repeated = bool(sources) and all(source in visible for source in sources)
        if interaction_id is not None and memory.interaction_id == interaction_id and repeated:
            continue
        kept.append(memory)
    return kept


def insert_memories(
    messages: list[ChatMessage], text: str, *, into: MessageRole
) -> list[ChatMessage]:
    """Put memory text into the first system message, or the last user message.

    ``into=SYSTEM`` prepends to the first system message (one is created at the start if none);
    ``into=USER`` prepends to the latest user message (appended as a user message if none).
    Messages are copied, never mutated.
    """
    if not text:
        return messages
    out = [m.model_copy(deep=True) for m in messages]
    if into == MessageRole.SYSTEM:
        index = next((i for i, m in enumerate(out) if m.role == MessageRole.SYSTEM), None)
    else:
        index = next(
            (i for i in range(len(out) - 1, -1, -1) if out[i].role == MessageRole.USER), None
        )
    if index is None:
        if into == MessageRole.SYSTEM:
            return [ChatMessage(role=MessageRole.SYSTEM, content=text), *out]
        return [*out, ChatMessage(role=MessageRole.USER, content=text)]
    target = out[index]
    target.blocks = [TextBlock(text=text + "\n"), *target.blocks]
    return out


def merge_conversation(stored: Sequence[Turn], incoming: Sequence[Turn]) -> list[Turn]:
    """The stored conversation extended by ``incoming``, which may overlap its tail.

    Used when the same messages can arrive twice (an eager block sees the live window on every
    read, and later the same messages again when the buffer flushes them):

    * the longest tail of ``stored`` equal to a head of ``incoming`` is not repeated;
    * ``incoming`` already present as a contiguous run of ``stored`` adds nothing;
    * otherwise ``incoming`` is appended.

    Examples:
        >>> a, b, c = ({"role": "user", "content": x} for x in "abc")
        >>> merge_conversation([a, b], [b, c]) == [a, b, c]
        True
        >>> merge_conversation([a, b, c], [a, b]) == [a, b, c]
        True
    """
    stored_list, incoming_list = list(stored), list(incoming)
    for k in range(min(len(stored_list), len(incoming_list)), 0, -1):
        if stored_list[-k:] == incoming_list[:k]:
            return stored_list + incoming_list[k:]
    n = len(incoming_list)
    if n and any(
        stored_list[i : i + n] == incoming_list for i in range(len(stored_list) - n, -1, -1)
    ):
        return stored_list
    return stored_list + incoming_list
