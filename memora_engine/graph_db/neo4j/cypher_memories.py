"""Cypher for memories: reads, version links, search-hit resolution, indexing pages, counts.

Kept apart from :mod:`.cypher` so each module stays small; :data:`.cypher.ALL_STATEMENTS`
includes these (parameterized only, like every statement).
"""

from __future__ import annotations

from memora_engine.graph_db.neo4j.cypher_fragments import (
    MEMORY,
    MEMORY_FOR_INDEXING,
    THE_USER,
)
from memora_engine.graph_db.neo4j.vocabulary import Statement
from memora_engine.graph_db.neo4j.vocabulary import statement as _stmt

__all__ = [
    "COUNT_MEMORIES",
    "COUNT_ORG_MEMORIES",
    "DELETE_MEMORIES",
    "GET_MEMORY",
    "LINKS_TOUCHING",
    "LINK_VERSIONS",
    "LIST_FOR_INDEXING",
    "LIST_ORG_FOR_INDEXING",
    "LIST_USER_MEMORIES",
    "MEMORY_HISTORY",
    "MEMORY_STATEMENTS",
    "NAMES",
    "RESOLVE_HITS",
    "USER_LINKS",
]

#: Contradiction links touching any of ``$memory_ids`` (either end), within one user.
LINKS_TOUCHING = _stmt(
    "LINKS_TOUCHING",
    "MATCH (a:Memory)-[:CONTRARY_UPDATE]->(b:Memory) WHERE a.memory_id IN $memory_ids "
    "AND a.org_id = $org_id AND a.user_id = $user_id "
    "RETURN a.memory_id AS older, b.memory_id AS newer "
    "UNION "
    "MATCH (a:Memory)-[:CONTRARY_UPDATE]->(b:Memory) WHERE b.memory_id IN $memory_ids "
    "AND b.org_id = $org_id AND b.user_id = $user_id "
    "RETURN a.memory_id AS older, b.memory_id AS newer",
    "memory_ids org_id user_id",
    "older newer",
)
#: Adds ``older -> newer`` links (``$links``: ``[older_id, newer_id]`` pairs); both ends must be
#: memories of this user.
LINK_VERSIONS = _stmt(
    "LINK_VERSIONS",
    THE_USER + " UNWIND $links AS link "
    "MATCH (u)-[:HAS_MEMORY]->(older:Memory {memory_id: link[0]}) "
    "MATCH (u)-[:HAS_MEMORY]->(newer:Memory {memory_id: link[1]}) "
    "MERGE (older)-[:CONTRARY_UPDATE]->(newer)",
    "org_user_id links",
)
DELETE_MEMORIES = _stmt(
    "DELETE_MEMORIES",
    "UNWIND $memory_ids AS memory_id MATCH (m:Memory {memory_id: memory_id}) "
    "WHERE m.org_id = $org_id AND m.user_id = $user_id DETACH DELETE m",
    "memory_ids org_id user_id",
)
GET_MEMORY = _stmt(
    "GET_MEMORY",
    "MATCH (m:Memory {memory_id: $memory_id}) "
    "WHERE m.org_id = $org_id AND m.user_id = $user_id RETURN " + MEMORY + " AS memory",
    "memory_id org_id user_id",
    "memory",
)
LIST_USER_MEMORIES = _stmt(
    "LIST_USER_MEMORIES",
    THE_USER + "-[:HAS_MEMORY]->(m:Memory) WHERE $agent_id IS NULL OR m.agent_id = $agent_id "
    "WITH m ORDER BY m.obtained_at DESC, m.memory_id DESC SKIP $skip LIMIT $limit "
    "RETURN " + MEMORY + " AS memory",
    "org_user_id agent_id skip limit",
    "memory",
)
#: Every version connected to the memory through contradiction links, in either direction.
MEMORY_HISTORY = _stmt(
    "MEMORY_HISTORY",
    "MATCH (start:Memory {memory_id: $memory_id}) "
    "WHERE start.org_id = $org_id AND start.user_id = $user_id "
    "OPTIONAL MATCH (start)-[:CONTRARY_UPDATE*]-(other:Memory) "
    "WITH start, collect(DISTINCT other) AS others "
    "UNWIND [start] + others AS m "
    "WITH DISTINCT m WHERE m.org_id = $org_id AND m.user_id = $user_id "
    "RETURN " + MEMORY + " AS memory",
    "memory_id org_id user_id",
    "memory",
)
#: Search hits -> the newest version(s) of their chains (the hit itself when it is newest).
RESOLVE_HITS = _stmt(
    "RESOLVE_HITS",
    "UNWIND $hits AS hit "
    "MATCH (start:Memory {memory_id: hit.memory_id}) "
    "WHERE start.org_id = hit.org_id AND start.user_id = hit.user_id "
    "OPTIONAL MATCH (start)-[:CONTRARY_UPDATE*]->(head:Memory) "
    "WHERE head.org_id = start.org_id AND head.user_id = start.user_id "
    "AND NOT EXISTS { MATCH (head)-[:CONTRARY_UPDATE]->(:Memory) } "
    "WITH hit, start, collect(DISTINCT head) AS heads "
    "UNWIND CASE WHEN size(heads) = 0 THEN [start] ELSE heads END AS m "
    "RETURN hit.org_id AS hit_org_id, hit.user_id AS hit_user_id, "
    "hit.memory_id AS hit_memory_id, " + MEMORY + " AS memory",
    "hits",
    "hit_org_id hit_user_id hit_memory_id memory",
)
USER_LINKS = _stmt(
    "USER_LINKS",
    THE_USER + "-[:HAS_MEMORY]->(a:Memory)-[:CONTRARY_UPDATE]->(b:Memory) "
    "RETURN a.memory_id AS older, b.memory_id AS newer ORDER BY older, newer",
    "org_user_id",
    "older newer",
)
LIST_FOR_INDEXING = _stmt(
    "LIST_FOR_INDEXING",
    "MATCH (m:Memory) WHERE m.memory_id > $after_memory_id "
    "RETURN " + MEMORY_FOR_INDEXING + " AS memory ORDER BY m.memory_id LIMIT $limit",
    "after_memory_id limit",
    "memory",
)
LIST_ORG_FOR_INDEXING = _stmt(
    "LIST_ORG_FOR_INDEXING",
    "MATCH (m:Memory) WHERE m.org_id = $org_id AND m.memory_id > $after_memory_id "
    "RETURN " + MEMORY_FOR_INDEXING + " AS memory ORDER BY m.memory_id LIMIT $limit",
    "org_id after_memory_id limit",
    "memory",
)
COUNT_MEMORIES = _stmt(
    "COUNT_MEMORIES", "MATCH (m:Memory) RETURN count(m) AS memories", "", "memories"
)
COUNT_ORG_MEMORIES = _stmt(
    "COUNT_ORG_MEMORIES",
    "MATCH (m:Memory) WHERE m.org_id = $org_id RETURN count(m) AS memories",
    "org_id",
    "memories",
)
#: Current names for placeholder ids, by composite key (each memory's own organization).
NAMES = _stmt(
    "NAMES",
    "UNWIND $user_keys AS key MATCH (u:User {org_user_id: key}) "
    "RETURN 'user' AS kind, u.org_id AS org_id, u.user_id AS id, u.user_name AS name "
    "UNION ALL "
    "UNWIND $agent_keys AS key MATCH (a:Agent {org_agent_id: key}) "
    "RETURN 'agent' AS kind, a.org_id AS org_id, a.agent_id AS id, a.agent_label AS name",
    "user_keys agent_keys",
    "kind org_id id name",
)
#: The memory statements above, in order.
MEMORY_STATEMENTS: tuple[Statement, ...] = (
    LINKS_TOUCHING,
    LINK_VERSIONS,
    DELETE_MEMORIES,
    GET_MEMORY,
    LIST_USER_MEMORIES,
    MEMORY_HISTORY,
    RESOLVE_HITS,
    USER_LINKS,
    LIST_FOR_INDEXING,
    LIST_ORG_FOR_INDEXING,
    COUNT_MEMORIES,
    COUNT_ORG_MEMORIES,
    NAMES,
)
