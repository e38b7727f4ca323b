"""Interactions and their messages: save, diff-update, read, list, delete.

Transaction bodies run on the SQLite worker thread. Every check that the async layer made
before indexing vectors is made again here, inside the one write transaction.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from memora_engine.errors import ConflictError, InteractionNotFoundError
from memora_engine.graph_db.hooks import Deleted
from memora_engine.graph_db.sqlite import memories as mem
from memora_engine.graph_db.sqlite.codec import decode_time, encode_time, json_list
from memora_engine.graph_db.sqlite.tenants import require_agent, require_user
from memora_engine.graph_db.write_plan import NewMemory, WriteCheck
from memora_engine.message_diff import plan_message_update
from memora_engine.schema.models import Interaction, Memory, MessageBlock

__all__ = [
    "check_write",
    "delete_all_interactions",
    "delete_interaction",
    "get_interaction",
    "list_interactions",
    "save_interaction",
    "update_interaction",
]

Messages = Sequence[tuple[str, str]]


def _find_rowid(
    conn: sqlite3.Connection, org_id: str, user_id: str, interaction_id: str
) -> int | None:
    row = conn.execute(
        "SELECT ix_rowid FROM interactions WHERE org_id = ? AND user_id = ? AND interaction_id = ?",
        (org_id, user_id, interaction_id),
    ).fetchone()
    return None if row is None else int(row[0])


def check_write(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    memories: Sequence[NewMemory],
    *,
    new: bool,
) -> WriteCheck:
    """Check owners, the interaction (absent for a save, present for an update) and preset
    memory ids; return the names the new memories' placeholders resolve to and the metadata
    contrary memories inherit."""
    require_user(conn, org_id, user_id)
    require_agent(conn, org_id, agent_id)
    exists = _find_rowid(conn, org_id, user_id, interaction_id) is not None
    if new and exists:
        raise ConflictError(
            f"Interaction {interaction_id!r} already exists for user {user_id!r} in "
            f"organization {org_id!r}."
        )
    if not new and not exists:
        raise InteractionNotFoundError(
            org_id=org_id, user_id=user_id, interaction_id=interaction_id
        )
    mem.require_free_memory_ids(conn, [m.memory_id for m in memories])
    names = mem.lookup_names(conn, org_id, [m.text for m in memories])
    found = mem.contradicted_memories(conn, org_id, user_id, memories)
    return WriteCheck(names, {memory_id: meta for memory_id, (_, meta) in found.items()})


def _insert_messages(
    conn: sqlite3.Connection, ix_rowid: int, messages: Messages, positions: range
) -> None:
    conn.executemany(
        "INSERT INTO messages (ix_rowid, position, role, content) VALUES (?, ?, ?, ?)",
        [(ix_rowid, p, messages[p][0], messages[p][1]) for p in positions],
    )


def save_interaction(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    date: datetime,
    messages: Messages,
    memories: Sequence[NewMemory],
) -> None:
    """Create the interaction with its messages and memories."""
    check_write(conn, org_id, user_id, agent_id, interaction_id, memories, new=True)
    iso, micros = encode_time(date)
    cursor = conn.execute(
        "INSERT INTO interactions (org_id, user_id, interaction_id, agent_id, created_at, "
        "created_us, updated_at, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (org_id, user_id, interaction_id, agent_id, iso, micros, iso, micros),
    )
    ix_rowid = int(cursor.lastrowid or 0)
    _insert_messages(conn, ix_rowid, messages, range(len(messages)))
    mem.insert_memories(conn, ix_rowid, org_id, user_id, interaction_id, memories)


def update_interaction(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str,
    interaction_id: str,
    date: datetime,
    messages: Messages,
    memories: Sequence[NewMemory],
) -> None:
    """Diff the stored messages into ``messages``, add the memories, stamp time and agent.

    The stored messages are read inside this (immediate) transaction, so concurrent updates of
    one interaction serialize instead of racing.
    """
    check_write(conn, org_id, user_id, agent_id, interaction_id, memories, new=False)
    ix_rowid = _find_rowid(conn, org_id, user_id, interaction_id)
    assert ix_rowid is not None  # checked just above, same transaction
    stored = conn.execute(
        "SELECT role, content FROM messages WHERE ix_rowid = ? ORDER BY position", (ix_rowid,)
    ).fetchall()
    diff = plan_message_update(stored, messages)
    if diff.truncate_from is not None:
        # Cascades to memory_sources: truncated memories stay, without those message links.
        conn.execute(
            "DELETE FROM messages WHERE ix_rowid = ? AND position >= ?",
            (ix_rowid, diff.truncate_from),
        )
    _insert_messages(conn, ix_rowid, messages, diff.appended_positions(len(messages)))
    iso, micros = encode_time(date)
    conn.execute(
        "UPDATE interactions SET updated_at = ?, updated_us = ?, agent_id = ? WHERE ix_rowid = ?",
        (iso, micros, agent_id, ix_rowid),
    )
    mem.insert_memories(conn, ix_rowid, org_id, user_id, interaction_id, memories)


IxRow = tuple[int, str, str, str, str, str, str]


def _build(
    conn: sqlite3.Connection,
    rows: Sequence[IxRow],
    *,
    with_messages: bool,
    with_memories: bool,
    resolve_names: bool,
) -> list[Interaction]:
    rowids = [row[0] for row in rows]
    messages: dict[int, list[MessageBlock]] = defaultdict(list)
    if with_messages and rowids:
        for ix_rowid, position, role, content in conn.execute(
            "SELECT ix_rowid, position, role, content FROM messages "
            "WHERE ix_rowid IN (SELECT value FROM json_each(?)) ORDER BY ix_rowid, position",
            (json_list(rowids),),
        ):
            messages[ix_rowid].append(
                MessageBlock(role=role, content=content, msg_position=position)
            )
    memories: dict[str, list[Memory]] = defaultdict(list)
    if with_memories and rowids:
        found = mem.rows_of_interactions(conn, rowids)
        for memory in mem.build_memories(conn, found, resolve_names=resolve_names):
            memories[memory.interaction_id or ""].append(memory)
    return [
        Interaction(
            org_id=org_id,
            user_id=user_id,
            agent_id=agent_id,
            interaction_id=interaction_id,
            created_at=decode_time(created_at),
            updated_at=decode_time(updated_at),
            messages=messages.get(ix_rowid, []),
            memories=memories.get(interaction_id, []),
        )
        for ix_rowid, org_id, user_id, agent_id, interaction_id, created_at, updated_at in rows
    ]


def get_interaction(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    interaction_id: str,
    *,
    with_messages: bool,
    with_memories: bool,
    resolve_names: bool = True,
) -> Interaction:
    """One interaction of the user, or :class:`InteractionNotFoundError`."""
    row = conn.execute(
        "SELECT ix_rowid, org_id, user_id, agent_id, interaction_id, created_at, updated_at "
        "FROM interactions WHERE org_id = ? AND user_id = ? AND interaction_id = ?",
        (org_id, user_id, interaction_id),
    ).fetchone()
    if row is None:
        raise InteractionNotFoundError(
            org_id=org_id, user_id=user_id, interaction_id=interaction_id
        )
    return _build(
        conn,
        [row],
        with_messages=with_messages,
        with_memories=with_memories,
        resolve_names=resolve_names,
    )[0]


def list_interactions(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    *,
    with_messages: bool,
    with_memories: bool,
    skip: int,
    limit: int,
    resolve_names: bool = True,
) -> list[Interaction]:
    """A user's interactions, most recently updated first (ties by id), paginated."""
    require_user(conn, org_id, user_id)
    rows = conn.execute(
        "SELECT ix_rowid, org_id, user_id, agent_id, interaction_id, created_at, updated_at "
        "FROM interactions WHERE org_id = ? AND user_id = ? "
        "ORDER BY updated_us DESC, interaction_id DESC LIMIT ? OFFSET ?",
        (org_id, user_id, limit, skip),
    ).fetchall()
    return _build(
        conn,
        rows,
        with_messages=with_messages,
        with_memories=with_memories,
        resolve_names=resolve_names,
    )


def delete_interaction(
    conn: sqlite3.Connection, org_id: str, user_id: str, interaction_id: str
) -> Deleted:
    """Delete one interaction, its messages and memories; report the deleted memory ids."""
    ix_rowid = _find_rowid(conn, org_id, user_id, interaction_id)
    if ix_rowid is None:
        return Deleted(found=False)
    rows = conn.execute(
        "SELECT mem_rowid, memory_id FROM memories WHERE ix_rowid = ?", (ix_rowid,)
    ).fetchall()
    mem.delete_memory_rows(conn, [row[0] for row in rows])
    conn.execute("DELETE FROM interactions WHERE ix_rowid = ?", (ix_rowid,))
    return Deleted(found=True, memory_ids=tuple(str(row[1]) for row in rows))


def delete_all_interactions(conn: sqlite3.Connection, org_id: str, user_id: str) -> Deleted:
    """Delete every interaction of the user with messages and memories; the user stays."""
    ids = mem.delete_user_memories(conn, org_id, user_id).memory_ids
    cursor = conn.execute(
        "DELETE FROM interactions WHERE org_id = ? AND user_id = ?", (org_id, user_id)
    )
    return Deleted(found=cursor.rowcount > 0 or bool(ids), memory_ids=ids)
