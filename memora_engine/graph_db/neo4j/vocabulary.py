"""The graph model's vocabulary and the :class:`Statement` declaration (pure, no Cypher text).

Labels, relationship types, allowed paths, property keys and the fields each entity's map
projection returns. :mod:`memora_engine.graph_db.neo4j.cypher` builds every statement from
these; the linter test declares them to Neo4j's linter, so a statement using anything else is
reported. Statements only ever run through :func:`memora_engine.graph_db.neo4j.core.fetch`,
which checks the parameters against the declaration before the driver sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from typing_extensions import LiteralString

__all__ = [
    "AGENT_FIELDS",
    "GRAPH_SCHEMA",
    "INTERACTION_FIELDS",
    "LABELS",
    "MEMORY_FIELDS",
    "MESSAGE_FIELDS",
    "ORG_FIELDS",
    "PROPERTY_KEYS",
    "RELATIONSHIP_TYPES",
    "USER_FIELDS",
    "Statement",
    "check_params",
    "statement",
]


@dataclass(frozen=True)
class Statement:
    """One Cypher statement, the parameters it takes and the columns it returns."""

    name: str
    text: LiteralString
    params: frozenset[str]
    columns: tuple[str, ...]


def statement(name: str, text: LiteralString, params: str = "", returns: str = "") -> Statement:
    """A statement taking the space-separated ``params`` and returning ``returns`` columns."""
    return Statement(
        name=name, text=text, params=frozenset(params.split()), columns=tuple(returns.split())
    )


def check_params(statement: Statement, params: Mapping[str, Any]) -> None:
    """Refuse parameters that differ from the statement's declaration (a programming error).

    Raises:
        TypeError: missing or unexpected parameters.
    """
    given = frozenset(params)
    if given != statement.params:
        missing = sorted(statement.params - given)
        extra = sorted(given - statement.params)
        raise TypeError(f"Cypher {statement.name}: missing params {missing}, unexpected {extra}")


# ---------------------------------------------------------------------------------- vocabulary
ORG, USER, AGENT, INTERACTION, MESSAGE_BLOCK, MEMORY = (
    "Org",
    "User",
    "Agent",
    "Interaction",
    "MessageBlock",
    "Memory",
)
LABELS: tuple[str, ...] = (ORG, USER, AGENT, INTERACTION, MESSAGE_BLOCK, MEMORY)

RELATIONSHIP_TYPES: tuple[str, ...] = (
    "BELONGS_TO",
    "HAS_AGENT",
    "HAD_INTERACTION",
    "HAS_MESSAGE",
    "HAS_MEMORY",
    "INTERACTION_SOURCE",
    "MESSAGE_SOURCE",
    "CONTRARY_UPDATE",
)

#: ``(from label, relationship type, to label)``: every edge the model allows.
GRAPH_SCHEMA: tuple[tuple[str, str, str], ...] = (
    (USER, "BELONGS_TO", ORG),
    (ORG, "HAS_AGENT", AGENT),
    (USER, "HAS_AGENT", AGENT),
    (USER, "HAD_INTERACTION", INTERACTION),
    (INTERACTION, "HAS_MESSAGE", MESSAGE_BLOCK),
    (USER, "HAS_MEMORY", MEMORY),
    (MEMORY, "INTERACTION_SOURCE", INTERACTION),
    (MEMORY, "MESSAGE_SOURCE", MESSAGE_BLOCK),
    (MEMORY, "CONTRARY_UPDATE", MEMORY),
)


# ---------------------------------------------------------------------------------- projections
#: The keys of the maps the statements return for each entity (``x {.field, ...}``).
ORG_FIELDS: tuple[LiteralString, ...] = ("org_id", "org_name", "created_at")
USER_FIELDS: tuple[LiteralString, ...] = ("org_id", "user_id", "user_name", "created_at")
AGENT_FIELDS: tuple[LiteralString, ...] = (
    "org_id",
    "agent_id",
    "agent_label",
    "user_id",
    "created_at",
)
INTERACTION_FIELDS: tuple[LiteralString, ...] = (
    "org_id",
    "user_id",
    "agent_id",
    "interaction_id",
    "created_at",
    "updated_at",
)
MESSAGE_FIELDS: tuple[LiteralString, ...] = ("msg_position", "role", "content")
MEMORY_FIELDS: tuple[LiteralString, ...] = (
    "org_id",
    "user_id",
    "agent_id",
    "interaction_id",
    "memory_id",
    "memory",
    "obtained_at",
    "metadata",
)


#: Every property any statement reads or writes (what the linter may see).
PROPERTY_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *ORG_FIELDS,
            *USER_FIELDS,
            *AGENT_FIELDS,
            *INTERACTION_FIELDS,
            *MESSAGE_FIELDS,
            *MEMORY_FIELDS,
            "index_text",
            "org_user_id",
            "org_agent_id",
            "org_user_interaction_id",
        )
    )
)
