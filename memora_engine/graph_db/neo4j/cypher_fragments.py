"""Cypher fragments shared by the statement modules: map projections and the tenant matches.

Only fixed labels, property names and ``$parameters``; :mod:`.cypher` and :mod:`.cypher_memories`
build their statements from these.
"""

from __future__ import annotations

from typing_extensions import LiteralString

from memora_engine.graph_db.neo4j.vocabulary import (
    AGENT_FIELDS,
    INTERACTION_FIELDS,
    MEMORY_FIELDS,
    MESSAGE_FIELDS,
    ORG_FIELDS,
    USER_FIELDS,
)

__all__ = [
    "AGENT",
    "INTERACTION",
    "MEMORY",
    "MEMORY_FOR_INDEXING",
    "MEMORY_NO_SOURCES",
    "MESSAGES",
    "ORG",
    "SOURCES",
    "THE_INTERACTION",
    "THE_USER",
    "USER",
    "projection",
]


def projection(
    variable: LiteralString, fields: tuple[LiteralString, ...], extra: LiteralString = ""
) -> LiteralString:
    """``variable {.field, ..., extra}``."""
    return variable + " {" + ", ".join("." + field for field in fields) + extra + "}"


ORG = projection("o", ORG_FIELDS)
USER = projection("u", USER_FIELDS)
AGENT = projection("a", AGENT_FIELDS)
INTERACTION = projection("i", INTERACTION_FIELDS)
MESSAGES = "[(i)-[:HAS_MESSAGE]->(b:MessageBlock) | " + projection("b", MESSAGE_FIELDS) + "]"
SOURCES = "[(m)-[:MESSAGE_SOURCE]->(s:MessageBlock) | " + projection("s", MESSAGE_FIELDS) + "]"
#: A memory with its message sources (key ``message_sources``).
MEMORY = projection("m", MEMORY_FIELDS, ", message_sources: " + SOURCES)
MEMORY_NO_SOURCES = projection("m", MEMORY_FIELDS)
#: Indexing reads also return the index text (absent on memories written before it existed).
MEMORY_FOR_INDEXING = projection("m", (*MEMORY_FIELDS, "index_text"))
THE_USER = "MATCH (u:User {org_user_id: $org_user_id})"
THE_INTERACTION = (
    "MATCH (u:User {org_user_id: $org_user_id})"
    "-[:HAD_INTERACTION]->(i:Interaction {interaction_id: $interaction_id})"
)
