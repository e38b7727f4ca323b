"""Memories: insert, read (with sources and resolved names), history, links, delete.

Transaction bodies run on the SQLite worker thread. Every lookup is scoped by ``org_id`` and
``user_id``; lists of ids are bound as one JSON parameter and expanded with ``json_each``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence

from memora_engine.errors import ConflictError, MemoryNotFoundError
from memora_engine.filters import FilterNode, Metadata
from memora_engine.graph_db.hooks import Deleted
from memora_engine.graph_db.sqlite.codec import decode_time, encode_time, json_list
from memora_engine.graph_db.sqlite.filter_sql import filter_sql
from memora_engine.graph_db.write_plan import Names, NewMemory, inherit_metadata, relink_around
from memora_engine.placeholders import placeholder_ids
from memora_engine.schema.models import Memory, MessageBlock

__all__ = [
    "MemoryRow",
    "build_memories",
    "contradicted_memories",
    "count_memories",
    "delete_memory",
    "delete_memory_rows",
    "delete_some_memories",
    "delete_user_memories",
    "find_rowid",
    "get_memory",
    "history",
    "insert_memories",
    "links_of_user",
    "list_for_indexing",
    "list_user_memories",
    "lookup_names",
    "require_free_memory_ids",
    "resolve_batch",
    "rows_of_interactions",
    "update_metadata",
]

#: ``(mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, obtained_at,
#: metadata)``, the metadata as JSON text.
MemoryRow = tuple[int, str, str, str, str, str, str, str, str]

#: Resolves nothing: memory text comes back exactly as stored.
_NO_NAMES = Names(users={}, agents={})


# ---------------------------------------------------------------------- names
def lookup_names(conn: sqlite3.Connection, org_id: str, texts: Iterable[str]) -> Names:
    """Names of the users / agents of ``org_id`` whose ids appear as placeholders in ``texts``."""
    user_ids, agent_ids = placeholder_ids(texts)
    users: dict[str, str] = {}
    agents: dict[str, str] = {}
    if user_ids:
        users = dict(
            conn.execute(
                "SELECT user_id, user_name FROM users "
                "WHERE org_id = ? AND user_id IN (SELECT value FROM json_each(?))",
                (org_id, json_list(user_ids)),
            ).fetchall()
        )
    if agent_ids:
        agents = dict(
            conn.execute(
                "SELECT agent_id, agent_label FROM agents "
                "WHERE org_id = ? AND agent_id IN (SELECT value FROM json_each(?))",
                (org_id, json_list(agent_ids)),
            ).fetchall()
        )
    return Names(users=users, agents=agents)


# ---------------------------------------------------------------------- building results
def _sources(conn: sqlite3.Connection, rowids: Sequence[int]) -> dict[int, list[MessageBlock]]:
    found: dict[int, list[MessageBlock]] = defaultdict(list)
    rows = conn.execute(
        "SELECT s.mem_rowid, s.position, g.role, g.content FROM memory_sources s "
        "JOIN messages g ON g.ix_rowid = s.ix_rowid AND g.position = s.position "
        "WHERE s.mem_rowid IN (SELECT value FROM json_each(?)) ORDER BY s.mem_rowid, s.position",
        (json_list(rowids),),
    ).fetchall()
    for mem_rowid, position, role, content in rows:
        found[mem_rowid].append(MessageBlock(role=role, content=content, msg_position=position))
    return found


def build_memories(
    conn: sqlite3.Connection,
    rows: Sequence[MemoryRow],
    *,
    with_sources: bool = True,
    resolve_names: bool = True,
) -> list[Memory]:
    """Turn memory rows into :class:`Memory` objects, in order, names resolved per org
    (or, with ``resolve_names=False``, the text exactly as stored)."""
    if not rows:
        return []
    texts_by_org: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        texts_by_org[row[2]].append(row[6])
    names = {
        org: lookup_names(conn, org, texts) if resolve_names else _NO_NAMES
        for org, texts in texts_by_org.items()
    }
    sources = _sources(conn, [row[0] for row in rows]) if with_sources else {}
    return [
        Memory(
            org_id=org_id,
            user_id=user_id,
            agent_id=agent_id,
            interaction_id=interaction_id,
            memory_id=memory_id,
            memory=names[org_id].resolve(text, user_id=user_id, agent_id=agent_id),
            obtained_at=decode_time(obtained_at),
            message_sources=sources.get(mem_rowid, []),
            metadata=json.loads(metadata),
        )
        for (
            mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, text, obtained_at,
            metadata,
        ) in rows
    ]  # fmt: skip


def _rows_by_rowid(conn: sqlite3.Connection, rowids: Sequence[int]) -> list[MemoryRow]:
    """Memory rows in the order of ``rowids`` (missing ones skipped)."""
    rows = conn.execute(
        "SELECT mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, "
        "obtained_at, metadata FROM memories WHERE mem_rowid IN (SELECT value FROM json_each(?))",
        (json_list(rowids),),
    ).fetchall()
    by_id = {row[0]: row for row in rows}
    return [by_id[r] for r in rowids if r in by_id]


# ---------------------------------------------------------------------- writes
def require_free_memory_ids(conn: sqlite3.Connection, memory_ids: Sequence[str]) -> None:
    """Raise :class:`ConflictError` if a preset memory id is already stored (anywhere: memory
    ids double as vector point ids, so they must be unique across tenants)."""
    if not memory_ids:
        return
    taken = conn.execute(
        "SELECT memory_id FROM memories WHERE memory_id IN (SELECT value FROM json_each(?))",
        (json_list(memory_ids),),
    ).fetchall()
    if taken:
        raise ConflictError(f"Memory id(s) already exist: {sorted(r[0] for r in taken)}.")


def contradicted_memories(
    conn: sqlite3.Connection, org_id: str, user_id: str, memories: Sequence[NewMemory]
) -> dict[str, tuple[int, Metadata]]:
    """``{memory_id: (mem_rowid, metadata)}`` of the user's memories the planned ones contradict.

    Only memories stored before this write can be contradicted (no cycles possible).
    """
    contradicted = {m.contradicts for m in memories if m.contradicts}
    if not contradicted:
        return {}
    rows = conn.execute(
        # "+" keeps the planner on the memory_id index (not a scan of the user's rows).
        "SELECT memory_id, mem_rowid, metadata FROM memories WHERE +org_id = ? AND +user_id = ? "
        "AND memory_id IN (SELECT value FROM json_each(?))",
        (org_id, user_id, json_list(contradicted)),
    ).fetchall()
    return {str(mid): (int(rowid), json.loads(meta)) for mid, rowid, meta in rows}


def insert_memories(
    conn: sqlite3.Connection,
    ix_rowid: int,
    org_id: str,
    user_id: str,
    interaction_id: str,
    memories: Sequence[NewMemory],
) -> None:
    """Insert memories of one interaction with their sources and contradiction links."""
    if not memories:
        return
    require_free_memory_ids(conn, [m.memory_id for m in memories])
    found = contradicted_memories(conn, org_id, user_id, memories)
    existing = {memory_id: rowid for memory_id, (rowid, _) in found.items()}
    inherited = {memory_id: metadata for memory_id, (_, metadata) in found.items()}
    sources: list[tuple[int, int, int]] = []
    links: list[tuple[int, int]] = []
    for memory in inherit_metadata(memories, inherited):
        iso, micros = encode_time(memory.obtained_at)
        cursor = conn.execute(
            "INSERT INTO memories (memory_id, org_id, user_id, agent_id, ix_rowid, "
            "interaction_id, memory, obtained_at, obtained_us, metadata, index_text) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                memory.memory_id,
                org_id,
                user_id,
                memory.agent_id,
                ix_rowid,
                interaction_id,
                memory.text,
                iso,
                micros,
                json.dumps(memory.metadata or {}, ensure_ascii=False),
                memory.index_text,
            ),
        )
        mem_rowid = int(cursor.lastrowid or 0)
        sources.extend((mem_rowid, ix_rowid, position) for position in memory.positions)
        if memory.contradicts in existing:
            links.append((existing[memory.contradicts], mem_rowid))
    if sources:
        conn.executemany(
            "INSERT INTO memory_sources (mem_rowid, ix_rowid, position) VALUES (?, ?, ?)", sources
        )
    if links:
        conn.executemany("INSERT OR IGNORE INTO memory_links (older, newer) VALUES (?, ?)", links)


def delete_memory_rows(conn: sqlite3.Connection, rowids: Sequence[int]) -> None:
    """Delete memories; history chains through them are re-linked around them first."""
    if not rowids:
        return
    ids = json_list(rowids)
    links = conn.execute(
        "SELECT older, newer FROM memory_links WHERE older IN (SELECT value FROM json_each(?)) "
        "UNION SELECT older, newer FROM memory_links "
        "WHERE newer IN (SELECT value FROM json_each(?))",
        (ids, ids),
    ).fetchall()
    bridges = relink_around(links, set(rowids))
    if bridges:
        conn.executemany(
            "INSERT OR IGNORE INTO memory_links (older, newer) VALUES (?, ?)", sorted(bridges)
        )
    conn.execute("DELETE FROM memories WHERE mem_rowid IN (SELECT value FROM json_each(?))", (ids,))


def delete_memory(conn: sqlite3.Connection, org_id: str, user_id: str, memory_id: str) -> Deleted:
    """Delete one memory of the user (re-linking its chain); report it."""
    rowid = find_rowid(conn, org_id, user_id, memory_id)
    if rowid is None:
        return Deleted(found=False)
    delete_memory_rows(conn, [rowid])
    return Deleted(found=True, memory_ids=(memory_id,))


def delete_user_memories(conn: sqlite3.Connection, org_id: str, user_id: str) -> Deleted:
    """Delete every memory of the user (whole chains go, so nothing to re-link); report them."""
    where = (org_id, user_id)
    ids = tuple(
        str(row[0])
        for row in conn.execute(
            "SELECT memory_id FROM memories WHERE org_id = ? AND user_id = ?", where
        ).fetchall()
    )
    conn.execute("DELETE FROM memories WHERE org_id = ? AND user_id = ?", where)
    return Deleted(found=bool(ids), memory_ids=ids)


# ---------------------------------------------------------------------- reads
def _find(conn: sqlite3.Connection, org_id: str, user_id: str, memory_id: str) -> MemoryRow:
    row = conn.execute(
        "SELECT mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, "
        "obtained_at, metadata FROM memories WHERE memory_id = ? AND org_id = ? AND user_id = ?",
        (memory_id, org_id, user_id),
    ).fetchone()
    if row is None:
        raise MemoryNotFoundError(org_id=org_id, user_id=user_id, memory_id=memory_id)
    return row  # type: ignore[no-any-return]


def get_memory(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    memory_id: str,
    *,
    resolve_names: bool = True,
) -> Memory:
    """One memory, with whatever sources remain."""
    row = _find(conn, org_id, user_id, memory_id)
    return build_memories(conn, [row], resolve_names=resolve_names)[0]


def find_rowid(conn: sqlite3.Connection, org_id: str, user_id: str, memory_id: str) -> int | None:
    """The row id of a memory of this user, if it exists."""
    row = conn.execute(
        "SELECT mem_rowid FROM memories WHERE memory_id = ? AND org_id = ? AND user_id = ?",
        (memory_id, org_id, user_id),
    ).fetchone()
    return None if row is None else int(row[0])


def list_user_memories(
    conn: sqlite3.Connection,
    org_id: str,
    user_id: str,
    agent_id: str | None,
    skip: int,
    limit: int,
    *,
    resolve_names: bool = True,
    filter: FilterNode | None = None,
) -> list[Memory]:
    """A user's memories newest first (ties by id), optionally of one agent and matching a
    filter (translated to SQL by :func:`~memora_engine.graph_db.sqlite.filter_sql.filter_sql`)."""
    where = ["m.org_id = ?", "m.user_id = ?"]
    params: list[object] = [org_id, user_id]
    if agent_id is not None:
        where.append("m.agent_id = ?")
        params.append(agent_id)
    if filter is not None:
        condition, values = filter_sql(filter)
        where.append(condition)
        params.extend(values)
    # Only fixed fragments are joined (filter_sql binds every value): no caller text is SQL.
    rows = conn.execute(
        "SELECT mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, "  # noqa: S608
        "obtained_at, metadata FROM memories m WHERE " + " AND ".join(where) + " "
        "ORDER BY obtained_us DESC, memory_id DESC LIMIT ? OFFSET ?",
        (*params, limit, skip),
    ).fetchall()
    return build_memories(conn, rows, resolve_names=resolve_names)


def update_metadata(
    conn: sqlite3.Connection, org_id: str, user_id: str, memory_id: str, metadata: Metadata
) -> Memory:
    """Replace one memory's metadata in place; return the memory (names, sources)."""
    cursor = conn.execute(
        "UPDATE memories SET metadata = ? WHERE memory_id = ? AND org_id = ? AND user_id = ?",
        (json.dumps(metadata, ensure_ascii=False), memory_id, org_id, user_id),
    )
    if cursor.rowcount == 0:
        raise MemoryNotFoundError(org_id=org_id, user_id=user_id, memory_id=memory_id)
    return get_memory(conn, org_id, user_id, memory_id)


def delete_some_memories(
    conn: sqlite3.Connection, org_id: str, user_id: str, memory_ids: Sequence[str]
) -> Deleted:
    """Delete the user's memories among ``memory_ids`` (re-linking chains); report them."""
    rows = conn.execute(
        "SELECT mem_rowid, memory_id FROM memories WHERE +org_id = ? AND +user_id = ? "
        "AND memory_id IN (SELECT value FROM json_each(?))",
        (org_id, user_id, json_list(memory_ids)),
    ).fetchall()
    delete_memory_rows(conn, [int(row[0]) for row in rows])
    return Deleted(found=bool(rows), memory_ids=tuple(str(row[1]) for row in rows))


def rows_of_interactions(conn: sqlite3.Connection, ix_rowids: Sequence[int]) -> list[MemoryRow]:
    """Memory rows of some interactions, newest first (ties by id)."""
    return conn.execute(
        "SELECT mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, "
        "obtained_at, metadata FROM memories WHERE ix_rowid IN (SELECT value FROM json_each(?)) "
        "ORDER BY obtained_us DESC, memory_id DESC",
        (json_list(ix_rowids),),
    ).fetchall()


def history(conn: sqlite3.Connection, org_id: str, user_id: str, memory_id: str) -> list[Memory]:
    """Every version connected to the memory by contradiction links, newest first."""
    start = _find(conn, org_id, user_id, memory_id)[0]
    rows = conn.execute(
        "WITH RECURSIVE chain(r) AS (SELECT ? "
        "UNION SELECT l.newer FROM memory_links l JOIN chain ON l.older = chain.r "
        "UNION SELECT l.older FROM memory_links l JOIN chain ON l.newer = chain.r) "
        "SELECT m.mem_rowid, m.memory_id, m.org_id, m.user_id, m.agent_id, m.interaction_id, "
        "m.memory, m.obtained_at, m.metadata FROM chain JOIN memories m ON m.mem_rowid = chain.r "
        "WHERE m.org_id = ? AND m.user_id = ? ORDER BY m.obtained_us DESC, m.memory_id DESC",
        (start, org_id, user_id),
    ).fetchall()
    return build_memories(conn, rows)


def links_of_user(conn: sqlite3.Connection, org_id: str, user_id: str) -> list[tuple[str, str]]:
    """Every ``(older_id, newer_id)`` link of the user's memories."""
    rows = conn.execute(
        "SELECT o.memory_id, n.memory_id FROM memories o "
        "JOIN memory_links l ON l.older = o.mem_rowid JOIN memories n ON n.mem_rowid = l.newer "
        "WHERE o.org_id = ? AND o.user_id = ?",
        (org_id, user_id),
    ).fetchall()
    return sorted((str(older), str(newer)) for older, newer in rows)


def count_memories(conn: sqlite3.Connection, org_id: str | None) -> int:
    """How many memories the store (or one org) holds."""
    if org_id is None:
        row = conn.execute("SELECT count(*) FROM memories").fetchone()
    else:
        row = conn.execute("SELECT count(*) FROM memories WHERE org_id = ?", (org_id,)).fetchone()
    return int(row[0])


def list_for_indexing(
    conn: sqlite3.Connection, org_id: str | None, after_memory_id: str, limit: int
) -> list[Memory]:
    """Memories by id after ``after_memory_id``, names resolved, without sources, with their
    index text."""
    select = (
        "SELECT mem_rowid, memory_id, org_id, user_id, agent_id, interaction_id, memory, "
        "obtained_at, metadata, index_text FROM memories "
    )
    if org_id is None:
        rows = conn.execute(
            select + "WHERE memory_id > ? ORDER BY memory_id LIMIT ?", (after_memory_id, limit)
        ).fetchall()
    else:
        rows = conn.execute(
            select + "WHERE org_id = ? AND memory_id > ? ORDER BY memory_id LIMIT ?",
            (org_id, after_memory_id, limit),
        ).fetchall()
    built = build_memories(conn, [row[:9] for row in rows], with_sources=False)
    return [
        memory.model_copy(update={"index_text": row[9]}) if row[9] is not None else memory
        for memory, row in zip(built, rows, strict=True)
    ]


def resolve_batch(
    conn: sqlite3.Connection, batch: Sequence[Sequence[tuple[str, str, str]]]
) -> list[list[Memory]]:
    """Resolve lists of ``(org_id, user_id, memory_id)`` hits to the heads of their chains.

    One output list per input list; input order kept; duplicates keep their first position;
    unknown ids dropped; a forked chain yields every head (newest first).
    """
    flat = [(i, j, hit) for i, hits in enumerate(batch) for j, hit in enumerate(hits)]
    if not flat:
        return [[] for _ in batch]
    keyed = json_list([[i, j, org, user, mem] for i, j, (org, user, mem) in flat])
    rows = conn.execute(
        "WITH RECURSIVE hits(i, j, org_id, user_id, r) AS ("
        " SELECT json_extract(h.value, '$[0]'), json_extract(h.value, '$[1]'), m.org_id,"
        " m.user_id, m.mem_rowid FROM json_each(?) h JOIN memories m"
        " ON m.memory_id = json_extract(h.value, '$[4]')"
        " AND m.org_id = json_extract(h.value, '$[2]')"
        " AND m.user_id = json_extract(h.value, '$[3]')),"
        " reach(i, j, org_id, user_id, r) AS (SELECT i, j, org_id, user_id, r FROM hits"
        " UNION SELECT reach.i, reach.j, reach.org_id, reach.user_id, l.newer FROM reach"
        " JOIN memory_links l ON l.older = reach.r)"
        " SELECT reach.i, reach.j, m.mem_rowid FROM reach JOIN memories m ON m.mem_rowid = reach.r"
        " WHERE m.org_id = reach.org_id AND m.user_id = reach.user_id"
        " AND NOT EXISTS (SELECT 1 FROM memory_links x WHERE x.older = reach.r)"
        " ORDER BY reach.i, reach.j, m.obtained_us DESC, m.memory_id DESC",
        (keyed,),
    ).fetchall()
    ordered: list[list[int]] = [[] for _ in batch]
    seen: list[set[int]] = [set() for _ in batch]
    for i, _j, mem_rowid in rows:
        if mem_rowid not in seen[i]:
            seen[i].add(mem_rowid)
            ordered[i].append(mem_rowid)
    unique = list(dict.fromkeys(r for group in ordered for r in group))
    built = dict(zip(unique, build_memories(conn, _rows_by_rowid(conn, unique)), strict=True))
    return [[built[r] for r in group] for group in ordered]
