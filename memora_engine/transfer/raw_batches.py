"""Raw-mode conversations of an import, written in batches (pure helpers for the importer).

In raw mode every user / assistant message becomes a memory verbatim, so a run of new
conversations can go through :meth:`~memora_engine.Memora.restore_interactions`: one encoder
call and one index write per batch of up to :data:`BATCH_TEXTS` messages (length-sorted across
conversations, so short turns are no longer padded to a long one of the same session), then one
graph commit per conversation, in file order. The result is what
``save_or_update_interaction_and_memories(..., infer=False)`` stores for each conversation.

The importer picks each batch's interaction ids and logs them as *pending* in its resume log
before writing, so a run killed mid-batch resumes exactly: a pending conversation whose
interaction exists was committed and is adopted; any other is written again under its id.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from memora_engine import pipeline
from memora_engine.bulk_api import RestoreItem
from memora_engine.ids import utc_now
from memora_engine.schema.storage import MemoriesAndInteraction
from memora_engine.transfer.record_types import InteractionRecord

__all__ = ["BATCH_TEXTS", "message_batches", "raw_restore_item"]

#: Messages per batch: one encoder call (the engine's reindex batch size).
BATCH_TEXTS = 256

Numbered = tuple[int, InteractionRecord]


def message_batches(
    records: Iterable[Numbered], limit: int = BATCH_TEXTS
) -> Iterator[list[Numbered]]:
    """Consecutive runs of ``records`` holding at most ``limit`` messages each (a longer
    conversation is a batch on its own).

    Examples:
        >>> [len(b) for b in message_batches(records, limit=256)]  # doctest: +SKIP
        [12, 9]
    """
    batch: list[Numbered] = []
    size = 0
    for numbered in records:
        count = len(numbered[1].messages)
        if batch and size + count > limit:
            yield batch
            batch, size = [], 0
        batch.append(numbered)
        size += count
    if batch:
        yield batch


def raw_restore_item(record: InteractionRecord, interaction_id: str) -> RestoreItem:
    """The write a raw-mode save of a new conversation makes, under ``interaction_id``.

    ``record`` has its owner ids filled in (the import plan's defaults applied).
    """
    messages = list(record.messages)
    memories = pipeline.raw_memories(messages, range(len(messages)))
    memories, _ = pipeline.stamp_metadata(memories, [], record.metadata)
    write = MemoriesAndInteraction(
        interaction=messages,
        interaction_date=record.updated_at or record.created_at or utc_now(),
        memories=memories,
    )
    return RestoreItem(
        org_id=record.org_id or "",
        user_id=record.user_id or "",
        agent_id=record.agent_id or "",
        record=write,
        interaction_id=interaction_id,
    )
