"""Pure write planning shared by the graph backends (no I/O).

A write first turns the validated DTO into :class:`NewMemory` rows with their final ids, times
and agents; the same rows then feed the vector index (with names resolved) and the graph
transaction, so both stores hold the same ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from memora_engine.filters import Metadata
from memora_engine.ids import new_memory_id
from memora_engine.indexing import raw_turn_index_text
from memora_engine.placeholders import resolve_placeholders
from memora_engine.schema.models import Memory
from memora_engine.schema.storage import ContraryMemoryToStore, MemoriesAndInteraction

__all__ = [
    "Names",
    "NewMemory",
    "WriteCheck",
    "inherit_metadata",
    "plan_memories",
    "relink_around",
]


@dataclass(frozen=True)
class Names:
    """Current user names and agent labels of one org, keyed by id (for placeholder resolution)."""

    users: Mapping[str, str]
    agents: Mapping[str, str]

    def resolve(self, text: str, *, user_id: str, agent_id: str) -> str:
        """``text`` of a memory of ``user_id`` / ``agent_id`` with its placeholders replaced.

        Only the memory's own user and agent are resolved (that is all extraction writes), so
        text a user typed, such as another user's ``user_<id>``, never reveals a name.
        """
        users = {user_id: self.users[user_id]} if user_id in self.users else {}
        agents = {agent_id: self.agents[agent_id]} if agent_id in self.agents else {}
        return resolve_placeholders(text, users, agents)


@dataclass(frozen=True)
class NewMemory:
    """One memory about to be written, with everything the store needs."""

    memory_id: str
    text: str
    obtained_at: datetime
    agent_id: str
    positions: tuple[int, ...]
    contradicts: str | None
    #: ``None``: none for a new memory, "inherit from ``contradicts``" for a contrary one
    #: (resolved by :func:`inherit_metadata` before the memory reaches a store).
    metadata: Metadata | None = None
    #: The text the index computes the BM25 vector from, when not the memory itself (a raw
    #: turn in its context, see :func:`~memora_engine.indexing.raw_turn_index_text`).
    index_text: str | None = None

    def to_memory(self, org_id: str, user_id: str, interaction_id: str, names: Names) -> Memory:
        """The memory as the vector index must hold it (names resolved, no sources)."""
        return Memory(
            org_id=org_id,
            user_id=user_id,
            agent_id=self.agent_id,
            interaction_id=interaction_id,
            memory_id=self.memory_id,
            memory=names.resolve(self.text, user_id=user_id, agent_id=self.agent_id),
            obtained_at=self.obtained_at,
            metadata=dict(self.metadata or {}),
            index_text=self.index_text,
        )


@dataclass(frozen=True)
class WriteCheck:
    """What the pre-check of a write found: the names to resolve and, for contrary memories
    planned without metadata, the metadata of the memories they replace (by memory id)."""

    names: Names
    inherited: Mapping[str, Metadata] = field(default_factory=dict)


def inherit_metadata(
    planned: Sequence[NewMemory], inherited: Mapping[str, Metadata]
) -> tuple[NewMemory, ...]:
    """Give every planned memory its final metadata.

    A memory with metadata keeps it; a contrary memory without takes the metadata of the
    memory it replaces (``inherited``, keyed by memory id; missing means ``{}``); any other
    gets ``{}``.
    """
    out: list[NewMemory] = []
    for memory in planned:
        if memory.metadata is not None:
            out.append(memory)
            continue
        source = inherited.get(memory.contradicts, {}) if memory.contradicts else {}
        out.append(replace(memory, metadata=dict(source)))
    return tuple(out)


def plan_memories(data: MemoriesAndInteraction, agent_id: str) -> list[NewMemory]:
    """Assign ids, times, agents and index texts to the DTO's new and contrary memories, in
    write order."""
    messages = [(m.role, m.content) for m in data.interaction]
    planned: list[NewMemory] = []
    for item in data.all_memories():
        contradicts = (
            item.existing_contrary_memory_id if isinstance(item, ContraryMemoryToStore) else None
        )
        positions = tuple(item.source_msg_block_pos)
        obtained_at = item.obtained_at or data.interaction_date
        planned.append(
            NewMemory(
                memory_id=item.memory_id or new_memory_id(),
                text=item.memory,
                obtained_at=obtained_at,
                agent_id=item.agent_id or agent_id,
                positions=positions,
                contradicts=contradicts,
                metadata=_planned_metadata(item.metadata, contradicts),
                index_text=raw_turn_index_text(item.memory, positions, messages, obtained_at),
            )
        )
    return planned


def _planned_metadata(metadata: Metadata | None, contradicts: str | None) -> Metadata | None:
    if metadata is not None:
        return dict(metadata)
    return None if contradicts else {}


def relink_around(links: Iterable[tuple[int, int]], doomed: set[int]) -> set[tuple[int, int]]:
    """Links that keep history chains connected once the ``doomed`` memories are deleted.

    Every surviving predecessor of a doomed memory is linked to every surviving successor
    reachable through doomed memories only.

    Examples:
        >>> sorted(relink_around([(1, 2), (2, 3), (3, 4)], {2, 3}))
        [(1, 4)]
    """
    successors: dict[int, list[int]] = defaultdict(list)
    entries: list[tuple[int, int]] = []
    for older, newer in links:
        successors[older].append(newer)
        if older not in doomed and newer in doomed:
            entries.append((older, newer))
    result: set[tuple[int, int]] = set()
    for survivor, first in entries:
        stack, seen = [first], {first}
        while stack:
            for nxt in successors[stack.pop()]:
                if nxt not in doomed:
                    if nxt != survivor:
                        result.add((survivor, nxt))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return result
