"""The SQLite schema: tables, the indexes behind every query path, and the schema version.

Layout (integer surrogate keys keep joins and indexes small; the public ids stay unique within
their tenant exactly as in every other backend):

* ``orgs`` / ``users`` / ``agents``: tenants. An agent's ``user_id`` is a plain column (no foreign
  key): deleting a user turns their agents into org-level agents.
* ``interactions`` (``ix_rowid``) -> ``messages`` (``ix_rowid``, ``position``).
* ``memories`` (``mem_rowid``) -> ``memory_sources`` (which message positions it came from;
  removed with the message when an update truncates it) and ``memory_links`` (older -> newer).

A memory's metadata is a JSON object in ``memories.metadata`` (read with ``json_each``); its
``index_text`` (nullable) is the text its BM25 vector is computed from when not the memory
itself (a raw turn in context, see :mod:`memora_engine.indexing`), read only for indexing.
Every timestamp is stored twice: the ISO text with the caller's offset (exact round trip) and
microseconds since the epoch (ordering). Orders are "newest first, ties by id descending".
"""

from __future__ import annotations

import sqlite3

from memora_engine.errors import ConfigurationError

__all__ = ["SCHEMA_VERSION", "ensure_schema"]

#: Version of the layout below; stored in ``memora_schema``. Version 2 added
#: ``memories.metadata`` (a JSON object as text, ``'{}'`` for older memories); version 3 added
#: ``memories.index_text`` (``NULL`` for older memories).
SCHEMA_VERSION = 3

_TABLES = """
CREATE TABLE IF NOT EXISTS memora_schema (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orgs (
    org_id TEXT PRIMARY KEY,
    org_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE IF NOT EXISTS agents (
    org_id TEXT NOT NULL REFERENCES orgs(org_id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL,
    agent_label TEXT NOT NULL,
    user_id TEXT,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    PRIMARY KEY (org_id, agent_id)
);
CREATE TABLE IF NOT EXISTS interactions (
    ix_rowid INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_us INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_us INTEGER NOT NULL,
    UNIQUE (org_id, user_id, interaction_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS messages (
    ix_rowid INTEGER NOT NULL REFERENCES interactions(ix_rowid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (ix_rowid, position)
);
CREATE TABLE IF NOT EXISTS memories (
    mem_rowid INTEGER PRIMARY KEY,
    memory_id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    ix_rowid INTEGER NOT NULL REFERENCES interactions(ix_rowid) ON DELETE CASCADE,
    interaction_id TEXT NOT NULL,
    memory TEXT NOT NULL,
    obtained_at TEXT NOT NULL,
    obtained_us INTEGER NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    index_text TEXT,
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, user_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS memory_sources (
    mem_rowid INTEGER NOT NULL REFERENCES memories(mem_rowid) ON DELETE CASCADE,
    ix_rowid INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (mem_rowid, position),
    FOREIGN KEY (ix_rowid, position) REFERENCES messages(ix_rowid, position) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS memory_links (
    older INTEGER NOT NULL REFERENCES memories(mem_rowid) ON DELETE CASCADE,
    newer INTEGER NOT NULL REFERENCES memories(mem_rowid) ON DELETE CASCADE,
    PRIMARY KEY (older, newer)
) WITHOUT ROWID;
"""

# One index per query path (the primary keys above cover point lookups).
_INDEXES = """
CREATE INDEX IF NOT EXISTS orgs_newest ON orgs (created_us DESC, org_id DESC);
CREATE INDEX IF NOT EXISTS users_newest ON users (org_id, created_us DESC, user_id DESC);
CREATE INDEX IF NOT EXISTS agents_newest ON agents (org_id, created_us DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_of_user
    ON agents (org_id, user_id, created_us DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS interactions_newest
    ON interactions (org_id, user_id, updated_us DESC, interaction_id DESC);
CREATE INDEX IF NOT EXISTS memories_newest
    ON memories (org_id, user_id, obtained_us DESC, memory_id DESC);
CREATE INDEX IF NOT EXISTS memories_agent_newest
    ON memories (org_id, user_id, agent_id, obtained_us DESC, memory_id DESC);
CREATE INDEX IF NOT EXISTS memories_of_interaction ON memories (ix_rowid);
CREATE INDEX IF NOT EXISTS memories_org_by_id ON memories (org_id, memory_id);
CREATE INDEX IF NOT EXISTS memory_sources_message ON memory_sources (ix_rowid, position);
CREATE INDEX IF NOT EXISTS memory_links_newer ON memory_links (newer, older);
"""


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the tables and indexes if missing and record the schema version.

    Runs inside the caller's write transaction, so concurrent first opens are safe.

    Raises:
        ConfigurationError: the file was written by a newer, incompatible Memora.
    """
    for statement in (_TABLES + _INDEXES).split(";"):
        if statement.strip():
            conn.execute(statement)
    row = conn.execute("SELECT max(version) FROM memora_schema").fetchone()
    stored = row[0] if row else None
    if stored is not None and stored > SCHEMA_VERSION:
        raise ConfigurationError(
            f"This SQLite file has Memora schema version {stored}, newer than the {SCHEMA_VERSION} "
            "this version understands; upgrade Memora to open it."
        )
    _migrate(conn)
    if stored is None:
        conn.execute("INSERT INTO memora_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    elif stored < SCHEMA_VERSION:
        conn.execute("UPDATE memora_schema SET version = ?", (SCHEMA_VERSION,))


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a file of an older schema version up to date (idempotent)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(memories)")}
    if "metadata" not in columns:  # version 1 -> 2
        conn.execute("ALTER TABLE memories ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'")
    if "index_text" not in columns:  # version 2 -> 3
        conn.execute("ALTER TABLE memories ADD COLUMN index_text TEXT")
