"""The Cypher statements of the Neo4j backend, as named constants (parameterized only).

The graph model (Neo4j 5 Community; no APOC, no node-key or existence constraints)::

    (:Org)<-[:BELONGS_TO]-(:User)-[:HAD_INTERACTION]->(:Interaction)-[:HAS_MESSAGE]->(:MessageBlock)
    (:Org)-[:HAS_AGENT]->(:Agent)<-[:HAS_AGENT]-(:User)          # the user link: personal agents
    (:User)-[:HAS_MEMORY]->(:Memory)-[:INTERACTION_SOURCE]->(:Interaction)
    (:Memory)-[:MESSAGE_SOURCE]->(:MessageBlock)
    (:Memory)-[:CONTRARY_UPDATE]->(:Memory)                     # older -> newer version

Per-tenant uniqueness uses one composite key property per node, each with a UNIQUE constraint:
``User.org_user_id`` (``org:user``), ``Agent.org_agent_id`` (``org:agent``),
``Interaction.org_user_interaction_id`` (``org:user:interaction``). ``Org.org_id`` and
``Memory.memory_id`` (a uuid that doubles as the vector point id) are unique on their own.
Ids never contain ``:``, so the keys are unambiguous. Labels, relationship types and property
names are fixed here; user input only ever travels as ``$parameters``.

Each :class:`Statement` declares its parameters and the columns it returns. The Cypher linter
test declares exactly those parameters to Neo4j's linter, :func:`check_params` refuses a call
whose parameters differ, and the unit tests build result rows from the declared columns (and
projection fields), so a typo on either side fails loudly without a server.
"""

from __future__ import annotations

from memora_engine.graph_db.neo4j.cypher_edits import EDIT_STATEMENTS
from memora_engine.graph_db.neo4j.cypher_fragments import (
    AGENT,
    INTERACTION,
    MEMORY,
    MESSAGES,
    ORG,
    THE_INTERACTION,
    THE_USER,
    USER,
)
from memora_engine.graph_db.neo4j.cypher_memories import (
    COUNT_MEMORIES,
    COUNT_ORG_MEMORIES,
    DELETE_MEMORIES,
    GET_MEMORY,
    LINK_VERSIONS,
    LINKS_TOUCHING,
    LIST_FOR_INDEXING,
    LIST_ORG_FOR_INDEXING,
    LIST_USER_MEMORIES,
    MEMORY_HISTORY,
    MEMORY_STATEMENTS,
    NAMES,
    RESOLVE_HITS,
    USER_LINKS,
)
from memora_engine.graph_db.neo4j.vocabulary import (
    AGENT_FIELDS,
    GRAPH_SCHEMA,
    INTERACTION_FIELDS,
    LABELS,
    MEMORY_FIELDS,
    MESSAGE_FIELDS,
    ORG_FIELDS,
    PROPERTY_KEYS,
    RELATIONSHIP_TYPES,
    USER_FIELDS,
    Statement,
    check_params,
)
from memora_engine.graph_db.neo4j.vocabulary import statement as _stmt

__all__ = [
    "AGENT_FIELDS",
    "ALL_STATEMENTS",
    "COUNT_MEMORIES",
    "COUNT_ORG_MEMORIES",
    "DELETE_MEMORIES",
    "GET_MEMORY",
    "GRAPH_SCHEMA",
    "INTERACTION_FIELDS",
    "LABELS",
    "LINKS_TOUCHING",
    "LINK_VERSIONS",
    "LIST_FOR_INDEXING",
    "LIST_ORG_FOR_INDEXING",
    "LIST_USER_MEMORIES",
    "MEMORY_FIELDS",
    "MEMORY_HISTORY",
    "MEMORY_STATEMENTS",
    "MESSAGE_FIELDS",
    "NAMES",
    "ORG_FIELDS",
    "PROPERTY_KEYS",
    "RELATIONSHIP_TYPES",
    "RESOLVE_HITS",
    "SCHEMA_STATEMENTS",
    "USER_FIELDS",
    "USER_LINKS",
    "Statement",
    "check_params",
]


# ---------------------------------------------------------------------------------- schema
SCHEMA_STATEMENTS: tuple[Statement, ...] = (
    _stmt(
        "CONSTRAINT_ORG_ID",
        "CREATE CONSTRAINT memora_org_id IF NOT EXISTS FOR (o:Org) REQUIRE o.org_id IS UNIQUE",
    ),
    _stmt(
        "CONSTRAINT_USER_KEY",
        "CREATE CONSTRAINT memora_user_key IF NOT EXISTS "
        "FOR (u:User) REQUIRE u.org_user_id IS UNIQUE",
    ),
    _stmt(
        "CONSTRAINT_AGENT_KEY",
        "CREATE CONSTRAINT memora_agent_key IF NOT EXISTS "
        "FOR (a:Agent) REQUIRE a.org_agent_id IS UNIQUE",
    ),
    _stmt(
        "CONSTRAINT_INTERACTION_KEY",
        "CREATE CONSTRAINT memora_interaction_key IF NOT EXISTS "
        "FOR (i:Interaction) REQUIRE i.org_user_interaction_id IS UNIQUE",
    ),
    _stmt(
        "CONSTRAINT_MEMORY_ID",
        "CREATE CONSTRAINT memora_memory_id IF NOT EXISTS "
        "FOR (m:Memory) REQUIRE m.memory_id IS UNIQUE",
    ),
    _stmt(
        "INDEX_MEMORY_ORG",
        "CREATE INDEX memora_memory_org IF NOT EXISTS FOR (m:Memory) ON (m.org_id, m.memory_id)",
    ),
    _stmt(
        "INDEX_ORG_CREATED",
        "CREATE INDEX memora_org_created IF NOT EXISTS FOR (o:Org) ON (o.created_at)",
    ),
)

# ---------------------------------------------------------------------------------- organization
CREATE_ORG = _stmt(
    "CREATE_ORG",
    "CREATE (o:Org {org_id: $org_id, org_name: $org_name, created_at: $created_at}) "
    "RETURN " + ORG + " AS org",
    "org_id org_name created_at",
    "org",
)
UPDATE_ORG = _stmt(
    "UPDATE_ORG",
    "MATCH (o:Org {org_id: $org_id}) SET o.org_name = $org_name RETURN " + ORG + " AS org",
    "org_id org_name",
    "org",
)
GET_ORG = _stmt(
    "GET_ORG", "MATCH (o:Org {org_id: $org_id}) RETURN " + ORG + " AS org", "org_id", "org"
)
LIST_ORGS = _stmt(
    "LIST_ORGS",
    "MATCH (o:Org) RETURN " + ORG + " AS org ORDER BY o.created_at DESC, o.org_id DESC",
    "",
    "org",
)
ORG_EXISTS = _stmt(
    "ORG_EXISTS",
    "OPTIONAL MATCH (o:Org {org_id: $org_id}) RETURN o IS NOT NULL AS found",
    "org_id",
    "found",
)
#: The memory ids of an org (no row when the org is missing): what deleting it removes.
ORG_MEMORY_IDS = _stmt(
    "ORG_MEMORY_IDS",
    "MATCH (o:Org {org_id: $org_id}) "
    "OPTIONAL MATCH (o)<-[:BELONGS_TO]-(:User)-[:HAS_MEMORY]->(m:Memory) "
    "RETURN collect(m.memory_id) AS memory_ids",
    "org_id",
    "memory_ids",
)
DELETE_ORG_MESSAGES = _stmt(
    "DELETE_ORG_MESSAGES",
    "MATCH (:Org {org_id: $org_id})<-[:BELONGS_TO]-(:User)-[:HAD_INTERACTION]->"
    "(:Interaction)-[:HAS_MESSAGE]->(b:MessageBlock) DETACH DELETE b",
    "org_id",
)
DELETE_ORG_MEMORIES = _stmt(
    "DELETE_ORG_MEMORIES",
    "MATCH (:Org {org_id: $org_id})<-[:BELONGS_TO]-(:User)-[:HAS_MEMORY]->(m:Memory) "
    "DETACH DELETE m",
    "org_id",
)
DELETE_ORG_INTERACTIONS = _stmt(
    "DELETE_ORG_INTERACTIONS",
    "MATCH (:Org {org_id: $org_id})<-[:BELONGS_TO]-(:User)-[:HAD_INTERACTION]->(i:Interaction) "
    "DETACH DELETE i",
    "org_id",
)
DELETE_ORG_AGENTS = _stmt(
    "DELETE_ORG_AGENTS",
    "MATCH (:Org {org_id: $org_id})-[:HAS_AGENT]->(a:Agent) DETACH DELETE a",
    "org_id",
)
DELETE_ORG_USERS = _stmt(
    "DELETE_ORG_USERS",
    "MATCH (:Org {org_id: $org_id})<-[:BELONGS_TO]-(u:User) DETACH DELETE u",
    "org_id",
)
DELETE_ORG_NODE = _stmt(
    "DELETE_ORG_NODE", "MATCH (o:Org {org_id: $org_id}) DETACH DELETE o", "org_id"
)
#: Deleting an organization and everything below it: these steps, in order, in one transaction.
DELETE_ORG_STEPS: tuple[Statement, ...] = (
    DELETE_ORG_MESSAGES,
    DELETE_ORG_MEMORIES,
    DELETE_ORG_INTERACTIONS,
    DELETE_ORG_AGENTS,
    DELETE_ORG_USERS,
    DELETE_ORG_NODE,
)

# ---------------------------------------------------------------------------------- user
CREATE_USER = _stmt(
    "CREATE_USER",
    "MATCH (o:Org {org_id: $org_id}) "
    "CREATE (u:User {org_id: $org_id, user_id: $user_id, org_user_id: $org_user_id, "
    "user_name: $user_name, created_at: $created_at})-[:BELONGS_TO]->(o) "
    "RETURN " + USER + " AS user",
    "org_id user_id org_user_id user_name created_at",
    "user",
)
UPDATE_USER = _stmt(
    "UPDATE_USER",
    THE_USER + " SET u.user_name = $user_name RETURN " + USER + " AS user",
    "org_user_id user_name",
    "user",
)
GET_USER = _stmt("GET_USER", THE_USER + " RETURN " + USER + " AS user", "org_user_id", "user")
LIST_ORG_USERS = _stmt(
    "LIST_ORG_USERS",
    "MATCH (:Org {org_id: $org_id})<-[:BELONGS_TO]-(u:User) "
    "RETURN " + USER + " AS user ORDER BY u.created_at DESC, u.user_id DESC",
    "org_id",
    "user",
)
#: The memory ids of a user (no row when the user is missing): what deleting them removes.
USER_MEMORY_IDS = _stmt(
    "USER_MEMORY_IDS",
    THE_USER + " OPTIONAL MATCH (u)-[:HAS_MEMORY]->(m:Memory) "
    "RETURN collect(m.memory_id) AS memory_ids",
    "org_user_id",
    "memory_ids",
)
#: The number of interactions of a user (to report whether a "delete all" removed anything).
USER_INTERACTION_COUNT = _stmt(
    "USER_INTERACTION_COUNT",
    THE_USER + " OPTIONAL MATCH (u)-[:HAD_INTERACTION]->(i:Interaction) "
    "RETURN count(i) AS interactions",
    "org_user_id",
    "interactions",
)
DELETE_USER_MEMORIES = _stmt(
    "DELETE_USER_MEMORIES",
    THE_USER + "-[:HAS_MEMORY]->(m:Memory) DETACH DELETE m",
    "org_user_id",
)
DELETE_USER_MESSAGES = _stmt(
    "DELETE_USER_MESSAGES",
    THE_USER + "-[:HAD_INTERACTION]->(:Interaction)-[:HAS_MESSAGE]->(b:MessageBlock) "
    "DETACH DELETE b",
    "org_user_id",
)
DELETE_USER_INTERACTIONS = _stmt(
    "DELETE_USER_INTERACTIONS",
    THE_USER + "-[:HAD_INTERACTION]->(i:Interaction) DETACH DELETE i",
    "org_user_id",
)
RELEASE_USER_AGENTS = _stmt(
    "RELEASE_USER_AGENTS",
    THE_USER + "-[:HAS_AGENT]->(a:Agent) REMOVE a.user_id",
    "org_user_id",
)
DELETE_USER_NODE = _stmt("DELETE_USER_NODE", THE_USER + " DETACH DELETE u", "org_user_id")
#: Deleting a user: these steps, in order, in one transaction. Their agents stay (org-level).
DELETE_USER_STEPS: tuple[Statement, ...] = (
    DELETE_USER_MEMORIES,
    DELETE_USER_MESSAGES,
    DELETE_USER_INTERACTIONS,
    RELEASE_USER_AGENTS,
    DELETE_USER_NODE,
)
#: Deleting every interaction of a user (and so every memory); the user stays.
DELETE_USER_HISTORY_STEPS: tuple[Statement, ...] = DELETE_USER_STEPS[:3]

# ---------------------------------------------------------------------------------- agent
_AGENT_PROPS = (
    "{org_id: $org_id, agent_id: $agent_id, org_agent_id: $org_agent_id, "
    "agent_label: $agent_label, created_at: $created_at}"
)
_USER_AGENT_PROPS = (
    "{org_id: $org_id, agent_id: $agent_id, org_agent_id: $org_agent_id, "
    "agent_label: $agent_label, created_at: $created_at, user_id: $user_id}"
)
CREATE_ORG_AGENT = _stmt(
    "CREATE_ORG_AGENT",
    "MATCH (o:Org {org_id: $org_id}) CREATE (o)-[:HAS_AGENT]->(a:Agent " + _AGENT_PROPS + ") "
    "RETURN " + AGENT + " AS agent",
    "org_id agent_id org_agent_id agent_label created_at",
    "agent",
)
CREATE_USER_AGENT = _stmt(
    "CREATE_USER_AGENT",
    "MATCH (o:Org {org_id: $org_id})<-[:BELONGS_TO]-(u:User {org_user_id: $org_user_id}) "
    "CREATE (o)-[:HAS_AGENT]->(a:Agent " + _USER_AGENT_PROPS + ")<-[:HAS_AGENT]-(u) "
    "RETURN " + AGENT + " AS agent",
    "org_id agent_id org_agent_id agent_label created_at org_user_id user_id",
    "agent",
)
UPDATE_AGENT = _stmt(
    "UPDATE_AGENT",
    "MATCH (a:Agent {org_agent_id: $org_agent_id}) SET a.agent_label = $agent_label "
    "RETURN " + AGENT + " AS agent",
    "org_agent_id agent_label",
    "agent",
)
GET_AGENT = _stmt(
    "GET_AGENT",
    "MATCH (a:Agent {org_agent_id: $org_agent_id}) RETURN " + AGENT + " AS agent",
    "org_agent_id",
    "agent",
)
LIST_ORG_AGENTS = _stmt(
    "LIST_ORG_AGENTS",
    "MATCH (:Org {org_id: $org_id})-[:HAS_AGENT]->(a:Agent) "
    "RETURN " + AGENT + " AS agent ORDER BY a.created_at DESC, a.agent_id DESC",
    "org_id",
    "agent",
)
LIST_USER_AGENTS = _stmt(
    "LIST_USER_AGENTS",
    THE_USER + "-[:HAS_AGENT]->(a:Agent) "
    "RETURN " + AGENT + " AS agent ORDER BY a.created_at DESC, a.agent_id DESC",
    "org_user_id",
    "agent",
)
DELETE_AGENT = _stmt(
    "DELETE_AGENT",
    "MATCH (a:Agent {org_agent_id: $org_agent_id}) DETACH DELETE a",
    "org_agent_id",
)
#: Which of an org and one of its users exist (to name the missing one in errors).
TENANT_EXISTS = _stmt(
    "TENANT_EXISTS",
    "OPTIONAL MATCH (o:Org {org_id: $org_id}) "
    "OPTIONAL MATCH (u:User {org_user_id: $org_user_id}) "
    "RETURN o IS NOT NULL AS org_found, u IS NOT NULL AS user_found",
    "org_id org_user_id",
    "org_found user_found",
)

# ---------------------------------------------------------------------------------- interaction
#: Opens every interaction write (and the pre-check before indexing vectors): owners, the
#: interaction, preset memory ids already taken anywhere (they are vector point ids), and which
#: contradicted ids are memories of this user.
CHECK_WRITE = _stmt(
    "CHECK_WRITE",
    "OPTIONAL MATCH (o:Org {org_id: $org_id}) "
    "OPTIONAL MATCH (u:User {org_user_id: $org_user_id}) "
    "OPTIONAL MATCH (a:Agent {org_agent_id: $org_agent_id}) "
    "OPTIONAL MATCH (i:Interaction {org_user_interaction_id: $org_user_interaction_id}) "
    "WITH o, u, a, i "
    "OPTIONAL MATCH (taken:Memory) WHERE taken.memory_id IN $memory_ids "
    "WITH o, u, a, i, collect(taken.memory_id) AS taken_ids "
    "OPTIONAL MATCH (old:Memory) WHERE old.memory_id IN $contradicted_ids "
    "AND old.org_id = $org_id AND old.user_id = $user_id "
    "RETURN o IS NOT NULL AS org_found, u IS NOT NULL AS user_found, "
    "a IS NOT NULL AS agent_found, i IS NOT NULL AS interaction_found, taken_ids, "
    "collect(old.memory_id) AS linkable_ids",
    "org_id user_id org_user_id org_agent_id org_user_interaction_id memory_ids contradicted_ids",
    "org_found user_found agent_found interaction_found taken_ids linkable_ids",
)
CREATE_INTERACTION = _stmt(
    "CREATE_INTERACTION",
    THE_USER + " CREATE (u)-[:HAD_INTERACTION]->(i:Interaction {org_id: $org_id, "
    "user_id: $user_id, interaction_id: $interaction_id, "
    "org_user_interaction_id: $org_user_interaction_id, agent_id: $agent_id, "
    "created_at: $interaction_date, updated_at: $interaction_date}) "
    "RETURN i.interaction_id AS interaction_id",
    "org_user_id org_id user_id interaction_id org_user_interaction_id agent_id interaction_date",
    "interaction_id",
)
#: Locks the interaction (the SET) before reading its messages, so concurrent updates serialize.
TOUCH_INTERACTION = _stmt(
    "TOUCH_INTERACTION",
    THE_INTERACTION + " SET i.updated_at = $interaction_date, i.agent_id = $agent_id "
    "RETURN " + MESSAGES + " AS messages",
    "org_user_id interaction_id interaction_date agent_id",
    "messages",
)
TRUNCATE_MESSAGES = _stmt(
    "TRUNCATE_MESSAGES",
    THE_INTERACTION + "-[:HAS_MESSAGE]->(b:MessageBlock) "
    "WHERE b.msg_position >= $from_position DETACH DELETE b",
    "org_user_id interaction_id from_position",
)
ADD_MESSAGES = _stmt(
    "ADD_MESSAGES",
    THE_INTERACTION + " UNWIND $messages AS msg "
    "CREATE (i)-[:HAS_MESSAGE]->(:MessageBlock {msg_position: msg.msg_position, "
    "role: msg.role, content: msg.content})",
    "org_user_id interaction_id messages",
)
ADD_MEMORIES = _stmt(
    "ADD_MEMORIES",
    THE_INTERACTION + " UNWIND $memories AS mem "
    "CREATE (u)-[:HAS_MEMORY]->(m:Memory {memory_id: mem.memory_id, org_id: $org_id, "
    "user_id: $user_id, agent_id: mem.agent_id, interaction_id: $interaction_id, "
    "memory: mem.memory, obtained_at: mem.obtained_at, metadata: mem.metadata, "
    "index_text: mem.index_text})"
    "-[:INTERACTION_SOURCE]->(i)",
    "org_user_id interaction_id memories org_id user_id",
)
LINK_MESSAGE_SOURCES = _stmt(
    "LINK_MESSAGE_SOURCES",
    THE_INTERACTION + " UNWIND $sources AS source "
    "MATCH (i)-[:HAS_MESSAGE]->(b:MessageBlock {msg_position: source.msg_position}) "
    "MATCH (u)-[:HAS_MEMORY]->(m:Memory {memory_id: source.memory_id}) "
    "MERGE (m)-[:MESSAGE_SOURCE]->(b)",
    "org_user_id interaction_id sources",
)
GET_INTERACTION = _stmt(
    "GET_INTERACTION",
    THE_INTERACTION + " RETURN " + INTERACTION + " AS interaction, "
    "CASE WHEN $with_messages THEN " + MESSAGES + " ELSE [] END AS messages, "
    "CASE WHEN $with_memories THEN [(m:Memory)-[:INTERACTION_SOURCE]->(i) | " + MEMORY + "] "
    "ELSE [] END AS memories",
    "org_user_id interaction_id with_messages with_memories",
    "interaction messages memories",
)
LIST_USER_INTERACTIONS = _stmt(
    "LIST_USER_INTERACTIONS",
    THE_USER + "-[:HAD_INTERACTION]->(i:Interaction) "
    "WITH i ORDER BY i.updated_at DESC, i.interaction_id DESC SKIP $skip LIMIT $limit "
    "RETURN " + INTERACTION + " AS interaction, "
    "CASE WHEN $with_messages THEN " + MESSAGES + " ELSE [] END AS messages, "
    "CASE WHEN $with_memories THEN [(m:Memory)-[:INTERACTION_SOURCE]->(i) | " + MEMORY + "] "
    "ELSE [] END AS memories",
    "org_user_id skip limit with_messages with_memories",
    "interaction messages memories",
)
INTERACTION_MEMORY_IDS = _stmt(
    "INTERACTION_MEMORY_IDS",
    THE_INTERACTION + " OPTIONAL MATCH (m:Memory)-[:INTERACTION_SOURCE]->(i) "
    "RETURN i.interaction_id AS interaction_id, collect(m.memory_id) AS memory_ids",
    "org_user_id interaction_id",
    "interaction_id memory_ids",
)
DELETE_INTERACTION = _stmt(
    "DELETE_INTERACTION",
    THE_INTERACTION + " OPTIONAL MATCH (i)-[:HAS_MESSAGE]->(b:MessageBlock) DETACH DELETE b, i",
    "org_user_id interaction_id",
)


#: Every statement (here, in :mod:`.cypher_memories` and :mod:`.cypher_edits`), each once: what
#: the backend can issue and the linter test checks.
ALL_STATEMENTS: tuple[Statement, ...] = tuple(
    {
        statement.name: statement
        for statement in (
            *SCHEMA_STATEMENTS,
            *(value for value in list(globals().values()) if isinstance(value, Statement)),
            *MEMORY_STATEMENTS,
            *EDIT_STATEMENTS,
        )
    }.values()
)
