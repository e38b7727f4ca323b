"""Pure translation between Memora's models and Neo4j rows and parameters (no I/O).

Result rows are plain dicts (the statements in :mod:`.cypher` return map projections); times
arrive as ``neo4j.time.DateTime`` or ``datetime``. Write planning (memory ids, times, agents,
re-linking around deleted versions) is shared with the SQLite store.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from memora_engine.errors import (
    AgentNotFoundError,
    ConflictError,
    InteractionNotFoundError,
    OrganizationNotFoundError,
    UserNotFoundError,
)
from memora_engine.graph_db.write_plan import Names, NewMemory, relink_around
from memora_engine.ids import ensure_aware
from memora_engine.message_diff import MessageDiff, plan_message_update
from memora_engine.placeholders import placeholder_ids
from memora_engine.schema.models import (
    Agent,
    Interaction,
    Memory,
    MessageBlock,
    Organization,
    User,
)

__all__ = [
    "EMPTY_NAMES",
    "Row",
    "agent_key",
    "assemble_resolved",
    "check_write",
    "decode_metadata",
    "encode_metadata",
    "interaction_key",
    "link_params",
    "memory_params",
    "message_params",
    "name_keys",
    "names_by_org",
    "newest_first",
    "plan_update",
    "relink",
    "source_params",
    "to_agent",
    "to_datetime",
    "to_interaction",
    "to_memory",
    "to_messages",
    "to_organization",
    "to_user",
    "user_key",
]

Row = Mapping[str, Any]
#: Resolution for an org whose names were not looked up (nothing resolves).
EMPTY_NAMES = Names(users={}, agents={})


# ---------------------------------------------------------------------------------- keys
def user_key(org_id: str, user_id: str) -> str:
    """``User.org_user_id``: the per-tenant unique key (ids never contain ``:``)."""
    return f"{org_id}:{user_id}"


def agent_key(org_id: str, agent_id: str) -> str:
    """``Agent.org_agent_id``."""
    return f"{org_id}:{agent_id}"


def interaction_key(org_id: str, user_id: str, interaction_id: str) -> str:
    """``Interaction.org_user_interaction_id``: interaction ids are unique per user."""
    return f"{org_id}:{user_id}:{interaction_id}"


# ---------------------------------------------------------------------------------- values
def to_datetime(value: Any) -> datetime:
    """A Neo4j temporal (``neo4j.time.DateTime``) or ``datetime`` as an aware ``datetime``.

    Raises:
        TypeError: the value is not a date-time (a corrupted or foreign node).
    """
    if isinstance(value, datetime):
        return ensure_aware(value)
    to_native = getattr(value, "to_native", None)
    if callable(to_native):
        native = to_native()
        if isinstance(native, datetime):
            return ensure_aware(native)
    raise TypeError(f"expected a date-time from Neo4j, got {type(value).__name__}")


def to_organization(row: Row) -> Organization:
    """An ``o {.org_id, .org_name, .created_at}`` projection."""
    return Organization(
        org_id=row["org_id"], org_name=row["org_name"], created_at=to_datetime(row["created_at"])
    )


def to_user(row: Row) -> User:
    """A ``u {.org_id, .user_id, .user_name, .created_at}`` projection."""
    return User(
        org_id=row["org_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        created_at=to_datetime(row["created_at"]),
    )


def to_agent(row: Row) -> Agent:
    """An ``a {.org_id, .agent_id, .agent_label, .user_id, .created_at}`` projection."""
    return Agent(
        org_id=row["org_id"],
        agent_id=row["agent_id"],
        agent_label=row["agent_label"],
        user_id=row.get("user_id"),
        created_at=to_datetime(row["created_at"]),
    )


def to_messages(rows: Iterable[Row] | None) -> list[MessageBlock]:
    """Message blocks in position order (a graph returns them unordered)."""
    blocks = [
        MessageBlock(role=r["role"], content=r["content"], msg_position=r["msg_position"])
        for r in rows or ()
    ]
    return sorted(blocks, key=lambda block: block.msg_position)


def to_memory(row: Row, names: Mapping[str, Names]) -> Memory:
    """A memory projection with placeholders resolved by its own org's names."""
    return Memory(
        org_id=row["org_id"],
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        interaction_id=row.get("interaction_id"),
        memory_id=row["memory_id"],
        memory=names.get(row["org_id"], EMPTY_NAMES).resolve(
            row["memory"], user_id=row["user_id"], agent_id=row["agent_id"]
        ),
        obtained_at=to_datetime(row["obtained_at"]),
        message_sources=to_messages(row.get("message_sources")),
        metadata=decode_metadata(row.get("metadata")),
        index_text=row.get("index_text"),
    )


def encode_metadata(metadata: Mapping[str, Any] | None) -> str:
    """``Memory.metadata`` as stored: one JSON string property (``{}`` for ``None``)."""
    return json.dumps(dict(metadata or {}), ensure_ascii=False)


def decode_metadata(value: Any) -> dict[str, Any]:
    """The stored JSON string as a dict; a memory stored before metadata existed has none.

    Examples:
        >>> decode_metadata('{"topic": "food"}'), decode_metadata(None)
        ({'topic': 'food'}, {})
    """
    return {} if value is None else dict(json.loads(value))


def newest_first(memories: Iterable[Memory]) -> list[Memory]:
    """Memories by ``obtained_at`` descending, ties by id descending (every store's order)."""
    return sorted(memories, key=lambda m: (m.obtained_at, m.memory_id), reverse=True)


def to_interaction(row: Row, names: Mapping[str, Names]) -> Interaction:
    """A row with ``interaction``, ``messages`` and ``memories`` columns."""
    head = row["interaction"]
    return Interaction(
        org_id=head["org_id"],
        user_id=head["user_id"],
        agent_id=head["agent_id"],
        interaction_id=head["interaction_id"],
        created_at=to_datetime(head["created_at"]),
        updated_at=to_datetime(head["updated_at"]),
        messages=to_messages(row.get("messages")),
        memories=newest_first(to_memory(m, names) for m in row.get("memories") or ()),
    )


# ---------------------------------------------------------------------------------- names
def name_keys(memory_rows: Iterable[Row]) -> tuple[list[str], list[str]]:
    """The ``(org_user_id, org_agent_id)`` keys whose names the memory texts may need.

    Placeholders resolve within each memory's own organization only.
    """
    texts_by_org: dict[str, list[str]] = defaultdict(list)
    for row in memory_rows:
        texts_by_org[row["org_id"]].append(row["memory"])
    users: set[str] = set()
    agents: set[str] = set()
    for org_id, texts in texts_by_org.items():
        user_ids, agent_ids = placeholder_ids(texts)
        users.update(user_key(org_id, uid) for uid in user_ids)
        agents.update(agent_key(org_id, aid) for aid in agent_ids)
    return sorted(users), sorted(agents)


def names_by_org(rows: Iterable[Row]) -> dict[str, Names]:
    """Rows of ``kind, org_id, id, name`` (the NAMES statement) as one :class:`Names` per org."""
    users: dict[str, dict[str, str]] = defaultdict(dict)
    agents: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        target = users if row["kind"] == "user" else agents
        target[row["org_id"]][row["id"]] = row["name"]
    return {
        org: Names(users=users.get(org, {}), agents=agents.get(org, {}))
        for org in set(users) | set(agents)
    }


# ---------------------------------------------------------------------------------- writes
def check_write(
    row: Row | None,
    *,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    new: bool,
) -> frozenset[str]:
    """Turn the CHECK_WRITE row into the error the caller must see, or the linkable ids.

    The linkable ids are the contradicted ids that are memories of this user stored before
    this write; contradictions of anything else get no link.

    Raises:
        OrganizationNotFoundError / UserNotFoundError / AgentNotFoundError: a missing owner.
        ConflictError: a save whose interaction id, or a preset memory id, already exists.
        InteractionNotFoundError: an update of an interaction this user does not have.
    """
    found = row or {}
    if not found.get("org_found"):
        raise OrganizationNotFoundError(org_id=org_id)
    if not found.get("user_found"):
        raise UserNotFoundError(org_id=org_id, user_id=user_id)
    if not found.get("agent_found"):
        raise AgentNotFoundError(org_id=org_id, agent_id=agent_id)
    exists = bool(found.get("interaction_found"))
    if new and exists:
        raise ConflictError(
            f"Interaction {interaction_id!r} already exists for user {user_id!r} in "
            f"organization {org_id!r}."
        )
    if not new and not exists:
        raise InteractionNotFoundError(
            org_id=org_id, user_id=user_id, interaction_id=interaction_id
        )
    taken = sorted(found.get("taken_ids") or [])
    if taken:
        raise ConflictError(f"Memory id(s) already exist: {taken}.")
    return frozenset(found.get("linkable_ids") or [])


def plan_update(stored: Iterable[Row] | None, new: Sequence[tuple[str, str]]) -> MessageDiff:
    """The message diff from the stored blocks (any order) to the new ``(role, content)`` list."""
    return plan_message_update([(m.role, m.content) for m in to_messages(stored)], new)


def message_params(
    messages: Sequence[tuple[str, str]], positions: Iterable[int]
) -> list[dict[str, Any]]:
    """ADD_MESSAGES rows for the given positions of the full message list."""
    return [
        {"msg_position": p, "role": messages[p][0], "content": messages[p][1]} for p in positions
    ]


def memory_params(planned: Sequence[NewMemory]) -> list[dict[str, Any]]:
    """ADD_MEMORIES rows (text keeps its placeholders)."""
    return [
        {
            "memory_id": m.memory_id,
            "agent_id": m.agent_id,
            "memory": m.text,
            "obtained_at": m.obtained_at,
            "metadata": encode_metadata(m.metadata),
            "index_text": m.index_text,
        }
        for m in planned
    ]


def source_params(planned: Sequence[NewMemory]) -> list[dict[str, Any]]:
    """LINK_MESSAGE_SOURCES rows: one per (memory, source position)."""
    return [{"memory_id": m.memory_id, "msg_position": p} for m in planned for p in m.positions]


def link_params(planned: Sequence[NewMemory], linkable: frozenset[str]) -> list[list[str]]:
    """LINK_VERSIONS pairs ``[older, newer]`` for contradictions of memories stored before."""
    return [
        [m.contradicts, m.memory_id]
        for m in planned
        if m.contradicts is not None and m.contradicts in linkable and m.contradicts != m.memory_id
    ]


def relink(links: Iterable[Sequence[str]], doomed: Iterable[str]) -> list[list[str]]:
    """``[older, newer]`` links that keep chains connected once ``doomed`` memories go.

    Examples:
        >>> relink([["a", "b"], ["b", "c"]], {"b"})
        [['a', 'c']]
    """
    index: dict[str, int] = {}
    for older, newer in links:
        index.setdefault(older, len(index))
        index.setdefault(newer, len(index))
    ids = {number: memory_id for memory_id, number in index.items()}
    numbered = [(index[older], index[newer]) for older, newer in links]
    doomed_numbers = {index[d] for d in doomed if d in index}
    bridges = relink_around(numbered, doomed_numbers)
    return sorted([ids[older], ids[newer]] for older, newer in bridges)


# ---------------------------------------------------------------------------------- resolution
Hit = tuple[str, str, str]


def assemble_resolved(
    batch: Sequence[Sequence[Hit]], rows: Iterable[Row], names: Mapping[str, Names]
) -> list[list[Memory]]:
    """Group RESOLVE_HITS rows back into one list per input list.

    Hits are ``(org_id, user_id, memory_id)``. Each hit becomes its chain's head(s), newest
    first; input order is kept, duplicates keep their first position, unknown hits are dropped.
    """
    heads: dict[Hit, list[Memory]] = defaultdict(list)
    for row in rows:
        hit = (row["hit_org_id"], row["hit_user_id"], row["hit_memory_id"])
        heads[hit].append(to_memory(row["memory"], names))
    ordered = {hit: newest_first(found) for hit, found in heads.items()}
    result: list[list[Memory]] = []
    for hits in batch:
        seen: set[str] = set()
        group: list[Memory] = []
        for hit in hits:
            for memory in ordered.get(hit, []):
                if memory.memory_id not in seen:
                    seen.add(memory.memory_id)
                    group.append(memory)
        result.append(group)
    return result
