"""Cypher for memory metadata and delete-many (parameterized only; kept apart from
:mod:`.cypher` so each module stays small). :data:`.cypher.ALL_STATEMENTS` includes these.

Metadata is stored as one JSON string property, ``Memory.metadata`` (Neo4j properties cannot
hold maps or mixed-type lists); a memory written before metadata existed has none (read as
``{}``).
"""

from __future__ import annotations

from memora_engine.graph_db.neo4j.vocabulary import Statement
from memora_engine.graph_db.neo4j.vocabulary import statement as _stmt

__all__ = [
    "CONTRADICTED_METADATA",
    "EDIT_STATEMENTS",
    "SET_MEMORY_METADATA",
    "USER_MEMORY_IDS_AMONG",
]

#: The metadata of this user's memories among ``$memory_ids`` (what contrary memories inherit).
CONTRADICTED_METADATA = _stmt(
    "CONTRADICTED_METADATA",
    "MATCH (m:Memory) WHERE m.memory_id IN $memory_ids "
    "AND m.org_id = $org_id AND m.user_id = $user_id "
    "RETURN m.memory_id AS memory_id, m.metadata AS metadata",
    "memory_ids org_id user_id",
    "memory_id metadata",
)
SET_MEMORY_METADATA = _stmt(
    "SET_MEMORY_METADATA",
    "MATCH (m:Memory {memory_id: $memory_id}) "
    "WHERE m.org_id = $org_id AND m.user_id = $user_id "
    "SET m.metadata = $metadata RETURN m.memory_id AS memory_id",
    "memory_id org_id user_id metadata",
    "memory_id",
)
#: Which of ``$memory_ids`` are memories of this user.
USER_MEMORY_IDS_AMONG = _stmt(
    "USER_MEMORY_IDS_AMONG",
    "MATCH (m:Memory) WHERE m.memory_id IN $memory_ids "
    "AND m.org_id = $org_id AND m.user_id = $user_id "
    "RETURN m.memory_id AS memory_id",
    "memory_ids org_id user_id",
    "memory_id",
)

EDIT_STATEMENTS: tuple[Statement, ...] = (
    CONTRADICTED_METADATA,
    SET_MEMORY_METADATA,
    USER_MEMORY_IDS_AMONG,
)
