"""The update diff: how a stored message list becomes the new one (pure, no I/O).

Rules (those of the original Memora):

* empty new list -> every stored message is removed;
* empty stored list -> every new message is added;
* otherwise find the first position whose role or content differs; the stored list is truncated
  from there and the rest of the new list appended. A prefix-equal shorter new list truncates to
  its length; a prefix-equal longer one appends its tail; an equal one changes nothing.

Memories whose source messages are truncated stay; they only lose their message links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MessageDiff", "plan_message_update"]


@dataclass(frozen=True)
class MessageDiff:
    """What to do to the stored messages.

    Attributes:
        truncate_from: delete stored messages at positions ``>= truncate_from`` (``None``: keep all).
        append_from: add new messages at positions ``append_from .. len(new) - 1``.
    """

    truncate_from: int | None
    append_from: int

    def appended_positions(self, new_length: int) -> range:
        """The positions of the messages this diff adds."""
        return range(self.append_from, new_length)


def plan_message_update(
    stored: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]]
) -> MessageDiff:
    """Plan the update of ``stored`` ``(role, content)`` pairs into ``new`` ones.

    Examples:
        >>> plan_message_update([("user", "a")], [("user", "a"), ("assistant", "b")])
        MessageDiff(truncate_from=None, append_from=1)
        >>> plan_message_update([("user", "a"), ("assistant", "b")], [("user", "x")])
        MessageDiff(truncate_from=0, append_from=0)
    """
    old_len, new_len = len(stored), len(new)
    if new_len == 0:
        return MessageDiff(truncate_from=0 if old_len else None, append_from=0)
    if old_len == 0:
        return MessageDiff(truncate_from=None, append_from=0)
    for position in range(min(old_len, new_len)):
        if tuple(stored[position]) != tuple(new[position]):
            return MessageDiff(truncate_from=position, append_from=position)
    if new_len < old_len:
        return MessageDiff(truncate_from=new_len, append_from=new_len)
    return MessageDiff(truncate_from=None, append_from=old_len)
